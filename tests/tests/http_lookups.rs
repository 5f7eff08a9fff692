//! django-filter lookups on the demo's lists, where API.md declares them: products.price_cents
//! and invoices.amount_cents `gte, lte`; invoices.status `in`; invoices.issued_on `gte, lte,
//! isnull`. Each alone and with exact filters, search, ordering and pagination; bad values (400
//! on the parameter); undeclared lookups (ignored); and another company's rows, never seen.

use serde_json::{Value, json};
use tests::demo::*;
use tests::lists::*;
use tests::*;

/// Products `P100`.. priced as given (cents), named `Widget <price>` or `Gadget <price>`, the
/// gadgets inactive.
async fn products_priced(app: &TestApp, auth: &Auth, prices: &[i64]) -> Vec<Value> {
    let mut out = Vec::new();
    for price in prices {
        let (name, active) = if price % 200 == 0 { ("Gadget", false) } else { ("Widget", true) };
        let body = json!({"sku": format!("P{price}"), "name": format!("{name} {price}"), "price_cents": price, "active": active});
        out.push(app.create("/api/products", auth, body).await);
    }
    out
}

/// The invoices every test of invoices lists, for one company: (number, amount, status,
/// issued_on).
const INVOICES: [(&str, i64, &str, Option<&str>); 6] = [
    ("I-1", 100, "draft", Some("2026-01-01")),
    ("I-2", 200, "sent", Some("2026-02-01")),
    ("I-3", 300, "paid", Some("2026-03-01")),
    ("I-4", 400, "draft", None),
    ("I-5", 500, "paid", None),
    ("I-6", 600, "sent", Some("2026-02-15")),
];

async fn invoices(app: &TestApp, auth: &Auth) -> Vec<Value> {
    let c = customer(app, auth).await;
    let mut out = Vec::new();
    for (number, amount, status, issued_on) in INVOICES {
        let body = json!({
            "customer_id": c["id"], "number": number, "amount_cents": amount, "status": status, "issued_on": issued_on
        });
        out.push(app.create("/api/invoices", auth, body).await);
    }
    out
}

/// The numbers of a page of invoices, and its count.
async fn numbers(app: &TestApp, auth: &Auth, query: &str) -> (Vec<String>, u64) {
    let r = app.get(&format!("/api/invoices?{query}"), auth).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    (strings(&r, "number"), count(&r))
}

/// The prices of a page of products, and its count.
async fn prices(app: &TestApp, auth: &Auth, query: &str) -> (Vec<i64>, u64) {
    let r = app.get(&format!("/api/products?{query}"), auth).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    (ints(&r, "price_cents"), count(&r))
}

