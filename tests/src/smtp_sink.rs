//! A small SMTP server for tests: it accepts every message and records it.
//!
//! ```ignore
//! let sink = SmtpSink::start().await;
//! // … send through EMAIL_HOST=127.0.0.1, EMAIL_PORT=sink.port() …
//! let messages = sink.messages();
//! assert_eq!(messages[0].rcpt_to, ["ann@example.com"]);
//! ```
//!
//! It listens on `127.0.0.1:0` and speaks just enough of RFC 5321: the 220 greeting, `EHLO`
//! (advertising `AUTH PLAIN LOGIN`, any credentials accepted) or `HELO`, `AUTH PLAIN|LOGIN`,
//! `MAIL FROM`, `RCPT TO`, `DATA` (dot-unstuffed, until `<CRLF>.<CRLF>`), `RSET`, `NOOP`, `QUIT`.
//! No TLS. A message is recorded before its `250` is sent, so once the client's send has
//! returned, [`SmtpSink::messages`] holds it. Dropping the sink stops it and its connections.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// One message the sink accepted: its envelope, the credentials it came with, and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The argument of the last `EHLO` or `HELO`.
    pub helo: String,
    /// The user of a successful `AUTH` on the connection, decoded.
    pub auth_user: Option<String>,
    /// Its password, decoded.
    pub auth_password: Option<String>,
    /// The reverse path of `MAIL FROM:<…>`, without the angle brackets.
    pub mail_from: String,
    /// The forward paths of each `RCPT TO:<…>`.
    pub rcpt_to: Vec<String>,
    /// The message as sent after `DATA`, dot-unstuffed, lines ending in CRLF, without the final
    /// `.` line.
    pub data: String,
}

impl ReceivedMessage {
    /// The lines of [`ReceivedMessage::data`], without their line ends.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.data.split("\r\n")
    }

    /// The value of the first header named `name` (case-insensitive), unfolded no further.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.lines().take_while(|l| !l.is_empty()).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A running sink; see the module documentation.
pub struct SmtpSink {
    addr: SocketAddr,
    messages: Arc<Mutex<Vec<ReceivedMessage>>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on a free port of 127.0.0.1 and serves every connection until dropped.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("the SMTP sink's address");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let recorded = messages.clone();
        let task = tokio::spawn(async move {
            // Connections live in the set, so that aborting this task ends them too.
            let mut sessions = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            sessions.spawn(session(stream, recorded.clone()));
                        }
                        Err(e) => eprintln!("smtp sink: accept failed: {e}"),
                    },
                    Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                }
            }
        });
        SmtpSink { addr, messages, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.messages.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What one connection has said so far.
#[derive(Default)]
struct State {
    helo: String,
    auth_user: Option<String>,
    auth_password: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

impl State {
    fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }
}

async fn session(stream: TcpStream, messages: Arc<Mutex<Vec<ReceivedMessage>>>) {
    if let Err(e) = converse(stream, messages).await {
        eprintln!("smtp sink: connection ended: {e}");
    }
}

async fn converse(stream: TcpStream, messages: Arc<Mutex<Vec<ReceivedMessage>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut state = State::default();
    write.write_all(b"220 smtp-sink ESMTP ready\r\n").await?;
    loop {
        let Some(line) = read_line(&mut reader).await? else { return Ok(()) };
        let (verb, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let arg = arg.trim();
        let reply: String = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                state.helo = arg.to_string();
                state.reset_transaction();
                "250-smtp-sink\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN".into()
            }
            "HELO" => {
                state.helo = arg.to_string();
                state.reset_transaction();
                "250 smtp-sink".into()
            }
            "AUTH" => {
                let mut words = arg.split_whitespace();
                let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
                let initial = words.next().map(str::to_string);
                let credentials = match mechanism.as_str() {
                    "PLAIN" => {
                        let response = match initial {
                            Some(r) => Some(r),
                            None => challenge(&mut reader, &mut write, "").await?,
                        };
                        response.as_deref().and_then(decode_plain)
                    }
                    "LOGIN" => {
                        let user = match initial {
                            Some(r) => Some(r),
                            None => challenge(&mut reader, &mut write, "VXNlcm5hbWU6").await?,
                        };
                        let password = challenge(&mut reader, &mut write, "UGFzc3dvcmQ6").await?;
                        user.as_deref().and_then(decode_text).zip(password.as_deref().and_then(decode_text))
                    }
                    _ => None,
                };
                match credentials {
                    Some((user, password)) => {
                        state.auth_user = Some(user);
                        state.auth_password = Some(password);
                        "235 2.7.0 Authentication successful".into()
                    }
                    None => "501 5.5.2 Cannot decode the credentials".into(),
                }
            }
            "MAIL" => match path_after(arg, "FROM:") {
                Some(from) => {
                    state.reset_transaction();
                    state.mail_from = Some(from);
                    "250 2.1.0 OK".into()
                }
                None => "501 5.5.4 Syntax: MAIL FROM:<address>".into(),
            },
            "RCPT" => match path_after(arg, "TO:") {
                Some(_) if state.mail_from.is_none() => "503 5.5.1 MAIL first".into(),
                Some(to) => {
                    state.rcpt_to.push(to);
                    "250 2.1.5 OK".into()
                }
                None => "501 5.5.4 Syntax: RCPT TO:<address>".into(),
            },
            "DATA" if state.rcpt_to.is_empty() => "503 5.5.1 RCPT first".into(),
            "DATA" => {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = String::new();
                loop {
                    let Some(line) = read_line(&mut reader).await? else { return Ok(()) };
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push_str("\r\n");
                }
                messages.lock().unwrap().push(ReceivedMessage {
                    helo: state.helo.clone(),
                    auth_user: state.auth_user.clone(),
                    auth_password: state.auth_password.clone(),
                    mail_from: state.mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut state.rcpt_to),
                    data,
                });
                "250 2.0.0 OK queued".into()
            }
            "RSET" => {
                state.reset_transaction();
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not recognised".into(),
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// One line without its line end; `None` at the end of the stream.
async fn read_line(reader: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if reader.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Sends a `334` challenge and reads the client's answer.
async fn challenge(
    reader: &mut BufReader<OwnedReadHalf>,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    text: &str,
) -> std::io::Result<Option<String>> {
    write.write_all(format!("334 {text}\r\n").as_bytes()).await?;
    read_line(reader).await
}

/// `<path>` after `prefix` (case-insensitive), ignoring parameters such as `BODY=8BITMIME`.
fn path_after(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some(rest[..end].to_string())
}

/// AUTH PLAIN's response: base64 of `authzid NUL user NUL password`.
fn decode_plain(response: &str) -> Option<(String, String)> {
    let text = decode_text(response)?;
    let mut parts = text.split('\0');
    let (_authzid, user, password) = (parts.next()?, parts.next()?, parts.next()?);
    Some((user.to_string(), password.to_string()))
}

fn decode_text(b64: &str) -> Option<String> {
    String::from_utf8(base64_decode(b64)?).ok()
}

/// Standard base64 (padding optional).
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim().bytes().take_while(|c| *c != b'=') {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_credentials_and_paths() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGk").unwrap(), b"hi");
        assert_eq!(decode_plain("AGFubgBzM2NyZXQ="), Some(("ann".into(), "s3cret".into())));
        assert_eq!(path_after("from:<a@b.c> BODY=8BITMIME", "FROM:"), Some("a@b.c".into()));
        assert_eq!(path_after("TO: <x@y.z>", "TO:"), Some("x@y.z".into()));
        assert_eq!(path_after("TO:x@y.z", "TO:"), None);
    }
}
