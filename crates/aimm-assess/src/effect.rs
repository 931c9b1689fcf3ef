//! What a loop's validation report claims, held against what its machines' recorded segments
//! show (`effect_over_baseline`, `validated_loops_share`).
//!
//! A part is a run of a machine's spindle-load segments with no gap longer than [`PART_GAP_S`]
//! (parts are separated by loading and unloading); its cycle time is that run's span.
//!
//! * Feed: each case of a feed validation report names its program by SHA-256; the machines whose
//!   feed-loop decisions cite that program's `nc_program` record ran it with the loop, and their
//!   parts' median cycle time is the loop's figure, recomputed. A claimed loop cycle time more
//!   than [`CLAIM_TOLERANCE_PCT`] off it is contradicted. The effect is the cycle time saved
//!   against the best safe constant override, summed over the cases with recorded runs. Where
//!   the report names the machine a part at that override was recorded on (one the loop never
//!   acted on), the baseline is recomputed from its segments too and a claim off it is
//!   contradicted; otherwise it is the report's figure, and the reason says so.
//! * Wear: the parts and planned tool changes a wear report claims must be the parts the wear
//!   machines' segments show up to the report and the tool changes their decisions record; the effect is the good
//!   parts per tool with the loop (those parts over the tools the decisions used) against the
//!   best fixed tool-change count the report states (simulated, said so). Part inspection results
//!   are not evidence yet, so the in-tolerance count is the report's, and the reason says so.
//! * Scheduling: the schedule the report cites is rebuilt from its record and set against EDD
//!   dispatch recomputed in the same model; the cell's recorded power against the cap; a loop
//!   whose schedules no command carries out is contradicted ([`crate::schedule_evidence`]).
//! * Self-learning: no such loop in aimm yet; judged when its decisions exist.

use crate::catalog::LoopKind;
use crate::measure::{LedgerView, Measured, MAX_CITED};
use crate::signals::Signals;
use crate::{learn_evidence, schedule_evidence};
use aimm_ledger::record::{Evidence, ValidationReport};
use aimm_model::SignalKind;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A pause longer than this between two segments of a machine ends a part, s.
pub const PART_GAP_S: f64 = 1.0;
/// A claimed figure this far off the recorded one is contradicted, %.
pub const CLAIM_TOLERANCE_PCT: f64 = 2.0;

/// The parts of `machine` as its spindle-load segments show them: `(start, end)` ns.
pub fn part_spans(view: &LedgerView, machine: &str) -> Vec<(i64, i64)> {
    let mut segs: Vec<(i64, i64)> = view
        .segment_records()
        .filter(|(_, s)| s.machine == machine && s.signal == SignalKind::SpindleLoadPct.name())
        .map(|(_, s)| (s.t_first_ns, s.t_last_ns))
        .collect();
    segs.sort_unstable();
    let mut parts: Vec<(i64, i64)> = Vec::new();
    for (a, b) in segs {
        match parts.last_mut() {
            Some(last) if (a - last.1) as f64 * 1e-9 <= PART_GAP_S => last.1 = last.1.max(b),
            _ => parts.push((a, b)),
        }
    }
    parts
}

/// One report checked.
struct Checked {
    leaf: u64,
    /// Baseline and loop figures (same unit) it contributes to the effect.
    effect: Option<(f64, f64)>,
    /// What was recomputed, in words.
    what: String,
    /// Contradictions found.
    contradictions: Vec<String>,
}

/// The loop's validation reports, each checked against the segments.
fn check_reports(kind: LoopKind, view: &LedgerView, signals: Option<&Signals>) -> Vec<Checked> {
    view.records()
        .filter_map(|(i, r)| match &r.evidence {
            Evidence::ValidationReport(v)
                if kind.record_names().contains(&v.loop_name.as_str()) =>
            {
                Some((i, v))
            }
            _ => None,
        })
        .map(|(i, v)| match kind {
            LoopKind::Feed => check_feed(view, i, v),
            LoopKind::Wear => check_wear(view, i, v),
            LoopKind::Schedule => {
                let c = schedule_evidence::check_report(view, signals, i, v);
                Checked {
                    leaf: i,
                    effect: c.effect,
                    what: c.what,
                    contradictions: c.contradictions,
                }
            }
            LoopKind::Learn => {
                let c = learn_evidence::check_report(view, signals, v);
                Checked {
                    leaf: i,
                    effect: c.effect,
                    what: c.what,
                    contradictions: c.contradictions,
                }
            }
        })
        .collect()
}

