//! A real server on loopback over a real SQLite store, with one user per role (and an expired
//! and a revoked one), and a plain HTTP client.

#![allow(dead_code)] // each test binary uses part of it

use aimm_model::{MachineSpec, Role};
use aimm_server::{AppState, ServerOptions};
use aimm_store::UserRecord;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// A running server and the tokens of its users, by name.
pub struct Server {
    pub addr: SocketAddr,
    pub tokens: BTreeMap<String, String>,
    pub dir: tempfile::TempDir,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// An answer: status, content type and body.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Starts a server on a fresh store with machine mill-1 and users `admin`, `engineer`,
/// `operator`, `assessor` (their roles), `expired` (an engineer whose token expired) and
/// `revoked` (an engineer revoked).
pub async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("web.db").to_string_lossy().into_owned();
    let mut tokens = BTreeMap::new();
    {
        let mut store = aimm_store::open(&db).unwrap();
        store.put_machine(&MachineSpec::vmc("mill-1")).unwrap();
        for (name, role) in [
            ("admin", Role::Admin),
            ("engineer", Role::Engineer),
            ("operator", Role::Operator),
            ("assessor", Role::Assessor),
        ] {
            let by = ("test", "admin");
            let new = aimm_server::users::add_user(store.as_mut(), name, role, None, by).unwrap();
            tokens.insert(name.to_string(), new.token);
        }
        let now = aimm_server::clock::now_ns();
        for (name, expires, revoke) in [("expired", Some(now - 1), false), ("revoked", None, true)]
        {
            let token = aimm_server::auth::new_token();
            let user = UserRecord {
                name: name.into(),
                role: Role::Engineer,
                created_ns: now - 10,
                expires_ns: expires,
                revoked_ns: None,
            };
            store
                .add_user(&user, &aimm_server::auth::token_sha256(&token))
                .unwrap();
            if revoke {
                store.revoke_user(name, now).unwrap();
            }
            tokens.insert(name.to_string(), token);
        }
    }
    let state = AppState::open(ServerOptions::new(db)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(state.clone().follow());
    tokio::spawn(aimm_server::serve(listener, state, std::future::pending()));
    let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    Server {
        addr,
        tokens,
        dir,
        client,
    }
}

impl Server {
    /// `method path` with `token` as bearer (none when `None`) and a JSON `body` (none when
    /// `None`); the body is read unless the answer is an event stream.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let mut req = hyper::Request::builder()
            .method(method.to_ascii_uppercase().as_str())
            .uri(format!("http://{}{}", self.addr, path));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let bytes = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Bytes::from(serde_json::to_vec(&b).unwrap())
            }
            None => Bytes::new(),
        };
        let resp = self
            .client
            .request(req.body(Full::new(bytes)).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = if content_type.starts_with("text/event-stream") {
            Vec::new()
        } else {
            resp.into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec()
        };
        Answer {
            status,
            content_type,
            body,
        }
    }

    /// The store the server reads, for a test to write into as another process would.
    pub fn db(&self) -> String {
        self.dir
            .path()
            .join("web.db")
            .to_string_lossy()
            .into_owned()
    }

    pub fn token(&self, user: &str) -> &str {
        &self.tokens[user]
    }
}
