//! How fast each loop answers, from the stored signals and the ledger's own time stamps, never
//! from what a record says of itself.
//!
//! * Feed (`loop_latency_p99`): a *load step* is a rise of the spindle load by at least
//!   [`STEP_PCT`] between the means of the [`STEP_WINDOW_MS`] before and after a sample (the
//!   largest rise of a run of such samples), that takes the load above the loop's setpoint — the
//!   `setpoint_pct` of the loop's parameter record in force, a versioned record, not a claim;
//!   for a controller that records none (an imported one), the level it is seen to regulate the
//!   load at ([`regulated_level`]); failing both, every step counts; a rise the override itself made (it rose over the same
//!   windows) is not a disturbance and does not count. The *triggering sample* is the first load sample above the
//!   setpoint (or above half the rise, without one); the *response* the first commanded override
//!   sample at least [`RESPONSE_PCT`] below the override in force at the trigger. Its latency is
//!   response − trigger; a step not answered within [`UNANSWERED_MS`] counts as that long. A step
//!   met with the override already at its lower bound needs no answer and is not counted.
//! * Wear (`compensated_before_next_part_share`): each decision that changes the program (every
//!   wear decision but a planned tool change) must have an NC program version citing it recorded
//!   before the machine's next part starts (its first sample after the decision), and where the
//!   machine records its radius wear offset, the offset in force when that part starts must be
//!   the decided one. The series ends with the loop's validation report: later parts are other
//!   work. Latency samples are decision → NC version.
//! * Scheduling: event → the record of the schedule that answers it
//!   ([`crate::schedule_evidence::schedule_latency`]).

use crate::catalog::LoopKind;
use crate::measure::{LedgerView, Measured, MAX_CITED};
use crate::signals::Signals;
use aimm_ledger::record::Evidence;
use aimm_model::{MachineId, SignalKind, SignalSeries};
use std::collections::BTreeMap;

/// Least rise of the load that makes a step, percentage points of rated load.
pub const STEP_PCT: f64 = 10.0;
/// Windows before and after a sample whose means a step compares, ms.
pub const STEP_WINDOW_MS: i64 = 20;
/// Least override decrease that counts as an answer, percentage points.
pub const RESPONSE_PCT: f64 = 1.0;
/// A step not answered within this is counted as this late, ms.
pub const UNANSWERED_MS: f64 = 1000.0;
/// A decided and a recorded wear offset agree within this, mm (the signal is kept to 0.1 µm).
pub const OFFSET_TOLERANCE_MM: f64 = 1e-4;

/// `loop_latency_p99` of `kind`.
pub fn loop_latency(kind: LoopKind, view: &LedgerView, signals: Option<&Signals>) -> Measured {
    match (kind, signals) {
        (LoopKind::Feed, Some(s)) => feed_step_latency(s).unwrap_or_else(|e| {
            Measured::unmeasured(format!("not measured: reading the signals failed: {e}"))
        }),
        (LoopKind::Feed, None) => {
            Measured::unmeasured("not measured: the evidence holds no signals".into())
        }
        (LoopKind::Schedule, _) => crate::schedule_evidence::schedule_latency(view),
        _ => {
            let decisions = view.decisions(kind).count();
            Measured::unmeasured(if decisions == 0 {
                format!("no decision of the {} loop is in the evidence", kind.name())
            } else {
                format!(
                    "not measured: this aimm cannot tell the {} loop's triggering events yet",
                    kind.name()
                )
            })
        }
    }
}

/// One load step and its answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The triggering sample's time, ns.
    pub trigger_ns: i64,
    /// Mean load before and after, %.
    pub load_before_pct: f64,
    /// Mean load after, %.
    pub load_after_pct: f64,
    /// Latency to the answer, ms; `None`: none within [`UNANSWERED_MS`].
    pub latency_ms: Option<f64>,
}

