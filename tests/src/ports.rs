//! Addresses for the servers a test starts as processes or listeners of their own.
//!
//! Not "bind port 0, read the port, drop the socket": that port is an ephemeral one, which any
//! outgoing connection of any test (hundreds a second, in parallel) may be given before the
//! server binds it, and a test polling a port nobody listens on yet can then connect to itself
//! (TCP's simultaneous open on loopback), see the server as up, and fail later with "connection
//! refused" (a CI flake of `console_mail_review`). Ports below the ephemeral range
//! (`/proc/sys/net/ipv4/ip_local_port_range`) are never handed out for connections, and this
//! process never hands out the same one twice.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};

/// The lowest port given out; the highest is below the ephemeral range.
const FIRST: u16 = 10_000;

fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .filter(|start| *start > FIRST + 1_000)
        .unwrap_or(32_768)
}

/// A free `127.0.0.1` address for a server the test starts next, below the ephemeral port range
/// and never the same twice in this process (test binaries run one at a time; the start depends
/// on the process id, in case two run at once).
///
/// # Panics
///
/// When no port of the range can be bound.
pub fn free_local_addr() -> SocketAddr {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let span = ephemeral_start() - FIRST;
    let _ =
        NEXT.compare_exchange(0, 1 + (std::process::id() % u32::from(span)) as u16, Ordering::SeqCst, Ordering::SeqCst);
    for _ in 0..span {
        let port = FIRST + NEXT.fetch_add(1, Ordering::SeqCst) % span;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if std::net::TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
    panic!("no free port between {FIRST} and {}", FIRST + span);
}
