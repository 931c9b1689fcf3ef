//! `time_only_difference_um`: does the wear loop decide from its sensors, or would a curve of
//! cutting time alone have made the same decisions?
//!
//! Each wear decision states the wear it was decided from (`inputs.prediction.estimate.wear_mm`).
//! Its tool's cutting time is recomputed from the segments: the spans of the machine's parts
//! since the tool's last planned change ([`crate::effect::part_spans`]). For every tool life, the
//! curve of cutting time alone is the other lives' predictions interpolated at the same cutting
//! time (leave one life out); the measure is the RMS difference between the predictions and that
//! curve, µm. A "model" that is a function of cutting time gives the same wear at the same time
//! in every life, so its difference is nil; one that reads the sensors follows each tool's own
//! signals and differs by their information. Whether it is also *more accurate* than the curve
//! needs the tools' measured wear, which the evidence does not hold (`aimm bench wear` measures
//! that on real data).

use crate::catalog::LoopKind;
use crate::effect::part_spans;
use crate::measure::{LedgerView, Measured, MAX_CITED};
use serde_json::Value;
use std::collections::BTreeMap;

/// Decisions a tool life needs to be compared.
const MIN_DECISIONS: usize = 3;

/// One decision: leaf, cutting time of its tool (s) and the wear it was decided from (mm).
type Point = (u64, f64, f64);

/// One decision as recorded: leaf, time (ns), and the wear it was decided from (`None`: a
/// planned tool change).
type Decision = (u64, i64, Option<f64>);

/// `time_only_difference_um` (see the module doc).
pub fn time_only_difference(view: &LedgerView) -> Measured {
    let lives = tool_lives(view);
    let comparable: Vec<&Vec<Point>> = lives.iter().filter(|l| l.len() >= MIN_DECISIONS).collect();
    if comparable.len() < 2 {
        return Measured::unmeasured(format!(
            "not measured: {} tool lives with at least {MIN_DECISIONS} wear decisions; a curve of \
             cutting time needs another life to be drawn from",
            comparable.len()
        ));
    }
    let mut diffs = Vec::new();
    let mut evidence = Vec::new();
    for (k, life) in comparable.iter().enumerate() {
        for &(leaf, t, w) in life.iter() {
            // The other lives' predictions at this cutting time, averaged where they reach it.
            let others: Vec<f64> = comparable
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .filter_map(|(_, other)| interpolate(other, t))
                .collect();
            if others.is_empty() {
                continue;
            }
            let curve = others.iter().sum::<f64>() / others.len() as f64;
            diffs.push((w - curve) * 1e3);
            evidence.push(leaf);
        }
    }
    if diffs.is_empty() {
        return Measured::unmeasured(
            "not measured: no two tool lives reach the same cutting time".into(),
        );
    }
    let rms = (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64).sqrt();
    evidence.truncate(MAX_CITED);
    Measured {
        value: Some(rms),
        reason: format!(
            "the wear decided from differs from a curve of cutting time alone (the other tool \
             lives' predictions at the same cutting time) by {rms:.2} µm RMS over {} decisions \
             of {} tool lives",
            diffs.len(),
            comparable.len()
        ),
        failures: if rms < 1e-3 {
            vec![(
                evidence[0],
                "every prediction equals the other lives' at the same cutting time: no sensor \
                 information is used"
                    .into(),
            )]
        } else {
            Vec::new()
        },
        evidence,
        samples: diffs,
    }
}

/// The wear decisions per tool life, in time order, with their tools' cutting time from the
/// segments.
fn tool_lives(view: &LedgerView) -> Vec<Vec<Point>> {
    let mut by_machine: BTreeMap<&str, Vec<Decision>> = BTreeMap::new();
    for (i, r, a) in view.decisions(LoopKind::Wear) {
        let change = a.command.get("decision").and_then(Value::as_str) == Some("tool_change");
        let wear = a
            .inputs
            .pointer("/prediction/estimate/wear_mm")
            .and_then(Value::as_f64);
        by_machine.entry(&a.machine).or_default().push((
            i,
            r.t_ns,
            if change { None } else { wear },
        ));
    }
    let mut lives = Vec::new();
    for (machine, decisions) in by_machine {
        let parts = part_spans(view, machine);
        let mut life: Vec<Point> = Vec::new();
        let mut life_start = i64::MIN;
        for (leaf, t_ns, wear) in decisions {
            let Some(wear) = wear else {
                // A planned tool change: the next part starts a new life.
                lives.push(std::mem::take(&mut life));
                life_start = t_ns;
                continue;
            };
            let cutting_s: f64 = parts
                .iter()
                .filter(|(a, b)| *a >= life_start && *b <= t_ns)
                .map(|(a, b)| (b - a) as f64 * 1e-9)
                .sum();
            life.push((leaf, cutting_s, wear));
        }
        lives.push(life);
    }
    lives
}

/// `life`'s prediction at cutting time `t` by linear interpolation, if `t` is within its span.
fn interpolate(life: &[Point], t: f64) -> Option<f64> {
    let k = life.partition_point(|p| p.1 < t);
    match (k.checked_sub(1).map(|j| life[j]), life.get(k)) {
        (_, Some(b)) if b.1 == t => Some(b.2),
        (Some(a), Some(b)) => Some(a.2 + (b.2 - a.2) * (t - a.1) / (b.1 - a.1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_stays_inside_a_life() {
        let life = vec![(0, 10.0, 0.01), (1, 20.0, 0.03)];
        assert!((interpolate(&life, 15.0).unwrap() - 0.02).abs() < 1e-12);
        assert_eq!(interpolate(&life, 20.0), Some(0.03));
        assert_eq!(interpolate(&life, 25.0), None);
        assert_eq!(interpolate(&life, 5.0), None);
    }
}
