//! The scheduling loop judged from its evidence (issue 15), never from what its reports claim:
//!
//! * Effect: the schedule a validation report cites is rebuilt from its `schedule` record (the
//!   record carries its whole model), evaluated again, and set against EDD dispatch computed
//!   here in the same model: the gain is EDD's energy cost saved. It is contradicted when the
//!   plan is later (weighted tardiness) than EDD, above the cap in its own model, when the
//!   cell's machine-power segments over the plan show the cell above the cap (one-second means
//!   summed over its machines), when the report's planned cost is not the recomputed one, or
//!   when no `control_action` carries any of the cell's schedules out: a scheduler that only
//!   advises is no closed loop.
//! * Latency: a schedule that answers an event (its trigger is not `initial`) is in force
//!   [`schedule_latencies`] after the event: its record's time minus the trigger's time
//!   (`epoch_ns + at_s`), or the cited event record's time when that is later.

use crate::measure::{LedgerView, Measured, MAX_CITED};
use crate::schedule_cell::cell_power;
use crate::signals::Signals;
use aimm_ledger::record::{Evidence, ScheduleRecord, ValidationReport};
use aimm_loops::schedule::cell::{ModelJson, NamedModel};
use aimm_loops::schedule::dispatch::{dispatch, Rule};
use aimm_loops::schedule::timetable::{Schedule, ScheduledOp};
use aimm_model::{MachineId, SignalKind};
use serde_json::Value;

/// A claimed cost this far off the recomputed one is contradicted, relative.
const COST_TOLERANCE: f64 = 1e-6;
/// Tolerance on the cap, kW (rounding of sums).
const EPS_KW: f64 = 1e-9;
/// Nanoseconds per second.
const NS: i64 = 1_000_000_000;

/// A schedule record's plan rebuilt: the model and the schedule, validated.
pub fn rebuild(s: &ScheduleRecord) -> Result<(NamedModel, Schedule), String> {
    let json: ModelJson = serde_json::from_value(s.model.clone())
        .map_err(|e| format!("its model is not aimm's model JSON: {e}"))?;
    let cell = NamedModel::from_json(&json)?;
    let mut ops = Vec::new();
    for op in &s.operations {
        let name = |k: &str| op.get(k).and_then(Value::as_str).unwrap_or_default();
        let int = |k: &str| op.get(k).and_then(Value::as_i64);
        let (Some(j), Some(m), Some(o @ 1..), Some(start), Some(end)) = (
            cell.jobs.iter().position(|x| x == name("job")),
            cell.machines.iter().position(|x| x == name("machine")),
            int("op"),
            int("start_s"),
            int("end_s"),
        ) else {
            return Err(format!(
                "operation {op} names no job, machine or time of its model"
            ));
        };
        ops.push((
            j,
            o as usize - 1,
            ScheduledOp {
                machine: m,
                start,
                end,
            },
        ));
    }
    let schedule = Schedule::from_ops(cell.model.instance(), ops)?;
    Ok((cell, schedule))
}

/// What checking a schedule report found.
pub struct ScheduleCheck {
    /// EDD's cost and the plan's, recomputed.
    pub effect: Option<(f64, f64)>,
    /// What was recomputed, in words.
    pub what: String,
    /// Contradictions found.
    pub contradictions: Vec<String>,
}

/// The schedule records of `cell`, by leaf.
fn schedules<'v>(view: &'v LedgerView, cell: &str) -> Vec<(u64, &'v ScheduleRecord)> {
    view.records()
        .filter_map(|(i, r)| match &r.evidence {
            Evidence::Schedule(s) if s.cell == cell => Some((i, s)),
            _ => None,
        })
        .collect()
}

