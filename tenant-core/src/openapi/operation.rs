//! One operation of the document, with the parameters, bodies and the error answers of API.md's
//! table that apply to it: a small builder over utoipa's `Operation`.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{RefOr, Required};

use super::schemas::{DETAIL, error_schema, reference, value_schema};
use crate::value::FieldType;

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearerAuth";

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (sign-up, login, health).
    Public,
    /// A bearer token, no active company (the caller's own account and companies).
    User,
    /// A bearer token and an active company (`X-Company-Id` or the default): 403 without one.
    Tenant,
}

/// An operation being described.
pub struct Op {
    builder: OperationBuilder,
}

/// `application/json` content of `schema`.
fn json(schema: impl Into<RefOr<Schema>>) -> utoipa::openapi::content::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// A response with a JSON body.
pub fn response(description: &str, schema: impl Into<RefOr<Schema>>) -> Response {
    ResponseBuilder::new().description(description).content("application/json", json(schema)).build()
}

/// A 429: `{"detail"}` and `Retry-After` (seconds), `why` said first.
fn throttled(why: &str) -> Response {
    let header = HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::Integer)).build();
    ResponseBuilder::new()
        .description(format!("{why}: retry after `Retry-After` seconds"))
        .content("application/json", json(reference(DETAIL)))
        .header("Retry-After", header)
        .build()
}

/// `{"detail"}` with `description`.
fn detail(description: &str) -> Response {
    response(description, reference(DETAIL))
}

impl Op {
    /// An operation named `id` (unique in the document), tagged `tag`, callable by `access`.
    pub fn new(id: &str, tag: &str, summary: &str, access: Access) -> Op {
        let mut builder = OperationBuilder::new().operation_id(Some(id)).tag(tag).summary(Some(summary));
        builder = match access {
            // An empty list overrides the document's bearer requirement.
            Access::Public => builder.securities(Some(Vec::<SecurityRequirement>::new())),
            Access::User | Access::Tenant => {
                let unauthorized = ResponseBuilder::new()
                    .description("no token, or a malformed, expired or revoked one, or a refresh token")
                    .content("application/json", json(reference(DETAIL)))
                    .header(
                        "WWW-Authenticate",
                        HeaderBuilder::new().schema(ObjectBuilder::new().schema_type(Type::String)).build(),
                    )
                    .build();
                builder.response("401", unauthorized)
            }
        };
        if access == Access::Tenant {
            builder = builder
                .parameter(
                    ParameterBuilder::new()
                        .name("X-Company-Id")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some("The active company of this request (default: the caller's default company); the caller must be a member."))
                        .schema(Some(value_schema(FieldType::Uuid, false))),
                )
                .response("403", detail("no active company, `X-Company-Id` not a UUID or not a company of the caller, or a role too low"));
        }
        if access != Access::Public {
            // Every authenticated request counts against `THROTTLE_USER` (and a tenant request
            // against `THROTTLE_COMPANY`): `request_throttle.rs`.
            builder = builder
                .response("429", throttled("over the caller's (or the company's) request rate"))
                .response("503", detail("the database is unreachable or busy"));
        }
        Op { builder }
    }

    /// A path parameter (a UUID: anything else answers 404 like a missing object).
    pub fn path_id(mut self, name: &str) -> Op {
        let parameter = ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .schema(Some(value_schema(FieldType::Uuid, false)));
        self.builder = self.builder.parameter(parameter);
        self
    }

    /// A query parameter.
    pub fn query(mut self, name: &str, schema: impl Into<RefOr<Schema>>, description: &str) -> Op {
        let parameter = ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(schema));
        self.builder = self.builder.parameter(parameter);
        self
    }

    /// A comma-separated list parameter (`?ordering=a,-b`, `?status__in=x,y`).
    pub fn query_list(mut self, name: &str, schema: impl Into<RefOr<Schema>>, description: &str) -> Op {
        let parameter: Parameter = ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(description))
            .style(Some(ParameterStyle::Form))
            .explode(Some(false))
            .schema(Some(schema))
            .build();
        self.builder = self.builder.parameter(parameter);
        self
    }

    /// A JSON request body, with the answers a body can get (400 malformed, 408, 413, 415).
    pub fn body(mut self, schema: impl Into<RefOr<Schema>>, required: bool) -> Op {
        let body = RequestBodyBuilder::new()
            .content("application/json", json(schema))
            .required(Some(if required { Required::True } else { Required::False }))
            .build();
        self.builder = self
            .builder
            .request_body(Some(body))
            .response(
                "400",
                response("invalid fields (each with its messages), or malformed JSON (`detail`)", error_schema()),
            )
            .response("408", detail("the body did not arrive within `BODY_READ_TIMEOUT_SECS`"))
            .response("413", detail("the body is over 1 MiB"))
            .response("415", detail("the body is not JSON"));
        self
    }

    /// A response.
    pub fn answer(mut self, status: &str, response: Response) -> Op {
        self.builder = self.builder.response(status, response);
        self
    }

    /// An answer with no body (204).
    pub fn no_content(self, description: &str) -> Op {
        self.answer("204", ResponseBuilder::new().description(description).build())
    }

    /// `404 {"detail": "Not found."}`, the same for a missing object and another company's.
    pub fn not_found(self, what: &str) -> Op {
        self.answer("404", detail(what))
    }

    /// A 409 with `description`.
    pub fn conflict(self, description: &str) -> Op {
        self.answer("409", response(description, error_schema()))
    }

    /// `429` with `Retry-After`, for too many attempts (the credential endpoints' throttles).
    pub fn throttled(self) -> Op {
        self.answer("429", throttled("too many attempts"))
    }

    /// The operation.
    pub fn build(self) -> Operation {
        self.builder.build()
    }
}
