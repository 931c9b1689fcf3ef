//! The report's plots, each computed from the evidence: latencies from the samples the
//! assessment measured, spindle load and commanded override from the sensor segments the ledger
//! attests, the wear loop's estimates and offsets from its decisions beside the offset the machine
//! reported, measured power, and the citation graph of one decision. A plot the evidence cannot
//! support carries a note saying why and no data: nothing here is made up.

use super::{Cite, Edge, Node, Plot, PlotKind, Series};
use crate::assessment::Assessment;
use crate::catalog::LoopKind;
use crate::measure::LedgerView;
use crate::schedule_cell::cell_power;
use crate::signals::Signals;
use aimm_ledger::record::{Evidence, Record};
use aimm_model::{MachineId, SignalKind};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Seconds either side of the largest load step that the load plot shows.
const STEP_WINDOW_S: f64 = 2.0;
/// Points per series of a long time plot: its samples are averaged per time bucket, so a plot
/// of hours stays readable and the page small.
const MAX_POINTS: usize = 400;
/// Records a lineage graph draws; the rest are counted in its note.
const MAX_NODES: usize = 24;
/// Leaves a plot cites when its data comes from many.
const MAX_PLOT_CITES: usize = 12;

/// Every plot of the report.
pub fn all(a: &Assessment, view: &LedgerView, signals: Option<&Signals>) -> Vec<Plot> {
    let mut plots: Vec<Plot> = a.loops.iter().map(|l| latency(l, view)).collect();
    plots.push(load_step(view, signals));
    plots.push(wear(view, signals));
    plots.push(energy(view, signals));
    plots.push(lineage(view));
    plots
}

/// The latency histogram of one loop, from the samples of its `loop_latency_p99` criterion.
pub fn latency(l: &crate::assessment::LoopAssessment, view: &LedgerView) -> Plot {
    let name = l.loop_kind.name();
    let mut plot = Plot::empty(
        &format!("latency-{name}"),
        &format!("Control latency of the {name} loop"),
        PlotKind::Histogram,
        "latency (ms)",
        "decisions",
    );
    let Some(j) = l.criteria.iter().find(|j| j.measure == "loop_latency_p99") else {
        plot.note = format!(
            "the catalog measures no loop_latency_p99 of the {name} loop (any other latency \
             criterion of it is in its table above)"
        );
        return plot;
    };
    plot.cites = cites(view, j.evidence.iter().copied());
    if j.samples.is_empty() {
        plot.note = format!("no latency to plot ({}): {}", j.id, j.reason);
        return plot;
    }
    let (x, y) = histogram(&j.samples);
    // Named per loop: a report's series names are unique (the HTML keys its points by them).
    plot.series.push(Series {
        name: format!("{name} loop decisions"),
        x,
        y,
    });
    plot.note = format!(
        "{} latencies measured for {} (threshold {}): {}",
        j.samples.len(),
        j.id,
        j.threshold,
        j.reason
    );
    plot
}

/// Equal-width bins over `samples`: bin centres and counts (about √n bins, 1 to 30).
pub fn histogram(samples: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let finite: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let bins = ((finite.len() as f64).sqrt().ceil() as usize).clamp(1, 30);
    // All samples equal: one bin of width 1 around them.
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let bins = if hi > lo { bins } else { 1 };
    let mut counts = vec![0.0; bins];
    for v in finite {
        let b = (((v - lo) / width) as usize).min(bins - 1);
        counts[b] += 1.0;
    }
    let start = if hi > lo { lo } else { lo - 0.5 };
    let centres = (0..bins)
        .map(|b| start + (b as f64 + 0.5) * width)
        .collect();
    (centres, counts)
}