/// Checks a scheduling loop's validation report (see the module documentation).
pub fn check_report(
    view: &LedgerView,
    signals: Option<&Signals>,
    leaf: u64,
    v: &ValidationReport,
) -> ScheduleCheck {
    let fail = |why: String| ScheduleCheck {
        effect: None,
        what: why,
        contradictions: Vec::new(),
    };
    let Some(cell) = v.figures.get("cell").and_then(Value::as_str) else {
        return fail("the report names no cell".into());
    };
    let all = schedules(view, cell);
    let Some(&(schedule_leaf, record)) = view.entry(leaf).and_then(|e| {
        e.record
            .cites
            .iter()
            .find_map(|c| all.iter().find(|(i, _)| *i == c.leaf_index))
    }) else {
        return fail(format!("the report cites no schedule of cell {cell:?}"));
    };
    let (model, schedule) = match rebuild(record) {
        Ok(x) => x,
        Err(e) => return fail(format!("schedule leaf {schedule_leaf}: {e}")),
    };
    let plan = match model.model.evaluate(&schedule) {
        Ok(e) => e,
        Err(e) => return fail(format!("schedule leaf {schedule_leaf} is not valid: {e}")),
    };
    let edd = model
        .model
        .evaluate(&dispatch(&model.model, Rule::Edd))
        .expect("dispatch is valid by construction");
    let mut contradictions = Vec::new();
    let leaves: Vec<u64> = all.iter().map(|(i, _)| *i).collect();
    let acted = view
        .decisions(crate::catalog::LoopKind::Schedule)
        .filter(|(_, r, _)| r.cites.iter().any(|c| leaves.contains(&c.leaf_index)))
        .count();
    if acted == 0 {
        contradictions.push(format!(
            "the loop only advises: no control action carries any of cell {cell:?}'s {} \
             schedules out",
            all.len()
        ));
    }
    let (p, e) = (&plan.objectives, &edd.objectives);
    if p.weighted_tardiness_s > e.weighted_tardiness_s + 1e-9 {
        contradictions.push(format!(
            "the plan is later than EDD: weighted tardiness {:.0} s against {:.0} s",
            p.weighted_tardiness_s, e.weighted_tardiness_s
        ));
    }
    let cap = model.model.spec().cap_kw;
    if let Some(step) = plan.over_cap {
        contradictions.push(format!(
            "the plan draws {:.2} kW over [{}, {}) s, above its {cap} kW cap",
            step.power_kw, step.start_s, step.end_s
        ));
    }
    let claimed = v
        .figures
        .get("plan")
        .and_then(|p| p.get("cost"))
        .and_then(Value::as_f64);
    if let Some(c) = claimed {
        if (c - p.cost).abs() > COST_TOLERANCE * p.cost.abs().max(1.0) {
            contradictions.push(format!(
                "the report claims a planned cost of {c:.4}; its schedule costs {:.4}",
                p.cost
            ));
        }
    }
    let realised = signals.map(|s| {
        realised_peak_kw(
            s,
            &model.machines,
            (record.epoch_ns, record.epoch_ns + (p.makespan_s + 1) * NS),
        )
    });
    let power = match realised {
        Some(Ok(peak)) => {
            if peak > cap + EPS_KW {
                contradictions.push(format!(
                    "the cell's recorded power reached {peak:.2} kW, above the {cap} kW cap"
                ));
            }
            format!("recorded peak {peak:.2} kW against the {cap} kW cap")
        }
        Some(Err(e)) => {
            contradictions.push(format!("the cell's power cannot be read: {e}"));
            String::new()
        }
        None => "no signals to check the cap against".into(),
    };
    ScheduleCheck {
        effect: Some((e.cost, p.cost)),
        what: format!(
            "schedule leaf {schedule_leaf} re-evaluated: cost {:.2} against EDD's {:.2} (recomputed) \
             at weighted tardiness {:.0} s (EDD {:.0} s); {power}; {acted} commands carried the \
             cell's schedules out",
            p.cost, e.cost, p.weighted_tardiness_s, e.weighted_tardiness_s
        ),
        contradictions,
    }
}

/// Highest one-second mean of the summed machine power of `machines` over `[from, to)` ns.
fn realised_peak_kw(
    signals: &Signals,
    machines: &[String],
    (from, to): (i64, i64),
) -> Result<f64, String> {
    let reads = machines
        .iter()
        .map(|m| signals.read(&MachineId::new(m.as_str()), SignalKind::MachinePowerKw))
        .collect::<Result<Vec<_>, _>>()?;
    let samples = reads.iter().map(|r| {
        r.series
            .t_ns
            .iter()
            .copied()
            .zip(r.series.values.iter().copied())
            .filter(|(t, _)| (from..to).contains(t))
    });
    Ok(cell_power(samples).into_values().fold(0.0, f64::max))
}

/// Per schedule answering an event: (schedule leaf, latency ms).
pub fn schedule_latencies(view: &LedgerView) -> Vec<(u64, f64)> {
    view.records()
        .filter_map(|(i, r)| match &r.evidence {
            Evidence::Schedule(s) => Some((i, r, s)),
            _ => None,
        })
        .filter(|(_, _, s)| s.trigger.get("kind").and_then(Value::as_str) != Some("initial"))
        .filter_map(|(i, r, s)| {
            let at_s = s.trigger.get("at_s").and_then(Value::as_i64)?;
            let cited = r
                .cites
                .iter()
                .filter_map(|c| view.entry(c.leaf_index))
                .filter(|e| !matches!(e.record.evidence, Evidence::Schedule(_)))
                .map(|e| e.record.t_ns)
                .max();
            let event_ns = (s.epoch_ns + at_s * NS).max(cited.unwrap_or(i64::MIN));
            Some((i, (r.t_ns - event_ns) as f64 / 1e6))
        })
        .collect()
}

/// `loop_latency_p99` of the scheduling loop.
pub fn schedule_latency(view: &LedgerView) -> Measured {
    let mut latencies = schedule_latencies(view);
    if latencies.is_empty() {
        return Measured::unmeasured(
            "no schedule in the evidence answers an event (breakdown, tool change, rush order, \
             overrun)"
                .into(),
        );
    }
    latencies.sort_by(|a, b| a.1.total_cmp(&b.1));
    let k = ((latencies.len() as f64 * 0.99).ceil() as usize).clamp(1, latencies.len()) - 1;
    let p99 = latencies[k].1;
    Measured {
        value: Some(p99),
        reason: format!(
            "{} new schedules answered events; p99 {p99:.0} ms from the event to the record of \
             the schedule in force (its time, or the cited event record's if later)",
            latencies.len()
        ),
        evidence: latencies.iter().map(|l| l.0).take(MAX_CITED).collect(),
        failures: Vec::new(),
        samples: latencies.iter().map(|l| l.1).collect(),
    }
}
