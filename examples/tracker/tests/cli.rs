//! The tracker's management command line (`tenant_core::cli` plus its own `overdue`), as a
//! process on a throwaway SQLite file: `tests/tests/cli.rs` covers every framework subcommand
//! on both backends through the demo.

use std::process::{Command, Output};

const TRACKER: &str = env!("CARGO_BIN_EXE_tracker");

fn run(url: &str, args: &[&str]) -> Output {
    Command::new(TRACKER)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "off")
        .output()
        .expect("the tracker binary runs")
}

fn last_stderr_line(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or_default().to_string()
}

#[test]
fn the_tracker_has_the_framework_commands_and_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("tracker.db").display());

    let help = run(&url, &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8_lossy(&help.stdout);
    for name in ["migrate", "check", "createuser", "overdue"] {
        assert!(help.contains(name), "--help lists {name}: {help}");
    }

    let migrate = run(&url, &["migrate"]);
    assert_eq!(migrate.status.code(), Some(0), "{}", last_stderr_line(&migrate));
    // The plan, then one line per migration: its step of the total and its duration.
    let stdout = String::from_utf8_lossy(&migrate.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0], "Operations to perform: 1 migration(s) to apply");
    let ms = lines[1].strip_prefix("  Applying 0001_initial [1/1]... OK (").and_then(|rest| rest.strip_suffix(" ms)"));
    assert!(ms.is_some_and(|ms| ms.parse::<u64>().is_ok()), "{stdout}");
    let again = run(&url, &["migrate"]);
    assert_eq!(String::from_utf8_lossy(&again.stdout), "No migrations to apply.\n");

    let overdue = run(&url, &["overdue"]);
    assert_eq!(overdue.status.code(), Some(0), "{}", last_stderr_line(&overdue));
    assert_eq!(String::from_utf8_lossy(&overdue.stdout), "", "no company, nothing overdue");

    let check = run(&url, &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", last_stderr_line(&check));

    // No seed: the subcommand is hidden, and says so.
    let seed = run(&url, &["seed"]);
    assert_eq!(seed.status.code(), Some(1));
    assert_eq!(last_stderr_line(&seed), "error: this app has no seed");

    let bogus = run(&url, &["bogus"]);
    assert_eq!(bogus.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&bogus.stderr).trim(),
        "error: unrecognized subcommand 'bogus' (see tracker --help)"
    );
}
