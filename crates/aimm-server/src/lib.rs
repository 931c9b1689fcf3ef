//! aimm's HTTP API with roles and its web dashboard (`aimm web`).
//!
//! One router serves both: the JSON API under `/api/` (described by the OpenAPI 3 document at
//! `/api/openapi.json`, generated from the handlers themselves, so a route cannot exist without
//! being in it), server-rendered pages (maud templates) that draw their plots with the vendored
//! uPlot from the same API, and live updates as Server-Sent Events.
//!
//! Every request but the login page, the static assets and the OpenAPI document needs a token
//! (`Authorization: Bearer …`, or the session cookie the login page sets). Tokens are 256 random
//! bits; the store keeps only their SHA-256. What a role may do is `aimm_model::access`, the one
//! table for every interface; every write lands in the ledger naming its actor and role.
//!
//! The store is blocking (SQLite, PostgreSQL): handlers run store work on Tokio's blocking pool
//! through a small pool of connections ([`state::AppState::with_store`]).

pub mod api;
pub mod auth;
pub mod clock;
mod error;
pub mod extract;
pub mod ledger_index;
pub mod live;
pub mod pages;
pub mod state;
pub mod users;

pub use error::ApiError;
pub use state::{AppState, ServerOptions};

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The whole application: the API, the pages and the assets, with the OpenAPI document that
/// lists every one of its routes (and is itself served at `/api/openapi.json`).
pub fn app(state: AppState) -> (Router, OpenApi) {
    let (router, mut openapi) = OpenApiRouter::with_openapi(api::ApiDoc::openapi_base())
        .merge(api::routes())
        .merge(pages::routes())
        .split_for_parts();
    openapi
        .paths
        .paths
        .insert(api::OPENAPI_PATH.to_string(), api::openapi_path_item());
    api::document_common_errors(&mut openapi);
    let doc = openapi.clone();
    let router = router
        .route(
            api::OPENAPI_PATH,
            axum::routing::get(move || async move { axum::Json(doc.clone()) }),
        )
        .fallback(no_route)
        .with_state(state);
    (router, openapi)
}

/// Anything the router does not answer: 404 saying so (the tests tell it from a resource that
/// does not exist by its words "no route").
async fn no_route(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no route {method} {}; every route is listed in {}",
        uri.path(),
        api::OPENAPI_PATH
    ))
}

/// Serves `app(state)` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (router, _) = app(state);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
