//! `aimm bench schedule`: the scheduling loop next to what a plant has without it, in the same
//! run.
//!
//! * Makespan: aimm's tabu search and OR-Tools CP-SAT (the Python peer
//!   `crates/aimm-bench/peers/cpsat_schedule.py`, run as a subprocess) on the same JSSP and
//!   Brandimarte FJSP instances with the same wall-clock limit and threads; the gap of each to
//!   the best-known upper bound (`bounds.csv`). Every schedule is checked before it counts.
//! * Energy: the seeded energy overlay of an instance ([`overlay`]); aimm's plan against EDD
//!   and FIFO dispatch (both under the cap, machines to standby or off past break-even) and
//!   against CP-SAT given the same model and EDD's weighted tardiness as its limit; every
//!   schedule evaluated in aimm's model (cost, tardiness, cap).
//! * Rescheduling: a seeded 50-job × 10-machine flexible shop with its overlay, each event kind
//!   at several times of the plan; wall time per reschedule (p50/p99), operations moved and
//!   energy cost, next to the repair alone (the old order kept, started work kept, no energy
//!   improvement: what a dispatcher that only patches the plan does).

use crate::{render_table, BenchError, Figure, Report};
use aimm_loops::schedule::cell::NamedModel;
use aimm_loops::schedule::dispatch::{dispatch, Rule};
use aimm_loops::schedule::energy::{Evaluation, JobTerms};
use aimm_loops::schedule::improve::{plan, ImproveParams};
use aimm_loops::schedule::instance::{
    parse_fjsp, parse_jssp, Instance, Job, MachineOption, Operation,
};
use aimm_loops::schedule::overlay::overlay;
use aimm_loops::schedule::planning::COST_FIRST;
use aimm_loops::schedule::reschedule::{reschedule, Event, Plan, RESCHEDULE_ITERATIONS};
use aimm_loops::schedule::tabu::{solve_portfolio, TabuParams};
use aimm_loops::schedule::timetable::{check, Schedule, ScheduledOp};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The ten JSSP instances issue 15 names for the comparison with CP-SAT.
pub const JSSP_INSTANCES: [&str; 10] = [
    "ft10", "la21", "la27", "la29", "ta01", "ta11", "ta21", "ta31", "ta41", "ta51",
];
/// Brandimarte's FJSP instances.
pub const FJSP_INSTANCES: [&str; 10] = [
    "mk01", "mk02", "mk03", "mk04", "mk05", "mk06", "mk07", "mk08", "mk09", "mk10",
];
/// The instances whose energy overlay is compared by default.
pub const ENERGY_INSTANCES: [&str; 4] = ["ft06", "la01", "ft10", "mk01"];

/// How the benchmark runs.
#[derive(Clone, Debug)]
pub struct ScheduleBenchOptions {
    /// testdata/jssp (instances/, fjsp-brandimarte/, bounds.csv).
    pub data: PathBuf,
    /// Makespan instances by name (JSSP in instances/, `mk…` in fjsp-brandimarte/).
    pub instances: Vec<String>,
    /// Energy overlay instances.
    pub energy_instances: Vec<String>,
    /// Wall-clock limit per solver and instance, s.
    pub time_limit_s: f64,
    /// Threads (aimm) and workers (CP-SAT).
    pub threads: usize,
    /// The Python interpreter with ortools.
    pub python: String,
    /// The CP-SAT peer script.
    pub peer: PathBuf,
    /// Seed of the overlays, the searches and the reschedule events.
    pub seed: u64,
    /// Reschedules per event kind.
    pub events: usize,
}

/// What `aimm bench schedule` measured.
pub struct ScheduleReport {
    figures: Vec<Figure>,
    notes: Vec<String>,
}

impl Report for ScheduleReport {
    fn text(&self) -> String {
        let mut out = render_table(&self.figures);
        for n in &self.notes {
            out.push('\n');
            out.push_str(n);
        }
        out
    }
    fn json(&self) -> Value {
        json!({"figures": self.figures, "notes": self.notes})
    }
}

