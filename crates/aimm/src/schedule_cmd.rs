//! `aimm schedule`: a job shop read from the standard instance formats (JSSP, Brandimarte FJSP)
//! scheduled for the shortest makespan by aimm's tabu search, checked before it is printed; or,
//! with `--jobs`, a cell scheduled for energy cost under a tariff and a power cap
//! ([`crate::schedule_cell_cmd`]).

use crate::output::{print_json, table};
use aimm_loops::schedule::instance::{parse_fjsp, parse_jssp};
use aimm_loops::schedule::tabu::{solve_portfolio, TabuParams};
use aimm_loops::schedule::timetable::check;
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Iterations per thread when neither --iterations nor --time-limit is given.
const DEFAULT_ITERATIONS: u64 = 20_000;

/// Schedule a cell for the lowest energy cost under a tariff and a power cap (--jobs), or a job
/// shop from a standard instance file for the shortest makespan (--instance).
///
/// A cell (--jobs, --machines, --tariff, --cap): FIFO and EDD dispatch under the cap are the
/// baselines; aimm's plan dispatches under a ladder of lowered caps (peak shaving), keeps the
/// best with no more weighted tardiness than EDD, and moves work in time to cheaper tariff bands
/// (seeded local search, --iterations, never above the cap, never later than EDD). Machines go
/// to standby or off in gaps past their break-even time. The plan file (--out) is what
/// `aimm schedule event` reschedules. Input formats (CSV with a header; # comments; errors name
/// the file and line):
///   machines  machine,rated_kw,idle_kw,standby_kw,off_kw,wake_s,wake_kw,warmup_s,warmup_kw
///   jobs      job,op,machine,duration_s,cutting_kw,due_s,weight   one row per operation and
///             eligible machine; op from 1; empty cutting_kw = the machine's rated power;
///             due_s from the plan's start
///   tariff    start,end,price_per_kwh   HH:MM bands of a day from 00:00 to 24:00, repeating
///
/// Instance formats (jobs, operations and machines are numbered from 0 in file order in the output):
///   jssp  first line `jobs machines`, then one line per job of `machine time` pairs, machines
///         from 0 (OR-Library / Taillard); lines starting with # are skipped
///   fjsp  Brandimarte: first line `jobs machines [average]`, then per job the number of
///         operations and, per operation, the number of eligible machines k and k pairs
///         `machine time`, machines from 1
///
/// Method: a Giffler–Thompson start, then tabu search on the critical path (N7 moves, and for
/// flexible shops moving a critical operation to another eligible machine). Each thread
/// searches from its own seed (--seed, --seed + 1, …) and the best schedule wins (on a tie, the
/// lowest seed). With --iterations alone the result depends only on the seeds; --time-limit
/// stops on the clock, so the result then depends on the machine's speed. Every schedule is
/// checked (precedence, one operation per machine at a time, eligible machine, durations)
/// before it is printed; the exit code is non-zero on bad input, with --json too.
///
/// Examples:
///   aimm schedule --jobs jobs.csv --machines machines.csv --tariff tou.csv --cap 40 --start 06:00 --out plan.json
///   aimm schedule --instance ft10.txt --format jssp --time-limit 10 --threads 2 --json
///   aimm schedule --instance mk01.txt --format fjsp --iterations 5000
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
#[command(subcommand_negates_reqs = true, args_conflicts_with_subcommands = true)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    command: Option<crate::schedule_cell_cmd::ScheduleCommand>,
    /// Instance file (JSSP or FJSP text).
    #[arg(
        long,
        required_unless_present = "jobs",
        conflicts_with = "jobs",
        requires = "format"
    )]
    instance: Option<PathBuf>,
    /// The instance's format.
    #[arg(long, value_enum)]
    format: Option<Format>,
    #[command(flatten)]
    pub cell: crate::schedule_cell_cmd::CellArgs,
    /// Wall-clock limit, s (without --iterations the search runs until then).
    #[arg(long, allow_negative_numbers = true)]
    time_limit: Option<f64>,
    /// Iterations per thread (default 20000 without --time-limit); with --jobs, of the energy
    /// improvement (default 4000).
    #[arg(long)]
    iterations: Option<u64>,
    /// Threads, each searching from its own seed.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seed of the first thread.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON: with --instance `{makespan, lower_bound, …, operations: [{job, op, machine,
    /// start, end}]}`; with --jobs `{plan, edd, fifo, cost_vs_edd_pct, cap_kw, operations}`.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Jssp,
    Fjsp,
}

