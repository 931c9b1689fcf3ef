//! The plan in force for a named cell: computed with the baselines it must beat (FIFO and EDD
//! dispatch under the same cap and the same standby rules, evaluated in the same model), and
//! its JSON form, the plan file `aimm schedule` writes and `aimm schedule event` reads back.

use super::cell::{ModelJson, NamedModel};
use super::dispatch::{dispatch, Rule};
use super::energy::{Evaluation, ObjectiveOrder};
use super::frame::Window;
use super::improve::{plan, ImproveError, ImproveParams};
use super::instance::Time;
use super::timetable::{Schedule, ScheduledOp};
use serde::{Deserialize, Serialize};

/// Iterations of the energy improvement when the caller names none: enough for a cell of a few
/// dozen operations, deterministic for a seed.
pub const DEFAULT_PLAN_ITERATIONS: u64 = 4000;

/// "Lowest energy cost with no more weighted tardiness than EDD": the improvement never raises
/// tardiness, so weighting cost alone gives exactly that.
pub const COST_FIRST: ObjectiveOrder = ObjectiveOrder::Weighted {
    per_tardiness_s: 0.0,
    per_cost: 1.0,
    per_makespan_s: 0.0,
};

/// A cell's plan and the baselines computed in the same model.
#[derive(Debug, Clone)]
pub struct CellPlan {
    /// The plan.
    pub schedule: Schedule,
    /// Its evaluation.
    pub evaluation: Evaluation,
    /// EDD dispatch under the cap.
    pub edd: Evaluation,
    /// FIFO dispatch under the cap.
    pub fifo: Evaluation,
}

/// Plans `cell` with `params` and evaluates the FIFO and EDD baselines.
pub fn plan_cell(cell: &NamedModel, params: &ImproveParams) -> Result<CellPlan, ImproveError> {
    let model = &cell.model;
    let improved = plan(model, params)?;
    let edd = model.evaluate(&dispatch(model, Rule::Edd))?;
    let fifo = model.evaluate(&dispatch(model, Rule::Fifo))?;
    Ok(CellPlan {
        schedule: improved.schedule,
        evaluation: improved.evaluation,
        edd,
        fifo,
    })
}

/// What a schedule costs and how late it is: the figures a plan is printed and recorded with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanFigures {
    /// Energy cost plus demand charge.
    pub cost: f64,
    /// Energy used.
    pub energy_kwh: f64,
    /// Its price under the tariff.
    pub energy_cost: f64,
    /// Demand charge on the peak.
    pub demand_cost: f64,
    /// The cell's highest power.
    pub peak_kw: f64,
    /// Σ weight × lateness.
    pub weighted_tardiness_s: f64,
    /// End of the last operation.
    pub makespan_s: Time,
}

impl PlanFigures {
    /// The figures of an evaluated schedule.
    pub fn of(e: &Evaluation) -> Self {
        Self {
            cost: e.objectives.cost,
            energy_kwh: e.energy_kwh,
            energy_cost: e.energy_cost,
            demand_cost: e.demand_cost,
            peak_kw: e.peak_kw,
            weighted_tardiness_s: e.objectives.weighted_tardiness_s,
            makespan_s: e.objectives.makespan_s,
        }
    }
}

/// One operation of a plan file: numbers from 0 in model order, times in s from the plan's
/// start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedOp {
    /// The job.
    pub job: usize,
    /// The operation within the job.
    pub op: usize,
    /// The machine.
    pub machine: usize,
    /// Start.
    pub start: Time,
    /// End.
    pub end: Time,
}

/// A plan file: the model and the schedule in force, the machines' windows of unavailability
/// in force, and how many schedules came before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// The schedule's version, from 1 (each event adds one).
    pub version: u32,
    /// The model.
    pub model: ModelJson,
    /// The operations.
    pub operations: Vec<PlannedOp>,
    /// Machines down (breakdowns, tool changes), machines numbered from 0.
    #[serde(default)]
    pub windows: Vec<Window>,
}

