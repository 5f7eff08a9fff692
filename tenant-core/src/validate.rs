//! Turning a JSON body into field values, with Django REST Framework's error shape and wording.
//!
//! All errors of a body are collected and returned together. Read-only fields (`id`,
//! `company_id`, `created_at`, `updated_at`) and unknown keys are ignored, so a client can never
//! choose the company of a row.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, DurationRound, NaiveDate, TimeDelta, Utc};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::messages::NUL_NOT_ALLOWED;
use crate::messages::{
    DATE_FORMAT, INTEGER_REQUIRED, INVALID_EMAIL, INVALID_UUID, NOT_A_STRING, NOT_BLANK, NOT_NULL, REQUIRED,
};
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

/// API.md: "Dates and times are limited to years 1-9999", what DRF's `DateField` (Python's
/// `date`) holds, what PostgreSQL's `date` and `timestamptz` hold for every value, and what
/// SQLite's fixed-width text keeps in time order.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// The current instant at the precision both backends store (microseconds).
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}

/// `start + ttl`, but never past the last instant of year 9999 (API.md's limit of every stored
/// time: SQLite's text would no longer sort, and could not be read back). For the expiries of
/// tokens and invitations, whose lifetimes are configured.
pub fn expiry_after(start: DateTime<Utc>, ttl: std::time::Duration) -> DateTime<Utc> {
    let last = NaiveDate::from_ymd_opt(*YEARS.end(), 12, 31)
        .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    TimeDelta::from_std(ttl).ok().and_then(|ttl| start.checked_add_signed(ttl)).map_or(last, |end| end.min(last))
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

/// Parses a string form (a JSON string or a query parameter) of a UUID, date, timestamp,
/// number, boolean or choice.
pub fn value_from_str(ty: FieldType, s: &str) -> Result<Value, String> {
    let s = s.trim();
    if s.contains('\0') {
        return Err(NUL_NOT_ALLOWED.into());
    }
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
        FieldType::I32 | FieldType::I64 => {
            let n = integral(ty, s.parse::<i64>().map_err(|_| s.parse::<f64>().ok()))?;
            if ty == FieldType::I32 { Value::I32(Some(n as i32)) } else { Value::I64(Some(n)) }
        }
        FieldType::F64 => {
            Value::F64(Some(s.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or("A valid number is required.")?))
        }
        FieldType::Uuid => Value::Uuid(Some(Uuid::parse_str(s).map_err(|_| INVALID_UUID)?)),
        FieldType::Date => {
            // Exactly `YYYY-MM-DD`: chrono's `%Y` also takes signs and five-digit years.
            let shaped = s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
            let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().filter(|_| shaped).ok_or(DATE_FORMAT)?;
            if !YEARS.contains(&date.year()) {
                return Err("Ensure this date is between 0001-01-01 and 9999-12-31.".into());
            }
            Value::Date(Some(date))
        }
        FieldType::Timestamp => {
            let t = DateTime::parse_from_rfc3339(s)
                .map_err(|_| "Datetime has wrong format. Use RFC 3339, e.g. 2026-01-31T12:00:00Z.")?
                .with_timezone(&Utc);
            // Checked in UTC, the form it is stored in: `0001-01-01T00:30:00+01:00` is year 0.
            if !YEARS.contains(&t.year()) {
                return Err(
                    "Ensure this date-time is between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.".into()
                );
            }
            Value::Timestamp(Some(t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)))
        }
    })
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

/// An integer field's value, from an `i64` or, failing that, the number as a float (`None`: not
/// a number at all). As DRF's `IntegerField`: integral floats are integers (`10.0`, `1e3`; JSON
/// Schema agrees), fractional ones are refused, and so is anything outside the column's range.
fn integral(ty: FieldType, n: Result<i64, Option<f64>>) -> Result<i64, String> {
    let (min, max) = if ty == FieldType::I32 { (i32::MIN as i64, i32::MAX as i64) } else { (i64::MIN, i64::MAX) };
    let n = match n {
        Ok(n) => n,
        Err(Some(f)) if f.is_finite() && f.fract() == 0.0 => {
            // `i64::MAX as f64` rounds up to 2^63, itself out of range: compare with `>=`.
            if f >= max as f64 && max == i64::MAX || f > max as f64 {
                return Err(format!("Ensure this value is less than or equal to {max}."));
            }
            if f < min as f64 {
                return Err(format!("Ensure this value is greater than or equal to {min}."));
            }
            f as i64
        }
        Err(_) => return Err(INTEGER_REQUIRED.into()),
    };
    if n > max {
        return Err(format!("Ensure this value is less than or equal to {max}."));
    }
    if n < min {
        return Err(format!("Ensure this value is greater than or equal to {min}."));
    }
    Ok(n)
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

/// An address as mail can be sent to it, whole: a local part that is a dot-atom (RFC 5322's
/// `atext` characters and dots, no leading, trailing or doubled dot; non-ASCII letters allowed,
/// as RFC 6531 does), at most 64 bytes, then `@` and a domain of at least two labels that
/// IDNA (UTS 46, STD3 rules, via the `idna` crate) accepts; at most 254 bytes in all. So no
/// quoted local parts, comments or `Name <address>` forms: what is stored is where the mail goes.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    s.len() <= 254 && is_dot_atom(local) && email_domain_ascii(domain).is_some()
}