/// One operation as printed.
#[derive(Serialize)]
struct Placed {
    job: usize,
    op: usize,
    machine: usize,
    start: i64,
    end: i64,
}

/// The schedule as printed with --json.
#[derive(Serialize)]
struct Printed {
    instance: String,
    jobs: usize,
    machines: usize,
    makespan: i64,
    /// The lower bound of job lengths and machine loads; the makespan equals it when proven
    /// optimal this way.
    lower_bound: i64,
    /// Makespan of the greedy start.
    initial_makespan: i64,
    /// The seed whose search won, and the iterations it ran.
    seed: u64,
    iterations: u64,
    threads: usize,
    seconds: f64,
    operations: Vec<Placed>,
}

pub fn run(args: ScheduleArgs) -> Result<()> {
    if let Some(crate::schedule_cell_cmd::ScheduleCommand::Event(event)) = args.command {
        return crate::schedule_cell_cmd::event(event);
    }
    let (Some(instance), Some(format)) = (&args.instance, args.format) else {
        return crate::schedule_cell_cmd::plan(&args.cell, args.iterations, args.seed, args.json);
    };
    let path = instance.display().to_string();
    let text = std::fs::read_to_string(instance).with_context(|| path.clone())?;
    let parsed = match format {
        Format::Jssp => parse_jssp(&text),
        Format::Fjsp => parse_fjsp(&text),
    };
    let instance = parsed.with_context(|| format!("{path}: not a valid instance"))?;
    if !(1..=64).contains(&args.threads) {
        bail!("--threads {}: must be 1 to 64", args.threads);
    }
    let deadline = match args.time_limit {
        Some(s) if s > 0.0 && s.is_finite() => Some(Instant::now() + Duration::from_secs_f64(s)),
        Some(s) => bail!("--time-limit {s}: must be a positive number of seconds"),
        None => None,
    };
    let iterations = match (args.iterations, deadline) {
        (Some(0), _) => bail!("--iterations 0: the search needs at least one"),
        (Some(n), _) => n,
        (None, Some(_)) => u64::MAX,
        (None, None) => DEFAULT_ITERATIONS,
    };
    let started = Instant::now();
    let spinner = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
    );
    spinner.set_message(format!("searching {path} on {} thread(s)", args.threads));
    spinner.enable_steady_tick(Duration::from_millis(200));
    let params = TabuParams {
        seed: args.seed,
        iterations,
        deadline,
    };
    let (seed, best) = solve_portfolio(&instance, &params, args.threads);
    spinner.finish_and_clear();
    // Never print a schedule that breaks the instance's constraints.
    check(&instance, &best.schedule)
        .map_err(|v| anyhow::anyhow!("internal error: the schedule found is invalid: {v}"))?;
    let operations: Vec<Placed> = best
        .schedule
        .jobs
        .iter()
        .enumerate()
        .flat_map(|(job, ops)| {
            ops.iter().enumerate().map(move |(op, s)| Placed {
                job,
                op,
                machine: s.machine,
                start: s.start,
                end: s.end,
            })
        })
        .collect();
    let printed = Printed {
        instance: path,
        jobs: instance.jobs.len(),
        machines: instance.machines,
        makespan: best.makespan,
        lower_bound: best.lower_bound,
        initial_makespan: best.initial_makespan,
        seed,
        iterations: best.iterations,
        threads: args.threads,
        seconds: started.elapsed().as_secs_f64(),
        operations,
    };
    if args.json {
        return print_json(&printed);
    }
    let mut t = table(&["schedule", ""]);
    for (k, v) in [
        ("instance", printed.instance.clone()),
        (
            "jobs × machines",
            format!("{} × {}", printed.jobs, printed.machines),
        ),
        ("makespan", printed.makespan.to_string()),
        ("lower bound", printed.lower_bound.to_string()),
        ("greedy start", printed.initial_makespan.to_string()),
        (
            "search",
            format!(
                "{} iterations, seed {} of {} thread(s), {:.2} s",
                printed.iterations, printed.seed, printed.threads, printed.seconds
            ),
        ),
    ] {
        t.add_row(vec![k.to_string(), v]);
    }
    println!("{t}");
    println!("operations: --json lists each one's job, op, machine, start and end");
    Ok(())
}
