/// A customer of the company.
#[derive(Debug, Clone)]
#[derive(::tenant_core::__private::serde::Serialize)]
#[serde(crate = "::tenant_core::__private::serde")]
pub struct Customer {
    /// Primary key: a UUID v7 chosen by the server.
    pub id: ::tenant_core::__private::uuid::Uuid,
    /// The company that owns this row, always the active company of the request that created it.
    pub company_id: ::tenant_core::__private::uuid::Uuid,
    /// When the row was created (UTC), set by the server.
    pub created_at: ::tenant_core::__private::chrono::DateTime<
        ::tenant_core::__private::chrono::Utc,
    >,
    /// When the row was last written (UTC), set by the server.
    pub updated_at: ::tenant_core::__private::chrono::DateTime<
        ::tenant_core::__private::chrono::Utc,
    >,
    /// Where invoices are sent.
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub email: String,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub name: String,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub phone: Option<String>,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub notes: String,
}
impl ::tenant_core::__private::Hooks for Customer {}
impl Customer {
    /// The `email` field, for typed list queries: `ListQuery::default().filter(Customer::EMAIL.eq(…))`.
    pub const EMAIL: ::tenant_core::__private::Column<Customer, String> = ::tenant_core::__private::Column::new(
        "email",
    );
    /// The `name` field, for typed list queries: `ListQuery::default().filter(Customer::NAME.eq(…))`.
    pub const NAME: ::tenant_core::__private::Column<Customer, String> = ::tenant_core::__private::Column::new(
        "name",
    );
    /// The `phone` field, for typed list queries: `ListQuery::default().filter(Customer::PHONE.eq(…))`.
    pub const PHONE: ::tenant_core::__private::Column<Customer, Option<String>> = ::tenant_core::__private::Column::new(
        "phone",
    );
    /// The `notes` field, for typed list queries: `ListQuery::default().filter(Customer::NOTES.eq(…))`.
    pub const NOTES: ::tenant_core::__private::Column<Customer, String> = ::tenant_core::__private::Column::new(
        "notes",
    );
}
impl ::tenant_core::__private::Resource for Customer {
    const HOOKS: bool = false;
    type Input = CustomerInput;
    type Patch = CustomerPatch;
    const DESC: ::tenant_core::__private::ResourceDesc = ::tenant_core::__private::ResourceDesc {
        name: "Customer",
        singular: "customer",
        table: "customers",
        path: "/api/customers",
        fields: &[
            ::tenant_core::__private::Field {
                unique: true,
                filter: true,
                search: true,
                order: true,
                email: true,
                ..::tenant_core::__private::Field::new(
                    "email",
                    <String as ::tenant_core::__private::FieldValue>::TYPE,
                    <String as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field {
                search: true,
                order: true,
                min_len: ::core::option::Option::Some(1),
                max_len: ::core::option::Option::Some(200),
                ..::tenant_core::__private::Field::new(
                    "name",
                    <String as ::tenant_core::__private::FieldValue>::TYPE,
                    <String as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field {
                max_len: ::core::option::Option::Some(50),
                ..::tenant_core::__private::Field::new(
                    "phone",
                    <Option<String> as ::tenant_core::__private::FieldValue>::TYPE,
                    <Option<String> as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field {
                required: false,
                default: ::core::option::Option::Some(|| ::tenant_core::__private::FieldValue::into_value(
                    <String as ::core::default::Default>::default(),
                )),
                ..::tenant_core::__private::Field::new(
                    "notes",
                    <String as ::tenant_core::__private::FieldValue>::TYPE,
                    <String as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
        ],
        permissions: ::tenant_core::__private::Permissions {
            create: ::tenant_core::__private::Role::Staff,
            update: ::tenant_core::__private::Role::Staff,
            delete: ::tenant_core::__private::Role::Admin,
        },
        actions: ::tenant_core::__private::Actions::ALL,
        computed: &[],
        sql: ::tenant_core::__private::ResourceSql {
            select_one: "SELECT id, company_id, created_at, updated_at, email, name, phone, notes FROM customers WHERE company_id = $1 AND id = $2",
            select_one_for_update: "SELECT id, company_id, created_at, updated_at, email, name, phone, notes FROM customers WHERE company_id = $1 AND id = $2 FOR UPDATE",
            list_columns: "SELECT id, company_id, created_at, updated_at, email, name, phone, notes",
            list_scope: "FROM customers WHERE company_id = $1",
            insert: "INSERT INTO customers (id, company_id, created_at, updated_at, email, name, phone, notes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            update: "UPDATE customers SET updated_at = $3, email = $4, name = $5, phone = $6, notes = $7 WHERE company_id = $1 AND id = $2",
            delete: "DELETE FROM customers WHERE company_id = $1 AND id = $2",
            exists: "SELECT 1 FROM customers WHERE company_id = $1 AND id = $2",
        },
    };
    fn from_row<__R: ::tenant_core::__private::RowReader + ?::core::marker::Sized>(
        row: &mut __R,
    ) -> ::core::result::Result<Self, ::tenant_core::__private::DecodeError> {
        ::core::result::Result::Ok(Self {
            id: ::tenant_core::__private::FieldValue::read(row, "id")?,
            company_id: ::tenant_core::__private::FieldValue::read(row, "company_id")?,
            created_at: ::tenant_core::__private::FieldValue::read(row, "created_at")?,
            updated_at: ::tenant_core::__private::FieldValue::read(row, "updated_at")?,
            email: <String as ::tenant_core::__private::FieldValue>::read(row, "email")?,
            name: <String as ::tenant_core::__private::FieldValue>::read(row, "name")?,
            phone: <Option<
                String,
            > as ::tenant_core::__private::FieldValue>::read(row, "phone")?,
            notes: <String as ::tenant_core::__private::FieldValue>::read(row, "notes")?,
        })
    }
    fn into_row(self) -> ::std::vec::Vec<::tenant_core::__private::Value> {
        ::std::vec![
            ::tenant_core::__private::FieldValue::into_value(self.id),
            ::tenant_core::__private::FieldValue::into_value(self.company_id),
            ::tenant_core::__private::FieldValue::into_value(self.created_at),
            ::tenant_core::__private::FieldValue::into_value(self.updated_at), < String
            as ::tenant_core::__private::FieldValue > ::into_value(self.email), < String
            as ::tenant_core::__private::FieldValue > ::into_value(self.name), < Option <
            String > as ::tenant_core::__private::FieldValue > ::into_value(self.phone),
            < String as ::tenant_core::__private::FieldValue > ::into_value(self.notes),
        ]
    }
    fn id(&self) -> ::tenant_core::__private::uuid::Uuid {
        self.id
    }
}
/// The JSON body that creates a [`Customer`] (`POST /api/customers`) or replaces one (`PUT /api/customers/{id}`).
///
/// Fields with a default are `Option`s, left out of the JSON when `None` so that the default applies.
/// The read-only fields (`id`, `company_id`, `created_at`, `updated_at`) are not part of it.
#[derive(
    ::core::fmt::Debug,
    ::core::clone::Clone,
    ::tenant_core::__private::serde::Serialize,
    ::tenant_core::__private::serde::Deserialize
)]
#[serde(crate = "::tenant_core::__private::serde")]
pub struct CustomerInput {
    /// Where invoices are sent.
    #[serde(
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub email: String,
    #[serde(
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub name: String,
    #[serde(
        default,
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub phone: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub notes: ::core::option::Option<String>,
}
/// The JSON body that changes some fields of a [`Customer`] (`PATCH /api/customers/{id}`).
///
/// Only the fields that are `Some` are sent and changed. For a field whose own type is an `Option`,
/// `Some(None)` sends `null` and clears it.
#[derive(
    ::core::fmt::Debug,
    ::core::clone::Clone,
    ::core::default::Default,
    ::tenant_core::__private::serde::Serialize,
    ::tenant_core::__private::serde::Deserialize
)]
#[serde(crate = "::tenant_core::__private::serde")]
pub struct CustomerPatch {
    /// Where invoices are sent.
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub email: ::core::option::Option<String>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub name: ::core::option::Option<String>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub phone: ::core::option::Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub notes: ::core::option::Option<String>,
}
impl Customer {
    /// The routes of this resource: `GET`/`POST /api/customers` and `GET`/`PUT`/`PATCH`/`DELETE /api/customers/{id}`,
    /// scoped to the active company. Merge it into the app's router.
    pub fn router() -> ::tenant_core::__private::axum::Router<
        ::tenant_core::__private::AppState,
    > {
        ::tenant_core::__private::routes::<Self>()
    }
}
const _: () = {
    const fn check_unique<
        T: ?::core::marker::Sized + ::tenant_core::__private::Uniqueable,
    >() {}
    const fn check_search<
        T: ?::core::marker::Sized + ::tenant_core::__private::Searchable,
    >() {}
    const fn check_order<
        T: ?::core::marker::Sized + ::tenant_core::__private::Orderable,
    >() {}
    const fn check_len_or_email<
        T: ?::core::marker::Sized + ::tenant_core::__private::Lengthable,
    >() {}
    check_unique::<String>();
    check_search::<String>();
    check_order::<String>();
    check_len_or_email::<String>();
    check_search::<String>();
    check_order::<String>();
    check_len_or_email::<String>();
    check_len_or_email::<Option<String>>();
};