/// The feed loop's step latency over every machine recording load and commanded override.
pub fn feed_step_latency(signals: &Signals) -> Result<Measured, String> {
    let machines = signals.machines_with(
        SignalKind::SpindleLoadPct,
        SignalKind::FeedOverrideCommandedPct,
    );
    let setpoints = setpoints(signals.view());
    let mut samples = Vec::new();
    let mut evidence = Vec::new();
    let mut failures = Vec::new();
    let mut per_machine = Vec::new();
    for m in &machines {
        let load = signals.read(m, SignalKind::SpindleLoadPct)?;
        let over = signals.read(m, SignalKind::FeedOverrideCommandedPct)?;
        // A controller that logs no setpoint (a non-aimm one, imported) is held to the level it
        // is seen to regulate the load at.
        let inferred = (!setpoints.contains_key(m.as_str()))
            .then(|| regulated_level(&load.series, &over.series))
            .flatten();
        let sp = setpoints.get(m.as_str()).cloned().or_else(|| {
            inferred.map(|setpoint_pct| {
                vec![InForce {
                    from_ns: i64::MIN,
                    setpoint_pct,
                    min_override_pct: None,
                }]
            })
        });
        let steps = steps(&load.series, &over.series, sp.as_deref());
        let unanswered = steps.iter().filter(|s| s.latency_ms.is_none()).count();
        for s in &steps {
            let leaf = covering_leaf(signals.view(), m, SignalKind::SpindleLoadPct, s.trigger_ns);
            samples.push(s.latency_ms.unwrap_or(UNANSWERED_MS));
            match (s.latency_ms, leaf) {
                (None, Some(leaf)) => failures.push((
                    leaf,
                    format!(
                        "{m}: the load stepped {:.0} → {:.0} % and the override did not answer \
                         within {UNANSWERED_MS} ms",
                        s.load_before_pct, s.load_after_pct
                    ),
                )),
                (Some(_), Some(leaf)) => evidence.push(leaf),
                _ => {}
            }
        }
        per_machine.push(format!(
            "{m}: {} steps above {}{}",
            steps.len(),
            match (sp.as_ref().and_then(|s| s.last()), inferred) {
                (Some(p), Some(_)) => format!(
                    "{:.0} %, the level the override is seen to regulate the load at (no \
                     setpoint recorded)",
                    p.setpoint_pct
                ),
                (Some(p), None) => format!("the setpoint {:.0} %", p.setpoint_pct),
                (None, _) => "half their rise (no setpoint recorded or seen)".into(),
            },
            if unanswered > 0 {
                format!(", {unanswered} unanswered")
            } else {
                String::new()
            }
        ));
    }
    evidence.dedup();
    evidence.truncate(MAX_CITED);
    failures.truncate(MAX_CITED);
    let value = percentile(&samples, 0.99);
    Ok(Measured {
        value,
        reason: if machines.is_empty() {
            "no machine records both the spindle load and a commanded feed override".into()
        } else if samples.is_empty() {
            format!("no load step to answer: {}", per_machine.join("; "))
        } else {
            format!(
                "p50 {:.0} ms, p99 {:.0} ms over {} load steps ({})",
                percentile(&samples, 0.5).unwrap_or(0.0),
                value.unwrap_or(0.0),
                samples.len(),
                per_machine.join("; ")
            )
        },
        evidence,
        failures,
        samples,
    })
}

/// The feed loop's parameters in force from a time on, as its parameter record states them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InForce {
    /// From when, ns.
    pub from_ns: i64,
    /// The load setpoint, %.
    pub setpoint_pct: f64,
    /// The lowest override the loop may command, % (its bounds).
    pub min_override_pct: Option<f64>,
}

