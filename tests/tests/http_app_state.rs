//! An app keeps state of its own beside the framework's (issue 9, item 7): the `Tenant`,
//! `CurrentUser` and `ClientAddress` extractors work with any router state the framework's
//! `AppState` can be had from, as axum's own extractors do (`FromRef`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::get;
use serde_json::json;
use tenant_core::client_address::ClientAddress;
use tenant_core::{AppState, CurrentUser, Tenant};
use tests::*;

/// An app's own state: the framework's, and something of the app's.
#[derive(Clone)]
struct TrackerState {
    core: AppState,
    greeting: Arc<String>,
}

impl FromRef<TrackerState> for AppState {
    fn from_ref(state: &TrackerState) -> AppState {
        state.core.clone()
    }
}

async fn greeting(tenant: Tenant, State(state): State<TrackerState>) -> axum::Json<serde_json::Value> {
    axum::Json(
        json!({ "greeting": *state.greeting, "company_id": tenant.company_id(), "role": tenant.role().as_str() }),
    )
}

async fn whoami(user: CurrentUser, client: ClientAddress, State(state): State<TrackerState>) -> String {
    format!("{} {} {:?}", state.greeting, user.user_id, client.0)
}

both_backends! {
    async fn extractors_work_with_an_apps_own_state(app: TestApp) {
        let built = app.app_again().await;
        let state = TrackerState { core: built.state().clone(), greeting: Arc::new("hello".into()) };
        let core = built.state().clone();
        let own: Router = Router::new()
            .route("/api/greeting", get(greeting))
            .route("/api/whoami", get(whoami))
            .with_state(state);
        let tracker = app.with_router(built.into_router().await.unwrap().merge(own), core);

        let alice = tracker.signup("Acme").await;
        let bob = tracker.signup("Bob Co").await;
        let r = tracker.get("/api/greeting", &alice.auth()).await;
        r.assert_status(200);
        assert_eq!(r.body, json!({"greeting": "hello", "company_id": alice.company_id, "role": "admin"}));
        // The same tenant rules as every framework route: another company is a 403, no token a 401.
        tracker.get("/api/greeting", &bob.in_company(alice.company_id)).await.assert_status(403);
        tracker.get("/api/greeting", &Auth::none()).await.assert_status(401);
        let r = tracker.get("/api/whoami", &bob.auth()).await;
        r.assert_status(200);
        assert_eq!(r.text, format!("hello {} None", bob.id));
        // The framework's own routes are served beside them.
        tracker.get("/api/customers", &alice.auth()).await.assert_status(200);
    }
}
