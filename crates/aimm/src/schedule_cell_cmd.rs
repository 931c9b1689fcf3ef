//! `aimm schedule --jobs …`: a cell read from its CSV files (machines, jobs, tariff) planned for
//! the lowest energy cost under the cap, printed next to FIFO and EDD dispatch in the same model,
//! and written as a plan file.

use crate::output::{print_json, table};
use aimm_loops::schedule::cell::{
    parse_jobs, parse_machines, parse_tariff, rotate_tariff, FileError, NamedModel, DAY_S,
};
use aimm_loops::schedule::energy::{Evaluation, ObjectiveOrder};
use aimm_loops::schedule::improve::ImproveParams;
use aimm_loops::schedule::planning::{
    operations, plan_cell, PlanFile, PlannedOp, COST_FIRST, DEFAULT_PLAN_ITERATIONS,
};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

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

/// One plan or baseline as printed.
#[derive(Serialize)]
struct Figures {
    cost: f64,
    energy_kwh: f64,
    energy_cost: f64,
    demand_cost: f64,
    peak_kw: f64,
    weighted_tardiness_s: f64,
    makespan_s: i64,
}

impl Figures {
    fn of(e: &Evaluation) -> Self {
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
    plan: Figures,
    edd: Figures,
    fifo: Figures,
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
        let file = PlanFile::new(1, &cell, &p.schedule);
        std::fs::write(out, serde_json::to_string_pretty(&file)?)
            .with_context(|| format!("{}: cannot write the plan", out.display()))?;
    }
    let edd_cost = p.edd.objectives.cost;
    let printed = Printed {
        cap_kw: cell.model.spec().cap_kw,
        plan: Figures::of(&p.evaluation),
        edd: Figures::of(&p.edd),
        fifo: Figures::of(&p.fifo),
        cost_vs_edd_pct: if edd_cost > 0.0 {
            100.0 * (p.evaluation.objectives.cost - edd_cost) / edd_cost
        } else {
            0.0
        },
        seed,
        iterations: params.iterations,
        operations: operations(&p.schedule)
            .into_iter()
            .map(|op| NamedOp {
                job_name: cell.jobs[op.job].clone(),
                machine_name: cell.machines[op.machine].clone(),
                op,
            })
            .collect(),
    };
    if json {
        return print_json(&printed);
    }
    let mut t = table(&[
        "schedule",
        "cost",
        "energy kWh",
        "peak kW",
        "w. tardiness s",
        "makespan s",
    ]);
    for (name, f) in [
        ("aimm plan", &printed.plan),
        ("EDD dispatch", &printed.edd),
        ("FIFO dispatch", &printed.fifo),
    ] {
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
    println!(
        "cap {:.2} kW; plan cost {:+.1} % against EDD",
        printed.cap_kw, printed.cost_vs_edd_pct
    );
    let mut ops = table(&["machine", "job", "op", "start s", "end s"]);
    let mut sorted: Vec<&NamedOp> = printed.operations.iter().collect();
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
    Ok(())
}
