//! The scoped operations on a resource's rows, written once for every resource: what the
//! generated endpoints do, and what [`Scoped`]'s typed methods (`get`, `find`, `list`,
//! `create`, `update`, `delete`) give an app's own code.
//!
//! Every statement binds the scoped company as `$1`, so another company's row is
//! indistinguishable from a missing one. Writes validate the body against the resource's field
//! rules, run its [`Hooks`] when it has them ([`Resource::HOOKS`]), check references within the
//! company and map constraint violations to API.md's 400 and 409 bodies.

use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::db::{DbError, Row};
use crate::error::{ApiError, FieldErrors, NON_FIELD_ERRORS};
use crate::hooks::Hooks;
use crate::query::ListQuery;
use crate::resource::{Resource, ResourceDesc};
use crate::row::{Model, RowDecoder, Values};
use crate::schema::unique_field;
use crate::tenant::Scoped;
use crate::tenant_read::TenantRead;
use crate::validate::clock::now;
use crate::validate::{Mode, validate_body};
use crate::value::{DecodeError, FieldType, RowReader, Value};

/// Index of the first user field in a row (after id, company_id, created_at, updated_at).
const FIRST_FIELD: usize = 4;

/// The model read back from a row the write paths built as values.
fn decode<R: Resource>(row: Row) -> Result<R, ApiError> {
    R::from_row(&mut Values::new(row)).map_err(|e| ApiError::internal(DbError::from(e)))
}

