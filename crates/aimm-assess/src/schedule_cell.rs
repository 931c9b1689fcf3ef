//! A cell scheduled for energy on the simulator (issue 15), as the demo runs it: the scheduling
//! loop plans a cell of simulated machines under a time-of-use tariff and the plant's power cap,
//! carries the plan out on the simulator (parts made and recorded at their planned starts,
//! machines held idle, in standby or off in the gaps as planned), reschedules when the wear loop's
//! planned tool change comes due, and writes a `validation_report` of the realised power (from
//! the simulator's machine-power signal) against the cap and of planned against realised energy
//! per job.
//!
//! Where the plan's numbers come from: each (program, machine) pair is simulated once,
//! unrecorded, before planning: its cycle time (rounded up to whole seconds) is the operation's
//! duration and the highest one-second mean of its machine power, plus [`PEAK_MARGIN`], its
//! power, so the cap the plan keeps holds for the realised power too. Machine state powers are
//! the simulator's ([`aimm_sim::power::PowerModel`]: off 0, standby 0.6 kW, idle 2.2 kW);
//! wake-up ([`WAKE_S`]) and warm-up ([`WARMUP_S`]) draw idle power (assumed: the simulator has no
//! start-up model). Every part is made with new tools at programmed feed (the feed loop is not
//! part of this cell), so a part takes what its reference run took.

use crate::cell::EXAMPLE_PROGRAMS;
use crate::conformance::feed::case_machine;
use aimm_connect::simulator::part::{record_part, register_program, PartSpec, RecordedPart};
use aimm_connect::ConnectError;
use aimm_ledger::record::{Evidence, Origin, Record, ValidationReport};
use aimm_ledger::Citation;
use aimm_loops::schedule::cell::{
    BandJson, JobJson, MachineJson, ModelJson, NamedModel, OperationJson, OptionJson, DAY_S,
};
use aimm_loops::schedule::dispatch::{dispatch, Rule};
use aimm_loops::schedule::energy::{
    Evaluation, MachinePower, MachineState as PlanState, TariffBand,
};
use aimm_loops::schedule::evidence::{objective_values, Put, ScheduleEvidence, LOOP_NAME};
use aimm_loops::schedule::frame::Window;
use aimm_loops::schedule::improve::ImproveParams;
use aimm_loops::schedule::instance::Time;
use aimm_loops::schedule::planning::{plan_cell, COST_FIRST};
use aimm_loops::schedule::reschedule::{reschedule, Event, Plan};
use aimm_loops::schedule::runner::{CellFloor, Given, Runner, Stop};
use aimm_model::{
    changeover_ns, MachineSpec, Material, SignalKind, SignalSeries, DEFAULT_CHANGEOVER_S,
};
use aimm_sim::gcode::{parse, Program};
use aimm_sim::power::PowerModel;
use aimm_sim::{SimConfig, Simulator};
use aimm_store::evidence::{append_one, record_parameter, ParameterValue};
use aimm_store::{next_part_start_ns, Store, StoreError};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Margin on a reference run's highest one-second power, so noise and rounding stay under the
/// cap: 3 % (the machine-power signal's noise is 0.02 kW + 1 %).
pub const PEAK_MARGIN: f64 = 0.03;
/// Standby → idle time, s (assumed).
pub const WAKE_S: Time = 10;
/// Off → standby time, s (assumed: a control boot).
pub const WARMUP_S: Time = 120;
/// Realised energy of a job within this share of its planned energy passes.
pub const ENERGY_TOLERANCE: f64 = 0.10;
/// Nanoseconds per second.
const NS: i64 = 1_000_000_000;

/// A job of the cell: its operations, each a program and the machines (indices) it may run on.
#[derive(Clone, Debug)]
pub struct CellJob {
    /// Its name.
    pub id: String,
    /// Per operation: (index into the programs, eligible machines).
    pub operations: Vec<(usize, Vec<usize>)>,
    /// Due date, s from the plan's start.
    pub due_s: Time,
    /// Weight of a second late.
    pub weight: f64,
}

