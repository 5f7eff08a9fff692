//! A hand-written HTTP/1.1 client over one TCP connection, for tests that must see what the
//! server does with a connection (keep-alive after early answers): the in-process `oneshot`
//! requests of the other tests have no connection.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one exchange may take before it counts as a failure (a hung connection).
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(20);

/// One response as read off the wire.
#[derive(Debug)]
pub struct WireResponse {
    pub status: u16,
    /// Statuses of the interim (1xx) responses that came before it.
    pub interim: Vec<u16>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WireResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn says_close(&self) -> bool {
        self.header("connection").is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }
}

/// How a request body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    ContentLength,
    /// `Transfer-Encoding: chunked`, in chunks of 16 KiB.
    Chunked,
    /// `Content-Length` and `Expect: 100-continue`; the body is sent only after a `100 Continue`.
    ExpectContinue,
}

/// A hand-written HTTP/1.1 client over one TCP connection.
pub struct Client {
    pub addr: SocketAddr,
    pub stream: TcpStream,
    /// Bytes read past the end of the last response.
    pub buf: Vec<u8>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect to the test server");
        Client { addr, stream, buf: Vec::new() }
    }

    pub async fn reconnect(&mut self) {
        *self = Client::connect(self.addr).await;
    }

    /// Sends one request and reads its response. The body is written while the response is read,
    /// as a real client does, so a server that answers without reading cannot deadlock the test.
    /// `Ok((response, write_result))`; `Err` when no complete response came.
    pub async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
        framing: Framing,
    ) -> Result<(WireResponse, std::io::Result<()>), String> {
        // A host the app allows (`ALLOWED_HOSTS`' development default), unless the caller names one.
        let host =
            if headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) { "" } else { "host: 127.0.0.1\r\n" };
        let mut head = format!("{method} {path} HTTP/1.1\r\n{host}");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        match framing {
            Framing::ContentLength => head.push_str(&format!("content-length: {}\r\n", body.len())),
            Framing::Chunked => head.push_str("transfer-encoding: chunked\r\n"),
            Framing::ExpectContinue => {
                head.push_str(&format!("content-length: {}\r\nexpect: 100-continue\r\n", body.len()))
            }
        }
        head.push_str("\r\n");
        let mut wire = head.into_bytes();
        match framing {
            Framing::ContentLength => wire.extend_from_slice(body),
            Framing::Chunked => {
                for chunk in body.chunks(16 * 1024) {
                    wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    wire.extend_from_slice(chunk);
                    wire.extend_from_slice(b"\r\n");
                }
                wire.extend_from_slice(b"0\r\n\r\n");
            }
            // The body would follow a 100 Continue; the early answer comes first (see the test).
            Framing::ExpectContinue => {}
        }

        let (mut reader, mut writer) = self.stream.split();
        let write = async {
            writer.write_all(&wire).await?;
            writer.flush().await
        };
        let read = read_response(&mut reader, &mut self.buf);
        let exchange = async {
            let (written, response) = tokio::join!(write, read);
            response.map(|r| (r, written))
        };
        match tokio::time::timeout(EXCHANGE_TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!("no response within {EXCHANGE_TIMEOUT:?}")),
        }
    }
}

/// Reads one final response (skipping interim 1xx ones) from `reader`, `buf` holding what was
/// already read. Fails the way a keep-alive client does when the server closed the connection.
pub async fn read_response(
    reader: &mut (impl AsyncReadExt + Unpin),
    buf: &mut Vec<u8>,
) -> Result<WireResponse, String> {
    let mut interim = Vec::new();
    loop {
        let head_end = read_until(reader, buf, b"\r\n\r\n").await?;
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        if (100..200).contains(&status) {
            interim.push(status);
            continue;
        }
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let body = if let Some(len) = header("content-length") {
            let len: usize = len.parse().map_err(|_| format!("bad content-length {len:?}"))?;
            while buf.len() < len {
                fill(reader, buf).await?;
            }
            buf.drain(..len).collect()
        } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            read_chunked(reader, buf).await?
        } else {
            Vec::new()
        };
        return Ok(WireResponse { status, interim, headers, body });
    }
}

/// Reads until `buf` holds `delimiter`; returns where it starts.
pub async fn read_until(
    reader: &mut (impl AsyncReadExt + Unpin),
    buf: &mut Vec<u8>,
    delimiter: &[u8],
) -> Result<usize, String> {
    loop {
        if let Some(i) = buf.windows(delimiter.len()).position(|w| w == delimiter) {
            return Ok(i);
        }
        fill(reader, buf).await?;
    }
}

pub async fn read_chunked(reader: &mut (impl AsyncReadExt + Unpin), buf: &mut Vec<u8>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = read_until(reader, buf, b"\r\n").await?;
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        buf.drain(..line_end + 2);
        while buf.len() < size + 2 {
            fill(reader, buf).await?;
        }
        body.extend(buf.drain(..size));
        buf.drain(..2);
        if size == 0 {
            return Ok(body);
        }
    }
}

