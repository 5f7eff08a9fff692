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
use crate::role::Role;
use crate::value::{DecodeError, FieldType, FieldValue, RowReader, Value};

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

/// Decodes each row into a tuple of [`ColumnValue`]s, one per named column, in the statement's
/// column order: `Columns::new(["id", "password_hash"])` gives `(Uuid, String)` where the caller
/// asks for that. The names are for error messages; the arity is checked at compile time.
pub struct Columns<T, const N: usize> {
    names: [&'static str; N],
    row: PhantomData<fn() -> T>,
}

impl<T: FromColumns<N>, const N: usize> Columns<T, N> {
    /// A decoder for columns named `names`.
    pub fn new(names: [&'static str; N]) -> Self {
        Columns { names, row: PhantomData }
    }
}

impl<T: FromColumns<N>, const N: usize> RowDecoder for Columns<T, N> {
    type Output = T;
    #[inline]
    fn decode<R: RowReader + ?Sized>(&mut self, row: &mut R) -> Result<T, DecodeError> {
        T::from_columns(row, &self.names)
    }
}

/// A value read from one named column of a core table: any [`FieldValue`], and a [`Role`]
/// (stored as its name; an unknown name is a decode error, which the column's CHECK rules out).
pub trait ColumnValue: Sized {
    /// Reads the next column of `row`.
    fn read_column<R: RowReader + ?Sized>(row: &mut R, name: &'static str) -> Result<Self, DecodeError>;
}

impl<T: FieldValue> ColumnValue for T {
    #[inline]
    fn read_column<R: RowReader + ?Sized>(row: &mut R, name: &'static str) -> Result<T, DecodeError> {
        T::read(row, name)
    }
}

impl ColumnValue for Role {
    fn read_column<R: RowReader + ?Sized>(row: &mut R, name: &'static str) -> Result<Role, DecodeError> {
        let text = String::read(row, name)?;
        Role::parse(&text).ok_or(DecodeError { column: name, expected: "a role", found: "another text" })
    }
}

/// A tuple of `N` [`ColumnValue`]s, read column by column ([`Columns`]).
pub trait FromColumns<const N: usize>: Sized {
    /// Reads the next `N` columns of `row`, named `names` in errors.
    fn from_columns<R: RowReader + ?Sized>(row: &mut R, names: &[&'static str; N]) -> Result<Self, DecodeError>;
}

macro_rules! from_columns {
    ($n:literal: $($t:ident $i:tt),+) => {
        impl<$($t: ColumnValue),+> FromColumns<$n> for ($($t,)+) {
            #[inline]
            fn from_columns<R: RowReader + ?Sized>(
                row: &mut R,
                names: &[&'static str; $n],
            ) -> Result<Self, DecodeError> {
                Ok(($($t::read_column(row, names[$i])?,)+))
            }
        }
    };
}

from_columns!(1: A 0);
from_columns!(2: A 0, B 1);
from_columns!(3: A 0, B 1, C 2);
from_columns!(4: A 0, B 1, C 2, D 3);
from_columns!(5: A 0, B 1, C 2, D 3, E 4);
from_columns!(6: A 0, B 1, C 2, D 3, E 4, F 5);

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
    fn columns_read_a_typed_tuple_and_name_the_failing_column() {
        let id = Uuid::now_v7();
        let row = vec![Value::Uuid(Some(id)), Value::Text(None), Value::I64(Some(7))];
        let mut decoder = Columns::<(Uuid, Option<String>, i64), 3>::new(["id", "note", "count"]);
        assert_eq!(decoder.decode(&mut Values::new(row.clone())).unwrap(), (id, None, 7));
        let mut decoder = Columns::<(Uuid, String, i64), 3>::new(["id", "name", "count"]);
        let err = decoder.decode(&mut Values::new(row)).unwrap_err();
        assert_eq!((err.column, err.found), ("name", "NULL"));
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
