//! An in-memory model of the demo app's HTTP contract (API.md), for the randomized isolation
//! test (`tests/tests/model_isolation.rs`): companies, members and their roles, invitations,
//! default companies, and the rows of customers, products and invoices.
//!
//! The model predicts, for every [`Op`], each response's status and, where the answer shows
//! objects, exactly which: a list's ids on the page (in order) and its count, a retrieve's
//! object or the one 404 body a missing id gets, a member list, `/api/me`. [`Run::step`] sends
//! the op's request(s) in process, compares, and applies the op to the model only as far as
//! the contract says it changes anything; the first difference is a [`Divergence`].
//!
//! Ops name users, companies and rows symbolically (`user3`, `company2`, `<row c2#4>`), resolved
//! against the model when they run, so any subsequence of a sequence is still a valid sequence:
//! shrinking may drop or simplify ops freely.
//!
//! The generated values keep to a few lowercase spellings of fixed shape, so that text ordering
//! is the same under every collation the backends may use, and unique values collide often
//! enough to exercise the 409s.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Auth, Resp, TestApp, TokenType, User, signed_token};

/// Users signed up once per backend run, reused by every case.
pub const USERS: usize = 8;
/// Companies each case founds before its random operations.
pub const FOUNDED: usize = 5;

/// The three resources of the demo app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Customers,
    Products,
    Invoices,
}

impl Resource {
    pub const ALL: [Resource; 3] = [Resource::Customers, Resource::Products, Resource::Invoices];

    fn path(self) -> &'static str {
        match self {
            Resource::Customers => "/api/customers",
            Resource::Products => "/api/products",
            Resource::Invoices => "/api/invoices",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A member's role (ordered: staff < admin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Staff,
    Admin,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }
}

/// What a request sends as `X-Company-Id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Active {
    /// No header: the user's default company.
    Default,
    /// The case's company `n % companies` (a member or not).
    Company(u8),
    /// The user's own membership `n % memberships`, oldest company first (a stranger's UUID when
    /// they belong to none).
    Member(u8),
    /// A well-formed UUID that names no company.
    Stranger,
    /// `not-a-uuid`.
    NotUuid,
}

/// The id in an item path (or a reference in a body or filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Row `index % rows` of the resource in the case's company `company % companies`, in the
    /// order they were created: in any company, the caller's or not.
    Row { company: u8, index: u8 },
    /// Row `index % rows` of the resource in the request's active company (a likely hit).
    Own { index: u8 },
    /// A UUID no row has.
    Missing,
    /// `not-a-uuid`.
    NotUuid,
}

/// A customer's, product's or invoice's writable fields, as sent (possibly invalid: an empty
/// name, an address that is not one, a negative amount, a status that is not a choice).
#[derive(Clone, Debug, PartialEq)]
pub enum Fields {
    Customer { name: String, email: String, phone: Option<String>, notes: String },
    Product { sku: String, name: String, price_cents: i64, active: bool },
    Invoice { customer: Target, number: String, amount_cents: i64, status: String, issued_on: Option<NaiveDate> },
}

impl Fields {
    fn resource(&self) -> Resource {
        match self {
            Fields::Customer { .. } => Resource::Customers,
            Fields::Product { .. } => Resource::Products,
            Fields::Invoice { .. } => Resource::Invoices,
        }
    }
}

/// One list query parameter; `Ref` values are a customer's id (`?customer_id=`).
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Text(String),
    Ref(Target),
}

/// A list request's query string: parameters in order (repeats allowed: the last counts).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ListParams(pub Vec<(&'static str, ParamValue)>);

/// One step of a case: a request, or two for [`Op::Join`].
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `GET /api/R?…`
    List { user: u8, active: Active, resource: Resource, params: ListParams },
    /// `POST /api/R`
    Create { user: u8, active: Active, fields: Fields },
    /// `GET /api/R/{id}`
    Retrieve { user: u8, active: Active, resource: Resource, target: Target },
    /// `PUT /api/R/{id}` with every writable field.
    Update { user: u8, active: Active, target: Target, fields: Fields },
    /// `PATCH /api/R/{id}` with the fields whose bit is set in `mask` (field order).
    PartialUpdate { user: u8, active: Active, target: Target, fields: Fields, mask: u8 },
    /// `DELETE /api/R/{id}`
    Destroy { user: u8, active: Active, resource: Resource, target: Target },
    /// `POST /api/members` `{"email": invitee's, "role"}`
    Invite { user: u8, active: Active, invitee: u8, role: Role },
    /// `POST /api/invitations/{id}/accept`, `id` the pending invitation `invitation % pending`
    /// (a fresh UUID when none is pending), by its invitee (`user: None`) or by `user`.
    Accept { user: Option<u8>, invitation: u8 },
    /// `POST /api/invitations/{id}/decline`, `id` and the caller as for `Accept`.
    Decline { user: Option<u8>, invitation: u8 },
    /// An admin of company `company` invites `member` with `role`, who accepts.
    Join { company: u8, member: u8, role: Role },
    /// `PATCH /api/members/{member}` `{"role"}`
    ChangeRole { user: u8, active: Active, member: u8, role: Role },
    /// `DELETE /api/members/{member}` (leaving when `member == user`).
    RemoveMember { user: u8, active: Active, member: u8 },
    /// `GET /api/members`
    ListMembers { user: u8, active: Active },
    /// `GET /api/me`
    Me { user: u8, active: Active },
    /// `PATCH /api/me` `{"default_company_id": company's id or null}`
    SetDefaultCompany { user: u8, company: Option<u8> },
    /// `GET /api/companies`
    ListCompanies { user: u8 },
    /// `POST /api/companies` `{"name"}`
    CreateCompany { user: u8 },
    /// `POST /api/auth/token/refresh` with the user's current refresh token: rotation, the
    /// answer's tokens are used from then on (401 once the login is revoked).
    RefreshToken { user: u8 },
    /// `POST /api/auth/token/refresh` with a refresh token the user already exchanged: 401, and
    /// the whole login is revoked (API.md), so the current one refreshes nothing either.
    ReuseRefreshToken { user: u8 },
}

// ---------------------------------------------------------------------------------------------
// Model state.

#[derive(Clone, Debug)]
struct Member {
    user: usize,
    role: Role,
    /// When they joined (the order of `GET /api/members` and of the default's fall-back).
    joined: u64,
}

#[derive(Clone, Debug)]
struct Company {
    id: Uuid,
    /// Members in the order they joined.
    members: Vec<Member>,
}

impl Company {
    fn role_of(&self, user: usize) -> Option<Role> {
        self.members.iter().find(|m| m.user == user).map(|m| m.role)
    }

    fn admins(&self) -> usize {
        self.members.iter().filter(|m| m.role == Role::Admin).count()
    }
}

/// A stored row's writable fields, references resolved.
#[derive(Clone, Debug, PartialEq)]
enum Stored {
    Customer { name: String, email: String, phone: Option<String>, notes: String },
    Product { sku: String, name: String, price_cents: i64, active: bool },
    Invoice { customer_id: Uuid, number: String, amount_cents: i64, status: String, issued_on: Option<NaiveDate> },
}

