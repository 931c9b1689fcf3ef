//! The process-parameter learning loop judged from its evidence (issue 16), not from what its
//! report claims:
//!
//! * Effect: the cost per part is recomputed from the learners' `model_training` records (each
//!   carries its problem — limits, costs — and every part's parameters and measurements): the
//!   first part, made with the CAM program's parameters, is the baseline; the last part the
//!   loop's result. It is contradicted when a recorded part violated a constraint of its own
//!   problem, when the spindle-load segments of the parts the models cite show the spindle
//!   above its rating beyond the sensor's noise, when the report's costs are not the
//!   recomputed ones, or when no `control_action` released any proposal to a machine: a
//!   learner that only advises is no closed loop.
//! * Actionability: the loop's proposals (`nc_program` versions its models derived) that a
//!   release (`control_action` of the loop) put on a machine.

use crate::measure::{LedgerView, Measured, MAX_CITED};
use crate::signals::Signals;
use aimm_ledger::record::{Evidence, ValidationReport};
use aimm_loops::learn::evidence::{
    learner_data_of, part_costs, release_of, LearnerData, PROPOSAL_WHY,
};
use aimm_model::{MachineId, SignalKind};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Spindle load above this, %, in a part's recorded segment is beyond its rating and the
/// sensor's noise (σ 0.3 % + 2 % of the reading: 100 % reads up to ≈ 107 % at 3σ).
const LOAD_CONTRADICTION_PCT: f64 = 110.0;
/// A claimed cost this far off the recomputed one is contradicted, relative.
const COST_TOLERANCE: f64 = 1e-6;

/// What checking a learning report found.
pub struct LearnCheck {
    /// The CAM parameters' cost per part and the loop's, recomputed.
    pub effect: Option<(f64, f64)>,
    /// What was recomputed, in words.
    pub what: String,
    /// Contradictions found.
    pub contradictions: Vec<String>,
}

/// The latest learner data of every tool of program `name`, with the leaves of all its model
/// versions.
fn learners<'v>(view: &'v LedgerView, name: &str) -> (BTreeMap<&'v str, LearnerData>, Vec<u64>) {
    let mut latest = BTreeMap::new();
    let mut leaves = Vec::new();
    for (i, r) in view.records() {
        if let Some((kind, data)) = learner_data_of(name, r) {
            latest.insert(kind, data);
            leaves.push(i);
        }
    }
    (latest, leaves)
}

/// The loop's proposals (leaf, program name) and the leaves of the proposals a release of the
/// loop cites.
fn proposals(view: &LedgerView) -> (Vec<(u64, &str)>, BTreeSet<u64>) {
    let mut proposed = Vec::new();
    let mut released = BTreeSet::new();
    for (i, r) in view.records() {
        match &r.evidence {
            Evidence::NcProgram(p) if p.why.starts_with(PROPOSAL_WHY) => {
                proposed.push((i, p.name.as_str()))
            }
            _ if release_of(r).is_some() => released.extend(r.cites.iter().map(|c| c.leaf_index)),
            _ => {}
        }
    }
    (proposed, released)
}

/// `actionability_share` of the learning loop: proposals released to a machine, %.
pub fn actionability_share(view: &LedgerView) -> Measured {
    let (proposed, released) = proposals(view);
    let (done, not): (Vec<u64>, Vec<u64>) = proposed
        .iter()
        .map(|(i, _)| *i)
        .partition(|i| released.contains(i));
    Measured {
        value: (!proposed.is_empty()).then(|| 100.0 * done.len() as f64 / proposed.len() as f64),
        reason: if proposed.is_empty() {
            "no decision of the learn loop (a proposed program version) is in the evidence".into()
        } else if done.is_empty() {
            format!(
                "the loop only advises: none of its {} proposals was released to a machine",
                proposed.len()
            )
        } else {
            format!(
                "{} of {} proposals of the learn loop were released to a machine",
                done.len(),
                proposed.len()
            )
        },
        evidence: done.into_iter().take(MAX_CITED).collect(),
        failures: not
            .into_iter()
            .take(MAX_CITED)
            .map(|i| {
                (
                    i,
                    "no release (control_action of the learn loop) cites this proposal".to_string(),
                )
            })
            .collect(),
        samples: Vec::new(),
    }
}

