//! The framework's own routes (API.md's Auth, Companies and members, Operations), described by
//! hand here because their handlers read JSON objects field by field (`accounts/`, `auth/`).
//! The route-drift test (`tests/tests/openapi.rs`) keeps this list and the router equal.

use utoipa::openapi::path::Paths;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{HttpMethod, RefOr};

use super::operation::{Access, Op, response};
use super::schemas::value_schema;
use crate::value::FieldType;

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn uuid(nullable: bool) -> ObjectBuilder {
    value_schema(FieldType::Uuid, nullable)
}

fn role() -> ObjectBuilder {
    string().enum_values(Some(["admin", "staff"]))
}

fn email() -> ObjectBuilder {
    string().format(Some(utoipa::openapi::schema::SchemaFormat::Custom("email".into())))
}

fn time() -> ObjectBuilder {
    value_schema(FieldType::Timestamp, false)
}

/// An object with these properties, all required.
fn object(properties: Vec<(&str, Schema)>) -> Schema {
    let mut object = ObjectBuilder::new().schema_type(Type::Object);
    for (name, schema) in properties {
        object = object.property(name, schema).required(name);
    }
    object.into()
}

fn list(item: Schema) -> Schema {
    ArrayBuilder::new().items(RefOr::T(item)).into()
}

/// `{"access", "refresh"}`: what login and refresh (which rotates) both return.
fn tokens() -> Schema {
    object(vec![("access", string().into()), ("refresh", string().into())])
}

fn company() -> Schema {
    object(vec![
        ("id", uuid(false).into()),
        ("name", string().into()),
        ("created_at", time().into()),
        ("role", role().into()),
    ])
}

fn pending_invitation() -> Schema {
    object(vec![
        ("id", uuid(false).into()),
        ("email", email().into()),
        ("role", role().into()),
        ("status", string().enum_values(Some(["pending"])).into()),
        ("expires_at", time().into()),
    ])
}

fn member() -> Schema {
    object(vec![("user_id", uuid(false).into()), ("email", email().into()), ("role", role().into())])
}

fn me() -> Schema {
    let membership =
        object(vec![("company_id", uuid(false).into()), ("company_name", string().into()), ("role", role().into())]);
    object(vec![
        ("id", uuid(false).into()),
        ("email", email().into()),
        ("email_verified", value_schema(FieldType::Bool, false).into()),
        ("default_company_id", uuid(true).into()),
        ("active_company_id", uuid(true).into()),
        ("memberships", list(membership)),
    ])
}

/// A request body with these string properties, all required.
fn form(fields: Vec<(&str, ObjectBuilder)>) -> Schema {
    let mut object = ObjectBuilder::new().schema_type(Type::Object);
    for (name, schema) in fields {
        object = object.property(name, schema).required(name);
    }
    object.into()
}

/// A partial update's body (`PATCH`): these properties, none required. As DRF's `partial=True`,
/// `{}` is a valid body that changes nothing.
fn partial_form(fields: Vec<(&str, ObjectBuilder)>) -> Schema {
    let mut object = ObjectBuilder::new().schema_type(Type::Object);
    for (name, schema) in fields {
        object = object.property(name, schema);
    }
    object.into()
}