/// A planned tool change of the wear loop that the cell must fit in.
#[derive(Clone, Debug)]
pub struct PlannedToolChange {
    /// The machine (index).
    pub machine: usize,
    /// The wear loop's decision that planned it.
    pub decision: Citation,
    /// How long the machine is down for it, s.
    pub duration_s: Time,
    /// It comes due after this many parts of the machine in the cell (the parts the tool has
    /// left, as the wear loop plans them).
    pub after_parts: usize,
}

/// What the cell is and how to plan it.
#[derive(Clone, Debug)]
pub struct ScheduleCellSpec {
    /// Its name in the evidence.
    pub name: String,
    /// Its machines.
    pub machines: Vec<MachineSpec>,
    /// Programs: (name, text, material).
    pub programs: Vec<(String, String, Material)>,
    /// The jobs.
    pub jobs: Vec<CellJob>,
    /// The tariff from the plan's start (see `aimm_loops::schedule::cell::rotate_tariff`).
    pub tariff: Vec<TariffBand>,
    /// Demand charge per kW of peak.
    pub demand_per_kw: f64,
    /// The plant's cap on the cell's power, kW.
    pub cap_kw: f64,
    /// Time of day (UTC) the plan starts at: the first one after every machine has made its
    /// reference parts, and not before `not_before_ns`.
    pub start_of_day_s: Time,
    /// The plan starts no earlier than this, UTC ns.
    pub not_before_ns: i64,
    /// Seeds the plan's search and the parts' sensor noise.
    pub seed: u64,
    /// Iterations of the energy improvement (plan and reschedule).
    pub iterations: u64,
    /// The wear loop's tool change to fit in, if any.
    pub tool_change: Option<PlannedToolChange>,
    /// Advise only: the schedule is recorded and reported on, but the loop commands nothing
    /// (what a scheduler that only draws a Gantt chart leaves as evidence; the assessment must
    /// fail it).
    pub advise_only: bool,
}

/// Why the cell could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleCellError {
    /// A program does not parse or the simulator stopped.
    #[error("{0}")]
    Setup(String),
    /// The model, plan or reschedule was refused.
    #[error("scheduling: {0}")]
    Plan(String),
    /// Carrying the plan out failed.
    #[error(transparent)]
    Run(#[from] aimm_loops::schedule::runner::RunError),
    /// Recording failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A job's energy: planned (its parts' reference runs) and realised (the power signal over its
/// parts as made).
#[derive(Clone, Debug, Serialize)]
pub struct JobEnergy {
    /// The job.
    pub job: String,
    /// Planned, kWh.
    pub planned_kwh: f64,
    /// Realised, kWh.
    pub realised_kwh: f64,
}

impl JobEnergy {
    /// Whether the realised energy is within [`ENERGY_TOLERANCE`] of the planned.
    pub fn as_planned(&self) -> bool {
        (self.realised_kwh - self.planned_kwh).abs()
            <= ENERGY_TOLERANCE * self.planned_kwh.max(1e-9)
    }
}

/// What the cell did.
#[derive(Clone, Debug, Serialize)]
pub struct ScheduleCellOutcome {
    /// The cap, kW.
    pub cap_kw: f64,
    /// Highest one-second mean of the cell's realised power, kW.
    pub realised_peak_kw: f64,
    /// Planned cost of the schedule in force at the end, and of EDD in the same model.
    pub plan_cost: f64,
    /// EDD dispatch's cost in the same model.
    pub edd_cost: f64,
    /// Weighted tardiness of the plan and of EDD, s.
    pub plan_tardiness_s: f64,
    /// EDD's weighted tardiness, s.
    pub edd_tardiness_s: f64,
    /// Per job, planned and realised energy.
    pub jobs: Vec<JobEnergy>,
    /// Schedules put in force.
    pub schedules: u32,
    /// Operations the reschedule moved.
    pub moved: usize,
    /// The validation report's leaf.
    pub report: Citation,
    /// Whether the validation passed (realised power never above the cap, every job's realised
    /// energy within [`ENERGY_TOLERANCE`] of planned).
    pub passed: bool,
}

/// A reference run: duration (s, rounded up), highest one-second power (kW), energy (kWh).
struct Reference {
    duration_s: Time,
    peak_kw: f64,
    energy_kwh: f64,
}

/// Machine power samples `(t_ns, kW)` as a run observer sees them.
#[derive(Default)]
struct PowerTrace(Vec<(i64, f64)>);

impl<'s> aimm_store::RunObserver<Simulator<'s>> for PowerTrace {
    fn after_step(&mut self, sim: &mut Simulator<'s>) {
        self.0
            .push((sim.time_ns(), sim.latest(SignalKind::MachinePowerKw)));
    }
}

/// Means of `samples` `(t_ns, value)` per whole second (keyed by the second, ns / 1e9).
pub fn per_second(samples: impl IntoIterator<Item = (i64, f64)>) -> BTreeMap<i64, f64> {
    let mut sums: BTreeMap<i64, (f64, u32)> = BTreeMap::new();
    for (t, v) in samples {
        let e = sums.entry(t.div_euclid(NS)).or_default();
        e.0 += v;
        e.1 += 1;
    }
    sums.into_iter()
        .map(|(s, (sum, n))| (s, sum / f64::from(n)))
        .collect()
}

/// A cell's power per whole second: each machine's one-second means of its power samples,
/// summed over the machines (the cap holds for this, the power a plant meter integrates).
pub fn cell_power<M, S>(machines: M) -> BTreeMap<i64, f64>
where
    M: IntoIterator<Item = S>,
    S: IntoIterator<Item = (i64, f64)>,
{
    let mut cell: BTreeMap<i64, f64> = BTreeMap::new();
    for samples in machines {
        for (s, kw) in per_second(samples) {
            *cell.entry(s).or_default() += kw;
        }
    }
    cell
}

/// Sets up the simulator for `program` on `machine`, parts starting at `start_ns`.
fn simulator<'p>(
    program: &'p Program,
    machine: &MachineSpec,
    material: Material,
    seed: u64,
    start_ns: i64,
) -> Result<Simulator<'p>, ScheduleCellError> {
    let mut config = SimConfig::new(machine.clone(), material, seed);
    config.start_ns = start_ns;
    case_machine(program, config)
        .map(|(sim, _)| sim)
        .map_err(|e| ScheduleCellError::Setup(format!("{}: {e}", machine.id)))
}

