//! The tenant context: who is calling, and for which company.
//!
//! [`Tenant`] is an axum extractor and the **only** way to obtain a [`Scoped`] transaction, which
//! every tenant-resource query takes. A handler that does not extract a `Tenant` therefore cannot
//! query tenant data at all: an unscoped query does not compile.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::db::{Db, DbError, Dialect, Tx, TxMode, tenant_setting};
use crate::error::ApiError;
use crate::fair_share::{CompanyConnections, CompanyPermit};
use crate::identity::{USER_EXISTS, requested_company, token_user, user_exists, user_not_found};
use crate::messages::{NO_ACTIVE_COMPANY, NOT_A_MEMBER, PERMISSION_DENIED};
use crate::role::Role;
use crate::row::RowDecoder;
use crate::state::AppState;
use crate::value::{DecodeError, FieldType, FieldValue, RowReader, Value};

/// The active company of the caller (the `X-Company-Id` one, or the default), with the
/// caller's role in it, and the request's transaction, bound to that company.
///
/// Membership is read from the database on every request, so removing a member takes effect
/// at once, even while their token is still valid. The extractor opens the request's one
/// transaction (a writer's for any method but GET, HEAD and OPTIONS) and resolves the company
/// inside it; on PostgreSQL the same statement sets the transaction-local tenant that
/// row-level security checks. So a tenant request costs `BEGIN`, one membership statement, its
/// queries, and `COMMIT` (the list and retrieve endpoints need one round trip in all:
/// `tenant_read.rs`). A refused one may cost a read more, to
/// answer a token whose user no longer exists with a 401 rather than a 403.
///
/// As an extractor it answers, through [`ApiError`]: 401 for a missing, malformed, expired or
/// refresh token, or a user that no longer exists (Simple JWT's messages); 403 for an
/// `X-Company-Id` that is not a UUID or is sent twice, a company the caller is not a member
/// of, or no active company at all; 429 past the user's or the company's request rate
/// (`THROTTLE_USER`, `THROTTLE_COMPANY`: `request_throttle.rs`); 503 when the database or the company's connection share
/// (`DATABASE_MAX_CONNECTIONS_PER_COMPANY`) is not available in time. A role check is the
/// handler's: [`Tenant::require`].
pub struct Tenant {
    user_id: Uuid,
    company_id: Uuid,
    role: Role,
    tx: Option<Tx>,
    /// The company's connection share this request holds with its connection (`fair_share.rs`).
    permit: Option<CompanyPermit>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("user_id", &self.user_id)
            .field("company_id", &self.company_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The membership statements, in parts: which columns, then whose membership, then the lock.
/// `$1` is the user, `$2` the requested company or NULL for the user's default.
macro_rules! resolve_membership {
    ($columns:expr, $lock:expr) => {
        concat!(
            "SELECT m.company_id, m.role",
            $columns,
            " FROM memberships m WHERE m.user_id = $1 AND m.company_id = \
             COALESCE($2, (SELECT u.default_company_id FROM users u WHERE u.id = $1))",
            $lock
        )
    };
}

/// Also sets the row-level security tenant (transaction-local) when, and only when, the
/// membership exists.
macro_rules! and_set_tenant {
    () => {
        concat!(", set_config('", tenant_setting!(), "', m.company_id::text, true)")
    };
}

/// Resolve the active company and check membership in one statement.
const RESOLVE_MEMBERSHIP: &str = resolve_membership!("", "");

/// The same, also setting the tenant (PostgreSQL).
pub(crate) const RESOLVE_MEMBERSHIP_AND_SET_TENANT: &str = resolve_membership!(and_set_tenant!(), "");

/// The PostgreSQL statements of a resource write ([`LockMembership`]): the membership row is
/// locked for share until the write commits, so removing (or demoting) the member waits for the
/// writes already authorised, and every write that starts after the removal sees it (issue 17).
/// Reads take no lock: a read that was authorised may finish (API.md), and a lock would make
/// every read write to the row.
const RESOLVE_MEMBERSHIP_FOR_WRITE: &str = resolve_membership!("", " FOR SHARE OF m");
const RESOLVE_MEMBERSHIP_AND_SET_TENANT_FOR_WRITE: &str = resolve_membership!(and_set_tenant!(), " FOR SHARE OF m");
/// The same, refusing to wait for the lock (`55P03` when the row is locked, which only a change
/// of the company's roster does): the first attempt of a write when companies have connection
/// shares, so that a write never waits on its membership row while holding a connection but no
/// share (`fair_share.rs`).
const RESOLVE_MEMBERSHIP_FOR_WRITE_NOWAIT: &str = resolve_membership!("", " FOR SHARE OF m NOWAIT");
const RESOLVE_MEMBERSHIP_AND_SET_TENANT_FOR_WRITE_NOWAIT: &str =
    resolve_membership!(and_set_tenant!(), " FOR SHARE OF m NOWAIT");

/// Registers the membership statement of the one-trip reads, which nearly every read sends,
/// to be prepared on each PostgreSQL connection as it opens (`db/prepared.rs`). Called once at
/// start-up.
pub(crate) fn prepare_on_connect(db: &Db) {
    db.prepare_on_connect(RESOLVE_MEMBERSHIP_AND_SET_TENANT);
}

/// A lock of the coordinator's that stands for a membership row's lock on a Citus cluster
/// (issue 16): a write holds it shared on its caller from before the membership is read until it
/// commits, and a change to a member's membership (removal, new role: `accounts/members.rs`)
/// takes it exclusively on that member first, so the change waits for the member's writes under
/// way and every later write reads the changed membership, as issue 17's row lock does on one
/// server. A transaction-level advisory lock (PostgreSQL docs, "Advisory Locks"), keyed by the
/// user: Citus keeps advisory locks on the coordinator, where every serving connection is. Taken
/// on plain PostgreSQL only by membership changes, where nothing else takes it.
pub(crate) struct MemberLock;

impl MemberLock {
    /// The advisory lock's first key: this lock's own space.
    const CLASS: i32 = 0x7465_6e61; // "tena"

    /// The user's key: its id folded into 32 bits. Two users that share a key only make a
    /// membership change wait for the other's writes too.
    fn key(user_id: Uuid) -> [Value; 2] {
        let folded = user_id
            .as_u128()
            .to_le_bytes()
            .chunks(4)
            .fold(0u32, |acc, c| acc ^ u32::from_le_bytes(c.try_into().expect("chunks of 4")));
        [Value::I32(Some(Self::CLASS)), Value::I32(Some(folded as i32))]
    }

    /// Takes the lock shared (a write): waits when `wait`, else `false` at once if a membership
    /// change of this user holds it.
    async fn shared(tx: &mut Tx, user_id: Uuid, wait: bool) -> Result<bool, DbError> {
        let key = Self::key(user_id);
        if wait {
            tx.execute("SELECT pg_advisory_xact_lock_shared($1, $2)", &key).await?;
            return Ok(true);
        }
        let got =
            tx.fetch_optional("SELECT pg_try_advisory_xact_lock_shared($1, $2)", &key, &[FieldType::Bool]).await?;
        Ok(matches!(got.as_deref(), Some([Value::Bool(Some(true))])))
    }

    /// Takes the lock exclusively (a change to `user_id`'s membership), waiting for the writes of
    /// the user under way. PostgreSQL only; nothing on SQLite, whose write lock does the same.
    pub(crate) async fn exclusive(tx: &mut Tx, user_id: Uuid) -> Result<(), DbError> {
        if tx.dialect() == Dialect::Postgres {
            tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &Self::key(user_id)).await?;
        }
        Ok(())
    }
}

/// How the membership statement treats the caller's membership row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowLock {
    /// Reads, and every request on SQLite (whose write transaction is the lock).
    None,
    /// Lock for share, waiting if the row is locked.
    Wait,
    /// Lock for share, or [`Resolved::Locked`] at once if the row is locked.
    NoWait,
}

