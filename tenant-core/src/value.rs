//! The values that travel between JSON, the model structs and the database.
//!
//! Backends bind [`Value`]s by [`FieldType`] and hand result rows out as a
//! [`RowReader`]; the model structs convert to and from [`Value`]s and read their columns
//! through [`FieldValue`]. This is the seam that keeps the macro ignorant of backends and lets a
//! backend be added without touching generated code.
//!
//! The marker traits ([`Uniqueable`], [`Searchable`], [`Orderable`], [`Comparable`],
//! [`Nullable`], [`Lengthable`], [`Numeric`], [`UuidField`]) say which field types accept which `#[field(…)]` option: a
//! misplaced option is a compile error that names the trait and lists the types implementing
//! it. Nothing else uses them.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The storage type of a field. Chosen by the field's Rust type through
/// [`FieldValue`], never by guessing from tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `String`: a JSON string, trimmed (as DRF's `CharField`).
    Text,
    /// `bool`: JSON `true` or `false` in a body; `true`, `false`, `1` or `0` in a filter.
    Bool,
    /// `i32`: a JSON integer in its range; an integral number such as `10.0` counts, as in
    /// DRF's `IntegerField`.
    I32,
    /// `i64`: as [`FieldType::I32`], in `i64`'s range.
    I64,
    /// `f64`: a JSON number.
    F64,
    /// `uuid::Uuid`: a string the `uuid` crate parses; answered hyphenated.
    Uuid,
    /// `chrono::NaiveDate`: a calendar date, exactly `YYYY-MM-DD`, years 1 to 9999 (API.md's
    /// limit: what DRF's `DateField`, a Python `date`, holds).
    Date,
    /// `chrono::DateTime<Utc>`: an instant, RFC 3339 in JSON (any offset, answered in UTC),
    /// kept to the microsecond (PostgreSQL's `timestamptz` precision), years 1 to 9999 in UTC.
    Timestamp,
    /// A string limited to these values (a `#[derive(TenantEnum)]` enum).
    Choice(&'static [&'static str]),
}

impl FieldType {
    /// A short description used in validation messages and docs.
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::Text => "string",
            FieldType::Bool => "boolean",
            FieldType::I32 | FieldType::I64 => "integer",
            FieldType::F64 => "number",
            FieldType::Uuid => "UUID",
            FieldType::Date => "date",
            FieldType::Timestamp => "date-time",
            FieldType::Choice(_) => "choice",
        }
    }
}

