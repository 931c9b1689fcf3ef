//! `aimm assess --live` on machines connected over Sparkplug B. The assessor is the group's
//! Sparkplug host: it closes aimm's feed loop across the broker on every device the edge nodes
//! bring (as `aimm connect mqtt --feed-setpoint` does), stores everything, and applies what a
//! host can apply to a machine it does not own:
//!
//! * load step: judged on the steps of the part the machine runs (the plant runs a part with a
//!   step in engagement, e.g. `examples/steps_c45.nc`); a run without one fails, saying so;
//! * stale signal: the host withholds the load from the loop (the samples are still stored) for
//!   a while from a set time after the device's first load reading; the loop must fall back as
//!   on the simulator, judged by [`crate::live::judge_stale_signal`];
//! * worn tool: not applied, since no command wears a tool; the plant mounts one and runs the
//!   part again (reported, nothing recorded);
//! * energy event: not applied (the scheduling loop's runner has no Sparkplug commands yet).
//!
//! Each applied stimulus is a `validation_report` citing the segments it was judged on.

use crate::latency::InForce;
use crate::live::{judge_load_step, judge_stale_signal, record, Stimulus};
use aimm_connect::sparkplug::{
    run_host, Commander, DeviceMetric, HostConfig, HostError, HostObserver, HostReport,
    RemoteLoops, Update,
};
use aimm_loops::feed::{FeedLoop, FeedParams, FeedRunOptions, InvalidFeedParam, Setpoint};
use aimm_model::{MachineId, MachineSpec, SignalKind, SignalSeries, TimeNs};
use aimm_store::{Store, StoreError};
use serde_json::Map;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// What the assessor's host does to the connected machines.
#[derive(Clone, Debug)]
pub struct ConnectedStimuli {
    /// The feed loop's spindle-load setpoint, %.
    pub setpoint_pct: f64,
    /// Earliest time the load is withheld from the loop, s after a device's first load reading
    /// (from then on, once the machine's override is below the loop's fallback).
    pub blind_at_s: f64,
    /// For how long, s.
    pub blind_s: f64,
}

