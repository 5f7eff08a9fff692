//! The account endpoints every app gets: `/api/me`, `/api/companies`, `/api/members` and
//! `/api/invitations`.
//!
//! They work on the core tables (users, companies, memberships), not on tenant resources, so
//! they write their own SQL; like everything else it uses `$n` placeholders only and runs on
//! both backends. Request bodies are validated here field by field, collecting every error into
//! one 400, with Django REST Framework's messages. The auth endpoints (`crate::auth::handlers`)
//! reuse these helpers.

mod companies;
mod email;
mod form;
mod invitations;
mod me;
mod members;

use axum::Router;
use axum::routing::{delete, get, patch, post};

use crate::slash_routes::SlashRoutes;
use crate::state::AppState;

pub(crate) use companies::{CompanyRow, add_membership, create_company, default_if_none};
pub(crate) use email::canonicalize_stored_emails;
pub(crate) use email::{canonical_email, normalize_email};
pub(crate) use form::MAX_COMPANY_NAME_LEN;
pub(crate) use form::{Form, cleaned};

/// Routes of `/api/me`, `/api/companies`, `/api/members[/…]` and `/api/invitations[/…]`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route_with_slash("/api/me", get(me::get_me).patch(me::patch_me))
        .route_with_slash("/api/companies", get(companies::list).post(companies::create))
        .route_with_slash("/api/members", get(members::list).post(invitations::create))
        .route_with_slash("/api/members/invitations", get(invitations::list_pending))
        .route_with_slash("/api/members/invitations/{id}", delete(invitations::revoke))
        .route_with_slash("/api/members/{user_id}", patch(members::update).delete(members::remove))
        .route_with_slash("/api/invitations", get(invitations::list_mine))
        .route_with_slash("/api/invitations/{id}/accept", post(invitations::accept))
        .route_with_slash("/api/invitations/{id}/decline", post(invitations::decline))
        // The membership check of a write follows its whole body (see `body_first.rs`).
        .route_layer(axum::middleware::from_fn(crate::body_first::read_body_first))
}
