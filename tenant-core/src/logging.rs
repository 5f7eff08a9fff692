//! The default log subscriber of an app (issue 14): what `RUST_LOG` and `LOG_FORMAT` say, so a new
//! app logs its refused and failed requests, with whose they were (`request_trace.rs`), without
//! code of its own.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::setting::ConfigError;

/// The filter when `RUST_LOG` is unset: the app's and the framework's `INFO` (refused and
/// failed requests, start-up and shutdown; a line per request is `DEBUG`, see
/// `request_trace.rs`), sqlx's warnings only (it logs every statement at `INFO`).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// How log lines are written: `LOG_FORMAT=human` (the default, for a terminal) or `json` (one
/// JSON object per line, with the request span's fields, what log collectors ingest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `tracing_subscriber`'s full format: time, level, span fields, message, event fields.
    Human,
    /// One JSON object per line: `timestamp`, `level`, `target`, the event's fields at the top
    /// level, `span` (the request span's fields) and `spans`.
    Json,
}

impl LogFormat {
    /// `LOG_FORMAT` as read by `get` (unset: human).
    ///
    /// # Errors
    ///
    /// A value other than `human` or `json` (any case).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LogFormat, ConfigError> {
        match get("LOG_FORMAT").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "human") => Ok(LogFormat::Human),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => {
                Err(ConfigError { name: "LOG_FORMAT", message: format!("{other:?}: expected `human` or `json`") })
            }
        }
    }
}

/// Installs the process's log subscriber from `RUST_LOG` (default [`DEFAULT_FILTER`]) and
/// `LOG_FORMAT`, writing to standard error (standard output is the management commands' output:
/// `openapi > openapi.json`). Does nothing when a subscriber is installed already
/// (an app's own, a test's).
///
/// # Errors
///
/// A bad `LOG_FORMAT`.
pub fn init() -> Result<(), ConfigError> {
    let format = LogFormat::from_lookup(|name| std::env::var(name).ok())?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // Colours only on a terminal: escape codes in a file or a collector's pipe are noise, and
    // writing them costs more than the rest of the line (bench/RESULTS.md).
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(true).try_init(),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_reads_human_or_json() {
        let read = |v: Option<&str>| LogFormat::from_lookup(|_| v.map(str::to_string));
        assert_eq!(read(None).unwrap(), LogFormat::Human);
        assert_eq!(read(Some("JSON")).unwrap(), LogFormat::Json);
        assert_eq!(read(Some(" human ")).unwrap(), LogFormat::Human);
        assert!(read(Some("xml")).unwrap_err().to_string().contains("LOG_FORMAT"));
    }
}
