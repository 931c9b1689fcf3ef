//! The energy model of a cell (issue 15) and the evaluation of a [`Schedule`] under it.
//!
//! Times are the instance's time unit, taken as seconds. Per machine, four states draw a
//! constant power: off ≤ standby ≤ idle, and cutting (per operation option, by default the
//! machine's rated power). Going down (idle → standby → off) is instantaneous and free; coming
//! back takes time at a constant power: off → standby is the *warm-up*, standby → idle the
//! *wake-up*. Between two operations a machine idles, or goes to standby or off when the gap
//! reaches the state's break-even time (the gap from which it uses strictly less energy, warm-up
//! and wake-up included). Machines are ready (idle) at time 0; after its last operation a machine
//! is off. Prices come from a time-of-use tariff whose bands cover `[0, period)` and repeat
//! (a daily tariff), plus a demand charge on the cell's peak power; the plant cap bounds the
//! cell's power at every instant.

use std::cmp::Ordering;

use super::instance::{Instance, Time};
use super::timetable::{check, Schedule, Violation};

/// Tolerance when comparing sums of powers and money.
pub(crate) const EPS: f64 = 1e-9;

/// A machine's powers and switching times.
#[derive(Debug, Clone, PartialEq)]
pub struct MachinePower {
    /// Cutting power of operations with no power of their own.
    pub rated_kw: f64,
    /// Ready, spindle stopped.
    pub idle_kw: f64,
    /// Standby (drives off, controller on).
    pub standby_kw: f64,
    /// Off (often 0).
    pub off_kw: f64,
    /// Standby → idle time.
    pub wake_s: Time,
    /// Power while waking up.
    pub wake_kw: f64,
    /// Off → standby time.
    pub warmup_s: Time,
    /// Power while warming up.
    pub warmup_kw: f64,
}

/// One band of the tariff: `[start_s, end_s)` at `price_per_kwh`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TariffBand {
    /// Start of the band.
    pub start_s: Time,
    /// End of the band (exclusive).
    pub end_s: Time,
    /// Energy price in the band.
    pub price_per_kwh: f64,
}

/// A job's due date and weight (for weighted tardiness).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobTerms {
    /// Due date.
    pub due_s: Time,
    /// Weight of each second late.
    pub weight: f64,
}

/// The cutting power of one operation on one machine, overriding the machine's rated power.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionPower {
    /// The job.
    pub job: usize,
    /// The operation within the job.
    pub operation: usize,
    /// The machine (one of the operation's options).
    pub machine: usize,
    /// Cutting power.
    pub cutting_kw: f64,
}

/// Everything the energy model adds to an instance, as given (validated by [`EnergyModel::new`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EnergySpec {
    /// Per machine, in the instance's numbering.
    pub machines: Vec<MachinePower>,
    /// Cutting powers per operation option; options not listed cut at the rated power.
    pub cutting: Vec<OptionPower>,
    /// Contiguous bands from 0; the last band's end is the tariff's period.
    pub tariff: Vec<TariffBand>,
    /// Demand charge per kW of the cell's peak power.
    pub demand_per_kw: f64,
    /// Plant cap on the cell's power.
    pub cap_kw: f64,
    /// Per job, in the instance's numbering.
    pub jobs: Vec<JobTerms>,
}