/// Spindle load and the commanded feed override around the largest rise in load of any machine
/// recording both (a feed-loop machine).
pub fn load_step(view: &LedgerView, signals: Option<&Signals>) -> Plot {
    let mut plot = Plot::empty(
        "load-step",
        "Spindle load and commanded feed override at the largest load step",
        PlotKind::Lines,
        "time from the step (s)",
        "%",
    );
    let Some(signals) = signals else {
        plot.note = "no sensor data was read for this assessment".into();
        return plot;
    };
    let (load, over) = (
        SignalKind::SpindleLoadPct,
        SignalKind::FeedOverrideCommandedPct,
    );
    let machines = signals.machines_with(load, over);
    if machines.is_empty() {
        plot.note = format!(
            "no machine records both {} and {}: no feed loop in the evidence",
            load.name(),
            over.name()
        );
        return plot;
    }
    // (rise, machine, time of the step)
    let mut best: Option<(f64, MachineId, i64)> = None;
    for m in &machines {
        let read = match signals.read(m, load) {
            Ok(r) => r,
            Err(e) => {
                plot.note = format!("reading {} of {m} failed: {e}", load.name());
                return plot;
            }
        };
        let s = &read.series;
        for i in 1..s.values.len() {
            let rise = s.values[i] - s.values[i - 1];
            if best.as_ref().is_none_or(|b| rise > b.0) {
                best = Some((rise, m.clone(), s.t_ns[i]));
            }
        }
    }
    let Some((rise, machine, t_step)) = best else {
        plot.note = "the feed-loop machines' load signals hold fewer than two samples".into();
        return plot;
    };
    let half_ns = (STEP_WINDOW_S * 1e9) as i64;
    let (t0, t1) = (t_step - half_ns, t_step + half_ns);
    for kind in [load, over] {
        match signals.read(&machine, kind) {
            Ok(r) => {
                let (x, y) = r
                    .series
                    .t_ns
                    .iter()
                    .zip(&r.series.values)
                    .filter(|(t, _)| (t0..=t1).contains(*t))
                    .map(|(t, v)| ((t - t_step) as f64 / 1e9, *v))
                    .unzip();
                plot.series.push(Series {
                    name: format!("{} ({machine})", kind.name()),
                    x,
                    y,
                });
            }
            Err(e) => {
                plot.note = format!("reading {} of {machine} failed: {e}", kind.name());
                plot.series.clear();
                return plot;
            }
        }
    }
    plot.cites = cites(
        view,
        view.segment_records()
            .filter(|(_, s)| {
                s.machine == machine.as_str()
                    && (s.signal == load.name() || s.signal == over.name())
                    && s.t_first_ns <= t1
                    && s.t_last_ns >= t0
            })
            .map(|(i, _)| i),
    );
    plot.note = format!(
        "{machine}, {STEP_WINDOW_S} s either side of its largest rise in spindle load \
         (+{rise:.1} % between two samples at {}); every sample as the sensor segments hold it",
        utc(t_step)
    );
    plot
}

/// One decision of the wear loop, as its record states it.
struct WearDecision {
    leaf: u64,
    t_ns: i64,
    machine: String,
    estimate_mm: Option<f64>,
    offset_mm: Option<f64>,
    tool_change: bool,
}

fn wear_decisions(view: &LedgerView) -> Vec<WearDecision> {
    let names = LoopKind::Wear.record_names();
    view.records()
        .filter_map(|(leaf, r)| match &r.evidence {
            Evidence::ControlAction(a) if names.contains(&a.loop_name.as_str()) => {
                let num = |v: &Value, path: &[&str]| {
                    path.iter()
                        .try_fold(v, |v, k| v.get(k))
                        .and_then(Value::as_f64)
                };
                Some(WearDecision {
                    leaf,
                    t_ns: r.t_ns,
                    machine: a.machine.clone(),
                    estimate_mm: num(&a.inputs, &["prediction", "estimate", "wear_mm"]),
                    offset_mm: num(&a.command, &["offset_mm"]),
                    tool_change: a.command.get("decision").and_then(Value::as_str)
                        == Some("tool_change"),
                })
            }
            _ => None,
        })
        .collect()
}

