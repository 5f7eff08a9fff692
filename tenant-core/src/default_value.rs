//! What `#[field(default = …)]` accepts: a value of the field's own type, a `&str` for a `String`
//! field, and a bare value for an `Option` field. A value of another type fails to compile with
//! a message naming the field's type and the form to write, instead of rustc's
//! "`From<&str>` is not implemented" (whose help is to implement a conversion).

use crate::value::FieldValue;

/// A value `#[field(default = …)]` may give a field of type `T`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a default for a field of type `{T}`",
    label = "expected a value of type `{T}`",
    note = "write a value of the field's type: `default = 0`, `default = \"text\"`, `default = true`, `default = Status::Draft` for a #[derive(TenantEnum)] enum, `default = Some(…)` or just the value for an `Option` field",
    note = "or write just `default` for `{T}`'s `Default::default()`; a `before_create` hook may set anything else"
)]
pub trait IntoDefault<T> {
    /// The field's value.
    fn into_default(self) -> T;
}

impl<T: FieldValue> IntoDefault<T> for T {
    fn into_default(self) -> T {
        self
    }
}

impl IntoDefault<String> for &str {
    fn into_default(self) -> String {
        self.to_owned()
    }
}

impl<T: FieldValue> IntoDefault<Option<T>> for T {
    fn into_default(self) -> Option<T> {
        Some(self)
    }
}

impl IntoDefault<Option<String>> for &str {
    fn into_default(self) -> Option<String> {
        Some(self.to_owned())
    }
}

/// The default of a field of type `T`, as the macro writes it: `default_value::<T, _>(expr)`.
pub fn default_value<T, V: IntoDefault<T>>(value: V) -> T {
    value.into_default()
}
