//! What `#[tenant_resource]` produces: a static description of one tenant-owned resource.
//!
//! The macro only *describes*; every behaviour (validation, scoping, SQL execution, the schema)
//! is implemented once in this crate by reading a [`ResourceDesc`]. That keeps the generated code
//! small and lets the runtime be tested without macros.
//!
//! An app reads these types rather than writes them: `Customer::DESC.fields` to list a model's
//! fields, [`ResourceDesc::field`] to find one. The attribute keys that fill them in are
//! README.md's "Declaring a resource" tables.

use crate::role::Role;
use crate::value::{DecodeError, FieldType, FieldValue, RowReader, Value};

/// The columns every tenant resource has, in this order, before its own fields.
/// Rows returned by [`ResourceSql`] statements always start with them.
pub const SYSTEM_COLUMNS: [&str; 4] = ["id", "company_id", "created_at", "updated_at"];

/// A field that holds the id of another resource of the **same company**.
///
/// It holds a function that returns the referenced resource's [`ResourceDesc`], not values copied
/// from it: two resources may reference each other (a project's lead task, a task's project),
/// or form a longer cycle, and a `DESC` that copied from the other's `DESC` at compile time would
/// need each to be evaluated before the other. Reading through the function costs a call.
///
/// The macro writes `Reference::to::<Customer>()` for `#[field(references = Customer)]`; an app
/// reads it through [`Reference::target`], [`Reference::table`], [`Reference::resource`] and
/// [`Reference::exists`].
#[derive(Clone, Copy)]
pub struct Reference {
    target: fn() -> &'static ResourceDesc,
}

/// `&R::DESC`: a `fn` the description can point at without evaluating `R::DESC` first.
fn desc_of<R: Resource>() -> &'static ResourceDesc {
    &R::DESC
}

impl Reference {
    /// A reference to the resource `R` (what `#[field(references = R)]` emits).
    pub const fn to<R: Resource>() -> Reference {
        Reference { target: desc_of::<R> }
    }

    /// A reference to the resource whose description `target` returns: for descriptions written
    /// by hand, whose `target` is typically `|| &OTHER` for a `const OTHER: ResourceDesc`.
    pub const fn new(target: fn() -> &'static ResourceDesc) -> Reference {
        Reference { target }
    }

    /// The referenced resource's description.
    pub fn target(&self) -> &'static ResourceDesc {
        (self.target)()
    }

    /// Table of the referenced resource.
    pub fn table(&self) -> &'static str {
        self.target().table
    }

    /// The referenced resource's singular name, for messages ("customer").
    pub fn resource(&self) -> &'static str {
        self.target().singular
    }

    /// The referenced resource's [`ResourceSql::exists`]: `$1` the company, `$2` the id.
    pub fn exists(&self) -> &'static str {
        self.target().sql.exists
    }
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The target's name, not its whole description (which may lead back here).
        f.debug_struct("Reference").field("table", &self.table()).finish()
    }
}

