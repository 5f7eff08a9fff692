//! Custom actions on a resource's routes, as Django REST Framework's `@action(detail=True)` and
//! `@action(detail=False)`: `POST /api/tasks/{id}/complete`, `GET /api/tasks/overdue`.
//!
//! An action is an ordinary axum handler, registered with its method, name and minimum role
//! through [`App::resource_with`](crate::App::resource_with). The framework gives it what the
//! generated routes have: both slash forms, API.md's error bodies, the role check (403 before
//! anything is read), a write's body read before the tenant transaction starts and its
//! membership row locked for share, and the [`Object`] extractor, which loads the `{id}` of a
//! detail action within the active company (404 for a missing or another company's id, as
//! every route answers).
//!
//! ```no_run
//! use axum::http::Method;
//! use tenant_core::actions::Object;
//! use tenant_core::{ApiError, App, Role, tenant_resource};
//!
//! #[tenant_resource(table = "tasks")]
//! pub struct Task {
//!     #[field(default)]
//!     pub done: bool,
//! }
//!
//! /// `POST /api/tasks/{id}/complete`.
//! async fn complete(Object { mut scoped, object: task, .. }: Object<Task>) -> Result<axum::Json<Task>, ApiError> {
//!     let patch = TaskPatch { done: Some(true), ..Default::default() };
//!     let task = scoped.update::<Task>(task.id, patch).await?;
//!     scoped.commit().await?;
//!     Ok(axum::Json(task))
//! }
//!
//! fn register(app: App) -> App {
//!     app.resource_with::<Task>(|routes| routes.detail_action(Method::POST, "complete", Role::Staff, complete))
//! }
//! ```

use std::marker::PhantomData;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, RawPathParams};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::request::Parts;
use axum::routing::{MethodFilter, MethodRouter, on};
use uuid::Uuid;

use crate::body_first::read_body_first;
use crate::error::ApiError;
use crate::hooks::Hooks;
use crate::resource::Resource;
use crate::role::Role;
use crate::slash_routes::SlashRoutes;
use crate::state::AppState;
use crate::tenant::{LockMembership, RequiredRole, Scoped, Tenant};

/// The routes of one resource while an app adds its actions: the six generated routes (or the
/// ones the resource serves) and each action registered on it.
pub struct ResourceRoutes<R> {
    router: Router<AppState>,
    actions: Vec<ActionDesc>,
    resource: PhantomData<fn() -> R>,
}

/// One custom action as registered, for what describes or checks an app's routes (the isolation
/// check of `tenant_core::testing`, the OpenAPI document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDesc {
    /// The resource's Rust type name ([`ResourceDesc::name`](crate::ResourceDesc::name)).
    pub resource: &'static str,
    /// The HTTP method it answers.
    pub method: Method,
    /// The name, the last segment of its path: `complete`.
    pub name: String,
    /// The route as axum matches it: `/api/tasks/{id}/complete`, `/api/tasks/overdue`.
    pub path: String,
    /// Per object (`detail=True` in DRF: the path has the object's `{id}`) or per collection.
    pub detail: bool,
    /// The minimum role of the active company's membership.
    pub role: Role,
}

impl<R: Resource + Hooks> ResourceRoutes<R> {
    pub(crate) fn new() -> ResourceRoutes<R> {
        ResourceRoutes { router: crate::nested::routes::<R>(), actions: Vec::new(), resource: PhantomData }
    }

    /// The router and the actions registered on it.
    pub(crate) fn into_parts(self) -> (Router<AppState>, Vec<ActionDesc>) {
        (self.router, self.actions)
    }

    /// Serves `handler` at `{method} {path}/{id}/{name}` (DRF's `@action(detail=True)`) for
    /// members of at least `role`. The handler takes [`Object<R>`] to get the object (404 for a
    /// missing or another company's id) or [`Tenant`] to do it itself.
    ///
    /// # Panics
    ///
    /// When `name` is not a lowercase path segment (`[a-z0-9_-]+`) or `method` is not one axum
    /// routes (`GET`, `POST`, `PUT`, `PATCH`, `DELETE`, …): a programming error, found at start-up.
    pub fn detail_action<H, T>(self, method: Method, name: &str, role: Role, handler: H) -> ResourceRoutes<R>
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let path = format!("{}/{{id}}/{}", R::DESC.path, segment(name));
        self.action(
            ActionDesc { resource: R::DESC.name, method, name: name.to_owned(), path, detail: true, role },
            handler,
        )
    }

    /// Serves `handler` at `{method} {path}/{name}` (DRF's `@action(detail=False)`) for members
    /// of at least `role`. The handler takes [`Tenant`] (and from it the [`Scoped`]
    /// transaction). Panics as [`ResourceRoutes::detail_action`].
    pub fn collection_action<H, T>(self, method: Method, name: &str, role: Role, handler: H) -> ResourceRoutes<R>
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let path = format!("{}/{}", R::DESC.path, segment(name));
        self.action(
            ActionDesc { resource: R::DESC.name, method, name: name.to_owned(), path, detail: false, role },
            handler,
        )
    }

    fn action<H, T>(mut self, desc: ActionDesc, handler: H) -> ResourceRoutes<R>
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let (path, method, role) = (desc.path.clone(), desc.method.clone(), desc.role);
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("action {path}: axum does not route the method {method}"));
        let mut route: MethodRouter<AppState> = on(filter, handler).layer(axum::Extension(RequiredRole(role)));
        if !method.is_safe() {
            // As the generated writes: the body first, then the tenant transaction, which
            // locks the caller's membership row until the write commits.
            route = route.layer(axum::Extension(LockMembership)).layer(axum::middleware::from_fn(read_body_first));
        }
        self.actions.push(desc);
        ResourceRoutes {
            router: self.router.route_with_slash(&path, route),
            actions: self.actions,
            resource: PhantomData,
        }
    }
}

/// An action's name as a path segment.
fn segment(name: &str) -> &str {
    let ok = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    assert!(ok, "action name {name:?}: use a lowercase path segment such as \"complete\"");
    name
}

/// The object a detail action acts on: the `{id}` of the path, read within the active company
/// in the request's [`Scoped`] transaction, which the handler goes on using (and commits).
///
/// Rejection: as [`Tenant`] (401, 403, including the action's role), then 404
/// `{"detail": "Not found."}` for an id that is not a UUID, missing, or another company's.
pub struct Object<R> {
    /// The request's transaction, scoped to the active company.
    pub scoped: Scoped,
    /// The object, as stored when the request began.
    pub object: R,
    /// The caller's role in the active company.
    pub role: Role,
    /// The caller.
    pub user_id: Uuid,
}

impl<S, R> FromRequestParts<S> for Object<R>
where
    AppState: FromRef<S>,
    S: Send + Sync,
    R: Resource,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let mut tenant = Tenant::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        let id = params
            .iter()
            .find(|(key, _)| *key == "id")
            .and_then(|(_, value)| Uuid::parse_str(value).ok())
            .ok_or(ApiError::NotFound)?;
        let (role, user_id) = (tenant.role(), tenant.user_id());
        let mut scoped = tenant.begin()?;
        let object = scoped.get::<R>(id).await?;
        Ok(Object { scoped, object, role, user_id })
    }
}
