//! The Citus placement steps (`tenant_core::citus::plan`) without a cluster: each plan is run
//! through a model of the rules Citus enforces (Citus documentation, "Table Management",
//! "Creating and Modifying Distributed Objects"), for the demo's and the tracker's reference
//! graphs and for random ones (cycles, self-references, tables placed partly already). The real
//! cluster run is in docs/CITUS.md.
//!
//! The model's rules, each a refusal Citus gives:
//! - a table is made a reference table only if each foreign key it has points at a reference
//!   table, and none from a table that is neither reference nor distributed points at it;
//! - a table is distributed only if its foreign keys point at reference tables or at distributed
//!   tables of its co-location group, none from a local table points at it, and the table it is
//!   co-located with is distributed;
//! - a foreign key is added only from a distributed table to a reference table or a distributed
//!   table of the same group, between reference tables, or between local tables;
//! - a policy with a sub-query is refused on a distributed table.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tenant_core::citus::{CORE_TABLES, Catalog, ForeignKey, Placement, plan};

#[derive(Debug, Clone)]
struct Model {
    placements: BTreeMap<String, Placement>,
    groups: BTreeMap<String, u32>,
    keys: Vec<ForeignKey>,
    next_group: u32,
}

impl Model {
    fn of(catalog: &Catalog) -> Model {
        let mut groups = BTreeMap::new();
        for (t, p) in &catalog.placements {
            if *p == Placement::Distributed {
                groups.insert(t.clone(), 1);
            }
        }
        Model { placements: catalog.placements.clone(), groups, keys: catalog.foreign_keys.clone(), next_group: 2 }
    }

    fn catalog(&self) -> Catalog {
        Catalog { placements: self.placements.clone(), foreign_keys: self.keys.clone() }
    }

    fn at(&self, t: &str) -> Placement {
        self.placements[t]
    }

    fn key_allowed(&self, from: &str, to: &str) -> bool {
        use Placement::*;
        match (self.at(from), self.at(to)) {
            (Distributed, Reference) | (Reference, Reference) => true,
            (Distributed, Distributed) => self.groups[from] == self.groups[to],
            (Local | CitusLocal, Local | CitusLocal | Reference) => true,
            _ => false,
        }
    }

