//! Adding and revoking users, for `aimm users` and the admin API alike: the token is made here,
//! shown once, and only its SHA-256 stored; each act is a `user_action` in the ledger naming who
//! did it (never the token or its hash).

use crate::auth::{new_token, token_sha256};
use crate::clock::now_ns;
use aimm_ledger::record::{Evidence, Record, UserAction};
use aimm_model::Role;
use aimm_store::evidence::append_one;
use aimm_store::{Store, StoreError, UserRecord};

/// A user just added, with their token (shown once; it cannot be recovered later).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NewUser {
    /// The user.
    #[schema(value_type = Object)]
    pub user: UserRecord,
    /// Their token: send it as `Authorization: Bearer <token>` or paste it at /login.
    pub token: String,
}

/// Why a user cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The name is unusable.
    #[error("user name '{0}': use 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    BadName(String),
    /// The validity is unusable.
    #[error("expiry: {0}")]
    BadExpiry(String),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds user `name` with `role`, valid for `valid_s` seconds (forever when `None`); `by` is who
/// added them (a user name and role, or the local account for the command line).
pub fn add_user(
    store: &mut dyn Store,
    name: &str,
    role: Role,
    valid_s: Option<f64>,
    (actor, actor_role): (&str, &str),
) -> Result<NewUser, UserError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "._-@".contains(c);
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok) {
        return Err(UserError::BadName(name.into()));
    }
    let now = now_ns();
    let expires_ns = match valid_s {
        None => None,
        Some(s) if s.is_finite() && s > 0.0 && s < 100.0 * 365.0 * 86_400.0 => {
            Some(now + (s * 1e9) as i64)
        }
        Some(s) => {
            return Err(UserError::BadExpiry(format!(
                "{s} s is not a validity between 0 and 100 years"
            )))
        }
    };
    let token = new_token();
    let user = UserRecord {
        name: name.into(),
        role,
        created_ns: now,
        expires_ns,
        revoked_ns: None,
    };
    store.add_user(&user, &token_sha256(&token))?;
    append_one(
        store,
        &user_action(
            actor,
            actor_role,
            "add_user",
            name,
            serde_json::json!({
                "role": role.as_str(), "expires_ns": expires_ns.map(|e| e.to_string()),
            }),
        ),
    )?;
    Ok(NewUser { user, token })
}

/// Revokes user `name`; `by` as for [`add_user`].
pub fn revoke_user(
    store: &mut dyn Store,
    name: &str,
    (actor, actor_role): (&str, &str),
) -> Result<(), UserError> {
    store.revoke_user(name, now_ns())?;
    append_one(
        store,
        &user_action(
            actor,
            actor_role,
            "revoke_user",
            name,
            serde_json::json!({}),
        ),
    )?;
    Ok(())
}

fn user_action(
    actor: &str,
    role: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Record {
    Record::new(
        now_ns(),
        Evidence::UserAction(UserAction {
            actor: actor.into(),
            role: role.into(),
            action: action.into(),
            target: target.into(),
            detail,
        }),
        vec![],
    )
}
