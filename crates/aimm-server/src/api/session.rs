//! Logging in and out of the dashboard: the token is checked and set as the session cookie.

use crate::auth::{authenticate, Principal, SESSION_COOKIE};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(who_am_i, log_in, log_out))
}

/// A login.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Login {
    /// The user's token, as `aimm users add` printed it.
    pub token: String,
}

/// The user the request's token belongs to.
#[utoipa::path(get, path = "/api/session", tag = "session",
    responses((status = 200, body = Principal), (status = 401, body = ErrorBody)))]
async fn who_am_i(principal: Principal) -> Json<Principal> {
    Json(principal)
}

/// Checks a token and sets it as the session cookie (HttpOnly, SameSite=Strict).
#[utoipa::path(post, path = "/api/session", tag = "session", request_body = Login,
    security(()),
    responses((status = 200, body = Principal), (status = 401, body = ErrorBody)))]
async fn log_in(State(state): State<AppState>, Json(login): Json<Login>) -> Result<Response, ApiError> {
    let token = login.token.trim().to_string();
    let principal = authenticate(&state, Some(token.clone())).await?;
    let secure = if state.options().secure_cookie { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
    Ok(([(header::SET_COOKIE, cookie)], Json(principal)).into_response())
}

/// Clears the session cookie.
#[utoipa::path(delete, path = "/api/session", tag = "session", security(()),
    responses((status = 204, description = "Logged out")))]
async fn log_out() -> Response {
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        axum::http::StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie)],
    )
        .into_response()
}