/// Why the connected stimuli could not run.
#[derive(Debug, thiserror::Error)]
pub enum ConnectedError {
    /// The setpoint is not below the alarm load.
    #[error("feed setpoint {setpoint} %: must be above 0 and below the alarm load {alarm} %")]
    Setpoint {
        /// The setpoint asked for, %.
        setpoint: f64,
        /// The feed loop's alarm load, %.
        alarm: f64,
    },
    /// The feed loop's options were refused.
    #[error("the feed loop: {0}")]
    Loop(#[from] InvalidFeedParam),
    /// The Sparkplug host failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How far below the fallback the machine's override must be for the window to open, points: a
/// loop only just under it would pass by holding any value.
const HELD_DOWN_PCT: f64 = 10.0;

/// The remote feed loops, with the load withheld from each device's loop over its window.
struct Blindfold {
    loops: RemoteLoops<FeedLoop>,
    /// Earliest start of the window after a device's first load reading, and its length, ns.
    at_ns: i64,
    len_ns: i64,
    /// The loop's stale-data fallback, %: the window opens only while the machine's override
    /// is below it, when losing the load tempts a loop to raise the feed it cannot see.
    fallback_pct: f64,
    /// Per device: its first load reading and the override it last reported.
    first_load: BTreeMap<MachineId, TimeNs>,
    reported_override: BTreeMap<MachineId, f64>,
    /// Per device: the window, (from, to) ns.
    windows: BTreeMap<MachineId, (TimeNs, TimeNs)>,
}

impl Blindfold {
    /// Opens `machine`'s window at `t_ns` if it is due.
    fn open_if_due(&mut self, machine: &MachineId, t_ns: TimeNs) {
        if self.windows.contains_key(machine) {
            return;
        }
        let first = *self.first_load.entry(machine.clone()).or_insert(t_ns);
        let held_down = self
            .reported_override
            .get(machine)
            .is_some_and(|&v| v <= self.fallback_pct - HELD_DOWN_PCT);
        if t_ns >= first + self.at_ns && held_down {
            self.windows
                .insert(machine.clone(), (t_ns, t_ns + self.len_ns));
        }
    }
}

impl HostObserver for Blindfold {
    fn on_data(
        &mut self,
        machine: &MachineId,
        updates: &[Update],
        historical: bool,
        commander: &Commander,
    ) {
        let mut order: Vec<&Update> = updates.iter().collect();
        order.sort_by_key(|u| u.t_ns);
        let mut seen = Vec::with_capacity(updates.len());
        for u in order {
            match (u.metric, u.value.as_f64()) {
                (DeviceMetric::Signal(SignalKind::FeedOverridePct), Some(v)) => {
                    self.reported_override.insert(machine.clone(), v);
                }
                (DeviceMetric::Signal(SignalKind::SpindleLoadPct), _) => {
                    self.open_if_due(machine, u.t_ns);
                    let blind = self
                        .windows
                        .get(machine)
                        .is_some_and(|&(from, to)| u.t_ns >= from && u.t_ns < to);
                    if blind {
                        continue;
                    }
                }
                _ => {}
            }
            seen.push(u.clone());
        }
        self.loops.on_data(machine, &seen, historical, commander);
    }

    fn on_tick(&mut self, commander: &Commander) {
        self.loops.on_tick(commander);
    }

    fn take_series(&mut self) -> Vec<SignalSeries> {
        self.loops.take_series()
    }
}

/// Runs the host on `config` (until its edge nodes die, or its duration) into `store` with the
/// feed loop's `params`, then judges and records the stimuli per device. `catalog_budget_ms`
/// is the feed loop's latency budget.
pub fn run_live_sparkplug(
    store: &mut dyn Store,
    config: HostConfig,
    params: &FeedParams,
    stimuli: &ConnectedStimuli,
    catalog_budget_ms: f64,
    stop: &AtomicBool,
) -> Result<(HostReport, Vec<Stimulus>), ConnectedError> {
    let setpoint = stimuli.setpoint_pct;
    if !(setpoint > 0.0 && setpoint < params.alarm_load_pct) {
        return Err(ConnectedError::Setpoint {
            setpoint,
            alarm: params.alarm_load_pct,
        });
    }
    let mut options = FeedRunOptions::new(*params, Setpoint::Fixed(setpoint));
    // The network is the actuation delay.
    options.actuation_delay_ms = 0.0;
    FeedLoop::new(options.clone())?;
    let silence = Duration::from_secs_f64(params.stale_timeout_ms * 1e-3);
    let mut observer = Blindfold {
        loops: RemoteLoops::new(silence, move || {
            FeedLoop::new(options.clone()).expect("options checked above")
        }),
        at_ns: (stimuli.blind_at_s * 1e9) as i64,
        len_ns: (stimuli.blind_s * 1e9) as i64,
        fallback_pct: params.fallback_override_pct,
        first_load: BTreeMap::new(),
        reported_override: BTreeMap::new(),
        windows: BTreeMap::new(),
    };
    let report = run_host(config, store, &mut observer, stop)?;
    let in_force = [InForce {
        from_ns: i64::MIN,
        setpoint_pct: stimuli.setpoint_pct,
        min_override_pct: Some(params.min_override_pct),
    }];
    let mut out = Vec::new();
    let known = store.machines()?;
    for name in report.runs.keys() {
        let machine = MachineId::new(name.as_str());
        // The machine's limits are the edge node's; the overload threshold is the standard VMC's
        // unless the store knows the machine.
        let spec = known
            .iter()
            .find(|m| m.id == machine)
            .cloned()
            .unwrap_or_else(|| MachineSpec::vmc(name));
        let read = |signal| store.read_samples(&machine, signal, i64::MIN, i64::MAX);
        let (load, over) = (
            read(SignalKind::SpindleLoadPct)?,
            read(SignalKind::FeedOverrideCommandedPct)?,
        );
        let Some(t_end) = load.t_ns.last().copied() else {
            continue;
        };
        let mut segments =
            store.segments(&machine, SignalKind::SpindleLoadPct, i64::MIN, i64::MAX)?;
        segments.extend(store.segments(
            &machine,
            SignalKind::FeedOverrideCommandedPct,
            i64::MIN,
            i64::MAX,
        )?);
        let test = |what: &str| format!("{what} ({name} over Sparkplug)");
        let verdict = judge_load_step(&load, &over, &in_force, catalog_budget_ms);
        out.push(record(store, &segments, &test("load step"), verdict)?);
        match observer.windows.get(&machine) {
            Some(&blind) if t_end >= blind.1 => {
                let verdict = judge_stale_signal(&load, &over, &spec, params, blind);
                out.push(record(store, &segments, &test("stale signal"), verdict)?);
            }
            _ => out.push(not_applied(
                &test("stale signal"),
                format!(
                    "not applied: from {:.1} s after its first load reading, {name} never ran \
                     {:.1} s more with its override below the fallback {} % (the loop holding \
                     the feed down); run a part with a heavier cut, or withhold the load earlier",
                    stimuli.blind_at_s, stimuli.blind_s, params.fallback_override_pct
                ),
            )),
        }
        out.push(not_applied(
            &test("worn tool"),
            "not applied: no command wears a tool; mount a worn tool on the machine and run \
             the part again"
                .into(),
        ));
    }
    out.push(not_applied(
        "energy event (over Sparkplug)",
        "not applied: aimm's scheduling loop starts parts and sets machine states through its \
         runner, which has no Sparkplug command yet; the energy event runs on the simulator \
         (`aimm assess --live` without --mqtt)"
            .into(),
    ));
    Ok((report, out))
}

fn not_applied(test: &str, summary: String) -> Stimulus {
    Stimulus {
        test: test.into(),
        passed: false,
        summary,
        figures: Map::new(),
        leaf_index: None,
    }
}