/// Why an energy model is refused; each names the item at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// Machines given ≠ the instance's machines.
    #[error("{found} machines have powers, the instance has {expected}")]
    MachineCount {
        /// The instance's machines.
        expected: usize,
        /// Machines in the spec.
        found: usize,
    },
    /// Jobs given ≠ the instance's jobs.
    #[error("{found} jobs have due dates, the instance has {expected}")]
    JobCount {
        /// The instance's jobs.
        expected: usize,
        /// Jobs in the spec.
        found: usize,
    },
    /// A power, price, weight or time below zero or not finite.
    #[error("{item} is {value}, must be finite and ≥ 0")]
    Negative {
        /// What it is, e.g. `machine 2 standby_kw`.
        item: String,
        /// Its value.
        value: f64,
    },
    /// A machine's states are not ordered off ≤ standby ≤ idle, or a switching power is below off.
    #[error("machine {machine}: {reason}")]
    StateOrder {
        /// The machine.
        machine: usize,
        /// Which powers are out of order.
        reason: String,
    },
    /// A cutting power names a job or operation the instance does not have.
    #[error("cutting power for job {job} operation {operation}: no such operation")]
    UnknownOperation {
        /// The job.
        job: usize,
        /// The operation.
        operation: usize,
    },
    /// A cutting power names a machine that is not one of the operation's options.
    #[error("cutting power for job {job} operation {operation}: unknown or ineligible machine {machine}")]
    UnknownMachine {
        /// The job.
        job: usize,
        /// The operation.
        operation: usize,
        /// The machine.
        machine: usize,
    },
    /// No tariff bands.
    #[error("the tariff has no bands")]
    EmptyTariff,
    /// A band does not start where the previous one ends (or the first not at 0).
    #[error("tariff band {band} starts at {start_s} s, the previous ends at {previous_end_s} s ({kind})")]
    TariffBands {
        /// The band, 0-based.
        band: usize,
        /// Its start.
        start_s: Time,
        /// The previous band's end (0 for the first band).
        previous_end_s: Time,
        /// `gap` or `overlap`.
        kind: &'static str,
    },
    /// A band that ends at or before its start.
    #[error("tariff band {band} is empty: [{start_s}, {end_s}) s")]
    EmptyBand {
        /// The band.
        band: usize,
        /// Its start.
        start_s: Time,
        /// Its end.
        end_s: Time,
    },
    /// The cap is below what one machine may draw alone (the others off), so no schedule fits.
    #[error(
        "cap {cap_kw} kW is below the {need_kw} kW machine {machine} may draw with the others off"
    )]
    CapBelowMachine {
        /// The machine.
        machine: usize,
        /// Its highest power (cutting or switching) plus the others' off power.
        need_kw: f64,
        /// The cap.
        cap_kw: f64,
    },
}

/// A machine's state over a segment of its timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineState {
    /// Off.
    Off,
    /// Off → standby.
    WarmingUp,
    /// Standby.
    Standby,
    /// Standby → idle.
    Waking,
    /// Ready, not cutting.
    Idle,
    /// Running an operation.
    Cutting,
}

/// A machine in one state at one power over `[start_s, end_s)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start.
    pub start_s: Time,
    /// End (exclusive).
    pub end_s: Time,
    /// The state.
    pub state: MachineState,
    /// Its power.
    pub power_kw: f64,
}

/// The cell's power over `[start_s, end_s)`: one step of the power profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Start.
    pub start_s: Time,
    /// End (exclusive).
    pub end_s: Time,
    /// The cell's power.
    pub power_kw: f64,
}

/// What a schedule is judged on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objectives {
    /// Σ weight × max(0, completion − due).
    pub weighted_tardiness_s: f64,
    /// Tariff energy cost plus demand charge.
    pub cost: f64,
    /// End of the last operation.
    pub makespan_s: Time,
}

/// How two [`Objectives`] compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ObjectiveOrder {
    /// Weighted tardiness, then cost, then makespan.
    Lexicographic,
    /// The weighted sum, lower is better.
    Weighted {
        /// Per weighted second late.
        per_tardiness_s: f64,
        /// Per unit of money.
        per_cost: f64,
        /// Per second of makespan.
        per_makespan_s: f64,
    },
}

impl ObjectiveOrder {
    /// `Less` when `a` is better than `b`. Differences within [`EPS`] count as equal.
    pub fn compare(&self, a: &Objectives, b: &Objectives) -> Ordering {
        let cmp = |x: f64, y: f64| {
            if (x - y).abs() <= EPS * (1.0 + x.abs().max(y.abs())) {
                Ordering::Equal
            } else {
                x.total_cmp(&y)
            }
        };
        match *self {
            Self::Lexicographic => cmp(a.weighted_tardiness_s, b.weighted_tardiness_s)
                .then(cmp(a.cost, b.cost))
                .then(a.makespan_s.cmp(&b.makespan_s)),
            Self::Weighted {
                per_tardiness_s,
                per_cost,
                per_makespan_s,
            } => {
                let sum = |o: &Objectives| {
                    per_tardiness_s * o.weighted_tardiness_s
                        + per_cost * o.cost
                        + per_makespan_s * o.makespan_s as f64
                };
                cmp(sum(a), sum(b))
            }
        }
    }
}

/// A schedule under the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Per machine, its states from 0 to the makespan.
    pub timelines: Vec<Vec<Segment>>,
    /// The cell's power from 0 to the makespan, adjacent steps of different power.
    pub profile: Vec<Step>,
    /// Energy used from 0 to the makespan.
    pub energy_kwh: f64,
    /// Its price under the tariff.
    pub energy_cost: f64,
    /// Demand charge on the peak.
    pub demand_cost: f64,
    /// Highest power of the cell.
    pub peak_kw: f64,
    /// The first step above the cap, if any.
    pub over_cap: Option<Step>,
    /// Tardiness, cost (energy + demand), makespan.
    pub objectives: Objectives,
}

