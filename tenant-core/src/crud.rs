//! The six tenant-scoped endpoints of every resource, and the scoped reads a handler of your
//! own can use: [`get`] and [`list`].
//!
//! Every operation takes a [`Scoped`] transaction, obtainable only from the [`Tenant`]
//! extractor, and binds its company id as `$1` of every statement. A row of another company is
//! therefore indistinguishable from a missing one: both answer 404 `{"detail": "Not found."}`.
//!
//! A handler of your own, beside the generated routes:
//!
//! ```no_run
//! use tenant_core::crud::{self, Page};
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
//!     let (count, results) = crud::list::<Customer>(&mut scoped, &query).await?;
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
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::body::JsonObject;
use crate::body_first::read_body_first;
use crate::db::{DbError, Row};
use crate::error::{ApiError, FieldErrors, NON_FIELD_ERRORS};
use crate::query::{ListQuery, last_values};
use crate::resource::{Resource, ResourceDesc};
use crate::row::{Model, RowDecoder, Values};
use crate::schema::unique_field;
use crate::slash_routes::SlashRoutes;
use crate::state::AppState;
use crate::tenant::{LockMembership, Scoped, Tenant};
use crate::validate::clock::now;
use crate::validate::{Mode, validate_body};
use crate::value::{DecodeError, FieldType, RowReader, Value};

/// Index of the first user field in a row (after id, company_id, created_at, updated_at).
const FIRST_FIELD: usize = 4;

/// The routes of `R`: `GET|POST {path}` and `GET|PUT|PATCH|DELETE {path}/{id}`. What
/// [`App::resource`](crate::App::resource) and the generated `R::router()` serve.
///
/// The writes read their body before the handler starts, so the tenant transaction and the
/// membership check follow the last byte ([`read_body_first`]), and lock the caller's membership
/// row until they commit ([`LockMembership`]).
#[doc(hidden)]
pub fn routes<R: Resource>() -> Router<AppState> {
    let item = format!("{}/{{id}}", R::DESC.path);
    // Only the writes get the layers: list and retrieve, the hot path, run without them.
    let writes = |methods: MethodRouter<AppState>| {
        methods.layer(axum::Extension(LockMembership)).layer(axum::middleware::from_fn(read_body_first))
    };
    Router::new()
        .route_with_slash(R::DESC.path, routing::get(handle_list::<R>).merge(writes(routing::post(handle_create::<R>))))
        .route_with_slash(
            &item,
            routing::get(handle_retrieve::<R>).merge(writes(
                routing::put(handle_replace::<R>).patch(handle_partial_update::<R>).delete(handle_destroy::<R>),
            )),
        )
}

// ---------------------------------------------------------------------------------------------
// Scoped operations on rows. Not generic, so they are compiled once for all resources.

/// One row of this company by id, or `None` (missing and foreign look the same).
async fn fetch_row(scoped: &mut Scoped, desc: &ResourceDesc, id: Uuid, lock: bool) -> Result<Option<Row>, ApiError> {
    let sql = if lock && scoped.tx().dialect().supports_row_locks() {
        desc.sql.select_one_for_update
    } else {
        desc.sql.select_one
    };
    let params = [scoped.company_param(), Value::Uuid(Some(id))];
    Ok(scoped.tx().fetch_optional(sql, &params, &desc.row_types()).await?)
}

/// Validates `body` and inserts a row owned by this company. Returns the stored row.
async fn insert_row(scoped: &mut Scoped, desc: &ResourceDesc, body: &Map<String, Json>) -> Result<Row, ApiError> {
    let values = validate_body(desc, body, Mode::Create, None).map_err(ApiError::Validation)?;
    check_references(scoped, desc, &values, None).await?;
    let now = now();
    let mut row = vec![
        Value::Uuid(Some(Uuid::now_v7())),
        scoped.company_param(),
        Value::Timestamp(Some(now)),
        Value::Timestamp(Some(now)),
    ];
    row.extend(values);
    scoped.tx().execute(desc.sql.insert, &row).await.map_err(|e| write_error(desc, e))?;
    Ok(row)
}

/// Validates `body` against the current row and updates it. `None` when there is no such row
/// in this company.
async fn update_row(
    scoped: &mut Scoped,
    desc: &ResourceDesc,
    id: Uuid,
    body: &Map<String, Json>,
    mode: Mode,
) -> Result<Option<Row>, ApiError> {
    let Some(current) = fetch_row(scoped, desc, id, true).await? else {
        return Ok(None);
    };
    let values = validate_body(desc, body, mode, Some(&current[FIRST_FIELD..])).map_err(ApiError::Validation)?;
    check_references(scoped, desc, &values, Some(&current[FIRST_FIELD..])).await?;
    let mut params = vec![scoped.company_param(), Value::Uuid(Some(id)), Value::Timestamp(Some(now()))];
    params.extend(values);
    let updated = scoped.tx().execute(desc.sql.update, &params).await.map_err(|e| write_error(desc, e))?;
    if updated == 0 {
        return Ok(None);
    }
    let mut params = params.into_iter();
    let (company, id, updated_at) = (params.next(), params.next(), params.next());
    let mut row = vec![id.unwrap_or(Value::Uuid(None)), company.unwrap_or(Value::Uuid(None)), current[2].clone()];
    row.push(updated_at.unwrap_or(Value::Timestamp(None)));
    row.extend(params);
    Ok(Some(row))
}

