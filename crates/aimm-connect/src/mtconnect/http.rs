//! The agent's HTTP interface (axum): `/probe`, `/current`, `/sample` (paged by `from`/`count`,
//! or streamed as `multipart/x-mixed-replace` chunks when `interval` is given; both filtered by
//! `path`), `/assets`, each also under `/{device}/…`; every bad request gets an `MTConnectError`
//! document.

use super::agent::{Agent, Selection};
use super::documents::{BadParameter, ErrorCode, RequestError};
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// An agent shared by the HTTP handlers and the adapter tasks; writers notify streams.
pub struct SharedAgent {
    agent: Mutex<Agent>,
    changed: watch::Sender<u64>,
}

impl SharedAgent {
    /// Wraps `agent` for sharing between the HTTP handlers and the adapter tasks.
    pub fn new(agent: Agent) -> Arc<Self> {
        let (changed, _) = watch::channel(agent.last_sequence());
        Arc::new(Self {
            agent: Mutex::new(agent),
            changed,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Agent> {
        // A panic while holding the lock leaves the agent as consistent as any single update.
        self.agent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the agent, then wakes streams waiting for new observations.
    pub fn update<R>(&self, f: impl FnOnce(&mut Agent) -> R) -> R {
        let mut agent = self.lock();
        let out = f(&mut agent);
        let last = agent.last_sequence();
        drop(agent);
        self.changed
            .send_if_modified(|seq| std::mem::replace(seq, last) != last);
        out
    }

    /// Runs `f` on the agent without changing it (for answering requests).
    pub fn read<R>(&self, f: impl FnOnce(&Agent) -> R) -> R {
        f(&self.lock())
    }
}

type Params = Query<HashMap<String, String>>;

/// The agent's routes.
pub fn router(agent: Arc<SharedAgent>) -> Router {
    Router::new()
        .route("/", get(probe_all))
        .route("/probe", get(probe_all))
        .route("/current", get(current_all))
        .route("/sample", get(sample_all))
        .route("/assets", get(assets))
        .route("/asset/{ids}", get(assets_by_id))
        .route("/assets/{ids}", get(assets_by_id))
        .route("/{device}", get(probe_one))
        .route("/{device}/probe", get(probe_one))
        .route("/{device}/current", get(current_one))
        .route("/{device}/sample", get(sample_one))
        .fallback(unknown)
        .with_state(agent)
}

/// Serves `agent` on `listener` until `shutdown` completes.
pub async fn serve(
    agent: Arc<SharedAgent>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(agent))
        .with_graceful_shutdown(shutdown)
        .await
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn error_response(agent: &SharedAgent, e: &RequestError) -> Response {
    let status = match e.code {
        ErrorCode::NoDevice | ErrorCode::AssetNotFound => StatusCode::NOT_FOUND,
        ErrorCode::Unsupported => StatusCode::NOT_IMPLEMENTED,
        _ => StatusCode::BAD_REQUEST,
    };
    xml(status, agent.read(|a| a.error(e)))
}

/// The document, or the error document saying why there is none.
fn respond(agent: &SharedAgent, result: Result<String, RequestError>) -> Response {
    match result {
        Ok(doc) => xml(StatusCode::OK, doc),
        Err(e) => error_response(agent, &e),
    }
}

/// Rejects query parameters a request does not take.
fn check_params(
    params: &HashMap<String, String>,
    allowed: &[&str],
    uri: &str,
) -> Result<(), RequestError> {
    match params.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) if matches!(k.as_str(), "path" | "at" | "to" | "deviceType") => Err(RequestError {
            code: ErrorCode::Unsupported,
            uri: uri.to_string(),
            message: format!("query parameter '{k}' is not supported by aimm's agent"),
            parameter: None,
        }),
        Some(k) => Err(RequestError {
            code: ErrorCode::InvalidRequest,
            uri: uri.to_string(),
            message: format!("unknown query parameter '{k}'; this request takes {allowed:?}"),
            parameter: None,
        }),
    }
}

/// A numeric query parameter, or INVALID_PARAMETER_VALUE / OUT_OF_RANGE.
fn number(
    params: &HashMap<String, String>,
    name: &'static str,
    range: (u64, u64),
    uri: &str,
) -> Result<Option<u64>, RequestError> {
    let Some(text) = params.get(name) else {
        return Ok(None);
    };
    let value: u64 = text.parse().map_err(|_| RequestError {
        code: ErrorCode::InvalidParameterValue,
        uri: uri.to_string(),
        message: format!("'{name}' must be a whole number, got '{text}'"),
        parameter: Some(BadParameter {
            name,
            value: text.clone(),
            range: None,
        }),
    })?;
    if value < range.0 || value > range.1 {
        return Err(RequestError {
            code: ErrorCode::OutOfRange,
            uri: uri.to_string(),
            message: format!("'{name}' must be between {} and {}", range.0, range.1),
            parameter: Some(BadParameter {
                name,
                value: text.clone(),
                range: Some(range),
            }),
        });
    }
    Ok(Some(value))
}

async fn probe_all(
    State(a): State<Arc<SharedAgent>>,
    OriginalUri(uri): OriginalUri,
    Query(p): Params,
) -> Response {
    probe(&a, None, &uri.to_string(), &p)
}

async fn probe_one(
    State(a): State<Arc<SharedAgent>>,
    Path(device): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(p): Params,
) -> Response {
    probe(&a, Some(&device), &uri.to_string(), &p)
}

fn probe(
    a: &SharedAgent,
    device: Option<&str>,
    uri: &str,
    p: &HashMap<String, String>,
) -> Response {
    document(a, device, uri, p, Agent::probe)
}

/// A parameterless document of one device or all (`/probe`, `/current`), or the error
/// document saying why not.
fn document(
    a: &SharedAgent,
    device: Option<&str>,
    uri: &str,
    p: &HashMap<String, String>,
    render: fn(&Agent, Option<usize>) -> String,
) -> Response {
    let result = check_params(p, &[], uri)
        .and_then(|()| a.read(|agent| agent.device(device, uri).map(|d| render(agent, d))));
    respond(a, result)
}

async fn current_all(
    State(a): State<Arc<SharedAgent>>,
    OriginalUri(uri): OriginalUri,
    Query(p): Params,
) -> Response {
    current(&a, None, &uri.to_string(), &p)
}

async fn current_one(
    State(a): State<Arc<SharedAgent>>,
    Path(device): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(p): Params,
) -> Response {
    current(&a, Some(&device), &uri.to_string(), &p)
}

fn current(
    a: &SharedAgent,
    device: Option<&str>,
    uri: &str,
    p: &HashMap<String, String>,
) -> Response {
    let result = check_params(p, &["at", "path"], uri).and_then(|()| {
        a.read(|agent| {
            let device = agent.device(device, uri)?;
            let sel = agent.select(device, p.get("path").map(String::as_str), uri)?;
            let range = (agent.first_sequence(), agent.last_sequence());
            // The 2.7 Error schema has no QueryParameter named `at` (and OUT_OF_RANGE needs
            // one): a bad `at` is an INVALID_REQUEST whose message says the range.
            let invalid = |e: RequestError| RequestError {
                code: ErrorCode::InvalidRequest,
                parameter: None,
                ..e
            };
            match number(p, "at", range, uri).map_err(invalid)? {
                None => Ok(agent.current(sel)),
                Some(at) => agent.current_at(sel, at, uri).map_err(invalid),
            }
        })
    });
    respond(a, result)
}

async fn sample_all(
    State(a): State<Arc<SharedAgent>>,
    OriginalUri(uri): OriginalUri,
    Query(p): Params,
) -> Response {
    sample(a, None, uri.to_string(), p)
}

async fn sample_one(
    State(a): State<Arc<SharedAgent>>,
    Path(device): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(p): Params,
) -> Response {
    sample(a, Some(device), uri.to_string(), p)
}

/// What a `/sample` request asks for.
struct SampleRequest {
    selection: Selection,
    from: Option<u64>,
    count: usize,
    /// Streaming: least time between chunks, and the longest silence before an empty chunk.
    interval: Option<Duration>,
    heartbeat: Duration,
}

fn sample_request(
    agent: &Agent,
    device: Option<&str>,
    uri: &str,
    p: &HashMap<String, String>,
) -> Result<SampleRequest, RequestError> {
    check_params(p, &["from", "count", "interval", "heartbeat", "path"], uri)?;
    let device = agent.device(device, uri)?;
    let buffer = agent.buffer_size() as u64;
    Ok(SampleRequest {
        selection: agent.select(device, p.get("path").map(String::as_str), uri)?,
        from: number(p, "from", (0, u64::MAX), uri)?,
        count: number(p, "count", (1, buffer), uri)?.unwrap_or(100) as usize,
        interval: number(p, "interval", (0, 3_600_000), uri)?.map(Duration::from_millis),
        heartbeat: Duration::from_millis(
            number(p, "heartbeat", (10, 3_600_000), uri)?.unwrap_or(10_000),
        ),
    })
}

fn sample(
    a: Arc<SharedAgent>,
    device: Option<String>,
    uri: String,
    p: HashMap<String, String>,
) -> Response {
    let request = a.read(|agent| sample_request(agent, device.as_deref(), &uri, &p));
    let request = match request {
        Ok(r) => r,
        Err(e) => return error_response(&a, &e),
    };
    let first =
        a.read(|agent| agent.sample(request.selection.clone(), request.from, request.count, &uri));
    let (doc, next) = match first {
        Ok(x) => x,
        Err(e) => return error_response(&a, &e),
    };
    let Some(interval) = request.interval else {
        return xml(StatusCode::OK, doc);
    };
    stream(a, request, uri, doc, next, interval)
}

const BOUNDARY: &str = "aimm-mtconnect-part";

fn part(doc: &str) -> Bytes {
    Bytes::from(format!(
        "--{BOUNDARY}\r\nContent-type: text/xml\r\nContent-length: {}\r\n\r\n{doc}\r\n",
        doc.len()
    ))
}

/// A `multipart/x-mixed-replace` stream of Streams documents: one as soon as new observations
/// are there (at most one per `interval`), an empty one after `heartbeat` of silence, and an
/// error document (then the end) if the client falls out of the buffer.
fn stream(
    a: Arc<SharedAgent>,
    request: SampleRequest,
    uri: String,
    first_doc: String,
    next: u64,
    interval: Duration,
) -> Response {
    let changed = a.changed.subscribe();
    let state = (a, changed, next, Some(first_doc), false);
    let body = futures_util::stream::unfold(state, move |(a, mut changed, next, pending, done)| {
        let uri = uri.clone();
        let heartbeat = request.heartbeat;
        let (selection, count) = (request.selection.clone(), request.count);
        async move {
            if done {
                return None;
            }
            if let Some(doc) = pending {
                return Some((
                    Ok::<_, std::convert::Infallible>(part(&doc)),
                    (a, changed, next, None, false),
                ));
            }
            tokio::time::sleep(interval).await;
            let has_new = a.read(|agent| agent.last_sequence() >= next);
            if !has_new {
                // Wait for new data or the heart-beat, whichever comes first.
                let _ = tokio::time::timeout(heartbeat, changed.changed()).await;
            }
            match a.read(|agent| agent.sample(selection, Some(next), count, &uri)) {
                Ok((doc, next)) => Some((Ok(part(&doc)), (a, changed, next, None, false))),
                Err(e) => {
                    let doc = a.read(|agent| agent.error(&e));
                    Some((Ok(part(&doc)), (a, changed, next, None, true)))
                }
            }
        }
    });
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            format!("multipart/x-mixed-replace;boundary={BOUNDARY}"),
        )],
        Body::from_stream(body),
    )
        .into_response()
}