/// From which gap (s) a machine goes to standby or off rather than idling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakEven {
    /// Smallest gap where standby uses strictly less energy than idling; `None`: never.
    pub standby_s: Option<Time>,
    /// Smallest gap where off uses strictly less than both idling and standby; `None`: never.
    pub off_s: Option<Time>,
}

/// A validated energy model of an instance.
#[derive(Debug, Clone)]
pub struct EnergyModel {
    instance: Instance,
    spec: EnergySpec,
    /// `[job][operation][option]`, in the instance's option order.
    cutting_kw: Vec<Vec<Vec<f64>>>,
    break_even: Vec<BreakEven>,
}

/// Energy of `power_kw` over `duration_s`.
fn kwh(power_kw: f64, duration_s: Time) -> f64 {
    power_kw * duration_s as f64 / 3600.0
}

/// The smallest whole gap `g ≥ min_s` with `slope·g + intercept < 0`, for `slope ≤ 0` (energy
/// differences only fall as the gap grows, since off ≤ standby ≤ idle).
fn first_below(slope: f64, intercept: f64, min_s: Time) -> Option<Time> {
    if slope >= 0.0 {
        return (slope * min_s as f64 + intercept < 0.0).then_some(min_s);
    }
    // `as` saturates: a break-even beyond any horizon is as good as never.
    let g = (-intercept / slope).floor() as Time;
    Some(g.saturating_add(1).max(min_s))
}

impl BreakEven {
    fn of(m: &MachinePower) -> Self {
        let (w, u) = (m.wake_s as f64, m.warmup_s as f64);
        // Energies in kW·s of a gap g: idle·g; standby·(g − w) + wake·w;
        // off·(g − w − u) + warmup·u + wake·w.
        let standby_s = first_below(
            m.standby_kw - m.idle_kw,
            w * (m.wake_kw - m.standby_kw),
            m.wake_s,
        );
        let min_off = m.wake_s + m.warmup_s;
        let vs_idle = first_below(
            m.off_kw - m.idle_kw,
            u * (m.warmup_kw - m.off_kw) + w * (m.wake_kw - m.off_kw),
            min_off,
        );
        let vs_standby = first_below(
            m.off_kw - m.standby_kw,
            u * (m.warmup_kw - m.off_kw) + w * (m.standby_kw - m.off_kw),
            min_off,
        );
        let off_s = vs_idle.zip(vs_standby).map(|(a, b)| a.max(b));
        Self { standby_s, off_s }
    }
}

fn non_negative(item: impl FnOnce() -> String, value: f64) -> Result<(), ModelError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ModelError::Negative {
            item: item(),
            value,
        })
    }
}

