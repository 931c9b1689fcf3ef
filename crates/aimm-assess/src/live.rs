//! `aimm assess --live`: conformance stimuli the assessor applies to a machine, each judged from
//! the signals it recorded and kept as a `validation_report` citing them. The machine is the
//! simulator (machine `live-1`, a part continuing its timeline per stimulus), with the feed loop
//! in charge:
//!
//! * load step: a stepped-depth slot (the deepest step overloads at the programmed feed); every
//!   step above the setpoint must be answered within the catalog's feed budget, measured by
//!   [`crate::latency::steps`] on the recorded load and commanded override;
//! * stale signal: the load stops reaching the loop for [`DROPOUT_S`] in the deep step; from the
//!   stale timeout on (plus the rate limit's travel) the commanded override must sit at the
//!   fallback, or at the command in force if that is lower (blind, the feed must not rise),
//!   until the signal returns, and the load it cannot see must stay below the overload
//!   threshold;
//! * worn tool: a titanium lug with a tool worn to VB 0.2 mm; the recorded load must never
//!   overload the spindle (the machine's overload threshold);
//! * energy event: a tariff step and a peak-power cap on a cell of three more simulated mills,
//!   which aimm's scheduling loop plans and carries out ([`energy_event`]).

use crate::catalog::Catalog;
use crate::conformance::feed::{record_loop_run, RecordLoopError, RecordedLoopRun};
use crate::faults::FaultPlan;
use crate::latency::{percentile, steps, InForce};
use crate::schedule_cell::{demo_spec, run_schedule_cell, ScheduleCellError};
use aimm_ledger::record::{Evidence, Record, ValidationReport};
use aimm_ledger::Citation;
use aimm_loops::feed::validation::{builtin_cases, FeedCase};
use aimm_loops::feed::{FeedParams, DEFAULT_ACTUATION_DELAY_MS};
use aimm_model::overload::{OverloadChange, OverloadMeter};
use aimm_model::{MachineSpec, SignalKind, SignalSeries};
use aimm_sim::PanelScript;
use aimm_store::evidence::append_one;
use aimm_store::{SegmentMeta, Store, StoreError};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The machine the stimuli run on.
pub const LIVE_MACHINE: &str = "live-1";
/// When the load signal is lost, s after the loop's first step, and for how long.
pub const DROPOUT_AT_S: f64 = 27.0;
/// How long the load signal stays lost, s.
pub const DROPOUT_S: f64 = 1.0;

/// One stimulus and its verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Stimulus {
    /// Its name, e.g. `load step`.
    pub test: String,
    /// Whether the loop passed.
    pub passed: bool,
    /// What was measured, in words.
    pub summary: String,
    /// The figures.
    pub figures: Map<String, Value>,
    /// Leaf of its `validation_report`; `None`: not applied (the summary says why), so
    /// nothing was recorded.
    pub leaf_index: Option<u64>,
}

/// Why the stimuli could not run.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// A stimulus run failed (boxed: the run's error is large beside the store's).
    #[error(transparent)]
    Run(Box<RecordLoopError>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The scheduled cell of the energy event failed (boxed: it is large).
    #[error(transparent)]
    Schedule(Box<ScheduleCellError>),
}

impl From<ScheduleCellError> for LiveError {
    fn from(e: ScheduleCellError) -> Self {
        LiveError::Schedule(Box::new(e))
    }
}

impl From<RecordLoopError> for LiveError {
    fn from(e: RecordLoopError) -> Self {
        LiveError::Run(Box::new(e))
    }
}

