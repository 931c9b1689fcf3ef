//! Errors as HTTP answers: a status and `{"error": "..."}` naming what was wrong and where.

use aimm_store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, an unknown one, a revoked or an expired one.
    #[error("{0}")]
    Unauthorized(String),
    /// The role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing at this address.
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed or out of range (the message names the field).
    #[error("{0}")]
    BadRequest(String),
    /// The request conflicts with what is stored (e.g. a proposal already superseded).
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else that is the server's fault.
    #[error("{0}")]
    Internal(String),
}

/// The JSON body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, naming the offending input.
    pub error: String,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Store(e) => match e {
                StoreError::RunNotFound { .. }
                | StoreError::ProgramNotFound { .. }
                | StoreError::SegmentNotFound { .. }
                | StoreError::MachineNotFound { .. }
                | StoreError::LedgerRange { .. }
                | StoreError::UserNotFound { .. } => StatusCode::NOT_FOUND,
                StoreError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
                StoreError::UserExists { .. } | StoreError::TokenInUse { .. } => {
                    StatusCode::CONFLICT
                }
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = (
            status,
            axum::Json(ErrorBody {
                error: self.to_string(),
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"aimm\""),
            );
        }
        response
    }
}