/// What the membership statement found.
enum Resolved {
    /// The request's transaction, open, with the tenant set where RLS is on.
    Member(Tx, Uuid, Role),
    /// The row was locked and the statement did not wait ([`RowLock::NoWait`]); the transaction
    /// it opened is rolled back.
    Locked,
}

impl Tenant {
    /// The caller.
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    /// The active company: `X-Company-Id`'s, or the caller's default company.
    pub fn company_id(&self) -> Uuid {
        self.company_id
    }

    /// The caller's role in the active company, as read in this request's transaction.
    pub fn role(&self) -> Role {
        self.role
    }

    /// 403 `{"detail": "You do not have permission to perform this action."}` (DRF's
    /// `PermissionDenied` wording) unless the caller's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed { Ok(()) } else { Err(ApiError::Forbidden(PERMISSION_DENIED)) }
    }

    /// Opens the request's transaction (`mode`) and resolves the active company for `user_id`
    /// in it, setting the database's tenant where the backend enforces row-level security.
    /// (`BEGIN` is not sent together with the membership statement, though a simple-protocol
    /// message could carry both: measured on the create scenario, that cost the app more CPU per
    /// request than the round trip it saved, issue 15.)
    ///
    /// Only when the membership statement finds nothing does a second read tell a user that no
    /// longer exists (401 [`USER_NOT_FOUND`], as Simple JWT) from one that is not a member or
    /// has no active company (403): a served request costs the one statement it always did.
    async fn resolve(
        state: &AppState,
        mode: TxMode,
        lock: RowLock,
        user_id: Uuid,
        requested: Option<Uuid>,
    ) -> Result<Resolved, ApiError> {
        let params = [Value::Uuid(Some(user_id)), Value::Uuid(requested)];
        let dialect = state.db().dialect();
        // On Citus the tenant is set by a `SET LOCAL` of its own once the membership is found:
        // `set_config` would set it on the coordinator only (`db::set_tenant_statement`). And the
        // membership row is not locked: a row lock on a reference table is taken on every node's
        // copy, and two writes doing so deadlocked (seen on Citus 13.0.5, issue 16); a lock of the
        // coordinator's own stands for it ([`MemberLock`]), taken before the membership is read.
        let citus = dialect == Dialect::Postgres && state.db().is_citus();
        let sets_tenant = state.config().row_level_security && !citus;
        let mut tx = state.db().begin(mode).await?;
        let lock = if citus && lock != RowLock::None {
            if !MemberLock::shared(&mut tx, user_id, lock == RowLock::Wait).await? {
                tx.rollback().await?;
                return Ok(Resolved::Locked);
            }
            RowLock::None
        } else {
            lock
        };
        // SQLite needs no row lock: a write transaction holds the database's write lock, which a
        // removal (a write) waits for.
        let sql = match (dialect, sets_tenant, lock) {
            (Dialect::Postgres, true, RowLock::None) => RESOLVE_MEMBERSHIP_AND_SET_TENANT,
            (Dialect::Postgres, true, RowLock::Wait) => RESOLVE_MEMBERSHIP_AND_SET_TENANT_FOR_WRITE,
            (Dialect::Postgres, true, RowLock::NoWait) => RESOLVE_MEMBERSHIP_AND_SET_TENANT_FOR_WRITE_NOWAIT,
            (Dialect::Postgres, false, RowLock::Wait) => RESOLVE_MEMBERSHIP_FOR_WRITE,
            (Dialect::Postgres, false, RowLock::NoWait) => RESOLVE_MEMBERSHIP_FOR_WRITE_NOWAIT,
            _ => RESOLVE_MEMBERSHIP,
        };
        let found = match tx.fetch_optional_with(sql, &params, &mut Membership).await {
            Err(DbError::LockNotAvailable) if lock == RowLock::NoWait => {
                tx.rollback().await?;
                return Ok(Resolved::Locked);
            }
            other => other?,
        };
        match found {
            Some((company_id, Ok(role))) => {
                if citus && state.config().row_level_security {
                    tx.set_tenant(company_id).await?;
                }
                Ok(Resolved::Member(tx, company_id, role))
            }
            Some((_, Err(role))) => Err(ApiError::internal(format!("unknown role {role:?} in memberships"))),
            None if tx.fetch_optional(USER_EXISTS, &params[..1], &[FieldType::Uuid]).await?.is_none() => {
                Err(user_not_found())
            }
            None => Err(match requested {
                Some(_) => ApiError::Forbidden(NOT_A_MEMBER),
                None => ApiError::Forbidden(NO_ACTIVE_COMPANY),
            }),
        }
    }

    /// The membership of a caller whose company is over its connection share (or whose
    /// membership row a roster change holds): this request's connection went back to the pool;
    /// learn the company without waiting on any lock, wait for one of its shares, then take a
    /// connection again and resolve for real (waiting on the row lock now, within the share).
    async fn resolve_within_share(
        state: &AppState,
        shares: &CompanyConnections,
        mode: TxMode,
        lock: bool,
        user_id: Uuid,
        requested: Option<Uuid>,
        known: Option<Uuid>,
    ) -> Result<(Tx, Uuid, Role, CompanyPermit), ApiError> {
        let company_id = match known {
            Some(company_id) => company_id,
            None => match Tenant::resolve(state, TxMode::Read, RowLock::None, user_id, requested).await? {
                Resolved::Member(probe, company_id, _) => {
                    probe.rollback().await?;
                    company_id
                }
                Resolved::Locked => return Err(ApiError::internal("a statement without a lock found a lock")),
            },
        };
        let permit = shares.acquire(company_id).await.ok_or(ApiError::Busy(1))?;
        let lock = if lock { RowLock::Wait } else { RowLock::None };
        match Tenant::resolve(state, mode, lock, user_id, requested).await? {
            Resolved::Member(tx, resolved, role) if resolved == company_id => Ok((tx, company_id, role, permit)),
            // The default company changed meanwhile: the caller may simply try again.
            Resolved::Member(..) => Err(ApiError::Busy(1)),
            Resolved::Locked => Err(ApiError::internal("a waiting lock reported the row locked")),
        }
    }

    /// The request's transaction, bound to this tenant. Every tenant-resource query runs
    /// through it; it can be taken once (a second call is a 500). Dropping the [`Scoped`]
    /// without [`Scoped::commit`] rolls it back.
    pub fn begin(&mut self) -> Result<Scoped, ApiError> {
        let tx = self.tx.take().ok_or_else(|| ApiError::internal("the tenant transaction was already taken"))?;
        Ok(Scoped { tx, company_id: self.company_id, role: Some(self.role), _permit: self.permit.take() })
    }
}

