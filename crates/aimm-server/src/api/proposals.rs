//! Proposals of the learning loop (NC program versions it derived, waiting in advise mode):
//! listed with their status; an engineer approves one (the release is a `control_action` naming
//! them and their role, and the machine runs that version from its next part) or rejects one (a
//! `user_action` naming them, their role and the reason).

use crate::auth::Principal;
use crate::clock::now_ns;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::ledger_index::{LedgerIndex, ProgramVersion};
use crate::state::AppState;
use aimm_ledger::record::{Evidence, Record, UserAction};
use aimm_ledger::Citation;
use aimm_loops::learn::evidence::{approve, ApprovalError, PROPOSAL_WHY};
use aimm_model::{MachineId, Permission};
use aimm_store::evidence::append_one;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_proposals))
        .routes(routes!(approve_proposal))
        .routes(routes!(reject_proposal))
}

/// A proposal and where it stands.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Proposal {
    /// The program version proposed.
    #[serde(flatten)]
    pub program: ProgramVersion,
    /// `pending`, `released`, `rejected` or `superseded` (a later version replaced it).
    pub status: String,
    /// The record that released or rejected it.
    pub decided_by: Option<u64>,
    /// Where the program was last released, if it was.
    pub machine: Option<String>,
}

/// Every proposal of the learning loop, newest first.
#[utoipa::path(get, path = "/api/proposals", tag = "proposals",
    responses((status = 200, body = Vec<Proposal>), (status = 401, body = ErrorBody)))]
async fn list_proposals(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<Proposal>>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(|index, _| {
            Ok(Json(
                index
                    .programs
                    .iter()
                    .rev()
                    .filter(|p| p.why.starts_with(PROPOSAL_WHY))
                    .map(|p| status_of(index, p))
                    .collect(),
            ))
        })
        .await
}

fn status_of(index: &LedgerIndex, p: &ProgramVersion) -> Proposal {
    let key = (p.name.clone(), p.version);
    let (status, decided_by) = if let Some(&leaf) = index.releases.get(&key) {
        ("released", Some(leaf))
    } else if let Some(&leaf) = index.rejections.get(&key) {
        ("rejected", Some(leaf))
    } else if index
        .latest_program(&p.name)
        .is_some_and(|l| l.version != p.version)
    {
        ("superseded", None)
    } else {
        ("pending", None)
    };
    Proposal {
        program: p.clone(),
        status: status.into(),
        decided_by,
        machine: index.released_to.get(&p.name).cloned(),
    }
}

/// An engineer's decision on a proposal.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct Decision {
    /// The machine to release to; default: the machine whose data the proposal was derived
    /// from, else where the program was last released.
    pub machine: Option<String>,
    /// Why (recorded with a rejection; required for one).
    pub reason: Option<String>,
}

/// What a decision wrote.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Decided {
    /// The proposal's leaf.
    pub proposal: u64,
    /// The ledger record written.
    pub record: u64,
    /// `released` or `rejected`.
    pub status: String,
    /// Who decided.
    pub actor: String,
    /// In what role.
    pub role: String,
}

/// The pending proposal at `leaf`, or why it cannot be decided on.
fn pending(index: &LedgerIndex, leaf: u64) -> Result<Proposal, ApiError> {
    let p = index
        .programs
        .iter()
        .find(|p| p.leaf == leaf && p.why.starts_with(PROPOSAL_WHY))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "ledger record {leaf} is not a proposal of the learning loop"
            ))
        })?;
    let proposal = status_of(index, p);
    if proposal.status != "pending" {
        return Err(ApiError::Conflict(format!(
            "proposal {leaf} ({} v{}) is {}{}",
            p.name,
            p.version,
            proposal.status,
            proposal
                .decided_by
                .map(|l| format!(" (record {l})"))
                .unwrap_or_default()
        )));
    }
    Ok(proposal)
}

