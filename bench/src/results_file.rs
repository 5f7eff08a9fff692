//! `bench/RESULTS.md` as sections: one per kind of run, replaced when that kind runs again and
//! appended otherwise, every other section kept as it is.

use std::fmt::Write as _;
use std::path::Path;

use crate::Result;

const PREAMBLE: &str = "# Benchmark results

Written by `cargo run --release -p bench -- …` (see README.md, \"Benchmark\"): one section per kind
of run, replaced when that kind runs again. PostgreSQL with row-level security on and the app
serving as `tenant_app`, as in production; load from wrk; the hand-written baseline is
`bench/src/bin/baseline.rs`; the ceiling is pgbench running the same statements.

";

const BEGIN: &str = "<!-- bench section: ";
const END: &str = "<!-- end bench section: ";

/// Writes `body` as section `key` of the report at `path`: replaces a section with that key,
/// otherwise appends; other sections are kept as they are.
pub fn write_section(path: &Path, key: &str, body: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut rest = old.as_str();
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(close) = after.find(" -->") else { break };
        let name = after[..close].to_string();
        let end_marker = format!("{END}{name} -->");
        let content_start = close + 4;
        let Some(end) = after[content_start..].find(&end_marker) else { break };
        let content = after[content_start..content_start + end].trim().to_string();
        sections.push((name, content));
        rest = &after[content_start + end + end_marker.len()..];
    }
    match sections.iter_mut().find(|(name, _)| name == key) {
        Some(section) => section.1 = body.trim().to_string(),
        None => sections.push((key.to_string(), body.trim().to_string())),
    }
    let mut out = String::from(PREAMBLE);
    for (name, content) in sections {
        let _ = write!(out, "{BEGIN}{name} -->\n{content}\n{END}{name} -->\n\n");
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, out.trim_end().to_string() + "\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_or_appended() {
        let dir = std::env::temp_dir().join(format!("bench-report-{}", uuid::Uuid::now_v7().simple()));
        let path = dir.join("RESULTS.md");
        write_section(&path, "rows-100000", "## a\nfirst-body").unwrap();
        write_section(&path, "scale", "## b\nscale-body").unwrap();
        write_section(&path, "rows-100000", "## a\nsecond-body").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Benchmark results"));
        assert!(text.contains("second-body") && text.contains("scale-body") && !text.contains("first-body"));
        assert!(text.find("## a").unwrap() < text.find("## b").unwrap());
        assert_eq!(text.matches(BEGIN).count(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
