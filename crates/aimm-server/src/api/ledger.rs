//! The evidence ledger: records by type, one record with its inclusion proof against the latest
//! signed checkpoint, and the lineage of a record as a graph.

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use aimm_ledger::record::KINDS;
use aimm_model::Permission;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_records))
        .routes(routes!(get_record))
        .routes(routes!(record_lineage))
}

/// Which records.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct RecordQuery {
    /// Only records of this type (`sensor_segment`, `nc_program`, `model_training`,
    /// `control_parameter_change`, `control_action`, `validation_report`, `command_refused`,
    /// `schedule`, `user_action`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Only records before this leaf (for paging back); default: the end.
    pub before: Option<u64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// A record in a list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordItem {
    /// Leaf index.
    pub leaf: u64,
    /// Type.
    #[serde(rename = "type")]
    pub kind: String,
    /// When recorded, UTC ns.
    pub t_ns: i64,
    /// What it attests, in one line.
    pub summary: String,
    /// Leaves it cites.
    pub cites: Vec<u64>,
}

/// A page of records, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordPage {
    /// Leaves in the ledger.
    pub size: u64,
    /// The records.
    pub records: Vec<RecordItem>,
}

/// Ledger records, newest first.
#[utoipa::path(get, path = "/api/ledger", tag = "ledger", params(RecordQuery),
    responses((status = 200, body = RecordPage), (status = 400, body = ErrorBody)))]
async fn list_records(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<RecordQuery>,
) -> Result<Json<RecordPage>, ApiError> {
    principal.require(Permission::Read)?;
    let limit = super::Page { limit: q.limit }.limit()?;
    state
        .with_index(move |index, store| {
            let size = index.size();
            let before = q.before.unwrap_or(size).min(size);
            let leaves: Vec<u64> = match &q.kind {
                Some(kind) => {
                    let of = index.of_kind(kind).ok_or_else(|| {
                        ApiError::BadRequest(format!(
                            "type '{kind}' is not a record type; types: {}",
                            KINDS.join(", ")
                        ))
                    })?;
                    let end = of.partition_point(|&l| l < before);
                    of[end.saturating_sub(limit)..end].to_vec()
                }
                None => (before.saturating_sub(limit as u64)..before).collect(),
            };
            let mut records = Vec::with_capacity(leaves.len());
            for leaf in leaves.into_iter().rev() {
                let e = store.ledger_record(leaf)?;
                records.push(RecordItem {
                    leaf,
                    kind: e.record.evidence.kind().into(),
                    t_ns: e.record.t_ns,
                    summary: e.record.evidence.summary(),
                    cites: e.record.cites.iter().map(|c| c.leaf_index).collect(),
                });
            }
            Ok(Json(RecordPage { size, records }))
        })
        .await
}

/// One record with what a third party needs to check it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordDetail {
    /// Leaf index.
    pub leaf: u64,
    /// RFC 6962 leaf hash, hex.
    pub leaf_hash: String,
    /// The record (canonical JSON decoded).
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
    /// What it attests, in one line.
    pub summary: String,
    /// The latest signed checkpoint that covers it, if one does: its tree size and note.
    pub checkpoint_size: Option<u64>,
    /// The checkpoint's signed note.
    pub checkpoint_note: Option<String>,
    /// Inclusion proof of the leaf in that checkpoint's tree (hex hashes).
    pub inclusion_proof: Vec<String>,
    /// Records that cite this one (the latest 50).
    pub cited_by: Vec<u64>,
}

/// One ledger record, its leaf hash and its inclusion proof in the latest checkpoint.
#[utoipa::path(get, path = "/api/ledger/{leaf}", tag = "ledger",
    params(("leaf" = u64, Path, description = "Leaf index")),
    responses((status = 200, body = RecordDetail), (status = 404, body = ErrorBody)))]
async fn get_record(
    State(state): State<AppState>,
    principal: Principal,
    Path(leaf): Path<u64>,
) -> Result<Json<RecordDetail>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(move |index, store| {
            if leaf >= index.size() {
                return Err(ApiError::NotFound(format!(
                    "no leaf {leaf}: the ledger has {} leaves",
                    index.size()
                )));
            }
            let e = store.ledger_record(leaf)?;
            let checkpoint = store.latest_checkpoint()?.filter(|c| c.size > leaf);
            let proof = match &checkpoint {
                Some(c) => store.inclusion_proof(leaf, c.size)?,
                None => Vec::new(),
            };
            Ok(Json(RecordDetail {
                leaf,
                leaf_hash: hex::encode(e.leaf_hash),
                summary: e.record.evidence.summary(),
                record: serde_json::to_value(&e.record).expect("a record serialises"),
                checkpoint_size: checkpoint.as_ref().map(|c| c.size),
                checkpoint_note: checkpoint.map(|c| c.note),
                inclusion_proof: proof.iter().map(hex::encode).collect(),
                cited_by: index.cited_by(leaf, 50),
            }))
        })
        .await
}

/// How deep to follow citations.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DepthQuery {
    /// Levels of citations to follow (default 3, at most 12).
    pub depth: Option<usize>,
}

/// A node of a lineage graph.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LineageNode {
    /// Leaf index.
    pub leaf: u64,
    /// Type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Citations from the root to here, fewest.
    pub depth: usize,
    /// What it attests.
    pub summary: String,
}

/// A record's lineage: the records it was derived from, as nodes and citation edges.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LineageGraph {
    /// The record asked about.
    pub root: u64,
    /// Records reached (the root first).
    pub nodes: Vec<LineageNode>,
    /// `[citing, cited]` leaf pairs.
    pub edges: Vec<[u64; 2]>,
    /// Leaves cited just below the depth limit, not followed.
    pub not_followed: Vec<u64>,
}

/// The lineage of a record, as a graph (depth-limited).
#[utoipa::path(get, path = "/api/ledger/{leaf}/lineage", tag = "ledger",
    params(("leaf" = u64, Path, description = "Leaf index"), DepthQuery),
    responses((status = 200, body = LineageGraph), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn record_lineage(
    State(state): State<AppState>,
    principal: Principal,
    Path(leaf): Path<u64>,
    Query(q): Query<DepthQuery>,
) -> Result<Json<LineageGraph>, ApiError> {
    principal.require(Permission::Read)?;
    let depth = q.depth.unwrap_or(3);
    if depth > 12 {
        return Err(ApiError::BadRequest(format!(
            "depth {depth} is out of range: 0 to 12"
        )));
    }
    state
        .with_store(move |store| {
            let size = store.ledger_size()?;
            if leaf >= size {
                return Err(ApiError::NotFound(format!(
                    "no leaf {leaf}: the ledger has {size} leaves"
                )));
            }
            let lineage = aimm_store::evidence::lineage(store, leaf, Some(depth))
                .map_err(ApiError::Store)?;
            let mut nodes: Vec<LineageNode> = Vec::new();
            let mut edges = Vec::new();
            for step in &lineage.steps {
                let e = &step.entry;
                if !step.repeat {
                    nodes.push(LineageNode {
                        leaf: e.leaf_index,
                        kind: e.record.evidence.kind().into(),
                        depth: step.depth,
                        summary: e.record.evidence.summary(),
                    });
                    if step.depth < depth {
                        edges.extend(e.record.cites.iter().map(|c| [e.leaf_index, c.leaf_index]));
                    }
                }
            }
            Ok(Json(LineageGraph {
                root: leaf,
                nodes,
                edges,
                not_followed: lineage.not_followed.into_iter().collect(),
            }))
        })
        .await
}
