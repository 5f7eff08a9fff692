//! The tenant-scoped endpoints of every resource (the six of DRF's `ModelViewSet`, or those of
//! its [`Actions`](crate::Actions)), over the typed operations of
//! [`Scoped`](crate::Scoped) (`operations.rs`), which a handler of your own can use too.
//!
//! Every operation takes a [`Scoped`](crate::Scoped) transaction, obtainable only from the [`Tenant`]
//! extractor, and binds its company id as `$1` of every statement. A row of another company is
//! therefore indistinguishable from a missing one: both answer 404 `{"detail": "Not found."}`.
//!
//! A handler of your own, beside the generated routes:
//!
//! ```no_run
//! use tenant_core::crud::Page;
//! use tenant_core::{ApiError, ListQuery, Resource, Tenant, tenant_resource};
//!
//! #[tenant_resource(table = "customers")]
//! pub struct Customer {
//!     #[field(filter)]
//!     pub vip: bool,
//! }
//!
//! /// `GET /api/vip-customers`: the active company's first 20 VIP customers (no page links).
//! async fn vip_customers(mut tenant: Tenant) -> Result<axum::Json<Page<Customer>>, ApiError> {
//!     let pairs = [("vip".to_string(), "true".to_string())];
//!     let query = ListQuery::parse(&Customer::DESC, &pairs)?;
//!     let mut scoped = tenant.begin()?;
//!     let (count, results) = scoped.list::<Customer>(&query).await?;
//!     scoped.commit().await?;
//!     Ok(axum::Json(Page { count, next: None, previous: None, results }))
//! }
//! ```

use axum::Router;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{self, MethodRouter};
use serde::Serialize;
use uuid::Uuid;

use crate::body::JsonObject;
use crate::body_first::read_body_first;
use crate::error::ApiError;
use crate::hooks::Hooks;
use crate::hosts::PublicBaseUrl;
use crate::operations;
use crate::query::{ListQuery, last_values};
use crate::resource::Resource;
use crate::slash_routes::SlashRoutes;
use crate::state::AppState;
use crate::tenant::{LockMembership, Tenant};
use crate::tenant_read::TenantRead;
use crate::validate::Mode;

