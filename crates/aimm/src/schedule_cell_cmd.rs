//! `aimm schedule --jobs …`: a cell read from its CSV files (machines, jobs, tariff) planned for
//! the lowest energy cost under the cap, printed next to FIFO and EDD dispatch in the same model,
//! and written as a plan file; `aimm schedule event …`: that plan rescheduled after an event.

use crate::output::{print_json, table};
use aimm_loops::schedule::cell::{
    parse_jobs, parse_machines, parse_tariff, rotate_tariff, FileError, NamedModel, DAY_S,
};
use aimm_loops::schedule::energy::ObjectiveOrder;
use aimm_loops::schedule::improve::ImproveParams;
use aimm_loops::schedule::planning::{
    operations, plan_cell, PlanFigures, PlanFile, PlannedOp, COST_FIRST, DEFAULT_PLAN_ITERATIONS,
};
use aimm_loops::schedule::reschedule::{
    reschedule, Event, Plan, RescheduleError, RESCHEDULE_ITERATIONS,
};
use aimm_loops::schedule::timetable::Schedule;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The cell's files and the plan's settings.
#[derive(clap::Args)]
pub struct CellArgs {
    /// Jobs CSV: job,op,machine,duration_s,cutting_kw,due_s,weight.
    #[arg(long, requires_all = ["machines", "tariff", "cap"])]
    jobs: Option<PathBuf>,
    /// Machines CSV: machine,rated_kw,idle_kw,standby_kw,off_kw,wake_s,wake_kw,warmup_s,warmup_kw.
    #[arg(long)]
    machines: Option<PathBuf>,
    /// Tariff CSV: start,end,price_per_kwh (HH:MM bands of a day).
    #[arg(long)]
    tariff: Option<PathBuf>,
    /// The plant's cap on the cell's power, kW.
    #[arg(long)]
    cap: Option<f64>,
    /// Demand charge per kW of the cell's peak power.
    #[arg(long, default_value_t = 0.0)]
    demand_charge: f64,
    /// Time of day of the plan's start (time 0 of the jobs' due dates), HH:MM.
    #[arg(long, default_value = "00:00")]
    start: String,
    /// What "better" means: `cost` (lowest energy cost, tardiness no worse than EDD),
    /// `lexicographic` (weighted tardiness, then cost, then makespan) or `weighted` (--weights).
    #[arg(long, value_enum, default_value_t = Objective::Cost)]
    objective: Objective,
    /// With --objective weighted: per weighted second late, per unit of money, per second of
    /// makespan, e.g. `0.001,1,0`.
    #[arg(long)]
    weights: Option<String>,
    /// Write the plan file here (what `aimm schedule event` reschedules).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Objective {
    Cost,
    Lexicographic,
    Weighted,
}

/// A CSV file read by `parse`, its errors prefixed with the file's path.
fn read<T>(path: &Path, parse: impl FnOnce(&str) -> Result<T, FileError>) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The order `args` configure.
fn order(args: &CellArgs) -> Result<ObjectiveOrder> {
    Ok(match (args.objective, &args.weights) {
        (Objective::Cost, None) => COST_FIRST,
        (Objective::Lexicographic, None) => ObjectiveOrder::Lexicographic,
        (Objective::Weighted, Some(w)) => {
            let v: Vec<f64> = w
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .with_context(|| format!("--weights {w}: not three numbers"))?;
            match v[..] {
                [t, c, m] if v.iter().all(|x| x.is_finite() && *x >= 0.0) => {
                    ObjectiveOrder::Weighted {
                        per_tardiness_s: t,
                        per_cost: c,
                        per_makespan_s: m,
                    }
                }
                _ => bail!("--weights {w}: three finite numbers ≥ 0 (tardiness,cost,makespan)"),
            }
        }
        (Objective::Weighted, None) => bail!("--objective weighted needs --weights T,C,M"),
        (_, Some(_)) => bail!("--weights goes with --objective weighted"),
    })
}

/// `HH:MM` as seconds of the day.
fn start_of_day(text: &str) -> Result<i64> {
    let bad = || anyhow::anyhow!("--start {text}: not HH:MM");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok((h * 3600 + m * 60) % DAY_S)
}

