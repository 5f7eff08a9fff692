//! Keep-alive after early answers (issue 8): a request with a body that is answered before the
//! handler reads the body (415, 404 on a malformed id, 401, 403, 405, unknown route, 413) must
//! leave the connection usable for the next request, or say `Connection: close`.
//!
//! The app is served over real TCP (`TestApp::serve`, i.e. hyper under `tenant_core::Server`) and spoken
//! to by a hand-written HTTP/1.1 client over one connection, so that what hyper does with an
//! unread body is what the test sees. (The in-process `oneshot` requests of the other tests
//! cannot see it: there is no connection.)

use tests::wire::*;
use tests::*;

const KIB: usize = 1024;
/// `tenant_core::body::MAX_BODY_BYTES`.
const LIMIT: usize = tenant_core::body::MAX_BODY_BYTES;
/// Rounds of every kind of request, each followed by a normal request on the same connection.
const ROUNDS: usize = 20;

/// One kind of early-answered request.
struct Kind {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    content_type: &'static str,
    /// `Authorization`: none, the user's token, or the token with a malformed `X-Company-Id`.
    auth: KindAuth,
    framing: Framing,
    /// Body sizes, used in turn by the rounds.
    sizes: &'static [usize],
    status: u16,
    /// The answer must say `Connection: close` (and the client reconnects); otherwise it must
    /// not, and the next request must succeed on the same connection.
    closes: bool,
}

#[derive(Clone, Copy)]
enum KindAuth {
    None,
    Token,
    BadCompany,
    /// A `Host` the app does not allow: refused before anything reads the body.
    BadHost,
}

const SIZES: &[usize] = &[1, 700, 16 * KIB, 64 * KIB, 300 * KIB, 700 * KIB];

const KINDS: &[Kind] = &[
    Kind {
        name: "400 a host not allowed",
        method: "POST",
        path: "/api/customers",
        content_type: "application/json",
        auth: KindAuth::BadHost,
        framing: Framing::ContentLength,
        sizes: SIZES,
        status: 400,
        closes: false,
    },
    Kind {
        name: "415 application/xml",
        method: "POST",
        path: "/api/customers",
        content_type: "application/xml",
        auth: KindAuth::Token,
        framing: Framing::ContentLength,
        sizes: SIZES,
        status: 415,
        closes: false,
    },
    Kind {
        name: "415 text/plain",
        method: "PUT",
        path: "/api/products/00000000-0000-0000-0000-000000000000",
        content_type: "text/plain",
        auth: KindAuth::Token,
        framing: Framing::ContentLength,
        sizes: SIZES,
        status: 415,
        closes: false,
    },
    Kind {
        name: "415 multipart",
        method: "POST",
        path: "/api/invoices",
        content_type: "multipart/form-data; boundary=x",
        auth: KindAuth::Token,
        framing: Framing::ContentLength,
        sizes: SIZES,
        status: 415,
        closes: false,
    },
    Kind {
        name: "415 chunked",
        method: "POST",
        path: "/api/customers",
        content_type: "text/plain",
        auth: KindAuth::Token,
        framing: Framing::Chunked,
        sizes: SIZES,
        status: 415,
        closes: false,
    },
    Kind {
        name: "415 exactly at the 1 MiB limit",
        method: "POST",
        path: "/api/customers",
        content_type: "text/plain",
        auth: KindAuth::Token,
        framing: Framing::ContentLength,
        sizes: &[LIMIT],
        status: 415,
        closes: false,
    },
    Kind {
        name: "404 PUT to a malformed id",
        method: "PUT",
        path: "/api/customers/true",
        content_type: "application/json",
        auth: KindAuth::Token,
        framing: Framing::ContentLength,
        sizes: SIZES,
        status: 404,
        closes: false,
    },
    Kind {
        name: "404 PATCH to a malformed id, chunked",
        method: "PATCH",
        path: "/api/customers/true",
        content_type: "application/json",
        auth: KindAuth::Token,
        framing: Framing::Chunked,
        sizes: SIZES,
        status: 404,
        closes: false,
    },
    Kind {
        name: "401 without a token",
        method: "POST",
        path: "/api/customers",
        content_type: "application/json",
        auth: KindAuth::None,
        framing: Framing::ContentLength,
        sizes: SIZES,
        status: 401,
        closes: false,
    },
    Kind {
        name: "403 on a malformed X-Company-Id",
        method: "POST",
        path: "/api/customers",
        content_type: "application/json",
        auth: KindAuth::BadCompany,
        framing: Framing::ContentLength,
        sizes: SIZES,
        status: 403,
        closes: false,
    },
    Kind {
        name: "405",
        method: "PUT",
        path: "/api/customers",
        content_type: "application/json",
        auth: KindAuth::Token,
        framing: Framing::ContentLength,
        sizes: SIZES,
        status: 405,
        closes: false,
    },
    Kind {
        name: "404 unknown route",
        method: "POST",
        path: "/api/nope",
        content_type: "application/json",
        auth: KindAuth::Token,
        framing: Framing::ContentLength,
        sizes: SIZES,
        status: 404,
        closes: false,
    },
    Kind {
        name: "413 over the limit",
        method: "POST",
        path: "/api/customers",
        content_type: "application/json",
        auth: KindAuth::Token,
        framing: Framing::ContentLength,
        // Past the limit by more than hyper reads at once (about 400 KiB), so the read that hits
        // the limit cannot also reach the end of the body.
        sizes: &[LIMIT + 512 * KIB, 2 * LIMIT],
        status: 413,
        closes: true,
    },
    Kind {
        name: "413 over the limit, chunked",
        method: "POST",
        path: "/api/customers",
        content_type: "application/json",
        auth: KindAuth::Token,
        framing: Framing::Chunked,
        sizes: &[LIMIT + 1, 2 * LIMIT],
        status: 413,
        closes: true,
    },
    Kind {
        name: "415 with Expect: 100-continue",
        method: "POST",
        path: "/api/customers",
        content_type: "text/plain",
        auth: KindAuth::Token,
        framing: Framing::ExpectContinue,
        sizes: &[700, 300 * KIB],
        status: 415,
        closes: true,
    },
];