/// One user-declared field of a resource (system columns are not listed here).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Column name and JSON key.
    pub name: &'static str,
    /// The storage type, chosen by the field's Rust type ([`FieldValue::TYPE`]).
    ///
    /// [`FieldValue::TYPE`]: crate::FieldValue::TYPE
    pub ty: FieldType,
    /// `Option<T>` in the model: the column accepts NULL and JSON `null`.
    pub nullable: bool,
    /// Must be present on create and full update (not `Option`, no default).
    pub required: bool,
    /// Value used on create when the field is absent (`#[field(default)]`).
    pub default: Option<fn() -> Value>,
    /// `UNIQUE (company_id, field)`.
    pub unique: bool,
    /// Exact filter `?field=value` on lists.
    pub filter: bool,
    /// Part of `?search=` (case-insensitive substring).
    pub search: bool,
    /// Allowed in `?ordering=`.
    pub order: bool,
    /// The django-filter lookups lists accept on it beyond the exact filter (`?field__gte=…`):
    /// `#[field(lookups = "gte, lte")]`.
    pub lookups: Lookups,
    /// Least length in characters (Unicode scalar values, as Python's `len` and so DRF's
    /// `min_length` count), for strings: `#[field(len = a..)]`.
    pub min_len: Option<usize>,
    /// Greatest length in characters, for strings: `#[field(len = ..=b)]`.
    pub max_len: Option<usize>,
    /// Least value, inclusive, for numbers: `#[field(range = a..)]`.
    pub min: Option<f64>,
    /// Greatest value, inclusive, for numbers: `#[field(range = ..=b)]`.
    pub max: Option<f64>,
    /// Must look like an email address.
    pub email: bool,
    /// Must name a row of another resource in the same company.
    pub references: Option<Reference>,
    /// Output only (`#[field(read_only)]`, DRF's `read_only`): ignored in request bodies like
    /// `id` and `company_id`; it takes its default on create and keeps its value on update,
    /// unless a hook sets it.
    pub read_only: bool,
    /// Input only (`#[field(write_only)]`, DRF's `write_only`): accepted and stored, never in
    /// a response.
    pub write_only: bool,
    /// The lowest role that may set or change it (`#[field(write = "admin")]`): a lower role's
    /// body that changes it is a 403 naming the field; sending the value it already has (or
    /// its default, on create) is allowed.
    pub write_role: Option<Role>,
    /// `#[field(references = Parent, nested)]`: the resource is also served as a collection of
    /// the parent, `GET`/`POST {parent path}/{id}/{segment}` (`nested.rs`).
    pub nested: bool,
    /// `#[field(renamed_from = "old")]`: the column's previous name, which `makemigrations`
    /// renames instead of dropping one column and adding another (renames are declared, never
    /// guessed). Harmless once the rename is applied.
    pub renamed_from: Option<&'static str>,
}

impl Field {
    /// A field with every option off; the macro fills in what the user wrote.
    pub const fn new(name: &'static str, ty: FieldType, nullable: bool) -> Field {
        Field {
            name,
            ty,
            nullable,
            required: !nullable,
            default: None,
            unique: false,
            filter: false,
            search: false,
            order: false,
            lookups: Lookups::NONE,
            min_len: None,
            max_len: None,
            min: None,
            max: None,
            email: false,
            references: None,
            read_only: false,
            write_only: false,
            write_role: None,
            nested: false,
            renamed_from: None,
        }
    }
}

/// One django-filter lookup: the `__lookup` suffix of a list parameter (`?price__gte=100`),
/// named as in Django's ORM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// `field__in=a,b`: equal to one of the comma-separated values.
    In,
    /// `field__gt=v`: greater than `v`.
    Gt,
    /// `field__gte=v`: greater than or equal to `v`.
    Gte,
    /// `field__lt=v`: less than `v`.
    Lt,
    /// `field__lte=v`: less than or equal to `v`.
    Lte,
    /// `field__isnull=true|false`: NULL, or not NULL (nullable fields).
    IsNull,
}

impl Lookup {
    /// Every lookup, in the order of [`Lookup`]'s variants.
    pub const ALL: [Lookup; 6] = [Lookup::In, Lookup::Gt, Lookup::Gte, Lookup::Lt, Lookup::Lte, Lookup::IsNull];

