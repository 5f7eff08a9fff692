//! Validating an account endpoint's JSON body field by field, with Django REST Framework's
//! messages, every error reported at once.

use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::email::normalize_email;
use crate::body::JsonObject;
use crate::error::ApiError;
use crate::messages::NUL_NOT_ALLOWED;
pub(crate) use crate::messages::{CONTROL_CHARACTERS, INVALID_UUID, NOT_A_STRING, NOT_BLANK, NOT_NULL, REQUIRED};
use crate::role::Role;
use crate::validate::FieldErrors;

/// Longest email address accepted (as Django's `EmailField`).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest company name accepted.
pub const MAX_COMPANY_NAME_LEN: usize = 200;

/// A JSON body being validated: each accessor checks one field, records its errors, and
/// returns the cleaned value if it is valid. [`Form::finish`] answers 400 with every error.
/// Fields the form does not ask for are ignored, as API.md requires.
pub(crate) struct Form {
    map: Map<String, Json>,
    errors: FieldErrors,
}

impl Form {
    pub(crate) fn new(body: JsonObject) -> Form {
        Form { map: body.0, errors: FieldErrors::new() }
    }

    pub(crate) fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.entry(field.to_string()).or_default().push(message.into());
    }

    /// The raw string of a field: absent (an error if `required`), null, or not a string → `None`.
    fn raw_string(&mut self, name: &str, required: bool) -> Option<String> {
        match self.map.get(name) {
            None => {
                if required {
                    self.error(name, REQUIRED);
                }
                None
            }
            Some(Json::Null) => {
                self.error(name, NOT_NULL);
                None
            }
            // Every string of every form, passwords included, as DRF's CharField.
            Some(Json::String(s)) if s.contains('\0') => {
                self.error(name, NUL_NOT_ALLOWED);
                None
            }
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(name, NOT_A_STRING);
                None
            }
        }
    }

    /// A required, trimmed, non-blank, single-line string of at most `max` characters (a name:
    /// shown in lists and mail subjects and bodies, where a line break or another control
    /// character would let it write lines of its own).
    pub(crate) fn text(&mut self, name: &str, max: usize) -> Option<String> {
        let value = self.raw_string(name, true)?;
        let value = value.trim();
        if value.is_empty() {
            self.error(name, NOT_BLANK);
            return None;
        }
        if value.chars().any(char::is_control) {
            self.error(name, CONTROL_CHARACTERS);
            return None;
        }
        if value.chars().count() > max {
            self.error(name, format!("Ensure this field has no more than {max} characters."));
            return None;
        }
        Some(value.to_string())
    }

    /// A required, non-blank string taken as is (a password, a token): never trimmed.
    pub(crate) fn secret(&mut self, name: &str) -> Option<String> {
        let value = self.raw_string(name, true)?;
        if value.is_empty() {
            self.error(name, NOT_BLANK);
            return None;
        }
        Some(value)
    }

    /// A required email address, trimmed and lower-cased.
    pub(crate) fn email(&mut self, name: &str) -> Option<String> {
        let value = self.raw_string(name, true)?;
        if value.trim().is_empty() {
            self.error(name, NOT_BLANK);
            return None;
        }
        if value.trim().chars().count() > MAX_EMAIL_LEN {
            self.error(name, format!("Ensure this field has no more than {MAX_EMAIL_LEN} characters."));
            return None;
        }
        match normalize_email(&value) {
            Ok(email) => Some(email),
            Err(message) => {
                self.error(name, message);
                None
            }
        }
    }

    /// A role, `admin` or `staff`. Absent and not `required` → `None` without an error.
    pub(crate) fn role(&mut self, name: &str, required: bool) -> Option<Role> {
        let value = match self.map.get(name) {
            Some(Json::Number(n)) => n.to_string(),
            Some(Json::Bool(b)) => b.to_string(),
            _ => self.raw_string(name, required)?,
        };
        let role = Role::parse(&value);
        if role.is_none() {
            self.error(name, format!("\"{value}\" is not a valid choice."));
        }
        role
    }

    /// A nullable UUID: absent → `None`; `null` → `Some(None)`; invalid → an error and `None`.
    pub(crate) fn nullable_uuid(&mut self, name: &str) -> Option<Option<Uuid>> {
        match self.map.get(name)? {
            Json::Null => Some(None),
            Json::String(s) => match Uuid::parse_str(s.trim()) {
                Ok(id) => Some(Some(id)),
                Err(_) => {
                    self.error(name, INVALID_UUID);
                    None
                }
            },
            _ => {
                self.error(name, INVALID_UUID);
                None
            }
        }
    }

    /// `Ok` if every field was valid, else the 400 listing every error.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }
}

