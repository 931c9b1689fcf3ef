//! The authorisation matrix: every route of the OpenAPI document × every role, and no token, a
//! wrong one, an expired one and a revoked one, gets the status the role table allows. The
//! expected access of each route is written here, independently of the server; a route in the
//! document that is not in this table (or the reverse) fails the test, so a new route cannot
//! ship without its row.

mod common;

use aimm_model::{Permission, Role, ROLES};

/// Who may call a route.
#[derive(Clone, Copy, Debug)]
enum Access {
    /// Anyone, no token (login, assets, the OpenAPI document).
    Public,
    /// Any valid token.
    AnyUser,
    /// Logging in: the token in the body is judged (401 when it does not work).
    Login,
    /// A page: without a session, a redirect to /login; with one, any role.
    Page,
    /// A valid token whose role has the permission.
    Needs(Permission),
    /// A page that needs a permission: without a session a redirect to /login, with one 200
    /// when the role has it and 403 when not.
    PageNeeds(Permission),
}

use Access::*;

/// (method, path template, access).
const EXPECTED: &[(&str, &str, Access)] = &[
    ("get", "/api/openapi.json", Public),
    ("post", "/api/session", Login),
    ("delete", "/api/session", Public),
    ("get", "/api/session", AnyUser),
    ("get", "/login", Public),
    ("get", "/assets/{file}", Public),
    ("get", "/", Page),
    ("get", "/api/machines", Needs(Permission::Read)),
    ("get", "/api/machines/{machine}", Needs(Permission::Read)),
    (
        "get",
        "/api/machines/{machine}/runs",
        Needs(Permission::Read),
    ),
    (
        "get",
        "/api/machines/{machine}/events",
        Needs(Permission::Read),
    ),
    (
        "get",
        "/api/machines/{machine}/signals/{signal}",
        Needs(Permission::Read),
    ),
    ("get", "/api/ledger", Needs(Permission::Read)),
    ("get", "/api/ledger/{leaf}", Needs(Permission::Read)),
    ("get", "/api/ledger/{leaf}/lineage", Needs(Permission::Read)),
    ("get", "/api/live", Needs(Permission::Read)),
    ("get", "/api/proposals", Needs(Permission::Read)),
    (
        "post",
        "/api/proposals/{leaf}/approve",
        Needs(Permission::ApproveProposal),
    ),
    (
        "post",
        "/api/proposals/{leaf}/reject",
        Needs(Permission::ApproveProposal),
    ),
    ("get", "/api/users", Needs(Permission::ManageUsers)),
    ("post", "/api/users", Needs(Permission::ManageUsers)),
    (
        "delete",
        "/api/users/{name}",
        Needs(Permission::ManageUsers),
    ),
    (
        "get",
        "/api/machines/{machine}/tools/{tool}/wear",
        Needs(Permission::Read),
    ),
    ("get", "/api/programs", Needs(Permission::Read)),
    ("get", "/api/programs/{name}/diff", Needs(Permission::Read)),
    (
        "get",
        "/api/programs/{name}/versions/{version}",
        Needs(Permission::Read),
    ),
    ("get", "/api/schedules", Needs(Permission::Read)),
    ("get", "/api/schedules/{leaf}", Needs(Permission::Read)),
    ("get", "/api/assessment", Needs(Permission::Assess)),
    ("get", "/api/loops", Needs(Permission::Read)),
    ("get", "/machines/{machine}", Page),
    ("get", "/machines/{machine}/tools/{tool}", Page),
    ("get", "/programs", Page),
    ("get", "/programs/{name}", Page),
    ("get", "/proposals", Page),
    ("get", "/schedule", Page),
    ("get", "/ledger", Page),
    ("get", "/ledger/{leaf}", Page),
    ("get", "/assessment", Page),
    ("get", "/assessment/report", PageNeeds(Permission::Assess)),
];

/// A concrete path for a template.
fn fill(template: &str) -> String {
    template
        .replace("{machine}", "mill-1")
        .replace("{signal}", "spindle_load_pct")
        .replace("{leaf}", "0")
        .replace("{name}", "nobody")
        .replace("{tool}", "1")
        .replace("{version}", "1")
        .replace("{file}", "app.js")
}