/// Decodes the membership row: the company and the role (`Err`: a role this version does not
/// know). The `set_config` column after them is not read.
pub(crate) struct Membership;

impl RowDecoder for Membership {
    type Output = (Uuid, Result<Role, String>);
    fn decode<R: RowReader + ?Sized>(&mut self, row: &mut R) -> Result<Self::Output, DecodeError> {
        let company_id = Uuid::read(row, "company_id")?;
        let role = String::read(row, "role")?;
        Ok((company_id, Role::parse(&role).ok_or(role)))
    }
}

/// Marks routes whose writes lock the caller's membership row for share (PostgreSQL) until they
/// commit: the tenant resources (`crud::routes`). The members routes do not: they lock the whole
/// roster for update and re-check the caller there, and a share lock taken first would deadlock
/// two admins changing each other at once.
#[derive(Debug, Clone, Copy)]
pub struct LockMembership;

/// The minimum role of the route (a custom action's, `actions.rs`): the extractor answers a
/// lower role 403 before the handler runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequiredRole(pub(crate) Role);

/// Reads never take SQLite's write lock; every other method is treated as a write.
fn tx_mode(method: &Method) -> TxMode {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) { TxMode::Read } else { TxMode::Write }
}

/// Works with any router state the framework's [`AppState`] can be had from (axum's
/// [`FromRef`]), so an app keeps state of its own beside it.
impl<S> FromRequestParts<S> for Tenant
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = &AppState::from_ref(state);
        let (user_id, requested) = Tenant::caller(parts, state).await?;
        let mode = tx_mode(&parts.method);
        let lock = mode == TxMode::Write && parts.extensions.get::<LockMembership>().is_some();
        let needed = parts.extensions.get::<RequiredRole>().map(|RequiredRole(role)| *role);
        Tenant::enter(state, user_id, requested, mode, lock, needed).await
    }
}