/// The wear loop's estimated flank wear and the offsets it commanded (its decisions), and the
/// radius wear offset the machine itself reported (its sensor segments), against time.
pub fn wear(view: &LedgerView, signals: Option<&Signals>) -> Plot {
    let mut plot = Plot::empty(
        "wear",
        "Tool wear: the loop's estimate, the offsets it commanded and the machine's offset",
        PlotKind::Lines,
        "time (s)",
        "mm",
    );
    let decisions = wear_decisions(view);
    if decisions.is_empty() {
        plot.note = "no decision of the wear loop is in the evidence".into();
        return plot;
    }
    let machines: BTreeSet<&str> = decisions.iter().map(|d| d.machine.as_str()).collect();
    let mut machine_offsets = Vec::new();
    let mut segment_leaves = Vec::new();
    if let Some(signals) = signals {
        for m in &machines {
            match signals.read(&MachineId::new(*m), SignalKind::ToolRadiusWearOffsetMm) {
                Ok(r) if !r.series.t_ns.is_empty() => {
                    segment_leaves.extend(r.leaves);
                    machine_offsets.push((m.to_string(), r.series.t_ns, r.series.values));
                }
                Ok(_) => {}
                Err(e) => {
                    plot.note = format!(
                        "reading {} of {m} failed: {e}; ",
                        SignalKind::ToolRadiusWearOffsetMm.name()
                    );
                }
            }
        }
    }
    let t0 = decisions
        .iter()
        .map(|d| d.t_ns)
        .chain(
            machine_offsets
                .iter()
                .filter_map(|(_, t, _)| t.first().copied()),
        )
        .min()
        .unwrap_or(0);
    let secs = |t: i64| (t - t0) as f64 / 1e9;
    plot.x_label = format!("time since {} (s)", utc(t0));
    let series = |name: String, pick: &dyn Fn(&WearDecision) -> Option<f64>| {
        let (x, y) = decisions
            .iter()
            .filter_map(|d| pick(d).map(|v| (secs(d.t_ns), v)))
            .unzip();
        Series { name, x, y }
    };
    plot.series.push(series(
        "estimated flank wear VB (decision inputs)".into(),
        &|d| d.estimate_mm,
    ));
    plot.series.push(series(
        "radius wear offset commanded (decisions)".into(),
        &|d| d.offset_mm,
    ));
    for (m, t, v) in &machine_offsets {
        let (x, y) = t.iter().zip(v).map(|(t, v)| (secs(*t), *v)).unzip();
        plot.series.push(Series {
            name: format!("radius wear offset reported by {m} (sensor)"),
            x,
            y,
        });
    }
    plot.series.retain(|s| !s.x.is_empty());
    let actions: BTreeSet<u64> = decisions.iter().map(|d| d.leaf).collect();
    let programmed: BTreeSet<u64> = view
        .records()
        .filter(|(_, r)| matches!(r.evidence, Evidence::NcProgram(_)))
        .flat_map(|(_, r)| r.cites.iter().map(|c| c.leaf_index))
        .filter(|i| actions.contains(i))
        .collect();
    let changes: Vec<String> = decisions
        .iter()
        .filter(|d| d.tool_change)
        .map(|d| format!("{:.0} s (leaf {})", secs(d.t_ns), d.leaf))
        .collect();
    plot.note.push_str(&format!(
        "{} decisions of the wear loop on {}; {} of them cited by a new NC program version; \
         tool changes planned at: {}",
        decisions.len(),
        machines.into_iter().collect::<Vec<_>>().join(", "),
        programmed.len(),
        if changes.is_empty() {
            "none".to_string()
        } else {
            changes.join(", ")
        }
    ));
    let leaves: Vec<u64> = decisions.iter().map(|d| d.leaf).collect();
    plot.cites = cites(
        view,
        spread(&leaves, MAX_PLOT_CITES / 2)
            .into_iter()
            .chain(spread(&segment_leaves, MAX_PLOT_CITES / 2)),
    );
    plot
}