fn check_feed(view: &LedgerView, leaf: u64, v: &ValidationReport) -> Checked {
    // Program digest → the machines whose feed decisions cite that program's record.
    let mut program_leaves: BTreeMap<[u8; 32], BTreeSet<u64>> = BTreeMap::new();
    for (i, r) in view.records() {
        if let Evidence::NcProgram(p) = &r.evidence {
            program_leaves.entry(p.sha256).or_default().insert(i);
        }
    }
    let mut machines_citing: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
    let mut looped_machines: BTreeSet<&str> = BTreeSet::new();
    for (_, r, a) in view.decisions(LoopKind::Feed) {
        looped_machines.insert(&a.machine);
        for c in &r.cites {
            machines_citing
                .entry(c.leaf_index)
                .or_default()
                .insert(&a.machine);
        }
    }
    let (mut baseline, mut with_loop, mut cases, mut baselines_recorded) = (0.0, 0.0, 0, 0);
    let mut contradictions = Vec::new();
    for (name, f) in &v.figures {
        let sha = f
            .get("program_sha256")
            .and_then(Value::as_str)
            .and_then(|h| <[u8; 32]>::try_from(hex::decode(h).ok()?).ok());
        let (Some(sha), Some(claimed), Some(best)) = (
            sha,
            f.get("cycle_time_adaptive_s").and_then(Value::as_f64),
            f.get("cycle_time_best_constant_s").and_then(Value::as_f64),
        ) else {
            continue;
        };
        let machines: BTreeSet<&str> = program_leaves
            .get(&sha)
            .into_iter()
            .flatten()
            .filter_map(|l| machines_citing.get(l))
            .flatten()
            .copied()
            .collect();
        let Some((measured, parts)) = median_cycle_s(view, machines.iter().copied()) else {
            continue;
        };
        if (claimed - measured).abs() > CLAIM_TOLERANCE_PCT / 100.0 * measured {
            contradictions.push(format!(
                "case {name:?} claims {claimed:.2} s with the loop; its {parts} recorded parts \
                 took {measured:.2} s (median)"
            ));
        }
        // The baseline, from the machine its part at the best constant override was recorded
        // on, if it was; a machine the loop acted on is no baseline.
        let recorded = f.get("best_constant_recorded_on").and_then(Value::as_str);
        let base = match recorded {
            Some(m) if looped_machines.contains(m) => {
                contradictions.push(format!(
                    "case {name:?} names {m} as its constant-override baseline, but the loop \
                     acted on {m}"
                ));
                best
            }
            Some(m) => match median_cycle_s(view, [m].into_iter()) {
                Some((recomputed, n)) => {
                    if (best - recomputed).abs() > CLAIM_TOLERANCE_PCT / 100.0 * recomputed {
                        contradictions.push(format!(
                            "case {name:?} claims {best:.2} s at the best constant override; \
                             its {n} recorded parts on {m} took {recomputed:.2} s (median)"
                        ));
                    }
                    baselines_recorded += 1;
                    recomputed
                }
                None => {
                    contradictions.push(format!(
                        "case {name:?} names {m} as its constant-override baseline, which \
                         recorded no part"
                    ));
                    best
                }
            },
            None => best,
        };
        baseline += base;
        with_loop += measured;
        cases += 1;
    }
    Checked {
        leaf,
        effect: (cases > 0).then_some((baseline, with_loop)),
        what: format!(
            "{cases} of {} cases ran on recorded machines: their cycle time with the loop \
             recomputed from the segments; the best safe constant override's recomputed from a \
             recorded part for {baselines_recorded} of them, as the report states it for the \
             rest",
            v.figures.len()
        ),
        contradictions,
    }
}

/// The median cycle time of the parts `machines` recorded, s, and how many there were.
fn median_cycle_s<'a>(
    view: &LedgerView,
    machines: impl Iterator<Item = &'a str>,
) -> Option<(f64, usize)> {
    let mut times: Vec<f64> = machines
        .flat_map(|m| part_spans(view, m))
        .map(|(a, b)| (b - a) as f64 * 1e-9)
        .collect();
    times.sort_by(f64::total_cmp);
    (!times.is_empty()).then(|| (times[times.len() / 2], times.len()))
}

fn check_wear(view: &LedgerView, leaf: u64, v: &ValidationReport) -> Checked {
    let mut machines = BTreeSet::new();
    let mut changes = 0;
    for (_, _, a) in view.decisions(LoopKind::Wear) {
        machines.insert(a.machine.as_str());
        if a.command.get("decision").and_then(Value::as_str) == Some("tool_change") {
            changes += 1;
        }
    }
    // A report claims the parts made before it: a machine goes on to other work after the
    // loop's series (the energy-scheduled cell's parts on mill-4 in the demo).
    let written = view.entry(leaf).map_or(i64::MAX, |e| e.record.t_ns);
    let parts: usize = machines
        .iter()
        .map(|m| {
            part_spans(view, m)
                .iter()
                .filter(|p| p.0 <= written)
                .count()
        })
        .sum();
    let get = |k: &str| v.figures.get(k).and_then(Value::as_f64);
    let mut contradictions = Vec::new();
    if let Some(claimed) = get("parts") {
        if claimed != parts as f64 {
            contradictions.push(format!(
                "claims {claimed} parts; the wear machines' segments show {parts}"
            ));
        }
    }
    if let Some(claimed) = v.figures.get("tool_changes").and_then(Value::as_array) {
        if claimed.len() != changes {
            contradictions.push(format!(
                "claims {} planned tool changes; the loop's decisions record {changes}",
                claimed.len()
            ));
        }
    }
    // Good parts per tool: the loop's recomputed from the segments' parts and the decisions'
    // tool changes, against the best fixed tool-change count.
    let effect = match (
        get("fixed_parts_per_tool"),
        get("out_of_tolerance_with_loop"),
    ) {
        (Some(fixed), Some(bad)) if parts > 0 && fixed > 0.0 => {
            Some((fixed, (parts as f64 - bad) / (changes + 1) as f64))
        }
        _ => None,
    };
    let baseline = match get("fixed_parts_per_tool") {
        Some(fixed) => format!(
            "against the best fixed tool-change count, {fixed} parts per tool, as the report \
             states it (simulated without the loop)"
        ),
        None => "the report gives no fixed tool-change count to hold it against".into(),
    };
    Checked {
        leaf,
        effect,
        what: format!(
            "{parts} parts recomputed from the segments and {changes} tool changes from the \
             decisions, good parts per tool {baseline}; parts in tolerance as the report states \
             them (no part inspection is in the evidence)"
        ),
        contradictions,
    }
}

