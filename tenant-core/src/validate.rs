//! Turning a JSON body into field values, with Django REST Framework's error shape and wording.
//!
//! All errors of a body are collected and returned together. Read-only fields (`id`,
//! `company_id`, `created_at`, `updated_at`) and unknown keys are ignored, so a client can never
//! choose the company of a row.
//!
//! Beside it: `parse` reads the string form of a value (a query parameter, a JSON string),
//! `email` holds the rule of e-mail addresses, and `clock` the years 1-9999 and the current time.

pub(crate) mod clock;
pub(crate) mod email;
pub(crate) mod parse;

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use self::email::is_email;
use self::parse::{integral, value_from_str};
use crate::messages::{INTEGER_REQUIRED, INVALID_EMAIL, NOT_A_STRING, NOT_BLANK, NOT_NULL, NUL_NOT_ALLOWED, REQUIRED};
use crate::resource::{Field, ResourceDesc};
use crate::value::{FieldType, Value};

/// Field name → messages, the body of a 400 or a 409 on a field. `non_field_errors` holds
/// cross-field messages, as in Django REST Framework.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// What the body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `POST`: required fields must be present; absent ones take their default (or NULL).
    Create,
    /// `PUT`: required fields must be present; absent optional ones keep their value.
    Replace,
    /// `PATCH`: absent fields keep their value.
    Partial,
}

/// Validates `body` for `desc`. Returns one value per field, in declaration order. `existing`
/// holds the current field values for `Replace` and `Partial`.
pub fn validate_body(
    desc: &ResourceDesc,
    body: &Map<String, Json>,
    mode: Mode,
    existing: Option<&[Value]>,
) -> Result<Vec<Value>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut values = Vec::with_capacity(desc.fields.len());
    for (i, field) in desc.fields.iter().enumerate() {
        let kept = || existing.and_then(|e| e.get(i)).cloned();
        // A read-only field is never taken from a body (DRF ignores it there, as `id`).
        let given = if field.read_only { None } else { body.get(field.name) };
        let value = match given {
            Some(json) => match field_from_json(field, json) {
                Ok(v) => v,
                Err(message) => {
                    errors.entry(field.name.to_string()).or_default().push(message);
                    Value::null(field.ty)
                }
            },
            None => match mode {
                Mode::Partial => kept().unwrap_or(Value::null(field.ty)),
                Mode::Create | Mode::Replace if field.required && !field.read_only => {
                    errors.entry(field.name.to_string()).or_default().push(REQUIRED.into());
                    Value::null(field.ty)
                }
                Mode::Replace => kept().unwrap_or(Value::null(field.ty)),
                Mode::Create => field.default.map_or(Value::null(field.ty), |default| default()),
            },
        };
        values.push(value);
    }
    if errors.is_empty() { Ok(values) } else { Err(errors) }
}

/// One JSON value for `field`, checked against its type and rules.
pub fn field_from_json(field: &Field, json: &Json) -> Result<Value, String> {
    if json.is_null() {
        return if field.nullable { Ok(Value::null(field.ty)) } else { Err(NOT_NULL.into()) };
    }
    let value = match field.ty {
        FieldType::Text => {
            let Json::String(s) = json else {
                return Err(NOT_A_STRING.into());
            };
            // DRF trims surrounding whitespace of char fields.
            Value::Text(Some(check_text(field, s.trim())?))
        }
        FieldType::Choice(choices) => match json {
            Json::String(s) if choices.contains(&s.as_str()) => Value::Text(Some(s.clone())),
            other => {
                return Err(format!("{} is not a valid choice. Choose from: {}.", other, choices.join(", ")));
            }
        },
        FieldType::Bool => match json {
            Json::Bool(b) => Value::Bool(Some(*b)),
            _ => return Err("Must be a valid boolean.".into()),
        },
        FieldType::I32 | FieldType::I64 => {
            let Json::Number(number) = json else {
                return Err(INTEGER_REQUIRED.into());
            };
            let n = integral(field.ty, number.as_i64().map(Ok).unwrap_or_else(|| Err(number.as_f64())))?;
            check_range(field, n as f64)?;
            if field.ty == FieldType::I32 { Value::I32(Some(n as i32)) } else { Value::I64(Some(n)) }
        }
        FieldType::F64 => {
            let n = json.as_f64().ok_or("A valid number is required.")?;
            check_range(field, n)?;
            Value::F64(Some(n))
        }
        FieldType::Uuid | FieldType::Date | FieldType::Timestamp => {
            let Json::String(s) = json else {
                return Err(format!("Must be a valid {}.", field.ty.describe()));
            };
            value_from_str(field.ty, s)?
        }
    };
    Ok(value)
}