/// Makes recorded parts of the cell's programs on its machines (each program registered once
/// per machine).
struct PartMaker<'a> {
    spec: &'a ScheduleCellSpec,
    programs: &'a [Program],
    /// Stored program row per program index and machine.
    stored: BTreeMap<(usize, usize), aimm_store::ProgramId>,
    parts: u64,
}

impl PartMaker<'_> {
    /// Makes program `p` on machine `m` from `start_ns`, recorded with `params_json`; returns the
    /// part and its machine-power samples.
    fn make(
        &mut self,
        store: &mut dyn Store,
        (p, m): (usize, usize),
        start_ns: i64,
        params_json: Value,
    ) -> Result<(RecordedPart, Vec<(i64, f64)>), ScheduleCellError> {
        let (name, text, material) = &self.spec.programs[p];
        let machine = &self.spec.machines[m];
        let program = match self.stored.get(&(p, m)) {
            Some(&id) => id,
            None => {
                let why = "a part of the energy-scheduled cell";
                let (row, _) = register_program(store, machine, (name, text), why, start_ns)?;
                self.stored.insert((p, m), row.id);
                row.id
            }
        };
        self.parts += 1;
        let seed = self.spec.seed.wrapping_add(7000 + self.parts);
        let mut sim = simulator(&self.programs[p], machine, *material, seed, start_ns)?;
        let part = PartSpec {
            machine,
            program,
            material: *material,
            seed,
            params_json,
        };
        let mut trace = PowerTrace::default();
        let recorded = record_part(&mut sim, store, &part, &mut trace)?;
        Ok((recorded, trace.0))
    }
}

/// The simulator as the runner's floor: parts recorded into the store, holds as machine-power
/// and machine-state samples at 1 Hz of the state's power.
struct SimFloor<'a> {
    store: &'a mut dyn Store,
    spec: &'a ScheduleCellSpec,
    maker: PartMaker<'a>,
    /// `[job][op]` → program index.
    program_of: Vec<Vec<usize>>,
    /// Per machine, realised power samples.
    power: Vec<Vec<(i64, f64)>>,
    /// The schedule's evidence; commands are recorded through it before they are given.
    evidence: ScheduleEvidence,
    /// Windows of the plan in force: a hold inside one is the machine's tool change.
    windows: Vec<Window>,
}

