//! How the generated types serialize their fields: through [`FieldValue`], so that a field of an
//! unsupported type (an enum without `#[derive(TenantEnum)]`, a `Vec`) fails to compile with
//! `FieldValue`'s message and its fix, instead of serde's "derive `Serialize`" suggestion, which
//! would compile and then store the enum under names the column's check refuses.
//!
//! Every function is the identity of serde's own behaviour for the type: the JSON is unchanged.

use serde::ser::SerializeStruct;
use serde::{Deserializer, Serialize, Serializer};

use crate::value::FieldValue;

/// `#[serde(serialize_with)]` of a model or input field.
pub fn serialize<T: FieldValue, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    value.serialize(serializer)
}

/// `#[serde(deserialize_with)]` of an input field.
pub fn deserialize<'de, T: FieldValue, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    T::deserialize(deserializer)
}

/// `#[serde(serialize_with)]` of a body field that may be left out (`Option<T>`, skipped when
/// `None`).
pub fn serialize_present<T: FieldValue, S: Serializer>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
    value.serialize(serializer)
}

/// `#[serde(deserialize_with)]` of a body field that may be left out: a key present in the JSON
/// is `Some`, even when its value is `null` (which clears a nullable field in a `PATCH`).
pub fn deserialize_present<'de, T: FieldValue, D: Deserializer<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// One field of a hand-written `Serialize` (a model with computed fields).
pub fn serialize_struct_field<S: SerializeStruct, T: FieldValue>(
    state: &mut S,
    key: &'static str,
    value: &T,
) -> Result<(), S::Error> {
    state.serialize_field(key, value)
}