/// Measured electrical power of every machine against time, for the energy loop; with a
/// scheduling loop in the evidence, also its cell's power (one-second means summed over the
/// machines of the latest schedule) against the plant's cap that schedule kept.
pub fn energy(view: &LedgerView, signals: Option<&Signals>) -> Plot {
    let kind = SignalKind::MachinePowerKw;
    let mut plot = Plot::empty(
        "energy",
        "Energy: measured machine power (no tariff, power cap or schedule in the evidence)",
        PlotKind::Lines,
        "time (s)",
        "kW",
    );
    let scheduled = view.records().any(|(_, r)| match &r.evidence {
        Evidence::ControlAction(a) => LoopKind::Schedule
            .record_names()
            .contains(&a.loop_name.as_str()),
        _ => false,
    });
    let schedule = view
        .records()
        .filter_map(|(i, r)| match &r.evidence {
            Evidence::Schedule(s) => Some((i, s)),
            _ => None,
        })
        .last();
    let no_schedule = match (scheduled, schedule) {
        (true, Some(_)) => "",
        (true, None) => "the scheduling loop's decisions cite no schedule record",
        _ => "no scheduling loop in the evidence: no tariff, power cap or schedule to plot against",
    };
    let Some(signals) = signals else {
        plot.note = format!("no sensor data was read for this assessment; {no_schedule}");
        return plot;
    };
    let recording: BTreeSet<String> = view
        .segment_records()
        .filter(|(_, s)| s.signal == kind.name())
        .map(|(_, s)| s.machine.clone())
        .collect();
    // The cell is the machines its loops command; a machine no loop commands (e.g. the runs a
    // model was trained on) would stretch the time axis over data of no production.
    let commanded: BTreeSet<String> = view
        .records()
        .filter_map(|(_, r)| match &r.evidence {
            Evidence::ControlAction(a) => Some(a.machine.clone()),
            _ => None,
        })
        .collect();
    let (machines, left_out): (BTreeSet<String>, BTreeSet<String>) = if commanded.is_empty() {
        (recording, BTreeSet::new())
    } else {
        recording.into_iter().partition(|m| commanded.contains(m))
    };
    let left_out = if left_out.is_empty() {
        String::new()
    } else {
        format!(
            "; left out, as no loop commands them: {}",
            left_out.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    let mut reads = Vec::new();
    let mut leaves = Vec::new();
    for m in machines {
        match signals.read(&MachineId::new(&m), kind) {
            Ok(r) => {
                leaves.extend(spread(&r.leaves, 2));
                reads.push((m, r.series.t_ns, r.series.values));
            }
            Err(e) => {
                plot.note = format!("reading {} of {m} failed: {e}; {no_schedule}", kind.name());
                return plot;
            }
        }
    }
    let Some(t0) = reads
        .iter()
        .filter_map(|(_, t, _)| t.first().copied())
        .min()
    else {
        plot.note = format!("no machine records {}; {no_schedule}", kind.name());
        return plot;
    };
    plot.x_label = format!("time since {} (s)", utc(t0));
    for (m, t, v) in &reads {
        let (x, y) = bucket_means(t, v, t0, MAX_POINTS);
        plot.series.push(Series {
            name: format!("{} ({m})", kind.name()),
            x,
            y,
        });
    }
    let mut on_schedule = no_schedule.to_string();
    if let Some((leaf, s)) = schedule {
        let cap = s
            .model
            .get("cap_kw")
            .and_then(|c| c.as_f64())
            .unwrap_or(f64::NAN);
        let cell: BTreeSet<&str> = s
            .model
            .get("machines")
            .and_then(|m| m.as_array())
            .into_iter()
            .flatten()
            .filter_map(|m| m.get("id").and_then(|i| i.as_str()))
            .collect();
        let per_second = cell_power(
            reads
                .iter()
                .filter(|(m, _, _)| cell.contains(m.as_str()))
                .map(|(_, t, v)| {
                    t.iter()
                        .copied()
                        .zip(v.iter().copied())
                        .filter(|(t, _)| *t >= s.epoch_ns)
                }),
        );
        if let (Some(&first), Some(&last)) = (per_second.keys().next(), per_second.keys().last()) {
            let t: Vec<i64> = per_second.keys().map(|s| s * 1_000_000_000).collect();
            let v: Vec<f64> = per_second.values().copied().collect();
            let (x, y) = bucket_means(&t, &v, t0, MAX_POINTS);
            plot.series.push(Series {
                name: format!(
                    "cell power ({})",
                    cell.iter().copied().collect::<Vec<_>>().join(", ")
                ),
                x,
                y,
            });
            let span = |sec: i64| (sec * 1_000_000_000 - t0) as f64 / 1e9;
            plot.series.push(Series {
                name: "plant power cap".into(),
                x: vec![span(first), span(last)],
                y: vec![cap, cap],
            });
        }
        plot.title = "Energy: machine power, and the scheduled cell's power against the cap".into();
        on_schedule = format!(
            "the cell {} of schedule v{} (leaf {leaf}), summed per second, against its {cap} kW \
             cap; tariff bands from the plan's start: {}",
            s.cell,
            s.version,
            s.model
                .get("tariff")
                .and_then(|t| t.as_array())
                .into_iter()
                .flatten()
                .map(|b| format!(
                    "[{}, {}) s at {}",
                    b["start_s"], b["end_s"], b["price_per_kwh"]
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        leaves.push(leaf);
    }
    plot.note = format!(
        "{} of the {} machine(s) the loops command, the mean of each of at most {MAX_POINTS} \
         equal time buckets{left_out}; {on_schedule}",
        kind.name(),
        reads.len()
    );
    plot.cites = cites(view, leaves.into_iter().take(MAX_PLOT_CITES));
    plot
}

/// `values` at `t_ns` averaged over at most `max` equal time buckets: (bucket mean time in s
/// since `t0`, mean value). Series of at most `max` samples are kept as they are.
pub fn bucket_means(t_ns: &[i64], values: &[f64], t0: i64, max: usize) -> (Vec<f64>, Vec<f64>) {
    let secs = |t: i64| (t - t0) as f64 / 1e9;
    if t_ns.len() <= max {
        return t_ns.iter().zip(values).map(|(t, v)| (secs(*t), *v)).unzip();
    }
    let (first, last) = (t_ns[0], t_ns[t_ns.len() - 1]);
    let span = (last - first).max(1) as f64;
    let mut sums = vec![(0.0, 0.0, 0usize); max];
    for (t, v) in t_ns.iter().zip(values) {
        let b = ((((t - first) as f64) / span * max as f64) as usize).min(max - 1);
        sums[b].0 += secs(*t);
        sums[b].1 += v;
        sums[b].2 += 1;
    }
    sums.into_iter()
        .filter(|s| s.2 > 0)
        .map(|(t, v, n)| (t / n as f64, v / n as f64))
        .unzip()
}

/// The citation graph of one decision: the latest control action that a later record cites (a
/// decision that became something, e.g. an NC program version), else the latest one; the
/// records it rests on, nearest first, and the records citing it.
pub fn lineage(view: &LedgerView) -> Plot {
    let mut plot = Plot::empty(
        "lineage",
        "Lineage of one decision",
        PlotKind::Graph,
        "",
        "",
    );
    let mut cited_by: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (i, r) in view.records() {
        for c in &r.cites {
            cited_by.entry(c.leaf_index).or_default().push(i);
        }
    }
    let actions: Vec<u64> = view
        .records()
        .filter(|(_, r)| matches!(r.evidence, Evidence::ControlAction(_)))
        .map(|(i, _)| i)
        .collect();
    let Some(&decision) = actions
        .iter()
        .rev()
        .find(|i| cited_by.contains_key(i))
        .or(actions.last())
    else {
        plot.note = "no control action is in the evidence".into();
        return plot;
    };
    // Breadth first through the citations, so the nearest records are drawn when not all fit.
    let mut layer: BTreeMap<u64, i32> = BTreeMap::from([(decision, 0)]);
    let mut ancestors = BTreeSet::new();
    let mut queue = VecDeque::from([(decision, 0)]);
    while let Some((i, l)) = queue.pop_front() {
        let Some(e) = view.entry(i) else { continue };
        for c in &e.record.cites {
            if ancestors.insert(c.leaf_index) {
                queue.push_back((c.leaf_index, l - 1));
                if layer.len() < MAX_NODES {
                    layer.insert(c.leaf_index, l - 1);
                }
            }
        }
    }
    let consumers: Vec<u64> = cited_by.get(&decision).cloned().unwrap_or_default();
    for &c in consumers.iter().take(MAX_NODES / 5) {
        layer.insert(c, 1);
    }
    plot.nodes = layer
        .iter()
        .filter_map(|(&i, &l)| {
            view.entry(i).map(|e| Node {
                leaf_index: i,
                leaf_hash: hex::encode(e.leaf_hash),
                kind: e.record.evidence.kind().to_string(),
                label: label(&e.record),
                layer: l,
            })
        })
        .collect();
    plot.edges = layer
        .keys()
        .filter_map(|&i| view.entry(i))
        .flat_map(|e| {
            e.record
                .cites
                .iter()
                .filter(|c| layer.contains_key(&c.leaf_index))
                .map(move |c| Edge {
                    from: e.leaf_index,
                    to: c.leaf_index,
                })
        })
        .collect();
    let drawn_ancestors = layer.values().filter(|&&l| l < 0).count();
    plot.note = format!(
        "control action at leaf {decision}: it rests on {} record(s) through its citations \
         ({} drawn, nearest first) and {} record(s) cite it ({} drawn)",
        ancestors.len(),
        drawn_ancestors,
        consumers.len(),
        consumers.len().min(MAX_NODES / 5)
    );
    plot.cites = cites(view, [decision]);
    plot
}

/// A few words on what `r` attests.
fn label(r: &Record) -> String {
    let text = match &r.evidence {
        Evidence::SensorSegment(s) => format!("{} {}", s.machine, s.signal),
        Evidence::NcProgram(p) => format!("{} v{}", p.name, p.version),
        Evidence::ModelTraining(m) => format!("{} v{}", m.model_kind, m.version),
        Evidence::ControlParameterChange(c) => format!("{} {}", c.loop_name, c.parameter),
        Evidence::ControlAction(a) => format!("{} on {}", a.loop_name, a.machine),
        Evidence::ValidationReport(v) => format!("{} validation", v.loop_name),
        Evidence::CommandRefused(c) => format!("refused: {}", c.topic),
        Evidence::Schedule(s) => format!("{} schedule v{}", s.cell, s.version),
        Evidence::UserAction(u) => format!("{} {}", u.actor, u.action),
    };
    match text.char_indices().nth(36) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// At most `n` of `leaves`, spread evenly from first to last.
fn spread(leaves: &[u64], n: usize) -> Vec<u64> {
    if leaves.len() <= n {
        return leaves.to_vec();
    }
    (0..n)
        .map(|k| leaves[k * (leaves.len() - 1) / (n - 1).max(1)])
        .collect()
}

/// `leaves` of `view` with their hashes, each once, in leaf order.
fn cites(view: &LedgerView, leaves: impl IntoIterator<Item = u64>) -> Vec<Cite> {
    let leaves: BTreeSet<u64> = leaves.into_iter().collect();
    leaves
        .into_iter()
        .filter_map(|i| Cite::of(view, i))
        .collect()
}

/// A UTC instant as RFC 3339, to the millisecond.
pub fn utc(t_ns: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(t_ns.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}