fn bad(what: impl Into<String>, message: impl Into<String>) -> BenchError {
    BenchError::BadInput {
        what: what.into(),
        message: message.into(),
    }
}

/// An instance by name: its file, format and parsed shop.
fn load(data: &Path, name: &str) -> Result<Instance, BenchError> {
    let (path, fjsp) = if name.starts_with("mk") {
        (
            data.join("fjsp-brandimarte").join(format!("{name}.txt")),
            true,
        )
    } else {
        (data.join("instances").join(format!("{name}.txt")), false)
    };
    let text = std::fs::read_to_string(&path).map_err(|source| BenchError::Read {
        path: path.clone(),
        source,
    })?;
    let parsed = if fjsp {
        parse_fjsp(&text)
    } else {
        parse_jssp(&text)
    };
    parsed.map_err(|e| bad(path.display().to_string(), e.to_string()))
}

/// Best-known upper bounds by instance, from both bounds files.
fn bounds(data: &Path) -> Result<BTreeMap<String, i64>, BenchError> {
    let mut out = BTreeMap::new();
    for file in [
        data.join("bounds.csv"),
        data.join("fjsp-brandimarte/bounds.csv"),
    ] {
        let text = std::fs::read_to_string(&file).map_err(|source| BenchError::Read {
            path: file.clone(),
            source,
        })?;
        for (i, line) in text.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let ub = f.get(4).and_then(|x| x.parse().ok()).ok_or_else(|| {
                bad(
                    format!("{}: line {}", file.display(), i + 1),
                    "no upper_bound",
                )
            })?;
            out.insert(f[0].to_string(), ub);
        }
    }
    Ok(out)
}