/// Per machine, the loop's setpoints over time, from its parameter records.
fn setpoints(view: &LedgerView) -> BTreeMap<String, Vec<InForce>> {
    let mut out: BTreeMap<String, Vec<InForce>> = BTreeMap::new();
    for (_, r) in view.records() {
        let Evidence::ControlParameterChange(p) = &r.evidence else {
            continue;
        };
        if !LoopKind::Feed
            .record_names()
            .contains(&p.loop_name.as_str())
        {
            continue;
        }
        let (Some(machine), Some(sp)) = (
            p.parameter.strip_suffix("/params"),
            p.new.get("setpoint_pct").and_then(|v| v.as_f64()),
        ) else {
            continue;
        };
        out.entry(machine.to_string()).or_default().push(InForce {
            from_ns: r.t_ns,
            setpoint_pct: sp,
            min_override_pct: p.bounds.get("min_override_pct").and_then(|v| v.as_f64()),
        });
    }
    for v in out.values_mut() {
        v.sort_by_key(|p| p.from_ns);
    }
    out
}

/// Grid step on which a regulated level is read, ns (as the closed-loop test's grid).
const LEVEL_GRID_NS: i64 = 20_000_000;
/// Grid points of regulation a level needs to be read (2 s).
const LEVEL_MIN_POINTS: usize = 100;

/// The load level a controller is seen to hold while it regulates: the median load at the
/// points where its override is changing and is below the highest it commands (not saturated).
/// `None` when it regulates for under [`LEVEL_MIN_POINTS`] grid points.
pub fn regulated_level(load: &SignalSeries, over: &SignalSeries) -> Option<f64> {
    let top = over.values.iter().copied().fold(f64::MIN, f64::max);
    let (t0, t1) = (*over.t_ns.first()?, *over.t_ns.last()?);
    let mut levels: Vec<f64> = (1..(t1 - t0) / LEVEL_GRID_NS)
        .filter_map(|k| {
            let t = t0 + k * LEVEL_GRID_NS;
            let (now, before) = (value_at(over, t)?, value_at(over, t - LEVEL_GRID_NS)?);
            (now != before && now < top - RESPONSE_PCT)
                .then(|| value_at(load, t))
                .flatten()
        })
        .collect();
    if levels.len() < LEVEL_MIN_POINTS {
        return None;
    }
    levels.sort_by(f64::total_cmp);
    Some(levels[levels.len() / 2])
}

/// The load steps of one machine and their answers (see the module doc), under the parameters
/// `in_force` (none: every step counts, and the lowest override seen is the lower bound).
pub fn steps(load: &SignalSeries, over: &SignalSeries, in_force: Option<&[InForce]>) -> Vec<Step> {
    let lowest_seen = over.values.iter().copied().fold(f64::MAX, f64::min);
    let (t, v) = (&load.t_ns, &load.values);
    let w = STEP_WINDOW_MS * 1_000_000;
    // Prefix sums: the mean over any time window in O(1) once its ends are found.
    let mut sum = vec![0.0; v.len() + 1];
    for (i, x) in v.iter().enumerate() {
        sum[i + 1] = sum[i] + x;
    }
    let mean = |a: usize, b: usize| (b > a).then(|| (sum[b] - sum[a]) / (b - a) as f64);
    let (mut lo, mut hi) = (0usize, 0usize);
    let rises: Vec<Option<(f64, f64)>> = (0..v.len())
        .map(|i| {
            while t[lo] < t[i] - w {
                lo += 1;
            }
            while hi < v.len() && t[hi] < t[i] + w {
                hi += 1;
            }
            Some((mean(lo, i)?, mean(i, hi)?))
        })
        .collect();
    let params_at =
        |ns: i64| in_force.and_then(|s| s.iter().take_while(|p| p.from_ns <= ns).last());
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let is_step = |i: usize| rises[i].is_some_and(|(a, b)| b - a >= STEP_PCT);
        if !is_step(i) {
            i += 1;
            continue;
        }
        // The largest rise of this run of step samples.
        let mut best = i;
        let mut j = i;
        while j < v.len() && is_step(j) {
            let rise = |k: usize| rises[k].map_or(0.0, |(a, b)| b - a);
            if rise(j) > rise(best) {
                best = j;
            }
            j += 1;
        }
        let (before, after) = rises[best].expect("a step sample has both means");
        // A rise the override itself made (it rose over the same windows) is the loop's or the
        // operator's doing, not a disturbance to answer.
        let self_made = value_at(over, t[best] + w)
            .zip(value_at(over, t[best] - w))
            .is_some_and(|(after, before)| after > before + RESPONSE_PCT);
        if self_made {
            i = j;
            continue;
        }
        let params = params_at(t[best]);
        let sp = params.map(|p| p.setpoint_pct);
        let min_override = params
            .and_then(|p| p.min_override_pct)
            .unwrap_or(lowest_seen);
        i = j;
        if sp.is_some_and(|sp| after <= sp) {
            continue;
        }
        let threshold = sp.unwrap_or(before + (after - before) / 2.0);
        let Some(trigger) = (lo_index(t, t[best] - w)..v.len()).find(|&k| v[k] > threshold) else {
            continue;
        };
        let trigger_ns = t[trigger];
        let Some(o0) = value_at(over, trigger_ns) else {
            continue;
        };
        if o0 <= min_override + RESPONSE_PCT {
            continue;
        }
        let start = lo_index(&over.t_ns, trigger_ns);
        let latency_ms = (start..over.t_ns.len())
            .take_while(|&k| ((over.t_ns[k] - trigger_ns) as f64) * 1e-6 <= UNANSWERED_MS)
            .find(|&k| over.values[k] <= o0 - RESPONSE_PCT)
            .map(|k| (over.t_ns[k] - trigger_ns) as f64 * 1e-6);
        out.push(Step {
            trigger_ns,
            load_before_pct: before,
            load_after_pct: after,
            latency_ms,
        });
    }
    out
}