/// `effect_over_baseline` of `kind`: the gain, % of the baseline (cycle time saved for feed; good
/// parts per tool gained for wear), over the reports not contradicted by the segments.
pub fn effect_over_baseline(
    kind: LoopKind,
    view: &LedgerView,
    signals: Option<&Signals>,
) -> Measured {
    let checked = check_reports(kind, view, signals);
    if checked.is_empty() {
        return Measured::unmeasured(format!(
            "no validation report of the {} loop is in the evidence",
            kind.name()
        ));
    }
    let failures: Vec<(u64, String)> = checked
        .iter()
        .flat_map(|c| c.contradictions.iter().map(|why| (c.leaf, why.clone())))
        .take(MAX_CITED)
        .collect();
    let (base, with): (f64, f64) = checked
        .iter()
        .filter_map(|c| c.effect)
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let whats: Vec<String> = checked
        .iter()
        .map(|c| format!("leaf {}: {}", c.leaf, c.what))
        .collect();
    let value = if !failures.is_empty() {
        // A contradicted claim shows no gain, whatever it says.
        Some(0.0)
    } else if base > 0.0 {
        Some(match kind {
            // Cycle time saved; energy cost saved; cost per part saved.
            LoopKind::Feed | LoopKind::Schedule | LoopKind::Learn => 100.0 * (base - with) / base,
            // Good parts per tool gained.
            _ => 100.0 * (with - base) / base,
        })
    } else {
        None
    };
    Measured {
        value,
        reason: match value {
            None => format!(
                "no report's figures could be recomputed ({})",
                whats.join("; ")
            ),
            Some(_) if !failures.is_empty() => format!(
                "the segments contradict the report: {}",
                failures
                    .iter()
                    .map(|f| f.1.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Some(v) => format!("{v:+.1} % against the baseline ({})", whats.join("; ")),
        },
        evidence: checked.iter().map(|c| c.leaf).take(MAX_CITED).collect(),
        failures,
        samples: Vec::new(),
    }
}

/// `validated_loops_share`: of the loops with decisions in the evidence, the share with a passed
/// validation report that the segments do not contradict, %.
pub fn validated_loops_share(view: &LedgerView, signals: Option<&Signals>) -> Measured {
    let mut acting = Vec::new();
    for kind in LoopKind::ALL {
        if view.decisions(kind).next().is_some() {
            acting.push(kind);
        }
    }
    let mut good = Vec::new();
    let mut failures = Vec::new();
    let mut validated = 0;
    for &kind in &acting {
        let checked = check_reports(kind, view, signals);
        let passed: Vec<&Checked> = checked
            .iter()
            .filter(|c| {
                matches!(view.entry(c.leaf).map(|e| &e.record.evidence),
                    Some(Evidence::ValidationReport(v)) if v.passed)
            })
            .collect();
        let contradicted: Vec<&Checked> = checked
            .iter()
            .filter(|c| !c.contradictions.is_empty())
            .collect();
        match (passed.first(), contradicted.first()) {
            (_, Some(c)) => failures.push((
                c.leaf,
                format!("{} loop: {}", kind.name(), c.contradictions.join("; ")),
            )),
            (Some(c), None) => {
                validated += 1;
                good.push(c.leaf);
            }
            (None, None) => {
                // Cite the loop's first decision: it is what went unvalidated.
                if let Some((i, _, _)) = view.decisions(kind).next() {
                    failures.push((
                        i,
                        format!(
                            "the {} loop acts but no passed validation report covers it",
                            kind.name()
                        ),
                    ));
                }
            }
        }
    }
    Measured {
        value: (!acting.is_empty()).then(|| 100.0 * validated as f64 / acting.len() as f64),
        reason: if acting.is_empty() {
            "no loop's decision is in the evidence".into()
        } else {
            format!(
                "{validated} of {} acting loops ({}) have a passed validation report the segments \
                 do not contradict",
                acting.len(),
                acting
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        evidence: good,
        failures,
        samples: Vec::new(),
    }
}