both_backends! {
    async fn gte_and_lte_on_an_integer(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        products_priced(&app, &a, &[300, 100, 500, 200, 400]).await;
        let q = |query: &'static str| prices(&app, &a, query);
        assert_eq!(q("price_cents__gte=300").await, (vec![300, 500, 400], 3), "bounds are inclusive");
        assert_eq!(q("price_cents__lte=300").await, (vec![300, 100, 200], 3));
        assert_eq!(q("price_cents__gte=200&price_cents__lte=400").await, (vec![300, 200, 400], 3));
        assert_eq!(q("price_cents__gte=301&price_cents__lte=399").await, (vec![], 0));
        assert_eq!(q("price_cents__gte=401&price_cents__lte=399").await, (vec![], 0));
        assert_eq!(q("price_cents__gte=-5").await.1, 5);
        assert_eq!(q("price_cents__lte=99").await.1, 0);
        // Integral numbers are integers here as in bodies; spaces around the value are ignored.
        assert_eq!(q("price_cents__gte=3e2").await.1, 3);
        assert_eq!(q("price_cents__gte=%20300%20").await.1, 3);

        let c = customer(&app, &a).await;
        for amount in [50, 150, 250] {
            let body = json!({"customer_id": c["id"], "number": format!("A-{amount}"), "amount_cents": amount});
            app.create("/api/invoices", &a, body).await;
        }
        assert_eq!(numbers(&app, &a, "amount_cents__gte=150").await, (vec!["A-150".into(), "A-250".into()], 2));
        assert_eq!(numbers(&app, &a, "amount_cents__lte=150").await, (vec!["A-50".into(), "A-150".into()], 2));
        assert_eq!(numbers(&app, &a, "amount_cents__gte=100&amount_cents__lte=200").await.0, ["A-150"]);
    }

    async fn in_on_a_choice(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        invoices(&app, &a).await;
        let q = |query: &'static str| numbers(&app, &a, query);
        assert_eq!(q("status__in=draft").await, (vec!["I-1".into(), "I-4".into()], 2));
        assert_eq!(q("status__in=draft,paid").await.0, ["I-1", "I-3", "I-4", "I-5"]);
        assert_eq!(q("status__in=paid,draft").await.0, ["I-1", "I-3", "I-4", "I-5"], "the order of the values is not");
        assert_eq!(q("status__in=sent,paid,draft").await.1, 6);
        assert_eq!(q("status__in=paid,paid").await.0, ["I-3", "I-5"], "a value twice is one value");
        assert_eq!(q("status__in=draft,%20paid").await.1, 4, "spaces around a value are ignored");
        assert_eq!(q("status__in=draft%2Cpaid").await.1, 4, "an encoded comma separates too");
        // The exact filter and the lookup both hold.
        assert_eq!(q("status=paid&status__in=draft,paid").await.0, ["I-3", "I-5"]);
        assert_eq!(q("status=sent&status__in=draft,paid").await.1, 0);
        // As many values as MAX_IN_VALUES.
        let most = vec!["draft"; tenant_core::query::MAX_IN_VALUES].join(",");
        let r = app.get(&format!("/api/invoices?status__in={most}"), &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 2);
    }

    async fn dates_and_isnull(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        invoices(&app, &a).await;
        let q = |query: &'static str| numbers(&app, &a, query);
        // Comparisons never match NULL.
        assert_eq!(q("issued_on__gte=2026-02-01").await.0, ["I-2", "I-3", "I-6"]);
        assert_eq!(q("issued_on__lte=2026-02-01").await.0, ["I-1", "I-2"]);
        assert_eq!(q("issued_on__gte=2026-02-02&issued_on__lte=2026-02-28").await.0, ["I-6"]);
        assert_eq!(q("issued_on__isnull=true").await, (vec!["I-4".into(), "I-5".into()], 2));
        assert_eq!(q("issued_on__isnull=false").await, (vec!["I-1".into(), "I-2".into(), "I-3".into(), "I-6".into()], 4));
        // django-filter's booleans: true/false, 1/0, in any case.
        for (raw, n) in [("True", 2), ("TRUE", 2), ("1", 2), ("False", 4), ("0", 4)] {
            let r = app.get(&format!("/api/invoices?issued_on__isnull={raw}"), &a).await;
            r.assert_status(200);
            assert_eq!(count(&r), n, "{raw}");
        }
        assert_eq!(q("issued_on__isnull=true&issued_on__gte=2026-01-01").await.1, 0);
        assert_eq!(q("issued_on__isnull=false&issued_on__lte=2026-01-31").await.0, ["I-1"]);
        // Lookups of different fields combine with AND.
        assert_eq!(q("issued_on__isnull=true&status__in=paid,sent").await.0, ["I-5"]);
        assert_eq!(q("issued_on__gte=2026-02-01&amount_cents__lte=300&status__in=paid").await.0, ["I-3"]);
    }

    async fn lookups_with_filters_search_ordering_and_pages(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        // Widgets (active) at odd hundreds, gadgets (inactive) at even ones.
        products_priced(&app, &a, &[100, 200, 300, 400, 500, 600, 700]).await;
        let q = |query: &'static str| prices(&app, &a, query);
        assert_eq!(q("price_cents__gte=300&active=true").await, (vec![300, 500, 700], 3));
        assert_eq!(q("price_cents__lte=400&active=false").await, (vec![200, 400], 2));
        assert_eq!(q("price_cents__gte=300&search=widget").await, (vec![300, 500, 700], 3));
        assert_eq!(q("price_cents__gte=300&search=gadget&price_cents__lte=600").await, (vec![400, 600], 2));
        assert_eq!(q("price_cents__lte=500&ordering=-price_cents").await, (vec![500, 400, 300, 200, 100], 5));
        assert_eq!(q("price_cents__gte=200&ordering=-name").await.0, [700, 500, 300, 600, 400, 200]);

        // Pages: `count` counts every match, and the links keep the lookups.
        let r = app.get("/api/products?price_cents__gte=200&price_cents__lte=600&ordering=price_cents&page_size=2", &a).await;
        r.assert_status(200);
        assert_eq!((ints(&r, "price_cents"), count(&r)), (vec![200, 300], 5));
        assert!(r.body["previous"].is_null());
        let mut seen = ints(&r, "price_cents");
        let mut next = r.body["next"].as_str().map(str::to_string);
        let mut pages = 1;
        while let Some(link) = next {
            for kept in ["price_cents__gte=200", "price_cents__lte=600", "ordering=price_cents", "page_size=2"] {
                assert!(link.contains(kept), "{link} keeps {kept}");
            }
            let r = app.get(&link[link.find("/api/").unwrap()..], &a).await;
            r.assert_status(200);
            assert_eq!(count(&r), 5);
            let previous = r.body["previous"].as_str().expect("a previous link");
            assert!(previous.contains("price_cents__gte=200") && previous.contains("price_cents__lte=600"), "{previous}");
            seen.extend(ints(&r, "price_cents"));
            next = r.body["next"].as_str().map(str::to_string);
            pages += 1;
        }
        assert_eq!((seen, pages), (vec![200, 300, 400, 500, 600], 3));
        let r = app.get("/api/products?price_cents__gte=200&page_size=2&page=4", &a).await;
        r.assert_status(404);

        // On invoices: a lookup of each kind, an exact filter, search and ordering at once.
        let c = customer(&app, &a).await;
        for (number, amount, status, issued_on) in INVOICES {
            let body = json!({
                "customer_id": c["id"], "number": number, "amount_cents": amount, "status": status, "issued_on": issued_on
            });
            app.create("/api/invoices", &a, body).await;
        }
        let query = format!(
            "customer_id={}&status__in=sent,paid&amount_cents__gte=200&issued_on__isnull=false&search=i-&ordering=-amount_cents",
            id_of(&c)
        );
        let r = app.get(&format!("/api/invoices?{query}&page_size=2"), &a).await;
        r.assert_status(200);
        assert_eq!((strings(&r, "number"), count(&r)), (vec!["I-6".to_string(), "I-3".to_string()], 3));
        let next = r.body["next"].as_str().unwrap();
        assert!(next.contains("status__in=sent%2Cpaid") && next.contains("issued_on__isnull=false"), "{next}");
        let r = app.get(&next[next.find("/api/").unwrap()..], &a).await;
        assert_eq!(strings(&r, "number"), ["I-2"]);
    }

    async fn the_last_value_of_a_repeated_lookup_counts(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        products_priced(&app, &a, &[100, 200, 300]).await;
        let r = app.get("/api/products?price_cents__gte=300&price_cents__gte=bad&price_cents__gte=200&page_size=1", &a).await;
        r.assert_status(200);
        assert_eq!(count(&r), 2);
        let next = r.body["next"].as_str().unwrap();
        assert_eq!(next.matches("price_cents__gte=").count(), 1, "{next}");
        assert!(next.contains("price_cents__gte=200"), "{next}");
        invoices(&app, &a).await;
        assert_eq!(numbers(&app, &a, "status__in=draft&status__in=paid").await.0, ["I-3", "I-5"]);
        let r = app.get("/api/products?price_cents__gte=200&price_cents__gte=x", &a).await;
        r.assert_status(400);
    }

    async fn bad_values_are_400_on_the_parameter(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        invoices(&app, &a).await;
        let too_many = vec!["draft"; tenant_core::query::MAX_IN_VALUES + 1].join(",");
        let cases: Vec<(String, &str, &str)> = vec![
            ("/api/products?price_cents__gte=cheap".into(), "price_cents__gte", "A valid integer is required."),
            ("/api/products?price_cents__lte=1.5".into(), "price_cents__lte", "A valid integer is required."),
            ("/api/products?price_cents__lte=%00".into(), "price_cents__lte", "Null characters are not allowed."),
            (
                "/api/invoices?amount_cents__gte=99999999999999999999".into(),
                "amount_cents__gte",
                "Ensure this value is less than or equal to 9223372036854775807.",
            ),
            (
                "/api/invoices?status__in=draft,void".into(),
                "status__in",
                "\"void\" is not a valid choice. Choose from: draft, sent, paid.",
            ),
            ("/api/invoices?status__in=DRAFT".into(), "status__in", "\"DRAFT\" is not a valid choice."),
            ("/api/invoices?status__in=draft,,paid".into(), "status__in", "Empty values are not allowed"),
            ("/api/invoices?status__in=draft,".into(), "status__in", "Empty values are not allowed"),
            ("/api/invoices?status__in=,".into(), "status__in", "Empty values are not allowed"),
            ("/api/invoices?status__in=draft,%20,paid".into(), "status__in", "Empty values are not allowed"),
            (format!("/api/invoices?status__in={too_many}"), "status__in", "Ensure the list has no more than 100 values."),
            ("/api/invoices?issued_on__gte=2026-13-01".into(), "issued_on__gte", "Date has wrong format."),
            ("/api/invoices?issued_on__lte=yesterday".into(), "issued_on__lte", "Date has wrong format."),
            ("/api/invoices?issued_on__gte=0000-01-01".into(), "issued_on__gte", "Ensure this date is between"),
            ("/api/invoices?issued_on__isnull=maybe".into(), "issued_on__isnull", "Must be a valid boolean."),
            ("/api/invoices?issued_on__isnull=2".into(), "issued_on__isnull", "Must be a valid boolean."),
        ];
        for (path, parameter, message) in cases {
            let r = app.get(&path, &a).await;
            assert_eq!(r.status, 400, "{path}: {}", r.text);
            r.assert_field_error(parameter);
            let messages = r.body[parameter].as_array().unwrap();
            assert_eq!(messages.len(), 1, "{path}: {}", r.text);
            let text = messages[0].as_str().unwrap();
            assert!(text.starts_with("Invalid filter value: ") && text.contains(message), "{path}: {text}");
            assert_eq!(r.body.as_object().unwrap().len(), 1, "{path}: only the parameter: {}", r.text);
        }
        // Every bad parameter at once, with the exact filters' and ordering's.
        let r = app.get("/api/invoices?status__in=x&issued_on__gte=x&status=x&ordering=nope&amount_cents__lte=x", &a).await;
        r.assert_status(400);
        let mut keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["amount_cents__lte", "issued_on__gte", "ordering", "status", "status__in"], "{}", r.text);
    }

    async fn undeclared_lookups_are_ignored(app: TestApp) {
        let a = app.signup("Acme").await.auth();
        products_priced(&app, &a, &[100, 200, 300]).await;
        invoices(&app, &a).await;
        for (path, n) in [
            ("/api/products?price_cents__gt=100", 3),       // gte and lte only
            ("/api/products?price_cents__lt=300", 3),
            ("/api/products?price_cents__in=100", 3),
            ("/api/products?price_cents__isnull=true", 3),
            ("/api/products?price_cents__GTE=300", 3),      // names are case-sensitive, as Django's
            ("/api/products?price_cents__gte__x=1", 3),
            ("/api/products?sku__in=P100", 3),              // sku declares no lookup
            ("/api/products?active__isnull=true", 3),
            ("/api/products?name__gte=x", 3),
            ("/api/products?nope__in=1", 3),
            ("/api/products?__in=1", 3),
            ("/api/products?price_cents__gte=", 3),         // an empty value filters nothing
            ("/api/invoices?status__gte=paid", 6),          // status declares `in` only
            ("/api/invoices?status__isnull=true", 6),
            ("/api/invoices?amount_cents__in=100", 6),
            ("/api/invoices?issued_on__in=2026-01-01", 6),
            ("/api/invoices?issued_on__gt=2026-01-01", 6),
            ("/api/invoices?customer_id__in=not-a-uuid", 6), // not even read: no 400
            ("/api/invoices?number__in=I-1", 6),
            ("/api/invoices?status__in=", 6),
            ("/api/invoices?issued_on__isnull=", 6),
            ("/api/customers?name__in=x", 1),
        ] {
            let r = app.get(path, &a).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            assert_eq!(count(&r), n, "{path}");
        }
    }

    async fn another_companys_rows_never_match_a_lookup(app: TestApp) {
        // Two companies with the same data: every lookup matches rows in both, and each sees only
        // its own, in `results` and in `count`. A third user belongs to both and switches.
        let acme = app.signup("Acme").await;
        let globex = app.signup("Globex").await;
        let both = app.signup("Initech").await;
        app.add_member(&acme, &both, "staff").await;
        app.add_member(&globex, &both, "staff").await;
        let mut own = Vec::new();
        for user in [&acme, &globex] {
            let mut ids: Vec<String> = products_priced(&app, &user.auth(), &[100, 200, 300, 400]).await.iter().map(id_of).collect();
            ids.extend(invoices(&app, &user.auth()).await.iter().map(id_of));
            own.push((user.company_id, ids));
        }
        let queries = [
            ("products", "price_cents__gte=200", 3),
            ("products", "price_cents__lte=300", 3),
            ("products", "price_cents__gte=200&price_cents__lte=300&active=false", 1),
            ("products", "price_cents__gte=100&search=widget", 2),
            ("invoices", "amount_cents__gte=300", 4),
            ("invoices", "amount_cents__lte=300", 3),
            ("invoices", "status__in=draft,paid", 4),
            ("invoices", "status__in=draft,sent,paid", 6),
            ("invoices", "issued_on__gte=2026-02-01", 3),
            ("invoices", "issued_on__lte=2026-02-01", 2),
            ("invoices", "issued_on__isnull=true", 2),
            ("invoices", "issued_on__isnull=false", 4),
            ("invoices", "issued_on__isnull=false&status__in=sent&ordering=-issued_on", 2),
            ("invoices", "issued_on__isnull=true&amount_cents__gte=0&search=I-", 2),
        ];
        for (company, ids) in &own {
            let auths = [
                if *company == acme.company_id { acme.auth() } else { globex.auth() },
                both.in_company(*company),
            ];
            for auth in &auths {
                for (resource, query, n) in queries {
                    for page_size in [1, 100] {
                        let r = app.get(&format!("/api/{resource}?{query}&page_size={page_size}"), auth).await;
                        r.assert_status(200);
                        assert_eq!(count(&r), n, "{resource}?{query}: count is this company's matches only");
                        for object in results(&r) {
                            assert_eq!(object["company_id"], company.to_string(), "{resource}?{query}");
                            assert!(ids.contains(&id_of(object)), "{resource}?{query}: {object}");
                        }
                    }
                    let r = app.get(&format!("/api/{resource}?{query}&page_size=100"), auth).await;
                    assert_eq!(results(&r).len() as u64, n, "{resource}?{query}");
                }
            }
        }
        // The third user's own company has none of it.
        for (resource, query, _) in queries {
            let r = app.get(&format!("/api/{resource}?{query}"), &both.auth()).await;
            assert_eq!(count(&r), 0, "{resource}?{query}");
        }
    }
}
