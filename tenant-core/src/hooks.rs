//! What an app may run around the writes of a resource: Django REST Framework's serializer
//! `validate` and the viewset's `perform_create` / `perform_update` / `perform_destroy`, as one
//! trait of no-op defaults.
//!
//! `#[tenant_resource(hooks)]` leaves the `impl Hooks` to you; without `hooks` the macro writes
//! an empty one, and the writes skip the hooks entirely ([`Resource::HOOKS`] is `false`).
//!
//! Every hook runs inside the request's one transaction, scoped to the active company, on the
//! generated endpoints and on the typed operations of [`Scoped`] alike. An `Err` aborts the
//! write and rolls back everything the request did, hooks included, and is answered as any
//! [`ApiError`]: [`ApiError::field`] / [`ApiError::non_field`] give DRF's 400 bodies.
//!
//! ```no_run
//! use tenant_core::{ApiError, Hooks, Scoped, tenant_resource};
//!
//! #[tenant_resource(table = "projects")]
//! pub struct Project {
//!     pub starts_on: chrono::NaiveDate,
//! }
//!
//! #[tenant_resource(table = "tasks", hooks)]
//! pub struct Task {
//!     #[field(references = Project)]
//!     pub project_id: uuid::Uuid,
//!     pub due_on: chrono::NaiveDate,
//! }
//!
//! impl Hooks for Task {
//!     async fn validate(scoped: &mut Scoped, task: &Task, _old: Option<&Task>) -> Result<(), ApiError> {
//!         // A missing or foreign project is the reference check's 400; here only the rule.
//!         if let Some(project) = scoped.find::<Project>(task.project_id).await? {
//!             if task.due_on < project.starts_on {
//!                 return Err(ApiError::field("due_on", "A task cannot be due before its project starts."));
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//! ```
//!
//! [`Resource::HOOKS`]: crate::Resource::HOOKS

use std::future::Future;

use crate::error::ApiError;
use crate::tenant::Scoped;

/// Hooks around a resource's writes; every method defaults to doing nothing. Implement the
/// methods as `async fn`. The object a hook sees is the model as it will be (or was) stored:
/// on create its `id`, `company_id` and timestamps are already the server's, and whatever a
/// `before_*` hook writes into them is put back (the company of a row is never the hook's to
/// choose).
///
/// Order of a create: body validated (field rules) → [`validate`](Hooks::validate) →
/// [`before_create`](Hooks::before_create) → reference checks → `INSERT` →
/// [`after_create`](Hooks::after_create). An update: the stored row locked and read → body
/// validated → `validate` (with the stored object) → `before_update` → reference checks →
/// `UPDATE` → `after_update`. A delete: the stored row locked and read → `before_delete` →
/// `DELETE` → `after_delete`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` declares `hooks` but does not implement `tenant_core::Hooks`",
    label = "no `impl Hooks for {Self}`",
    note = "write `impl tenant_core::Hooks for {Self} {{ … }}` with the hooks you need (every method has a default), or remove `hooks` from #[tenant_resource]"
)]
pub trait Hooks: Sized + Send + Sync + 'static {
    /// Cross-field and cross-row rules (DRF's `Serializer.validate`): `new` is the object as it
    /// would be stored, `old` the stored one on an update. Read other resources through
    /// `scoped`. Return [`ApiError::field`] or [`ApiError::non_field`] for a 400.
    fn validate(
        scoped: &mut Scoped,
        new: &Self,
        old: Option<&Self>,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (scoped, new, old);
        async { Ok(()) }
    }

    /// Before the `INSERT` (DRF's `perform_create`): may set server-owned fields
    /// (`read_only` ones, say).
    fn before_create(scoped: &mut Scoped, new: &mut Self) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (scoped, new);
        async { Ok(()) }
    }

    /// After the `INSERT`, in the same transaction: write related rows, an audit entry.
    fn after_create(scoped: &mut Scoped, created: &Self) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (scoped, created);
        async { Ok(()) }
    }

    /// Before the `UPDATE` (DRF's `perform_update`), with the stored object.
    fn before_update(
        scoped: &mut Scoped,
        new: &mut Self,
        old: &Self,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (scoped, new, old);
        async { Ok(()) }
    }

    /// After the `UPDATE`, in the same transaction.
    fn after_update(
        scoped: &mut Scoped,
        updated: &Self,
        old: &Self,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (scoped, updated, old);
        async { Ok(()) }
    }

    /// Before the `DELETE` (DRF's `perform_destroy`): refuse it with an error (a 409 with
    /// [`ApiError::Conflict`], say).
    fn before_delete(scoped: &mut Scoped, old: &Self) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (scoped, old);
        async { Ok(()) }
    }

    /// After the `DELETE`, in the same transaction.
    fn after_delete(scoped: &mut Scoped, old: &Self) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (scoped, old);
        async { Ok(()) }
    }
}