    /// Its name in a parameter and in `#[field(lookups = "…")]`: `in`, `gt`, `gte`, `lt`, `lte`,
    /// `isnull`.
    pub const fn name(self) -> &'static str {
        match self {
            Lookup::In => "in",
            Lookup::Gt => "gt",
            Lookup::Gte => "gte",
            Lookup::Lt => "lt",
            Lookup::Lte => "lte",
            Lookup::IsNull => "isnull",
        }
    }

    /// The lookup named `name` (exactly, as Django's lookups are case-sensitive), if any.
    pub fn from_name(name: &str) -> Option<Lookup> {
        Lookup::ALL.into_iter().find(|lookup| lookup.name() == name)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The set of [`Lookup`]s a field accepts: a bitset, `Copy` and built in constants
/// (`Lookups::of(&[Lookup::Gte, Lookup::Lte])`, what the macro emits for
/// `#[field(lookups = "gte, lte")]`). [`Lookups::NONE`] for a field that declares none.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lookups(u8);

impl Lookups {
    /// No lookup: the field's only list parameter is its exact filter, if it has one.
    pub const NONE: Lookups = Lookups(0);

    /// The set of `lookups`.
    pub const fn of(lookups: &[Lookup]) -> Lookups {
        let mut bits = 0;
        let mut i = 0;
        while i < lookups.len() {
            bits |= lookups[i].bit();
            i += 1;
        }
        Lookups(bits)
    }

    /// Whether `lookup` is in the set.
    pub const fn contains(self, lookup: Lookup) -> bool {
        self.0 & lookup.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The lookups of the set, in the order of [`Lookup::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Lookup> {
        Lookup::ALL.into_iter().filter(move |lookup| self.contains(*lookup))
    }
}

/// `{in, gte}`: the names, as a set.
impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter().map(Lookup::name)).finish()
    }
}

/// Minimum role for each kind of write; a lower role gets 403. Reads are open to every member.
#[derive(Debug, Clone, Copy)]
pub struct Permissions {
    /// `POST {path}`: `#[tenant_resource(create = "…")]`, default staff.
    pub create: Role,
    /// `PUT` and `PATCH {path}/{id}`: `#[tenant_resource(update = "…")]`, default staff.
    pub update: Role,
    /// `DELETE {path}/{id}`: `#[tenant_resource(delete = "…")]`, default admin.
    pub delete: Role,
}

impl Permissions {
    /// API.md's resource table: any member may create and update; `DELETE` is admin only unless
    /// the resource lowers it (`#[tenant_resource(delete = "staff")]`). Deleting loses data no
    /// other verb can, so the safe default is the stricter one.
    pub const DEFAULT: Permissions = Permissions { create: Role::Staff, update: Role::Staff, delete: Role::Admin };
}

/// Which of the six routes of a resource are served, named as Django REST Framework's viewset
/// actions: `#[tenant_resource(actions = "list, retrieve, create")]` or `read_only`; by default
/// all six ([`Actions::ALL`]).
///
/// | action | route |
/// | --- | --- |
/// | `list` | `GET {path}` |
/// | `create` | `POST {path}` |
/// | `retrieve` | `GET {path}/{id}` |
/// | `update` | `PUT {path}/{id}` |
/// | `partial_update` | `PATCH {path}/{id}` |
/// | `destroy` | `DELETE {path}/{id}` |
///
/// A route not served answers 405 `{"detail": "Method not allowed."}` with an `Allow` header
/// naming the methods its path does serve; a path that serves no method at all (`{path}/{id}`
/// without `retrieve`, `update`, `partial_update` and `destroy`) is not routed, so it answers 404
/// like any unknown path. Only the HTTP routes are selected: the typed operations of
/// [`Scoped`](crate::Scoped) (`create`, `update`, `delete`, …) work on every resource, so a
/// read-only resource is written by the app's own code, a job or a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actions {
    /// `GET {path}`: the page of the active company's objects.
    pub list: bool,
    /// `POST {path}`: create an object.
    pub create: bool,
    /// `GET {path}/{id}`: one object.
    pub retrieve: bool,
    /// `PUT {path}/{id}`: replace every writable field.
    pub update: bool,
    /// `PATCH {path}/{id}`: change some fields.
    pub partial_update: bool,
    /// `DELETE {path}/{id}`: delete an object.
    pub destroy: bool,
}

impl Actions {
    /// All six routes: the default, DRF's `ModelViewSet`.
    pub const ALL: Actions =
        Actions { list: true, create: true, retrieve: true, update: true, partial_update: true, destroy: true };

    /// `list` and `retrieve`: `#[tenant_resource(read_only)]`, DRF's `ReadOnlyModelViewSet`.
    pub const READ_ONLY: Actions =
        Actions { list: true, create: false, retrieve: true, update: false, partial_update: false, destroy: false };

    /// Whether `{path}` serves a method (`list` or `create`).
    pub const fn serves_collection(&self) -> bool {
        self.list || self.create
    }

    /// Whether `{path}/{id}` serves a method (`retrieve`, `update`, `partial_update` or
    /// `destroy`).
    pub const fn serves_item(&self) -> bool {
        self.retrieve || self.update || self.partial_update || self.destroy
    }
}

/// SQL text built by the macro at compile time. Placeholders are `$n`, which both PostgreSQL and
/// SQLite accept. Every statement is scoped: it filters on, or (for `insert`) sets, the
/// active company's id, bound as a parameter.
///
/// Column order of every returned row: [`SYSTEM_COLUMNS`], then the fields in declaration order.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSql {
    /// `SELECT <cols> FROM t WHERE company_id = $1 AND id = $2`
    pub select_one: &'static str,
    /// `select_one` plus ` FOR UPDATE` (used where the dialect supports row locks).
    pub select_one_for_update: &'static str,
    /// `SELECT <cols>`: the list statement's columns, in row order. The runtime
    /// ([`ListQuery`](crate::query::ListQuery)) adds the page's count as one more column.
    pub list_columns: &'static str,
    /// `FROM t WHERE company_id = $1`: the list's scope, shared by the page and its count. The
    /// runtime appends the same ` AND …` conditions to both and runs the count as a scalar
    /// sub-query of the page: one round trip, and the count can be answered from the
    /// `(company_id, …)` index without reading every row.
    pub list_scope: &'static str,
    /// `INSERT INTO t (id, company_id, created_at, updated_at, f1, …) VALUES ($1, $2, $3, $4, $5, …)`:
    /// one placeholder per column, in row order, so `$1` is the id, `$2` the active company's id,
    /// `$3` created_at, `$4` updated_at, then the fields in declaration order.
    pub insert: &'static str,
    /// `UPDATE t SET updated_at = $3, f1 = $4, … WHERE company_id = $1 AND id = $2`
    pub update: &'static str,
    /// `DELETE FROM t WHERE company_id = $1 AND id = $2`
    pub delete: &'static str,
    /// `SELECT 1 FROM t WHERE company_id = $1 AND id = $2` (reference checks).
    pub exists: &'static str,
}

/// Everything the runtime knows about one resource.
#[derive(Debug, Clone, Copy)]
pub struct ResourceDesc {
    /// Rust type name, e.g. `Customer`.
    pub name: &'static str,
    /// Singular human name for messages, e.g. `customer`.
    pub singular: &'static str,
    /// Table name, e.g. `customers`.
    pub table: &'static str,
    /// Collection path, e.g. `/api/customers`.
    pub path: &'static str,
    /// The declared fields, in declaration order (the system columns are not among them).
    pub fields: &'static [Field],
    /// The minimum role of each write.
    pub permissions: Permissions,
    /// The routes served ([`Actions::ALL`] unless the resource chose fewer).
    pub actions: Actions,
    /// The statements, built at compile time.
    pub sql: ResourceSql,
    /// The computed output fields (`computed(is_overdue: bool)`), in declaration order.
    pub computed: &'static [Computed],
}

/// One computed output field, read from the model's method of that name: what the OpenAPI
/// document shows of it (`readOnly`, after the stored fields).
#[derive(Debug, Clone, Copy)]
pub struct Computed {
    /// The JSON key and the method's name.
    pub name: &'static str,
    /// Its storage-like type and nullability when the declared type is one a field could have
    /// (`bool`, `Option<NaiveDate>`…); `None` for any other `Serialize` type, documented as
    /// any JSON value. A function because the macro finds it out by method resolution
    /// ([`TypeProbe`]), which a constant cannot run.
    pub ty: fn() -> Option<(FieldType, bool)>,
}

/// How the macro learns whether a computed field's type is a [`FieldValue`] without requiring
/// it: `(&&TypeProbe::<T>::new()).describe()` resolves to [`ViaFieldValue`] when `T` is one
/// and falls back to [`ViaAnyType`] otherwise (method resolution tries `&TypeProbe` before
/// `TypeProbe`).
#[doc(hidden)]
pub struct TypeProbe<T>(core::marker::PhantomData<T>);

impl<T> TypeProbe<T> {
    /// The probe of `T`.
    pub const fn new() -> TypeProbe<T> {
        TypeProbe(core::marker::PhantomData)
    }
}

impl<T> Default for TypeProbe<T> {
    fn default() -> TypeProbe<T> {
        TypeProbe::new()
    }
}

/// [`TypeProbe`]'s answer for a [`FieldValue`] type.
#[doc(hidden)]
pub trait ViaFieldValue {
    /// The type and nullability.
    fn describe(&self) -> Option<(FieldType, bool)>;
}

impl<T: FieldValue> ViaFieldValue for &TypeProbe<T> {
    fn describe(&self) -> Option<(FieldType, bool)> {
        Some((T::TYPE, T::NULLABLE))
    }
}

/// [`TypeProbe`]'s answer for any other type.
#[doc(hidden)]
pub trait ViaAnyType {
    /// Nothing known.
    fn describe(&self) -> Option<(FieldType, bool)>;
}

impl<T> ViaAnyType for TypeProbe<T> {
    fn describe(&self) -> Option<(FieldType, bool)> {
        None
    }
}

impl ResourceDesc {
    /// The declared field named `name`, if any.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Storage types of a full row, in row order (system columns first).
    pub fn row_types(&self) -> Vec<FieldType> {
        let mut types = vec![FieldType::Uuid, FieldType::Uuid, FieldType::Timestamp, FieldType::Timestamp];
        types.extend(self.fields.iter().map(|f| f.ty));
        types
    }
}

/// A tenant-owned resource. Implemented by `#[tenant_resource]`; there is no reason to write it
/// by hand, but nothing stops you (the tests of the runtime do).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tenant resource",
    label = "not declared with #[tenant_resource]",
    note = "only a struct declared with `#[tenant_resource]` can be referenced or served"
)]
pub trait Resource: serde::Serialize + Sized + Send + Sync + 'static {
    /// The description the runtime works from.
    const DESC: ResourceDesc;

    /// Whether the resource runs its `Hooks` (`#[tenant_resource(hooks)]`). `false`: the
    /// writes skip them, and pay nothing for them.
    const HOOKS: bool = false;

    /// What a typed create takes ([`Scoped::create`](crate::Scoped::create)): the writable
    /// fields, those with a default or nullable as `Option` (absent = the default). The macro
    /// names it `<Model>Input`.
    type Input: serde::Serialize + serde::de::DeserializeOwned + Send + Sync;

    /// What a typed partial update takes ([`Scoped::update`](crate::Scoped::update)): every
    /// writable field as `Option` (absent = unchanged; a nullable field is
    /// `Option<Option<T>>`, `Some(None)` setting NULL). The macro names it `<Model>Patch`.
    type Patch: serde::Serialize + serde::de::DeserializeOwned + Default + Send + Sync;

    /// Builds the model by reading its columns in [`ResourceDesc::row_types`] order: the system
    /// columns, then the fields. Reads nothing more, so a caller may read extra columns after.
    fn from_row<R: RowReader + ?Sized>(row: &mut R) -> Result<Self, DecodeError>;

    /// The model as a row, in [`ResourceDesc::row_types`] order (the inverse of `from_row`).
    fn into_row(self) -> Vec<Value>;

    /// The object's primary key (its `id` field).
    fn id(&self) -> uuid::Uuid;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_a_set_of_named_lookups() {
        const SET: Lookups = Lookups::of(&[Lookup::Lte, Lookup::In, Lookup::Lte]);
        assert!(SET.contains(Lookup::In) && SET.contains(Lookup::Lte) && !SET.contains(Lookup::Gte));
        assert_eq!(SET.iter().collect::<Vec<_>>(), [Lookup::In, Lookup::Lte]);
        assert_eq!(format!("{SET:?}"), r#"{"in", "lte"}"#);
        assert!(Lookups::NONE.is_empty() && !SET.is_empty());
        assert_eq!(Lookups::of(&Lookup::ALL).iter().count(), 6);
        for lookup in Lookup::ALL {
            assert_eq!(Lookup::from_name(lookup.name()), Some(lookup));
        }
        assert_eq!(Lookup::from_name("GTE"), None);
        assert_eq!(Field::new("x", FieldType::Text, false).lookups, Lookups::NONE);
    }
}
