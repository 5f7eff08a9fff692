//! A TCP forwarder whose connections can all be cut at once (a database that becomes
//! unreachable while the app runs), and that counts the round trips made through it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct TcpProxy {
    pub addr: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    listener: JoinHandle<()>,
    /// While set, new connections are closed at once (a server that is down) and
    /// [`TcpProxy::outage`] has dropped the existing ones.
    down: Arc<std::sync::atomic::AtomicBool>,
    /// Round trips so far, over every connection (see [`TcpProxy::round_trips`]).
    turns: Arc<AtomicU64>,
}

impl TcpProxy {
    /// Listens on 127.0.0.1 (a free port) and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a proxy port");
        let addr = listener.local_addr().expect("proxy address");
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let registry = tasks.clone();
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let is_down = down.clone();
        let turns: Arc<AtomicU64> = Arc::default();
        let counter = turns.clone();
        let listener = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if is_down.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let counter = counter.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        forward(&mut inbound, &mut outbound, &counter).await;
                    }
                });
                registry.lock().unwrap().push(task);
            }
        });
        TcpProxy { addr, tasks, listener, down, turns }
    }

    /// Round trips made through the proxy so far, over all its connections: each time a client
    /// speaks after the server has (or for the first time), one more. Several messages a client
    /// sends before reading an answer (a pipeline, or one simple-protocol message holding several
    /// statements) are one round trip; so is a bare protocol `Sync` (the pool's check of a
    /// returned connection), which statement statistics never see.
    pub fn round_trips(&self) -> u64 {
        self.turns.load(Ordering::SeqCst)
    }

    /// The server goes down: every forwarded connection is dropped and new ones are closed at
    /// once, until [`TcpProxy::restore`].
    pub fn outage(&self) {
        self.down.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// The server is back: new connections are forwarded again.
    pub fn restore(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stops listening and drops every forwarded connection.
    pub fn cut(&self) {
        self.listener.abort();
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// Copies both ways until either side closes, counting the client's turns in `turns`.
async fn forward(inbound: &mut TcpStream, outbound: &mut TcpStream, turns: &AtomicU64) {
    let (mut client_read, mut client_write) = inbound.split();
    let (mut server_read, mut server_write) = outbound.split();
    let (mut up, mut down) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let mut client_spoke_last = false;
    loop {
        tokio::select! {
            read = client_read.read(&mut up) => {
                let Ok(n @ 1..) = read else { return };
                if !client_spoke_last {
                    turns.fetch_add(1, Ordering::SeqCst);
                    client_spoke_last = true;
                }
                if server_write.write_all(&up[..n]).await.is_err() {
                    return;
                }
            }
            read = server_read.read(&mut down) => {
                let Ok(n @ 1..) = read else { return };
                client_spoke_last = false;
                if client_write.write_all(&down[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The address a `postgres://user@host:port/db` URL names, and the URL pointed at `to` instead.
pub fn reroute(url: &str, to: SocketAddr) -> (SocketAddr, String) {
    use std::net::ToSocketAddrs;
    let start = url.find('@').map(|i| i + 1).or_else(|| url.find("://").map(|i| i + 3)).expect("a URL");
    let end = url[start..].find(['/', '?']).map(|i| start + i).unwrap_or(url.len());
    let mut host_port = url[start..end].to_string();
    if !host_port.contains(':') {
        host_port.push_str(":5432");
    }
    let upstream = host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or_else(|| panic!("cannot resolve {host_port}"));
    (upstream, format!("{}{}{}", &url[..start], to, &url[end..]))
}
