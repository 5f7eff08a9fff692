//! Nested collections from references, as drf-nested-routers gives them:
//! `#[field(references = Project, nested)]` on a task serves `GET` and `POST
//! /api/projects/{id}/tasks` beside `/api/tasks`.
//!
//! The parent is read first, within the active company: a missing or another company's parent
//! is the same 404 `{"detail": "Not found."}` as any missing object, before anything else is
//! read or written. The list is the child's list (its filters, lookups, search, ordering and
//! pages) narrowed to the parent; a create takes the reference from the path, never from the
//! body. Both follow the child's route selection (`list`, `create`) and roles.

use axum::Router;
use axum::extract::{FromRequest, Path, Request, State};
use axum::response::Response;
use axum::routing::MethodRouter;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::body::JsonObject;
use crate::body_first::read_body_first;
use crate::crud::{create_response, list_response};
use crate::error::ApiError;
use crate::hooks::Hooks;
use crate::resource::{Field, Resource};
use crate::slash_routes::SlashRoutes;
use crate::state::AppState;
use crate::tenant::{LockMembership, Scoped, Tenant};
use crate::value::{FieldType, Value};

/// Every route of `R`: its own ([`crud::routes`](crate::crud::routes)) and, for each `nested`
/// reference, `{parent path}/{id}/{last segment of R's path}`. What
/// [`App::resource`](crate::App::resource) and the generated `R::router()` serve.
#[doc(hidden)]
pub fn routes<R: Resource + Hooks>() -> Router<AppState> {
    let mut router = crate::crud::routes::<R>();
    let actions = R::DESC.actions;
    let segment = R::DESC.path.rsplit('/').next().unwrap_or(R::DESC.path);
    for (index, field) in R::DESC.fields.iter().enumerate() {
        let Some(reference) = field.references.filter(|_| field.nested) else { continue };
        // `{id}`, the parent's own item parameter: the router allows one name per position.
        let path = format!("{}/{{id}}/{segment}", reference.target().path);
        let mut methods = MethodRouter::new();
        if actions.list {
            methods = methods.get(move |tenant: Tenant, parent: Path<String>, req: Request| {
                nested_list::<R>(tenant, parent, req, index)
            });
        }
        if actions.create {
            let create = MethodRouter::new()
                .post(move |tenant: Tenant, parent: Path<String>, state: State<AppState>, req: Request| {
                    nested_create::<R>(tenant, parent, state, req, index)
                })
                .layer(axum::Extension(LockMembership))
                .layer(axum::middleware::from_fn(read_body_first));
            methods = methods.merge(create);
        }
        if actions.list || actions.create {
            router = router.route_with_slash(&path, methods);
        }
    }
    router
}

/// The parent named by the path, within the scoped company, or 404.
async fn parent(scoped: &mut Scoped, field: &Field, raw: &str) -> Result<Uuid, ApiError> {
    let (Some(reference), Ok(id)) = (field.references, Uuid::parse_str(raw)) else {
        return Err(ApiError::NotFound);
    };
    let params = [scoped.company_param(), Value::Uuid(Some(id))];
    match scoped.tx().fetch_optional(reference.exists(), &params, &[FieldType::I32]).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::NotFound),
    }
}

async fn nested_list<R: Resource + Hooks>(
    mut tenant: Tenant,
    Path(raw): Path<String>,
    req: Request,
    index: usize,
) -> Result<Response, ApiError> {
    let field = &R::DESC.fields[index];
    let mut scoped = tenant.begin()?;
    let id = parent(&mut scoped, field, &raw).await?;
    list_response::<R>(scoped, &crate::crud::Link::of(&req), Some((field.name, id))).await
}

async fn nested_create<R: Resource + Hooks>(
    mut tenant: Tenant,
    Path(raw): Path<String>,
    State(state): State<AppState>,
    req: Request,
    index: usize,
) -> Result<Response, ApiError> {
    tenant.require(R::DESC.permissions.create)?;
    let field = &R::DESC.fields[index];
    let JsonObject(mut body) = JsonObject::from_request(req, &state).await?;
    let mut scoped = tenant.begin()?;
    let id = parent(&mut scoped, field, &raw).await?;
    // The reference is the path's, whatever the body says.
    body.insert(field.name.to_string(), Json::String(id.to_string()));
    create_response::<R>(scoped, body).await
}
