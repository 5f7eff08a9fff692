//! Serving an app: HTTP/1.1 over TCP with hyper's connection builder and hyper-util's graceful
//! shutdown (what `axum::serve` is made of), plus what production needs and `axum::serve` lacks.
//!
//! - Each request carries the client's address (`ConnectInfo<SocketAddr>`), which the
//!   credential endpoints' throttles count by (`client_address.rs`).
//! - A client must send a request's line and headers within `HEADER_READ_TIMEOUT_SECS` (hyper's
//!   `header_read_timeout`, on tokio's timer), or the connection is closed without an answer; the
//!   same clock closes a keep-alive connection left idle that long. The body is bounded by
//!   `BODY_READ_TIMEOUT_SECS` (`body_timeout.rs`, 408), a write as a whole by
//!   `REQUEST_TIMEOUT_SECS` (`body_first.rs`, 503).
//! - On SIGTERM or Ctrl-C (or an app's own signal, [`Server::with_shutdown`]) the listener is
//!   closed at once, so new connections are refused; each open connection finishes the request
//!   it is serving and closes (an idle keep-alive connection closes now); after
//!   `SHUTDOWN_TIMEOUT_SECS` the connections still open are dropped, which abandons their
//!   requests (an open transaction rolls back). Then the database pool is closed and
//!   [`Server::run`] returns `Ok`, so `main` exits 0. Each phase is logged (`tracing`, target
//!   `tenant_core::serve`).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::app::{App, StartupError};
use crate::state::AppState;

/// How long closing the database pool may take once the connections are gone: a connection
/// still checked out (by a task a handler spawned) is not waited for longer.
const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The pause after a failed `accept` that is not one connection's failure (out of file
/// descriptors, say): accepting again at once would spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Serves `app` on `listener` until SIGTERM or Ctrl-C, then shuts down gracefully (see
/// [`Server`]): the whole of an app's `serve` command.
///
/// ```no_run
/// # async fn example(app: tenant_core::App) -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind(app.state().config().bind_addr).await?;
/// tenant_core::serve(app, listener).await?; // returns once shut down
/// # Ok(()) }
/// ```
///
/// It builds the router first ([`App::into_router`], which refuses to serve past row-level
/// security or with a schema that differs from the models), then logs `listening on
/// http://…` (`tracing`, level info).
///
/// # Errors
///
/// [`ServeError::Startup`] when [`App::into_router`] refuses; [`ServeError::Io`] when the
/// signal handlers cannot be installed.
pub async fn serve(app: App, listener: TcpListener) -> Result<(), ServeError> {
    let server = Server::from_app(app).await?;
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("listening on http://{addr}");
    }
    server.run(listener).await
}

/// An app's router ready to serve, with the state it was built with (for the settings and the
/// pool to close): [`Server::from_app`], or [`Server::new`] for a router an app extended.
///
/// [`Server::run`] serves HTTP/1.1 with these settings of the app's [`Config`](crate::Config):
/// [`header_read_timeout`](crate::Config::header_read_timeout) (`HEADER_READ_TIMEOUT_SECS`) and
/// [`shutdown_timeout`](crate::Config::shutdown_timeout) (`SHUTDOWN_TIMEOUT_SECS`); the router
/// itself applies the body and request timeouts.
pub struct Server {
    router: Router,
    state: AppState,
    shutdown: Option<Signal>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("own_shutdown_signal", &self.shutdown.is_some()).finish_non_exhaustive()
    }
}

impl Server {
    /// The app's router ([`App::into_router`], with its start-up checks) and state.
    ///
    /// # Errors
    ///
    /// What [`App::into_router`] refuses.
    pub async fn from_app(app: App) -> Result<Server, StartupError> {
        let state = app.state().clone();
        Ok(Server::new(app.into_router().await?, state))
    }

    /// `router`, built by [`App::into_router`] (possibly merged with routes of the app's own),
    /// and the state it was built with ([`App::state`], taken before `into_router`).
    pub fn new(router: Router, state: AppState) -> Server {
        Server { router, state, shutdown: None }
    }

    /// What `serve` says once `listener` is bound, for the operator: `{name} listening on
    /// http://{addr}`, then the backend, the serving role (PostgreSQL), whether row-level
    /// security is on and the docs URL when the page is served, one fact a line
    /// ([`StartupReport::lines`](crate::StartupReport::lines)), as the start-up checks of
    /// [`Server::from_app`] found them. Printed on stdout and logged at INFO, one event with the
    /// facts as fields. A server whose state never went through those checks
    /// ([`Server::new`] with a router built otherwise) prints the first line only. Give it
    /// [`shutdown_signal`] first ([`Server::with_shutdown`]) so that a SIGTERM sent as soon as
    /// these lines appear already shuts it down gracefully ([`Server::run`] installs the
    /// handlers only when it starts).
    pub fn announce(&self, name: &str, addr: std::net::SocketAddr) {
        let lines = match self.state.startup_report() {
            Some(report) => {
                tracing::info!(
                    url = %format!("http://{addr}"),
                    backend = %report.backend,
                    serving_role = report.serving_role.as_deref().unwrap_or("-"),
                    row_level_security = %report.row_level_security,
                    docs_page = report.docs_page,
                    "{name} listening on http://{addr}"
                );
                report.lines(name, addr)
            }
            None => {
                tracing::info!(url = %format!("http://{addr}"), "{name} listening on http://{addr}");
                vec![format!("{name} listening on http://{addr}")]
            }
        };
        let mut text = lines.join("\n");
        text.push('\n');
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (a supervisor that discards it) must not stop the server.
        let _ =
            std::io::Write::write_all(&mut stdout, text.as_bytes()).and_then(|()| std::io::Write::flush(&mut stdout));
    }

