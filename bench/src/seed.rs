//! The data set: N companies with one admin each and M customers per company, written with
//! `COPY` as the owner (not through the HTTP API), then `VACUUM ANALYZE`. Access tokens are
//! minted directly with the framework's own signing code and the server's secret.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tenant_core::auth::jwt::{Keys, TokenType};
use uuid::Uuid;

use crate::Result;
use crate::pg::{APP_ROLE, Database};
use crate::statements::IDS_TABLE;

/// Customers per tenant that the load picks from (ids for retrieve/update, emails for filters).
pub const SAMPLES_PER_TENANT: usize = 50;

/// Lifetime of the access tokens minted for the load (longer than any run); the framework is
/// started with the same `ACCESS_TOKEN_TTL_SECS`.
pub const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// The one password every seeded admin has (hashed once, reused).
pub const PASSWORD: &str = "bench-password";

/// One company, its admin, a token for the admin, and a sample of its customers.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub company_id: Uuid,
    pub user_id: Uuid,
    pub token: String,
    /// `(id, email)` of some of its customers, spread over the created order.
    pub samples: Vec<(Uuid, String)>,
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub rows: usize,
    pub tenants: Vec<Tenant>,
    /// Rows of the pgbench helper table.
    pub ids: usize,
    pub seed_time: Duration,
    /// Share of the customers pages all-visible after seeding (index-only scans need them).
    pub all_visible: f64,
}

/// A small deterministic generator (splitmix64): the same names on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ada",
    "Alan",
    "Barbara",
    "Claude",
    "Donald",
    "Edsger",
    "Frances",
    "Grace",
    "Hedy",
    "Ivan",
    "Joan",
    "Ken",
    "Leslie",
    "Margaret",
    "Niklaus",
    "Olga",
    "Radia",
    "Sophie",
    "Tony",
    "Ursula",
    "Vint",
    "Whitfield",
    "Xavier",
    "Yukihiro",
    "Zofia",
];
const LAST: &[&str] = &[
    "Allen",
    "Backus",
    "Cerf",
    "Dijkstra",
    "Engelbart",
    "Floyd",
    "Goldberg",
    "Hamilton",
    "Iverson",
    "Johnson",
    "Kay",
    "Lamport",
    "Liskov",
    "McCarthy",
    "Naur",
    "Ousterhout",
    "Perlman",
    "Ritchie",
    "Sutherland",
    "Thompson",
    "Ullman",
    "Wirth",
    "Yao",
];

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

/// Streams text-format `COPY` data in chunks of about 1 MiB.
struct Copy<'c> {
    copy: sqlx::postgres::PgCopyIn<&'c mut PgConnection>,
    buf: String,
}