/// The cell `args` name, validated.
fn read_cell(args: &CellArgs) -> Result<NamedModel> {
    let (Some(jobs), Some(machines), Some(tariff), Some(cap)) =
        (&args.jobs, &args.machines, &args.tariff, args.cap)
    else {
        bail!("a cell needs --jobs, --machines, --tariff and --cap (or give --instance)");
    };
    if !(cap.is_finite() && cap > 0.0) {
        bail!("--cap {cap}: must be a power above 0 kW");
    }
    if !(args.demand_charge.is_finite() && args.demand_charge >= 0.0) {
        bail!("--demand-charge {}: must be ≥ 0", args.demand_charge);
    }
    let machines = read(machines, parse_machines)?;
    let jobs = read(jobs, |t| parse_jobs(t, &machines.0))?;
    let bands = read(tariff, parse_tariff)?;
    let tariff = rotate_tariff(&bands, start_of_day(&args.start)?);
    NamedModel::new(machines, jobs, tariff, args.demand_charge, cap)
        .map_err(|e| anyhow::anyhow!("the cell cannot be scheduled: {e}"))
}

/// An operation as printed, with names.
#[derive(Serialize)]
struct NamedOp {
    #[serde(flatten)]
    op: PlannedOp,
    job_name: String,
    machine_name: String,
}

#[derive(Serialize)]
struct Printed {
    cap_kw: f64,
    plan: PlanFigures,
    edd: PlanFigures,
    fifo: PlanFigures,
    /// (plan − EDD) / EDD cost, %.
    cost_vs_edd_pct: f64,
    seed: u64,
    iterations: u64,
    operations: Vec<NamedOp>,
}

/// `aimm schedule --jobs …`.
pub fn plan(args: &CellArgs, iterations: Option<u64>, seed: u64, json: bool) -> Result<()> {
    let cell = read_cell(args)?;
    let params = ImproveParams {
        seed,
        iterations: iterations.unwrap_or(DEFAULT_PLAN_ITERATIONS),
        order: order(args)?,
    };
    let bar = crate::output::spinner();
    bar.set_message(format!(
        "planning {} operations on {} machines",
        cell.model.instance().operation_count(),
        cell.machines.len()
    ));
    let p = plan_cell(&cell, &params).map_err(|e| anyhow::anyhow!("planning failed: {e}"))?;
    bar.finish_and_clear();
    if let Some(step) = p.evaluation.over_cap {
        bail!(
            "internal error: the plan draws {} kW over [{}, {}) s, above the cap",
            step.power_kw,
            step.start_s,
            step.end_s
        );
    }
    if let Some(out) = &args.out {
        let file = PlanFile::new(1, &cell, &p.schedule, &[]);
        std::fs::write(out, serde_json::to_string_pretty(&file)?)
            .with_context(|| format!("{}: cannot write the plan", out.display()))?;
    }
    let edd_cost = p.edd.objectives.cost;
    let printed = Printed {
        cap_kw: cell.model.spec().cap_kw,
        plan: PlanFigures::of(&p.evaluation),
        edd: PlanFigures::of(&p.edd),
        fifo: PlanFigures::of(&p.fifo),
        cost_vs_edd_pct: if edd_cost > 0.0 {
            100.0 * (p.evaluation.objectives.cost - edd_cost) / edd_cost
        } else {
            0.0
        },
        seed,
        iterations: params.iterations,
        operations: named_ops(&cell, &p.schedule),
    };
    if json {
        return print_json(&printed);
    }
    print_figures(&[
        ("aimm plan", &printed.plan),
        ("EDD dispatch", &printed.edd),
        ("FIFO dispatch", &printed.fifo),
    ]);
    println!(
        "cap {:.2} kW; plan cost {:+.1} % against EDD",
        printed.cap_kw, printed.cost_vs_edd_pct
    );
    print_operations(&printed.operations);
    Ok(())
}

/// The figures of schedules, one row each.
fn print_figures(rows: &[(&str, &PlanFigures)]) {
    let mut t = table(&[
        "schedule",
        "cost",
        "energy kWh",
        "peak kW",
        "w. tardiness s",
        "makespan s",
    ]);
    for (name, f) in rows {
        t.add_row(vec![
            name.to_string(),
            format!("{:.2}", f.cost),
            format!("{:.2}", f.energy_kwh),
            format!("{:.2}", f.peak_kw),
            format!("{:.0}", f.weighted_tardiness_s),
            f.makespan_s.to_string(),
        ]);
    }
    println!("{t}");
}

