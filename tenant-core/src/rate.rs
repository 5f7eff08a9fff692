//! Rates of the throttles, written as Django REST Framework writes them (`"20/min"`:
//! `DEFAULT_THROTTLE_RATES`), and the governor quota each one means.

use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use governor::Quota;

/// A throttle rate: `requests` per `period`, written `N/period` with the period one of `s`,
/// `m`, `h`, `d` or a word starting with one (`sec`, `min`, `hour`, `day`), as DRF's
/// `SimpleRateThrottle.parse_rate` reads it (`"20/min".parse::<Rate>()`).
///
/// Enforced as a burst of `requests`, then one more every `period / requests` (governor's
/// generic cell rate algorithm), not as DRF's sliding window of timestamps: the same long-run
/// rate, without a list of timestamps per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (at least 1).
    pub requests: NonZeroU32,
    /// The period: one second, minute, hour or day when parsed, any duration when built.
    pub period: Duration,
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Rate, String> {
        let bad = || format!("{s:?}: expected a rate such as 20/min (requests per s, min, hour or day)");
        let (requests, period) = s.trim().split_once('/').ok_or_else(bad)?;
        let requests = requests.trim().parse::<NonZeroU32>().map_err(|_| bad())?;
        let period = match period.trim().chars().next() {
            Some('s') => Duration::from_secs(1),
            Some('m') => Duration::from_secs(60),
            Some('h') => Duration::from_secs(3600),
            Some('d') => Duration::from_secs(86_400),
            _ => return Err(bad()),
        };
        Ok(Rate { requests, period })
    }
}

impl Rate {
    /// `n/min` (`n` of 0 counts as 1).
    pub const fn per_minute(n: u32) -> Rate {
        Rate::per(n, Duration::from_secs(60))
    }

    /// `n/hour` (`n` of 0 counts as 1).
    pub const fn per_hour(n: u32) -> Rate {
        Rate::per(n, Duration::from_secs(3600))
    }

    const fn per(n: u32, period: Duration) -> Rate {
        let requests = match NonZeroU32::new(n) {
            Some(n) => n,
            None => NonZeroU32::MIN,
        };
        Rate { requests, period }
    }

    pub(crate) fn quota(self) -> Quota {
        let every = (self.period / self.requests.get()).max(Duration::from_nanos(1));
        Quota::with_period(every).unwrap_or_else(|| Quota::per_second(self.requests)).allow_burst(self.requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_drf_writes_them() {
        let rate = |s: &str| s.parse::<Rate>();
        assert_eq!(rate("20/min").unwrap().period, Duration::from_secs(60));
        assert_eq!(rate("5/s").unwrap().requests.get(), 5);
        assert_eq!(rate(" 100 / day ").unwrap().period, Duration::from_secs(86_400));
        assert_eq!(rate("3/hour").unwrap().period, Duration::from_secs(3600));
        for bad in ["", "20", "0/min", "x/min", "20/week", "-1/s"] {
            assert!(rate(bad).is_err(), "{bad}");
        }
    }
}