    fn run(&mut self, statement: &str) -> Result<(), String> {
        let quoted = |s: &str| s.split('\'').nth(1).map(str::to_string).ok_or(format!("no table in {s}"));
        if statement.starts_with("SET LOCAL citus.")
            || statement.starts_with("ALTER TABLE") && statement.contains("ROW LEVEL SECURITY")
        {
            return Ok(());
        }
        if let Some(rest) = statement.strip_prefix("DROP POLICY IF EXISTS ") {
            let _ = rest;
            return Ok(());
        }
        if statement.starts_with("CREATE POLICY") {
            let table = statement.split_whitespace().nth(4).unwrap();
            if self.at(table) == Placement::Distributed && statement.to_uppercase().contains("SELECT") {
                return Err(format!("sub-query in a policy of distributed {table}"));
            }
            return Ok(());
        }
        if statement.starts_with("SELECT create_reference_table(") {
            let t = quoted(statement)?;
            for k in &self.keys {
                if k.table == t && k.referenced != t && self.at(&k.referenced) != Placement::Reference {
                    return Err(format!("reference {t}: its key {} points at non-reference {}", k.name, k.referenced));
                }
                if k.referenced == t
                    && k.table != t
                    && matches!(self.at(&k.table), Placement::Local | Placement::CitusLocal)
                {
                    return Err(format!("reference {t}: local {} points at it ({})", k.table, k.name));
                }
            }
            self.placements.insert(t, Placement::Reference);
            return Ok(());
        }
        if statement.starts_with("SELECT create_distributed_table(") {
            let t = quoted(statement)?;
            if !statement.contains("'company_id'") {
                return Err(format!("{t} not distributed by company_id"));
            }
            let group = match statement.split("colocate_with => '").nth(1) {
                Some(rest) => {
                    let with = &rest[..rest.find('\'').unwrap()];
                    if self.at(with) != Placement::Distributed {
                        return Err(format!("{t} co-located with {with}, which is not distributed"));
                    }
                    self.groups[with]
                }
                None => {
                    self.next_group += 1;
                    self.next_group
                }
            };
            if self.placements[&t] == Placement::Distributed {
                return Err(format!("{t} distributed twice"));
            }
            self.placements.insert(t.clone(), Placement::Distributed);
            self.groups.insert(t.clone(), group);
            for k in self.keys.clone() {
                if (k.table == t || k.referenced == t)
                    && !self.key_allowed(&k.table, &k.referenced)
                    && k.table != k.referenced
                {
                    return Err(format!("distribute {t}: key {} {} → {} not allowed", k.name, k.table, k.referenced));
                }
            }
            return Ok(());
        }
        if let Some(rest) = statement.strip_prefix("ALTER TABLE ") {
            let table = rest.split_whitespace().next().unwrap().to_string();
            if let Some(name) = rest.split(" DROP CONSTRAINT ").nth(1) {
                let name = name.trim_matches('"');
                let before = self.keys.len();
                self.keys.retain(|k| !(k.table == table && k.name == name));
                return if self.keys.len() + 1 == before { Ok(()) } else { Err(format!("no key {name} on {table}")) };
            }
            if let Some(rest) = rest.split(" ADD CONSTRAINT ").nth(1) {
                let (name, definition) = rest.split_once(' ').unwrap();
                let referenced = definition.split("REFERENCES ").nth(1).unwrap();
                let referenced = referenced[..referenced.find([' ', '(']).unwrap()].to_string();
                if !self.key_allowed(&table, &referenced) {
                    return Err(format!(
                        "key {name}: {table} ({:?}) → {referenced} ({:?})",
                        self.at(&table),
                        self.at(&referenced)
                    ));
                }
                if self.at(&table) == Placement::Distributed
                    && self.at(&referenced) == Placement::Distributed
                    && !definition.starts_with("FOREIGN KEY (company_id")
                {
                    return Err(format!("key {name} between distributed tables without company_id"));
                }
                self.keys.push(ForeignKey {
                    name: name.trim_matches('"').to_string(),
                    table,
                    referenced,
                    definition: definition.to_string(),
                });
                return Ok(());
            }
        }
        Err(format!("the model does not know {statement:?}"))
    }
}

/// Runs the plan for `tenant` over `catalog` through the model and checks the end: every core
/// table a reference table, every tenant table distributed in one group, the same foreign keys as
/// before, and a second plan empty.
fn check(tenant: &[&str], catalog: &Catalog) -> Result<Vec<String>, String> {
    let statements = plan(&CORE_TABLES, tenant, catalog);
    let mut model = Model::of(catalog);
    for s in &statements {
        model.run(s).map_err(|e| format!("{e}\nin plan {statements:#?}"))?;
    }
    for t in CORE_TABLES {
        if catalog.placements.contains_key(t) && model.at(t) != Placement::Reference {
            return Err(format!("{t} is {:?}", model.at(t)));
        }
    }
    let groups: std::collections::BTreeSet<u32> =
        tenant.iter().filter(|t| catalog.placements.contains_key(**t)).map(|t| model.groups[*t]).collect();
    if groups.len() > 1 {
        return Err(format!("tenant tables in {} co-location groups", groups.len()));
    }
    let mut before: Vec<_> = catalog.foreign_keys.iter().map(|k| (&k.table, &k.name, &k.definition)).collect();
    let mut after: Vec<_> = model.keys.iter().map(|k| (&k.table, &k.name, &k.definition)).collect();
    before.sort();
    after.sort();
    if before != after {
        return Err(format!("foreign keys changed: {before:?} → {after:?}"));
    }
    let again = plan(&CORE_TABLES, tenant, &model.catalog());
    if !again.is_empty() {
        return Err(format!("not idempotent: {again:#?}"));
    }
    Ok(statements)
}

