//! Schedules the scheduling loop put in force (`schedule` records): the list, and one schedule
//! with its operations per machine, the tariff and cap of the model it carries, and the cell's
//! realised power over the plan — each machine's power samples as one-second means, summed over
//! the machines, as the assessor sums them (aimm-assess `schedule_cell::cell_power`).

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::state::AppState;
use aimm_assess::schedule_cell::cell_power;
use aimm_ledger::record::{Evidence, ScheduleRecord};
use aimm_model::{MachineId, Permission, SignalKind};
use aimm_store::Store;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_schedules))
        .routes(routes!(get_schedule))
}

/// Nanoseconds per second.
const NS: i64 = 1_000_000_000;

/// A schedule in the list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScheduleItem {
    /// Its record's leaf.
    pub leaf: u64,
    /// When recorded, UTC ns.
    pub t_ns: i64,
    /// The cell.
    pub cell: String,
    /// Version in the cell, from 1.
    pub version: u32,
    /// What triggered it (`{"kind": "initial"}` or the event).
    #[schema(value_type = Object)]
    pub trigger: Value,
    /// Objective values by name.
    #[schema(value_type = Object)]
    pub objectives: serde_json::Map<String, Value>,
    /// Operations planned.
    pub operations: usize,
}

fn item(leaf: u64, t_ns: i64, s: &ScheduleRecord) -> ScheduleItem {
    ScheduleItem {
        leaf,
        t_ns,
        cell: s.cell.clone(),
        version: s.version,
        trigger: s.trigger.clone(),
        objectives: s.objectives.clone(),
        operations: s.operations.len(),
    }
}

/// Every schedule record, newest first.
#[utoipa::path(get, path = "/api/schedules", tag = "schedules",
    responses((status = 200, body = Vec<ScheduleItem>), (status = 401, body = ErrorBody)))]
async fn list_schedules(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<ScheduleItem>>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(|index, store| {
            let leaves = index.of_kind("schedule").unwrap_or(&[]);
            let mut out = Vec::with_capacity(leaves.len());
            for &leaf in leaves.iter().rev() {
                let e = store.ledger_record(leaf)?;
                if let Evidence::Schedule(s) = &e.record.evidence {
                    out.push(item(leaf, e.record.t_ns, s));
                }
            }
            Ok(Json(out))
        })
        .await
}

/// A tariff band, absolute.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Band {
    /// Start, UTC ns.
    pub start_ns: i64,
    /// End (exclusive), UTC ns.
    pub end_ns: i64,
    /// Price per kWh.
    pub price_per_kwh: f64,
}

/// One operation, absolute.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Operation {
    /// Job name.
    pub job: String,
    /// Operation number in the job, from 1.
    pub op: i64,
    /// Machine name.
    pub machine: String,
    /// Start, s from the plan's start.
    pub start_s: i64,
    /// End, s from the plan's start.
    pub end_s: i64,
    /// Start, UTC ns.
    pub start_ns: i64,
    /// End, UTC ns.
    pub end_ns: i64,
}

/// The cell's realised power, per second.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CellPower {
    /// Machines summed (those with a `machine_power_kw` signal in the plan's span).
    pub machines: Vec<String>,
    /// The signal summed.
    pub signal: String,
    /// Second starts, UTC ns.
    pub t_ns: Vec<i64>,
    /// Summed one-second means, kW.
    pub kw: Vec<f64>,
    /// The highest, kW.
    pub peak_kw: Option<f64>,
}

/// One schedule, ready to draw.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScheduleDetail {
    /// The list entry.
    #[serde(flatten)]
    pub item: ScheduleItem,
    /// The plan's time 0, UTC ns.
    pub epoch_ns: i64,
    /// The plan's end (the last operation's end), UTC ns.
    pub end_ns: i64,
    /// The machines of the model, in order.
    pub machines: Vec<String>,
    /// The operations.
    pub operations: Vec<Operation>,
    /// The tariff bands over the plan (the model's bands repeat with the last band's end as
    /// period).
    pub tariff: Vec<Band>,
    /// The plant power cap, kW.
    pub cap_kw: Option<f64>,
    /// Demand charge per kW of peak.
    pub demand_per_kw: Option<f64>,
    /// How it was computed.
    #[schema(value_type = Object)]
    pub solver: serde_json::Map<String, Value>,
    /// The cell's recorded power over the plan.
    pub power: CellPower,
    /// The leaves the record cites.
    pub cites: Vec<u64>,
}

/// One schedule: operations per machine, tariff bands, cap and the cell's realised power.
#[utoipa::path(get, path = "/api/schedules/{leaf}", tag = "schedules",
    params(("leaf" = u64, Path, description = "The schedule record's leaf")),
    responses((status = 200, body = ScheduleDetail), (status = 404, body = ErrorBody)))]
