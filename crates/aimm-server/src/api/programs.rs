//! NC programs as the ledger versions them: every program with its versions (parent, what
//! changed and why, released or not), one version's text checked against its record's SHA-256,
//! and a line diff between two versions.

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::ledger_index::{LedgerIndex, ProgramVersion};
use crate::state::AppState;
use aimm_model::Permission;
use aimm_store::Store;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use similar::{ChangeTag, TextDiff};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_programs))
        .routes(routes!(program_version))
        .routes(routes!(program_diff))
}

/// A version in a program's list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionItem {
    /// The version as its `nc_program` record states it.
    #[serde(flatten)]
    pub version: ProgramVersion,
    /// The `control_action` that released it, if one did.
    pub released_by: Option<u64>,
    /// The `user_action` that rejected it, if one did.
    pub rejected_by: Option<u64>,
}

/// A program and its versions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgramItem {
    /// Program name.
    pub name: String,
    /// The machine it was last released to.
    pub released_to: Option<String>,
    /// Its versions, oldest first.
    pub versions: Vec<VersionItem>,
}

/// Every NC program with its versions, by name.
#[utoipa::path(get, path = "/api/programs", tag = "programs",
    responses((status = 200, body = Vec<ProgramItem>), (status = 401, body = ErrorBody)))]
async fn list_programs(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<ProgramItem>>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(|index, _| {
            let mut names: Vec<&str> = index.programs.iter().map(|p| p.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            Ok(Json(
                names
                    .into_iter()
                    .map(|name| ProgramItem {
                        name: name.to_string(),
                        released_to: index.released_to.get(name).cloned(),
                        versions: versions_of(index, name)
                            .map(|v| VersionItem {
                                released_by: index
                                    .releases
                                    .get(&(name.to_string(), v.version))
                                    .copied(),
                                rejected_by: index
                                    .rejections
                                    .get(&(name.to_string(), v.version))
                                    .copied(),
                                version: v.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
            ))
        })
        .await
}

fn versions_of<'i>(
    index: &'i LedgerIndex,
    name: &'i str,
) -> impl Iterator<Item = &'i ProgramVersion> {
    index.programs.iter().filter(move |p| p.name == name)
}

/// The version `version` of `name`, or a 404 naming what exists.
fn find_version<'i>(
    index: &'i LedgerIndex,
    name: &str,
    version: u32,
) -> Result<&'i ProgramVersion, ApiError> {
    let all: Vec<&'i ProgramVersion> = index.programs.iter().filter(|p| p.name == name).collect();
    if all.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no NC program '{name}' in the ledger"
        )));
    }
    // The latest record of a version wins, as it does for the loops reading the ledger.
    all.iter()
        .rev()
        .find(|p| p.version == version)
        .copied()
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "program '{name}' has no version {version}; versions: {}",
                all.iter()
                    .map(|p| p.version.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// The text of `v`, read by its digest and checked against it: a store whose text no longer
/// matches its record is reported, never shown as if it were the version.
fn text_of(store: &dyn Store, v: &ProgramVersion) -> Result<String, ApiError> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(&v.sha256, &mut digest)
        .map_err(|e| ApiError::Internal(format!("leaf {}: sha256 is not hex: {e}", v.leaf)))?;
    let program = store.program_by_digest(&digest)?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "the store holds no text for program '{}' v{} (sha256 {})",
            v.name, v.version, v.sha256
        ))
    })?;
    let actual = hex::encode(Sha256::digest(program.content.as_bytes()));
    if actual != v.sha256 {
        return Err(ApiError::Internal(format!(
            "program '{}' v{}: stored text has sha256 {actual}, its record (leaf {}) states {}",
            v.name, v.version, v.leaf, v.sha256
        )));
    }
    Ok(program.content)
}

