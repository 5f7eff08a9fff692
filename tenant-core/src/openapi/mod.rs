//! `GET /api/openapi.json`: the OpenAPI 3.1 document of every route an app serves (API.md,
//! "Operations"), as drf-spectacular gives a DRF project. It is built once, when the router is,
//! from the same [`ResourceDesc`]s and [`ActionDesc`]s the handlers route and validate with, so it
//! cannot drift from behaviour; a request only copies its bytes.
//!
//! The model is utoipa's `openapi` module (no derive macros: the resources are data here).

mod accounts;
mod operation;
mod resources;
mod schemas;

use utoipa::openapi::path::Paths;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};

use crate::actions::ActionDesc;
use crate::resource::ResourceDesc;

/// The document's `info`: the app's name and version ([`App::api_info`](crate::App::api_info)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiInfo {
    /// `info.title`.
    pub title: String,
    /// `info.version`: the app's version, not OpenAPI's.
    pub version: String,
}

impl Default for ApiInfo {
    fn default() -> ApiInfo {
        ApiInfo { title: "API".into(), version: "0.1.0".into() }
    }
}

/// The document of an app serving `resources` with `actions` (and `/docs` when `docs_page`).
pub fn document(info: &ApiInfo, resources: &[ResourceDesc], actions: &[ActionDesc], docs_page: bool) -> OpenApi {
    let mut paths = Paths::new();
    accounts::add(&mut paths, docs_page);
    let mut components = ComponentsBuilder::new()
        .schema(schemas::DETAIL, schemas::detail_schema())
        .schema(schemas::VALIDATION_ERROR, schemas::validation_error_schema())
        .security_scheme(
            operation::BEARER,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    for desc in resources {
        let [object, input, patch, page] = resources::names(desc);
        components = components
            .schema(object.clone(), schemas::object_schema(desc))
            .schema(input, schemas::input_schema(desc, None))
            .schema(patch, schemas::patch_schema(desc))
            .schema(page, schemas::page_schema(&object));
        resources::add(&mut paths, desc, actions);
    }
    OpenApiBuilder::new()
        .info(InfoBuilder::new().title(info.title.clone()).version(info.version.clone()).build())
        .paths(paths)
        .components(Some(components.build()))
        .security(Some(vec![SecurityRequirement::new(operation::BEARER, Vec::<String>::new())]))
        .build()
}
