//! A closed loop across the message bus: rides along on the Sparkplug host, keeps each device's
//! latest readings as they arrive, steps one loop per device (any [`MachineLoop`], e.g. the
//! adaptive feed loop of `aimm-loops`) on every new load reading and sends its commands back by
//! DCMD. Between messages it keeps stepping on the machine's estimated time with no new reading,
//! so a silent bus (a broker gone) trips the loop's stale-data fallback just as a broken sensor
//! cable would. This is the Sparkplug device as a [`LoopMachine`], beside the host that feeds it.

use super::{Commander, DeviceMetric, HostObserver, MqttActuator, Update};
use aimm_model::{
    Actuator, LoopMachine, MachineId, MachineLoop, OperatorAction, SignalKind, SignalSeries,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A device's readings as the host last heard them.
struct RemoteMachine {
    latest: [f64; SignalKind::ALL.len()],
    block: u32,
    /// Time of the step in progress and of the last reading, ns.
    t_ns: i64,
    data_t_ns: i64,
    /// When the last reading arrived.
    data_at: Instant,
    fresh: bool,
    actuator: MqttActuator,
    commanded: SignalSeries,
}

impl LoopMachine for RemoteMachine {
    fn time_ns(&self) -> i64 {
        self.t_ns
    }
    fn latest(&self, signal: SignalKind) -> f64 {
        self.latest[signal.index()]
    }
    fn load_fresh(&self) -> bool {
        self.fresh
    }
    fn block(&self) -> u32 {
        self.block
    }
    fn actuator(&mut self) -> &mut dyn Actuator {
        &mut self.actuator
    }
    fn record_commanded(&mut self, t_ns: i64, pct: f64) {
        self.commanded.push(t_ns, pct);
    }
    /// Always `None`: a Sparkplug device's metrics carry no panel state (knob, feed hold,
    /// single block, mode), so across the bus the loop cannot tell that the operator took over;
    /// the device itself must refuse the loop's commands then.
    fn operator(&self) -> Option<OperatorAction> {
        None
    }
    /// The override the device last reported, %.
    fn override_in_force_pct(&self) -> f64 {
        self.latest[SignalKind::FeedOverridePct.index()]
    }
}

struct Remote<L> {
    feed: L,
    machine: RemoteMachine,
    /// Time of the last step: readings at or before it (re-sent ones) do not step again.
    stepped_ns: i64,
}

impl<L: MachineLoop> Remote<L> {
    fn step(&mut self, t_ns: i64, fresh: bool) {
        if t_ns <= self.stepped_ns {
            return;
        }
        self.machine.t_ns = t_ns;
        self.machine.fresh = fresh;
        self.feed.step(&mut self.machine);
        self.stepped_ns = t_ns;
    }
}

/// One loop per device the host sees, each made by `make` when its device first sends data.
pub struct RemoteLoops<L> {
    make: Box<dyn FnMut() -> L>,
    /// Silence after which a loop steps on estimated time without a reading.
    silence: Duration,
    remotes: BTreeMap<MachineId, Remote<L>>,
}

impl<L: MachineLoop> RemoteLoops<L> {
    /// Loops made by `make`, stepped on estimated time after `silence` without a load reading
    /// (the loop's stale-data timeout). A loop's actuation delay is the network's: set it to 0.
    pub fn new(silence: Duration, make: impl FnMut() -> L + 'static) -> Self {
        Self {
            make: Box::new(make),
            silence,
            remotes: BTreeMap::new(),
        }
    }

    /// Each device's loop.
    pub fn loops(&self) -> impl Iterator<Item = (&MachineId, &L)> {
        self.remotes.iter().map(|(m, r)| (m, &r.feed))
    }
}

impl<L: MachineLoop> HostObserver for RemoteLoops<L> {
    fn on_data(
        &mut self,
        machine: &MachineId,
        updates: &[Update],
        historical: bool,
        commander: &Commander,
    ) {
        if historical || updates.is_empty() {
            return;
        }
        if !self.remotes.contains_key(machine) {
            let Some(actuator) = commander.actuator(machine) else {
                return;
            };
            let feed = (self.make)();
            let remote = Remote {
                feed,
                machine: RemoteMachine {
                    latest: [f64::NAN; SignalKind::ALL.len()],
                    block: 0,
                    t_ns: i64::MIN,
                    data_t_ns: i64::MIN,
                    data_at: Instant::now(),
                    fresh: false,
                    actuator,
                    commanded: SignalSeries::new(
                        machine.clone(),
                        SignalKind::FeedOverrideCommandedPct,
                    ),
                },
                stepped_ns: i64::MIN,
            };
            self.remotes.insert(machine.clone(), remote);
        }
        let r = self.remotes.get_mut(machine).expect("inserted above");
        // A message may hold several ticks: apply them in time order, stepping at each load
        // reading as the loop on the machine itself would.
        let mut order: Vec<&Update> = updates.iter().collect();
        order.sort_by_key(|u| u.t_ns);
        for u in order {
            match (u.metric, u.value.as_f64()) {
                (DeviceMetric::Signal(s), Some(v)) => {
                    r.machine.latest[s.index()] = v;
                    if s == SignalKind::SpindleLoadPct {
                        r.machine.data_t_ns = u.t_ns;
                        r.machine.data_at = Instant::now();
                        r.step(u.t_ns, true);
                    }
                }
                (DeviceMetric::ProgramLine, Some(v)) => r.machine.block = v as u32,
                _ => {}
            }
        }
    }

    fn on_tick(&mut self, _commander: &Commander) {
        for r in self.remotes.values_mut() {
            let silent = r.machine.data_at.elapsed();
            // Only a silence as long as the stale timeout steps on estimated time: shorter gaps
            // are network jitter, and stepping ahead of the machine's clock would skip the
            // readings still on their way.
            if silent >= self.silence && r.machine.data_t_ns != i64::MIN {
                let estimated = r.machine.data_t_ns + silent.as_nanos() as i64;
                r.step(estimated, false);
            }
        }
    }

    fn take_series(&mut self) -> Vec<SignalSeries> {
        self.remotes
            .values_mut()
            .map(|r| r.machine.commanded.take())
            .filter(|s| !s.is_empty())
            .collect()
    }
}
