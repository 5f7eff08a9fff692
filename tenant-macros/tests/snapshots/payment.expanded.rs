#[derive(::tenant_core::__private::serde::Serialize)]
#[serde(crate = "::tenant_core::__private::serde")]
pub struct Payment {
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
    pub amount_cents: i64,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub status: PaymentStatus,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub paid_on: Option<chrono::NaiveDate>,
    #[serde(serialize_with = "::tenant_core::__private::field_serde::serialize")]
    pub note: String,
}
impl ::tenant_core::__private::Hooks for Payment {}
impl Payment {
    /// The `amount_cents` field, for typed list queries: `ListQuery::default().filter(Payment::AMOUNT_CENTS.eq(…))`.
    pub const AMOUNT_CENTS: ::tenant_core::__private::Column<Payment, i64> = ::tenant_core::__private::Column::new(
        "amount_cents",
    );
    /// The `status` field, for typed list queries: `ListQuery::default().filter(Payment::STATUS.eq(…))`.
    pub const STATUS: ::tenant_core::__private::Column<Payment, PaymentStatus> = ::tenant_core::__private::Column::new(
        "status",
    );
    /// The `paid_on` field, for typed list queries: `ListQuery::default().filter(Payment::PAID_ON.eq(…))`.
    pub const PAID_ON: ::tenant_core::__private::Column<
        Payment,
        Option<chrono::NaiveDate>,
    > = ::tenant_core::__private::Column::new("paid_on");
    /// The `note` field, for typed list queries: `ListQuery::default().filter(Payment::NOTE.eq(…))`.
    pub const NOTE: ::tenant_core::__private::Column<Payment, String> = ::tenant_core::__private::Column::new(
        "note",
    );
}
impl ::tenant_core::__private::Resource for Payment {
    const HOOKS: bool = false;
    type Input = PaymentInput;
    type Patch = PaymentPatch;
    const DESC: ::tenant_core::__private::ResourceDesc = ::tenant_core::__private::ResourceDesc {
        name: "Payment",
        singular: "payment",
        table: "payments",
        path: "/api/payments",
        fields: &[
            ::tenant_core::__private::Field {
                lookups: ::tenant_core::__private::Lookups::of(
                    &[
                        ::tenant_core::__private::Lookup::Gte,
                        ::tenant_core::__private::Lookup::Lte,
                        ::tenant_core::__private::Lookup::In,
                    ],
                ),
                ..::tenant_core::__private::Field::new(
                    "amount_cents",
                    <i64 as ::tenant_core::__private::FieldValue>::TYPE,
                    <i64 as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field {
                filter: true,
                lookups: ::tenant_core::__private::Lookups::of(
                    &[::tenant_core::__private::Lookup::In],
                ),
                ..::tenant_core::__private::Field::new(
                    "status",
                    <PaymentStatus as ::tenant_core::__private::FieldValue>::TYPE,
                    <PaymentStatus as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field {
                order: true,
                lookups: ::tenant_core::__private::Lookups::of(
                    &[
                        ::tenant_core::__private::Lookup::IsNull,
                        ::tenant_core::__private::Lookup::Gt,
                    ],
                ),
                ..::tenant_core::__private::Field::new(
                    "paid_on",
                    <Option<
                        chrono::NaiveDate,
                    > as ::tenant_core::__private::FieldValue>::TYPE,
                    <Option<
                        chrono::NaiveDate,
                    > as ::tenant_core::__private::FieldValue>::NULLABLE,
                )
            },
            ::tenant_core::__private::Field::new(
                "note",
                <String as ::tenant_core::__private::FieldValue>::TYPE,
                <String as ::tenant_core::__private::FieldValue>::NULLABLE,
            ),
        ],
        permissions: ::tenant_core::__private::Permissions {
            create: ::tenant_core::__private::Role::Staff,
            update: ::tenant_core::__private::Role::Staff,
            delete: ::tenant_core::__private::Role::Admin,
        },
        actions: ::tenant_core::__private::Actions::ALL,
        computed: &[],
        sql: ::tenant_core::__private::ResourceSql {
            select_one: "SELECT id, company_id, created_at, updated_at, amount_cents, status, paid_on, note FROM payments WHERE company_id = $1 AND id = $2",
            select_one_for_update: "SELECT id, company_id, created_at, updated_at, amount_cents, status, paid_on, note FROM payments WHERE company_id = $1 AND id = $2 FOR UPDATE",
            list_columns: "SELECT id, company_id, created_at, updated_at, amount_cents, status, paid_on, note",
            list_scope: "FROM payments WHERE company_id = $1",
            insert: "INSERT INTO payments (id, company_id, created_at, updated_at, amount_cents, status, paid_on, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            update: "UPDATE payments SET updated_at = $3, amount_cents = $4, status = $5, paid_on = $6, note = $7 WHERE company_id = $1 AND id = $2",
            delete: "DELETE FROM payments WHERE company_id = $1 AND id = $2",
            exists: "SELECT 1 FROM payments WHERE company_id = $1 AND id = $2",
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
            amount_cents: <i64 as ::tenant_core::__private::FieldValue>::read(
                row,
                "amount_cents",
            )?,
            status: <PaymentStatus as ::tenant_core::__private::FieldValue>::read(
                row,
                "status",
            )?,
            paid_on: <Option<
                chrono::NaiveDate,
            > as ::tenant_core::__private::FieldValue>::read(row, "paid_on")?,
            note: <String as ::tenant_core::__private::FieldValue>::read(row, "note")?,
        })
    }
    fn into_row(self) -> ::std::vec::Vec<::tenant_core::__private::Value> {
        ::std::vec![
            ::tenant_core::__private::FieldValue::into_value(self.id),
            ::tenant_core::__private::FieldValue::into_value(self.company_id),
            ::tenant_core::__private::FieldValue::into_value(self.created_at),
            ::tenant_core::__private::FieldValue::into_value(self.updated_at), < i64 as
            ::tenant_core::__private::FieldValue > ::into_value(self.amount_cents), <
            PaymentStatus as ::tenant_core::__private::FieldValue > ::into_value(self
            .status), < Option < chrono::NaiveDate > as
            ::tenant_core::__private::FieldValue > ::into_value(self.paid_on), < String
            as ::tenant_core::__private::FieldValue > ::into_value(self.note),
        ]
    }
    fn id(&self) -> ::tenant_core::__private::uuid::Uuid {
        self.id
    }
}
/// The JSON body that creates a [`Payment`] (`POST /api/payments`) or replaces one (`PUT /api/payments/{id}`).
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
pub struct PaymentInput {
    #[serde(
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub amount_cents: i64,
    #[serde(
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub status: PaymentStatus,
    #[serde(
        default,
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub paid_on: Option<chrono::NaiveDate>,
    #[serde(
        serialize_with = "::tenant_core::__private::field_serde::serialize",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize"
    )]
    pub note: String,
}
/// The JSON body that changes some fields of a [`Payment`] (`PATCH /api/payments/{id}`).
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
pub struct PaymentPatch {
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
    pub status: ::core::option::Option<PaymentStatus>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub paid_on: ::core::option::Option<Option<chrono::NaiveDate>>,
    #[serde(
        default,
        skip_serializing_if = "::core::option::Option::is_none",
        serialize_with = "::tenant_core::__private::field_serde::serialize_present",
        deserialize_with = "::tenant_core::__private::field_serde::deserialize_present"
    )]
    pub note: ::core::option::Option<String>,
}
impl Payment {
    /// The routes of this resource: `GET`/`POST /api/payments` and `GET`/`PUT`/`PATCH`/`DELETE /api/payments/{id}`,
    /// scoped to the active company. Merge it into the app's router.
    pub fn router() -> ::tenant_core::__private::axum::Router<
        ::tenant_core::__private::AppState,
    > {
        ::tenant_core::__private::routes::<Self>()
    }
}
const _: () = {
    const fn check_order<
        T: ?::core::marker::Sized + ::tenant_core::__private::Orderable,
    >() {}
    const fn check_comparison_lookups<
        T: ?::core::marker::Sized + ::tenant_core::__private::Comparable,
    >() {}
    const fn check_isnull_lookup<
        T: ?::core::marker::Sized + ::tenant_core::__private::Nullable,
    >() {}
    check_comparison_lookups::<i64>();
    check_order::<Option<chrono::NaiveDate>>();
    check_comparison_lookups::<Option<chrono::NaiveDate>>();
    check_isnull_lookup::<Option<chrono::NaiveDate>>();
};
