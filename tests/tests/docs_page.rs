//! `GET /docs` (issue 12) in a real browser: the demo app served on a socket, Debian's Chromium
//! headless loads the page with every host name but 127.0.0.1 unresolvable (so the page needs no
//! network), Swagger UI renders the demo's document (its title and exactly the operations
//! `/api/openapi.json` lists), and a screenshot is left in `target/docs-page.png` for a person to
//! look at. `DOCS_PAGE=off` turns the page off and keeps the document.
//!
//! Chromium is `/usr/bin/chromium` (`apt-get install chromium`; `.ci/run` installs it) or `$CHROMIUM`.
//! Without it the browser test is skipped with a warning, except under CI, where it fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use tests::*;

/// How long one Chromium run may take before the test fails (a hung browser must not hang CI).
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// Virtual time Chromium gives the page (`--virtual-time-budget`): it runs ahead whenever nothing
/// is pending and waits for network fetches, so this is an upper bound on the page's own timers,
/// not a wall-clock wait.
const VIRTUAL_TIME_MS: u32 = 10_000;

/// Every host name resolves to nothing, except 127.0.0.1 (an address, which the rules see too):
/// a request for anything on the network fails.
const OFFLINE: &str = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";

/// Where the screenshot goes: `target/docs-page.png` at the workspace's root.
fn screenshot_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/docs-page.png")
}

fn in_ci() -> bool {
    std::env::var("CI").map(|v| !v.is_empty() && v != "0" && v != "false").unwrap_or(false)
}

/// The Chromium binary (`$CHROMIUM`, else Debian's `/usr/bin/chromium`), or `None` (with a loud
/// warning) when it is missing outside CI. Under CI a missing browser fails the test.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM").filter(|v| !v.is_empty()).map(PathBuf::from);
    let path = path.unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.is_file() {
        return Some(path);
    }
    let reason = format!("no Chromium at {} (set CHROMIUM to another binary)", path.display());
    if in_ci() {
        panic!("{reason}: the docs page test needs it under CI; `.ci/run` installs it (apt-get install chromium)");
    }
    // Written to the process's stderr directly: `eprintln!` would be captured by the test runner
    // and shown only for failing tests.
    let banner = format!(
        "\n\
         ************************************************************************\n\
         *  WARNING: the headless-browser test of /docs is being SKIPPED:\n\
         *  {reason}.\n\
         *  Install it with `apt-get install -y chromium` (`.ci/run` does).\n\
         ************************************************************************\n"
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), banner.as_bytes());
    None
}

/// Runs headless Chromium on `url` with `args` (a fresh profile, no sandbox: CI runs as root,
/// offline but for 127.0.0.1) and returns its output, failing on a non-zero exit or after
/// `BROWSER_TIMEOUT`. Awaited, so the test's runtime keeps serving the app meanwhile.
async fn run_chromium(binary: &Path, args: &[&str], url: &str) -> Output {
    let profile = tempfile::tempdir().expect("a profile directory");
    let mut command = tokio::process::Command::new(binary);
    command
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", OFFLINE])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_MS}"))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a timeout kills the renderers and helpers too.
        .process_group(0)
        .kill_on_drop(true);
    let child = command.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let pid = child.id().expect("a running child's pid");
    match tokio::time::timeout(BROWSER_TIMEOUT, child.wait_with_output()).await {
        Ok(output) => {
            let output = output.unwrap_or_else(|e| panic!("Chromium's output: {e}"));
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "Chromium {args:?} {url} failed ({}); stderr:\n{stderr}", output.status);
            output
        }
        Err(_) => {
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
            panic!("Chromium {args:?} {url} did not finish within {BROWSER_TIMEOUT:?}");
        }
    }
}