/// Reads more bytes into `buf`; the end of the stream before a complete response is a failure.
pub async fn fill(reader: &mut (impl AsyncReadExt + Unpin), buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 16 * 1024];
    match reader.read(&mut chunk).await {
        Ok(0) => Err("server disconnected without sending a response".to_string()),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
        Err(e) => Err(format!("reading the response: {e}")),
    }
}

/// A request whose body the test sends slowly, over a connection of its own: the head goes with
/// `Expect: 100-continue`, and [`SlowUpload::start`] returns once the server answered `100
/// Continue`, that is once a handler (or `body_first.rs`) is reading this request's body. The
/// request is then surely in flight: accepted, its head parsed and routed.
pub struct SlowUpload {
    stream: TcpStream,
    buf: Vec<u8>,
    body: Vec<u8>,
    sent: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SlowUpload {
    /// Connects to `addr` and sends the head of `method path` with `headers` (a `Host` the app
    /// allows is added), `Content-Length` of `body` and `Expect: 100-continue`; waits for the
    /// `100 Continue`. `Err` when another answer (or none) comes instead.
    pub async fn start(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<SlowUpload, String> {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\nexpect: 100-continue\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).await.map_err(|e| format!("sending the head: {e}"))?;
        let mut buf = Vec::new();
        let interim = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
            let end = read_until(&mut stream, &mut buf, b"\r\n\r\n").await?;
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            Ok::<_, String>(head)
        })
        .await
        .map_err(|_| format!("no 100 Continue within {EXCHANGE_TIMEOUT:?}"))??;
        if !interim.starts_with("HTTP/1.1 100") {
            return Err(format!("expected 100 Continue, got {interim:?}"));
        }
        Ok(SlowUpload { stream, buf, body, sent: Default::default() })
    }

    /// The length of the body.
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// How many bytes of the body have been sent so far (readable while [`SlowUpload::finish`]
    /// runs in another task).
    pub fn progress(&self) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
        self.sent.clone()
    }

    /// Sends the next `n` bytes of the body at once.
    pub async fn send(&mut self, n: usize) -> std::io::Result<()> {
        let from = self.sent.load(std::sync::atomic::Ordering::SeqCst);
        let to = (from + n).min(self.body.len());
        self.stream.write_all(&self.body[from..to]).await?;
        self.sent.store(to, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Sends the rest of the body in `chunks` parts, each `every` after the last, awaiting
    /// `before_last` before the last part, while reading the response. Returns the response
    /// and how many body bytes had been sent when it came (sending stops then: a server that
    /// answers early closes the connection).
    pub async fn finish(
        mut self,
        chunks: usize,
        every: Duration,
        before_last: impl std::future::Future<Output = ()>,
    ) -> (Result<WireResponse, String>, usize) {
        use std::sync::atomic::Ordering;
        let sent = self.sent.clone();
        let start = sent.load(Ordering::SeqCst);
        let rest = self.body.len() - start;
        let body = std::mem::take(&mut self.body);
        let (mut reader, mut writer) = self.stream.split();
        let write = async {
            let mut before_last = std::pin::pin!(before_last);
            let chunks = chunks.max(1);
            for i in 0..chunks {
                if i + 1 == chunks {
                    before_last.as_mut().await;
                }
                tokio::time::sleep(every).await;
                let to = if i + 1 == chunks { body.len() } else { start + rest * (i + 1) / chunks };
                let from = sent.load(Ordering::SeqCst);
                if writer.write_all(&body[from..to]).await.is_err() {
                    return;
                }
                sent.store(to, Ordering::SeqCst);
            }
        };
        let read = read_response(&mut reader, &mut self.buf);
        let mut read = std::pin::pin!(read);
        let response = tokio::select! {
            response = &mut read => response,
            () = write => match tokio::time::timeout(EXCHANGE_TIMEOUT, &mut read).await {
                Ok(response) => response,
                Err(_) => Err(format!("no response within {EXCHANGE_TIMEOUT:?} of the body's end")),
            },
        };
        (response, self.sent.load(Ordering::SeqCst))
    }

    /// Waits for the server to end the connection without (further) answer; `Ok(bytes)` with
    /// what it sent before closing, `Err` if it is still open after `limit`.
    pub async fn closed_within(mut self, limit: Duration) -> Result<Vec<u8>, String> {
        let mut received = std::mem::take(&mut self.buf);
        match tokio::time::timeout(limit, self.stream.read_to_end(&mut received)).await {
            Ok(_) => Ok(received),
            Err(_) => Err(format!("the connection is still open after {limit:?}")),
        }
    }
}
