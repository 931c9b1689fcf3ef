//! Signals for plots: any time range of a stored signal, reduced to at most `points` buckets
//! (min, max, mean, last per bucket) by the store, which answers wide ranges from per-segment
//! overviews instead of decoding every sample.

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::state::AppState;
use aimm_model::{Permission, SignalKind};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(signal_range))
}

/// Most points a plot may ask for.
pub const MAX_POINTS: usize = 10_000;

/// Which part of the signal, at what resolution.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct RangeQuery {
    /// Start, UTC ns (inclusive); default: the signal's first sample.
    pub from_ns: Option<i64>,
    /// End, UTC ns (exclusive); default: just after the signal's last sample.
    pub to_ns: Option<i64>,
    /// At most this many points (default 1000, at most 10000).
    pub points: Option<usize>,
}

/// A signal over a range, for a plot: columns of equal length, one entry per bucket (or per
/// sample when the range holds no more samples than points).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignalRange {
    /// Machine.
    pub machine: String,
    /// Signal name.
    pub signal: String,
    /// Its unit.
    pub unit: String,
    /// The range answered, UTC ns.
    pub from_ns: i64,
    /// End of the range, UTC ns (exclusive).
    pub to_ns: i64,
    /// Bucket width, ns (0: the points are the raw samples).
    pub bucket_ns: i64,
    /// Samples in the range in all.
    pub samples: u64,
    /// Bucket start (or sample) times, UTC ns.
    pub t_ns: Vec<i64>,
    /// Smallest value per bucket.
    pub min: Vec<f64>,
    /// Largest value per bucket.
    pub max: Vec<f64>,
    /// Mean per bucket.
    pub mean: Vec<f64>,
    /// Last value per bucket.
    pub last: Vec<f64>,
}

/// A signal over a time range, downsampled for a plot.
#[utoipa::path(get, path = "/api/machines/{machine}/signals/{signal}", tag = "signals",
    params(("machine" = String, Path, description = "Machine id"),
        ("signal" = String, Path, description = "Signal, e.g. spindle_load_pct"), RangeQuery),
    responses((status = 200, body = SignalRange), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn signal_range(
    State(state): State<AppState>,
    principal: Principal,
    Path((machine, signal)): Path<(String, String)>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<SignalRange>, ApiError> {
    principal.require(Permission::Read)?;
    let kind = SignalKind::from_name(&signal).map_err(|e| ApiError::NotFound(e.to_string()))?;
    let points = q.points.unwrap_or(1000);
    if points == 0 || points > MAX_POINTS {
        return Err(ApiError::BadRequest(format!(
            "points {points} is out of range: 1 to {MAX_POINTS}"
        )));
    }
    state
        .with_store(move |store| {
            let spec = super::machines::find_machine(store, &machine)?;
            let summary = store
                .signals(Some(&spec.id))?
                .into_iter()
                .find(|s| s.signal == kind)
                .ok_or_else(|| {
                    ApiError::NotFound(format!("machine '{machine}' has no {signal} data"))
                })?;
            let from = q.from_ns.unwrap_or(summary.t_first_ns);
            let to = q.to_ns.unwrap_or(summary.t_last_ns.saturating_add(1));
            if to <= from {
                return Err(ApiError::BadRequest(format!(
                    "to_ns {to} must be after from_ns {from}"
                )));
            }
            let d = store.read_downsampled(&spec.id, kind, from, to, points)?;
            Ok(Json(SignalRange {
                machine: machine.clone(),
                signal: signal.clone(),
                unit: kind.unit().to_string(),
                from_ns: from,
                to_ns: to,
                bucket_ns: d.bucket_ns,
                samples: d.samples,
                t_ns: d.points.iter().map(|b| b.t_ns).collect(),
                min: d.points.iter().map(|b| b.min).collect(),
                max: d.points.iter().map(|b| b.max).collect(),
                mean: d.points.iter().map(|b| b.mean).collect(),
                last: d.points.iter().map(|b| b.last).collect(),
            }))
        })
        .await
}
