//! The instants the crate stores: API.md's years 1-9999, the current time at the precision both
//! backends keep, and expiries that never pass the last of those years.

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};

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

#[cfg(test)]
mod tests {
    use chrono::Datelike;

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
}