impl<'c> Copy<'c> {
    async fn start(conn: &'c mut PgConnection, table_and_columns: &str) -> Result<Copy<'c>> {
        let copy = conn.copy_in_raw(&format!("COPY {table_and_columns} FROM STDIN")).await?;
        Ok(Copy { copy, buf: String::with_capacity(1 << 20) })
    }

    async fn row(&mut self, fields: &[&str]) -> Result<()> {
        self.buf.push_str(&fields.join("\t"));
        self.buf.push('\n');
        if self.buf.len() >= 1 << 20 {
            self.copy.send(std::mem::take(&mut self.buf).into_bytes()).await?;
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<u64> {
        if !self.buf.is_empty() {
            self.copy.send(std::mem::take(&mut self.buf).into_bytes()).await?;
        }
        Ok(self.copy.finish().await?)
    }
}

/// Seeds `rows` customers over [`crate::options::companies_for`] companies into `db` (already
/// migrated by the app), creates the pgbench helper table, analyses, and mints a token per admin.
pub async fn seed(db: &Database, rows: usize, jwt_secret: &str) -> Result<Dataset> {
    let started = Instant::now();
    let companies = crate::options::companies_for(rows);
    let password_hash = tenant_core::auth::password::hash_blocking(PASSWORD)?;
    let keys = Keys::new(jwt_secret.as_bytes(), TOKEN_TTL, TOKEN_TTL);
    let now = Utc::now();
    // Customers were created one per 10 ms up to now, interleaved over the companies.
    let first = now - chrono::Duration::milliseconds(10 * rows as i64 + 1000);
    let mut rng = Rng(0x5eed);
    let mut conn = db.owner().await?;

    let mut tenants: Vec<Tenant> = (0..companies)
        .map(|_| Tenant { company_id: Uuid::now_v7(), user_id: Uuid::now_v7(), token: String::new(), samples: vec![] })
        .collect();
    let created = ts(first);

    let mut copy = Copy::start(&mut conn, "companies (id, name, created_at)").await?;
    for (i, t) in tenants.iter().enumerate() {
        copy.row(&[&t.company_id.to_string(), &format!("Company {i}"), &created]).await?;
    }
    copy.finish().await?;

    let mut copy = Copy::start(&mut conn, "users (id, email, password_hash, default_company_id, created_at)").await?;
    for (i, t) in tenants.iter().enumerate() {
        let email = format!("admin{i}@company{i}.bench.test");
        copy.row(&[&t.user_id.to_string(), &email, &password_hash, &t.company_id.to_string(), &created]).await?;
    }
    copy.finish().await?;

    let mut copy = Copy::start(&mut conn, "memberships (company_id, user_id, role, created_at)").await?;
    for t in &tenants {
        copy.row(&[&t.company_id.to_string(), &t.user_id.to_string(), "admin", &created]).await?;
    }
    copy.finish().await?;

    // Customers: company i gets `per` (+1 for the first `extra`) rows; the sample takes every
    // (per / SAMPLES)-th, so it spreads over the company's created order.
    let (per, extra) = (rows / companies, rows % companies);
    let mut copy =
        Copy::start(&mut conn, "customers (id, company_id, created_at, updated_at, name, email, phone, notes)").await?;
    let mut line = String::new();
    for j in 0..per + 1 {
        for (i, t) in tenants.iter_mut().enumerate() {
            let count = per + usize::from(i < extra);
            if j >= count {
                continue;
            }
            let k = j * companies + i;
            let at = ts(first + chrono::Duration::milliseconds(10 * k as i64));
            let id = Uuid::now_v7();
            let email = format!("customer{j}@company{i}.bench.test");
            line.clear();
            let _ = write!(line, "{} {} {j}", rng.pick(FIRST), rng.pick(LAST));
            let step = (count / SAMPLES_PER_TENANT).max(1);
            if j % step == 0 && t.samples.len() < SAMPLES_PER_TENANT {
                t.samples.push((id, email.clone()));
            }
            copy.row(&[&id.to_string(), &t.company_id.to_string(), &at, &at, &line, &email, "\\N", ""]).await?;
        }
    }
    let copied = copy.finish().await?;
    if copied != rows as u64 {
        return Err(format!("seeded {copied} customers, expected {rows}").into());
    }

    // The pgbench helper: one row per sampled customer.
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE TABLE {IDS_TABLE} (n INT PRIMARY KEY, user_id UUID NOT NULL, company_id UUID NOT NULL, \
         customer_id UUID NOT NULL); GRANT SELECT ON {IDS_TABLE} TO {APP_ROLE}"
    )))
    .execute(&mut conn)
    .await?;
    let mut copy = Copy::start(&mut conn, &format!("{IDS_TABLE} (n, user_id, company_id, customer_id)")).await?;
    let mut n = 0usize;
    for t in &tenants {
        for (id, _) in &t.samples {
            n += 1;
            copy.row(&[&n.to_string(), &t.user_id.to_string(), &t.company_id.to_string(), &id.to_string()]).await?;
        }
    }
    copy.finish().await?;

    // As autovacuum would have by now: statistics, and the visibility map (index-only scans need
    // it). A VACUUM right after the load can leave pages not yet all-visible, so repeat it a few
    // times until (nearly) every page of customers is.
    sqlx::raw_sql("VACUUM ANALYZE companies, users, memberships, customers, bench_ids").execute(&mut conn).await?;
    let mut all_visible = visible_fraction(&mut conn).await?;
    for _ in 0..10 {
        if all_visible >= 0.99 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        sqlx::raw_sql("VACUUM customers").execute(&mut conn).await?;
        all_visible = visible_fraction(&mut conn).await?;
    }
    conn.close().await?;

    for t in &mut tenants {
        t.token = keys.issue(t.user_id, TokenType::Access);
    }
    Ok(Dataset { rows, tenants, ids: n, seed_time: started.elapsed(), all_visible })
}

/// The share of the customers table's pages marked all-visible.
async fn visible_fraction(conn: &mut PgConnection) -> Result<f64> {
    let (pages, visible): (i32, i32) =
        sqlx::query_as("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'customers'")
            .fetch_one(conn)
            .await?;
    Ok(if pages > 0 { f64::from(visible) / f64::from(pages) } else { 1.0 })
}

/// The file the wrk script reads: one line per tenant, tab-separated: the token, then
/// `id email` pairs of its sampled customers.
pub fn write_wrk_data(dataset: &Dataset, path: &Path) -> Result<()> {
    let mut out = String::new();
    for t in &dataset.tenants {
        out.push_str(&t.token);
        for (id, email) in &t.samples {
            let _ = write!(out, "\t{id}\t{email}");
        }
        out.push('\n');
    }
    std::fs::write(path, out)?;
    Ok(())
}