/// One row, read left to right: every call consumes the next column. `None` is SQL NULL.
///
/// `column` names the column for the error when its value does not have the asked type.
///
/// A model's [`Resource::from_row`](crate::Resource::from_row) reads through it; each backend
/// implements it over its driver's row.
pub trait RowReader {
    /// The next column as text.
    fn text(&mut self, column: &'static str) -> Result<Option<String>, DecodeError>;
    /// The next column as a boolean.
    fn bool(&mut self, column: &'static str) -> Result<Option<bool>, DecodeError>;
    /// The next column as a 32-bit integer.
    fn i32(&mut self, column: &'static str) -> Result<Option<i32>, DecodeError>;
    /// The next column as a 64-bit integer.
    fn i64(&mut self, column: &'static str) -> Result<Option<i64>, DecodeError>;
    /// The next column as a double.
    fn f64(&mut self, column: &'static str) -> Result<Option<f64>, DecodeError>;
    /// The next column as a UUID (stored as text on SQLite).
    fn uuid(&mut self, column: &'static str) -> Result<Option<Uuid>, DecodeError>;
    /// The next column as a date (stored as text on SQLite).
    fn date(&mut self, column: &'static str) -> Result<Option<NaiveDate>, DecodeError>;
    /// The next column as a UTC instant (stored as text on SQLite).
    fn timestamp(&mut self, column: &'static str) -> Result<Option<DateTime<Utc>>, DecodeError>;

    /// The next column as a [`Value`] of storage type `ty`.
    fn value(&mut self, ty: FieldType, column: &'static str) -> Result<Value, DecodeError> {
        Ok(match ty {
            FieldType::Text | FieldType::Choice(_) => Value::Text(self.text(column)?),
            FieldType::Bool => Value::Bool(self.bool(column)?),
            FieldType::I32 => Value::I32(self.i32(column)?),
            FieldType::I64 => Value::I64(self.i64(column)?),
            FieldType::F64 => Value::F64(self.f64(column)?),
            FieldType::Uuid => Value::Uuid(self.uuid(column)?),
            FieldType::Date => Value::Date(self.date(column)?),
            FieldType::Timestamp => Value::Timestamp(self.timestamp(column)?),
        })
    }
}

/// One nullable, typed value. Each variant carries `Option` so that a NULL keeps its type
/// (PostgreSQL needs a typed NULL parameter).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// [`FieldType::Text`] and [`FieldType::Choice`].
    Text(Option<String>),
    /// [`FieldType::Bool`].
    Bool(Option<bool>),
    /// [`FieldType::I32`].
    I32(Option<i32>),
    /// [`FieldType::I64`].
    I64(Option<i64>),
    /// [`FieldType::F64`].
    F64(Option<f64>),
    /// [`FieldType::Uuid`].
    Uuid(Option<Uuid>),
    /// [`FieldType::Date`].
    Date(Option<NaiveDate>),
    /// [`FieldType::Timestamp`].
    Timestamp(Option<DateTime<Utc>>),
}

impl Value {
    /// The NULL of a storage type.
    pub fn null(ty: FieldType) -> Value {
        match ty {
            FieldType::Text | FieldType::Choice(_) => Value::Text(None),
            FieldType::Bool => Value::Bool(None),
            FieldType::I32 => Value::I32(None),
            FieldType::I64 => Value::I64(None),
            FieldType::F64 => Value::F64(None),
            FieldType::Uuid => Value::Uuid(None),
            FieldType::Date => Value::Date(None),
            FieldType::Timestamp => Value::Timestamp(None),
        }
    }

    /// Whether this is a NULL, of any type.
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Value::Text(None)
                | Value::Bool(None)
                | Value::I32(None)
                | Value::I64(None)
                | Value::F64(None)
                | Value::Uuid(None)
                | Value::Date(None)
                | Value::Timestamp(None)
        )
    }

    /// Its storage type, or `NULL`, for error messages.
    pub fn describe(&self) -> &'static str {
        if self.is_null() {
            return "NULL";
        }
        match self {
            Value::Text(_) => "text",
            Value::Bool(_) => "boolean",
            Value::I32(_) => "32-bit integer",
            Value::I64(_) => "64-bit integer",
            Value::F64(_) => "number",
            Value::Uuid(_) => "UUID",
            Value::Date(_) => "date",
            Value::Timestamp(_) => "timestamp",
        }
    }

    /// The JSON form of this value, as the API returns it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Text(v) => v.as_ref().map_or(J::Null, |s| J::String(s.clone())),
            Value::Bool(v) => v.map_or(J::Null, J::Bool),
            Value::I32(v) => v.map_or(J::Null, J::from),
            Value::I64(v) => v.map_or(J::Null, J::from),
            Value::F64(v) => v.map_or(J::Null, J::from),
            Value::Uuid(v) => v.map_or(J::Null, |u| J::String(u.to_string())),
            Value::Date(v) => v.map_or(J::Null, |d| J::String(d.format("%Y-%m-%d").to_string())),
            Value::Timestamp(v) => v.map_or(J::Null, |t| serde_json::to_value(t).unwrap_or(J::Null)),
        }
    }
}

/// A row value did not have the type the model expects: the schema and the model disagree.
#[derive(Debug, thiserror::Error)]
#[error("column {column}: expected {expected}, found {found}")]
pub struct DecodeError {
    /// The column's name, or `#n` (its position) where the reader had no names.
    pub column: &'static str,
    /// The type the model wanted, as [`FieldType::describe`] says it.
    pub expected: &'static str,
    /// What the column held instead: its type, or NULL (never the value: it may be private).
    pub found: &'static str,
}

/// A Rust type that can be a field of a tenant resource: `String`, `bool`, `i32`, `i64`, `f64`,
/// `uuid::Uuid`, `chrono::NaiveDate`, `chrono::DateTime<Utc>`, a `#[derive(TenantEnum)]` enum
/// (stored as its [`FieldType::Choice`] names), and `Option` of each (nullable, optional in
/// bodies). The macro reads [`FieldValue::TYPE`] and [`FieldValue::NULLABLE`] to describe the
/// field, so the storage type follows the Rust type and is never guessed from its name.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field of a tenant resource",
    label = "unsupported field type",
    note = "supported: String, bool, i32, i64, f64, uuid::Uuid, chrono::NaiveDate, chrono::DateTime<Utc>, a #[derive(TenantEnum)] enum, and Option of any of these",
    note = "if `{Self}` is an enum of choices, add `#[derive(tenant_core::TenantEnum)]` to it (it writes the stored names, `Serialize` and `Deserialize`)"
)]
pub trait FieldValue: Sized + serde::Serialize + serde::de::DeserializeOwned {
    /// The storage type.
    const TYPE: FieldType;
    /// Whether the column accepts NULL: `true` for `Option<T>` only.
    const NULLABLE: bool = false;
    /// This value, to bind or to compare.
    fn into_value(self) -> Value;
    /// `None` when the value has another type or is NULL for a non-nullable type.
    fn from_value(value: Value) -> Option<Self>;

