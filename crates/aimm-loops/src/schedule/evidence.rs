//! The scheduling loop's evidence: each schedule put in force is a `schedule` record carrying
//! its whole model, its operations and objective values next to EDD's in the same model, citing
//! the schedule it replaces and the records of the event that triggered it (the wear loop's
//! planned tool change); each command the runner gives a machine is a `control_action` citing
//! the schedule it carries out (and, for a tool-change hold, the wear loop's decision).

use super::cell::NamedModel;
use super::energy::{Evaluation, MachineState};
use super::planning::PlanFigures;
use super::runner::{Command, Given};
use super::timetable::Schedule;
use aimm_ledger::record::{ControlAction, Evidence, Record, ScheduleRecord};
use aimm_ledger::Citation;
use aimm_store::evidence::append_one;
use aimm_store::{Store, StoreError};
use serde_json::{json, Map, Value};

/// Name of the loop in evidence records.
pub const LOOP_NAME: &str = "schedule";

/// Nanoseconds per second of the plan's time.
const NS: i64 = 1_000_000_000;

/// A machine state as records name it.
pub fn state_name(state: MachineState) -> &'static str {
    match state {
        MachineState::Off => "off",
        MachineState::WarmingUp => "warming_up",
        MachineState::Standby => "standby",
        MachineState::Waking => "waking",
        MachineState::Idle => "idle",
        MachineState::Cutting => "cutting",
    }
}

/// The objective values of `e`, by name ([`PlanFigures`] as a JSON object).
pub fn objective_values(e: &Evaluation) -> Map<String, Value> {
    match serde_json::to_value(PlanFigures::of(e)) {
        Ok(Value::Object(m)) => m,
        _ => unreachable!("a struct of numbers serialises to an object"),
    }
}

/// A schedule to record.
pub struct Put<'a> {
    /// The cell and its model.
    pub cell: &'a NamedModel,
    /// The schedule.
    pub schedule: &'a Schedule,
    /// Its evaluation.
    pub evaluation: &'a Evaluation,
    /// EDD dispatch in the same model.
    pub edd: &'a Evaluation,
    /// `{"kind": "initial"}` or the event.
    pub trigger: Value,
    /// Extra figures (disruption: `moved`, `kept`, …).
    pub disruption: Map<String, Value>,
    /// Method, seed, iterations.
    pub solver: Map<String, Value>,
    /// The loop's parameters in force (`control_parameter_change`), cited.
    pub inputs: Vec<Citation>,
    /// Records of the event (the wear loop's decision), cited.
    pub event_records: Vec<Citation>,
}

/// Where a cell's scheduling evidence goes.
pub struct ScheduleEvidence {
    cell: String,
    epoch_ns: i64,
    version: u32,
    in_force: Option<Citation>,
    /// Machines and jobs of the schedule in force, by name.
    machines: Vec<String>,
    jobs: Vec<String>,
    /// Records a tool-change hold on a machine cites: the wear loop's decision, per machine.
    tool_change_cites: Vec<(usize, Citation)>,
}

impl ScheduleEvidence {
    /// Evidence of cell `cell` whose plans count time from `epoch_ns`.
    pub fn new(cell: &str, epoch_ns: i64) -> Self {
        Self {
            cell: cell.into(),
            epoch_ns,
            version: 0,
            in_force: None,
            machines: Vec::new(),
            jobs: Vec::new(),
            tool_change_cites: Vec::new(),
        }
    }

    /// The version of the schedule in force (0 before the first).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The citation of the schedule in force.
    pub fn in_force(&self) -> Option<&Citation> {
        self.in_force.as_ref()
    }

    /// Records `put` as the schedule in force from `at_s` (the plan's s).
    pub fn put(
        &mut self,
        store: &mut dyn Store,
        at_s: i64,
        put: Put<'_>,
    ) -> Result<Citation, StoreError> {
        self.version += 1;
        self.machines = put.cell.machines.clone();
        self.jobs = put.cell.jobs.clone();
        let operations = put
            .schedule
            .jobs
            .iter()
            .enumerate()
            .flat_map(|(j, ops)| {
                let (jobs, machines) = (&self.jobs, &self.machines);
                ops.iter().enumerate().map(move |(o, s)| {
                    json!({"job": jobs[j], "op": o + 1, "machine": machines[s.machine],
                           "start_s": s.start, "end_s": s.end})
                })
            })
            .collect();
        let mut objectives = objective_values(put.evaluation);
        let edd = objective_values(put.edd);
        objectives.insert("edd".into(), Value::Object(edd));
        objectives.extend(put.disruption);
        let model = serde_json::to_value(put.cell.to_json()).expect("a model serialises");
        let mut cites: Vec<Citation> = self.in_force.iter().cloned().collect();
        cites.extend(put.inputs.iter().cloned());
        cites.extend(put.event_records.iter().cloned());
        if let Some(machine) = put.trigger.get("machine").and_then(Value::as_str) {
            if let (Some(m), Some(c)) = (
                self.machines.iter().position(|x| x == machine),
                put.event_records.first(),
            ) {
                self.tool_change_cites.push((m, c.clone()));
            }
        }
        let record = Record::new(
            self.epoch_ns + at_s * NS,
            Evidence::Schedule(ScheduleRecord {
                cell: self.cell.clone(),
                version: self.version,
                epoch_ns: self.epoch_ns,
                trigger: put.trigger,
                model,
                operations,
                objectives,
                solver: put.solver,
            }),
            cites,
        );
        let cite = append_one(store, &record)?;
        self.in_force = Some(cite.clone());
        Ok(cite)
    }

    /// Records a command the runner gives, citing the schedule in force (and, for a hold over a
    /// machine's tool change, the decision that planned it: `tool_change` names that hold).
    pub fn command(
        &mut self,
        store: &mut dyn Store,
        given: Given,
        tool_change: bool,
    ) -> Result<Citation, StoreError> {
        let in_force = self
            .in_force
            .clone()
            .expect("a schedule is put in force before its commands");
        let command = match given.command {
            Command::Run { job, op } => json!({"run": {"job": self.jobs[job], "op": op + 1}}),
            Command::Hold { state, until_s } => json!({
                "hold": if tool_change { "tool_change" } else { state_name(state) },
                "until_ns": (self.epoch_ns + until_s * NS).to_string(),
            }),
        };
        let mut cites = vec![in_force];
        if tool_change {
            cites.extend(
                self.tool_change_cites
                    .iter()
                    .filter(|(m, _)| *m == given.machine)
                    .map(|(_, c)| c.clone()),
            );
        }
        append_one(
            store,
            &Record::new(
                self.epoch_ns + given.at_s * NS,
                Evidence::ControlAction(ControlAction {
                    loop_name: LOOP_NAME.into(),
                    machine: self.machines[given.machine].clone(),
                    command,
                    inputs: json!({"schedule_version": self.version, "planned_at_s": given.at_s}),
                }),
                cites,
            ),
        )
    }
}