impl Tenant {
    /// Who is calling and which company they ask for, before any database work: the access
    /// token's user (401s), the user's request allowance (429), and `X-Company-Id` (403 when it
    /// is not one UUID, but 401 first for a user that no longer exists).
    pub(crate) async fn caller(parts: &Parts, state: &AppState) -> Result<(Uuid, Option<Uuid>), ApiError> {
        // The token is checked here without reading the user: `resolve` tells a missing user
        // apart only when the membership statement finds nothing.
        let user_id = token_user(parts, state)?;
        // The user's own allowance, before any database work: only the holder of the user's
        // token spends it, and a flood of refused requests costs no round trip past it.
        state.request_throttle().user(user_id).await?;
        match requested_company(&parts.headers) {
            Ok(requested) => Ok((user_id, requested)),
            // Who is calling is settled before which company (Django REST Framework
            // authenticates before anything else): a user that no longer exists is a 401 even
            // with a bad X-Company-Id. Refused requests only pay for this read.
            Err(err) if user_exists(state, user_id).await? => Err(err),
            Err(_) => Err(user_not_found()),
        }
    }

    /// Opens the request's transaction (`mode`) and resolves the caller's company in it: the
    /// membership statement (locking the row for share when `lock`), the company's connection
    /// share, the route's minimum role (`needed`), then the company's allowance.
    pub(crate) async fn enter(
        state: &AppState,
        user_id: Uuid,
        requested: Option<Uuid>,
        mode: TxMode,
        lock: bool,
        needed: Option<Role>,
    ) -> Result<Tenant, ApiError> {
        let shares = state.company_connections();
        // With connection shares, a write does not wait on its membership row before it holds
        // its company's share: the lock is tried without waiting first.
        let first_lock = match (lock, shares.is_some()) {
            (false, _) => RowLock::None,
            (true, true) => RowLock::NoWait,
            (true, false) => RowLock::Wait,
        };
        let (tx, company_id, role, permit) =
            match (Tenant::resolve(state, mode, first_lock, user_id, requested).await?, shares) {
                (Resolved::Member(tx, company_id, role), None) => (tx, company_id, role, None),
                (Resolved::Member(tx, company_id, role), Some(shares)) => match shares.try_acquire(company_id) {
                    Some(permit) => (tx, company_id, role, Some(permit)),
                    None => {
                        // The company holds its whole share: give this connection back to the pool
                        // (other companies may need it) while waiting.
                        tx.rollback().await?;
                        let (again, company_id, role, permit) = Tenant::resolve_within_share(
                            state,
                            shares,
                            mode,
                            lock,
                            user_id,
                            requested,
                            Some(company_id),
                        )
                        .await?;
                        (again, company_id, role, Some(permit))
                    }
                },
                (Resolved::Locked, shares) => {
                    let shares = shares.ok_or_else(|| ApiError::internal("NOWAIT without connection shares"))?;
                    let (again, company_id, role, permit) =
                        Tenant::resolve_within_share(state, shares, mode, lock, user_id, requested, None).await?;
                    (again, company_id, role, Some(permit))
                }
            };
        if let Some(shares) = shares {
            // What a one-trip read needs to take this share up front (`tenant_read.rs`).
            shares.remember_member(user_id, requested, company_id);
        }
        // A custom action's minimum role (`actions.rs`), checked before anything is read.
        if let Some(needed) = needed
            && role < needed
        {
            return Err(ApiError::Forbidden(PERMISSION_DENIED));
        }
        Tenant::admitted(state, company_id).await?;
        Ok(Tenant { user_id, company_id, role, tx: Some(tx), permit })
    }