impl Stored {
    fn to_json(&self) -> serde_json::Map<String, Value> {
        let v = match self {
            Stored::Customer { name, email, phone, notes } => {
                json!({"name": name, "email": email, "phone": phone, "notes": notes})
            }
            Stored::Product { sku, name, price_cents, active } => {
                json!({"sku": sku, "name": name, "price_cents": price_cents, "active": active})
            }
            Stored::Invoice { customer_id, number, amount_cents, status, issued_on } => json!({
                "customer_id": customer_id, "number": number, "amount_cents": amount_cents,
                "status": status, "issued_on": issued_on.map(|d| d.to_string()),
            }),
        };
        match v {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    /// The value of the unique field (`email`, `sku`, `number`).
    fn unique(&self) -> &str {
        match self {
            Stored::Customer { email, .. } => email,
            Stored::Product { sku, .. } => sku,
            Stored::Invoice { number, .. } => number,
        }
    }

    /// The text of the searchable fields (customers: name, email; products: name; invoices:
    /// number).
    fn searchable(&self) -> Vec<&str> {
        match self {
            Stored::Customer { name, email, .. } => vec![name, email],
            Stored::Product { name, .. } => vec![name],
            Stored::Invoice { number, .. } => vec![number],
        }
    }
}

#[derive(Clone, Debug)]
struct Row {
    id: Uuid,
    company: usize,
    created_at: DateTime<Utc>,
    stored: Stored,
}

#[derive(Clone, Debug)]
struct Invitation {
    id: Uuid,
    company: usize,
    invitee: usize,
    role: Role,
}

#[derive(Clone, Debug)]
struct UserState {
    id: Uuid,
    email: String,
    default: Option<usize>,
    access: String,
    refresh: String,
    /// Refresh tokens this user exchanged already, oldest first.
    retired: Vec<String>,
    /// The login was revoked (a retired token came back): every refresh of it is a 401.
    revoked: bool,
}

/// The model of one case: fresh companies, the backend run's users, no rows.
pub struct Model {
    users: Vec<UserState>,
    companies: Vec<Company>,
    /// Rows per resource ([`Resource::index`]), in creation order.
    rows: [Vec<Row>; 3],
    invitations: Vec<Invitation>,
    clock: u64,
    quota: usize,
    /// A UUID no company and no row has (a fresh v4 per case).
    stranger: Uuid,
}

impl Model {
    fn company_slot(&self, n: u8) -> Option<usize> {
        (!self.companies.is_empty()).then(|| n as usize % self.companies.len())
    }

    fn member_slot(&self, user: usize, n: u8) -> Option<usize> {
        let mine = self.memberships(user);
        (!mine.is_empty()).then(|| mine[n as usize % mine.len()].0)
    }

    fn memberships(&self, user: usize) -> Vec<(usize, Role)> {
        self.companies.iter().enumerate().filter_map(|(i, c)| c.role_of(user).map(|r| (i, r))).collect()
    }

    /// The active company and the caller's role in it, or why not (always a 403).
    fn active(&self, user: usize, active: Active) -> Option<(usize, Role)> {
        let company = match active {
            Active::Default => self.users[user].default?,
            Active::Company(n) => self.company_slot(n)?,
            Active::Member(n) => self.member_slot(user, n)?,
            Active::Stranger | Active::NotUuid => return None,
        };
        self.companies[company].role_of(user).map(|role| (company, role))
    }

    fn auth(&self, user: usize, active: Active) -> Auth {
        let token = self.users[user].access.clone();
        match active {
            Active::Default => Auth::Bearer(token),
            Active::Company(n) => {
                let id = self.company_slot(n).map_or(self.stranger, |c| self.companies[c].id);
                Auth::BearerCompany(token, id.to_string())
            }
            Active::Member(n) => {
                let id = self.member_slot(user, n).map_or(self.stranger, |c| self.companies[c].id);
                Auth::BearerCompany(token, id.to_string())
            }
            Active::Stranger => Auth::BearerCompany(token, self.stranger.to_string()),
            Active::NotUuid => Auth::BearerCompany(token, "not-a-uuid".into()),
        }
    }

    fn active_label(&self, user: usize, active: Active) -> String {
        match active {
            Active::Default => match self.users[user].default {
                Some(c) => format!("in default company{c}"),
                None => "with no default company".into(),
            },
            Active::Company(n) => match self.company_slot(n) {
                Some(c) => format!("in company{c}"),
                None => "in a company that is not there".into(),
            },
            Active::Member(n) => match self.member_slot(user, n) {
                Some(c) => format!("in company{c}"),
                None => "in a company that does not exist (a member of none)".into(),
            },
            Active::Stranger => "in a company that does not exist".into(),
            Active::NotUuid => "with X-Company-Id: not-a-uuid".into(),
        }
    }

    /// A target's id as sent, its label, and the row it names (any company's), if any.
    fn resolve(&self, resource: Resource, target: Target, active: Option<usize>) -> (String, String, Option<usize>) {
        let rows = &self.rows[resource.index()];
        let pick = |company: usize, index: u8| {
            let of: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].company == company).collect();
            (!of.is_empty()).then(|| {
                let k = index as usize % of.len();
                (of[k], format!("<row c{company}#{k}>"))
            })
        };
        let found = match target {
            Target::Row { company, index } => self.company_slot(company).and_then(|c| pick(c, index)),
            Target::Own { index } => active.and_then(|c| pick(c, index)),
            Target::Missing => None,
            Target::NotUuid => return ("not-a-uuid".into(), "not-a-uuid".into(), None),
        };
        match found {
            Some((i, label)) => (rows[i].id.to_string(), label, Some(i)),
            None => (self.stranger.to_string(), "<missing id>".into(), None),
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn join(&mut self, company: usize, user: usize, role: Role) {
        let joined = self.tick();
        self.companies[company].members.push(Member { user, role, joined });
        if self.users[user].default.is_none() {
            self.users[user].default = Some(company);
        }
    }

    /// API.md: leaving or removal from one's default company makes the oldest remaining
    /// membership the default (or none); any other default stays.
    fn leave(&mut self, company: usize, user: usize) {
        self.companies[company].members.retain(|m| m.user != user);
        if self.users[user].default == Some(company) {
            let oldest = self
                .companies
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.members.iter().find(|m| m.user == user).map(|m| (m.joined, c.id, i)))
                .min();
            self.users[user].default = oldest.map(|(_, _, i)| i);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation, as API.md's field tables say.

fn text_ok(s: &str, max: usize) -> bool {
    let n = s.trim().chars().count();
    (1..=max).contains(&n)
}

fn email_ok(s: &str) -> bool {
    s.contains('@') && s.ends_with(".io")
}

fn status_ok(s: &str) -> bool {
    matches!(s, "draft" | "sent" | "paid")
}

/// Which fields of `fields` a body carries: all (`mask == None`) or those whose bit is set.
fn sends(mask: Option<u8>, bit: u8) -> bool {
    mask.is_none_or(|m| m & (1 << bit) != 0)
}

/// Whether the sent fields pass validation (references apart).
fn valid(fields: &Fields, mask: Option<u8>) -> bool {
    match fields {
        Fields::Customer { name, email, phone, .. } => {
            (!sends(mask, 0) || text_ok(name, 200))
                && (!sends(mask, 1) || email_ok(email))
                && (!sends(mask, 2) || phone.as_ref().is_none_or(|p| p.chars().count() <= 50))
        }
        Fields::Product { sku, name, price_cents, .. } => {
            (!sends(mask, 0) || text_ok(sku, 64))
                && (!sends(mask, 1) || text_ok(name, 200))
                && (!sends(mask, 2) || *price_cents >= 0)
        }
        Fields::Invoice { customer, number, amount_cents, status, .. } => {
            (!sends(mask, 0) || *customer != Target::NotUuid)
                && (!sends(mask, 1) || text_ok(number, 32))
                && (!sends(mask, 2) || *amount_cents >= 0)
                && (!sends(mask, 3) || status_ok(status))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lists: API.md's filters, lookups, search, ordering and pages, over the model's rows.

enum ListOutcome {
    /// 400 on these parameters.
    Invalid,
    Page {
        page: u64,
        page_size: u64,
        ordering: Vec<(&'static str, bool)>,
        keep: Vec<Cond>,
        search: Vec<String>,
    },
}

enum Cond {
    Eq(&'static str, Value),
    Gte(&'static str, Value),
    Lte(&'static str, Value),
    In(&'static str, Vec<String>),
    IsNull(&'static str, bool),
}

fn field_value(stored: &Stored, name: &str) -> Value {
    stored.to_json().remove(name).unwrap_or(Value::Null)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    (s.len() == 10).then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()).flatten()
}

/// The server's reading of a list query string, as API.md and DRF define it.
fn parse_list(resource: Resource, pairs: &[(&'static str, String)]) -> ListOutcome {
    // The last value of a repeated parameter counts.
    let mut last: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in pairs {
        match last.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1.clone_from(v),
            None => last.push((k, v.clone())),
        }
    }
    let (orderable, filters, lookups): (&[&str], &[&str], &[&str]) = match resource {
        Resource::Customers => (&["name", "email"], &["email"], &[]),
        Resource::Products => (&["sku", "name", "price_cents"], &["sku", "active"], &["price_cents"]),
        Resource::Invoices => (
            &["number", "amount_cents", "issued_on"],
            &["customer_id", "number", "status"],
            &["amount_cents", "status", "issued_on"],
        ),
    };
    let (mut page, mut page_size, mut ordering, mut keep, mut search) = (1, 20, vec![], vec![], vec![]);
    let mut invalid = false;
    for (key, raw) in last {
        match key {
            "page" => page = raw.trim().parse::<u64>().unwrap_or(1).max(1),
            "page_size" => {
                page_size = match raw.trim().parse::<u64>() {
                    Ok(n) if n >= 1 => n.min(100),
                    _ => 20,
                }
            }
            "ordering" => {
                for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let (name, desc) = part.strip_prefix('-').map_or((part, false), |n| (n, true));
                    match orderable.iter().find(|f| **f == name) {
                        Some(f) if !ordering.iter().any(|(n, _)| n == f) => ordering.push((*f, desc)),
                        Some(_) => {}
                        None => invalid = true,
                    }
                }
            }
            "search" => {
                search = raw
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_lowercase)
                    .collect()
            }
            _ if raw.is_empty() => {}
            _ if filters.contains(&key) => match (resource, key) {
                (_, "email" | "sku" | "number") => keep.push(Cond::Eq(key, json!(raw.trim()))),
                (_, "active") => match parse_bool(&raw) {
                    Some(b) => keep.push(Cond::Eq(key, json!(b))),
                    None => invalid = true,
                },
                (_, "customer_id") => match Uuid::parse_str(raw.trim()) {
                    Ok(id) => keep.push(Cond::Eq(key, json!(id))),
                    Err(_) => invalid = true,
                },
                (_, "status") if status_ok(raw.trim()) => keep.push(Cond::Eq(key, json!(raw.trim()))),
                _ => invalid = true,
            },
            _ => {
                let Some((field, lookup)) = key.split_once("__") else { continue };
                let Some(field) = lookups.iter().find(|f| **f == field) else { continue };
                match (*field, lookup) {
                    ("price_cents" | "amount_cents", "gte" | "lte") => match raw.trim().parse::<i64>() {
                        Ok(n) if lookup == "gte" => keep.push(Cond::Gte(field, json!(n))),
                        Ok(n) => keep.push(Cond::Lte(field, json!(n))),
                        Err(_) => invalid = true,
                    },
                    ("status", "in") => {
                        let items: Vec<String> = raw.split(',').map(|s| s.trim().to_string()).collect();
                        if items.iter().all(|s| status_ok(s)) {
                            keep.push(Cond::In(field, items));
                        } else {
                            invalid = true;
                        }
                    }
                    ("issued_on", "gte" | "lte") => match parse_date(&raw) {
                        Some(d) if lookup == "gte" => keep.push(Cond::Gte(field, json!(d.to_string()))),
                        Some(d) => keep.push(Cond::Lte(field, json!(d.to_string()))),
                        None => invalid = true,
                    },
                    ("issued_on", "isnull") => match parse_bool(&raw) {
                        Some(b) => keep.push(Cond::IsNull(field, b)),
                        None => invalid = true,
                    },
                    _ => {}
                }
            }
        }
    }
    if invalid { ListOutcome::Invalid } else { ListOutcome::Page { page, page_size, ordering, keep, search } }
}

/// Compares two field values of one field: numbers, dates (as `YYYY-MM-DD` text) and text.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_i64().cmp(&y.as_i64()),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

fn matches(row: &Row, keep: &[Cond], search: &[String]) -> bool {
    let conds = keep.iter().all(|c| match c {
        Cond::Eq(f, v) => &field_value(&row.stored, f) == v,
        Cond::Gte(f, v) => {
            let x = field_value(&row.stored, f);
            !x.is_null() && compare(&x, v) != Ordering::Less
        }
        Cond::Lte(f, v) => {
            let x = field_value(&row.stored, f);
            !x.is_null() && compare(&x, v) != Ordering::Greater
        }
        Cond::In(f, items) => field_value(&row.stored, f).as_str().is_some_and(|s| items.iter().any(|i| i == s)),
        Cond::IsNull(f, want) => field_value(&row.stored, f).is_null() == *want,
    });
    let texts = row.stored.searchable();
    conds && search.iter().all(|term| texts.iter().any(|t| t.to_lowercase().contains(term.as_str())))
}

/// `ordering`'s comparison, NULLs last ascending and first descending, then `created_at`, `id`.
fn order(a: &Row, b: &Row, ordering: &[(&'static str, bool)]) -> Ordering {
    for (field, desc) in ordering {
        let (x, y) = (field_value(&a.stored, field), field_value(&b.stored, field));
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            // NULL is the greatest value: last ascending, first descending.
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => compare(&x, &y),
        };
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))
}

// ---------------------------------------------------------------------------------------------
// Running ops against the app.

/// The first difference between the app and the model.
#[derive(Debug)]
pub struct Divergence {
    /// The requests of the case up to and including the one that diverged, one a line.
    pub trace: Vec<String>,
    /// What the model expected and what came back.
    pub message: String,
}

/// One case in progress: the app, the model, and the requests sent so far.
pub struct Run<'a> {
    app: &'a TestApp,
    pub model: Model,
    trace: Vec<String>,
    /// Requests sent (an op may send two).
    pub requests: usize,
}

/// The answer of a request as the trace shows it.
fn short(r: &Resp) -> String {
    let mut text = r.text.clone();
    if text.len() > 300 {
        text.truncate(300);
        text.push('…');
    }
    format!("{} {}", r.status, text)
}

const NOT_FOUND: &str = r#"{"detail":"Not found."}"#;

type Step = Result<(), String>;

fn expect_status(r: &Resp, status: u16) -> Step {
    if r.status == status { Ok(()) } else { Err(format!("expected status {status}, got {}", short(r))) }
}

/// A 404 must be exactly a missing id's body, whoever owns the id.
fn expect_not_found(r: &Resp) -> Step {
    expect_status(r, 404)?;
    if r.body == serde_json::from_str::<Value>(NOT_FOUND).expect("json") {
        Ok(())
    } else {
        Err(format!("expected the body of a missing id {NOT_FOUND}, got {}", short(r)))
    }
}

fn uuid_at(body: &Value, key: &str) -> Option<Uuid> {
    body.get(key).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

impl<'a> Run<'a> {
    /// Empties the database of everything but the users (companies, memberships, invitations,
    /// rows), and starts a model of that state with fresh tokens for `users`.
    pub async fn start(app: &'a TestApp, users: &[User]) -> Run<'a> {
        reset(app).await;
        let logins = record_logins(app, users).await;
        let quota = app.state.config().max_companies_per_user as usize;
        let users = users
            .iter()
            .zip(logins)
            .map(|(u, refresh)| UserState {
                id: u.id,
                email: u.email.clone(),
                default: None,
                access: signed_token(u.id, TokenType::Access),
                refresh,
                retired: Vec::new(),
                revoked: false,
            })
            .collect();
        let model = Model {
            users,
            companies: vec![],
            rows: [vec![], vec![], vec![]],
            invitations: vec![],
            clock: 0,
            quota,
            stranger: Uuid::new_v4(),
        };
        Run { app, model, trace: vec![], requests: 0 }
    }

    /// The requests sent so far, as a failure shows them.
    pub fn trace(&self) -> &[String] {
        &self.trace
    }

    /// Runs `ops` until the first divergence.
    pub async fn run(&mut self, ops: &[Op]) -> Result<(), Divergence> {
        for op in ops {
            if let Err(message) = self.step(op).await {
                return Err(Divergence { trace: std::mem::take(&mut self.trace), message });
            }
        }
        Ok(())
    }

    async fn send(&mut self, line: String, method: &str, path: &str, auth: &Auth, body: Option<Value>) -> Resp {
        let r = self.app.request(method, path, auth, body).await;
        self.requests += 1;
        self.trace.push(format!("{line} → {}", r.status));
        r
    }

    /// Sends `op`'s request(s), compares the answers with the model's prediction, and moves
    /// the model on.
    pub async fn step(&mut self, op: &Op) -> Step {
        match op {
            Op::List { user, active, resource, params } => self.list(*user as usize, *active, *resource, params).await,
            Op::Create { user, active, fields } => self.create(*user as usize, *active, fields).await,
            Op::Retrieve { user, active, resource, target } => {
                self.retrieve(*user as usize, *active, *resource, *target).await
            }
            Op::Update { user, active, target, fields } => {
                self.update(*user as usize, *active, *target, fields, None).await
            }
            Op::PartialUpdate { user, active, target, fields, mask } => {
                self.update(*user as usize, *active, *target, fields, Some(*mask)).await
            }
            Op::Destroy { user, active, resource, target } => {
                self.destroy(*user as usize, *active, *resource, *target).await
            }
            Op::Invite { user, active, invitee, role } => {
                self.invite(*user as usize, *active, *invitee as usize % USERS, *role).await.map(|_| ())
            }
            Op::Accept { user, invitation } => self.answer_pending(*user, *invitation, true).await,
            Op::Decline { user, invitation } => self.answer_pending(*user, *invitation, false).await,
            Op::Join { company, member, role } => self.join(*company, *member as usize % USERS, *role).await,
            Op::ChangeRole { user, active, member, role } => {
                self.change_role(*user as usize, *active, *member as usize % USERS, *role).await
            }
            Op::RemoveMember { user, active, member } => {
                self.remove_member(*user as usize, *active, *member as usize % USERS).await
            }
            Op::ListMembers { user, active } => self.list_members(*user as usize, *active).await,
            Op::Me { user, active } => self.me(*user as usize, *active).await,
            Op::SetDefaultCompany { user, company } => self.set_default(*user as usize, *company).await,
            Op::ListCompanies { user } => self.list_companies(*user as usize).await,
            Op::CreateCompany { user } => self.create_company(*user as usize).await,
            Op::RefreshToken { user } => self.refresh(*user as usize).await,
            Op::ReuseRefreshToken { user } => self.reuse_refresh(*user as usize).await,
        }
    }

    fn who(&self, user: usize, active: Active) -> String {
        format!("user{user} {}", self.model.active_label(user, active))
    }

    // -- Resources --------------------------------------------------------------------------

    async fn list(&mut self, user: usize, active: Active, resource: Resource, params: &ListParams) -> Step {
        let act = self.model.active(user, active);
        let (mut pairs, mut shown): (Vec<(&'static str, String)>, Vec<String>) = (vec![], vec![]);
        for (key, value) in &params.0 {
            let (sent, label) = match value {
                ParamValue::Text(t) => (t.clone(), t.clone()),
                ParamValue::Ref(t) => {
                    let (id, label, _) = self.model.resolve(Resource::Customers, *t, act.map(|a| a.0));
                    (id, label.replace("<row ", "<customer "))
                }
            };
            shown.push(format!("{key}={label}"));
            pairs.push((*key, sent));
        }
        let encoded: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{k}={}", crate::lists::percent_encode(v))).collect();
        let with = |query: &[String]| {
            if query.is_empty() {
                resource.path().to_string()
            } else {
                format!("{}?{}", resource.path(), query.join("&"))
            }
        };
        let path = with(&encoded);
        // The trace shows the values as they are, and customers' ids as labels.
        let line = format!("{}: GET {}", self.who(user, active), with(&shown));
        let r = self.send(line, "GET", &path, &self.model.auth(user, active), None).await;
        let Some((company, _)) = act else { return expect_status(&r, 403) };
        let ListOutcome::Page { page, page_size, ordering, keep, search } = parse_list(resource, &pairs) else {
            return expect_status(&r, 400);
        };
        let mut rows: Vec<&Row> = self.model.rows[resource.index()]
            .iter()
            .filter(|row| row.company == company && matches(row, &keep, &search))
            .collect();
        rows.sort_by(|a, b| order(a, b, &ordering));
        let count = rows.len() as u64;
        let start = ((page - 1) * page_size) as usize;
        let expected: Vec<String> =
            rows.iter().skip(start).take(page_size as usize).map(|row| row.id.to_string()).collect();
        if expected.is_empty() && page > 1 {
            expect_status(&r, 404)?;
            return if r.body == json!({"detail": "Invalid page."}) {
                Ok(())
            } else {
                Err(format!("expected {{\"detail\": \"Invalid page.\"}}, got {}", short(&r)))
            };
        }
        expect_status(&r, 200)?;
        let got: Vec<String> = r.body["results"]
            .as_array()
            .map(|a| a.iter().map(|o| o["id"].as_str().unwrap_or("?").to_string()).collect())
            .unwrap_or_default();
        let got_count = r.body["count"].as_u64();
        if got != expected || got_count != Some(count) {
            let label = |ids: &[String]| self.labels(resource, ids);
            return Err(format!(
                "expected count {count} and ids {:?}, got count {got_count:?} and ids {:?}",
                label(&expected),
                label(&got)
            ));
        }
        let last_page = count.div_ceil(page_size).max(1);
        if r.body["next"].is_null() == (page < last_page) || r.body["previous"].is_null() == (page > 1) {
            return Err(format!("page {page} of {last_page}: wrong next/previous links in {}", short(&r)));
        }
        // Every object on the page is the model's, field for field.
        for obj in r.body["results"].as_array().into_iter().flatten() {
            self.same_object(resource, obj, company)?;
        }
        Ok(())
    }

    /// Labels for ids, as the trace names rows (`<row c2#4>`), or the raw id of an unknown row.
    fn labels(&self, resource: Resource, ids: &[String]) -> Vec<String> {
        let rows = &self.model.rows[resource.index()];
        ids.iter()
            .map(|id| match rows.iter().position(|r| r.id.to_string() == *id) {
                Some(i) => {
                    let c = rows[i].company;
                    let k = rows[..i].iter().filter(|r| r.company == c).count();
                    format!("<row c{c}#{k}>")
                }
                None => format!("<unknown {id}>"),
            })
            .collect()
    }

    /// `obj` is the model's row of its id, in `company`, with the model's field values.
    fn same_object(&self, resource: Resource, obj: &Value, company: usize) -> Step {
        let id = uuid_at(obj, "id").ok_or_else(|| format!("an object without an id: {obj}"))?;
        let row = self.model.rows[resource.index()]
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| format!("an object the model does not know: {obj}"))?;
        if row.company != company || uuid_at(obj, "company_id") != Some(self.model.companies[company].id) {
            return Err(format!(
                "{} of company{} answered in company{company}: {obj}",
                self.labels(resource, &[id.to_string()])[0],
                row.company
            ));
        }
        for (key, value) in row.stored.to_json() {
            if obj.get(&key) != Some(&value) {
                return Err(format!("field {key}: expected {value}, got {obj}"));
            }
        }
        Ok(())
    }

    fn body(&self, fields: &Fields, mask: Option<u8>, active: Option<usize>) -> Value {
        let mut body = serde_json::Map::new();
        let mut put = |bit: u8, key: &str, value: Value| {
            if sends(mask, bit) {
                body.insert(key.to_string(), value);
            }
        };
        match fields {
            Fields::Customer { name, email, phone, notes } => {
                put(0, "name", json!(name));
                put(1, "email", json!(email));
                put(2, "phone", json!(phone));
                put(3, "notes", json!(notes));
            }
            Fields::Product { sku, name, price_cents, active: on } => {
                put(0, "sku", json!(sku));
                put(1, "name", json!(name));
                put(2, "price_cents", json!(price_cents));
                put(3, "active", json!(on));
            }
            Fields::Invoice { customer, number, amount_cents, status, issued_on } => {
                put(0, "customer_id", json!(self.model.resolve(Resource::Customers, *customer, active).0));
                put(1, "number", json!(number));
                put(2, "amount_cents", json!(amount_cents));
                put(3, "status", json!(status));
                put(4, "issued_on", json!(issued_on.map(|d| d.to_string())));
            }
        }
        Value::Object(body)
    }

    /// The row `fields` make over `base` (a create's defaults when `None`), or the answer's
    /// status when the write must fail: 400 (a field, or a reference outside the company) or
    /// 409 (a unique value this company already has on another row).
    fn written(&self, fields: &Fields, mask: Option<u8>, base: Option<&Row>, company: usize) -> Result<Stored, u16> {
        if !valid(fields, mask) {
            return Err(400);
        }
        let keep = |bit: u8| sends(mask, bit);
        let stored = match (fields, base.map(|b| &b.stored)) {
            (Fields::Customer { name, email, phone, notes }, old) => {
                let (o_name, o_email, o_phone, o_notes) = match old {
                    Some(Stored::Customer { name, email, phone, notes }) => {
                        (name.clone(), email.clone(), phone.clone(), notes.clone())
                    }
                    _ => (String::new(), String::new(), None, String::new()),
                };
                Stored::Customer {
                    name: if keep(0) { name.clone() } else { o_name },
                    email: if keep(1) { email.clone() } else { o_email },
                    phone: if keep(2) { phone.clone() } else { o_phone },
                    notes: if keep(3) { notes.clone() } else { o_notes },
                }
            }
            (Fields::Product { sku, name, price_cents, active }, old) => {
                let (o_sku, o_name, o_price, o_active) = match old {
                    Some(Stored::Product { sku, name, price_cents, active }) => {
                        (sku.clone(), name.clone(), *price_cents, *active)
                    }
                    _ => (String::new(), String::new(), 0, true),
                };
                Stored::Product {
                    sku: if keep(0) { sku.clone() } else { o_sku },
                    name: if keep(1) { name.clone() } else { o_name },
                    price_cents: if keep(2) { *price_cents } else { o_price },
                    active: if keep(3) { *active } else { o_active },
                }
            }
            (Fields::Invoice { customer, number, amount_cents, status, issued_on }, old) => {
                let (o_customer, o_number, o_amount, o_status, o_issued) = match old {
                    Some(Stored::Invoice { customer_id, number, amount_cents, status, issued_on }) => {
                        (*customer_id, number.clone(), *amount_cents, status.clone(), *issued_on)
                    }
                    _ => (Uuid::nil(), String::new(), 0, "draft".to_string(), None),
                };
                let customer_id = if keep(0) {
                    let (id, _, row) = self.model.resolve(Resource::Customers, *customer, Some(company));
                    let id = Uuid::parse_str(&id).expect("a resolved id");
                    // A changed reference must name a customer of this company.
                    let same = row.is_some_and(|i| self.model.rows[0][i].company == company);
                    if !same && id != o_customer {
                        return Err(400);
                    }
                    id
                } else {
                    o_customer
                };
                Stored::Invoice {
                    customer_id,
                    number: if keep(1) { number.clone() } else { o_number },
                    amount_cents: if keep(2) { *amount_cents } else { o_amount },
                    status: if keep(3) { status.clone() } else { o_status },
                    issued_on: if keep(4) { *issued_on } else { o_issued },
                }
            }
        };
        let resource = fields.resource();
        let taken = self.model.rows[resource.index()]
            .iter()
            .any(|r| r.company == company && Some(r.id) != base.map(|b| b.id) && r.stored.unique() == stored.unique());
        if taken { Err(409) } else { Ok(stored) }
    }

    async fn create(&mut self, user: usize, active: Active, fields: &Fields) -> Step {
        let resource = fields.resource();
        let act = self.model.active(user, active);
        let body = self.body(fields, None, act.map(|a| a.0));
        let line = format!("{}: POST {} {}", self.who(user, active), resource.path(), self.describe(fields, None, act));
        let r = self.send(line, "POST", resource.path(), &self.model.auth(user, active), Some(body)).await;
        let Some((company, _)) = act else { return expect_status(&r, 403) };
        let stored = match self.written(fields, None, None, company) {
            Ok(stored) => stored,
            Err(status) => return expect_status(&r, status),
        };
        expect_status(&r, 201)?;
        let id = uuid_at(&r.body, "id").ok_or_else(|| format!("no id in {}", short(&r)))?;
        let created_at = r.body["created_at"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| format!("no created_at in {}", short(&r)))?
            .with_timezone(&Utc);
        if r.header("location") != Some(&format!("{}/{id}", resource.path())) {
            return Err(format!("Location {:?} is not the new object's", r.header("location")));
        }
        self.model.rows[resource.index()].push(Row { id, company, created_at, stored });
        self.same_object(resource, &r.body, company)
    }

    /// The body as the trace shows it: fields, and references as labels.
    fn describe(&self, fields: &Fields, mask: Option<u8>, act: Option<(usize, Role)>) -> String {
        let mut body = self.body(fields, mask, act.map(|a| a.0));
        if let (Fields::Invoice { customer, .. }, Some(obj)) = (fields, body.as_object_mut())
            && obj.contains_key("customer_id")
        {
            let label = self.model.resolve(Resource::Customers, *customer, act.map(|a| a.0)).1;
            obj.insert("customer_id".into(), json!(label.replace("<row ", "<customer ")));
        }
        body.to_string()
    }

    async fn retrieve(&mut self, user: usize, active: Active, resource: Resource, target: Target) -> Step {
        let act = self.model.active(user, active);
        let (id, label, row) = self.model.resolve(resource, target, act.map(|a| a.0));
        let line = format!("{}: GET {}/{label}", self.who(user, active), resource.path());
        let path = format!("{}/{id}", resource.path());
        let r = self.send(line, "GET", &path, &self.model.auth(user, active), None).await;
        let Some((company, _)) = act else { return expect_status(&r, 403) };
        match row.filter(|&i| self.model.rows[resource.index()][i].company == company) {
            Some(_) => {
                expect_status(&r, 200)?;
                self.same_object(resource, &r.body, company)
            }
            None => expect_not_found(&r),
        }
    }

    async fn update(&mut self, user: usize, active: Active, target: Target, fields: &Fields, mask: Option<u8>) -> Step {
        let resource = fields.resource();
        let act = self.model.active(user, active);
        let (id, label, row) = self.model.resolve(resource, target, act.map(|a| a.0));
        let (method, body) = (if mask.is_some() { "PATCH" } else { "PUT" }, self.body(fields, mask, act.map(|a| a.0)));
        let line = format!(
            "{}: {method} {}/{label} {}",
            self.who(user, active),
            resource.path(),
            self.describe(fields, mask, act)
        );
        let path = format!("{}/{id}", resource.path());
        let r = self.send(line, method, &path, &self.model.auth(user, active), Some(body)).await;
        let Some((company, _)) = act else { return expect_status(&r, 403) };
        let Some(i) = row.filter(|&i| self.model.rows[resource.index()][i].company == company) else {
            return expect_not_found(&r);
        };
        let base = self.model.rows[resource.index()][i].clone();
        match self.written(fields, mask, Some(&base), company) {
            Err(status) => expect_status(&r, status),
            Ok(stored) => {
                expect_status(&r, 200)?;
                self.model.rows[resource.index()][i].stored = stored;
                self.same_object(resource, &r.body, company)
            }
        }
    }

    async fn destroy(&mut self, user: usize, active: Active, resource: Resource, target: Target) -> Step {
        let act = self.model.active(user, active);
        let (id, label, row) = self.model.resolve(resource, target, act.map(|a| a.0));
        let line = format!("{}: DELETE {}/{label}", self.who(user, active), resource.path());
        let path = format!("{}/{id}", resource.path());
        let r = self.send(line, "DELETE", &path, &self.model.auth(user, active), None).await;
        let Some((company, role)) = act else { return expect_status(&r, 403) };
        // API.md: deleting is for admins (the role is checked before the object is looked up).
        if role < Role::Admin {
            return expect_status(&r, 403);
        }
        let Some(i) = row.filter(|&i| self.model.rows[resource.index()][i].company == company) else {
            return expect_not_found(&r);
        };
        let id = self.model.rows[resource.index()][i].id;
        let referenced = resource == Resource::Customers
            && self.model.rows[2]
                .iter()
                .any(|inv| matches!(inv.stored, Stored::Invoice { customer_id, .. } if customer_id == id));
        if referenced {
            return expect_status(&r, 409);
        }
        expect_status(&r, 204)?;
        self.model.rows[resource.index()].remove(i);
        Ok(())
    }

    // -- Members, invitations, companies, tokens -------------------------------------------

    /// `POST /api/members`; the invitation's id when one was created or renewed.
    async fn invite(
        &mut self,
        user: usize,
        active: Active,
        invitee: usize,
        role: Role,
    ) -> Result<Option<Uuid>, String> {
        let act = self.model.active(user, active);
        let email = self.model.users[invitee].email.clone();
        let line = format!(
            "{}: POST /api/members {{\"email\": user{invitee}, \"role\": {:?}}}",
            self.who(user, active),
            role.as_str()
        );
        let body = json!({"email": email, "role": role.as_str()});
        let r = self.send(line, "POST", "/api/members", &self.model.auth(user, active), Some(body)).await;
        let Some((company, caller_role)) = act else { return expect_status(&r, 403).map(|_| None) };
        if caller_role < Role::Admin {
            return expect_status(&r, 403).map(|_| None);
        }
        if self.model.companies[company].role_of(invitee).is_some() {
            return expect_status(&r, 409).map(|_| None);
        }
        expect_status(&r, 201)?;
        let id = uuid_at(&r.body, "id").ok_or_else(|| format!("no id in {}", short(&r)))?;
        if r.body["email"] != json!(email) || r.body["role"] != json!(role.as_str()) || r.body["status"] != "pending" {
            return Err(format!(
                "expected a pending invitation of user{invitee} as {}, got {}",
                role.as_str(),
                short(&r)
            ));
        }
        // Inviting again renews the pending invitation: same id, the new role.
        match self.model.invitations.iter_mut().find(|i| i.company == company && i.invitee == invitee) {
            Some(pending) if pending.id != id => {
                return Err(format!("a renewed invitation must keep its id {}, got {id}", pending.id));
            }
            Some(pending) => pending.role = role,
            None => self.model.invitations.push(Invitation { id, company, invitee, role }),
        }
        Ok(Some(id))
    }

    /// Accepts (or declines) pending invitation `n % pending` as its invitee or as `user`.
    async fn answer_pending(&mut self, user: Option<u8>, n: u8, accept: bool) -> Step {
        let pending = &self.model.invitations;
        let Some(invitation) = (!pending.is_empty()).then(|| pending[n as usize % pending.len()].clone()) else {
            let user = user.map_or(0, |u| u as usize % USERS);
            return self.answer(user, u8::MAX, user, accept).await;
        };
        let user = user.map_or(invitation.invitee, |u| u as usize % USERS);
        self.answer(user, invitation.company as u8, invitation.invitee, accept).await
    }

    /// Accepts (or declines) the pending invitation of `invitee` to company `company`.
    async fn answer(&mut self, user: usize, company: u8, invitee: usize, accept: bool) -> Step {
        let slot = self.model.company_slot(company);
        let found = self.model.invitations.iter().position(|i| Some(i.company) == slot && i.invitee == invitee);
        let (id, label) = match (found, slot) {
            (Some(i), Some(c)) => {
                (self.model.invitations[i].id, format!("<invitation of user{invitee} to company{c}>"))
            }
            _ => (self.model.stranger, "<missing invitation>".to_string()),
        };
        let verb = if accept { "accept" } else { "decline" };
        let line = format!("user{user}: POST /api/invitations/{label}/{verb}");
        let auth = Auth::Bearer(self.model.users[user].access.clone());
        let r = self.send(line, "POST", &format!("/api/invitations/{id}/{verb}"), &auth, Some(json!({}))).await;
        // Only the invitee's own pending invitation exists for them; anything else is a 404.
        let Some(i) = found.filter(|&i| self.model.invitations[i].invitee == user) else {
            return expect_not_found(&r);
        };
        let Invitation { company, role, .. } = self.model.invitations[i].clone();
        if !accept {
            expect_status(&r, 204)?;
            self.model.invitations.remove(i);
            return Ok(());
        }
        if self.model.companies[company].role_of(user).is_some() {
            expect_status(&r, 409)?;
            self.model.invitations.remove(i);
            return Ok(());
        }
        if self.model.memberships(user).len() >= self.model.quota {
            return expect_status(&r, 409);
        }
        expect_status(&r, 200)?;
        let expected = json!({"company_id": self.model.companies[company].id, "role": role.as_str()});
        if r.body != expected {
            return Err(format!("expected {expected}, got {}", short(&r)));
        }
        self.model.invitations.remove(i);
        self.model.join(company, user, role);
        Ok(())
    }

    async fn join(&mut self, company: u8, member: usize, role: Role) -> Step {
        let Some(c) = self.model.company_slot(company) else { return Ok(()) };
        let Some(admin) = self.model.companies[c].members.iter().find(|m| m.role == Role::Admin).map(|m| m.user) else {
            return Ok(());
        };
        if self.invite(admin, Active::Company(c as u8), member, role).await?.is_some() {
            self.answer(member, c as u8, member, true).await?;
        }
        Ok(())
    }

    fn member_path(&self, member: usize) -> String {
        format!("/api/members/{}", self.model.users[member].id)
    }

    async fn change_role(&mut self, user: usize, active: Active, member: usize, role: Role) -> Step {
        let act = self.model.active(user, active);
        let line =
            format!("{}: PATCH /api/members/user{member} {{\"role\": {:?}}}", self.who(user, active), role.as_str());
        let path = self.member_path(member);
        let r =
            self.send(line, "PATCH", &path, &self.model.auth(user, active), Some(json!({"role": role.as_str()}))).await;
        let Some((company, caller_role)) = act else { return expect_status(&r, 403) };
        if caller_role < Role::Admin {
            return expect_status(&r, 403);
        }
        let c = &self.model.companies[company];
        let Some(current) = c.role_of(member) else { return expect_not_found(&r) };
        if current == Role::Admin && role != Role::Admin && c.admins() <= 1 {
            return expect_status(&r, 409);
        }
        expect_status(&r, 200)?;
        let expected = json!({"user_id": self.model.users[member].id, "email": self.model.users[member].email, "role": role.as_str()});
        if r.body != expected {
            return Err(format!("expected {expected}, got {}", short(&r)));
        }
        let m = self.model.companies[company].members.iter_mut().find(|m| m.user == member).expect("a member");
        m.role = role;
        Ok(())
    }

    async fn remove_member(&mut self, user: usize, active: Active, member: usize) -> Step {
        let act = self.model.active(user, active);
        let line = format!("{}: DELETE /api/members/user{member}", self.who(user, active));
        let path = self.member_path(member);
        let r = self.send(line, "DELETE", &path, &self.model.auth(user, active), None).await;
        let Some((company, caller_role)) = act else { return expect_status(&r, 403) };
        // Anyone may leave; removing someone else is for admins.
        if member != user && caller_role < Role::Admin {
            return expect_status(&r, 403);
        }
        let c = &self.model.companies[company];
        let Some(current) = c.role_of(member) else { return expect_not_found(&r) };
        if current == Role::Admin && c.admins() <= 1 {
            return expect_status(&r, 409);
        }
        expect_status(&r, 204)?;
        self.model.leave(company, member);
        Ok(())
    }

    async fn list_members(&mut self, user: usize, active: Active) -> Step {
        let act = self.model.active(user, active);
        let line = format!("{}: GET /api/members", self.who(user, active));
        let r = self.send(line, "GET", "/api/members", &self.model.auth(user, active), None).await;
        let Some((company, _)) = act else { return expect_status(&r, 403) };
        expect_status(&r, 200)?;
        let mut members = self.model.companies[company].members.clone();
        members.sort_by_key(|m| (m.joined, self.model.users[m.user].id));
        let expected: Vec<Value> = members
            .iter()
            .map(|m| json!({"user_id": self.model.users[m.user].id, "email": self.model.users[m.user].email, "role": m.role.as_str()}))
            .collect();
        if r.body != Value::Array(expected.clone()) {
            return Err(format!("expected members {}, got {}", Value::Array(expected), short(&r)));
        }
        Ok(())
    }

    /// The `memberships` of `/api/me` (`company_id`, `role`), oldest company first.
    fn expected_memberships(&self, user: usize) -> Vec<(Uuid, String)> {
        self.model
            .memberships(user)
            .into_iter()
            .map(|(c, role)| (self.model.companies[c].id, role.as_str().into()))
            .collect()
    }

    fn check_me(&self, user: usize, r: &Resp, active: Option<usize>) -> Step {
        let default = self.model.users[user].default.map(|c| self.model.companies[c].id);
        let got: Vec<(Uuid, String)> = r.body["memberships"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| {
                        (uuid_at(m, "company_id").unwrap_or_default(), m["role"].as_str().unwrap_or("?").to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let active = active.map(|c| self.model.companies[c].id);
        if uuid_at(&r.body, "default_company_id") != default
            || uuid_at(&r.body, "active_company_id") != active
            || got != self.expected_memberships(user)
        {
            return Err(format!(
                "expected default {default:?}, active {active:?}, memberships {:?}; got {}",
                self.expected_memberships(user),
                short(r)
            ));
        }
        Ok(())
    }

    async fn me(&mut self, user: usize, active: Active) -> Step {
        let line = format!("{}: GET /api/me", self.who(user, active));
        let r = self.send(line, "GET", "/api/me", &self.model.auth(user, active), None).await;
        // `/api/me` answers without an active company too (`active_company_id: null`), but a
        // header naming a company the user is not in is a 403.
        let active = match active {
            Active::Default => self.model.users[user].default,
            other => match self.model.active(user, other) {
                Some((c, _)) => Some(c),
                None => return expect_status(&r, 403),
            },
        };
        expect_status(&r, 200)?;
        self.check_me(user, &r, active)
    }

    async fn set_default(&mut self, user: usize, company: Option<u8>) -> Step {
        let target = company.map(|n| self.model.company_slot(n));
        let (id, label) = match target {
            None => (Value::Null, "null".to_string()),
            Some(Some(c)) => (json!(self.model.companies[c].id), format!("company{c}")),
            Some(None) => (json!(self.model.stranger), "<missing company>".to_string()),
        };
        let line = format!("user{user}: PATCH /api/me {{\"default_company_id\": {label}}}");
        let auth = Auth::Bearer(self.model.users[user].access.clone());
        let r = self.send(line, "PATCH", "/api/me", &auth, Some(json!({ "default_company_id": id }))).await;
        let new = match target {
            None => None,
            Some(Some(c)) if self.model.companies[c].role_of(user).is_some() => Some(c),
            Some(_) => return expect_status(&r, 403),
        };
        expect_status(&r, 200)?;
        self.model.users[user].default = new;
        self.check_me(user, &r, new)
    }

    async fn list_companies(&mut self, user: usize) -> Step {
        let line = format!("user{user}: GET /api/companies");
        let auth = Auth::Bearer(self.model.users[user].access.clone());
        let r = self.send(line, "GET", "/api/companies", &auth, None).await;
        expect_status(&r, 200)?;
        let got: Vec<(Uuid, String)> = r
            .body
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| (uuid_at(c, "id").unwrap_or_default(), c["role"].as_str().unwrap_or("?").into()))
                    .collect()
            })
            .unwrap_or_default();
        if got != self.expected_memberships(user) {
            return Err(format!("expected companies {:?}, got {}", self.expected_memberships(user), short(&r)));
        }
        Ok(())
    }

    async fn create_company(&mut self, user: usize) -> Step {
        let n = self.model.companies.len();
        let line = format!("user{user}: POST /api/companies {{\"name\": \"company{n}\"}}");
        let auth = Auth::Bearer(self.model.users[user].access.clone());
        let r = self.send(line, "POST", "/api/companies", &auth, Some(json!({"name": format!("company{n}")}))).await;
        if self.model.memberships(user).len() >= self.model.quota {
            return expect_status(&r, 409);
        }
        expect_status(&r, 201)?;
        let id = uuid_at(&r.body, "id").ok_or_else(|| format!("no id in {}", short(&r)))?;
        if r.body["role"] != "admin" {
            return Err(format!("the founder must be its admin: {}", short(&r)));
        }
        self.model.companies.push(Company { id, members: vec![] });
        self.model.join(n, user, Role::Admin);
        Ok(())
    }

    async fn refresh(&mut self, user: usize) -> Step {
        let line = format!("user{user}: POST /api/auth/token/refresh");
        let body = json!({"refresh": self.model.users[user].refresh});
        let r = self.send(line, "POST", "/api/auth/token/refresh", &Auth::None, Some(body)).await;
        if self.model.users[user].revoked {
            return expect_status(&r, 401);
        }
        expect_status(&r, 200)?;
        let access = r.body["access"].as_str().ok_or_else(|| format!("no access token in {}", short(&r)))?;
        let refresh = r.body["refresh"].as_str().ok_or_else(|| format!("no refresh token in {}", short(&r)))?;
        let state = &mut self.model.users[user];
        state.access = access.to_string();
        let retired = std::mem::replace(&mut state.refresh, refresh.to_string());
        state.retired.push(retired);
        Ok(())
    }

    /// A retired token again: 401, and the login is revoked. Access tokens stay valid (they are
    /// stateless), so nothing else the user does changes.
    async fn reuse_refresh(&mut self, user: usize) -> Step {
        let Some(retired) = self.model.users[user].retired.first().cloned() else {
            return self.refresh(user).await;
        };
        let line = format!("user{user}: POST /api/auth/token/refresh (a token already exchanged)");
        let r =
            self.send(line, "POST", "/api/auth/token/refresh", &Auth::None, Some(json!({"refresh": retired}))).await;
        expect_status(&r, 401)?;
        self.model.users[user].revoked = true;
        Ok(())
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.trace.iter().enumerate() {
            writeln!(f, "  {i:>3}. {line}")?;
        }
        write!(f, "  divergence at the last request: {}", self.message)
    }
}

/// A refresh token per user, of a new login each, recorded as `POST /api/auth/token` records
/// it (`auth/refresh_tokens.rs`) without the Argon2 hash a real login costs.
async fn record_logins(app: &TestApp, users: &[User]) -> Vec<String> {
    let owner = tenant_core::Db::connect(&app.database_url, 1)
        .await
        .unwrap_or_else(|e| panic!("connecting to {}: {e}", app.database_url));
    let mut tokens = Vec::new();
    for user in users {
        let token = signed_token(user.id, TokenType::Refresh);
        let claims = crate::checks::jwt_claims(&token);
        let jti = Uuid::parse_str(claims["jti"].as_str().expect("jti")).expect("a UUID jti");
        let at = |key: &str| chrono::DateTime::from_timestamp(claims[key].as_i64().expect("a time"), 0);
        owner
            .execute(
                "INSERT INTO refresh_tokens (jti, family_id, user_id, created_at, expires_at, rotated_at) \
                 VALUES ($1, $1, $2, $3, $4, NULL)",
                &[
                    tenant_core::Value::Uuid(Some(jti)),
                    tenant_core::Value::Uuid(Some(user.id)),
                    tenant_core::Value::Timestamp(at("iat")),
                    tenant_core::Value::Timestamp(at("exp")),
                ],
            )
            .await
            .unwrap_or_else(|e| panic!("recording a login: {e}"));
        tokens.push(token);
    }
    owner.close().await;
    tokens
}

/// Deletes every company, membership, invitation and row, and every user's default company;
/// the users stay (signing up costs an Argon2 hash each). Runs as the database's owner (on
/// PostgreSQL the app's own role is subject to row-level security).
async fn reset(app: &TestApp) {
    let owner = tenant_core::Db::connect(&app.database_url, 1)
        .await
        .unwrap_or_else(|e| panic!("connecting to {}: {e}", app.database_url));
    for sql in [
        "DELETE FROM invoices",
        "DELETE FROM customers",
        "DELETE FROM products",
        "DELETE FROM invitations",
        "UPDATE users SET default_company_id = NULL",
        "DELETE FROM memberships",
        "DELETE FROM companies",
        "DELETE FROM refresh_tokens",
    ] {
        owner.execute(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    owner.close().await;
}
