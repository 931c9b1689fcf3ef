//! The closed loops and their parameters, as the ledger holds them: per loop, the machines it
//! commanded (how often, the latest command) and every parameter in force (its value, bounds,
//! who set it and in what role, and the record).

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use aimm_ledger::record::Evidence;
use aimm_model::Permission;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_loops))
}

/// A parameter in force.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Parameter {
    /// Its name, e.g. `mill-1/params` or `setpoint/…/T1`.
    pub name: String,
    /// The value in force.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    /// The bounds the loop states for it.
    #[schema(value_type = Object)]
    pub bounds: serde_json::Value,
    /// Who set it: a user, a decision, a configuration.
    pub actor: String,
    /// The role a user set it in, when a user did.
    pub role: Option<String>,
    /// The `control_parameter_change` record.
    pub leaf: u64,
    /// When, UTC ns.
    pub t_ns: i64,
}

/// What one loop commanded on one machine.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Commands {
    /// The machine.
    pub machine: String,
    /// Commands sent (`control_action` records).
    pub actions: u64,
    /// The latest one.
    pub last_leaf: u64,
}

/// A closed loop.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoopItem {
    /// Its name in the ledger: `adaptive_feed`, `wear`, `learn`, `schedule`, …
    pub name: String,
    /// The machines it commanded.
    pub machines: Vec<Commands>,
    /// Its parameters in force.
    pub parameters: Vec<Parameter>,
}

/// Every loop in the ledger with the machines it commanded and its parameters in force.
#[utoipa::path(get, path = "/api/loops", tag = "loops",
    responses((status = 200, body = Vec<LoopItem>), (status = 403, body = ErrorBody)))]
async fn list_loops(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<LoopItem>>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(|index, store| {
            let mut loops: BTreeMap<String, LoopItem> = BTreeMap::new();
            for ((name, machine), leaves) in &index.actions {
                entry(&mut loops, name).machines.push(Commands {
                    machine: machine.clone(),
                    actions: leaves.len() as u64,
                    last_leaf: *leaves.last().expect("an entry has a leaf"),
                });
            }
            for ((name, parameter), &leaf) in &index.parameters {
                let record = store.ledger_record(leaf)?.record;
                let Evidence::ControlParameterChange(c) = record.evidence else {
                    continue;
                };
                entry(&mut loops, name).parameters.push(Parameter {
                    name: parameter.clone(),
                    value: c.new,
                    bounds: c.bounds,
                    actor: c.actor,
                    role: c.role,
                    leaf,
                    t_ns: record.t_ns,
                });
            }
            Ok(Json(loops.into_values().collect()))
        })
        .await
}

/// The loop `name` in `loops`, added empty if missing.
fn entry<'a>(loops: &'a mut BTreeMap<String, LoopItem>, name: &str) -> &'a mut LoopItem {
    loops.entry(name.to_string()).or_insert_with(|| LoopItem {
        name: name.to_string(),
        machines: Vec::new(),
        parameters: Vec::new(),
    })
}