fn check_text(field: &Field, s: &str) -> Result<String, String> {
    if s.contains('\0') {
        return Err(NUL_NOT_ALLOWED.into());
    }
    let len = s.chars().count();
    if len == 0 && field.min_len.unwrap_or(0) > 0 {
        return Err(NOT_BLANK.into());
    }
    if let Some(min) = field.min_len
        && len < min
    {
        return Err(format!("Ensure this field has at least {min} characters."));
    }
    if let Some(max) = field.max_len
        && len > max
    {
        return Err(format!("Ensure this field has no more than {max} characters."));
    }
    if field.email && !is_email(s) {
        return Err(INVALID_EMAIL.into());
    }
    Ok(s.to_string())
}

fn check_range(field: &Field, n: f64) -> Result<(), String> {
    if let Some(min) = field.min
        && n < min
    {
        return Err(format!("Ensure this value is greater than or equal to {min}."));
    }
    if let Some(max) = field.max
        && n > max
    {
        return Err(format!("Ensure this value is less than or equal to {max}."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Actions, Permissions, ResourceSql};
    use serde_json::json;

    const SQL: ResourceSql = ResourceSql {
        select_one: "",
        select_one_for_update: "",
        list_columns: "",
        list_scope: "",
        insert: "",
        update: "",
        delete: "",
        exists: "",
    };

    fn default_true() -> Value {
        Value::Bool(Some(true))
    }

    const DESC: ResourceDesc = ResourceDesc {
        name: "Thing",
        singular: "thing",
        table: "things",
        path: "/api/things",
        fields: &[
            Field { min_len: Some(1), max_len: Some(5), ..Field::new("name", FieldType::Text, false) },
            Field { email: true, ..Field::new("email", FieldType::Text, true) },
            Field { min: Some(0.0), ..Field::new("price", FieldType::I64, false) },
            Field { required: false, default: Some(default_true), ..Field::new("active", FieldType::Bool, false) },
            Field::new("state", FieldType::Choice(&["draft", "paid"]), true),
            Field::new("day", FieldType::Date, true),
        ],
        permissions: Permissions::DEFAULT,
        actions: Actions::ALL,
        sql: SQL,
        computed: &[],
    };

    fn obj(v: Json) -> Map<String, Json> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn create_applies_defaults_and_ignores_read_only_and_unknown_keys() {
        let body = obj(json!({"name": " ab ", "price": 3, "company_id": "x", "id": 1, "zzz": true}));
        let values = validate_body(&DESC, &body, Mode::Create, None).unwrap();
        assert_eq!(values[0], Value::Text(Some("ab".into())));
        assert_eq!(values[1], Value::Text(None));
        assert_eq!(values[3], Value::Bool(Some(true)));
    }

    #[test]
    fn all_errors_are_reported_together() {
        let body = obj(json!({"name": "", "email": "nope", "price": -1, "state": "lost", "day": "31/01/2026"}));
        let errors = validate_body(&DESC, &body, Mode::Create, None).unwrap_err();
        assert_eq!(errors["name"], vec!["This field may not be blank."]);
        assert_eq!(errors["email"], vec!["Enter a valid email address."]);
        assert_eq!(errors["price"], vec!["Ensure this value is greater than or equal to 0."]);
        assert!(errors["state"][0].contains("not a valid choice"));
        assert!(errors["day"][0].contains("YYYY-MM-DD"));

        let errors = validate_body(&DESC, &obj(json!({})), Mode::Create, None).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), vec!["name", "price"]);
        let errors = validate_body(&DESC, &obj(json!({"name": 5, "price": "3", "active": null})), Mode::Create, None)
            .unwrap_err();
        assert_eq!(errors["name"], vec!["Not a valid string."]);
        assert_eq!(errors["price"], vec!["A valid integer is required."]);
        assert_eq!(errors["active"], vec!["This field may not be null."]);
    }

    #[test]
    fn partial_and_replace_keep_what_is_absent() {
        let existing =
            validate_body(&DESC, &obj(json!({"name": "a", "price": 1, "email": "a@b.co"})), Mode::Create, None)
                .unwrap();
        let patched = validate_body(&DESC, &obj(json!({"price": 2})), Mode::Partial, Some(&existing)).unwrap();
        assert_eq!(patched[0], existing[0]);
        assert_eq!(patched[2], Value::I64(Some(2)));
        let err = validate_body(&DESC, &obj(json!({"price": 2})), Mode::Replace, Some(&existing)).unwrap_err();
        assert!(err.contains_key("name"));
        let replaced =
            validate_body(&DESC, &obj(json!({"name": "b", "price": 2})), Mode::Replace, Some(&existing)).unwrap();
        assert_eq!(replaced[1], existing[1]);
    }

    #[test]
    fn text_never_holds_nul() {
        let body = obj(json!({"name": "a\u{0}b", "price": 1}));
        let errors = validate_body(&DESC, &body, Mode::Create, None).unwrap_err();
        assert_eq!(errors["name"], vec![NUL_NOT_ALLOWED]);
        assert_eq!(value_from_str(FieldType::Text, "a\0"), Err(NUL_NOT_ALLOWED.to_string()));
    }
}