/// `n` bytes of a JSON object (so that a 413 is about the size, not the syntax).
fn body_of(n: usize) -> Vec<u8> {
    const OPEN: &[u8] = br#"{"name":""#;
    const CLOSE: &[u8] = br#""}"#;
    if n < OPEN.len() + CLOSE.len() {
        return vec![b' '; n];
    }
    let mut body = OPEN.to_vec();
    body.resize(n - CLOSE.len(), b'x');
    body.extend_from_slice(CLOSE);
    body
}

both_backends! {
    async fn early_answers_keep_the_connection_usable(app: TestApp) {
        let user = app.signup("Acme").await;
        let token = format!("Bearer {}", user.access);
        let served = app.serve().await;
        let mut client = Client::connect(served.addr).await;
        let mut failures: Vec<String> = Vec::new();
        let mut exchanges = 0;

        for round in 0..ROUNDS {
            for kind in KINDS {
                let size = kind.sizes[round % kind.sizes.len()];
                let body = body_of(size);
                let what = format!("round {round}, {} ({size} bytes)", kind.name);
                let mut headers = vec![("content-type", kind.content_type.to_string())];
                match kind.auth {
                    KindAuth::None => {}
                    KindAuth::Token => headers.push(("authorization", token.clone())),
                    KindAuth::BadCompany => {
                        headers.push(("authorization", token.clone()));
                        headers.push(("x-company-id", "not-a-uuid".to_string()));
                    }
                    KindAuth::BadHost => {
                        headers.push(("authorization", token.clone()));
                        headers.push(("host", "evil.example".to_string()));
                    }
                }
                exchanges += 1;
                match client.exchange(kind.method, kind.path, &headers, &body, kind.framing).await {
                    Err(e) => {
                        failures.push(format!("{what}: {e}"));
                        client.reconnect().await;
                        continue;
                    }
                    Ok((r, written)) => {
                        if r.status != kind.status {
                            failures.push(format!(
                                "{what}: status {} instead of {}: {}",
                                r.status,
                                kind.status,
                                String::from_utf8_lossy(&r.body)
                            ));
                        }
                        if !r.interim.is_empty() {
                            failures.push(format!("{what}: interim responses {:?} before an early answer", r.interim));
                        }
                        if kind.closes {
                            if !r.says_close() {
                                failures.push(format!("{what}: no `Connection: close` on {}", r.status));
                            }
                            client.reconnect().await;
                            continue;
                        }
                        if r.says_close() {
                            failures.push(format!("{what}: `Connection: close` on {} (the body fits the limit)", r.status));
                            client.reconnect().await;
                            continue;
                        }
                        if let Err(e) = written {
                            failures.push(format!("{what}: writing the body: {e}"));
                        }
                    }
                }
                // The next request on the same connection.
                exchanges += 1;
                let auth = [("authorization", token.clone())];
                match client.exchange("GET", "/api/customers", &auth, b"", Framing::ContentLength).await {
                    Ok((r, _)) if r.status == 200 => {}
                    Ok((r, _)) => {
                        failures.push(format!("{what}, then GET /api/customers: status {}", r.status));
                        client.reconnect().await;
                    }
                    Err(e) => {
                        failures.push(format!("{what}, then GET /api/customers: {e}"));
                        client.reconnect().await;
                    }
                }
            }
            // A request whose body is read in full still works, and so does the one after it.
            let body = format!(r#"{{"name": "C {round}", "email": "c{round}@example.com"}}"#);
            let headers = [("content-type", "application/json".to_string()), ("authorization", token.clone())];
            exchanges += 1;
            match client.exchange("POST", "/api/customers", &headers, body.as_bytes(), Framing::ContentLength).await {
                Ok((r, _)) if r.status == 201 && !r.says_close() => {}
                Ok((r, _)) => {
                    failures.push(format!("round {round}, a valid POST: status {}, close {}", r.status, r.says_close()));
                    client.reconnect().await;
                }
                Err(e) => {
                    failures.push(format!("round {round}, a valid POST: {e}"));
                    client.reconnect().await;
                }
            }
        }

        assert!(
            failures.is_empty(),
            "{} of {exchanges} exchanges failed:\n{}",
            failures.len(),
            failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        );
        let r = app.get("/api/customers", &user.auth()).await;
        assert_eq!(r.body["count"], serde_json::json!(ROUNDS), "{}", r.text);
    }
}