/// Deletes one row of this company. `false` when there is no such row; 409 when other rows
/// still reference it.
async fn delete_row(scoped: &mut Scoped, desc: &ResourceDesc, id: Uuid) -> Result<bool, ApiError> {
    let params = [scoped.company_param(), Value::Uuid(Some(id))];
    match scoped.tx().execute(desc.sql.delete, &params).await {
        Ok(n) => Ok(n > 0),
        Err(DbError::ForeignKey) => Err(ApiError::Conflict(format!(
            "Cannot delete this {}: other records refer to it. Delete or reassign them first.",
            desc.singular
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Each reference must name a row of the **same** company. The composite foreign key enforces
/// it too; checking first gives the client a field error instead of a constraint name.
async fn check_references(
    scoped: &mut Scoped,
    desc: &ResourceDesc,
    values: &[Value],
    current: Option<&[Value]>,
) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    for (i, field) in desc.fields.iter().enumerate() {
        let (Some(reference), Value::Uuid(Some(id))) = (field.references, &values[i]) else {
            continue;
        };
        if current.is_some_and(|c| c.get(i) == Some(&values[i])) {
            continue;
        }
        let params = [scoped.company_param(), Value::Uuid(Some(*id))];
        if scoped.tx().fetch_optional(reference.exists, &params, &[FieldType::I32]).await?.is_none() {
            errors.insert(field.name.to_string(), vec![invalid_reference(reference.resource, *id)]);
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

fn invalid_reference(resource: &str, id: Uuid) -> String {
    format!("Invalid pk \"{id}\" - {resource} does not exist.")
}

/// Maps a failed write: a unique violation to 409 on its field, a foreign-key violation (a
/// referent deleted concurrently) to 400 on the reference field.
fn write_error(desc: &ResourceDesc, err: DbError) -> ApiError {
    match err {
        DbError::Unique { .. } => match unique_field(desc, &err) {
            Some(field) => ApiError::duplicate(field.name, desc.singular),
            None => {
                let mut errors = FieldErrors::new();
                errors.insert(NON_FIELD_ERRORS.into(), vec![format!("This {} already exists.", desc.singular)]);
                ApiError::Duplicate(errors)
            }
        },
        DbError::ForeignKey => match desc.fields.iter().find(|f| f.references.is_some()) {
            Some(field) => ApiError::field(
                field.name,
                format!("The referenced {} does not exist.", field.references.map_or("object", |r| r.resource)),
            ),
            None => ApiError::internal("foreign key violation on a resource without references"),
        },
        other => other.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Typed operations, for code that works with the model structs. Reads decode each row straight
// into `R` (see `row.rs`); a row the write paths built as values is read back the same way.

fn decode<R: Resource>(row: Row) -> Result<R, ApiError> {
    R::from_row(&mut Values::new(row)).map_err(|e| ApiError::internal(DbError::from(e)))
}

/// The object `id` of the scoped company, or `None` when it has none by that id (another
/// company's object is `None` too).
///
/// # Errors
///
/// An [`ApiError`] when the database fails: 503 when it cannot be reached or the statement
/// ran past `DATABASE_STATEMENT_TIMEOUT_MS`, 500 otherwise.
pub async fn get<R: Resource>(scoped: &mut Scoped, id: Uuid) -> Result<Option<R>, ApiError> {
    let params = [scoped.company_param(), Value::Uuid(Some(id))];
    Ok(scoped.tx().fetch_optional_with(R::DESC.sql.select_one, &params, &mut Model::<R>::new()).await?)
}

/// Decodes a list row: the model, then the count of all matching rows, which every row carries
/// (a scalar sub-query after the columns).
struct Counted<R> {
    model: Model<R>,
    count: u64,
}

impl<R: Resource> RowDecoder for Counted<R> {
    type Output = R;
    fn decode<Rd: RowReader + ?Sized>(&mut self, row: &mut Rd) -> Result<R, DecodeError> {
        let object = self.model.decode(row)?;
        self.count = row.i64("count")?.unwrap_or(0).max(0) as u64;
        Ok(object)
    }
}

/// One page of the scoped company's objects matching `query`, in its order, and the count of
/// all matching ones (every page, for [`Page::count`]). One statement: the count is a scalar
/// sub-query of the page's.
///
/// # Errors
///
/// 404 `{"detail": "Invalid page."}` ([`ApiError::NotFoundDetail`]) for a page past the last
/// one, except page 1, which is an empty page (DRF's `PageNumberPagination` with
/// `allow_empty_first_page`); otherwise as [`get`].
pub async fn list<R: Resource>(scoped: &mut Scoped, query: &ListQuery) -> Result<(u64, Vec<R>), ApiError> {
    let dialect = scoped.tx().dialect();
    let (sql, params) = query.to_sql(&R::DESC, dialect, scoped.company_param());
    let mut decoder = Counted { model: Model::<R>::new(), count: 0 };
    let results = scoped.tx().fetch_all_with(sql, &params, &mut decoder).await?;
    if results.is_empty() && query.page > 1 {
        return Err(ApiError::NotFoundDetail(crate::messages::INVALID_PAGE.into()));
    }
    Ok((decoder.count, results))
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

async fn handle_list<R: Resource>(mut tenant: Tenant, req: Request) -> Result<Response, ApiError> {
    // The request is read in place: no copy of its headers or URI on the hottest path.
    let (uri, headers) = (req.uri(), req.headers());
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|_| ApiError::BadRequest("Malformed query string.".into()))?;
    // `parse` and `page_url` each keep the last value of a repeated parameter (API.md).
    let query = ListQuery::parse(&R::DESC, &pairs)?;
    let mut scoped = tenant.begin()?;
    let (count, results) = list::<R>(&mut scoped, &query).await?;
    scoped.commit().await?;
    let last_page = count.div_ceil(query.page_size).max(1);
    let link = |page: u64| page_url(uri, headers, &pairs, page);
    let page = Page {
        count,
        next: (query.page < last_page).then(|| link(query.page + 1)),
        previous: (query.page > 1).then(|| link(query.page - 1)),
        results,
    };
    Ok(axum::Json(page).into_response())
}

/// The URL of another page: this request's URL with `page` replaced (dropped for page 1).
/// A parameter given more than once appears once, with the value that counted ([`last_values`]).
fn page_url(uri: &Uri, headers: &HeaderMap, pairs: &[(String, String)], page: u64) -> String {
    let mut pairs: Vec<(String, String)> = last_values(pairs).into_iter().filter(|(k, _)| k != "page").collect();
    if page > 1 {
        pairs.push(("page".to_string(), page.to_string()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let scheme = match headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    };
    let base = match host {
        Some(host) => format!("{scheme}://{host}{}", uri.path()),
        None => uri.path().to_string(),
    };
    if query.is_empty() { base } else { format!("{base}?{query}") }
}

async fn handle_create<R: Resource>(
    mut tenant: Tenant,
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    tenant.require(R::DESC.permissions.create)?;
    let JsonObject(body) = JsonObject::from_request(req, &state).await?;
    let mut scoped = tenant.begin()?;
    let row = insert_row(&mut scoped, &R::DESC, &body).await?;
    scoped.commit().await?;
    let object: R = decode(row.clone())?;
    let location = match &row[0] {
        Value::Uuid(Some(id)) => format!("{}/{id}", R::DESC.path),
        _ => R::DESC.path.to_string(),
    };
    let mut response = (StatusCode::CREATED, axum::Json(object)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn handle_retrieve<R: Resource>(mut tenant: Tenant, Path(id): Path<String>) -> Result<axum::Json<R>, ApiError> {
    let id = parse_id(&id)?;
    let mut scoped = tenant.begin()?;
    let object = get::<R>(&mut scoped, id).await?.ok_or(ApiError::NotFound)?;
    scoped.commit().await?;
    Ok(axum::Json(object))
}

async fn handle_update<R: Resource>(
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
    let row = update_row(&mut scoped, &R::DESC, id, &body, mode).await?.ok_or(ApiError::NotFound)?;
    scoped.commit().await?;
    Ok(axum::Json(decode(row)?))
}

async fn handle_replace<R: Resource>(
    tenant: Tenant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<axum::Json<R>, ApiError> {
    handle_update::<R>(tenant, state, id, req, Mode::Replace).await
}

async fn handle_partial_update<R: Resource>(
    tenant: Tenant,
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<axum::Json<R>, ApiError> {
    handle_update::<R>(tenant, state, id, req, Mode::Partial).await
}

async fn handle_destroy<R: Resource>(mut tenant: Tenant, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    tenant.require(R::DESC.permissions.delete)?;
    let id = parse_id(&id)?;
    let mut scoped = tenant.begin()?;
    if !delete_row(&mut scoped, &R::DESC, id).await? {
        return Err(ApiError::NotFound);
    }
    scoped.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