/// Checks a learning loop's validation report (see the module documentation).
pub fn check_report(
    view: &LedgerView,
    signals: Option<&Signals>,
    v: &ValidationReport,
) -> LearnCheck {
    let fail = |why: String| LearnCheck {
        effect: None,
        what: why,
        contradictions: Vec::new(),
    };
    let Some(name) = v.figures.get("program").and_then(Value::as_str) else {
        return fail("the report names no program".into());
    };
    let (learners, model_leaves) = learners(view, name);
    let costs = part_costs(
        learners
            .values()
            .map(|d| (d.observations.as_slice(), &d.problem.costs)),
    );
    let (Some(&first), Some(&last)) = (costs.first(), costs.last()) else {
        return fail(format!("no learner of program {name} recorded a part"));
    };
    let mut contradictions = Vec::new();
    let (proposed, released) = proposals(view);
    let ours: Vec<u64> = proposed
        .iter()
        .filter(|(_, n)| *n == name)
        .map(|(i, _)| *i)
        .collect();
    if !ours.iter().any(|i| released.contains(i)) {
        contradictions.push(format!(
            "the loop only advises: none of program {name}'s {} proposals was released to a machine",
            ours.len()
        ));
    }
    for d in learners.values() {
        for (k, o) in d.observations.iter().enumerate() {
            let violated = o.measured.violated(&d.problem.limits);
            if !violated.is_empty() {
                let names: Vec<&str> = violated.iter().map(|c| c.name()).collect();
                contradictions.push(format!(
                    "part {} on T{}: measured beyond its limits: {}",
                    k + 1,
                    d.tool,
                    names.join(", ")
                ));
            }
        }
    }
    for (key, claimed) in [("cost_start", first), ("cost_final", last)] {
        if let Some(c) = v.figures.get(key).and_then(Value::as_f64) {
            if (c - claimed).abs() > COST_TOLERANCE * claimed.abs().max(1.0) {
                contradictions.push(format!(
                    "the report claims {key} {c:.4}; its models' parts cost {claimed:.4}"
                ));
            }
        }
    }
    if let (Some(s), Some(machine)) = (signals, v.figures.get("machine").and_then(Value::as_str)) {
        match peak_load_of_cited_parts(view, s, &MachineId::new(machine), &model_leaves) {
            Ok(peak) if peak > LOAD_CONTRADICTION_PCT => contradictions.push(format!(
                "the spindle load of a part the models learned from reached {peak:.0} % on {machine}: above its rating"
            )),
            Ok(_) => {}
            Err(e) => contradictions.push(e),
        }
    }
    LearnCheck {
        effect: Some((first, last)),
        what: format!(
            "program {name}: cost per part {first:.3} with the CAM parameters, {last:.3} after {} parts, \
             recomputed from {} learners' records",
            costs.len(),
            learners.len()
        ),
        contradictions,
    }
}

/// The highest spindle load in the segments the models cite, %.
fn peak_load_of_cited_parts(
    view: &LedgerView,
    signals: &Signals,
    machine: &MachineId,
    models: &[u64],
) -> Result<f64, String> {
    let cited: BTreeSet<u64> = models
        .iter()
        .filter_map(|i| view.entry(*i))
        .flat_map(|e| e.record.cites.iter().map(|c| c.leaf_index))
        .collect();
    let spans: Vec<(i64, i64)> = view
        .segment_records()
        .filter(|(i, s)| cited.contains(i) && s.machine == machine.as_str())
        .map(|(_, s)| (s.t_first_ns, s.t_last_ns))
        .collect();
    let read = signals.read(machine, SignalKind::SpindleLoadPct)?;
    Ok(read
        .series
        .t_ns
        .iter()
        .zip(&read.series.values)
        .filter(|(t, _)| spans.iter().any(|(a, b)| (*a..=*b).contains(*t)))
        .map(|(_, v)| *v)
        .fold(0.0, f64::max))
}