/// Runs every stimulus on the simulator into `store`, with the feed loop's `params`, and
/// records each outcome. `catalog` gives the feed loop's latency budget.
pub fn run_live(
    store: &mut dyn Store,
    catalog: &Catalog,
    params: &FeedParams,
    seed: u64,
) -> Result<Vec<Stimulus>, LiveError> {
    let machine = MachineSpec::vmc(LIVE_MACHINE);
    let case = |name: &str| -> FeedCase {
        builtin_cases()
            .into_iter()
            .find(|c| c.name == name)
            .expect("a built-in case")
    };
    let budget_ms = catalog.feed_latency_budget_ms();
    let tuning = (params, DEFAULT_ACTUATION_DELAY_MS);
    let in_force = [InForce {
        from_ns: i64::MIN,
        setpoint_pct: params.limit_setpoint_pct(DEFAULT_ACTUATION_DELAY_MS),
        min_override_pct: Some(params.min_override_pct),
    }];
    let mut out = Vec::new();
    // One part of `case` with the loop in charge and `faults` injected, recorded.
    let run = |store: &mut dyn Store, case: &FeedCase, faults| {
        record_loop_run(
            store,
            &machine,
            case,
            tuning,
            seed,
            (&PanelScript::default(), faults),
        )
    };

    let steps_case = case("stepped depth, steel");
    let run_steps = run(store, &steps_case, FaultPlan::default())?;
    let (load, over) = signals(store, &run_steps)?;
    let verdict = judge_load_step(&load, &over, &in_force, budget_ms);
    out.push(record(
        store,
        &run_steps.part.segments,
        "load step",
        verdict,
    )?);

    let faults = FaultPlan {
        load_dropout_s: Some((DROPOUT_AT_S, DROPOUT_AT_S + DROPOUT_S)),
        ..FaultPlan::default()
    };
    let stale = run(store, &steps_case, faults)?;
    let (load, over) = signals(store, &stale)?;
    let t0 = over.t_ns.first().copied().unwrap_or(0);
    let at = |s: f64| t0 + (s * 1e9) as i64;
    let blind = (at(DROPOUT_AT_S), at(DROPOUT_AT_S + DROPOUT_S));
    let verdict = judge_stale_signal(&load, &over, &machine, params, blind);
    out.push(record(
        store,
        &stale.part.segments,
        "stale signal",
        verdict,
    )?);

    let worn = run(
        store,
        &case("lug, titanium, worn tool"),
        FaultPlan::default(),
    )?;
    let (load, _) = signals(store, &worn)?;
    let peak = load.values.iter().copied().fold(f64::MIN, f64::max);
    let overloads = worn.part.result.overload_events;
    let verdict = Verdict {
        passed: overloads == 0,
        summary: format!(
            "a titanium lug with a tool worn to VB 0.2 mm: {overloads} spindle overloads \
             (threshold {} %), peak load {peak:.0} %",
            machine.overload_threshold_pct
        ),
        figures: json!({ "overloads": overloads, "peak_load_pct": peak,
                         "threshold_pct": machine.overload_threshold_pct }),
    };
    out.push(record(store, &worn.part.segments, "worn tool", verdict)?);

    out.push(energy_event(store, worn.part.t_end_ns + 1)?);
    Ok(out)
}

/// A stimulus judged: whether the loop passed, in words, and the figures.
pub struct Verdict {
    /// Whether the loop passed.
    pub passed: bool,
    /// What was measured, in words.
    pub summary: String,
    /// The figures, a JSON object.
    pub figures: Value,
}

/// The load step: every step of `load` above the setpoint in force must be answered by the
/// commanded override `over` within `budget_ms` (p99, measured by [`crate::latency::steps`]).
pub fn judge_load_step(
    load: &SignalSeries,
    over: &SignalSeries,
    in_force: &[InForce],
    budget_ms: f64,
) -> Verdict {
    let found = steps(load, over, Some(in_force));
    let latencies: Vec<f64> = found.iter().filter_map(|s| s.latency_ms).collect();
    let unanswered = found.len() - latencies.len();
    let p99 = percentile(&latencies, 0.99);
    Verdict {
        passed: !found.is_empty() && unanswered == 0 && p99.is_some_and(|p| p <= budget_ms),
        summary: format!(
            "{} load steps above the setpoint: {} answered, p99 {} (budget {budget_ms} ms)",
            found.len(),
            latencies.len(),
            p99.map_or("-".into(), |p| format!("{p:.0} ms"))
        ),
        figures: json!({ "steps": found.len(), "unanswered": unanswered, "p99_ms": p99,
                         "p50_ms": percentile(&latencies, 0.5), "budget_ms": budget_ms }),
    }
}

