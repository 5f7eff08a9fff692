//! One measured wrk run on one server, with what the server and PostgreSQL did during it; and
//! the create scenario's row check.

use std::time::Duration;

use crate::Result;
use crate::dbwork::Probe;
use crate::load::{Driver, Scenario, WrkResult};
use crate::pg::Database;
use crate::procs::Server;
use crate::results::CreateCheck;
use crate::run::Context;

/// A warm-up (unmeasured) and a measured wrk run; the server must survive both.
pub async fn measure(
    ctx: &Context,
    driver: &Driver,
    server: &mut Server,
    probe: &mut Probe,
    scenario: Scenario,
    tag: &str,
) -> Result<WrkResult> {
    eprintln!("bench: {} on {}", scenario.name(), server.name);
    if ctx.opts.warmup > 0 {
        driver.run(server.addr, scenario, ctx.load(ctx.opts.warmup), &format!("{tag}w")).await?;
    }
    let snapshot = probe.start().await?;
    let cpu = server.cpu_micros()?;
    let mut result = driver.run(server.addr, scenario, ctx.load(ctx.opts.duration), &format!("{tag}m")).await?;
    let cpu = server.cpu_micros()? - cpu;
    result.db = probe.finish(&snapshot).await?;
    server.check_alive()?;
    result.server_cpu_us = cpu as f64 / result.requests.max(1) as f64;
    Ok(result)
}

/// The create scenario, with the rows counted before and after and each 201 looked up.
pub async fn measure_create(
    ctx: &Context,
    db: &Database,
    driver: &Driver,
    server: &mut Server,
    probe: &mut Probe,
    tag: &str,
) -> Result<(WrkResult, CreateCheck)> {
    eprintln!("bench: create on {}", server.name);
    let scenario = Scenario::Create;
    if ctx.opts.warmup > 0 {
        driver.run(server.addr, scenario, ctx.load(ctx.opts.warmup), &format!("{tag}w")).await?;
    }
    // Requests in flight when wrk stops still finish on the server: let them.
    let settle = Duration::from_millis(500);
    tokio::time::sleep(settle).await;
    let mut conn = db.owner().await?;
    let before = crate::pg::count_customers(&mut conn).await?;
    let prefix = format!("{tag}m-");
    let snapshot = probe.start().await?;
    let cpu = server.cpu_micros()?;
    let mut r = driver.run(server.addr, scenario, ctx.load(ctx.opts.duration), &format!("{tag}m")).await?;
    let cpu = server.cpu_micros()? - cpu;
    r.db = probe.finish(&snapshot).await?;
    server.check_alive()?;
    r.server_cpu_us = cpu as f64 / r.requests.max(1) as f64;
    tokio::time::sleep(settle).await;
    let after = crate::pg::count_customers(&mut conn).await?;
    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT email, count(*) FROM customers WHERE starts_with(email, $1) GROUP BY email")
            .bind(&prefix)
            .fetch_all(&mut conn)
            .await?;
    let stored: std::collections::HashMap<String, i64> = stored.into_iter().collect();
    let mut acknowledged = std::collections::HashMap::new();
    for email in &r.lua.created {
        *acknowledged.entry(email.as_str()).or_insert(0u32) += 1;
    }
    let mut check = CreateCheck {
        before,
        after,
        acknowledged: r.lua.created.len(),
        in_flight: r.lua.sent.saturating_sub(r.lua.s2xx + r.lua.s4xx + r.lua.s5xx + r.lua.other),
        s5xx: r.lua.s5xx,
        ..CreateCheck::default()
    };
    for (email, times) in &acknowledged {
        match stored.get(*email) {
            Some(1) if *times == 1 => check.found += 1,
            Some(1) => {
                check.found += 1;
                check.duplicates += 1;
            }
            Some(_) => check.duplicates += 1,
            None => check.lost += *times as usize,
        }
    }
    check.duplicates += stored.iter().filter(|(e, n)| **n > 1 && !acknowledged.contains_key(e.as_str())).count();
    check.unacknowledged = stored.keys().filter(|e| !acknowledged.contains_key(e.as_str())).count();
    let made: i64 = stored.values().sum();
    check.foreign = (after - before) - made;
    Ok((r, check))
}