/// A valid body for a write, so that a refusal is about the caller, not the body.
fn body(
    method: &str,
    template: &str,
    caller: &str,
    token: Option<&str>,
) -> Option<serde_json::Value> {
    match (method, template) {
        ("post", "/api/session") => {
            Some(serde_json::json!({ "token": token.unwrap_or("aimm_none") }))
        }
        ("post", "/api/users") => {
            Some(serde_json::json!({ "name": format!("new-{caller}"), "role": "operator" }))
        }
        ("post", t) if t.ends_with("/reject") => Some(serde_json::json!({ "reason": "test" })),
        ("post", _) => Some(serde_json::json!({ "machine": "mill-1" })),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_times_every_caller_gets_what_the_role_table_allows() {
    let server = common::start().await;
    let doc = server
        .call("get", "/api/openapi.json", None, None)
        .await
        .json();
    let mut in_doc = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            in_doc.push((method.clone(), path.clone()));
        }
    }
    let missing: Vec<_> = in_doc
        .iter()
        .filter(|(m, p)| !EXPECTED.iter().any(|(em, ep, _)| em == m && ep == p))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in EXPECTED: {missing:?}"
    );
    let stale: Vec<_> = EXPECTED
        .iter()
        .filter(|(m, p, _)| !in_doc.iter().any(|(dm, dp)| dm == m && dp == p))
        .collect();
    assert!(
        stale.is_empty(),
        "rows for routes the server does not list: {stale:?}"
    );

    let mut checked = 0;
    let mut failures = Vec::new();
    for &(method, template, access) in EXPECTED {
        let path = fill(template);
        // Callers without a working token.
        for (caller, token) in [
            ("no token", None),
            (
                "wrong token",
                Some("aimm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ),
            ("expired", Some(server.token("expired"))),
            ("revoked", Some(server.token("revoked"))),
        ] {
            let a = server
                .call(method, &path, token, body(method, template, caller, token))
                .await;
            let ok = match access {
                Public => a.status != 401 && a.status != 403,
                Page | PageNeeds(_) => a.status == 303,
                Login | AnyUser | Needs(_) => a.status == 401,
            };
            checked += 1;
            if !ok || a.text().contains("no route") {
                failures.push(format!(
                    "{caller}: {method} {path} → {} {}",
                    a.status,
                    a.text()
                ));
            }
        }
        for role in ROLES {
            let name = role.as_str();
            let token = Some(server.token(name));
            let a = server
                .call(method, &path, token, body(method, template, name, token))
                .await;
            let ok = match access {
                Public | AnyUser => a.status != 401 && a.status != 403,
                Login | Page => a.status == 200,
                Needs(p) if role.may(p) => a.status != 401 && a.status != 403,
                Needs(_) => a.status == 403,
                // A page of something absent is a 404 page, still past the role check.
                PageNeeds(p) if role.may(p) => a.status == 200 || a.status == 404,
                PageNeeds(_) => a.status == 403,
            };
            checked += 1;
            if !ok || a.text().contains("no route") || a.status >= 500 {
                failures.push(format!(
                    "{name}: {method} {path} → {} {}",
                    a.status,
                    a.text()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} calls wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, EXPECTED.len() * 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_names_the_role_the_permission_and_who_may() {
    let server = common::start().await;
    let a = server
        .call(
            "post",
            "/api/proposals/0/approve",
            Some(server.token("assessor")),
            Some(serde_json::json!({})),
        )
        .await;
    assert_eq!(a.status, 403);
    let msg = a.json()["error"].as_str().unwrap().to_string();
    assert!(
        msg.contains("assessor") && msg.contains("approve_proposal") && msg.contains("engineer"),
        "{msg}"
    );
    let a = server.call("get", "/api/machines", None, None).await;
    assert_eq!(a.status, 401);
    assert!(a.json()["error"]
        .as_str()
        .unwrap()
        .contains("aimm users add"));
    // Every write a role is refused leaves the ledger as it was.
    let before = server
        .call(
            "get",
            "/api/ledger?limit=1",
            Some(server.token("admin")),
            None,
        )
        .await
        .json()["size"]
        .clone();
    for role in [Role::Assessor, Role::Operator] {
        let a = server
            .call(
                "post",
                "/api/users",
                Some(server.token(role.as_str())),
                Some(serde_json::json!({"name": "x", "role": "admin"})),
            )
            .await;
        assert_eq!(a.status, 403);
    }
    let after = server
        .call(
            "get",
            "/api/ledger?limit=1",
            Some(server.token("admin")),
            None,
        )
        .await
        .json()["size"]
        .clone();
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlisted_paths_are_not_answered() {
    let server = common::start().await;
    for path in [
        "/api/machine",
        "/api/ledger/0/lineag",
        "/admin",
        "/api/users/x/token",
        "/.git/config",
    ] {
        let a = server
            .call("get", path, Some(server.token("admin")), None)
            .await;
        assert_eq!(a.status, 404, "{path}");
        assert!(a.text().contains("no route"), "{path}: {}", a.text());
    }
}
