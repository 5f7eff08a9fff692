//! Reading a result row column by column, straight into whatever the caller builds.
//!
//! A backend hands a [`RowDecoder`] a [`RowReader`] over its native row; the decoder reads each
//! column with the type it expects. A model struct reads its fields in order
//! ([`crate::Resource::from_row`], through [`FieldValue::read`]), so a row becomes a struct with
//! no `Vec<Value>` in between: that intermediate row, built and torn down for every row served,
//! was the framework's largest cost over hand-written sqlx in the benchmark's instruction counts
//! (`bench/RESULTS.md`, `--callgrind`). Code that wants [`Value`]s reads them by
//! [`FieldType`] ([`ByTypes`]); rows that are already `Vec<Value>` (built by the write paths)
//! are read back through [`Values`].
//!
//! [`FieldValue::read`]: crate::value::FieldValue::read

use std::marker::PhantomData;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::resource::Resource;
use crate::value::{DecodeError, FieldType, RowReader, Value};

/// Builds one `Output` from each row a query returns. Generic over the reader, so that each
/// backend's reader is called directly (and inlined) instead of through `dyn`: decoding is the
/// one per-column cost of every list.
pub trait RowDecoder {
    type Output;
    fn decode<R: RowReader + ?Sized>(&mut self, row: &mut R) -> Result<Self::Output, DecodeError>;
}

/// Decodes rows into the model `R`.
pub struct Model<R>(PhantomData<fn() -> R>);

impl<R: Resource> Model<R> {
    pub fn new() -> Model<R> {
        Model(PhantomData)
    }
}

impl<R: Resource> Default for Model<R> {
    fn default() -> Model<R> {
        Model::new()
    }
}

impl<R: Resource> RowDecoder for Model<R> {
    type Output = R;
    fn decode<Rd: RowReader + ?Sized>(&mut self, row: &mut Rd) -> Result<R, DecodeError> {
        R::from_row(row)
    }
}

/// Decodes rows into [`Value`]s, one per type (one per selected column).
pub struct ByTypes<'t>(pub &'t [FieldType]);

impl RowDecoder for ByTypes<'_> {
    type Output = Vec<Value>;
    fn decode<R: RowReader + ?Sized>(&mut self, row: &mut R) -> Result<Vec<Value>, DecodeError> {
        read_values(row, self.0)
    }
}

/// The columns of a row as [`Value`]s, one per type in `types` (columns are unnamed here, so
/// an error names the position).
pub fn read_values<R: RowReader + ?Sized>(row: &mut R, types: &[FieldType]) -> Result<Vec<Value>, DecodeError> {
    const POSITIONS: [&str; 16] =
        ["#0", "#1", "#2", "#3", "#4", "#5", "#6", "#7", "#8", "#9", "#10", "#11", "#12", "#13", "#14", "#15"];
    let mut out = Vec::with_capacity(types.len());
    for (i, ty) in types.iter().enumerate() {
        out.push(row.value(*ty, POSITIONS.get(i).copied().unwrap_or("#16+"))?);
    }
    Ok(out)
}

/// A reader over a row that is already a `Vec<Value>`.
pub struct Values(std::vec::IntoIter<Value>);

impl Values {
    pub fn new(row: Vec<Value>) -> Values {
        Values(row.into_iter())
    }

    fn next(&mut self, column: &'static str, expected: &'static str) -> Result<Value, DecodeError> {
        self.0.next().ok_or(DecodeError { column, expected, found: "no column" })
    }
}

macro_rules! read_variant {
    ($($method:ident: $variant:ident, $t:ty, $expected:literal;)*) => {
        impl RowReader for Values {
            $(fn $method(&mut self, column: &'static str) -> Result<Option<$t>, DecodeError> {
                match self.next(column, $expected)? {
                    Value::$variant(v) => Ok(v),
                    other => Err(DecodeError { column, expected: $expected, found: other.describe() }),
                }
            })*
        }
    };
}

read_variant! {
    text: Text, String, "text";
    bool: Bool, bool, "boolean";
    i32: I32, i32, "32-bit integer";
    i64: I64, i64, "64-bit integer";
    f64: F64, f64, "number";
    uuid: Uuid, Uuid, "UUID";
    date: Date, NaiveDate, "date";
    timestamp: Timestamp, DateTime<Utc>, "timestamp";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_in_order_with_their_types() {
        let id = Uuid::now_v7();
        let mut row = Values::new(vec![Value::Uuid(Some(id)), Value::Text(None), Value::I64(Some(7))]);
        assert_eq!(row.uuid("id").unwrap(), Some(id));
        assert_eq!(row.text("name").unwrap(), None);
        let err = row.text("count").unwrap_err();
        assert_eq!((err.column, err.expected, err.found), ("count", "text", "64-bit integer"));
        assert_eq!(row.bool("extra").unwrap_err().found, "no column");
    }

    #[test]
    fn read_values_follows_the_types() {
        let row = vec![Value::Bool(Some(true)), Value::Date(None)];
        let mut reader = Values::new(row.clone());
        assert_eq!(read_values(&mut reader, &[FieldType::Bool, FieldType::Date]).unwrap(), row);
        let mut reader = Values::new(row);
        assert_eq!(read_values(&mut reader, &[FieldType::Text]).unwrap_err().column, "#0");
    }
}
