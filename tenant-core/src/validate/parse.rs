//! A field value from its string form (a JSON string or a query parameter), and the integer
//! rule that JSON numbers share: integral, and within the column's range.

use chrono::{DateTime, Datelike, DurationRound, NaiveDate, TimeDelta, Utc};
use uuid::Uuid;

use super::clock::YEARS;
use crate::messages::{DATE_FORMAT, INTEGER_REQUIRED, INVALID_UUID, NUL_NOT_ALLOWED};
use crate::value::{FieldType, Value};

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

/// An integer field's value, from an `i64` or, failing that, the number as a float (`None`: not
/// a number at all). As DRF's `IntegerField`: integral floats are integers (`10.0`, `1e3`; JSON
/// Schema agrees), fractional ones are refused, and so is anything outside the column's range.
pub(super) fn integral(ty: FieldType, n: Result<i64, Option<f64>>) -> Result<i64, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Field;
    use crate::validate::field_from_json;

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
}