    /// Reads this type's column, the next one of `row`; `None` for NULL. The default goes
    /// through [`Value`]; the built-in types read their column directly.
    fn read_nullable<R: RowReader + ?Sized>(row: &mut R, column: &'static str) -> Result<Option<Self>, DecodeError> {
        let value = row.value(Self::TYPE, column)?;
        if value.is_null() {
            return Ok(None);
        }
        let found = value.describe();
        Self::from_value(value).map(Some).ok_or(DecodeError { column, expected: Self::TYPE.describe(), found })
    }

    /// Reads this type's column, the next one of `row`, for a model's `from_row`. NULL is an
    /// error unless `Self` is an `Option`.
    fn read<R: RowReader + ?Sized>(row: &mut R, column: &'static str) -> Result<Self, DecodeError> {
        Self::read_nullable(row, column)?.ok_or(DecodeError { column, expected: Self::TYPE.describe(), found: "NULL" })
    }
}

macro_rules! field_value {
    ($t:ty, $variant:ident, $ft:expr, $read:ident) => {
        impl FieldValue for $t {
            const TYPE: FieldType = $ft;
            fn into_value(self) -> Value {
                Value::$variant(Some(self))
            }
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::$variant(v) => v,
                    _ => None,
                }
            }
            fn read_nullable<R: RowReader + ?Sized>(
                row: &mut R,
                column: &'static str,
            ) -> Result<Option<Self>, DecodeError> {
                row.$read(column)
            }
        }
    };
}

field_value!(String, Text, FieldType::Text, text);
field_value!(bool, Bool, FieldType::Bool, bool);
field_value!(i32, I32, FieldType::I32, i32);
field_value!(i64, I64, FieldType::I64, i64);
field_value!(f64, F64, FieldType::F64, f64);
field_value!(Uuid, Uuid, FieldType::Uuid, uuid);
field_value!(NaiveDate, Date, FieldType::Date, date);
field_value!(DateTime<Utc>, Timestamp, FieldType::Timestamp, timestamp);

impl<T: FieldValue> FieldValue for Option<T> {
    const TYPE: FieldType = T::TYPE;
    const NULLABLE: bool = true;
    fn into_value(self) -> Value {
        match self {
            Some(v) => v.into_value(),
            None => Value::null(T::TYPE),
        }
    }
    fn from_value(value: Value) -> Option<Self> {
        if value.is_null() { Some(None) } else { T::from_value(value).map(Some) }
    }
    fn read_nullable<R: RowReader + ?Sized>(row: &mut R, column: &'static str) -> Result<Option<Self>, DecodeError> {
        T::read_nullable(row, column).map(Some)
    }
    fn read<R: RowReader + ?Sized>(row: &mut R, column: &'static str) -> Result<Self, DecodeError> {
        T::read_nullable(row, column)
    }
}