    /// What follows a verified membership, on every path: the company on the request's span and
    /// in the metrics, then the company's allowance (DRF checks throttles after permissions:
    /// naming another company in `X-Company-Id` never spends its allowance).
    pub(crate) async fn admitted(state: &AppState, company_id: Uuid) -> Result<(), ApiError> {
        crate::request_trace::record_company(company_id);
        state.count_company_request(company_id);
        state.request_throttle().company(company_id).await
    }
}

/// A transaction bound to one company, made only by [`Tenant::begin`] (in a request, for a
/// member) or [`jobs::scoped`](crate::jobs::scoped) (outside one). Its typed operations
/// ([`Scoped::get`], [`Scoped::list`], [`Scoped::create`], …) put its company id into every
/// statement. The transaction itself is handed out only by [`Scoped::raw_sql_unscoped`], whose
/// name says what its caller takes on.
pub struct Scoped {
    tx: Tx,
    company_id: Uuid,
    /// The caller's role in the company; `None` outside a request (a job acts for no member,
    /// so no field's `write` role limits it).
    role: Option<Role>,
    /// Released with the transaction's connection (see [`Tenant`]'s `permit`).
    _permit: Option<CompanyPermit>,
}

/// A transaction of `company_id` outside any request (`jobs.rs`): no member, no share. A free
/// function, not `Scoped::…`, so that rustc never suggests it to code outside the crate.
pub(crate) fn scoped_outside_request(tx: Tx, company_id: Uuid) -> Scoped {
    Scoped { tx, company_id, role: None, _permit: None }
}

impl Scoped {
    /// The role of the member this transaction acts for, `None` for a job (`jobs.rs`).
    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// The company every statement of this transaction is scoped to.
    pub fn company_id(&self) -> Uuid {
        self.company_id
    }

    /// The company id as the first bound parameter of every scoped statement.
    pub(crate) fn company_param(&self) -> Value {
        Value::Uuid(Some(self.company_id))
    }

    pub(crate) fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The transaction itself, for SQL of your own (reports, bulk updates) inside this scope.
    ///
    /// **Scoping is then your duty**: write `WHERE company_id = $1` into every statement and
    /// bind [`Scoped::company_id`]. On PostgreSQL row-level security still applies (the
    /// transaction carries the company, and the serving role is subject to the policies), so a
    /// statement that forgets the condition sees this company's rows only; on SQLite nothing
    /// does, and it sees every company's. The name is long on purpose: `grep raw_sql_unscoped`
    /// finds every place that bypasses the typed operations.
    pub fn raw_sql_unscoped(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Commits the request's work, and gives its connection (and the company's share of the
    /// pool) back. A failed commit is a 503 or a 500, as any database error.
    pub async fn commit(self) -> Result<(), ApiError> {
        Ok(self.tx.commit().await?)
    }
}
