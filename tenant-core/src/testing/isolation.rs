//! The generic isolation check: whatever a resource declares, another company reaches none of
//! its rows through any of its routes.

use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::app::TestApp;
use super::requests::{Resp, User};
use crate::error::ApiError;
use crate::hooks::Hooks;
use crate::query::ListQuery;
use crate::resource::{Lookup, Resource};

/// Proves that another company cannot reach a row of `R` that `owner`'s company owns, on the
/// app under test. `body` is a valid create body of `R` in `owner`'s default company (its JSON,
/// as `POST` takes it; references name rows of that company).
///
/// The row is created through the typed operations (so that it works whichever routes `R`
/// serves), and a second company is signed up. Then, acting as that company, every
/// route answers for that row's id exactly as for an id that does not exist (status and body:
/// API.md's 404 `{"detail": "Not found."}`, or the same 405 when the route is not served):
/// `GET`, `PUT`, `PATCH` and `DELETE` on the item, and each detail action the app registered
/// ([`TestApp::actions`]); the row is in no list, no `count`, no exact filter, no lookup, no
/// search and no ordering of its collection, nor in any collection action's answer; the nested
/// collections under its parents (`GET`, `POST`) answer as under a missing parent; naming the first company in
/// `X-Company-Id` is a 403; and the typed operations of the second company's [`Scoped`] see
/// nothing. Finally the row is unchanged for its owner.
///
/// # Panics
///
/// On the first divergence, with the request and both answers.
///
/// [`Scoped`]: crate::Scoped
pub async fn assert_isolated<R: Resource + Hooks>(app: &TestApp, owner: &User, body: Json) {
    let other = app.signup("Isolation Other").await;
    let input: R::Input = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{}: the body is not a create body: {e}\n{body}", R::DESC.name));
    let mut scoped = app.scoped(owner.company_id).await;
    let created = scoped.create::<R>(input).await.unwrap_or_else(|e| panic!("{}: creating: {e:?}", R::DESC.name));
    let id = created.id();
    let stored = serde_json::to_value(&created).expect("a model serialises");
    scoped.commit().await.expect("commit");

    let path = R::DESC.path;
    let (item, missing) = (format!("{path}/{id}"), format!("{path}/{}", Uuid::now_v7()));
    let auth = other.auth();
    let pairs = [
        (app.get(&item, &auth).await, app.get(&missing, &auth).await),
        (app.put(&item, &auth, body.clone()).await, app.put(&missing, &auth, body.clone()).await),
        (app.patch(&item, &auth, body.clone()).await, app.patch(&missing, &auth, body.clone()).await),
        (app.delete(&item, &auth).await, app.delete(&missing, &auth).await),
    ];
    for (i, (theirs, nothing)) in pairs.iter().enumerate() {
        let method = ["GET", "PUT", "PATCH", "DELETE"][i];
        assert_same_answer(&format!("{method} {item}"), theirs, nothing);
        assert!(matches!(theirs.status, 404 | 405), "{method} {item} by another company: {}", theirs.text);
    }

    for query in list_queries::<R>(&stored) {
        let url = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
        let r = app.get(&url, &auth).await;
        if r.status == 405 {
            continue;
        }
        assert_eq!(r.status, 200, "GET {url} by another company: {}", r.text);
        assert_eq!(r.body["count"], json!(0), "GET {url} by another company counts the row: {}", r.text);
        assert!(!r.text.contains(&id.to_string()), "GET {url} by another company shows the row: {}", r.text);
        // The query does find the row, for its owner: the check above is not vacuous.
        let r = app.get(&url, &owner.auth()).await;
        assert!(r.text.contains(&id.to_string()), "GET {url} by the owner misses its row: {}", r.text);
    }

    check_nested::<R>(app, owner, &other, &stored, &body).await;
    check_actions::<R>(app, &other, id).await;

    let r = app.get(path, &other.in_company(owner.company_id)).await;
    assert_eq!(r.status, 403, "GET {path} with X-Company-Id of a company the user is not a member of: {}", r.text);

    let mut scoped = app.scoped(other.company_id).await;
    assert!(scoped.find::<R>(id).await.expect("find").is_none(), "{}: find in another company", R::DESC.name);
    let (count, rows) = scoped.list::<R>(&ListQuery::default()).await.expect("list");
    assert_eq!((count, rows.len()), (0, 0), "{}: list in another company", R::DESC.name);
    assert!(matches!(scoped.update::<R>(id, R::Patch::default()).await, Err(ApiError::NotFound)));
    assert!(matches!(scoped.delete::<R>(id).await, Err(ApiError::NotFound)));
    scoped.commit().await.expect("commit");

    let mut scoped = app.scoped(owner.company_id).await;
    let after =
        scoped.get::<R>(id).await.unwrap_or_else(|e| panic!("{}: the owner's row is gone: {e:?}", R::DESC.name));
    scoped.commit().await.expect("commit");
    assert_eq!(serde_json::to_value(&after).expect("a model serialises"), stored, "{}: the row changed", R::DESC.name);
    check_owner_sees_it(app, owner, path, id).await;
}

