//! Who is asking, and whether their role allows it.
//!
//! A token is 256 random bits from the operating system (`aimm_` + base64url), shown once when a
//! user is added; the store keeps its SHA-256 only, so a leaked database holds no usable token.
//! (argon2 is for passwords, which are guessable; a 256-bit random secret is not, and a fast hash
//! lets every request be checked without a cost per request.) A request carries the token as
//! `Authorization: Bearer <token>`, or as the `aimm_session` cookie the login page sets: HttpOnly,
//! SameSite=Strict, so other sites can neither read it nor send it. Writes also take JSON bodies
//! only, which a cross-site form cannot send.

use crate::clock::now_ns;
use crate::error::ApiError;
use crate::state::AppState;
use aimm_model::{Permission, Role, ROLES};
use aimm_store::UserRecord;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "aimm_session";
/// Every token starts so, which makes a leaked one easy to find (and to scan for).
pub const TOKEN_PREFIX: &str = "aimm_";

/// A new token: 256 bits from the operating system's random source.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The SHA-256 the store keeps of `token`.
pub fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The authenticated user of a request.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Principal {
    /// The user's name, as the ledger records their acts.
    pub name: String,
    /// Their role.
    #[schema(value_type = String, example = "engineer")]
    pub role: Role,
}

impl Principal {
    /// Ok when the role allows `permission`; otherwise 403 naming the role, the permission and
    /// the roles that have it.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.role.may(permission) {
            return Ok(());
        }
        let who: Vec<&str> = ROLES
            .iter()
            .filter(|r| r.may(permission))
            .map(|r| r.as_str())
            .collect();
        Err(ApiError::Forbidden(format!(
            "user '{}' (role {}) may not {}; roles that may: {}",
            self.name,
            self.role,
            permission.as_str(),
            who.join(", ")
        )))
    }
}

/// The token a request carries, if any: the bearer token first, then the session cookie.
pub fn request_token(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        return v
            .strip_prefix("Bearer ")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
    }
    // A Cookie header is `name=value; name=value`; one cookie is wanted, so this is read here
    // rather than with a cookie crate.
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (name, value) = c.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_string())
        })
}

/// The user `token` belongs to, if it works now.
pub async fn authenticate(state: &AppState, token: Option<String>) -> Result<Principal, ApiError> {
    let Some(token) = token else {
        return Err(ApiError::Unauthorized(
            "no token: send 'Authorization: Bearer <token>' or log in at /login \
             (tokens are made with 'aimm users add')"
                .into(),
        ));
    };
    let hash = token_sha256(&token);
    let user = state
        .with_store(move |s| Ok(s.user_by_token(&hash)?))
        .await?;
    let now = now_ns();
    match user {
        None => Err(ApiError::Unauthorized("unknown token".into())),
        Some(UserRecord {
            name,
            revoked_ns: Some(_),
            ..
        }) => Err(ApiError::Unauthorized(format!(
            "the token of user '{name}' was revoked"
        ))),
        Some(u) if !u.active_at(now) => Err(ApiError::Unauthorized(format!(
            "the token of user '{}' expired (make a new one with 'aimm users add')",
            u.name
        ))),
        Some(u) => Ok(Principal {
            name: u.name,
            role: u.role,
        }),
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, request_token(parts)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        let body = a.strip_prefix(TOKEN_PREFIX).unwrap();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(token_sha256(&a), token_sha256(&b));
    }
}