/// The keys of an OpenAPI path item that are operations.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The `(METHOD, path)` of every operation the document lists.
fn documented_operations(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("the document's paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            // A path item's other keys (`parameters`, `summary`, ...) are not operations.
            let methods = item.as_object().expect("a path item").keys().filter(|key| METHODS.contains(&key.as_str()));
            methods.map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

/// The `(METHOD, path)` of every operation Swagger UI rendered: each operation's summary is
/// `<span class="opblock-summary-method">GET</span>` followed by
/// `<span class="opblock-summary-path" data-path="/api/customers">`.
fn rendered_operations(dom: &str) -> Vec<(String, String)> {
    const METHOD: &str = "class=\"opblock-summary-method\">";
    const PATH: &str = "data-path=\"";
    let mut operations = Vec::new();
    let mut rest = dom;
    while let Some(at) = rest.find(METHOD) {
        rest = &rest[at + METHOD.len()..];
        let method = &rest[..rest.find('<').expect("the method's closing tag")];
        let at = rest.find(PATH).unwrap_or_else(|| panic!("no data-path after the method {method}"));
        rest = &rest[at + PATH.len()..];
        let path = &rest[..rest.find('"').expect("the data-path's closing quote")];
        operations.push((method.to_string(), path.to_string()));
    }
    operations
}

/// The page's head of a failure message: enough of the DOM to see what rendered instead.
fn excerpt(dom: &str) -> &str {
    let end = dom.char_indices().nth(4000).map_or(dom.len(), |(i, _)| i);
    &dom[..end]
}

#[tokio::test]
async fn docs_page_renders_the_demo_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let app = TestApp::for_app(Backend::Sqlite, demo_app::register).await.expect("SQLite is always there");
    let document = app.get("/api/openapi.json", &Auth::none()).await;
    document.assert_status(200);
    let documented = documented_operations(&document.body);
    let served = app.serve().await;
    let started = Instant::now();

    // The offline rules are in force: a host name, even `localhost`, does not resolve, so the
    // page below, which loads, fetched nothing but from 127.0.0.1.
    let healthz = format!("http://localhost:{}/healthz", served.addr.port());
    let output = run_chromium(&chromium, &["--dump-dom"], &healthz).await;
    let error_page = String::from_utf8_lossy(&output.stdout);
    assert!(
        error_page.contains("ERR_NAME_NOT_RESOLVED") && !error_page.contains("\"status\""),
        "with the offline rules, {healthz} must fail to resolve; got:\n{}",
        excerpt(&error_page)
    );

    // `/docs` answers 303 to `/docs/`, which Chromium follows.
    let url = format!("http://{}/docs", served.addr);
    let output = run_chromium(&chromium, &["--dump-dom"], &url).await;
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains("<h2 class=\"title\">demo-app"),
        "the page shows the document's title, demo-app; DOM:\n{}",
        excerpt(&dom)
    );
    assert!(!dom.contains("Failed to load API definition"), "Swagger UI loaded the document; DOM:\n{}", excerpt(&dom));
    let rendered = rendered_operations(&dom);
    for (method, path) in [("GET", "/api/customers"), ("GET", "/api/invoices/{id}"), ("POST", "/api/auth/token")] {
        let operation = (method.to_string(), path.to_string());
        assert!(rendered.contains(&operation), "{method} {path} is on the page; rendered: {rendered:?}");
    }
    assert_eq!(rendered.len(), documented.len(), "one block per operation; rendered: {rendered:?}");
    assert_eq!(rendered.into_iter().collect::<BTreeSet<_>>(), documented, "the page lists the document's operations");

    let screenshot = screenshot_path();
    std::fs::create_dir_all(screenshot.parent().unwrap()).expect("the target directory");
    let _ = std::fs::remove_file(&screenshot);
    let to = format!("--screenshot={}", screenshot.display());
    run_chromium(&chromium, &[&to, "--window-size=1280,2000", "--hide-scrollbars"], &url).await;
    let png = std::fs::read(&screenshot).unwrap_or_else(|e| panic!("the screenshot {}: {e}", screenshot.display()));
    assert!(png.len() > 10_000, "a screenshot of a rendered page, not a blank one: {} bytes", png.len());
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is a PNG", screenshot.display());
    let shown = screenshot.canonicalize().unwrap_or(screenshot);
    let message = format!("docs page screenshot: {} ({:.1?} in Chromium)\n", shown.display(), started.elapsed());
    let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
}

#[tokio::test]
async fn docs_page_off_keeps_the_document() {
    let app = TestApp::for_app(Backend::Sqlite, demo_app::register).await.expect("SQLite is always there");
    // On by default in the demo: `/docs` redirects to the page, which points at the document.
    let r = app.get("/docs", &Auth::none()).await;
    r.assert_status(303);
    assert_eq!(r.header("location"), Some("/docs/"));
    app.get("/docs/", &Auth::none()).await.assert_status(200);
    let initializer = app.get("/docs/swagger-initializer.js", &Auth::none()).await;
    initializer.assert_status(200);
    assert!(initializer.text.contains("/api/openapi.json"), "the page loads the document: {}", initializer.text);

    // `DOCS_PAGE=off`.
    let off = app.connect_again_with(|config| config.docs_page = Some(false)).await;
    for path in ["/docs", "/docs/", "/docs/swagger-initializer.js"] {
        off.get(path, &Auth::none()).await.assert_status(404);
    }
    let document = off.get("/api/openapi.json", &Auth::none()).await;
    document.assert_status(200);
    assert_eq!(document.body["info"]["title"], "demo-app");
    assert!(document.body["paths"]["/api/customers"].is_object(), "the document: {}", document.text);
    assert!(document.body["paths"].get("/docs").is_none(), "the page is not documented when off");
}