/// The first index whose time is at or after `ns`.
fn lo_index(t: &[i64], ns: i64) -> usize {
    t.partition_point(|&x| x < ns)
}

/// The latest sample of `s` at or before `ns`.
fn value_at(s: &SignalSeries, ns: i64) -> Option<f64> {
    let k = s.t_ns.partition_point(|&x| x <= ns);
    k.checked_sub(1).map(|k| s.values[k])
}

/// The leaf of the `signal` segment of `machine` covering `ns`.
fn covering_leaf(
    view: &LedgerView,
    machine: &MachineId,
    signal: SignalKind,
    ns: i64,
) -> Option<u64> {
    view.segment_records()
        .find(|(_, s)| {
            s.machine == machine.as_str()
                && s.signal == signal.name()
                && s.t_first_ns <= ns
                && ns <= s.t_last_ns
        })
        .map(|(i, _)| i)
}

/// The nearest-rank quantile `q` of `x` (the largest value for q = 0.99 under 100 values).
pub fn percentile(x: &[f64], q: f64) -> Option<f64> {
    if x.is_empty() {
        return None;
    }
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    Some(s[rank - 1])
}

/// `compensated_before_next_part_share` (see the module doc).
pub fn compensated_before_next_part(view: &LedgerView, signals: Option<&Signals>) -> Measured {
    // NC program versions by the decision they cite.
    let mut versions: BTreeMap<u64, (u64, i64)> = BTreeMap::new();
    for (i, r) in view.records() {
        if let Evidence::NcProgram(_) = r.evidence {
            for c in &r.cites {
                versions.entry(c.leaf_index).or_insert((i, r.t_ns));
            }
        }
    }
    // Per machine, the start times of its segments, to find the next part's first sample.
    let mut starts: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (_, s) in view.segment_records() {
        starts.entry(&s.machine).or_default().push(s.t_first_ns);
    }
    for v in starts.values_mut() {
        v.sort_unstable();
    }
    // Per machine, its planned tool changes: a decision a change supersedes before the next
    // part has nothing to take effect on (the new tool starts from its own offset).
    let mut changes: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (_, r, a) in view.decisions(LoopKind::Wear) {
        if a.command.get("decision").and_then(|d| d.as_str()) == Some("tool_change") {
            changes.entry(&a.machine).or_default().push(r.t_ns);
        }
    }
    // The loop's series ends with its validation report: a part the machine makes after it is
    // other work (another program), not the part a decision was for.
    let series_end = view
        .records()
        .filter(|(_, r)| {
            matches!(&r.evidence, Evidence::ValidationReport(v)
                if LoopKind::Wear.record_names().contains(&v.loop_name.as_str()))
        })
        .map(|(_, r)| r.t_ns)
        .max()
        .unwrap_or(i64::MAX);
    let mut offsets: BTreeMap<String, Option<SignalSeries>> = BTreeMap::new();
    let (mut checked, mut good, mut samples) = (0usize, Vec::new(), Vec::new());
    let mut failures = Vec::new();
    let mut last_part = 0usize;
    for (i, r, a) in view.decisions(LoopKind::Wear) {
        if a.command.get("decision").and_then(|d| d.as_str()) == Some("tool_change") {
            continue;
        }
        let next_start = starts
            .get(a.machine.as_str())
            .and_then(|s| s.get(s.partition_point(|&x| x <= r.t_ns)).copied());
        let superseded = |next: i64| {
            changes
                .get(a.machine.as_str())
                .is_some_and(|c| c.iter().any(|&t| t > r.t_ns && t <= next))
        };
        let Some(next_start) = next_start.filter(|&n| !superseded(n) && n <= series_end) else {
            // Decided after the machine's last recorded part of the series, or a tool change
            // came first: nothing to take effect on.
            last_part += 1;
            continue;
        };
        checked += 1;
        let verdict = match versions.get(&i) {
            None => Err("no NC program version cites this decision".to_string()),
            Some(&(_, t)) if t > next_start => Err(format!(
                "its NC program version was recorded {:.3} s after the next part started",
                (t - next_start) as f64 * 1e-9
            )),
            Some(&(_, t)) => {
                samples.push((t - r.t_ns) as f64 * 1e-6);
                offset_check(signals, &mut offsets, &a.machine, &a.command, next_start)
            }
        };
        match verdict {
            Ok(()) => good.push(i),
            Err(why) => failures.push((i, why)),
        }
    }
    let failed = failures.len();
    failures.truncate(MAX_CITED);
    Measured {
        value: (checked > 0).then(|| 100.0 * good.len() as f64 / checked as f64),
        reason: if checked == 0 {
            "no wear decision with a later part is in the evidence".into()
        } else {
            format!(
                "{} of {checked} wear decisions were in force (NC version recorded{}) before the \
                 next part started; {failed} not{}",
                good.len(),
                if signals.is_some() {
                    ", offset seen on the machine"
                } else {
                    ""
                },
                if last_part > 0 {
                    format!("; {last_part} decided after the last part or before a tool change")
                } else {
                    String::new()
                }
            )
        },
        evidence: good.into_iter().take(MAX_CITED).collect(),
        failures,
        samples,
    }
}

