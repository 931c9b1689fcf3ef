//! Live updates as Server-Sent Events: new samples and new ledger records as the store receives
//! them (see `crate::live`).

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::live::LiveMessage;
use crate::state::AppState;
use aimm_model::Permission;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(live))
}

/// Which updates.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct LiveQuery {
    /// Only this machine's samples and records (default: everything).
    pub machine: Option<String>,
}

/// A stream of live updates (`text/event-stream`): events `samples` and `record`, each a JSON
/// `LiveMessage`. A client that falls behind by more than 1024 messages is told so with a
/// `lagged` event and goes on from the newest.
#[utoipa::path(get, path = "/api/live", tag = "live", params(LiveQuery),
    responses((status = 200, description = "Server-Sent Events of LiveMessage",
        content_type = "text/event-stream", body = LiveMessage),
        (status = 401, body = ErrorBody)))]
async fn live(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<LiveQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    principal.require(Permission::Read)?;
    let stream = BroadcastStream::new(state.live().subscribe()).filter_map(move |m| match m {
        Ok(m) => {
            if q.machine.as_deref().is_some_and(|want| m.machine() != Some(want)) {
                return None;
            }
            let name = match &m {
                LiveMessage::Samples { .. } => "samples",
                LiveMessage::Record { .. } => "record",
            };
            let data = serde_json::to_string(&m).expect("a live message serialises");
            Some(Ok(Event::default().event(name).data(data)))
        }
        Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
            Some(Ok(Event::default().event("lagged").data(n.to_string())))
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