/// RFC 5322 `atext` outside letters and digits.
const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

fn is_dot_atom(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || ATEXT_SPECIALS.contains(c)
                        || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
                })
        })
}

/// The ASCII (A-label) form of a mail domain, if it is one: IDNA with STD3 rules, at least two
/// labels, each 1-63 characters not starting or ending with `-`, 253 in all.
pub fn email_domain_ascii(domain: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii_cow(domain.as_bytes(), idna::AsciiDenyList::STD3).ok()?.into_owned();
    let labels: Vec<&str> = ascii.split('.').collect();
    let ok = ascii.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'));
    ok.then_some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_stop_at_year_9999() {
        let start = now();
        let day = std::time::Duration::from_secs(86_400);
        assert_eq!(expiry_after(start, day), start + TimeDelta::days(1));
        for huge in [std::time::Duration::from_secs(u64::MAX), std::time::Duration::from_secs(400 * 365 * 86_400 * 100)]
        {
            let end = expiry_after(start, huge);
            assert_eq!(end.year(), 9999, "{end}");
            assert_eq!((end.month(), end.day()), (12, 31));
        }
    }
    use crate::resource::{Permissions, ResourceSql};
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
    fn dates_and_times_stay_within_years_1_to_9999() {
        for bad in
            ["+10000-01-01", "10000-01-01", "-0001-01-01", "0000-01-01", "+2026-01-01", "2026-1-01", "2026-02-30"]
        {
            assert!(value_from_str(FieldType::Date, bad).is_err(), "{bad}");
        }
        for good in ["0001-01-01", "9999-12-31", " 2024-02-29 "] {
            assert!(value_from_str(FieldType::Date, good).is_ok(), "{good}");
        }
        for bad in
            ["0000-06-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "2026-01-01T00:00:00Z\0"]
        {
            assert!(value_from_str(FieldType::Timestamp, bad).is_err(), "{bad}");
        }
        for good in ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "0001-01-01T00:30:00-01:00"] {
            assert!(value_from_str(FieldType::Timestamp, good).is_ok(), "{good}");
        }
    }

    #[test]
    fn integers_accept_integral_numbers_within_the_column() {
        let field = |ty| Field::new("n", ty, false);
        let int = |ty, raw: &str| field_from_json(&field(ty), &serde_json::from_str(raw).unwrap());
        for (raw, n) in [("10", 10), ("10.0", 10), ("1e3", 1000), ("-0.0", 0), ("-9223372036854775808", i64::MIN)] {
            assert_eq!(int(FieldType::I64, raw), Ok(Value::I64(Some(n))), "{raw}");
        }
        for raw in ["10.5", "1e-3", "9223372036854775808", "9223372036854775807.0", "1e19", "-1e19", "\"1\"", "true"] {
            assert!(int(FieldType::I64, raw).is_err(), "{raw}");
        }
        assert_eq!(int(FieldType::I32, "2147483647.0"), Ok(Value::I32(Some(i32::MAX))));
        assert_eq!(
            int(FieldType::I32, "2147483648"),
            Err("Ensure this value is less than or equal to 2147483647.".to_string())
        );
        assert!(int(FieldType::I32, "-2147483649.0").is_err());
        // Query parameters (filters) read integers the same way.
        assert_eq!(value_from_str(FieldType::I64, "1e2"), Ok(Value::I64(Some(100))));
        for bad in ["1.5", "NaN", "inf", "x", "99999999999999999999"] {
            assert!(value_from_str(FieldType::I64, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_never_holds_nul() {
        let body = obj(json!({"name": "a\u{0}b", "price": 1}));
        let errors = validate_body(&DESC, &body, Mode::Create, None).unwrap_err();
        assert_eq!(errors["name"], vec![NUL_NOT_ALLOWED]);
        assert_eq!(value_from_str(FieldType::Text, "a\0"), Err(NUL_NOT_ALLOWED.to_string()));
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'neil@x.io",
            "jos\u{e9}@caf\u{e9}.example",
            "a@xn--caf-dma.fr",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.co",
            "a@.co",
            "a b@c.co",
            "a@b..co",
            "a@b.co.",
            ".a@b.co",
            "a.@b.co",
            "a..b@c.co",
            // Not a bare address: what a mailer would read as a display name, a quoted or
            // commented local part, a list.
            "ceo<attacker@example.com>",
            "x<a@b.co>",
            "\"a b\"@c.co",
            "a(c)@b.co",
            "a,b@c.co",
            "a@b.co,c@d.co",
            "a\\b@c.co",
            "a[1]@b.co",
            "a;b@c.co",
            "a:b@c.co",
            // Domains IDNA refuses.
            "a@-b.co",
            "a@b-.co",
            "a@b_c.co",
            "a@b.co/x",
            "a@b!.co",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