/// The routes of `R`'s [`Actions`](crate::Actions): of `GET|POST {path}` and
/// `GET|PUT|PATCH|DELETE {path}/{id}`, those it serves (all six by default). What
/// [`App::resource`](crate::App::resource) and the generated `R::router()` serve.
///
/// A method its path does not serve answers 405 with an `Allow` header naming those it does
/// (the router's method-not-allowed fallback, `app.rs`, gives the JSON body); a path that serves
/// no method is not routed at all, so it answers 404 like any unknown path.
///
/// The writes read their body before the handler starts, so the tenant transaction and the
/// membership check follow the last byte ([`read_body_first`]), and lock the caller's membership
/// row until they commit ([`LockMembership`]).
#[doc(hidden)]
pub fn routes<R: Resource + Hooks>() -> Router<AppState> {
    let actions = R::DESC.actions;
    let item = format!("{}/{{id}}", R::DESC.path);
    // Only the writes get the layers: list and retrieve, the hot path, run without them.
    let writes = |methods: MethodRouter<AppState>| {
        methods.layer(axum::Extension(LockMembership)).layer(axum::middleware::from_fn(read_body_first))
    };
    let mut router = Router::new();
    if actions.serves_collection() {
        let mut collection = MethodRouter::new();
        if actions.list {
            collection = collection.get(handle_list::<R>);
        }
        if actions.create {
            collection = collection.merge(writes(routing::post(handle_create::<R>)));
        }
        router = router.route_with_slash(R::DESC.path, collection);
    }
    if actions.serves_item() {
        let mut methods = MethodRouter::new();
        if actions.retrieve {
            methods = methods.get(handle_retrieve::<R>);
        }
        if actions.update || actions.partial_update || actions.destroy {
            let mut item_writes = MethodRouter::new();
            if actions.update {
                item_writes = item_writes.put(handle_replace::<R>);
            }
            if actions.partial_update {
                item_writes = item_writes.patch(handle_partial_update::<R>);
            }
            if actions.destroy {
                item_writes = item_writes.delete(handle_destroy::<R>);
            }
            methods = methods.merge(writes(item_writes));
        }
        router = router.route_with_slash(&item, methods);
    }
    router
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// Ids in paths that are not UUIDs name nothing: 404, like any missing object.
fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// Django REST Framework's page shape (`PageNumberPagination`), as every list answers it:
/// `{"count": …, "next": …, "previous": …, "results": […]}`.
#[derive(Serialize)]
pub struct Page<T> {
    /// Objects matching the query, over every page.
    pub count: u64,
    /// The absolute URL of the next page, `null` on the last.
    pub next: Option<String>,
    /// The absolute URL of the previous page, `null` on the first.
    pub previous: Option<String>,
    /// This page's objects.
    pub results: Vec<T>,
}

async fn handle_list<R: Resource + Hooks>(tenant: TenantRead, req: Request) -> Result<Response, ApiError> {
    // The request is read in place: no copy of its headers or URI on the hottest path.
    let link = &Link::of(&req);
    let (pairs, query) = match list_query::<R>(link, None) {
        Ok(parsed) => parsed,
        // A non-member's answer is the 403, whatever the query says.
        Err(err) => return Err(tenant.into_tenant().await.err().unwrap_or(err)),
    };
    let (count, results) = operations::list_read::<R>(tenant, &query).await?;
    Ok(page_response(link, &pairs, &query, count, results))
}

/// A list page of `R` in `scoped` as `GET {path}` answers it, narrowed by `within` (a nested collection's
/// `(reference field, parent id)`, `nested.rs`) when given.
pub(crate) async fn list_response<R: Resource + Hooks>(
    mut scoped: crate::tenant::Scoped,
    req: &Link<'_>,
    within: Option<(&'static str, Uuid)>,
) -> Result<Response, ApiError> {
    let (pairs, query) = list_query::<R>(req, within)?;
    let (count, results) = scoped.list::<R>(&query).await?;
    scoped.commit().await?;
    Ok(page_response(req, &pairs, &query, count, results))
}

/// The list's query parameters (each with the last value of a repeated one, API.md) and the
/// query they make, narrowed by `within`.
fn list_query<R: Resource>(
    req: &Link<'_>,
    within: Option<(&'static str, Uuid)>,
) -> Result<(Vec<(String, String)>, ListQuery), ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.uri.query().unwrap_or(""))
        .map_err(|_| ApiError::BadRequest("Malformed query string.".into()))?;
    let mut query = ListQuery::parse(&R::DESC, &pairs)?;
    if let Some((field, parent)) = within {
        query.filters.push((field, crate::value::Value::Uuid(Some(parent))));
    }
    Ok((pairs, query))
}

/// The page's JSON with its `next` and `previous` links.
fn page_response<R: Resource>(
    req: &Link<'_>,
    pairs: &[(String, String)],
    query: &ListQuery,
    count: u64,
    results: Vec<R>,
) -> Response {
    let last_page = count.div_ceil(query.page_size).max(1);
    let link = |page: u64| page_url(req, pairs, page);
    let page = Page {
        count,
        next: (query.page < last_page).then(|| link(query.page + 1)),
        previous: (query.page > 1).then(|| link(query.page - 1)),
        results,
    };
    axum::Json(page).into_response()
}

/// What a list's links are written from: the request's URI and headers, and `PUBLIC_BASE_URL`.
/// (References to `Sync` parts: a `&Request` cannot be held across the list's awaits.)
pub(crate) struct Link<'a> {
    uri: &'a Uri,
    headers: &'a HeaderMap,
    base: Option<&'a PublicBaseUrl>,
}