impl CellFloor for SimFloor<'_> {
    fn record(&mut self, g: &Given) -> Result<(), String> {
        let tool_change = self
            .windows
            .iter()
            .any(|w| w.machine == g.machine && (w.start_s..w.end_s).contains(&g.at_s));
        self.evidence
            .command(self.store, *g, tool_change)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn run_operation(
        &mut self,
        machine: usize,
        job: usize,
        op: usize,
        start_ns: i64,
    ) -> Result<i64, String> {
        let params = json!({"schedule": {"job": job, "op": op + 1}, "feed_loop": "off"});
        let p = self.program_of[job][op];
        let (part, trace) = self
            .maker
            .make(self.store, (p, machine), start_ns, params)
            .map_err(|e| e.to_string())?;
        self.power[machine].extend(trace);
        Ok(part.t_end_ns)
    }

    fn hold(
        &mut self,
        machine: usize,
        state: PlanState,
        from_ns: i64,
        to_ns: i64,
    ) -> Result<(), String> {
        let spec = &self.spec.machines[machine];
        let (kw, code) = state_power(state);
        let mut power = SignalSeries::new(spec.id.clone(), SignalKind::MachinePowerKw);
        let mut states = SignalSeries::new(spec.id.clone(), SignalKind::MachineState);
        let mut t = from_ns;
        while t < to_ns {
            power.t_ns.push(t);
            power.values.push(kw);
            states.t_ns.push(t);
            states.values.push(code.code());
            self.power[machine].push((t, kw));
            t += NS;
        }
        self.store
            .append_segments(None, Origin::SIMULATOR, &[power, states])
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// The simulator's power and state code for a planned state (switching draws idle power).
fn state_power(state: PlanState) -> (f64, aimm_model::MachineState) {
    let p = PowerModel::default();
    match state {
        PlanState::Off => (0.0, aimm_model::MachineState::Off),
        PlanState::Standby => (p.standby_kw, aimm_model::MachineState::Standby),
        _ => (p.idle_kw, aimm_model::MachineState::Idle),
    }
}

/// Plans, runs and validates the cell (see the module documentation).
pub fn run_schedule_cell(
    store: &mut dyn Store,
    spec: &ScheduleCellSpec,
    mut progress: impl FnMut(&str),
) -> Result<ScheduleCellOutcome, ScheduleCellError> {
    let programs: Vec<Program> = spec
        .programs
        .iter()
        .map(|(name, text, _)| parse(name, text))
        .collect::<Result<_, _>>()
        .map_err(|e| ScheduleCellError::Setup(e.to_string()))?;
    progress("simulating each part once for the plan's times and powers");
    // The reference parts, recorded: what the plan's times and powers rest on.
    let mut maker = PartMaker {
        spec,
        programs: &programs,
        stored: BTreeMap::new(),
        parts: 0,
    };
    let mut references: BTreeMap<(usize, usize), Reference> = BTreeMap::new();
    let mut measured_on: Vec<Citation> = Vec::new();
    let mut free_ns = vec![spec.not_before_ns; spec.machines.len()];
    for (m, free) in free_ns.iter_mut().enumerate() {
        *free = (*free).max(next_part_start_ns(
            store,
            &spec.machines[m].id,
            DEFAULT_CHANGEOVER_S,
        )?);
    }
    for job in &spec.jobs {
        for (p, machines) in &job.operations {
            for &m in machines {
                if references.contains_key(&(*p, m)) {
                    continue;
                }
                let params = json!({"schedule": "reference part", "feed_loop": "off"});
                let (part, trace) = maker.make(store, (*p, m), free_ns[m], params)?;
                free_ns[m] = part.t_end_ns + changeover_ns(DEFAULT_CHANGEOVER_S);
                for s in &part.segments {
                    if let (SignalKind::MachinePowerKw, Some(i)) = (s.signal, s.ledger_index) {
                        measured_on.push(Citation {
                            leaf_index: i,
                            leaf_hash: store.ledger_record(i)?.leaf_hash,
                        });
                    }
                }
                let peak = per_second(trace.iter().copied())
                    .into_values()
                    .fold(0.0, f64::max);
                references.insert(
                    (*p, m),
                    Reference {
                        duration_s: part.result.cycle_time_s.ceil() as Time,
                        peak_kw: peak * (1.0 + PEAK_MARGIN),
                        energy_kwh: part.result.energy_kwh,
                    },
                );
            }
        }
    }
    // The plan starts at the first start of day after every machine is free.
    let day_ns = DAY_S * NS;
    let latest = free_ns.into_iter().max().unwrap_or(spec.not_before_ns);
    let mut epoch_ns = latest.div_euclid(day_ns) * day_ns + spec.start_of_day_s * NS;
    if epoch_ns < latest {
        epoch_ns += day_ns;
    }
    let cell = named_model(spec, &references)?;
    let params = ImproveParams {
        seed: spec.seed,
        iterations: spec.iterations,
        order: COST_FIRST,
    };
    // The loop's parameters, versioned: the cap and tariff it keeps, and the times and powers
    // it plans with, derived from the reference parts' power segments.
    let parameters = record_parameter(
        store,
        epoch_ns,
        ParameterValue {
            loop_name: LOOP_NAME,
            parameter: &format!("{}/model", spec.name),
            value: json!({
                "cap_kw": spec.cap_kw,
                "demand_per_kw": spec.demand_per_kw,
                "tariff": cell.to_json().tariff,
                "objective": "lowest energy cost, weighted tardiness no worse than EDD",
                "options": references.iter().map(|((p, m), r)| json!({
                    "program": spec.programs[*p].0, "machine": cell.machines[*m],
                    "duration_s": r.duration_s, "cutting_kw": r.peak_kw,
                    "energy_kwh": r.energy_kwh})).collect::<Vec<_>>(),
            }),
            bounds: json!({"cap_kw": spec.cap_kw}),
            actor: "cell plan",
            role: None,
            derived_from: measured_on,
        },
    )?;
    progress("planning the cell");
    let first = plan_cell(&cell, &params).map_err(|e| ScheduleCellError::Plan(e.to_string()))?;
    let solver = |what: &str| {
        let mut m = Map::new();
        m.insert("method".into(), json!(what));
        m.insert("seed".into(), json!(spec.seed.to_string()));
        m.insert("iterations".into(), json!(spec.iterations.to_string()));
        m
    };
    let mut evidence = ScheduleEvidence::new(&spec.name, epoch_ns);
    evidence.put(
        store,
        0,
        Put {
            cell: &cell,
            schedule: &first.schedule,
            evaluation: &first.evaluation,
            edd: &first.edd,
            trigger: json!({"kind": "initial"}),
            disruption: Map::new(),
            solver: solver("EDD/FIFO under a ladder of caps, then seeded energy-cost local search"),
            inputs: vec![parameters.clone()],
            event_records: Vec::new(),
        },
    )?;
    let mut floor = SimFloor {
        store,
        spec,
        maker,
        program_of: spec
            .jobs
            .iter()
            .map(|j| j.operations.iter().map(|(p, _)| *p).collect())
            .collect(),
        power: vec![Vec::new(); spec.machines.len()],
        evidence,
        windows: Vec::new(),
    };
    let mut runner = Runner::new(&cell.model, epoch_ns);
    let mut plan = Plan {
        model: cell.model.clone(),
        schedule: first.schedule.clone(),
        windows: Vec::new(),
    };
    let (mut evaluation, mut edd, mut moved, mut from) = (first.evaluation, first.edd, 0, 0);
    // The tool change comes due when the machine's parts the tool has left are made.
    let due = spec.tool_change.as_ref().and_then(|change| {
        let mut ends: Vec<Time> = plan
            .schedule
            .jobs
            .iter()
            .flatten()
            .filter(|s| s.machine == change.machine)
            .map(|s| s.end)
            .collect();
        ends.sort_unstable();
        ends.get(change.after_parts.checked_sub(1)?)
            .map(|&at_s| (change, at_s))
    });
    // An advising scheduler commands nothing: no parts, no event, and its report claims the
    // plan as if carried out.
    if let Some((change, at_s)) = due.filter(|_| !spec.advise_only) {
        progress("making parts (plan 1)");
        let stop = runner.carry_out(&plan.model, &plan.schedule, (0, at_s), &mut floor)?;
        if stop != Stop::Done {
            return Err(ScheduleCellError::Plan(format!("plan 1 stopped: {stop:?}")));
        }
        progress("rescheduling for the wear loop's tool change");
        // The scheduler publishes on whole seconds of the cell's clock: the new plan is in force
        // from the first whole second after it was computed, and is computed for that instant
        // (what plan 1 starts before it has started). A computation slower than its second is
        // redone for a later one, so the record's time is honest and the result deterministic.
        let mut tick_s: Time = 1;
        let done = loop {
            let started = std::time::Instant::now();
            let event = Event::ToolChange {
                machine: change.machine,
                at_s: at_s + tick_s,
                duration_s: change.duration_s,
            };
            let done = reschedule(&plan, &event, &params)
                .map_err(|e| ScheduleCellError::Plan(e.to_string()))?;
            let took = started.elapsed().as_secs_f64();
            if took <= tick_s as f64 {
                break done;
            }
            tick_s = took.ceil() as Time;
        };
        from = at_s + tick_s;
        // Plan 1 stays in force while the new one is computed.
        let stop = runner.carry_out(&plan.model, &plan.schedule, (at_s, from), &mut floor)?;
        if stop != Stop::Done {
            return Err(ScheduleCellError::Plan(format!("plan 1 stopped: {stop:?}")));
        }
        moved = done.moved.len();
        edd = done
            .plan
            .model
            .evaluate(&dispatch(&done.plan.model, Rule::Edd))
            .map_err(|e| ScheduleCellError::Plan(e.to_string()))?;
        let mut disruption = Map::new();
        disruption.insert("moved".into(), json!(done.moved.len()));
        disruption.insert("kept".into(), json!(done.kept));
        let named = NamedModel {
            machines: cell.machines.clone(),
            jobs: cell.jobs.clone(),
            model: done.plan.model.clone(),
        };
        floor.evidence.put(
            floor.store,
            from,
            Put {
                cell: &named,
                schedule: &done.plan.schedule,
                evaluation: &done.evaluation,
                edd: &edd,
                trigger: json!({"kind": "tool_change", "machine": cell.machines[change.machine],
                                "at_s": at_s, "duration_s": change.duration_s}),
                disruption,
                solver: solver(
                    "repair keeping the started work and the old order, then seeded energy-cost local search",
                ),
                inputs: vec![parameters.clone()],
                event_records: vec![change.decision.clone()],
            },
        )?;
        evaluation = done.evaluation;
        floor.windows = done.plan.windows.clone();
        plan = done.plan;
    }
    let end_s = plan.schedule.makespan();
    let realised_peak_kw = if spec.advise_only {
        evaluation.peak_kw
    } else {
        progress("making parts");
        let stop = runner.carry_out(&plan.model, &plan.schedule, (from, end_s + 1), &mut floor)?;
        if stop != Stop::Done {
            return Err(ScheduleCellError::Plan(format!(
                "the plan stopped: {stop:?}"
            )));
        }
        cell_power(floor.power.iter().map(|m| m.iter().copied()))
            .into_values()
            .fold(0.0, f64::max)
    };
    let mut jobs = Vec::new();
    for (j, job) in spec.jobs.iter().enumerate() {
        let (mut planned, mut realised) = (0.0, 0.0);
        for (o, (p, _)) in job.operations.iter().enumerate() {
            let s = plan.schedule.jobs[j][o];
            let reference = references[&(*p, s.machine)].energy_kwh;
            planned += reference;
            realised += if spec.advise_only {
                reference
            } else {
                let (a, b) = runner.realised()[j][o].unwrap_or((s.start, s.end));
                energy_kwh(
                    &floor.power[s.machine],
                    epoch_ns + a * NS,
                    epoch_ns + b * NS,
                )
            };
        }
        jobs.push(JobEnergy {
            job: job.id.clone(),
            planned_kwh: planned,
            realised_kwh: realised,
        });
    }
    let cites: Vec<Citation> = floor.evidence.in_force().cloned().into_iter().collect();
    let schedules = floor.evidence.version();
    let store = floor.store;
    let passed = realised_peak_kw <= spec.cap_kw && jobs.iter().all(JobEnergy::as_planned);
    let report = validation_report(
        store,
        spec,
        epoch_ns + (end_s + 1) * NS,
        (&evaluation, &edd),
        realised_peak_kw,
        &jobs,
        passed,
        cites,
    )?;
    Ok(ScheduleCellOutcome {
        cap_kw: spec.cap_kw,
        realised_peak_kw,
        plan_cost: evaluation.objectives.cost,
        edd_cost: edd.objectives.cost,
        plan_tardiness_s: evaluation.objectives.weighted_tardiness_s,
        edd_tardiness_s: edd.objectives.weighted_tardiness_s,
        jobs,
        schedules,
        moved,
        report,
        passed,
    })
}

/// Energy of `samples` (held from each sample to the next) over `[from_ns, to_ns)`, kWh.
fn energy_kwh(samples: &[(i64, f64)], from_ns: i64, to_ns: i64) -> f64 {
    let mut sorted: Vec<(i64, f64)> = samples
        .iter()
        .copied()
        .filter(|&(t, _)| t >= from_ns && t < to_ns)
        .collect();
    sorted.sort_by_key(|s| s.0);
    sorted
        .iter()
        .enumerate()
        .map(|(i, &(t, kw))| {
            let next = sorted.get(i + 1).map_or(to_ns, |s| s.0);
            kw * (next - t) as f64 / NS as f64 / 3600.0
        })
        .sum()
}

/// The cell's named model from its spec and the reference runs.
fn named_model(
    spec: &ScheduleCellSpec,
    references: &BTreeMap<(usize, usize), Reference>,
) -> Result<NamedModel, ScheduleCellError> {
    let p = PowerModel::default();
    let json = ModelJson {
        machines: spec
            .machines
            .iter()
            .map(|m| {
                let power = MachinePower {
                    rated_kw: m.spindle_rated_power_kw / p.spindle_efficiency + p.idle_kw,
                    idle_kw: p.idle_kw,
                    standby_kw: p.standby_kw,
                    off_kw: 0.0,
                    wake_s: WAKE_S,
                    wake_kw: p.idle_kw,
                    warmup_s: WARMUP_S,
                    warmup_kw: p.idle_kw,
                };
                MachineJson::new(m.id.as_str(), &power)
            })
            .collect(),
        jobs: spec
            .jobs
            .iter()
            .map(|job| JobJson {
                id: job.id.clone(),
                due_s: job.due_s,
                weight: job.weight,
                operations: job
                    .operations
                    .iter()
                    .map(|(prog, machines)| OperationJson {
                        options: machines
                            .iter()
                            .map(|&m| {
                                let r = &references[&(*prog, m)];
                                OptionJson {
                                    machine: m,
                                    duration_s: r.duration_s,
                                    cutting_kw: r.peak_kw,
                                }
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        tariff: spec.tariff.iter().map(BandJson::from).collect(),
        demand_per_kw: spec.demand_per_kw,
        cap_kw: spec.cap_kw,
    };
    NamedModel::from_json(&json).map_err(ScheduleCellError::Plan)
}

/// The `validation_report` of the cell.
#[allow(clippy::too_many_arguments)]
fn validation_report(
    store: &mut dyn Store,
    spec: &ScheduleCellSpec,
    t_ns: i64,
    (plan, edd): (&Evaluation, &Evaluation),
    realised_peak_kw: f64,
    jobs: &[JobEnergy],
    passed: bool,
    cites: Vec<Citation>,
) -> Result<Citation, StoreError> {
    let mut figures = Map::new();
    figures.insert("cell".into(), json!(spec.name));
    figures.insert(
        "machines".into(),
        json!(spec
            .machines
            .iter()
            .map(|m| m.id.to_string())
            .collect::<Vec<_>>()),
    );
    figures.insert("cap_kw".into(), json!(spec.cap_kw));
    figures.insert("realised_peak_kw".into(), json!(realised_peak_kw));
    figures.insert("plan".into(), Value::Object(objective_values(plan)));
    figures.insert("edd".into(), Value::Object(objective_values(edd)));
    figures.insert(
        "jobs".into(),
        serde_json::to_value(jobs).expect("serialises"),
    );
    let cost_pct = 100.0 * (plan.objectives.cost / edd.objectives.cost - 1.0);
    let summary = format!(
        "realised peak {realised_peak_kw:.2} kW against the {:.2} kW cap; planned cost {:.2} \
         ({cost_pct:+.1} % against EDD's {:.2}) at weighted tardiness {:.0} s (EDD {:.0} s); \
         realised energy within {:.0} % of planned for {} of {} jobs",
        spec.cap_kw,
        plan.objectives.cost,
        edd.objectives.cost,
        plan.objectives.weighted_tardiness_s,
        edd.objectives.weighted_tardiness_s,
        100.0 * ENERGY_TOLERANCE,
        jobs.iter().filter(|j| j.as_planned()).count(),
        jobs.len()
    );
    append_one(
        store,
        &Record::new(
            t_ns,
            Evidence::ValidationReport(ValidationReport {
                loop_name: LOOP_NAME.into(),
                test: "energy-scheduled cell on the simulator".into(),
                passed,
                figures,
                summary,
            }),
            cites,
        ),
    )
}

/// The demo's tariff: a day with an evening peak and a cheap night (examples/schedule/tariff.csv).
pub const DEMO_TARIFF: &str = include_str!("../../../examples/schedule/tariff.csv");
/// The demo cell starts at this time of day (UTC), 20 minutes before the night tariff.
pub const DEMO_START_OF_DAY_S: Time = 20 * 3600 + 40 * 60;
/// The wear loop's tool change takes this long in the demo cell, s (assumed: replace, measure,
/// touch off).
pub const DEMO_TOOL_CHANGE_S: Time = 300;

/// The demo's energy-scheduled cell: three mills `machines` (in the demo mill-4, after the
/// wear loop's series, and two more) make five jobs from the three [`EXAMPLE_PROGRAMS`]
/// (bracket, cover, steps), starting at the first [`DEMO_START_OF_DAY_S`] at or
/// after `free_ns`; the cap is 60 % of the three spindles' electrical power plus idle.
/// `tool_change`: the wear loop's planned change on the first machine (its decision), due after
/// that machine's first part.
pub fn demo_spec(
    machines: [&str; 3],
    free_ns: i64,
    seed: u64,
    tool_change: Option<Citation>,
) -> Result<ScheduleCellSpec, ScheduleCellError> {
    use aimm_loops::schedule::cell::{parse_tariff, rotate_tariff};
    let tariff = parse_tariff(DEMO_TARIFF)
        .map_err(|e| ScheduleCellError::Setup(format!("examples/schedule/tariff.csv: {e}")))?;
    let machines: Vec<MachineSpec> = machines.into_iter().map(MachineSpec::vmc).collect();
    let p = PowerModel::default();
    let cap_kw = 0.6
        * machines
            .iter()
            .map(|m| m.spindle_rated_power_kw / p.spindle_efficiency + p.idle_kw)
            .sum::<f64>();
    let materials = [
        Material::SteelC45,
        Material::Aluminium6061,
        Material::SteelC45,
    ];
    let job = |id: &str, operations: Vec<(usize, Vec<usize>)>, due_h: f64, weight: f64| CellJob {
        id: id.into(),
        operations,
        due_s: (due_h * 3600.0) as Time,
        weight,
    };
    Ok(ScheduleCellSpec {
        name: "energy-cell".into(),
        programs: EXAMPLE_PROGRAMS
            .iter()
            .zip(materials)
            .map(|((name, text), material)| (name.to_string(), text.to_string(), material))
            .collect(),
        jobs: vec![
            job("bracket-A", vec![(0, vec![0, 1]), (2, vec![2])], 3.0, 1.0),
            job(
                "bracket-B",
                vec![(0, vec![0, 1]), (2, vec![1, 2])],
                3.0,
                1.0,
            ),
            job("cover-A", vec![(1, vec![1, 2])], 1.5, 2.0),
            job("cover-B", vec![(1, vec![0, 2])], 3.0, 1.0),
            job("steps-A", vec![(2, vec![0])], 3.0, 1.0),
        ],
        machines,
        tariff: rotate_tariff(&tariff, DEMO_START_OF_DAY_S),
        demand_per_kw: 0.0,
        cap_kw,
        start_of_day_s: DEMO_START_OF_DAY_S,
        not_before_ns: free_ns,
        seed,
        iterations: 3000,
        advise_only: false,
        tool_change: tool_change.map(|decision| PlannedToolChange {
            machine: 0,
            decision,
            duration_s: DEMO_TOOL_CHANGE_S,
            after_parts: 1,
        }),
    })
}