fn key(table: &str, field: &str, target: &str) -> ForeignKey {
    ForeignKey {
        name: format!("{table}_{field}_fkey"),
        table: table.into(),
        referenced: target.into(),
        definition: if CORE_TABLES.contains(&target) {
            format!("FOREIGN KEY ({field}) REFERENCES {target}(id) ON DELETE CASCADE")
        } else {
            format!("FOREIGN KEY (company_id, {field}) REFERENCES {target}(company_id, id)")
        },
    }
}

/// The core migrations' foreign keys (tenant-core/migrations/postgres).
fn core_keys() -> Vec<ForeignKey> {
    vec![
        key("users", "default_company_id", "companies"),
        key("memberships", "company_id", "companies"),
        key("memberships", "user_id", "users"),
        key("email_verifications", "user_id", "users"),
        key("invitations", "company_id", "companies"),
        key("invitations", "invited_by", "users"),
        key("refresh_tokens", "user_id", "users"),
    ]
}

fn fresh(tenant: &[&str], tenant_keys: Vec<ForeignKey>) -> Catalog {
    let mut placements: BTreeMap<String, Placement> =
        CORE_TABLES.iter().chain(tenant).map(|t| (t.to_string(), Placement::Local)).collect();
    placements.insert("_sqlx_migrations".into(), Placement::Local);
    let mut foreign_keys = core_keys();
    foreign_keys.extend(tenant.iter().map(|t| key(t, "company_id", "companies")));
    foreign_keys.extend(tenant_keys);
    Catalog { placements, foreign_keys }
}

#[test]
fn the_demo_app_is_placed_in_a_valid_order() {
    let tenant = ["customers", "products", "invoices"];
    let statements = check(&tenant, &fresh(&tenant, vec![key("invoices", "customer_id", "customers")])).unwrap();
    // The demo's one reference between tenant tables is dropped before and added after.
    let drop = statements.iter().position(|s| s.contains("DROP CONSTRAINT \"invoices_customer_id_fkey\"")).unwrap();
    let add = statements.iter().position(|s| s.contains("ADD CONSTRAINT \"invoices_customer_id_fkey\"")).unwrap();
    let distribute =
        statements.iter().position(|s| s.starts_with("SELECT create_distributed_table('invoices'")).unwrap();
    assert!(drop < distribute && distribute < add, "{statements:#?}");
    assert!(
        statements.contains(
            &"SELECT create_distributed_table('products', 'company_id', colocate_with => 'customers')".into()
        )
    );
}

/// The tracker's tables (examples/tracker/migrations/postgres/0001_initial.sql): projects and
/// tasks refer to each other, comments to tasks.
#[test]
fn the_trackers_mutual_references_are_placed_in_a_valid_order() {
    let tenant = ["tr_projects", "tr_tasks", "tr_comments"];
    let keys = vec![
        key("tr_projects", "lead_task_id", "tr_tasks"),
        key("tr_tasks", "project_id", "tr_projects"),
        key("tr_comments", "task_id", "tr_tasks"),
    ];
    check(&tenant, &fresh(&tenant, keys)).unwrap();
}