/// Every route of `auth/handlers.rs`, `accounts/` and `app.rs` (`/healthz`), and the document
/// itself; `/docs` when served.
pub fn add(paths: &mut Paths, docs_page: bool) {
    let password = || {
        string().min_length(Some(8)).max_length(Some(1024)).format(Some(
            utoipa::openapi::schema::SchemaFormat::KnownFormat(utoipa::openapi::schema::KnownFormat::Password),
        ))
    };
    let signup = Op::new("auth_signup", "auth", "Sign up: a user, a company and an admin membership", Access::Public)
        .body(
            form(vec![
                ("email", email()),
                ("password", password()),
                ("company_name", string().min_length(Some(1)).max_length(Some(200))),
            ]),
            true,
        )
        .answer(
            "201",
            response(
                "the user, the company, and tokens",
                object(vec![
                    (
                        "user",
                        object(vec![
                            ("id", uuid(false).into()),
                            ("email", email().into()),
                            ("email_verified", value_schema(FieldType::Bool, false).into()),
                            ("default_company_id", uuid(false).into()),
                        ]),
                    ),
                    ("company", company()),
                    ("access", string().into()),
                    ("refresh", string().into()),
                ]),
            ),
        )
        .conflict("a user with this e-mail address already exists")
        .throttled();
    paths.add_path_operation("/api/auth/signup", vec![HttpMethod::Post], signup.build());

    let token = Op::new("auth_token", "auth", "Log in: an access and a refresh token", Access::Public)
        .body(form(vec![("email", string()), ("password", string())]), true)
        .answer("200", response("the tokens", tokens()))
        .answer("401", response("wrong e-mail or password", super::schemas::reference(super::schemas::DETAIL)))
        .throttled();
    paths.add_path_operation("/api/auth/token", vec![HttpMethod::Post], token.build());

    let refresh = Op::new(
        "auth_token_refresh",
        "auth",
        "Exchange a refresh token for a new access and refresh token (rotation: the one sent is retired)",
        Access::Public,
    )
    .body(form(vec![("refresh", string())]), true)
    .answer("200", response("the new tokens; use the new refresh token next time", tokens()))
    .answer(
        "401",
        response(
            "an invalid, expired or revoked refresh token; one already exchanged revokes its whole login",
            super::schemas::reference(super::schemas::DETAIL),
        ),
    );
    paths.add_path_operation("/api/auth/token/refresh", vec![HttpMethod::Post], refresh.build());

    let logout = Op::new("auth_logout", "auth", "Log out: the refresh token's login no longer refreshes", Access::User)
        .body(form(vec![("refresh", string())]), true)
        .no_content("revoked (or already was)");
    paths.add_path_operation("/api/auth/logout", vec![HttpMethod::Post], logout.build());

    let password = Op::new(
        "auth_password_change",
        "auth",
        "Change the caller's password: every refresh token of the caller is revoked",
        Access::User,
    )
    .body(form(vec![("current_password", string()), ("new_password", password())]), true)
    .no_content("changed")
    .throttled();
    paths.add_path_operation("/api/auth/password", vec![HttpMethod::Post], password.build());

    let verify =
        Op::new("auth_verify_email", "auth", "Verify an e-mail address with the token mailed to it", Access::Public)
            .body(form(vec![("token", string())]), true)
            .answer(
                "200",
                response(
                    "verified",
                    object(vec![
                        ("email", email().into()),
                        ("email_verified", value_schema(FieldType::Bool, false).into()),
                    ]),
                ),
            )
            .throttled();
    paths.add_path_operation("/api/auth/verify-email", vec![HttpMethod::Post], verify.build());

    let resend = Op::new("auth_verify_email_resend", "auth", "Mail a new verification token", Access::User)
        .no_content("sent (or already verified)")
        .throttled();
    paths.add_path_operation("/api/auth/verify-email/resend", vec![HttpMethod::Post], resend.build());

    let get_me = Op::new("me_retrieve", "me", "The caller, their memberships and the active company", Access::User)
        .answer("200", response("the caller", me()));
    paths.add_path_operation("/api/me", vec![HttpMethod::Get], get_me.build());
    let patch_me = Op::new("me_partial_update", "me", "Change the caller's default company", Access::User)
        .body(partial_form(vec![("default_company_id", uuid(true))]), true)
        .answer("200", response("the caller", me()))
        .answer("403", response("not a member of that company", super::schemas::reference(super::schemas::DETAIL)));
    paths.add_path_operation("/api/me", vec![HttpMethod::Patch], patch_me.build());

    let companies =
        Op::new("companies_list", "companies", "The caller's companies, with the caller's role", Access::User)
            .answer("200", response("the companies", list(company())));
    paths.add_path_operation("/api/companies", vec![HttpMethod::Get], companies.build());
    let create_company =
        Op::new("companies_create", "companies", "Create a company; the caller becomes its admin", Access::User)
            .body(form(vec![("name", string().min_length(Some(1)).max_length(Some(200)))]), true)
            .answer("201", response("the company", company()))
            .conflict("the caller belongs to the most companies allowed");
    paths.add_path_operation("/api/companies", vec![HttpMethod::Post], create_company.build());

    let members = Op::new("members_list", "members", "The members of the active company", Access::Tenant)
        .answer("200", response("the members", list(member())));
    paths.add_path_operation("/api/members", vec![HttpMethod::Get], members.build());
    let invite =
        Op::new("members_create", "members", "Invite an address to the active company. Admins only.", Access::Tenant)
            .body(form(vec![("email", email()), ("role", role())]), true)
            .answer(
                "201",
                response(
                    "the pending invitation (the same whether or not the address has an account)",
                    pending_invitation(),
                ),
            )
            .conflict("the address is already a member")
            .throttled();
    paths.add_path_operation("/api/members", vec![HttpMethod::Post], invite.build());
    let pending = Op::new(
        "members_invitations_list",
        "members",
        "The active company's pending invitations. Admins only.",
        Access::Tenant,
    )
    .answer("200", response("the invitations", list(pending_invitation())));
    paths.add_path_operation("/api/members/invitations", vec![HttpMethod::Get], pending.build());
    let revoke =
        Op::new("members_invitations_destroy", "members", "Revoke an invitation. Admins only.", Access::Tenant)
            .path_id("id")
            .no_content("revoked")
            .not_found("no such pending invitation in the active company");
    paths.add_path_operation("/api/members/invitations/{id}", vec![HttpMethod::Delete], revoke.build());
    let change_role =
        Op::new("members_partial_update", "members", "Change a member's role. Admins only.", Access::Tenant)
            .path_id("user_id")
            .body(partial_form(vec![("role", role())]), true)
            .answer("200", response("the member", member()))
            .not_found("no such member in the active company")
            .conflict("that would leave the company without an admin");
    paths.add_path_operation("/api/members/{user_id}", vec![HttpMethod::Patch], change_role.build());
    let remove = Op::new("members_destroy", "members", "Remove a member (admins), or leave (oneself)", Access::Tenant)
        .path_id("user_id")
        .no_content("removed")
        .not_found("no such member in the active company")
        .conflict("that would leave the company without an admin");
    paths.add_path_operation("/api/members/{user_id}", vec![HttpMethod::Delete], remove.build());

    let invitation = object(vec![
        ("id", uuid(false).into()),
        ("company_id", uuid(false).into()),
        ("company_name", string().into()),
        ("role", role().into()),
        ("expires_at", time().into()),
    ]);
    let mine = Op::new("invitations_list", "invitations", "The caller's pending invitations", Access::User)
        .answer("200", response("the invitations", list(invitation)));
    paths.add_path_operation("/api/invitations", vec![HttpMethod::Get], mine.build());
    let accept = Op::new(
        "invitations_accept",
        "invitations",
        "Accept an invitation addressed to the caller's verified e-mail",
        Access::User,
    )
    .path_id("id")
    .answer(
        "200",
        response("the new membership", object(vec![("company_id", uuid(false).into()), ("role", role().into())])),
    )
    .not_found("no such pending invitation for the caller");
    paths.add_path_operation("/api/invitations/{id}/accept", vec![HttpMethod::Post], accept.build());
    let decline = Op::new("invitations_decline", "invitations", "Decline an invitation", Access::User)
        .path_id("id")
        .no_content("declined")
        .not_found("no such pending invitation for the caller");
    paths.add_path_operation("/api/invitations/{id}/decline", vec![HttpMethod::Post], decline.build());

    let health = Op::new("healthz", "operations", "Liveness and database reachability", Access::Public)
        .answer("200", response("up", object(vec![("status", string().enum_values(Some(["ok"])).into())])))
        .answer("503", response("the database is unreachable", super::schemas::reference(super::schemas::DETAIL)));
    paths.add_path_operation("/healthz", vec![HttpMethod::Get], health.build());
    let document = Op::new("openapi", "operations", "This OpenAPI 3.1 document", Access::Public)
        .answer("200", response("the document", ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object))));
    paths.add_path_operation("/api/openapi.json", vec![HttpMethod::Get], document.build());
    if docs_page {
        let page = Op::new(
            "docs",
            "operations",
            "A browsable page of this document (Swagger UI, served offline)",
            Access::Public,
        )
        .answer("200", utoipa::openapi::response::ResponseBuilder::new().description("the page (HTML)").build());
        paths.add_path_operation("/docs", vec![HttpMethod::Get], page.build());
    }
}