impl PlanFile {
    /// The plan file of `schedule` under `cell` with `windows` in force.
    pub fn new(version: u32, cell: &NamedModel, schedule: &Schedule, windows: &[Window]) -> Self {
        Self {
            version,
            model: cell.to_json(),
            operations: operations(schedule),
            windows: windows.to_vec(),
        }
    }

    /// The model and schedule it holds, validated: the model as [`NamedModel::from_json`], the
    /// schedule by evaluating it (every operation once, eligible machines, durations, order).
    pub fn read(&self) -> Result<(NamedModel, Schedule), String> {
        let cell = NamedModel::from_json(&self.model)?;
        let schedule = Schedule::from_ops(
            cell.model.instance(),
            self.operations.iter().map(|p| {
                let placed = ScheduledOp {
                    machine: p.machine,
                    start: p.start,
                    end: p.end,
                };
                (p.job, p.op, placed)
            }),
        )?;
        cell.model
            .evaluate(&schedule)
            .map_err(|v| format!("the schedule is not valid: {v}"))?;
        Ok((cell, schedule))
    }
}

/// The operations of `schedule`, job by job.
pub fn operations(schedule: &Schedule) -> Vec<PlannedOp> {
    schedule
        .jobs
        .iter()
        .enumerate()
        .flat_map(|(job, ops)| {
            ops.iter().enumerate().map(move |(op, s)| PlannedOp {
                job,
                op,
                machine: s.machine,
                start: s.start,
                end: s.end,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::cell::{parse_jobs, parse_machines, parse_tariff};

    fn cell() -> NamedModel {
        let machines = parse_machines(
            "machine,rated_kw,idle_kw,standby_kw,off_kw,wake_s,wake_kw,warmup_s,warmup_kw\n\
             a,8,2.2,0.6,0,10,2.2,120,2.2\nb,10,2.2,0.6,0,10,2.2,120,2.2\n",
        )
        .unwrap();
        let jobs = parse_jobs(
            "job,op,machine,duration_s,cutting_kw,due_s,weight\n\
             j1,1,a,1800,,20000,1\nj1,2,b,1200,,20000,1\n\
             j2,1,b,2400,,20000,1\nj2,2,a,600,,20000,1\n\
             j3,1,a,900,,20000,1\nj3,1,b,1000,,20000,1\n",
            &machines.0,
        )
        .unwrap();
        let tariff =
            parse_tariff("start,end,price_per_kwh\n00:00,02:00,0.40\n02:00,24:00,0.10\n").unwrap();
        NamedModel::new(machines, jobs, tariff, 0.2, 14.0).unwrap()
    }

    #[test]
    fn the_plan_beats_edd_under_the_cap_and_its_file_reads_back() {
        let cell = cell();
        let p = plan_cell(
            &cell,
            &ImproveParams {
                seed: 1,
                iterations: 2000,
                order: COST_FIRST,
            },
        )
        .unwrap();
        assert_eq!(p.evaluation.over_cap, None);
        assert!(
            p.evaluation.objectives.weighted_tardiness_s <= p.edd.objectives.weighted_tardiness_s
        );
        // Two hours of dear power first: waiting for the cheap band pays with loose due dates.
        assert!(
            p.evaluation.objectives.cost < 0.85 * p.edd.objectives.cost,
            "{} vs EDD {}",
            p.evaluation.objectives.cost,
            p.edd.objectives.cost
        );
        let file = PlanFile::new(1, &cell, &p.schedule, &[]);
        let text = serde_json::to_string(&file).unwrap();
        let back: PlanFile = serde_json::from_str(&text).unwrap();
        let (_, schedule) = back.read().unwrap();
        assert_eq!(schedule, p.schedule);
        let mut broken = back.clone();
        broken.operations.pop();
        assert!(broken.read().unwrap_err().contains("is not scheduled"));
        let mut overlapping = back;
        overlapping.operations[0].start += 1;
        assert!(overlapping.read().unwrap_err().contains("not valid"));
    }
}