/// The operations by machine and start.
fn print_operations(operations: &[NamedOp]) {
    let mut ops = table(&["machine", "job", "op", "start s", "end s"]);
    let mut sorted: Vec<&NamedOp> = operations.iter().collect();
    sorted.sort_by_key(|o| (o.op.machine, o.op.start));
    for o in sorted {
        ops.add_row(vec![
            o.machine_name.clone(),
            o.job_name.clone(),
            (o.op.op + 1).to_string(),
            o.op.start.to_string(),
            o.op.end.to_string(),
        ]);
    }
    println!("{ops}");
}

/// The operations of `schedule` with the names of their jobs and machines.
fn named_ops(cell: &NamedModel, schedule: &Schedule) -> Vec<NamedOp> {
    operations(schedule)
        .into_iter()
        .map(|op| NamedOp {
            job_name: cell.jobs[op.job].clone(),
            machine_name: cell.machines[op.machine].clone(),
            op,
        })
        .collect()
}

/// What `aimm schedule` does besides planning.
#[derive(clap::Subcommand)]
pub enum ScheduleCommand {
    Event(EventArgs),
}

/// Reschedule a plan file (from `aimm schedule --jobs … --out`) after an event at --at: what
/// has started (start < --at) is kept; the rest is repaired in its old order (new work first)
/// and improved for energy cost, never above the cap and never later than the repair. Prints
/// the operations moved, kept and interrupted, and the objectives before and after; writes the
/// new plan (version + 1) to --out, or back to --plan. Times are s from the plan's start.
///
/// Examples:
///   aimm schedule event --plan plan.json --at 3600 breakdown --machine mill-b --until 5400
///   aimm schedule event --plan plan.json --at 2000 tool-change --machine mill-a --duration 300
///   aimm schedule event --plan plan.json --at 2000 rush-order --jobs rush.csv
///   aimm schedule event --plan plan.json --at 2000 overrun --job cover-1 --op 1 --extra 600
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct EventArgs {
    /// The plan in force.
    #[arg(long)]
    plan: PathBuf,
    /// When the event happens, s from the plan's start.
    #[arg(long, allow_negative_numbers = true)]
    at: i64,
    /// Write the new plan here (default: back to --plan).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Iterations of the energy improvement (default 500: within 1 s for 50 jobs × 10 machines).
    #[arg(long)]
    iterations: Option<u64>,
    /// Seed of the improvement.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    kind: EventKind,
}

#[derive(clap::Subcommand)]
enum EventKind {
    /// A machine is down from --at until its repair estimate; the operation it runs is redone.
    Breakdown {
        /// The machine, by name.
        #[arg(long)]
        machine: String,
        /// Expected back, s from the plan's start.
        #[arg(long, allow_negative_numbers = true)]
        until: i64,
    },
    /// A tool change the wear loop planned: after the running operation, the machine is down
    /// for --duration.
    ToolChange {
        /// The machine, by name.
        #[arg(long)]
        machine: String,
        /// How long the change takes, s.
        #[arg(long, allow_negative_numbers = true)]
        duration: i64,
    },
    /// A new job, released at --at: one job in the jobs CSV format (due_s from the plan's
    /// start).
    RushOrder {
        /// Jobs CSV holding the one new job.
        #[arg(long)]
        jobs: PathBuf,
    },
    /// The running operation --op (from 1) of --job takes --extra s longer.
    Overrun {
        /// The job, by name.
        #[arg(long)]
        job: String,
        /// The operation, from 1.
        #[arg(long)]
        op: usize,
        /// The extra time, s.
        #[arg(long, allow_negative_numbers = true)]
        extra: i64,
    },
}

#[derive(Serialize)]
struct Rescheduled {
    version: u32,
    event: &'static str,
    at_s: i64,
    moved: usize,
    kept: usize,
    interrupted: Vec<String>,
    milliseconds: f64,
    before: PlanFigures,
    after: PlanFigures,
    operations: Vec<NamedOp>,
}

