//! tenant-core reads bottom-up (docs/ARCHITECTURE.md): every source file belongs to one layer of
//! [`LAYERS`], imports only files of its own layer or lower ones, and no files import each
//! other, directly or in a circle. This test reads the sources and fails on an upward import, a
//! circle, or a file that no layer declares.
//!
//! A file "imports" another when its code (comments and `#[cfg(test)] mod tests` excluded) names
//! `crate::<module path>`, `super::<item>` (its parent module, or a sibling when the name is
//! one), or `<child>::` for a module it declares.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, bottom first; each lists its files as module paths (`db/sql` is
/// `src/db/sql.rs`, `db` is `src/db/mod.rs`).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "ground",
        &[
            "messages",
            "role",
            "value",
            "field_serde",
            "default_value",
            "setting",
            "rate",
            "mail/message",
            "mail/console",
            "mail/settings",
            "mail",
            "config",
            "fair_share",
            "auth/jwt",
        ],
    ),
    ("model", &["resource", "row"]),
    (
        "seam",
        &[
            "db/sql",
            "db/sql_builder",
            "db/literal",
            "db/prepared",
            "db/script",
            "db/shard_name",
            "db/backend",
            "db/postgres",
            "db/sqlite",
            "db",
        ],
    ),
    (
        "rules",
        &[
            "validate/clock",
            "validate/email",
            "validate/parse",
            "validate",
            "query/lookups",
            "query/columns",
            "query/search",
            "query",
            "rls",
            "migrations/state",
            "migrations/apply",
            "schema",
            "migrations/diff",
            "migrations/render",
            "migrations/files",
            "migrations/drift",
            "migrations",
            "citus",
            "production",
        ],
    ),
    (
        "http",
        &[
            "openapi/schemas",
            "openapi/operation",
            "openapi/accounts",
            "openapi/resources",
            "openapi",
            "error",
            "body",
            "body_timeout",
            "body_first",
            "keep_alive",
            "request_trace",
            "authorization",
            "metrics",
            "hosts",
            "auth/password",
            "auth/password_validation",
            "throttle",
            "request_throttle",
            "state",
            "slash_routes",
            "client_address",
            "identity",
            "auth/refresh_tokens",
            "tenant",
            "tenant_read",
            "hooks",
            "operations",
            "crud",
            "nested",
            "jobs",
            "actions",
            "accounts/email",
            "accounts/form",
            "accounts/companies",
            "accounts/members",
            "accounts/me",
            "accounts/invitations",
            "accounts",
            "auth/email_verification",
            "auth/sessions",
            "auth/handlers",
            "auth",
        ],
    ),
    (
        "assembly",
        &[
            "logging",
            "app",
            "serve",
            "manage",
            "progress",
            "cli",
            "testing/credentials",
            "testing/databases",
            "testing/requests",
            "testing/app",
            "testing/accounts",
            "testing/isolation",
            "testing",
            "lib",
        ],
    ),
];

/// Every `.rs` file under `src`, as a module path.
fn modules(src: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("a readable source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, src, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).unwrap().with_extension("");
                let mut name = relative.to_string_lossy().replace('\\', "/");
                if let Some(parent) = name.strip_suffix("/mod") {
                    name = parent.to_string();
                }
                out.insert(name, std::fs::read_to_string(&path).expect("a readable source file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The code of a file without its comments and its unit tests.
fn code(source: &str) -> String {
    let source = source.split("\n#[cfg(test)]\nmod tests").next().unwrap_or(source);
    source
        .lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string literal (a URL) is rare in this crate; a whole-line comment
            // or a trailing one is what is stripped.
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers that follow each occurrence of `prefix` in `code`, as `a::b::c` paths.
fn paths_after<'c>(code: &'c str, prefix: &str) -> Vec<&'c str> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // part of a longer identifier (`my_crate::`)
        }
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        out.push(rest[..end].trim_end_matches(':'));
        // A group `{` right after: `super::{a, b}` names the parent.
        if rest[end..].starts_with('{') && rest[..end].is_empty() {
            out.push("");
        }
    }
    out
}

/// The longest module of `modules` that `path` (`a::b::Item`) starts with.
fn resolve<'m>(modules: &'m BTreeMap<String, String>, base: &str, path: &str) -> Option<&'m str> {
    let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    for len in (0..=parts.len()).rev() {
        let mut candidate = base.to_string();
        for part in &parts[..len] {
            if !candidate.is_empty() {
                candidate.push('/');
            }
            candidate.push_str(part);
        }
        if let Some((name, _)) = modules.get_key_value(&candidate) {
            return Some(name);
        }
    }
    None
}