async fn assets(
    State(a): State<Arc<SharedAgent>>,
    OriginalUri(uri): OriginalUri,
    Query(p): Params,
) -> Response {
    let uri = uri.to_string();
    if let Err(e) = check_params(&p, &["type", "removed"], &uri) {
        return error_response(&a, &e);
    }
    let removed = p.get("removed").is_some_and(|v| v == "true");
    xml(
        StatusCode::OK,
        a.read(|agent| agent.assets(p.get("type").map(String::as_str), removed)),
    )
}

async fn assets_by_id(
    State(a): State<Arc<SharedAgent>>,
    Path(ids): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(p): Params,
) -> Response {
    let uri = uri.to_string();
    let result =
        check_params(&p, &[], &uri).and_then(|()| a.read(|agent| agent.assets_by_id(&ids, &uri)));
    respond(&a, result)
}

async fn unknown(State(a): State<Arc<SharedAgent>>, OriginalUri(uri): OriginalUri) -> Response {
    let e = RequestError {
        code: ErrorCode::InvalidUri,
        uri: uri.to_string(),
        message: format!(
            "'{}' is no MTConnect request of aimm's agent (probe, current, sample, assets, asset/ID)",
            uri.path()
        ),
        parameter: None,
    };
    error_response(&a, &e)
}