/// `aimm schedule event …`.
pub fn event(args: EventArgs) -> Result<()> {
    let path = args.plan.display().to_string();
    let text =
        std::fs::read_to_string(&args.plan).with_context(|| format!("{path}: cannot read"))?;
    let file: PlanFile =
        serde_json::from_str(&text).with_context(|| format!("{path}: not a plan file"))?;
    let (mut cell, schedule) = file.read().map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let machine = |name: &str| {
        cell.machines.iter().position(|m| m == name).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown machine {name:?} (the plan's machines are {})",
                cell.machines.join(", ")
            )
        })
    };
    let (event, kind, new_job) = match &args.kind {
        EventKind::Breakdown { machine: m, until } => (
            Event::Breakdown {
                machine: machine(m)?,
                at_s: args.at,
                until_s: *until,
            },
            "breakdown",
            None,
        ),
        EventKind::ToolChange {
            machine: m,
            duration,
        } => (
            Event::ToolChange {
                machine: machine(m)?,
                at_s: args.at,
                duration_s: *duration,
            },
            "tool_change",
            None,
        ),
        EventKind::RushOrder { jobs } => {
            let parsed = read(jobs, |t| parse_jobs(t, &cell.machines))?;
            if parsed.names.len() != 1 {
                bail!(
                    "{}: a rush order is one job; this file has {}",
                    jobs.display(),
                    parsed.names.len()
                );
            }
            if cell.jobs.contains(&parsed.names[0]) {
                bail!(
                    "{}: job {:?} is already in the plan",
                    jobs.display(),
                    parsed.names[0]
                );
            }
            let cutting = parsed
                .cutting
                .iter()
                .map(|c| (c.operation, c.machine, c.cutting_kw))
                .collect();
            let job = parsed.instance.jobs.into_iter().next().expect("one job");
            (
                Event::RushOrder {
                    at_s: args.at,
                    job,
                    terms: parsed.terms[0],
                    cutting,
                },
                "rush_order",
                Some(parsed.names[0].clone()),
            )
        }
        EventKind::Overrun { job, op, extra } => {
            let j = cell.jobs.iter().position(|x| x == job).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown job {job:?} (the plan's jobs are {})",
                    cell.jobs.join(", ")
                )
            })?;
            if *op == 0 {
                bail!("--op {op}: operations are numbered from 1");
            }
            (
                Event::Overrun {
                    at_s: args.at,
                    job: j,
                    operation: op - 1,
                    extra_s: *extra,
                },
                "overrun",
                None,
            )
        }
    };
    let before = cell
        .model
        .evaluate(&schedule)
        .map_err(|v| anyhow::anyhow!("{path}: {v}"))?;
    let plan = Plan {
        model: cell.model.clone(),
        schedule,
        windows: file.windows.clone(),
    };
    let params = ImproveParams {
        seed: args.seed,
        iterations: args.iterations.unwrap_or(RESCHEDULE_ITERATIONS),
        order: COST_FIRST,
    };
    let started = Instant::now();
    let done = reschedule(&plan, &event, &params).map_err(|e| match e {
        // The core numbers jobs and operations from 0; say them as the plan file's user does.
        RescheduleError::NotRunning {
            job,
            operation,
            at_s,
        } => anyhow::anyhow!(
            "{} op {} is not running at {at_s} s: an overrun is of the running operation",
            cell.jobs[job],
            operation + 1
        ),
        RescheduleError::UnknownOperation { job, operation } => {
            anyhow::anyhow!("job {:?} has no op {}", cell.jobs[job], operation + 1)
        }
        other => anyhow::anyhow!("{other}"),
    })?;
    let milliseconds = started.elapsed().as_secs_f64() * 1e3;
    cell.jobs.extend(new_job);
    cell.model = done.plan.model.clone();
    let version = file.version + 1;
    let out = args.out.as_ref().unwrap_or(&args.plan);
    let new_file = PlanFile::new(version, &cell, &done.plan.schedule, &done.plan.windows);
    std::fs::write(out, serde_json::to_string_pretty(&new_file)?)
        .with_context(|| format!("{}: cannot write the plan", out.display()))?;
    let name = |(j, o): (usize, usize)| format!("{} op {}", cell.jobs[j], o + 1);
    let printed = Rescheduled {
        version,
        event: kind,
        at_s: args.at,
        moved: done.moved.len(),
        kept: done.kept,
        interrupted: done.interrupted.iter().map(|&x| name(x)).collect(),
        milliseconds,
        before: PlanFigures::of(&before),
        after: PlanFigures::of(&done.evaluation),
        operations: named_ops(&cell, &done.plan.schedule),
    };
    if args.json {
        return print_json(&printed);
    }
    println!(
        "{kind} at {} s: schedule v{version} in {milliseconds:.0} ms; {} operations moved, {} \
         started kept{}; written to {}",
        args.at,
        printed.moved,
        printed.kept,
        if printed.interrupted.is_empty() {
            String::new()
        } else {
            format!(
                ", interrupted and redone: {}",
                printed.interrupted.join(", ")
            )
        },
        out.display()
    );
    print_figures(&[("before", &printed.before), ("after", &printed.after)]);
    print_operations(&printed.operations);
    Ok(())
}