fn imports(modules: &BTreeMap<String, String>) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut graph = BTreeMap::new();
    for (name, source) in modules {
        let code = code(source);
        let mut targets = BTreeSet::new();
        for path in paths_after(&code, "crate::") {
            targets.extend(resolve(modules, "", path));
        }
        let parent = name.rsplit_once('/').map_or("", |(parent, _)| parent);
        if name != "lib" && name.contains('/') {
            for path in paths_after(&code, "super::") {
                targets.extend(resolve(modules, parent, path).or(Some(if parent.is_empty() { "lib" } else { parent })));
            }
        }
        // Child modules named as `child::item` by the file that declares them.
        for (child, _) in modules.range(format!("{name}/")..) {
            let Some(short) = child.strip_prefix(&format!("{name}/")) else { break };
            if !short.contains('/')
                && code.contains(&format!("mod {short};"))
                && !paths_after(&code, &format!("{short}::")).is_empty()
            {
                targets.insert(child.as_str());
            }
        }
        targets.remove(name.as_str());
        targets.remove("lib");
        graph.insert(name.as_str(), targets);
    }
    graph
}

#[test]
fn tenant_core_reads_bottom_up() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    let layer_of: BTreeMap<&str, usize> =
        LAYERS.iter().enumerate().flat_map(|(i, (_, files))| files.iter().map(move |f| (*f, i))).collect();
    let undeclared: Vec<&String> = modules.keys().filter(|m| !layer_of.contains_key(m.as_str())).collect();
    assert!(undeclared.is_empty(), "files in no layer of LAYERS (tests/layers.rs): {undeclared:?}");
    let stale: Vec<&&str> = layer_of.keys().filter(|m| !modules.contains_key(**m)).collect();
    assert!(stale.is_empty(), "LAYERS names files that do not exist: {stale:?}");

    let graph = imports(&modules);
    let mut upward = Vec::new();
    for (file, targets) in &graph {
        for target in targets {
            if layer_of[target] > layer_of[file] {
                upward.push(format!(
                    "{file} ({}) imports {target} ({})",
                    LAYERS[layer_of[file]].0, LAYERS[layer_of[target]].0
                ));
            }
        }
    }
    assert!(upward.is_empty(), "imports from a lower layer up to a higher one:\n{}", upward.join("\n"));

    // No circle: a depth-first search finds no edge back to a file still on the path.
    fn visit<'g>(
        file: &'g str,
        graph: &BTreeMap<&'g str, BTreeSet<&'g str>>,
        path: &mut Vec<&'g str>,
        done: &mut BTreeSet<&'g str>,
    ) -> Option<Vec<&'g str>> {
        if let Some(at) = path.iter().position(|f| *f == file) {
            let mut circle = path[at..].to_vec();
            circle.push(file);
            return Some(circle);
        }
        if done.contains(file) {
            return None;
        }
        path.push(file);
        for target in &graph[file] {
            if let Some(circle) = visit(target, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(file);
        None
    }
    let mut done = BTreeSet::new();
    for file in graph.keys() {
        if let Some(circle) = visit(file, &graph, &mut Vec::new(), &mut done) {
            panic!("files import each other: {}", circle.join(" → "));
        }
    }
}

#[test]
fn the_check_sees_circles_and_upward_imports() {
    let mut modules = BTreeMap::new();
    modules.insert("a".to_string(), "use crate::b::Thing;\n".to_string());
    modules.insert("b".to_string(), "fn f() { crate::a::g() }\n// crate::c::h is a comment\n".to_string());
    modules.insert("c".to_string(), "mod d;\nfn f() { d::x() }\n".to_string());
    modules.insert("c/d".to_string(), "use super::{E, F};\nuse super::e::G;\n".to_string());
    modules.insert("c/e".to_string(), String::new());
    let graph = imports(&modules);
    assert_eq!(graph["a"], BTreeSet::from(["b"]));
    assert_eq!(graph["b"], BTreeSet::from(["a"]));
    assert_eq!(graph["c"], BTreeSet::from(["c/d"]));
    assert_eq!(graph["c/d"], BTreeSet::from(["c", "c/e"]));
}
