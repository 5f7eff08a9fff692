//! Progress of long management work (an app's `seed` over many rows): rows done of the total,
//! rows per second and the time elapsed, on stderr, so that stdout stays the command's result.
//!
//! On a terminal it is an [`indicatif`] bar, redrawn at most a few times a second. Otherwise
//! (a pipe, a log file, CI) it is plain lines, at most one a second and one at the end:
//!
//! ```text
//! seeded 40000/100000 rows (12500 rows/s, 3.2 s)
//! ```
//!
//! ```no_run
//! let progress = tenant_core::progress::Progress::new("seeded", 100_000);
//! for batch in 0..100 {
//!     // … write 1000 rows …
//!     progress.add(1000);
//! }
//! progress.finish();
//! ```

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often a plain progress line is written at most.
pub const LINE_INTERVAL: Duration = Duration::from_secs(1);

/// How often the bar is redrawn at most, in times per second.
const BAR_REFRESH_PER_SEC: u8 = 4;

/// A count of rows towards a known total, reported on stderr while it grows (see the module
/// docs). Cheap to update from a loop: [`Progress::add`] writes only when a line is due.
#[derive(Debug)]
pub struct Progress {
    verb: String,
    total: u64,
    started: Instant,
    output: Output,
}

#[derive(Debug)]
enum Output {
    Bar(ProgressBar),
    Lines(Mutex<Lines>),
}

#[derive(Debug)]
struct Lines {
    done: u64,
    last: Instant,
}

impl Progress {
    /// A report of `total` rows, each line starting with `verb` (`seeded`): a bar when stderr
    /// is a terminal, plain lines otherwise.
    pub fn new(verb: &str, total: u64) -> Progress {
        Progress::with_bar(verb, total, std::io::stderr().is_terminal())
    }

    /// [`Progress::new`], choosing the bar (`true`) or plain lines (`false`) whatever stderr is.
    pub fn with_bar(verb: &str, total: u64, bar: bool) -> Progress {
        let started = Instant::now();
        let output = if bar {
            let bar =
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(BAR_REFRESH_PER_SEC));
            let template =
                format!("{verb} {{bar:40}} {{pos}}/{{len}} rows ({{rate}}, {{elapsed_precise}}, eta {{eta}})");
            let style = ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} rows/s", state.per_sec());
                });
            bar.set_style(style);
            Output::Bar(bar)
        } else {
            Output::Lines(Mutex::new(Lines { done: 0, last: started }))
        };
        Progress { verb: verb.to_string(), total, started, output }
    }

    /// Counts `rows` more done; writes a line when [`LINE_INTERVAL`] has passed since the last
    /// (plain lines), or lets the bar redraw (at most a few times a second).
    pub fn add(&self, rows: u64) {
        match &self.output {
            Output::Bar(bar) => bar.inc(rows),
            Output::Lines(lines) => {
                let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
                lines.done += rows;
                let now = Instant::now();
                if now.duration_since(lines.last) >= LINE_INTERVAL {
                    lines.last = now;
                    self.write_line(lines.done);
                }
            }
        }
    }

    /// The rows done so far.
    pub fn done(&self) -> u64 {
        match &self.output {
            Output::Bar(bar) => bar.position(),
            Output::Lines(lines) => lines.lock().unwrap_or_else(|e| e.into_inner()).done,
        }
    }

    /// Time since the report began.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Rows per second since the report began (0 before any time has passed).
    pub fn rate(&self) -> f64 {
        rate(self.done(), self.elapsed())
    }

    /// Ends the report: the bar is left drawn at its final count, or the last line is written.
    pub fn finish(&self) {
        match &self.output {
            Output::Bar(bar) => bar.finish(),
            Output::Lines(_) => self.write_line(self.done()),
        }
    }

    fn write_line(&self, done: u64) {
        let line = format_line(&self.verb, done, self.total, self.started.elapsed());
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

fn rate(done: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { done as f64 / secs } else { 0.0 }
}

/// `seeded 40000/100000 rows (12500 rows/s, 3.2 s)`.
fn format_line(verb: &str, done: u64, total: u64, elapsed: Duration) -> String {
    format!("{verb} {done}/{total} rows ({:.0} rows/s, {:.1} s)", rate(done, elapsed), elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_rows_done_of_total_the_rate_and_the_time() {
        assert_eq!(
            format_line("seeded", 40_000, 100_000, Duration::from_millis(3200)),
            "seeded 40000/100000 rows (12500 rows/s, 3.2 s)"
        );
        assert_eq!(format_line("seeded", 0, 10, Duration::ZERO), "seeded 0/10 rows (0 rows/s, 0.0 s)");
    }

    #[test]
    fn lines_count_what_was_added() {
        let progress = Progress::with_bar("seeded", 10, false);
        progress.add(3);
        progress.add(4);
        assert_eq!(progress.done(), 7);
    }
}