/// The stale signal: the load did not reach the loop over `blind` (from, to; ns). From the
/// stale timeout on (plus the rate limit's travel) the commanded override `over` must sit at
/// the fallback, or at the command in force if that is lower (blind, the feed must not rise),
/// and the load it could not see must not overload `machine`'s spindle.
pub fn judge_stale_signal(
    load: &SignalSeries,
    over: &SignalSeries,
    machine: &MachineSpec,
    params: &FeedParams,
    blind: (i64, i64),
) -> Verdict {
    let (from, to) = blind;
    let before = over
        .t_ns
        .iter()
        .zip(&over.values)
        .take_while(|(t, _)| **t < from)
        .last()
        .map_or(params.fallback_override_pct, |(_, v)| *v);
    let expected = params.fallback_override_pct.min(before);
    let settle_s = params.stale_timeout_ms / 1000.0
        + (before - expected).abs() / params.rate_limit_pct_per_s
        + 0.004;
    let settled = from + (settle_s * 1e9) as i64;
    let is_blind = |t: &i64| *t >= from && *t < to;
    let window: Vec<f64> = over
        .t_ns
        .iter()
        .zip(&over.values)
        .filter(|(t, _)| is_blind(t) && **t >= settled)
        .map(|(_, v)| *v)
        .collect();
    let off = window
        .iter()
        .filter(|v| (**v - expected).abs() > 1e-9)
        .count();
    // Overloads as aimm_model::overload defines them (the load meter's smoothing), begun blind.
    let mut meter = OverloadMeter::new(machine);
    let (mut blind_overloads, mut blind_peak) = (0u32, f64::MIN);
    for (k, (t, v)) in load.t_ns.iter().zip(&load.values).enumerate() {
        let dt_s = k
            .checked_sub(1)
            .map_or(0.0, |j| (t - load.t_ns[j]) as f64 * 1e-9);
        let change = meter.update(*v, dt_s);
        if is_blind(t) {
            blind_peak = blind_peak.max(meter.smoothed_pct().unwrap_or(*v));
            if matches!(change, Some(OverloadChange::Began { .. })) {
                blind_overloads += 1;
            }
        }
    }
    let threshold = machine.overload_threshold_pct;
    Verdict {
        passed: !window.is_empty() && off == 0 && blind_overloads == 0,
        summary: format!(
            "the load signal lost for {:.1} s: the override must sit at {expected:.1} % (the \
             fallback {} %, or the command in force if lower) from {:.0} ms after the loss; \
             {off} of {} commands did not; the load it could not see peaked at {blind_peak:.0} \
             % on the load meter, {blind_overloads} overloads (threshold {threshold} %)",
            (to - from) as f64 * 1e-9,
            params.fallback_override_pct,
            settle_s * 1e3,
            window.len()
        ),
        figures: json!({ "settle_ms": settle_s * 1e3, "commands": window.len(),
                         "off_fallback": off, "fallback_pct": params.fallback_override_pct,
                         "held_pct": expected, "blind_peak_load_pct": blind_peak,
                         "blind_overloads": blind_overloads, "threshold_pct": threshold }),
    }
}

/// The cell the energy event runs on.
pub const LIVE_CELL_MACHINES: [&str; 3] = ["live-2", "live-3", "live-4"];