    /// Shuts down when `signal` completes instead of on SIGTERM or Ctrl-C (a test, or a
    /// supervisor of the app's own).
    pub fn with_shutdown(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Server {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Serves connections from `listener` until the shutdown signal, then shuts down as the
    /// module says: stop accepting (the listener is closed), let the requests in flight finish
    /// within `SHUTDOWN_TIMEOUT_SECS`, drop what is left, close the pool. Returns `Ok` once
    /// done, whether or not the deadline cut requests off (a warning says how many
    /// connections were dropped).
    ///
    /// A failed `accept` is logged and retried; a failed connection (a client that went away,
    /// a header read timeout) is logged at debug level.
    ///
    /// # Errors
    ///
    /// [`ServeError::Io`] when the SIGTERM or Ctrl-C handler cannot be installed (only without
    /// [`Server::with_shutdown`]); [`ServeError::MetricsAddr`] when `METRICS_ADDR` is set and
    /// cannot be listened on.
    pub async fn run(self, listener: TcpListener) -> Result<(), ServeError> {
        let Server { router, state, shutdown } = self;
        let mut signal = match shutdown {
            Some(signal) => signal,
            None => Box::pin(shutdown_signal()?),
        };
        let config = state.config();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(config.header_read_timeout);
        let graceful = GracefulShutdown::new();
        let mut connections = JoinSet::new();
        let metrics = serve_metrics(&state).await?;

        loop {
            let (stream, peer) = tokio::select! {
                () = &mut signal => break,
                // Finished connections are reaped as they end.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) if is_connection_error(&err) => continue,
                    Err(err) => {
                        tracing::error!(%err, "accepting a connection failed; retrying in {ACCEPT_ERROR_PAUSE:?}");
                        tokio::select! {
                            () = &mut signal => break,
                            () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                        }
                    }
                },
            };
            // Small JSON answers: no reason to wait for a fuller segment.
            let _ = stream.set_nodelay(true);
            let service = router.clone().map_request(move |req: Request<Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
            let connection =
                graceful.watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
            connections.spawn(async move {
                if let Err(err) = connection.await {
                    tracing::debug!(%peer, %err, "connection ended with an error");
                }
            });
        }

        // Closing the listener: from here on a connection attempt is refused, not queued.
        drop(listener);
        if let Some((stop, task)) = metrics {
            let _ = stop.send(());
            let _ = task.await;
        }
        let deadline = config.shutdown_timeout;
        tracing::info!(
            open_connections = connections.len(),
            "shutting down: no longer accepting connections; waiting up to {deadline:?} for the requests in flight"
        );
        if tokio::time::timeout(deadline, graceful.shutdown()).await.is_ok() {
            tracing::info!("every connection is closed");
        } else {
            tracing::warn!(
                dropped_connections = connections.len(),
                "SHUTDOWN_TIMEOUT_SECS ({deadline:?}) passed: dropping the connections still open and their requests"
            );
        }
        // Aborts what is left (nothing, unless the deadline passed) and waits until it is gone,
        // so the transactions it held are given back before the pool closes.
        connections.shutdown().await;
        tracing::info!("closing the database pool");
        if tokio::time::timeout(POOL_CLOSE_TIMEOUT, state.db().close()).await.is_err() {
            tracing::warn!("the database pool did not close within {POOL_CLOSE_TIMEOUT:?}; exiting anyway");
        }
        tracing::info!("shut down");
        Ok(())
    }
}

/// The metrics' own listener, when `METRICS_ADDR` is set (`metrics.rs`): serving until told to
/// stop, which is when the API stops accepting.
type MetricsServer = Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)>;

#[cfg(feature = "metrics")]
async fn serve_metrics(state: &AppState) -> Result<MetricsServer, ServeError> {
    let (Some(metrics), Some(addr)) = (state.metrics(), state.config().metrics_addr) else { return Ok(None) };
    let listener = TcpListener::bind(addr).await.map_err(|source| ServeError::MetricsAddr { addr, source })?;
    tracing::info!("metrics on http://{addr}/metrics");
    let router = crate::metrics::router::<()>(metrics.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(err) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
            tracing::error!(%err, "the metrics listener failed");
        }
    });
    Ok(Some((stop, task)))
}

#[cfg(not(feature = "metrics"))]
async fn serve_metrics(_state: &AppState) -> Result<MetricsServer, ServeError> {
    Ok(None)
}

/// Completes on the first SIGTERM or SIGINT (Ctrl-C), logging which; on other platforms on
/// Ctrl-C. The handlers are installed when this is called, so a signal that arrives between
/// the call and the first poll is not missed. [`Server::run`] uses it unless given a signal of
/// its own.
///
/// # Errors
///
/// The handlers cannot be installed.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            let name = tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            };
            tracing::info!("{name} received: shutting down");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("Ctrl-C received: shutting down");
        })
    }
}

/// A failed `accept` that concerns one connection only (`axum::serve`'s list).
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(err.kind(), ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset)
}

/// Why [`serve`](crate::serve()) or [`Server::run`] stopped without serving. `Debug` is the
/// message itself, as for [`StartupError`]: `main` may return it.
#[derive(thiserror::Error)]
pub enum ServeError {
    /// [`App::into_router`] refused to serve.
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// The signal handlers could not be installed.
    #[error("cannot install the shutdown signal handlers: {0}")]
    Io(#[from] std::io::Error),
    /// `METRICS_ADDR` could not be listened on (in use, not an address of this machine).
    #[error("cannot listen on METRICS_ADDR {addr}: {source}")]
    MetricsAddr {
        /// `METRICS_ADDR`.
        addr: std::net::SocketAddr,
        /// Why binding it failed.
        source: std::io::Error,
    },
}

impl std::fmt::Debug for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