/// Status and body of the two answers are the same: nothing tells a foreign row from a missing
/// one.
fn assert_same_answer(request: &str, theirs: &Resp, nothing: &Resp) {
    assert_eq!(
        (theirs.status, &theirs.body),
        (nothing.status, &nothing.body),
        "{request} by another company answers differently from a missing id"
    );
}

/// The list queries that could reveal the row: none, each exact filter, each declared lookup
/// and each orderable field with the row's own values, and a search for each searchable value.
fn list_queries<R: Resource>(stored: &Json) -> Vec<String> {
    let mut queries = vec![String::new()];
    for field in R::DESC.fields {
        let value = match &stored[field.name] {
            Json::String(s) => s.clone(),
            Json::Null => continue,
            other => other.to_string(),
        };
        let encoded = serde_urlencoded::to_string([(field.name, value.as_str())]).expect("a query");
        if field.filter {
            queries.push(encoded.clone());
        }
        if field.search {
            queries.push(serde_urlencoded::to_string([("search", value.as_str())]).expect("a query"));
        }
        if field.order {
            queries.push(format!("ordering=-{}", field.name));
        }
        for lookup in field.lookups.iter() {
            // Each lookup, with a value that matches the row.
            let value = if lookup == Lookup::IsNull { "false" } else { value.as_str() };
            let key = format!("{}__{}", field.name, lookup.name());
            queries.push(serde_urlencoded::to_string([(key.as_str(), value)]).expect("a query"));
        }
    }
    queries
}

/// Each nested collection `R` is served under (`#[field(references = P, nested)]`): as another
/// company, `GET` and `POST {P's path}/{the row's parent}/{segment}` answer exactly as under a
/// parent id that does not exist; the owner finds the row there.
async fn check_nested<R: Resource>(app: &TestApp, owner: &User, other: &User, stored: &Json, body: &Json) {
    let segment = R::DESC.path.rsplit('/').next().unwrap_or(R::DESC.path);
    let id = stored["id"].as_str().expect("a model has an id");
    for field in R::DESC.fields.iter().filter(|field| field.nested) {
        let (Some(reference), Some(parent)) = (field.references, stored[field.name].as_str()) else { continue };
        let parents = reference.target().path;
        let (theirs, missing) =
            (format!("{parents}/{parent}/{segment}"), format!("{parents}/{}/{segment}", Uuid::now_v7()));
        let auth = other.auth();
        let pairs = [
            ("GET", app.get(&theirs, &auth).await, app.get(&missing, &auth).await),
            ("POST", app.post(&theirs, &auth, body.clone()).await, app.post(&missing, &auth, body.clone()).await),
        ];
        for (method, theirs_answer, nothing) in &pairs {
            assert_same_answer(&format!("{method} {theirs}"), theirs_answer, nothing);
            assert!(
                matches!(theirs_answer.status, 404 | 405),
                "{method} {theirs} by another company: {}",
                theirs_answer.text
            );
        }
        let r = app.get(&theirs, &owner.auth()).await;
        if r.status == 200 {
            assert!(r.text.contains(id), "GET {theirs} by the owner misses its row: {}", r.text);
        }
    }
}

/// The app's custom actions on `R` ([`TestApp::actions`]), as another company: a detail action
/// on the row answers exactly as on an id that does not exist, and no collection action's
/// answer shows the row. Writes send `{}`: the object is looked up before the body is read.
async fn check_actions<R: Resource>(app: &TestApp, other: &User, id: Uuid) {
    let auth = other.auth();
    for action in app.actions.iter().filter(|action| action.resource == R::DESC.name) {
        let method = action.method.as_str();
        let body = (!action.method.is_safe()).then(|| json!({}));
        if action.detail {
            let (theirs, missing) = (
                action.path.replace("{id}", &id.to_string()),
                action.path.replace("{id}", &Uuid::now_v7().to_string()),
            );
            let theirs_answer = app.request(method, &theirs, &auth, body.clone()).await;
            let nothing = app.request(method, &missing, &auth, body).await;
            assert_same_answer(&format!("{method} {theirs}"), &theirs_answer, &nothing);
            assert_eq!(theirs_answer.status, 404, "{method} {theirs} by another company: {}", theirs_answer.text);
        } else {
            let r = app.request(method, &action.path, &auth, body).await;
            assert!(r.status < 500, "{method} {} by another company: {} {}", action.path, r.status, r.text);
            assert!(
                !r.text.contains(&id.to_string()),
                "{method} {} by another company shows the row: {}",
                action.path,
                r.text
            );
        }
    }
}

/// The owner still reaches the row through its collection (when the app lists it).
async fn check_owner_sees_it(app: &TestApp, owner: &User, path: &str, id: Uuid) {
    let r = app.get(path, &owner.auth()).await;
    if r.status == 200 {
        assert!(r.text.contains(&id.to_string()), "GET {path} by the owner misses its row: {}", r.text);
    }
}
