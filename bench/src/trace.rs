//! What a server really sends to PostgreSQL for one request, read back from the server's log.
//!
//! Before the servers that take the load start, the runner sets `log_statement = 'all'` for the
//! serving role in the bench database only, starts one instance of each server with a pool of
//! one connection, sends single requests, and reads the new log lines of that role's backends.
//! The list and retrieve traces must equal [`crate::statements::expected_trace`]: that is how the
//! pgbench ceiling and the baseline are kept honest when the framework changes its statements.

use std::io::{Read as _, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use crate::Result;
use crate::http::Response;
use crate::pg::{APP_ROLE, Database};
use crate::procs::Server;

/// One traced request.
#[derive(Debug, Clone)]
pub struct Traced {
    pub system: String,
    pub request: String,
    pub status: u16,
    pub statements: Vec<String>,
}

/// Reads what was appended to the server log since the last call.
pub struct LogTail {
    path: PathBuf,
    offset: u64,
}

impl LogTail {
    pub fn open() -> Result<LogTail> {
        let path = crate::pg::server_log();
        let offset = std::fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
        Ok(LogTail { path, offset })
    }

    fn skip(&mut self) -> Result<()> {
        self.offset = std::fs::metadata(&self.path)?.len();
        Ok(())
    }

    fn read_new(&mut self) -> Result<String> {
        let mut file = std::fs::File::open(&self.path)?;
        file.seek(SeekFrom::Start(self.offset))?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        self.offset += text.len() as u64;
        Ok(text)
    }
}

/// The statements logged by backends `pids`, in order: `statement: X` (simple protocol) and
/// `execute name: X` (extended protocol) lines; parameters and other messages are skipped.
pub fn statements_of(log: &str, pids: &[i32]) -> Vec<String> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some(open) = line.find('[') else { continue };
        let Some(close) = line[open..].find(']').map(|c| open + c) else { continue };
        let Ok(pid) = line[open + 1..close].parse::<i32>() else { continue };
        if !pids.contains(&pid) {
            continue;
        }
        let Some(message) = line[close..].split_once("LOG:  ").map(|(_, m)| m) else { continue };
        let text = if let Some(text) = message.strip_prefix("statement: ") {
            text
        } else if let Some(rest) = message.strip_prefix("execute ") {
            match rest.split_once(": ") {
                Some((_, text)) => text,
                None => continue,
            }
        } else {
            continue;
        };
        out.push(normalize(text));
    }
    out
}

/// Collapses whitespace, so statements compare by content.
pub fn normalize(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Sends one request to `server` and returns its response and the statements it caused.
pub async fn traced(
    server: &Server,
    db: &Database,
    log: &mut LogTail,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> Result<(Response, Traced)> {
    log.skip()?;
    let response = crate::http::request(server.addr, method, path, Some(token), body).await?;
    // The backend logs a statement before running it, so everything is there once the response
    // is; the pause only covers the file system.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let text = log.read_new()?;
    let mut conn = db.owner().await?;
    let pids: Vec<i32> = sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND usename = $2")
        .bind(&db.name)
        .bind(APP_ROLE)
        .fetch_all(&mut conn)
        .await?;
    let traced = Traced {
        system: server.name.clone(),
        request: format!("{method} {}", path_shape(path)),
        status: response.status,
        statements: statements_of(&text, &pids),
    };
    if traced.statements.is_empty() {
        return Err(format!(
            "no statement of {} in {} for {method} {path}: is log_statement settable here?",
            server.name,
            crate::pg::server_log().display()
        )
        .into());
    }
    Ok((response, traced))
}

/// The request as the report shows it: ids replaced by `{id}`, emails by `…`.
fn path_shape(path: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for segment in path.split('/') {
        if uuid::Uuid::parse_str(segment).is_ok() {
            out.push("{id}".to_string());
        } else {
            out.push(segment.to_string());
        }
    }
    let shaped = out.join("/");
    match shaped.split_once("email=") {
        Some((head, _)) => format!("{head}email=…"),
        None => shaped,
    }
}

/// A difference between expected and traced statements, for the error message; `None` if equal.
pub fn diff(expected: &[String], traced: &[String]) -> Option<String> {
    let expected: Vec<String> = expected.iter().map(|s| normalize(s)).collect();
    if expected == traced {
        return None;
    }
    let mut out = String::from("expected (bench/src/statements.rs):\n");
    for s in &expected {
        out.push_str(&format!("    {s}\n"));
    }
    out.push_str("traced (what the server sent):\n");
    for s in traced {
        out.push_str(&format!("    {s}\n"));
    }
    Some(out)
}

/// The JSON of a response with this server's address replaced, so two servers compare equal.
pub fn comparable(response: &Response, server: &Server) -> Result<serde_json::Value> {
    let body = response.body.replace(&server.addr.to_string(), "HOST");
    Ok(serde_json::from_str(&body).map_err(|e| format!("{}: not JSON ({e}): {}", server.name, response.body))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_statements_of_the_given_backends() {
        let log = "2026-11-27 08:00:00.001 UTC [100] LOG:  statement: BEGIN\n\
                   2026-11-27 08:00:00.002 UTC [200] LOG:  statement: SELECT 2\n\
                   2026-11-27 08:00:00.003 UTC [100] LOG:  execute sqlx_s_1: SELECT  a\n\
                   2026-11-27 08:00:00.003 UTC [100] DETAIL:  parameters: $1 = 'x'\n\
                   2026-11-27 08:00:00.004 UTC [100] LOG:  execute <unnamed>: SELECT b: c\n\
                   2026-11-27 08:00:00.005 UTC [100] LOG:  statement: COMMIT\n";
        assert_eq!(statements_of(log, &[100]), vec!["BEGIN", "SELECT a", "SELECT b: c", "COMMIT"]);
        assert!(diff(&["BEGIN".into()], &["BEGIN".into()]).is_none());
        assert!(diff(&["BEGIN".into()], &[]).is_some());
        assert_eq!(path_shape("/api/customers/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), "/api/customers/{id}");
        assert_eq!(path_shape("/api/customers?email=a@b.c"), "/api/customers?email=…");
    }
}
