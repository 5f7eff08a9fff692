//! Turning a JSON body into field values, with Django REST Framework's error shape and wording.
//!
//! All errors of a body are collected and returned together. Read-only fields (`id`,
//! `company_id`, `created_at`, `updated_at`) and unknown keys are ignored, so a client can never
//! choose the company of a row.

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::error::FieldErrors;
use crate::resource::{Field, FieldType, ResourceDesc};
use crate::value::Value;

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

/// The current instant at the precision both backends store (microseconds).
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
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
        let value = match body.get(field.name) {
            Some(json) => match field_from_json(field, json) {
                Ok(v) => v,
                Err(message) => {
                    errors.entry(field.name.to_string()).or_default().push(message);
                    Value::null(field.ty)
                }
            },
            None => match mode {
                Mode::Partial => kept().unwrap_or(Value::null(field.ty)),
                Mode::Create | Mode::Replace if field.required => {
                    errors.entry(field.name.to_string()).or_default().push("This field is required.".into());
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
        return if field.nullable { Ok(Value::null(field.ty)) } else { Err("This field may not be null.".into()) };
    }
    let value = match field.ty {
        FieldType::Text => {
            let Json::String(s) = json else {
                return Err("Not a valid string.".into());
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
            let n = json.as_i64().ok_or("A valid integer is required.")?;
            check_range(field, n as f64)?;
            if field.ty == FieldType::I32 {
                Value::I32(Some(i32::try_from(n).map_err(|_| "A valid integer is required.")?))
            } else {
                Value::I64(Some(n))
            }
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

/// Parses a string form (a JSON string or a query parameter) of a UUID, date, timestamp,
/// number, boolean or choice.
pub fn value_from_str(ty: FieldType, s: &str) -> Result<Value, String> {
    let s = s.trim();
    Ok(match ty {
        FieldType::Text => Value::Text(Some(s.to_string())),
        FieldType::Choice(choices) => {
            if !choices.contains(&s) {
                return Err(format!("\"{s}\" is not a valid choice. Choose from: {}.", choices.join(", ")));
            }
            Value::Text(Some(s.to_string()))
        }
        FieldType::Bool => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(Some(true)),
            "false" | "0" => Value::Bool(Some(false)),
            _ => return Err("Must be a valid boolean.".into()),
        },
        FieldType::I32 => Value::I32(Some(s.parse().map_err(|_| "A valid integer is required.")?)),
        FieldType::I64 => Value::I64(Some(s.parse().map_err(|_| "A valid integer is required.")?)),
        FieldType::F64 => {
            Value::F64(Some(s.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or("A valid number is required.")?))
        }
        FieldType::Uuid => Value::Uuid(Some(Uuid::parse_str(s).map_err(|_| "Must be a valid UUID.")?)),
        FieldType::Date => Value::Date(Some(
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")?,
        )),
        FieldType::Timestamp => {
            let t = DateTime::parse_from_rfc3339(s)
                .map_err(|_| "Datetime has wrong format. Use RFC 3339, e.g. 2026-01-31T12:00:00Z.")?
                .with_timezone(&Utc);
            Value::Timestamp(Some(t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)))
        }
    })
}

fn check_text(field: &Field, s: &str) -> Result<String, String> {
    let len = s.chars().count();
    if len == 0 && field.min_len.unwrap_or(0) > 0 {
        return Err("This field may not be blank.".into());
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
        return Err("Enter a valid email address.".into());
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

/// A deliberately plain check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Permissions, ResourceSql};
    use serde_json::json;

    const SQL: ResourceSql = ResourceSql {
        select_one: "",
        select_one_for_update: "",
        list: "",
        count: "",
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
        sql: SQL,
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
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@.co", "a b@c.co", "a@b..co", "a@b.co."] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