#[test]
fn a_placed_database_needs_nothing_and_a_citus_local_table_is_not_placed() {
    let tenant = ["customers", "invoices"];
    let mut catalog = fresh(&tenant, vec![key("invoices", "customer_id", "customers")]);
    for t in CORE_TABLES {
        catalog.placements.insert(t.into(), Placement::Reference);
    }
    for t in tenant {
        catalog.placements.insert(t.into(), Placement::Distributed);
    }
    assert!(plan(&CORE_TABLES, &tenant, &catalog).is_empty());
    // Citus made `invoices` a Citus local table by itself (listed in pg_dist_partition,
    // partmethod 'n', repmodel 's'): not placed.
    assert_eq!(Placement::from_catalog(Some("n"), Some("s")), Placement::CitusLocal);
    assert_eq!(Placement::from_catalog(Some("n"), Some("t")), Placement::Reference);
    assert_eq!(Placement::from_catalog(Some("h"), Some("s")), Placement::Distributed);
    assert_eq!(Placement::from_catalog(None, None), Placement::Local);
    catalog.placements.insert("invoices".into(), Placement::CitusLocal);
    catalog.foreign_keys.retain(|k| k.name != "invoices_customer_id_fkey");
    let statements = check(&tenant, &catalog).unwrap();
    assert!(
        statements.contains(
            &"SELECT create_distributed_table('invoices', 'company_id', colocate_with => 'customers')".into()
        )
    );
    // Tables that do not exist (not migrated yet) are left for later.
    assert!(
        plan(&CORE_TABLES, &["customers", "invoices", "later"], &catalog.clone()).iter().all(|s| !s.contains("later"))
    );
}

/// A tenant table's existing policy is replaced before it is distributed (one written by an
/// earlier version had a sub-query, which Citus refuses on a distributed table).
#[test]
fn each_table_gets_the_current_policy_before_it_is_distributed() {
    let tenant = ["customers"];
    let statements = check(&tenant, &fresh(&tenant, vec![])).unwrap();
    let create = statements.iter().position(|s| s.starts_with("CREATE POLICY tenant_isolation ON customers")).unwrap();
    let distribute =
        statements.iter().position(|s| s.starts_with("SELECT create_distributed_table('customers'")).unwrap();
    assert!(create < distribute);
    assert!(!statements[create].to_uppercase().contains("SELECT"), "{}", statements[create]);
}

fn graph() -> impl Strategy<Value = (Vec<String>, Vec<(usize, usize)>, Vec<u8>)> {
    (1usize..7).prop_flat_map(|n| {
        let tables: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
        (
            Just(tables),
            proptest::collection::vec((0..n, 0..n), 0..(2 * n + 1)),
            // Per table: 0 local, 1 Citus local, 2 distributed already.
            proptest::collection::vec(0u8..3, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Any reference graph between tenant tables (cycles and self-references included), on a new
    /// database or one where some tables are placed already (core tables then reference tables,
    /// and keys only where Citus allows them), comes out in a valid order, ends fully placed in
    /// one group with the same keys, and is idempotent.
    #[test]
    fn any_reference_graph_is_placed_in_a_valid_order((tables, edges, states) in graph(), core_placed in any::<bool>()) {
        let names: Vec<&str> = tables.iter().map(String::as_str).collect();
        let mut keys: Vec<ForeignKey> = Vec::new();
        for (i, (from, to)) in edges.iter().enumerate() {
            let mut k = key(&tables[*from], &format!("r{i}_id"), &tables[*to]);
            k.name = format!("{}_r{i}_fkey", tables[*from]);
            keys.push(k);
        }
        let mut catalog = fresh(&names, vec![]);
        if core_placed {
            for t in CORE_TABLES {
                catalog.placements.insert(t.into(), Placement::Reference);
            }
            for (t, s) in tables.iter().zip(&states) {
                catalog.placements.insert(t.clone(), match s { 0 => Placement::Local, 1 => Placement::CitusLocal, _ => Placement::Distributed });
            }
            // Keep only the keys Citus would have allowed: both ends distributed, or neither.
            let distributed = |t: &str| catalog.placements[t] == Placement::Distributed;
            keys.retain(|k| distributed(&k.table) == distributed(&k.referenced));
        }
        catalog.foreign_keys.extend(keys);
        if let Err(e) = check(&names, &catalog) {
            return Err(TestCaseError::fail(e));
        }
    }
}