async fn get_schedule(
    State(state): State<AppState>,
    principal: Principal,
    Path(leaf): Path<u64>,
) -> Result<Json<ScheduleDetail>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(move |index, store| {
            if index.leaf(leaf).map(|l| l.0) != Some("schedule") {
                return Err(ApiError::NotFound(format!(
                    "leaf {leaf} is no schedule record; schedules: {:?}",
                    index.of_kind("schedule").unwrap_or(&[])
                )));
            }
            let e = store.ledger_record(leaf)?;
            let Evidence::Schedule(s) = &e.record.evidence else {
                return Err(ApiError::NotFound(format!(
                    "leaf {leaf} is no schedule record"
                )));
            };
            detail(
                store,
                leaf,
                e.record.t_ns,
                s,
                e.record.cites.iter().map(|c| c.leaf_index).collect(),
            )
        })
        .await
        .map(Json)
}

fn detail(
    store: &dyn Store,
    leaf: u64,
    t_ns: i64,
    s: &ScheduleRecord,
    cites: Vec<u64>,
) -> Result<ScheduleDetail, ApiError> {
    let epoch = s.epoch_ns;
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let int = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64).unwrap_or_default();
    let operations: Vec<Operation> = s
        .operations
        .iter()
        .map(|o| Operation {
            job: text(o, "job"),
            op: int(o, "op"),
            machine: text(o, "machine"),
            start_s: int(o, "start_s"),
            end_s: int(o, "end_s"),
            start_ns: epoch + int(o, "start_s") * NS,
            end_ns: epoch + int(o, "end_s") * NS,
        })
        .collect();
    let end_s = operations.iter().map(|o| o.end_s).max().unwrap_or(0);
    // Machines in the model's order; any an operation names beyond them after.
    let mut machines: Vec<String> = s
        .model
        .get("machines")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| text(m, "id"))
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for o in &operations {
        if !machines.contains(&o.machine) {
            machines.push(o.machine.clone());
        }
    }
    let tariff = bands(&s.model, epoch, end_s.max(1));
    let power = realised(store, &machines, epoch, epoch + (end_s + 1) * NS)?;
    Ok(ScheduleDetail {
        item: item(leaf, t_ns, s),
        epoch_ns: epoch,
        end_ns: epoch + end_s * NS,
        machines,
        operations,
        tariff,
        cap_kw: s.model.get("cap_kw").and_then(Value::as_f64),
        demand_per_kw: s.model.get("demand_per_kw").and_then(Value::as_f64),
        solver: s.solver.clone(),
        power,
        cites,
    })
}

/// The model's tariff bands laid over `[0, end_s)`: they repeat with the last band's end as
/// period, as the model reads them.
fn bands(model: &Value, epoch: i64, end_s: i64) -> Vec<Band> {
    let raw: Vec<(i64, i64, f64)> = model
        .get("tariff")
        .and_then(Value::as_array)
        .map(|bs| {
            bs.iter()
                .filter_map(|b| {
                    Some((
                        b.get("start_s")?.as_i64()?,
                        b.get("end_s")?.as_i64()?,
                        b.get("price_per_kwh")?.as_f64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let period = raw.iter().map(|b| b.1).max().unwrap_or(0);
    let mut out = Vec::new();
    if period <= 0 {
        return out;
    }
    let mut base = 0;
    // Bounded: a plan spans at most a few periods in practice; 10 000 bands is plenty to draw.
    while base < end_s && out.len() < 10_000 {
        for &(a, b, price) in &raw {
            if base + a < end_s {
                out.push(Band {
                    start_ns: epoch + (base + a) * NS,
                    end_ns: epoch + (base + b).min(end_s) * NS,
                    price_per_kwh: price,
                });
            }
        }
        base += period;
    }
    out
}

/// The cell's power over `[from, to)`: each machine's `machine_power_kw` samples (falling back to
/// `spindle_power_kw` for a machine recording no machine power) as one-second means, summed.
fn realised(
    store: &dyn Store,
    machines: &[String],
    from: i64,
    to: i64,
) -> Result<CellPower, ApiError> {
    let mut used = Vec::new();
    let mut reads = Vec::new();
    let mut signal = SignalKind::MachinePowerKw;
    let stored = store.signals(None)?;
    let has = |m: &str, k: SignalKind| {
        stored.iter().any(|x| {
            x.machine.as_str() == m && x.signal == k && x.t_last_ns >= from && x.t_first_ns < to
        })
    };
    if !machines
        .iter()
        .any(|m| has(m.as_str(), SignalKind::MachinePowerKw))
    {
        signal = SignalKind::SpindlePowerKw;
    }
    for m in machines {
        if !has(m.as_str(), signal) {
            continue;
        }
        let series = store.read_samples(&MachineId::new(m.as_str()), signal, from, to)?;
        used.push(m.clone());
        reads.push(
            series
                .t_ns
                .into_iter()
                .zip(series.values)
                .collect::<Vec<_>>(),
        );
    }
    let cell = cell_power(reads);
    let peak = cell
        .values()
        .copied()
        .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))));
    Ok(CellPower {
        machines: used,
        signal: signal.name().to_string(),
        t_ns: cell.keys().map(|s| s * NS).collect(),
        kw: cell.into_values().collect(),
        peak_kw: peak,
    })
}