impl EnergyModel {
    /// Validates `spec` against `instance`: counts match, no negative or non-finite power, time,
    /// price or weight, off ≤ standby ≤ idle, cutting powers on real options, contiguous tariff
    /// bands from 0, and a cap that admits every machine alone.
    pub fn new(instance: Instance, spec: EnergySpec) -> Result<Self, ModelError> {
        if spec.machines.len() != instance.machines {
            return Err(ModelError::MachineCount {
                expected: instance.machines,
                found: spec.machines.len(),
            });
        }
        if spec.jobs.len() != instance.jobs.len() {
            return Err(ModelError::JobCount {
                expected: instance.jobs.len(),
                found: spec.jobs.len(),
            });
        }
        for (i, m) in spec.machines.iter().enumerate() {
            for (name, v) in [
                ("rated_kw", m.rated_kw),
                ("idle_kw", m.idle_kw),
                ("standby_kw", m.standby_kw),
                ("off_kw", m.off_kw),
                ("wake_s", m.wake_s as f64),
                ("wake_kw", m.wake_kw),
                ("warmup_s", m.warmup_s as f64),
                ("warmup_kw", m.warmup_kw),
            ] {
                non_negative(|| format!("machine {i} {name}"), v)?;
            }
            let order = |reason: &str| ModelError::StateOrder {
                machine: i,
                reason: reason.to_owned(),
            };
            if m.off_kw > m.standby_kw || m.standby_kw > m.idle_kw {
                return Err(order("powers must be off ≤ standby ≤ idle"));
            }
            if m.wake_kw < m.off_kw || m.warmup_kw < m.off_kw || m.rated_kw < m.off_kw {
                return Err(order("wake, warm-up and rated power must be ≥ off"));
            }
        }
        for (j, t) in spec.jobs.iter().enumerate() {
            non_negative(|| format!("job {j} due_s"), t.due_s as f64)?;
            non_negative(|| format!("job {j} weight"), t.weight)?;
        }
        non_negative(|| "demand_per_kw".to_owned(), spec.demand_per_kw)?;
        non_negative(|| "cap_kw".to_owned(), spec.cap_kw)?;
        if spec.tariff.is_empty() {
            return Err(ModelError::EmptyTariff);
        }
        let mut previous_end_s = 0;
        for (band, b) in spec.tariff.iter().enumerate() {
            non_negative(
                || format!("tariff band {band} price_per_kwh"),
                b.price_per_kwh,
            )?;
            if b.start_s != previous_end_s {
                return Err(ModelError::TariffBands {
                    band,
                    start_s: b.start_s,
                    previous_end_s,
                    kind: if b.start_s > previous_end_s {
                        "gap"
                    } else {
                        "overlap"
                    },
                });
            }
            if b.end_s <= b.start_s {
                return Err(ModelError::EmptyBand {
                    band,
                    start_s: b.start_s,
                    end_s: b.end_s,
                });
            }
            previous_end_s = b.end_s;
        }

        let mut cutting_kw: Vec<Vec<Vec<f64>>> = instance
            .jobs
            .iter()
            .map(|job| {
                job.operations
                    .iter()
                    .map(|op| {
                        op.options
                            .iter()
                            .map(|o| spec.machines[o.machine].rated_kw)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        for p in &spec.cutting {
            let options = instance
                .jobs
                .get(p.job)
                .and_then(|j| j.operations.get(p.operation))
                .ok_or(ModelError::UnknownOperation {
                    job: p.job,
                    operation: p.operation,
                })?;
            let k = options
                .options
                .iter()
                .position(|o| o.machine == p.machine)
                .ok_or(ModelError::UnknownMachine {
                    job: p.job,
                    operation: p.operation,
                    machine: p.machine,
                })?;
            non_negative(
                || {
                    format!(
                        "cutting_kw of job {} operation {} on machine {}",
                        p.job, p.operation, p.machine
                    )
                },
                p.cutting_kw,
            )?;
            if p.cutting_kw < spec.machines[p.machine].off_kw {
                return Err(ModelError::StateOrder {
                    machine: p.machine,
                    reason: format!(
                        "cutting power of job {} operation {} is below off",
                        p.job, p.operation
                    ),
                });
            }
            cutting_kw[p.job][p.operation][k] = p.cutting_kw;
        }

        // Each machine alone, the others off, must fit under the cap, or no schedule exists.
        let off_total: f64 = spec.machines.iter().map(|m| m.off_kw).sum();
        let mut highest: Vec<f64> = spec
            .machines
            .iter()
            .map(|m| m.idle_kw.max(m.wake_kw).max(m.warmup_kw))
            .collect();
        for (job, powers) in instance.jobs.iter().zip(&cutting_kw) {
            for (op, powers) in job.operations.iter().zip(powers) {
                for (o, &kw) in op.options.iter().zip(powers) {
                    highest[o.machine] = highest[o.machine].max(kw);
                }
            }
        }
        for (machine, (&h, m)) in highest.iter().zip(&spec.machines).enumerate() {
            let need_kw = off_total - m.off_kw + h;
            if need_kw > spec.cap_kw + EPS {
                return Err(ModelError::CapBelowMachine {
                    machine,
                    need_kw,
                    cap_kw: spec.cap_kw,
                });
            }
        }
        let break_even = spec.machines.iter().map(BreakEven::of).collect();
        Ok(Self {
            instance,
            spec,
            cutting_kw,
            break_even,
        })
    }

    /// The instance.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// The spec as validated.
    pub fn spec(&self) -> &EnergySpec {
        &self.spec
    }

    /// The break-even gaps of `machine`.
    pub fn break_even(&self, machine: usize) -> BreakEven {
        self.break_even[machine]
    }

    /// Cutting power of operation `(job, operation)` on `machine`, `None` if not eligible.
    pub fn cutting_kw(&self, job: usize, operation: usize, machine: usize) -> Option<f64> {
        let op = &self.instance.jobs[job].operations[operation];
        op.options
            .iter()
            .position(|o| o.machine == machine)
            .map(|k| self.cutting_kw[job][operation][k])
    }

    /// The state a machine takes in a gap of `gap_s` between operations.
    pub fn gap_state(&self, machine: usize, gap_s: Time) -> MachineState {
        let b = self.break_even[machine];
        if b.off_s.is_some_and(|g| gap_s >= g) {
            MachineState::Off
        } else if b.standby_s.is_some_and(|g| gap_s >= g) {
            MachineState::Standby
        } else {
            MachineState::Idle
        }
    }

    /// Appends the segments of `machine` idle, in standby or off over `[from_s, to_s)`, ready
    /// to cut at `to_s` (warm-up and wake-up at the end of the gap).
    pub(crate) fn gap_segments(
        &self,
        machine: usize,
        from_s: Time,
        to_s: Time,
        out: &mut Vec<Segment>,
    ) {
        let m = &self.spec.machines[machine];
        let mut push = |start_s: Time, end_s: Time, state, power_kw| {
            if end_s > start_s {
                out.push(Segment {
                    start_s,
                    end_s,
                    state,
                    power_kw,
                });
            }
        };
        match self.gap_state(machine, to_s - from_s) {
            MachineState::Off => {
                let wake = to_s - m.wake_s;
                let warm = wake - m.warmup_s;
                push(from_s, warm, MachineState::Off, m.off_kw);
                push(warm, wake, MachineState::WarmingUp, m.warmup_kw);
                push(wake, to_s, MachineState::Waking, m.wake_kw);
            }
            MachineState::Standby => {
                let wake = to_s - m.wake_s;
                push(from_s, wake, MachineState::Standby, m.standby_kw);
                push(wake, to_s, MachineState::Waking, m.wake_kw);
            }
            _ => push(from_s, to_s, MachineState::Idle, m.idle_kw),
        }
    }

    /// The tariff price of `power_kw` over `[from_s, to_s)`.
    fn energy_price(&self, power_kw: f64, from_s: Time, to_s: Time) -> f64 {
        let bands = &self.spec.tariff;
        let period = bands[bands.len() - 1].end_s;
        let mut cost = 0.0;
        let mut t = from_s;
        while t < to_s {
            let base = t.div_euclid(period) * period;
            let offset = t - base;
            let band = &bands[bands.partition_point(|b| b.end_s <= offset)];
            let end = to_s.min(base + band.end_s);
            cost += kwh(power_kw, end - t) * band.price_per_kwh;
            t = end;
        }
        cost
    }

    /// Evaluates a valid schedule (checked by [`check`] first): timelines, power profile,
    /// energy, cost, peak, cap, objectives.
    pub fn evaluate(&self, schedule: &Schedule) -> Result<Evaluation, Violation> {
        check(&self.instance, schedule)?;
        let horizon = schedule.makespan();
        let mut per_machine: Vec<Vec<(Time, Time, f64)>> = vec![Vec::new(); self.instance.machines];
        for (j, ops) in schedule.jobs.iter().enumerate() {
            for (o, s) in ops.iter().enumerate() {
                // `check` proved the machine eligible.
                let kw = self.cutting_kw(j, o, s.machine).unwrap_or_default();
                per_machine[s.machine].push((s.start, s.end, kw));
            }
        }
        let mut timelines = Vec::with_capacity(per_machine.len());
        for (m, mut ops) in per_machine.into_iter().enumerate() {
            ops.sort_by_key(|&(start, end, _)| (start, end));
            let mut line = Vec::new();
            let mut t = 0;
            for (start, end, kw) in ops {
                self.gap_segments(m, t, start, &mut line);
                if end > start {
                    line.push(Segment {
                        start_s: start,
                        end_s: end,
                        state: MachineState::Cutting,
                        power_kw: kw,
                    });
                }
                t = end;
            }
            if horizon > t {
                line.push(Segment {
                    start_s: t,
                    end_s: horizon,
                    state: MachineState::Off,
                    power_kw: self.spec.machines[m].off_kw,
                });
            }
            timelines.push(line);
        }
        let profile = profile(
            timelines
                .iter()
                .flatten()
                .map(|s| (s.start_s, s.end_s, s.power_kw)),
        );
        let mut energy_kwh = 0.0;
        let mut energy_cost = 0.0;
        let mut peak_kw: f64 = 0.0;
        for s in &profile {
            energy_kwh += kwh(s.power_kw, s.end_s - s.start_s);
            energy_cost += self.energy_price(s.power_kw, s.start_s, s.end_s);
            peak_kw = peak_kw.max(s.power_kw);
        }
        let over_cap = profile
            .iter()
            .find(|s| s.power_kw > self.spec.cap_kw + EPS)
            .copied();
        let demand_cost = peak_kw * self.spec.demand_per_kw;
        let weighted_tardiness_s = schedule
            .jobs
            .iter()
            .zip(&self.spec.jobs)
            .map(|(ops, t)| {
                let done = ops.last().map_or(0, |o| o.end);
                (done - t.due_s).max(0) as f64 * t.weight
            })
            .sum();
        Ok(Evaluation {
            timelines,
            profile,
            energy_kwh,
            energy_cost,
            demand_cost,
            peak_kw,
            over_cap,
            objectives: Objectives {
                weighted_tardiness_s,
                cost: energy_cost + demand_cost,
                makespan_s: horizon,
            },
        })
    }
}

/// The sum of `(start, end, power)` pieces as a step function: steps from the first start to
/// the last end, adjacent steps of different power (gaps between pieces are steps of 0).
pub(crate) fn profile(pieces: impl Iterator<Item = (Time, Time, f64)>) -> Vec<Step> {
    let mut events: Vec<(Time, f64)> = Vec::new();
    for (start, end, kw) in pieces.filter(|p| p.1 > p.0) {
        events.push((start, kw));
        events.push((end, -kw));
    }
    events.sort_by_key(|e| e.0);
    let mut steps: Vec<Step> = Vec::new();
    let mut power_kw = 0.0;
    let mut i = 0;
    while i < events.len() {
        let t = events[i].0;
        while i < events.len() && events[i].0 == t {
            power_kw += events[i].1;
            i += 1;
        }
        // Sums of ± the same powers leave rounding dust; a power is never negative.
        if power_kw.abs() < EPS {
            power_kw = 0.0;
        }
        let Some(&(next, _)) = events.get(i) else {
            break;
        };
        match steps.last_mut() {
            Some(last) if (last.power_kw - power_kw).abs() < EPS => last.end_s = next,
            _ => steps.push(Step {
                start_s: t,
                end_s: next,
                power_kw,
            }),
        }
    }
    steps
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::schedule::instance::parse_fjsp;
    use crate::schedule::timetable::ScheduledOp;

    /// A machine with the given rated power: idle 2, standby 1, off 0 kW; wake-up 10 s at 3 kW,
    /// warm-up 20 s at 4 kW.
    pub(crate) fn machine(rated_kw: f64) -> MachinePower {
        MachinePower {
            rated_kw,
            idle_kw: 2.0,
            standby_kw: 1.0,
            off_kw: 0.0,
            wake_s: 10,
            wake_kw: 3.0,
            warmup_s: 20,
            warmup_kw: 4.0,
        }
    }

    pub(crate) fn band(start_s: Time, end_s: Time, price_per_kwh: f64) -> TariffBand {
        TariffBand {
            start_s,
            end_s,
            price_per_kwh,
        }
    }

    /// 2 machines, 3 jobs (FJSP text, machines from 1): job 0 = M0 100 s then M1 50 s;
    /// job 1 = M1 60 s (or M0 80 s); job 2 = M0 40 s. Machine 0 rated 10 kW, machine 1 6 kW;
    /// job 1 on machine 1 cuts at 8 kW. Tariff 0.2 /kWh on [0, 3600) s, 0.1 after; demand 0.5 /kW.
    fn small() -> EnergyModel {
        let instance = parse_fjsp("3 2\n2 1 1 100 1 2 50\n1 2 2 60 1 80\n1 1 1 40\n").unwrap();
        let spec = EnergySpec {
            machines: vec![machine(10.0), machine(6.0)],
            cutting: vec![OptionPower {
                job: 1,
                operation: 0,
                machine: 1,
                cutting_kw: 8.0,
            }],
            tariff: vec![band(0, 3600, 0.2), band(3600, 7200, 0.1)],
            demand_per_kw: 0.5,
            cap_kw: 20.0,
            jobs: vec![
                JobTerms {
                    due_s: 150,
                    weight: 1.0,
                },
                JobTerms {
                    due_s: 100,
                    weight: 2.0,
                },
                JobTerms {
                    due_s: 100,
                    weight: 3.0,
                },
            ],
        };
        EnergyModel::new(instance, spec).unwrap()
    }

    pub(crate) fn op(machine: usize, start: Time, end: Time) -> ScheduledOp {
        ScheduledOp {
            machine,
            start,
            end,
        }
    }

    #[test]
    fn break_even_gaps() {
        let m = small();
        // Standby: 1·(g − 10) + 3·10 < 2·g ⇔ g > 20. Off vs idle: 0 + 4·20 + 3·10 < 2·g ⇔ g > 55;
        // off vs standby: 110 < g − 10 + 30 ⇔ g > 90.
        assert_eq!(
            m.break_even(0),
            BreakEven {
                standby_s: Some(21),
                off_s: Some(91)
            }
        );
        assert_eq!(m.gap_state(0, 20), MachineState::Idle);
        assert_eq!(m.gap_state(0, 21), MachineState::Standby);
        assert_eq!(m.gap_state(0, 91), MachineState::Off);
        assert_eq!(m.cutting_kw(1, 0, 1), Some(8.0));
        assert_eq!(m.cutting_kw(1, 0, 0), Some(10.0));
        assert_eq!(m.cutting_kw(2, 0, 1), None);
    }

    /// The schedule the small example is computed by hand for.
    fn small_schedule() -> Schedule {
        Schedule {
            jobs: vec![
                vec![op(0, 40, 140), op(1, 140, 190)],
                vec![op(1, 0, 60)],
                vec![op(0, 0, 40)],
            ],
        }
    }

    #[test]
    fn hand_computed_small_example() {
        let m = small();
        // Machine 0: job 2 [0, 40), job 0 op 0 [40, 140). Machine 1: job 1 [0, 60),
        // gap [60, 140) of 80 s → standby [60, 130) + wake [130, 140), job 0 op 1 [140, 190).
        // Machine 0 is off over [140, 190).
        let s = small_schedule();
        let e = m.evaluate(&s).unwrap();
        assert_eq!(
            e.timelines[1].iter().map(|s| s.state).collect::<Vec<_>>(),
            vec![
                MachineState::Cutting,
                MachineState::Standby,
                MachineState::Waking,
                MachineState::Cutting
            ]
        );
        let steps: Vec<(Time, Time, f64)> = e
            .profile
            .iter()
            .map(|s| (s.start_s, s.end_s, s.power_kw))
            .collect();
        assert_eq!(
            steps,
            vec![
                (0, 60, 18.0),
                (60, 130, 11.0),
                (130, 140, 13.0),
                (140, 190, 6.0)
            ]
        );
        // kW·s: 18·60 + 11·70 + 13·10 + 6·50 = 1080 + 770 + 130 + 300 = 2280.
        let kwh = 2280.0 / 3600.0;
        assert!((e.energy_kwh - kwh).abs() < 1e-12);
        assert!((e.energy_cost - kwh * 0.2).abs() < 1e-12);
        assert_eq!(e.peak_kw, 18.0);
        assert!((e.demand_cost - 9.0).abs() < 1e-12);
        assert_eq!(e.over_cap, None);
        // Job 0 ends 190 (due 150, w 1): 40; job 1 ends 60: 0; job 2 ends 40: 0.
        assert_eq!(e.objectives.weighted_tardiness_s, 40.0);
        assert!((e.objectives.cost - (kwh * 0.2 + 9.0)).abs() < 1e-12);
        assert_eq!(e.objectives.makespan_s, 190);

        // The same schedule moved by an hour: everything in the cheap band, job 0 later.
        let later = Schedule {
            jobs: s
                .jobs
                .iter()
                .map(|ops| {
                    ops.iter()
                        .map(|o| op(o.machine, o.start + 3600, o.end + 3600))
                        .collect()
                })
                .collect(),
        };
        let l = m.evaluate(&later).unwrap();
        // The leading gap of 3600 s: off for both machines, then warm-up and wake-up.
        // Extra kW·s per machine over the shifted one: 4·20 + 3·10 = 110.
        let extra = 2.0 * 110.0 / 3600.0;
        assert!((l.energy_kwh - (kwh + extra)).abs() < 1e-12);
        // Warm-ups [3570, 3590) in the dear band, wake-ups [3590, 3600) too.
        assert!((l.energy_cost - (extra * 0.2 + kwh * 0.1)).abs() < 1e-12);
        assert_eq!(
            l.objectives.weighted_tardiness_s,
            (3790 - 150) as f64 + 2.0 * (3660 - 100) as f64 + 3.0 * (3640 - 100) as f64
        );
    }

    #[test]
    fn cap_excess_is_located() {
        let mut m = small();
        m.spec.cap_kw = 15.0;
        let s = small_schedule();
        let e = m.evaluate(&s).unwrap();
        assert_eq!(
            e.over_cap,
            Some(Step {
                start_s: 0,
                end_s: 60,
                power_kw: 18.0
            })
        );
    }

    #[test]
    fn tariff_repeats_with_its_period() {
        let m = small();
        // 1 kW over [7000, 7400): 200 s at 0.1, then 200 s of the next period at 0.2.
        let cost = m.energy_price(1.0, 7000, 7400);
        assert!((cost - (200.0 * 0.1 + 200.0 * 0.2) / 3600.0).abs() < 1e-12);
    }

    #[test]
    fn objective_orders() {
        let a = Objectives {
            weighted_tardiness_s: 0.0,
            cost: 10.0,
            makespan_s: 100,
        };
        let b = Objectives {
            weighted_tardiness_s: 1.0,
            cost: 1.0,
            makespan_s: 100,
        };
        assert_eq!(
            ObjectiveOrder::Lexicographic.compare(&a, &b),
            Ordering::Less
        );
        let w = ObjectiveOrder::Weighted {
            per_tardiness_s: 1.0,
            per_cost: 1.0,
            per_makespan_s: 0.0,
        };
        assert_eq!(w.compare(&a, &b), Ordering::Greater);
        assert_eq!(
            ObjectiveOrder::Lexicographic.compare(&a, &a),
            Ordering::Equal
        );
    }

    #[test]
    fn refuses_bad_input_naming_it() {
        let good = small();
        let refuse = |f: &dyn Fn(&mut EnergySpec)| {
            let mut spec = good.spec().clone();
            f(&mut spec);
            EnergyModel::new(good.instance().clone(), spec).unwrap_err()
        };
        assert_eq!(
            refuse(&|s| s.machines[1].standby_kw = -1.0).to_string(),
            "machine 1 standby_kw is -1, must be finite and ≥ 0"
        );
        assert_eq!(
            refuse(&|s| s.machines[0].wake_s = -5).to_string(),
            "machine 0 wake_s is -5, must be finite and ≥ 0"
        );
        assert_eq!(
            refuse(&|s| s.jobs[2].due_s = -1).to_string(),
            "job 2 due_s is -1, must be finite and ≥ 0"
        );
        assert_eq!(
            refuse(&|s| s.machines[0].idle_kw = 0.5),
            ModelError::StateOrder {
                machine: 0,
                reason: "powers must be off ≤ standby ≤ idle".into()
            }
        );
        assert_eq!(
            refuse(&|s| s.tariff[1].start_s = 3000).to_string(),
            "tariff band 1 starts at 3000 s, the previous ends at 3600 s (overlap)"
        );
        assert_eq!(
            refuse(&|s| s.tariff[1].start_s = 4000).to_string(),
            "tariff band 1 starts at 4000 s, the previous ends at 3600 s (gap)"
        );
        assert_eq!(
            refuse(&|s| s.tariff[0].start_s = 10).to_string(),
            "tariff band 0 starts at 10 s, the previous ends at 0 s (gap)"
        );
        assert_eq!(
            refuse(&|s| s.tariff[1].end_s = 3600),
            ModelError::EmptyBand {
                band: 1,
                start_s: 3600,
                end_s: 3600
            }
        );
        assert_eq!(refuse(&|s| s.tariff.clear()), ModelError::EmptyTariff);
        // Machine 0 cuts at 10 kW with machine 1 off (0 kW): a 9 kW cap refuses it.
        assert_eq!(
            refuse(&|s| s.cap_kw = 9.0).to_string(),
            "cap 9 kW is below the 10 kW machine 0 may draw with the others off"
        );
        assert_eq!(
            refuse(&|s| s.cutting[0].machine = 7).to_string(),
            "cutting power for job 1 operation 0: unknown or ineligible machine 7"
        );
        assert_eq!(
            refuse(&|s| {
                s.machines[1].off_kw = 0.5;
                s.cutting[0].cutting_kw = 0.2;
            })
            .to_string(),
            "machine 1: cutting power of job 1 operation 0 is below off"
        );
        assert_eq!(
            refuse(&|s| s.cutting[0].operation = 3),
            ModelError::UnknownOperation {
                job: 1,
                operation: 3
            }
        );
        assert_eq!(
            refuse(&|s| s.machines.truncate(1)),
            ModelError::MachineCount {
                expected: 2,
                found: 1
            }
        );
        assert_eq!(
            refuse(&|s| s.jobs.push(s.jobs[0])),
            ModelError::JobCount {
                expected: 3,
                found: 4
            }
        );
    }
}