impl<'a> Link<'a> {
    pub(crate) fn of(req: &'a Request) -> Link<'a> {
        Link { uri: req.uri(), headers: req.headers(), base: req.extensions().get::<PublicBaseUrl>() }
    }
}

/// The URL of another page: this request's URL with `page` replaced (dropped for page 1).
/// A parameter given more than once appears once, with the value that counted ([`last_values`]).
/// Absolute from `PUBLIC_BASE_URL` when set; else from the `Host` header, which the host check
/// (`hosts.rs`) has allowed; a path when there is neither.
fn page_url(req: &Link<'_>, pairs: &[(String, String)], page: u64) -> String {
    let (uri, headers) = (req.uri, req.headers);
    let mut pairs: Vec<(String, String)> = last_values(pairs).into_iter().filter(|(k, _)| k != "page").collect();
    if page > 1 {
        pairs.push(("page".to_string(), page.to_string()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let base = if let Some(PublicBaseUrl(base)) = req.base {
        format!("{base}{}", uri.path())
    } else {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let scheme = match headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) {
            Some("https") => "https",
            _ => "http",
        };
        match host {
            Some(host) => format!("{scheme}://{host}{}", uri.path()),
            None => uri.path().to_string(),
        }
    };
    if query.is_empty() { base } else { format!("{base}?{query}") }
}

async fn handle_create<R: Resource + Hooks>(
    mut tenant: Tenant,
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    tenant.require(R::DESC.permissions.create)?;
    let JsonObject(body) = JsonObject::from_request(req, &state).await?;
    let scoped = tenant.begin()?;
    create_response::<R>(scoped, body).await
}

/// Creates an `R` from `body` in `scoped` and answers 201 with the object and its `Location`,
/// as `POST {path}` does.
pub(crate) async fn create_response<R: Resource + Hooks>(
    mut scoped: crate::tenant::Scoped,
    body: serde_json::Map<String, serde_json::Value>,
) -> Result<Response, ApiError> {
    // The insert and `COMMIT` are sent apart, not in one message: a write abandoned at
    // `REQUEST_TIMEOUT_SECS` while its insert waits on a lock must never commit afterwards,
    // which a `COMMIT` already sent behind it would (tests/tests/pg_membership_lock.rs).
    let object = operations::create::<R>(&mut scoped, &body).await?;
    scoped.commit().await?;
    let location = format!("{}/{}", R::DESC.path, object.id());
    let mut response = (StatusCode::CREATED, axum::Json(object)).into_response();
    // `Location` names the new object's URL, which only `retrieve` serves.
    if R::DESC.actions.retrieve
        && let Ok(value) = HeaderValue::from_str(&location)
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn handle_retrieve<R: Resource + Hooks>(
    tenant: TenantRead,
    Path(id): Path<String>,
) -> Result<axum::Json<R>, ApiError> {
    let id = match parse_id(&id) {
        Ok(id) => id,
        // A non-member's answer is the 403, whatever the path says.
        Err(err) => return Err(tenant.into_tenant().await.err().unwrap_or(err)),
    };
    let object = operations::find_read::<R>(tenant, id).await?.ok_or(ApiError::NotFound)?;
    Ok(axum::Json(object))
}

async fn handle_update<R: Resource + Hooks>(
    mut tenant: Tenant,
    state: AppState,
    id: String,
    req: Request,
    mode: Mode,
) -> Result<axum::Json<R>, ApiError> {
    tenant.require(R::DESC.permissions.update)?;
    let id = parse_id(&id)?;
    let JsonObject(body) = JsonObject::from_request(req, &state).await?;
    let mut scoped = tenant.begin()?;
    let object = operations::update::<R>(&mut scoped, id, &body, mode).await?.ok_or(ApiError::NotFound)?;
    scoped.commit().await?;
    Ok(axum::Json(object))
}

async fn handle_replace<R: Resource + Hooks>(
    tenant: Tenant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<axum::Json<R>, ApiError> {
    handle_update::<R>(tenant, state, id, req, Mode::Replace).await
}

async fn handle_partial_update<R: Resource + Hooks>(
    tenant: Tenant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<axum::Json<R>, ApiError> {
    handle_update::<R>(tenant, state, id, req, Mode::Partial).await
}

async fn handle_destroy<R: Resource + Hooks>(
    mut tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tenant.require(R::DESC.permissions.delete)?;
    let id = parse_id(&id)?;
    let mut scoped = tenant.begin()?;
    if !operations::delete::<R>(&mut scoped, id).await? {
        return Err(ApiError::NotFound);
    }
    scoped.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