/// One version's text.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionText {
    /// The version's record.
    #[serde(flatten)]
    pub version: ProgramVersion,
    /// The program text; its SHA-256 was checked against the record's.
    pub text: String,
    /// Always true: a text that does not match its record is an error instead.
    pub sha256_checked: bool,
}

/// One version of a program: its record and its text, checked against the record's SHA-256.
#[utoipa::path(get, path = "/api/programs/{name}/versions/{version}", tag = "programs",
    params(("name" = String, Path, description = "Program name"),
        ("version" = u32, Path, description = "Version, from 1")),
    responses((status = 200, body = VersionText), (status = 404, body = ErrorBody)))]
async fn program_version(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, version)): Path<(String, u32)>,
) -> Result<Json<VersionText>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(move |index, store| {
            let v = find_version(index, &name, version)?;
            let text = text_of(store, v)?;
            Ok(Json(VersionText {
                version: v.clone(),
                text,
                sha256_checked: true,
            }))
        })
        .await
}

/// Which versions to compare.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DiffQuery {
    /// The older side; default: `to`'s parent (or `to` itself when it has none).
    pub from: Option<u32>,
    /// The newer side; default: the latest version.
    pub to: Option<u32>,
}

/// One line of a hunk.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DiffLine {
    /// `context`, `added` or `removed`.
    pub op: String,
    /// Line number in `from` (1-based), if the line is there.
    pub old_line: Option<usize>,
    /// Line number in `to` (1-based), if the line is there.
    pub new_line: Option<usize>,
    /// The line, without its end.
    pub text: String,
}

/// A hunk: changed lines with three lines of context.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Hunk {
    /// Unified-diff header, e.g. `@@ -3,7 +3,8 @@`.
    pub header: String,
    /// Its lines.
    pub lines: Vec<DiffLine>,
}

/// A line diff between two versions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgramDiff {
    /// Program name.
    pub name: String,
    /// The older side.
    pub from: ProgramVersion,
    /// The newer side.
    pub to: ProgramVersion,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
    /// The hunks (none when the texts are equal).
    pub hunks: Vec<Hunk>,
}

/// A line diff between two versions of a program (default: the latest against its parent).
#[utoipa::path(get, path = "/api/programs/{name}/diff", tag = "programs",
    params(("name" = String, Path, description = "Program name"), DiffQuery),
    responses((status = 200, body = ProgramDiff), (status = 404, body = ErrorBody)))]
async fn program_diff(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Json<ProgramDiff>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(move |index, store| {
            let to = match q.to {
                Some(v) => find_version(index, &name, v)?,
                None => index.latest_program(&name).ok_or_else(|| {
                    ApiError::NotFound(format!("no NC program '{name}' in the ledger"))
                })?,
            };
            let from = match q.from.or(to.parent_version) {
                Some(v) => find_version(index, &name, v)?,
                None => to,
            };
            let (old, new) = (text_of(store, from)?, text_of(store, to)?);
            let diff = TextDiff::from_lines(&old, &new);
            let (mut added, mut removed) = (0, 0);
            let hunks = diff
                .unified_diff()
                .context_radius(3)
                .iter_hunks()
                .map(|h| Hunk {
                    header: h.header().to_string(),
                    lines: h
                        .iter_changes()
                        .map(|c| {
                            let op = match c.tag() {
                                ChangeTag::Equal => "context",
                                ChangeTag::Insert => {
                                    added += 1;
                                    "added"
                                }
                                ChangeTag::Delete => {
                                    removed += 1;
                                    "removed"
                                }
                            };
                            DiffLine {
                                op: op.into(),
                                old_line: c.old_index().map(|i| i + 1),
                                new_line: c.new_index().map(|i| i + 1),
                                text: c.value().trim_end_matches(['\n', '\r']).to_string(),
                            }
                        })
                        .collect(),
                })
                .collect();
            Ok(Json(ProgramDiff {
                name: name.clone(),
                from: from.clone(),
                to: to.clone(),
                added,
                removed,
                hunks,
            }))
        })
        .await
}