/// Runs the CP-SAT peer with `args`; its one JSON line.
fn peer(options: &ScheduleBenchOptions, args: &[&str]) -> Result<Value, BenchError> {
    let out = Command::new(&options.python)
        .arg(&options.peer)
        .args(args)
        .output()
        .map_err(|e| {
            bad(
                format!("{} {}", options.python, options.peer.display()),
                format!(
                    "cannot run the CP-SAT peer ({e}); install Python 3 and `pip install ortools`"
                ),
            )
        })?;
    if !out.status.success() {
        return Err(bad(
            format!("CP-SAT peer {}", args.join(" ")),
            format!(
                "exit {}: {} (is ortools installed? `python3 -m pip install ortools`)",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| bad("CP-SAT peer output", format!("not JSON: {e}")))
}

/// The schedule of a peer's `operations`, checked against `instance`.
fn peer_schedule(instance: &Instance, v: &Value) -> Result<Schedule, String> {
    let mut ops = Vec::new();
    for o in v["operations"].as_array().ok_or("no operations")? {
        let g = |k: &str| o[k].as_i64().ok_or(format!("operation {o} has no {k}"));
        let placed = ScheduledOp {
            machine: g("machine")? as usize,
            start: g("start")?,
            end: g("end")?,
        };
        ops.push((g("job")? as usize, g("op")? as usize, placed));
    }
    let schedule = Schedule::from_ops(instance, ops)?;
    check(instance, &schedule).map_err(|e| e.to_string())?;
    Ok(schedule)
}

fn gap_pct(makespan: i64, best: i64) -> f64 {
    100.0 * (makespan - best) as f64 / best as f64
}

/// Runs the benchmark; `progress` hears what runs.
pub fn run(
    options: &ScheduleBenchOptions,
    mut progress: impl FnMut(&str),
) -> Result<ScheduleReport, BenchError> {
    let (mut figures, mut notes) = (Vec::new(), Vec::new());
    let best = bounds(&options.data)?;
    let limit = format!("{}", options.time_limit_s);
    let threads = options.threads.to_string();
    let seed = options.seed.to_string();
    let mut gaps: BTreeMap<bool, Vec<(f64, f64)>> = BTreeMap::new();
    for name in &options.instances {
        let instance = load(&options.data, name)?;
        let ub = *best
            .get(name)
            .ok_or_else(|| bad(name.clone(), "no best-known bound in bounds.csv"))?;
        progress(&format!("{name}: aimm tabu search"));
        let params = TabuParams {
            seed: options.seed,
            iterations: u64::MAX,
            deadline: Some(Instant::now() + Duration::from_secs_f64(options.time_limit_s)),
        };
        let (_, aimm) = solve_portfolio(&instance, &params, options.threads);
        check(&instance, &aimm.schedule)
            .map_err(|e| bad(name.clone(), format!("aimm's schedule is invalid: {e}")))?;
        progress(&format!("{name}: CP-SAT"));
        let fjsp = name.starts_with("mk");
        let file = if fjsp {
            options
                .data
                .join("fjsp-brandimarte")
                .join(format!("{name}.txt"))
        } else {
            options.data.join("instances").join(format!("{name}.txt"))
        };
        let v = peer(
            options,
            &[
                "makespan",
                "--instance",
                &file.display().to_string(),
                "--format",
                if fjsp { "fjsp" } else { "jssp" },
                "--time-limit",
                &limit,
                "--workers",
                &threads,
                "--seed",
                &seed,
            ],
        )?;
        let cpsat = peer_schedule(&instance, &v)
            .map_err(|e| bad(format!("CP-SAT on {name}"), e))?
            .makespan();
        let (a, c) = (gap_pct(aimm.makespan, ub), gap_pct(cpsat, ub));
        gaps.entry(fjsp).or_default().push((a, c));
        figures.push(Figure {
            what: format!(
                "{name}: makespan gap to best known {ub} (aimm {}, CP-SAT {cpsat})",
                aimm.makespan
            ),
            value: a,
            unit: "%",
            baseline: format!("CP-SAT, {}s × {}", options.time_limit_s, options.threads),
            baseline_value: c,
            target: "≤ CP-SAT + 1 point".into(),
        });
    }
    for (fjsp, list) in &gaps {
        let n = list.len() as f64;
        figures.push(Figure {
            what: format!(
                "mean makespan gap, {} {} instances",
                list.len(),
                if *fjsp { "FJSP" } else { "JSSP" }
            ),
            value: list.iter().map(|g| g.0).sum::<f64>() / n,
            unit: "%",
            baseline: "CP-SAT".into(),
            baseline_value: list.iter().map(|g| g.1).sum::<f64>() / n,
            target: "below CP-SAT".into(),
        });
    }
    for name in &options.energy_instances {
        energy(options, name, &mut figures, &mut notes, &mut progress)?;
    }
    rescheduling(options, &mut figures, &mut progress)?;
    notes.push(format!(
        "Makespan: every schedule checked; CP-SAT with {} workers is not repeatable for a seed, \
         aimm's tabu search with a wall-clock limit depends on the machine's speed.",
        options.threads
    ));
    Ok(ScheduleReport { figures, notes })
}

/// The overlay of `name`: aimm's plan against EDD, FIFO and CP-SAT, evaluated in aimm's model.
fn energy(
    options: &ScheduleBenchOptions,
    name: &str,
    figures: &mut Vec<Figure>,
    notes: &mut Vec<String>,
    progress: &mut impl FnMut(&str),
) -> Result<(), BenchError> {
    let instance = load(&options.data, name)?;
    let model = overlay(&instance, options.seed);
    progress(&format!("{name} overlay: aimm plan"));
    let started = Instant::now();
    let params = ImproveParams {
        seed: options.seed,
        iterations: 4000,
        order: COST_FIRST,
    };
    let planned = plan(&model, &params).map_err(|e| bad(name, e.to_string()))?;
    let plan_s = started.elapsed().as_secs_f64();
    let eval = |s: &Schedule| model.evaluate(s).map_err(|e| bad(name, e.to_string()));
    let edd = eval(&dispatch(&model, Rule::Edd))?;
    let fifo = eval(&dispatch(&model, Rule::Fifo))?;
    progress(&format!("{name} overlay: CP-SAT"));
    let named = NamedModel {
        machines: (0..model.instance().machines)
            .map(|m| format!("m{m}"))
            .collect(),
        jobs: (0..model.instance().jobs.len())
            .map(|j| format!("j{j}"))
            .collect(),
        model: model.clone(),
    };
    let mut json_model = serde_json::to_value(named.to_json()).expect("serialises");
    json_model["tardiness_limit"] = json!(edd.objectives.weighted_tardiness_s);
    let file = std::env::temp_dir().join(format!("aimm-bench-{name}-{}.json", std::process::id()));
    std::fs::write(&file, json_model.to_string())?;
    let v = peer(
        options,
        &[
            "energy",
            "--model",
            &file.display().to_string(),
            "--time-limit",
            &options.time_limit_s.to_string(),
            "--workers",
            &options.threads.to_string(),
            "--seed",
            &options.seed.to_string(),
        ],
    );
    let _ = std::fs::remove_file(&file);
    let v = v?;
    let cpsat: Result<Evaluation, String> = peer_schedule(model.instance(), &v)
        .and_then(|s| model.evaluate(&s).map_err(|e| e.to_string()));
    let p = &planned.evaluation;
    let row = |against: &str, base: &Evaluation| Figure {
        what: format!(
            "{name} overlay: energy cost (w. tardiness {:.0} s vs {:.0} s{})",
            p.objectives.weighted_tardiness_s,
            base.objectives.weighted_tardiness_s,
            if base.over_cap.is_some() {
                "; baseline OVER THE CAP"
            } else {
                ""
            }
        ),
        value: p.objectives.cost,
        unit: "money",
        baseline: against.into(),
        baseline_value: base.objectives.cost,
        target: "≥ 15 % below EDD, no later".into(),
    };
    figures.push(row("EDD dispatch", &edd));
    figures.push(row("FIFO dispatch", &fifo));
    match cpsat {
        Ok(c) => figures.push(row(
            &format!("CP-SAT {}s (limit: EDD's tardiness)", options.time_limit_s),
            &c,
        )),
        Err(e) => notes.push(format!(
            "{name} overlay: CP-SAT gave no valid schedule in {} s ({}): {e}",
            options.time_limit_s, v["status"]
        )),
    }
    notes.push(format!(
        "{name} overlay: aimm's plan took {plan_s:.2} s (4000 iterations, one thread); cost {:+.1} % against EDD",
        100.0 * (p.objectives.cost / edd.objectives.cost - 1.0)
    ));
    Ok(())
}

/// A seeded flexible shop of `jobs` × `machines`: 5–10 operations per job, each eligible on
/// 1–3 machines, 5–60 time units.
pub fn random_shop(jobs: usize, machines: usize, seed: u64) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut r = |n: u64| rng.next_u64() % n;
    Instance {
        machines,
        jobs: (0..jobs)
            .map(|_| Job {
                operations: (0..5 + r(6))
                    .map(|_| {
                        let first = r(machines as u64) as usize;
                        Operation {
                            options: (0..1 + r(3) as usize)
                                .map(|k| MachineOption {
                                    machine: (first + k) % machines,
                                    duration: 5 + r(56) as i64,
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The p-th percentile (0–100) of `v` (sorted here).
fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = ((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[k]
}

/// Reschedules after each event kind on a 50 × 10 shop, against planning again from scratch.
fn rescheduling(
    options: &ScheduleBenchOptions,
    figures: &mut Vec<Figure>,
    progress: &mut impl FnMut(&str),
) -> Result<(), BenchError> {
    let model = overlay(&random_shop(50, 10, options.seed), options.seed);
    let params = ImproveParams {
        seed: options.seed,
        iterations: RESCHEDULE_ITERATIONS,
        order: COST_FIRST,
    };
    let first = dispatch(&model, Rule::Edd);
    let horizon = first.makespan();
    let base = Plan {
        model: model.clone(),
        schedule: first.clone(),
        windows: Vec::new(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let repair_only = ImproveParams {
        iterations: 0,
        ..params
    };
    let kinds = ["a breakdown", "a tool change", "a rush order", "an overrun"];
    for kind in kinds {
        progress(&format!("rescheduling after {kind}"));
        let (mut ours, mut repair, mut moved, mut repair_moved) = (vec![], vec![], vec![], vec![]);
        let (mut cost, mut repair_cost) = (0.0, 0.0);
        for k in 0..options.events {
            let at = horizon * (k as i64 + 1) / (options.events as i64 + 2);
            let machine = (rng.next_u64() % 10) as usize;
            let event = match kind {
                "a breakdown" => Event::Breakdown {
                    machine,
                    at_s: at,
                    until_s: at + 1800,
                },
                "a tool change" => Event::ToolChange {
                    machine,
                    at_s: at,
                    duration_s: 600,
                },
                "a rush order" => Event::RushOrder {
                    at_s: at,
                    job: random_shop(1, 10, options.seed + k as u64).jobs.remove(0),
                    terms: JobTerms {
                        due_s: at + 3600,
                        weight: 5.0,
                    },
                    cutting: Vec::new(),
                },
                _ => {
                    // The first operation running at `at`.
                    let Some((job, operation)) =
                        first.jobs.iter().enumerate().find_map(|(j, ops)| {
                            ops.iter()
                                .position(|s| s.start < at && s.end > at)
                                .map(|o| (j, o))
                        })
                    else {
                        continue;
                    };
                    Event::Overrun {
                        at_s: at,
                        job,
                        operation,
                        extra_s: 900,
                    }
                }
            };
            let started = Instant::now();
            let done = reschedule(&base, &event, &params).map_err(|e| bad(kind, e.to_string()))?;
            ours.push(started.elapsed().as_secs_f64() * 1e3);
            moved.push(done.moved.len() as f64);
            cost += done.evaluation.objectives.cost;
            let started = Instant::now();
            let patched =
                reschedule(&base, &event, &repair_only).map_err(|e| bad(kind, e.to_string()))?;
            repair.push(started.elapsed().as_secs_f64() * 1e3);
            repair_moved.push(patched.moved.len() as f64);
            repair_cost += patched.evaluation.objectives.cost;
        }
        if ours.is_empty() {
            continue;
        }
        let n = ours.len();
        let baseline = "the repair alone (old order, no energy improvement)";
        figures.push(Figure {
            what: format!("reschedule after {kind}, 50 × 10, p50 ({n} events)"),
            value: percentile(&mut ours, 50.0),
            unit: "ms",
            baseline: baseline.into(),
            baseline_value: percentile(&mut repair, 50.0),
            target: "-".into(),
        });
        figures.push(Figure {
            what: format!("reschedule after {kind}, 50 × 10, p99"),
            value: percentile(&mut ours, 99.0),
            unit: "ms",
            baseline: baseline.into(),
            baseline_value: percentile(&mut repair, 99.0),
            target: "≤ 1000 ms".into(),
        });
        figures.push(Figure {
            what: format!("operations moved by {kind} (median; started work kept)"),
            value: percentile(&mut moved, 50.0),
            unit: "ops",
            baseline: baseline.into(),
            baseline_value: percentile(&mut repair_moved, 50.0),
            target: "-".into(),
        });
        figures.push(Figure {
            what: format!("energy cost after {kind} (mean)"),
            value: cost / n as f64,
            unit: "money",
            baseline: baseline.into(),
            baseline_value: repair_cost / n as f64,
            target: "below the repair".into(),
        });
    }
    Ok(())
}