/// The machine whose sensor data a proposal was derived from: the first `sensor_segment` within
/// two citations of it (its models cite the parts' segments).
fn machine_measured(store: &dyn aimm_store::Store, leaf: u64) -> Result<Option<String>, ApiError> {
    let mut level = vec![leaf];
    for _ in 0..3 {
        let mut next = Vec::new();
        for l in level {
            let record = store.ledger_record(l)?.record;
            if let Evidence::SensorSegment(s) = &record.evidence {
                return Ok(Some(s.machine.clone()));
            }
            next.extend(record.cites.iter().map(|c| c.leaf_index));
        }
        level = next;
    }
    Ok(None)
}

/// Approves a pending proposal: releases the program version to the machine (a
/// `control_action` naming the engineer and their role). Engineers only.
#[utoipa::path(post, path = "/api/proposals/{leaf}/approve", tag = "proposals",
    params(("leaf" = u64, Path, description = "The proposal's leaf (an nc_program record)")),
    request_body = Decision,
    responses((status = 200, body = Decided), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve_proposal(
    State(state): State<AppState>,
    principal: Principal,
    Path(leaf): Path<u64>,
    crate::extract::Json(decision): crate::extract::Json<Decision>,
) -> Result<Json<Decided>, ApiError> {
    principal.require(Permission::ApproveProposal)?;
    let s = state.clone();
    state
        .with_index(move |index, store| {
            let proposal = pending(index, leaf)?;
            let machine = decision
                .machine
                .or(machine_measured(store, leaf)?)
                .or(proposal.machine)
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "machine: name the machine to release to (the program was never released)"
                            .into(),
                    )
                })?;
            super::machines::find_machine(store, &machine)?;
            let t_ns = aimm_store::next_part_start_ns(store, &MachineId::new(&machine), 0.0)?
                .max(now_ns());
            let who = (principal.name.as_str(), principal.role.as_str());
            let cite = approve(store, leaf, &machine, who, t_ns).map_err(|e| match e {
                ApprovalError::Store(e) => ApiError::Store(e),
                other => ApiError::Conflict(other.to_string()),
            })?;
            s.after_write(store)?;
            Ok(Json(Decided {
                proposal: leaf,
                record: cite.leaf_index,
                status: "released".into(),
                actor: principal.name,
                role: principal.role.to_string(),
            }))
        })
        .await
}

/// Rejects a pending proposal, with a reason (a `user_action` naming the engineer and their
/// role, citing the proposal). The machine keeps the version in force. Engineers only.
#[utoipa::path(post, path = "/api/proposals/{leaf}/reject", tag = "proposals",
    params(("leaf" = u64, Path, description = "The proposal's leaf (an nc_program record)")),
    request_body = Decision,
    responses((status = 200, body = Decided), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn reject_proposal(
    State(state): State<AppState>,
    principal: Principal,
    Path(leaf): Path<u64>,
    crate::extract::Json(decision): crate::extract::Json<Decision>,
) -> Result<Json<Decided>, ApiError> {
    principal.require(Permission::ApproveProposal)?;
    let reason = decision.reason.unwrap_or_default().trim().to_string();
    if reason.is_empty() {
        return Err(ApiError::BadRequest(
            "reason: say why the proposal is rejected (it is recorded in the ledger)".into(),
        ));
    }
    let s = state.clone();
    state
        .with_index(move |index, store| {
            let proposal = pending(index, leaf)?;
            let entry = store.ledger_record(leaf)?;
            let p = &proposal.program;
            let record = Record::new(
                now_ns(),
                Evidence::UserAction(UserAction {
                    actor: principal.name.clone(),
                    role: principal.role.to_string(),
                    action: "reject_proposal".into(),
                    target: format!("{} v{}", p.name, p.version),
                    detail: serde_json::json!({
                        "program": p.name, "version": p.version, "sha256": p.sha256,
                        "reason": reason,
                    }),
                }),
                vec![Citation {
                    leaf_index: leaf,
                    leaf_hash: entry.leaf_hash,
                }],
            );
            let cite = append_one(store, &record)?;
            s.after_write(store)?;
            Ok(Json(Decided {
                proposal: leaf,
                record: cite.leaf_index,
                status: "rejected".into(),
                actor: principal.name,
                role: principal.role.to_string(),
            }))
        })
        .await
}
