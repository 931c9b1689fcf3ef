//! The simulator as a Sparkplug edge node's device: runs a [`Simulator`] in real time (or a
//! multiple of it), publishes what its sensors record as DDATA after every group of ticks, and
//! applies the feed override and feed hold a host writes by DCMD. While the node is cut off from
//! the broker no host can command the machine, so it returns to the fallback override (100 %,
//! the programmed feed) until the connection is back. The operator's panel wins over the host:
//! while it has precedence the machine refuses a commanded override.

use super::edge::{DeviceCommand, EdgeNode};
use super::payload::{DeviceMetric, Update};
use aimm_model::{Actuator, NS_PER_S};
use aimm_sim::{PartResult, SimError, Simulator};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Lag behind the wall clock the simulator makes up by running faster.
const MAX_LAG: Duration = Duration::from_millis(5);

/// How the simulator runs as a device.
#[derive(Clone, Copy, Debug)]
pub struct SimEdgeOptions {
    /// Device number of the machine on its edge node.
    pub device: usize,
    /// Simulated seconds per wall-clock second; 0 runs as fast as the machine can.
    pub speed: f64,
    /// Ticks per DDATA message.
    pub ticks_per_message: u32,
    /// Override the machine returns to while no host can reach it, %.
    pub fallback_override_pct: f64,
}

impl Default for SimEdgeOptions {
    fn default() -> Self {
        Self {
            device: 0,
            speed: 1.0,
            ticks_per_message: 1,
            fallback_override_pct: 100.0,
        }
    }
}

/// What the device published and applied.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SimEdgeReport {
    /// Samples published per signal (by name).
    pub samples: std::collections::BTreeMap<String, u64>,
    /// Events (program start/end, tool change, …) published.
    pub events: u64,
    /// Feed-override DCMDs applied to the simulator.
    pub override_commands: u64,
    /// Feed-override DCMDs refused: not a number, or the operator had precedence.
    pub refused_commands: u64,
    /// Feed-hold DCMDs applied to the simulator.
    pub hold_commands: u64,
    /// Times the machine fell back to the fallback override on losing the broker.
    pub fallbacks: u64,
}

/// Runs `sim` to the end of its program as device `options.device` of `edge`; `progress` is
/// called about every simulated second.
pub fn run_sim_edge(
    sim: &mut Simulator<'_>,
    edge: &EdgeNode,
    options: SimEdgeOptions,
    progress: &mut dyn FnMut(&Simulator<'_>),
) -> Result<(PartResult, SimEdgeReport), SimError> {
    let mut report = SimEdgeReport::default();
    // Wall-clock instant and simulated time that the pacing counts from.
    let mut start_wall = Instant::now();
    let mut start_ns = sim.time_ns();
    let mut report_at = start_ns + NS_PER_S;
    let mut line = None;
    let mut batch = Vec::new();
    let mut ticks = 0;
    let mut was_online = false;
    loop {
        for command in edge.commands() {
            match command {
                DeviceCommand::FeedOverride { device, pct } if device == options.device => {
                    match Actuator::set_feed_override(sim, pct) {
                        Ok(()) => report.override_commands += 1,
                        Err(e) => {
                            tracing::warn!(%e, "feed-override DCMD refused");
                            report.refused_commands += 1;
                        }
                    }
                }
                DeviceCommand::FeedHold { device, hold } if device == options.device => {
                    sim.set_feed_hold(hold);
                    report.hold_commands += 1;
                }
                _ => {}
            }
        }
        let online = edge.is_online();
        if was_online && !online {
            sim.set_feed_override(options.fallback_override_pct);
            report.fallbacks += 1;
        }
        was_online = online;
        let running = sim.step()?;
        let t = sim.time_ns();
        collect(sim, &mut batch, &mut report);
        if line != Some(sim.line()) {
            line = Some(sim.line());
            batch.push(Update::number(
                DeviceMetric::ProgramLine,
                t,
                f64::from(sim.line()),
            ));
        }
        ticks += 1;
        if ticks >= options.ticks_per_message || !running {
            edge.publish(options.device, std::mem::take(&mut batch));
            ticks = 0;
        }
        if t >= report_at {
            progress(sim);
            report_at += NS_PER_S;
        }
        if !running {
            break;
        }
        if options.speed > 0.0 {
            let due = Duration::from_secs_f64((t - start_ns) as f64 / 1e9 / options.speed);
            let elapsed = start_wall.elapsed();
            match due.checked_sub(elapsed) {
                Some(wait) => std::thread::sleep(wait),
                // Starved of CPU: slow down rather than catch up in a burst, which would let
                // many ticks pass before a host's command could arrive.
                None if elapsed - due > MAX_LAG => {
                    start_wall = Instant::now();
                    start_ns = t;
                }
                None => {}
            }
        }
    }
    Ok((sim.result(), report))
}

/// Moves what the simulator recorded since the last tick into `batch`.
fn collect(sim: &mut Simulator<'_>, batch: &mut Vec<Update>, report: &mut SimEdgeReport) {
    let (series, events) = sim.recording().drain();
    for s in series {
        *report.samples.entry(s.signal.name().into()).or_default() += s.len() as u64;
        let metric = DeviceMetric::Signal(s.signal);
        batch.extend(
            s.t_ns
                .iter()
                .zip(&s.values)
                .map(|(&t, &v)| Update::number(metric, t, v)),
        );
    }
    report.events += events.len() as u64;
    batch.extend(events.iter().map(Update::event));
}