/// Types that `#[field(unique)]` accepts: equality must be exact, so no floats, and a boolean
/// could hold only two rows per company.
#[diagnostic::on_unimplemented(
    message = "`unique` is not supported on a field of type `{Self}`",
    label = "`unique` needs exact equality",
    note = "use `unique` on String, integers, Uuid, dates or a TenantEnum; floats and booleans cannot be unique per company"
)]
pub trait Uniqueable {}

/// Types that `#[field(search)]` accepts: substring search needs text.
#[diagnostic::on_unimplemented(
    message = "`search` is not supported on a field of type `{Self}`",
    label = "`search` needs a text field",
    note = "use `search` on String or Option<String>; use `filter` for exact matches on other types"
)]
pub trait Searchable {}

/// Types that `#[field(order)]` accepts.
#[diagnostic::on_unimplemented(
    message = "`order` is not supported on a field of type `{Self}`",
    label = "`order` needs a field with a total order"
)]
pub trait Orderable {}

/// Types that the lookups `gt`, `gte`, `lt` and `lte` accept (`#[field(lookups = "gte")]`): the
/// same as [`Orderable`]'s.
#[diagnostic::on_unimplemented(
    message = "the lookups `gt`, `gte`, `lt` and `lte` are not supported on a field of type `{Self}`",
    label = "`gt`, `gte`, `lt` and `lte` need a field with a total order",
    note = "remove `gt`, `gte`, `lt` and `lte` from `lookups` (`in` suits any type, `isnull` any `Option`), or give the field an ordered type: a number, date, date-time, String, Uuid, bool or TenantEnum"
)]
pub trait Comparable {}

/// Types that the lookup `isnull` accepts (`#[field(lookups = "isnull")]`): `Option<T>` only,
/// the fields whose column can hold NULL.
#[diagnostic::on_unimplemented(
    message = "the lookup `isnull` needs a nullable field, not `{Self}`",
    label = "not an `Option`, so never NULL",
    note = "make the field `Option<{Self}>` if it may be empty, or remove `isnull` from `lookups`"
)]
pub trait Nullable {}

impl<T> Nullable for Option<T> {}

/// Types that `#[field(len = …)]` and `#[field(email)]` accept.
#[diagnostic::on_unimplemented(
    message = "`len` and `email` apply only to text, not to `{Self}`",
    label = "not a text field",
    note = "use `range = …` for numbers"
)]
pub trait Lengthable {}

/// Types that `#[field(range = …)]` accepts.
#[diagnostic::on_unimplemented(
    message = "`range` applies only to numbers, not to `{Self}`",
    label = "not a numeric field",
    note = "use `len = …` for strings"
)]
pub trait Numeric {}

/// Types that `#[field(references = …)]` accepts: a column holding the id of another resource.
#[diagnostic::on_unimplemented(
    message = "`references` needs a UUID field, not `{Self}`",
    label = "not a UUID",
    note = "declare the field as `uuid::Uuid` (or `Option<uuid::Uuid>`): it holds the id of the referenced resource"
)]
pub trait UuidField {}

/// Marks the types that accept an option; `Option<T>` accepts whatever `T` does, so a
/// `#[derive(TenantEnum)]` enum (which marks itself) works in an `Option` too.
macro_rules! mark {
    ($tr:ident: $($t:ty),*) => { $(impl $tr for $t {})* impl<T: $tr> $tr for Option<T> {} };
}
mark!(Uniqueable: String, i32, i64, Uuid, NaiveDate, DateTime<Utc>);
mark!(Searchable: String);
mark!(Orderable: String, bool, i32, i64, f64, Uuid, NaiveDate, DateTime<Utc>);
mark!(Comparable: String, bool, i32, i64, f64, Uuid, NaiveDate, DateTime<Utc>);
mark!(Lengthable: String);
mark!(Numeric: i32, i64, f64);
mark!(UuidField: Uuid);