/// The object `id` of the scoped company, or `None` (another company's object is `None` too).
pub(crate) async fn find<R: Resource>(scoped: &mut Scoped, id: Uuid) -> Result<Option<R>, ApiError> {
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

/// One page of the scoped company's objects matching `query` and the count of all matching
/// ones. A page past the last (but page 1) is 404 `{"detail": "Invalid page."}`.
pub(crate) async fn list<R: Resource>(scoped: &mut Scoped, query: &ListQuery) -> Result<(u64, Vec<R>), ApiError> {
    let dialect = scoped.tx().dialect();
    let (sql, params) = query.to_sql(&R::DESC, dialect, scoped.company_param());
    let mut decoder = Counted { model: Model::<R>::new(), count: 0 };
    let results = scoped.tx().fetch_all_with(sql, &params, &mut decoder).await?;
    page_of(query, decoder.count, results)
}

/// [`list`] for the list endpoint: the membership and the page in one round trip where the
/// backend allows (`tenant_read.rs`).
pub(crate) async fn list_read<R: Resource>(tenant: TenantRead, query: &ListQuery) -> Result<(u64, Vec<R>), ApiError> {
    let (sql, params) = query.to_sql(&R::DESC, tenant.dialect(), Value::Uuid(None));
    let mut decoder = Counted { model: Model::<R>::new(), count: 0 };
    let results = tenant.fetch_all_with(sql, params, &mut decoder).await?;
    page_of(query, decoder.count, results)
}

/// A page past the last (but page 1, which may be empty: DRF's `allow_empty_first_page`) is 404.
fn page_of<R>(query: &ListQuery, count: u64, results: Vec<R>) -> Result<(u64, Vec<R>), ApiError> {
    if results.is_empty() && query.page > 1 {
        return Err(ApiError::NotFoundDetail(crate::messages::INVALID_PAGE.into()));
    }
    Ok((count, results))
}

/// [`find`] for the retrieve endpoint, in one round trip where the backend allows.
pub(crate) async fn find_read<R: Resource>(tenant: TenantRead, id: Uuid) -> Result<Option<R>, ApiError> {
    let params = vec![Value::Uuid(None), Value::Uuid(Some(id))];
    let rows = tenant.fetch_all_with(R::DESC.sql.select_one.into(), params, &mut Model::<R>::new()).await?;
    Ok(rows.into_iter().next())
}

/// One row of this company by id, locked for the write that follows where the backend has row
/// locks; `None` when missing or foreign.
async fn fetch_row_for_write(scoped: &mut Scoped, desc: &ResourceDesc, id: Uuid) -> Result<Option<Row>, ApiError> {
    let sql =
        if scoped.tx().dialect().supports_row_locks() { desc.sql.select_one_for_update } else { desc.sql.select_one };
    let params = [scoped.company_param(), Value::Uuid(Some(id))];
    Ok(scoped.tx().fetch_optional(sql, &params, &desc.row_types()).await?)
}

/// Runs `R`'s `validate` and `before_*` hooks over `row` (a full row in row order) and returns
/// the row they leave, its system columns put back as the server set them, and the stored
/// object `current` decoded (for `after_update`, decoded once).
async fn run_before_hooks<R: Resource + Hooks>(
    scoped: &mut Scoped,
    row: Row,
    current: Option<Row>,
) -> Result<(Row, Option<R>), ApiError> {
    let system: Vec<Value> = row[..FIRST_FIELD].to_vec();
    let mut object: R = decode(row)?;
    let (mut row, old) = match current {
        None => {
            R::validate(scoped, &object, None).await?;
            R::before_create(scoped, &mut object).await?;
            (object.into_row(), None)
        }
        Some(current) => {
            let old: R = decode(current)?;
            R::validate(scoped, &object, Some(&old)).await?;
            R::before_update(scoped, &mut object, &old).await?;
            (object.into_row(), Some(old))
        }
    };
    // The id, the company and the timestamps are the server's, whatever a hook wrote.
    row[..FIRST_FIELD].clone_from_slice(&system);
    Ok((row, old))
}

/// Validates `body` and inserts a row owned by this company; returns the stored object.
pub(crate) async fn create<R: Resource + Hooks>(scoped: &mut Scoped, body: &Map<String, Json>) -> Result<R, ApiError> {
    let row = new_row::<R>(scoped, body).await?;
    scoped.tx().execute(R::DESC.sql.insert, &row).await.map_err(|e| write_error(&R::DESC, e))?;
    let created: R = decode(row)?;
    if R::HOOKS {
        R::after_create(scoped, &created).await?;
    }
    Ok(created)
}

/// The row a create inserts: the body validated, the server's columns, the `before_create`
/// hooks run, the references checked within the company.
async fn new_row<R: Resource + Hooks>(scoped: &mut Scoped, body: &Map<String, Json>) -> Result<Row, ApiError> {
    let desc = &R::DESC;
    let values = validate_body(desc, body, Mode::Create, None).map_err(ApiError::Validation)?;
    check_write_roles(scoped, desc, body, &values, None)?;
    let now = now();
    let mut row = vec![
        Value::Uuid(Some(Uuid::now_v7())),
        scoped.company_param(),
        Value::Timestamp(Some(now)),
        Value::Timestamp(Some(now)),
    ];
    row.extend(values);
    if R::HOOKS {
        row = run_before_hooks::<R>(scoped, row, None).await?.0;
    }
    check_references(scoped, desc, &row[FIRST_FIELD..], None).await?;
    Ok(row)
}

/// Validates `body` against the stored row and updates it; `None` when this company has no
/// such row. `mode` is [`Mode::Replace`] (`PUT`) or [`Mode::Partial`] (`PATCH`).
pub(crate) async fn update<R: Resource + Hooks>(
    scoped: &mut Scoped,
    id: Uuid,
    body: &Map<String, Json>,
    mode: Mode,
) -> Result<Option<R>, ApiError> {
    let desc = &R::DESC;
    let Some(current) = fetch_row_for_write(scoped, desc, id).await? else {
        return Ok(None);
    };
    let values = validate_body(desc, body, mode, Some(&current[FIRST_FIELD..])).map_err(ApiError::Validation)?;
    check_write_roles(scoped, desc, body, &values, Some(&current[FIRST_FIELD..]))?;
    let mut row = vec![current[0].clone(), current[1].clone(), current[2].clone(), Value::Timestamp(Some(now()))];
    row.extend(values);
    let old = if R::HOOKS {
        let (hooked, old) = run_before_hooks::<R>(scoped, row, Some(current.clone())).await?;
        row = hooked;
        old
    } else {
        None
    };
    check_references(scoped, desc, &row[FIRST_FIELD..], Some(&current[FIRST_FIELD..])).await?;
    // `UPDATE … SET updated_at = $3, f1 = $4, … WHERE company_id = $1 AND id = $2`.
    let mut params = Vec::with_capacity(row.len() - 1);
    params.extend([scoped.company_param(), Value::Uuid(Some(id)), row[3].clone()]);
    params.extend_from_slice(&row[FIRST_FIELD..]);
    let updated = scoped.tx().execute(desc.sql.update, &params).await.map_err(|e| write_error(desc, e))?;
    if updated == 0 {
        return Ok(None);
    }
    let updated: R = decode(row)?;
    if let Some(old) = old {
        R::after_update(scoped, &updated, &old).await?;
    }
    Ok(Some(updated))
}

/// Deletes one row of this company: `false` when there is no such row; 409 when other rows
/// still reference it.
pub(crate) async fn delete<R: Resource + Hooks>(scoped: &mut Scoped, id: Uuid) -> Result<bool, ApiError> {
    let desc = &R::DESC;
    let old: Option<R> = if R::HOOKS {
        let Some(current) = fetch_row_for_write(scoped, desc, id).await? else {
            return Ok(false);
        };
        let old = decode(current)?;
        R::before_delete(scoped, &old).await?;
        Some(old)
    } else {
        None
    };
    let params = [scoped.company_param(), Value::Uuid(Some(id))];
    let deleted = match scoped.tx().execute(desc.sql.delete, &params).await {
        Ok(n) => n > 0,
        Err(DbError::ForeignKey) => {
            return Err(ApiError::Conflict(format!(
                "Cannot delete this {}: other records refer to it. Delete or reassign them first.",
                desc.singular
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if let (true, Some(old)) = (deleted, old) {
        R::after_delete(scoped, &old).await?;
    }
    Ok(deleted)
}

/// A field whose `write` role is above the caller's may be sent only with the value it already
/// has (its default, on create): a change is a 403 naming the first such field. A job
/// (`role() == None`) is not limited.
fn check_write_roles(
    scoped: &Scoped,
    desc: &ResourceDesc,
    body: &Map<String, Json>,
    values: &[Value],
    current: Option<&[Value]>,
) -> Result<(), ApiError> {
    let Some(role) = scoped.role() else { return Ok(()) };
    for (i, field) in desc.fields.iter().enumerate() {
        let Some(needed) = field.write_role else { continue };
        if role >= needed || field.read_only || !body.contains_key(field.name) {
            continue;
        }
        let unchanged = match current {
            Some(current) => current.get(i) == values.get(i),
            None => Some(&field.default.map_or(Value::null(field.ty), |default| default())) == values.get(i),
        };
        if !unchanged {
            return Err(ApiError::ForbiddenDetail(crate::messages::field_write_denied(field.name)));
        }
    }
    Ok(())
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
        if scoped.tx().fetch_optional(reference.exists(), &params, &[FieldType::I32]).await?.is_none() {
            errors.insert(field.name.to_string(), vec![invalid_reference(reference.resource(), *id)]);
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
                format!("The referenced {} does not exist.", field.references.map_or("object", |r| r.resource())),
            ),
            None => ApiError::internal("foreign key violation on a resource without references"),
        },
        other => other.into(),
    }
}

/// The typed operations: model structs in and out, the same rules, hooks and errors as the
/// generated endpoints, all within this company.
impl Scoped {
    /// The object `id` of this company. A missing id and another company's are the same 404
    /// `{"detail": "Not found."}` ([`ApiError::NotFound`]).
    ///
    /// # Errors
    ///
    /// 404 as above; 503 when the database cannot be reached or the statement ran past
    /// `DATABASE_STATEMENT_TIMEOUT_MS`; 500 otherwise.
    pub async fn get<R: Resource>(&mut self, id: Uuid) -> Result<R, ApiError> {
        find(self, id).await?.ok_or(ApiError::NotFound)
    }

    /// The object `id` of this company, or `None` when it has none by that id (another
    /// company's object is `None` too). Errors as [`Scoped::get`], without the 404.
    pub async fn find<R: Resource>(&mut self, id: Uuid) -> Result<Option<R>, ApiError> {
        find(self, id).await
    }

    /// One page of this company's objects matching `query` (the list endpoint's semantics:
    /// filters, lookups, search, ordering, page), and the count of all matching ones. One
    /// statement: the count is a scalar sub-query of the page's.
    ///
    /// # Errors
    ///
    /// 404 `{"detail": "Invalid page."}` ([`ApiError::NotFoundDetail`]) for a page past the
    /// last one, except page 1, which is an empty page (DRF's `PageNumberPagination` with
    /// `allow_empty_first_page`); otherwise as [`Scoped::get`].
    pub async fn list<R: Resource>(&mut self, query: &ListQuery) -> Result<(u64, Vec<R>), ApiError> {
        list(self, query).await
    }

    /// Creates an object of this company from `input`, exactly as `POST` would: field rules
    /// (400 with DRF's field errors), [`Hooks`], references within the company (400), unique
    /// fields (409).
    pub async fn create<R: Resource + Hooks>(&mut self, input: R::Input) -> Result<R, ApiError> {
        create::<R>(self, &body_of(&input)?).await
    }

    /// Updates the object `id` of this company with the fields `patch` sets, exactly as
    /// `PATCH` would. 404 as [`Scoped::get`]; other errors as [`Scoped::create`].
    pub async fn update<R: Resource + Hooks>(&mut self, id: Uuid, patch: R::Patch) -> Result<R, ApiError> {
        update::<R>(self, id, &body_of(&patch)?, Mode::Partial).await?.ok_or(ApiError::NotFound)
    }

    /// Deletes the object `id` of this company, exactly as `DELETE` would (its hooks run). 404
    /// as [`Scoped::get`]; 409 when other objects still reference it.
    pub async fn delete<R: Resource + Hooks>(&mut self, id: Uuid) -> Result<(), ApiError> {
        if delete::<R>(self, id).await? { Ok(()) } else { Err(ApiError::NotFound) }
    }
}

/// A typed input as the JSON object a request would carry, so that it meets the same rules.
fn body_of(input: &impl serde::Serialize) -> Result<Map<String, Json>, ApiError> {
    match serde_json::to_value(input) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::internal(format!("a typed input serialised as {other}, not an object"))),
        Err(e) => Err(ApiError::internal(format!("a typed input did not serialise: {e}"))),
    }
}