/// Unwraps a value a [`Form`] accessor returned after [`Form::finish`] succeeded.
pub(crate) fn cleaned<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::internal("validated field missing after Form::finish"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::accounts::email::INVALID_EMAIL;

    fn form(value: Json) -> Form {
        let Json::Object(map) = value else { panic!("not an object") };
        Form::new(JsonObject(map))
    }

    fn errors(form: Form) -> FieldErrors {
        match form.finish() {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let mut f = form(json!({"email": "nope", "password": "", "company_name": "   "}));
        assert_eq!(f.email("email"), None);
        assert_eq!(f.secret("password"), None);
        assert_eq!(f.text("company_name", 200), None);
        let errors = errors(f);
        assert_eq!(errors["email"], vec![INVALID_EMAIL]);
        assert_eq!(errors["password"], vec![NOT_BLANK]);
        assert_eq!(errors["company_name"], vec![NOT_BLANK]);
    }

    #[test]
    fn required_null_and_type_errors() {
        let mut f = form(json!({"b": null, "c": 3, "d": ["x"]}));
        assert_eq!(f.text("a", 10), None);
        assert_eq!(f.text("b", 10), None);
        assert_eq!(f.text("c", 10), None);
        assert_eq!(f.secret("d"), None);
        let errors = errors(f);
        assert_eq!(errors["a"], vec![REQUIRED]);
        assert_eq!(errors["b"], vec![NOT_NULL]);
        assert_eq!(errors["c"], vec![NOT_A_STRING]);
        assert_eq!(errors["d"], vec![NOT_A_STRING]);
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        let mut f = form(json!({"name": "  Acme  ", "long": "x".repeat(201), "ok": "é".repeat(200)}));
        assert_eq!(f.text("name", 200).as_deref(), Some("Acme"));
        assert_eq!(f.text("ok", 200).map(|s| s.chars().count()), Some(200));
        assert_eq!(f.text("long", 200), None);
        assert_eq!(errors(f)["long"], vec!["Ensure this field has no more than 200 characters."]);
    }

    #[test]
    fn names_are_single_lines() {
        let mut f = form(json!({"a": "Acme\nToken: x", "b": "Tab\there", "c": "Bell\u{7}", "ok": "Café Zoë & Co"}));
        assert_eq!(f.text("a", 200), None);
        assert_eq!(f.text("b", 200), None);
        assert_eq!(f.text("c", 200), None);
        assert_eq!(f.text("ok", 200).as_deref(), Some("Café Zoë & Co"));
        let errors = errors(f);
        for field in ["a", "b", "c"] {
            assert_eq!(errors[field], vec![CONTROL_CHARACTERS]);
        }
    }

    #[test]
    fn passwords_are_not_trimmed() {
        let mut f = form(json!({"p": "  spaced  "}));
        assert_eq!(f.secret("p").as_deref(), Some("  spaced  "));
        assert!(f.finish().is_ok());
    }

    #[test]
    fn roles_are_choices() {
        let mut f = form(json!({"a": "admin", "s": "staff", "x": "owner", "n": 1}));
        assert_eq!(f.role("a", true), Some(Role::Admin));
        assert_eq!(f.role("s", true), Some(Role::Staff));
        assert_eq!(f.role("missing", false), None);
        assert_eq!(f.role("x", true), None);
        assert_eq!(f.role("n", true), None);
        let errors = errors(f);
        assert!(!errors.contains_key("missing"));
        assert_eq!(errors["x"], vec!["\"owner\" is not a valid choice."]);
        assert_eq!(errors["n"], vec!["\"1\" is not a valid choice."]);
    }

    #[test]
    fn nullable_uuids() {
        let id = Uuid::now_v7();
        let mut f = form(json!({"a": id.to_string(), "b": null, "c": "nope", "d": 5}));
        assert_eq!(f.nullable_uuid("a"), Some(Some(id)));
        assert_eq!(f.nullable_uuid("b"), Some(None));
        assert_eq!(f.nullable_uuid("absent"), None);
        assert_eq!(f.nullable_uuid("c"), None);
        assert_eq!(f.nullable_uuid("d"), None);
        let errors = errors(f);
        assert_eq!(errors["c"], vec![INVALID_UUID]);
        assert_eq!(errors["d"], vec![INVALID_UUID]);
    }
}
