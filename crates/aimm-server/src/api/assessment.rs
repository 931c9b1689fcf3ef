//! The assessment of the store's evidence, as `aimm assess --db` makes it: aimm-assess judges
//! the ledger (and the sensor samples its segments attest) by the built-in criteria catalog, and
//! its report (the same JSON and self-contained HTML `aimm assess --report` writes) is served.
//!
//! Judging decodes every cited segment and takes seconds on a demo store, while the ledger only
//! grows: the report is cached per (store, ledger size) and made again only when leaves were
//! appended.

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use aimm_assess::assessment::assess;
use aimm_assess::bundle_evidence::EvidenceSource;
use aimm_assess::catalog::Catalog;
use aimm_assess::measure::LedgerView;
use aimm_assess::report::{html, Report, Source};
use aimm_assess::signals::{Signals, StoreBlobs};
use aimm_model::Permission;
use axum::extract::State;
use axum::Json;
use std::sync::{Arc, Mutex};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_assessment))
}

/// A report made, with what it was made of.
pub struct Judged {
    /// The store's location.
    db: String,
    /// Leaves judged.
    pub size: u64,
    /// The report as JSON.
    pub json: serde_json::Value,
    /// The report as one HTML page (aimm-assess's rendering).
    pub html: String,
    /// How long making it took, ms.
    pub took_ms: u64,
}

/// The latest report made (one store per server, so one entry is enough).
static CACHE: Mutex<Option<Arc<Judged>>> = Mutex::new(None);

/// The report of the store's ledger as it is now, from the cache when its size is unchanged.
pub async fn judged(state: &AppState) -> Result<Arc<Judged>, ApiError> {
    let db = state.options().db.clone();
    state
        .with_store(move |store| {
            let size = store.ledger_size()?;
            // Held while judging: two requests at once judge once.
            let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = cache.as_ref().filter(|c| c.size == size && c.db == db) {
                return Ok(c.clone());
            }
            let started = std::time::Instant::now();
            let entries = store.ledger_entries(0, size)?;
            let view = LedgerView::new(entries);
            let blobs = StoreBlobs(&*store);
            let signals = Signals::new(&view, &blobs);
            let assessment = assess(&Catalog::builtin(), &view, Some(&signals));
            let source = Source::new(
                EvidenceSource::Store {
                    location: aimm_store::redact_url(&db),
                    records: size,
                },
                &view,
            );
            let report = Report::new(assessment, &view, Some(&signals), source);
            let json = serde_json::to_value(&report)
                .map_err(|e| ApiError::Internal(format!("the report does not serialise: {e}")))?;
            let judged = Arc::new(Judged {
                db: db.clone(),
                size,
                html: html::render(&report),
                json,
                took_ms: started.elapsed().as_millis() as u64,
            });
            *cache = Some(judged.clone());
            Ok(judged)
        })
        .await
}

/// The assessment of the store's evidence: the report `aimm assess --db … --report` writes
/// (format `aimm-report/1`: source with ledger size and root, the assessment with every
/// criterion judged, the leaves each rests on, the plots' data).
#[utoipa::path(get, path = "/api/assessment", tag = "assessment",
    responses((status = 200, description = "The report (aimm-report/1)", body = Object),
        (status = 403, body = ErrorBody)))]
async fn get_assessment(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal.require(Permission::Assess)?;
    let judged = judged(&state).await?;
    let mut json = judged.json.clone();
    if let Some(o) = json.as_object_mut() {
        o.insert("took_ms".into(), judged.took_ms.into());
    }
    Ok(Json(json))
}
