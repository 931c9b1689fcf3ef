//! Users (admins only): list, add (the token is in the answer, once), revoke.

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::users::{add_user, revoke_user, NewUser, UserError};
use aimm_model::{Permission, Role};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(delete_user))
}

/// Every user (revoked too), without tokens.
#[utoipa::path(get, path = "/api/users", tag = "users",
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<aimm_store::UserRecord>>, ApiError> {
    principal.require(Permission::ManageUsers)?;
    Ok(Json(state.with_store(|s| Ok(s.users()?)).await?))
}

/// A user to add.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AddUser {
    /// Name (1 to 64 of letters, digits, `.`, `_`, `-`, `@`).
    pub name: String,
    /// `assessor`, `operator`, `engineer` or `admin`.
    pub role: String,
    /// Days the token works (default: until revoked).
    pub valid_days: Option<f64>,
}

/// Adds a user; the answer holds their token, which is never shown again.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = AddUser,
    responses((status = 201, body = NewUser), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    Json(add): Json<AddUser>,
) -> Result<(StatusCode, Json<NewUser>), ApiError> {
    principal.require(Permission::ManageUsers)?;
    let role: Role = add
        .role
        .parse()
        .map_err(|e: aimm_model::UnknownName| ApiError::BadRequest(e.to_string()))?;
    let s = state.clone();
    let new = state
        .with_store(move |store| {
            let by = (principal.name.as_str(), principal.role.as_str());
            let new = add_user(store, &add.name, role, add.valid_days.map(|d| d * 86_400.0), by)
                .map_err(user_error)?;
            s.after_write(store)?;
            Ok(new)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(new)))
}

/// Revokes a user: their token stops working at once.
#[utoipa::path(delete, path = "/api/users/{name}", tag = "users",
    params(("name" = String, Path, description = "The user's name")),
    responses((status = 204, description = "Revoked"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn delete_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Permission::ManageUsers)?;
    let s = state.clone();
    state
        .with_store(move |store| {
            let by = (principal.name.as_str(), principal.role.as_str());
            revoke_user(store, &name, by).map_err(user_error)?;
            s.after_write(store)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

fn user_error(e: UserError) -> ApiError {
    match e {
        UserError::Store(e) => ApiError::Store(e),
        other => ApiError::BadRequest(other.to_string()),
    }
}