/// The energy event: aimm's scheduling loop plans three simulated mills ([`LIVE_CELL_MACHINES`])
/// from `t_ns` on, under a tariff that steps from its evening peak to the night band 20 minutes
/// into the shift and a peak-power cap at 60 % of the mills' power, and carries the plan out on
/// the simulator. Passed when the cell's recorded power never exceeds the cap, every job's
/// realised energy is within tolerance of the plan, and the plan costs less than EDD dispatch
/// at no more weighted tardiness. The loop's own `validation_report` is the stimulus's record.
pub fn energy_event(store: &mut dyn Store, t_ns: i64) -> Result<Stimulus, LiveError> {
    let spec = demo_spec(LIVE_CELL_MACHINES, t_ns, 7, None)?;
    let o = run_schedule_cell(store, &spec, |_| {})?;
    let cheaper = o.plan_cost < o.edd_cost && o.plan_tardiness_s <= o.edd_tardiness_s;
    let summary = format!(
        "a tariff step (peak to night band) and a {:.2} kW cap on {}: recorded peak {:.2} kW;          planned cost {:.2} against EDD's {:.2} at weighted tardiness {:.0} s (EDD {:.0} s); {}",
        o.cap_kw,
        LIVE_CELL_MACHINES.join(", "),
        o.realised_peak_kw,
        o.plan_cost,
        o.edd_cost,
        o.plan_tardiness_s,
        o.edd_tardiness_s,
        if o.passed {
            "every job's energy as planned"
        } else {
            "the cell's validation failed"
        }
    );
    let figures = json!({"cap_kw": o.cap_kw, "realised_peak_kw": o.realised_peak_kw,
                         "plan_cost": o.plan_cost, "edd_cost": o.edd_cost,
                         "plan_tardiness_s": o.plan_tardiness_s, "edd_tardiness_s": o.edd_tardiness_s});
    Ok(Stimulus {
        test: "energy event".into(),
        passed: o.passed && cheaper,
        summary,
        figures: figures.as_object().cloned().unwrap_or_default(),
        leaf_index: Some(o.report.leaf_index),
    })
}

/// The recorded load and commanded override of `run`.
fn signals(
    store: &dyn Store,
    run: &RecordedLoopRun,
) -> Result<(SignalSeries, SignalSeries), StoreError> {
    let machine = &run.part.segments[0].machine;
    let (t0, t1) = run
        .part
        .segments
        .iter()
        .fold((i64::MAX, i64::MIN), |(a, b), s| {
            (a.min(s.t_first_ns), b.max(s.t_last_ns + 1))
        });
    Ok((
        store.read_samples(machine, SignalKind::SpindleLoadPct, t0, t1)?,
        store.read_samples(machine, SignalKind::FeedOverrideCommandedPct, t0, t1)?,
    ))
}

/// Records a feed stimulus's `validation_report`, citing the load and commanded-override
/// `segments` it was judged on, stamped just after the last of them.
pub fn record(
    store: &mut dyn Store,
    segments: &[SegmentMeta],
    test: &str,
    verdict: Verdict,
) -> Result<Stimulus, StoreError> {
    let mut cites: Vec<Citation> = Vec::new();
    let mut t_ns = 0;
    for s in segments {
        if matches!(
            s.signal,
            SignalKind::SpindleLoadPct | SignalKind::FeedOverrideCommandedPct
        ) {
            t_ns = t_ns.max(s.t_last_ns + 1);
            if let Some(i) = s.ledger_index {
                cites.push(Citation {
                    leaf_index: i,
                    leaf_hash: store.ledger_record(i)?.leaf_hash,
                });
            }
        }
    }
    let Verdict {
        passed,
        summary,
        figures,
    } = verdict;
    let figures = figures.as_object().cloned().unwrap_or_default();
    let report = Record::new(
        t_ns,
        Evidence::ValidationReport(ValidationReport {
            loop_name: "adaptive_feed".into(),
            test: format!("live: {test}"),
            passed,
            figures: figures.clone(),
            summary: summary.clone(),
        }),
        cites,
    );
    let leaf_index = append_one(store, &report)?.leaf_index;
    Ok(Stimulus {
        test: test.into(),
        passed,
        summary,
        figures,
        leaf_index: Some(leaf_index),
    })
}
