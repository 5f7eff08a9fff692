//! Every route answers with and without a trailing slash.

use axum::Router;
use axum::routing::MethodRouter;

/// API.md: "Paths have no trailing slash; a trailing slash is also accepted." Each route is
/// registered in both forms, so the router matches either directly. (Rewriting the URI in a
/// middleware in front of the router needs a second router around the first, which cost about
/// 2 % of a retrieve's instructions in `cargo run --release -p bench -- --callgrind`.)
pub(crate) trait SlashRoutes<S> {
    fn route_with_slash(self, path: &str, method: MethodRouter<S>) -> Self;
}

impl<S: Clone + Send + Sync + 'static> SlashRoutes<S> for Router<S> {
    fn route_with_slash(self, path: &str, method: MethodRouter<S>) -> Self {
        #[cfg(feature = "testing")]
        registered::record(path);
        self.route(&format!("{path}/"), method.clone()).route(path, method)
    }
}

/// Every path registered in this process (feature `testing`): what the route-drift test
/// compares with the OpenAPI document, since axum's `Router` cannot list its routes.
#[cfg(feature = "testing")]
pub mod registered {
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    static PATHS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

    pub(crate) fn record(path: &str) {
        PATHS.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_string());
    }

    /// The paths registered so far, without their trailing-slash twins, sorted.
    pub fn paths() -> Vec<String> {
        PATHS.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }
}