/// Where the machine records its radius wear offset: the offset in force at `next_start` equals
/// the decided one.
fn offset_check(
    signals: Option<&Signals>,
    cache: &mut BTreeMap<String, Option<SignalSeries>>,
    machine: &str,
    command: &serde_json::Value,
    next_start: i64,
) -> Result<(), String> {
    let (Some(signals), Some(decided)) =
        (signals, command.get("offset_mm").and_then(|v| v.as_f64()))
    else {
        return Ok(());
    };
    let series = cache.entry(machine.to_string()).or_insert_with(|| {
        let m = MachineId::new(machine);
        signals
            .pairs()
            .contains(&(
                machine.to_string(),
                SignalKind::ToolRadiusWearOffsetMm.name().into(),
            ))
            .then(|| signals.read(&m, SignalKind::ToolRadiusWearOffsetMm).ok())
            .flatten()
            .map(|r| r.series)
    });
    let Some(series) = series else {
        return Ok(());
    };
    match value_at(series, next_start) {
        Some(v) if (v - decided).abs() <= OFFSET_TOLERANCE_MM => Ok(()),
        Some(v) => Err(format!(
            "the machine started the next part with a wear offset of {v} mm, not the decided {decided} mm"
        )),
        None => Err("the machine recorded no wear offset when the next part started".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(kind: SignalKind, values: &[f64]) -> SignalSeries {
        SignalSeries {
            machine: MachineId::new("mill-1"),
            signal: kind,
            t_ns: (0..values.len() as i64).map(|k| k * 2_000_000).collect(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn a_step_above_the_setpoint_is_timed_to_the_first_override_decrease() {
        // 2 ms samples: the load steps 60 → 120 % at 1 s; the override answers 8 ms later.
        let load: Vec<f64> = (0..1000)
            .map(|k| if k < 500 { 60.0 } else { 120.0 })
            .collect();
        let over: Vec<f64> = (0..1000)
            .map(|k| if k < 504 { 150.0 } else { 140.0 })
            .collect();
        let (l, o) = (
            series(SignalKind::SpindleLoadPct, &load),
            series(SignalKind::FeedOverrideCommandedPct, &over),
        );
        let params = |setpoint_pct, min| {
            [InForce {
                from_ns: 0,
                setpoint_pct,
                min_override_pct: Some(min),
            }]
        };
        let s = steps(&l, &o, Some(&params(100.0, 10.0)));
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].latency_ms, Some(8.0));
        // Below the setpoint the loop need not answer.
        assert!(steps(&l, &o, Some(&params(130.0, 10.0))).is_empty());
        // An override that never moves leaves the step unanswered, setpoint recorded or not.
        let flat = series(SignalKind::FeedOverrideCommandedPct, &[150.0; 1000]);
        assert_eq!(
            steps(&l, &flat, Some(&params(100.0, 10.0)))[0].latency_ms,
            None
        );
        // At its lower bound it cannot answer, and is not asked to.
        assert!(steps(&l, &flat, Some(&params(100.0, 150.0))).is_empty());
        // Without a setpoint every step counts, timed from half its rise.
        assert_eq!(steps(&l, &o, None)[0].latency_ms, Some(8.0));
        // A rise the override made is not a disturbance.
        let raised: Vec<f64> = (0..1000)
            .map(|k| if k < 500 { 100.0 } else { 200.0 })
            .collect();
        let raised = series(SignalKind::FeedOverrideCommandedPct, &raised);
        assert!(steps(&l, &raised, Some(&params(100.0, 10.0))).is_empty());
    }

    #[test]
    fn the_regulated_level_is_read_where_the_override_moves_below_its_top() {
        // 8 s at 2 ms: saturated at 200 % with a light load, then regulating a load of ~80 %.
        let n = 4000;
        let over: Vec<f64> = (0..n)
            .map(|k| {
                if k < n / 2 {
                    200.0
                } else {
                    120.0 + (k % 7) as f64
                }
            })
            .collect();
        let load: Vec<f64> = (0..n)
            .map(|k| {
                if k < n / 2 {
                    40.0
                } else {
                    80.0 + (k % 5) as f64 - 2.0
                }
            })
            .collect();
        let (l, o) = (
            series(SignalKind::SpindleLoadPct, &load),
            series(SignalKind::FeedOverrideCommandedPct, &over),
        );
        let level = regulated_level(&l, &o).unwrap();
        assert!((level - 80.0).abs() <= 2.0, "{level}");
        // An override that never moves shows no regulated level.
        let flat = series(SignalKind::FeedOverrideCommandedPct, &vec![150.0; n]);
        assert_eq!(regulated_level(&l, &flat), None);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&x, 0.5), Some(5.0));
        assert_eq!(percentile(&x, 0.99), Some(10.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
