#[derive(::tenant_core::__private::serde::Serialize)]
#[serde(crate = "::tenant_core::__private::serde")]
pub struct Invoice {
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
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub customer_id: uuid::Uuid,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub number: String,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub amount_cents: i64,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub status: InvoiceStatus,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub issued_on: Option<chrono::NaiveDate>,
}
impl ::tenant_core::__private::Hooks for Invoice {}
impl Invoice {
    /// The `customer_id` field, for typed list queries: `ListQuery::default().filter(Invoice::CUSTOMER_ID.eq(…))`.
    pub const CUSTOMER_ID: ::tenant_core::__private::Column<Invoice, uuid::Uuid> = ::tenant_core::__private::Column::new(
        "customer_id",
    );
    /// The `number` field, for typed list queries: `ListQuery::default().filter(Invoice::NUMBER.eq(…))`.
    pub const NUMBER: ::tenant_core::__private::Column<Invoice, String> = ::tenant_core::__private::Column::new(
        "number",
    );
    /// The `amount_cents` field, for typed list queries: `ListQuery::default().filter(Invoice::AMOUNT_CENTS.eq(…))`.
    pub const AMOUNT_CENTS: ::tenant_core::__private::Column<Invoice, i64> = ::tenant_core::__private::Column::new(
        "amount_cents",
    );
    /// The `status` field, for typed list queries: `ListQuery::default().filter(Invoice::STATUS.eq(…))`.
    pub const STATUS: ::tenant_core::__private::Column<Invoice, InvoiceStatus> = ::tenant_core::__private::Column::new(
        "status",
    );
    /// The `issued_on` field, for typed list queries: `ListQuery::default().filter(Invoice::ISSUED_ON.eq(…))`.
    pub const ISSUED_ON: ::tenant_core::__private::Column<
        Invoice,
        Option<chrono::NaiveDate>,
    > = ::tenant_core::__private::Column::new("issued_on");
}
impl ::tenant_core::__private::Resource for Invoice {
    const HOOKS: bool = false;
    type Input = InvoiceInput;
    type Patch = InvoicePatch;
    const DESC: ::tenant_core::__private::ResourceDesc = ::tenant_core::__private::ResourceDesc {
        name: "Invoice",
        singular: "invoice",
        table: "invoices",
        path: "/api/invoices",
        fields: &[
            ::tenant_core::__private::Field {
                filter: true,
                references: ::core::option::Option::Some(
                    ::tenant_core::__private::Reference::to::<Customer>(),
                ),
                ..::tenant_core::__private::Field::new(
                    "customer_id",
                    <uuid::Uuid as ::tenant_core::__private::FieldValue>::TYPE,
                    <uuid::Uuid as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field {
                unique: true,
                filter: true,
                search: true,
                order: true,
                min_len: ::core::option::Option::Some(1),
                max_len: ::core::option::Option::Some(32),
                ..::tenant_core::__private::Field::new(
                    "number",
                    <String as ::tenant_core::__private::FieldValue>::TYPE,
                    <String as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field {
                order: true,
                min: ::core::option::Option::Some(0f64),
                ..::tenant_core::__private::Field::new(
                    "amount_cents",
                    <i64 as ::tenant_core::__private::FieldValue>::TYPE,
                    <i64 as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field {
                required: false,
                default: ::core::option::Option::Some(|| ::tenant_core::__private::FieldValue::into_value(
                    ::tenant_core::__private::default_value::<
                        InvoiceStatus,
                        _,
                    >(InvoiceStatus::Draft),
                )),
                filter: true,
                ..::tenant_core::__private::Field::new(
                    "status",
                    <InvoiceStatus as ::tenant_core::__private::FieldValue>::TYPE,
                    <InvoiceStatus as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field {
                order: true,
                ..::tenant_core::__private::Field::new(
                    "issued_on",
                    <Option<
                        chrono::NaiveDate,
                    > as ::tenant_core::__private::FieldValue>::TYPE,
                    <Option<
                        chrono::NaiveDate,
                    > as ::tenant_core::__private::FieldValue>::NULLABLE,
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
            select_one: "SELECT id, company_id, created_at, updated_at, customer_id, number, amount_cents, status, issued_on FROM invoices WHERE company_id = $1 AND id = $2",
            select_one_for_update: "SELECT id, company_id, created_at, updated_at, customer_id, number, amount_cents, status, issued_on FROM invoices WHERE company_id = $1 AND id = $2 FOR UPDATE",
            list_columns: "SELECT id, company_id, created_at, updated_at, customer_id, number, amount_cents, status, issued_on",
            list_scope: "FROM invoices WHERE company_id = $1",
            insert: "INSERT INTO invoices (id, company_id, created_at, updated_at, customer_id, number, amount_cents, status, issued_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            update: "UPDATE invoices SET updated_at = $3, customer_id = $4, number = $5, amount_cents = $6, status = $7, issued_on = $8 WHERE company_id = $1 AND id = $2",
            delete: "DELETE FROM invoices WHERE company_id = $1 AND id = $2",
            exists: "SELECT 1 FROM invoices WHERE company_id = $1 AND id = $2",
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
            customer_id: <uuid::Uuid as ::tenant_core::__private::FieldValue>::read(
                row,
                "customer_id",
            )?,
            number: <String as ::tenant_core::__private::FieldValue>::read(
                row,
                "number",
            )?,
            amount_cents: <i64 as ::tenant_core::__private::FieldValue>::read(
                row,
                "amount_cents",
            )?,
            status: <InvoiceStatus as ::tenant_core::__private::FieldValue>::read(
                row,
                "status",
            )?,
            issued_on: <Option<
                chrono::NaiveDate,
            > as ::tenant_core::__private::FieldValue>::read(row, "issued_on")?,
        })
    }
    fn into_row(self) -> ::std::vec::Vec<::tenant_core::__private::Value> {
        ::std::vec![
            ::tenant_core::__private::FieldValue::into_value(self.id),
            ::tenant_core::__private::FieldValue::into_value(self.company_id),
            ::tenant_core::__private::FieldValue::into_value(self.created_at),
            ::tenant_core::__private::FieldValue::into_value(self.updated_at), <
            uuid::Uuid as ::tenant_core::__private::FieldValue > ::into_value(self
            .customer_id), < String as ::tenant_core::__private::FieldValue >
            ::into_value(self.number), < i64 as ::tenant_core::__private::FieldValue >
            ::into_value(self.amount_cents), < InvoiceStatus as
            ::tenant_core::__private::FieldValue > ::into_value(self.status), < Option <
            chrono::NaiveDate > as ::tenant_core::__private::FieldValue >
            ::into_value(self.issued_on),
        ]
    }
    fn id(&self) -> ::tenant_core::__private::uuid::Uuid {
        self.id
    }
}
/// The JSON body that creates a [`Invoice`] (`POST /api/invoices`) or replaces one (`PUT /api/invoices/{id}`).
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
pub struct InvoiceInput {
    #[serde(
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub customer_id: uuid::Uuid,
    #[serde(
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub number: String,
    #[serde(
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub amount_cents: i64,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub status: ::core::option::Option<InvoiceStatus>,
    #[serde(
        default,
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub issued_on: Option<chrono::NaiveDate>,
}
/// The JSON body that changes some fields of a [`Invoice`] (`PATCH /api/invoices/{id}`).
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
pub struct InvoicePatch {
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub customer_id: ::core::option::Option<uuid::Uuid>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub number: ::core::option::Option<String>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub amount_cents: ::core::option::Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub status: ::core::option::Option<InvoiceStatus>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub issued_on: ::core::option::Option<Option<chrono::NaiveDate>>,
}
impl Invoice {
    /// The routes of this resource: `GET`/`POST /api/invoices` and `GET`/`PUT`/`PATCH`/`DELETE /api/invoices/{id}`,
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
    const fn check_range<T: ?::core::marker::Sized + ::tenant_core::__private::Numeric>() {}
    const fn check_references<
        T: ?::core::marker::Sized + ::tenant_core::__private::UuidField,
    >() {}
    check_references::<uuid::Uuid>();
    check_unique::<String>();
    check_search::<String>();
    check_order::<String>();
    check_len_or_email::<String>();
    check_order::<i64>();
    check_range::<i64>();
    check_order::<Option<chrono::NaiveDate>>();
};
