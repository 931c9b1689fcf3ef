//! `aimm learn`: the process-parameter learning loop on the simulated mill, its approvals and
//! its status.

use crate::keys_cmd::load_or_create_signer;
use crate::output::{print_json, table};
use crate::part::{open_store, parse_material, read_program};
use aimm_assess::learn_cell::{learn_series, LearnSpec, PlantSettings};
use aimm_loops::learn::evidence::{approve, latest_learners, program_in_force};
use aimm_loops::learn::safe::LearnMode;
use aimm_model::ProcessCosts;
use aimm_store::evidence::checkpoint_now;
use aimm_store::redact_url;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Process-parameter self-learning: per milling operation of an NC program, the loop learns the
/// feed per tooth and cutting speed with the lowest cost per part (machine time + tool share)
/// within the constraints — chatter, spindle power and torque, roughness and wall tolerance
/// (finishing), the tool-life budget — from every part made, and proposes one new parameter set
/// per part, only inside the set its models prove safe (every constraint's upper confidence
/// bound below its limit). A proposal is a new NC program version with only F and S words
/// changed, recorded in the ledger citing the models (and through them the part runs and
/// their sensor segments).
///
/// The machine is the simulated mill; the true material and tool coefficients are drawn from
/// --seed within ranges around the handbook values and never shown to the learner (it starts
/// from physics priors and the program's parameters). Each part is judged by that truth:
/// `violated` lists the constraints it broke; `oracle_cost` is found on the mill with the truth
/// and without the learner (each operation walked from the program's parameters towards the
/// steady-state optimum, keeping the furthest point within every limit).
///
/// --mode advise (the default): the machine keeps the version in force; each part's proposal
/// waits for an engineer: `aimm learn approve LEAF` releases it (a ledger record naming the
/// actor), and the next `aimm learn` continues with it. --mode auto releases each proposal
/// itself, within a trust region (a bounded step per part). A series continues where the
/// store's ledger left it.
///
/// Examples:
///   aimm learn --program examples/learn_c45.nc --material steel-c45 --parts 30 --mode auto --db learn.db
///   aimm learn --program examples/learn_c45.nc --material steel-c45 --parts 3 --db learn.db
///   aimm learn approve 1234 --db learn.db --actor "j.doe"
///   aimm learn status --program examples/learn_c45.nc --db learn.db --json
#[derive(clap::Args)]
#[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct LearnArgs {
    #[command(subcommand)]
    command: Option<LearnCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Subcommand)]
enum LearnCommand {
    /// Release a waiting proposal (advise mode) to the machine: records a control action naming
    /// you as the approving engineer. Refuses anything but the latest, unreleased proposal.
    Approve(ApproveArgs),
    /// The learner's state per operation: the best parameters measured, their margin to each
    /// constraint, and what it would try next.
    Status(StatusArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// NC program (milling operations separated by tool changes `T.. M6`).
    #[arg(long, default_value = "examples/learn_c45.nc")]
    program: PathBuf,
    /// Workpiece material: steel-c45, al-6061, ti-6al-4v, ss-316l or gg-25.
    #[arg(long, default_value = "steel-c45")]
    material: String,
    /// Parts to make.
    #[arg(long, default_value_t = 30)]
    parts: u32,
    /// advise: proposals wait for `aimm learn approve`; auto: released at once, a bounded
    /// step per part.
    #[arg(long, value_enum, default_value = "advise")]
    mode: ModeArg,
    /// Seed of the hidden truth and the sensors' noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Machine id the parts are recorded on.
    #[arg(long, default_value = "mill-5")]
    machine: String,
    /// Largest surface roughness Ra of a finished wall, µm.
    #[arg(long, default_value_t = 0.8)]
    ra_max: f64,
    /// Largest wall size error of a finished wall, mm.
    #[arg(long, default_value_t = 0.015)]
    tolerance: f64,
    /// Parts a tool must make at least.
    #[arg(long, default_value_t = 40.0)]
    min_parts_per_tool: f64,
    /// Machine and operator cost per hour.
    #[arg(long, default_value_t = 90.0)]
    machine_rate: f64,
    /// Cost of one tool.
    #[arg(long, default_value_t = 60.0)]
    tool_cost: f64,
    /// Feed per tooth range LO:HI, mm, for every operation (default 0.25–5 × the program's).
    #[arg(long, value_parser = parse_range)]
    fz_range: Option<(f64, f64)>,
    /// Cutting speed range LO:HI, m/min (default 0.5 × the program's up to the spindle's top
    /// speed).
    #[arg(long, value_parser = parse_range)]
    vc_range: Option<(f64, f64)>,
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct StoreArgs {
    /// The store (SQLite file, or a postgres:// URL) the series is recorded in and continues from.
    #[arg(long, default_value = "aimm.db")]
    db: String,
    /// Key that signs the ledger checkpoint after the series (created if missing).
    #[arg(long, default_value = "aimm-ledger.key")]
    key: PathBuf,
}

#[derive(clap::Args)]
struct ApproveArgs {
    /// Leaf index of the proposal (`nc_program` record) to release.
    leaf: u64,
    /// Who approves (recorded in the ledger).
    #[arg(long, env = "USER")]
    actor: String,
    /// The machine it is released to.
    #[arg(long, default_value = "mill-5")]
    machine: String,
    #[command(flatten)]
    store: StoreArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct StatusArgs {
    /// The program, as given to `aimm learn --program`.
    #[arg(long, default_value = "examples/learn_c45.nc")]
    program: PathBuf,
    /// The store.
    #[arg(long, default_value = "aimm.db")]
    db: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Advise,
    Auto,
}

fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not a range LO:HI"))?;
    let num = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| format!("'{s}' in '{text}' is not a positive number"))
    };
    let (lo, hi) = (num(lo)?, num(hi)?);
    if lo >= hi {
        return Err(format!("'{text}': LO must be below HI"));
    }
    Ok((lo, hi))
}

/// Runs `aimm learn`.
pub fn run(args: LearnArgs) -> Result<()> {
    match args.command {
        Some(LearnCommand::Approve(a)) => approve_cmd(a),
        Some(LearnCommand::Status(s)) => status(s),
        None => series(args.run),
    }
}

fn series(args: RunArgs) -> Result<()> {
    let material = parse_material(&args.material)?;
    let (_, text) = read_program(&args.program)?;
    for (flag, v) in [
        ("--ra-max", args.ra_max),
        ("--tolerance", args.tolerance),
        ("--min-parts-per-tool", args.min_parts_per_tool),
        ("--machine-rate", args.machine_rate),
        ("--tool-cost", args.tool_cost),
    ] {
        if !(v.is_finite() && v > 0.0) {
            bail!("{flag} {v}: must be a positive number");
        }
    }
    let spec = LearnSpec {
        program: (args.program.display().to_string(), text),
        material,
        parts: args.parts,
        mode: match args.mode {
            ModeArg::Advise => LearnMode::Advise,
            ModeArg::Auto => LearnMode::Auto,
        },
        seed: args.seed,
        machine: args.machine.clone(),
        plant: PlantSettings {
            roughness_ra_um: args.ra_max,
            wall_error_mm: args.tolerance,
            min_parts_per_tool: args.min_parts_per_tool,
            costs: ProcessCosts {
                machine_per_hour: args.machine_rate,
                tool_each: args.tool_cost,
            },
            fz_range: args.fz_range,
            vc_range: args.vc_range,
        },
    };
    let mut store = open_store(&args.store.db)?;
    let signer = load_or_create_signer(&args.store.key)?;
    let bar = indicatif::ProgressBar::new(u64::from(args.parts));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} part {pos}/{len} {msg}")
            .expect("a valid template"),
    );
    if args.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let outcome = learn_series(&spec, store.as_mut(), |p| {
        bar.inc(1);
        bar.set_message(format!("cost {:.3}", p.cost));
    })
    .with_context(|| format!("learning on {}", args.program.display()))?;
    bar.finish_and_clear();
    checkpoint_now(store.as_mut(), &signer)?;
    if args.json {
        print_json(&outcome)?;
    } else {
        let mut t = table(&[
            "part",
            "version",
            "parameters (fz mm, vc m/min)",
            "cost",
            "violated",
        ]);
        for p in &outcome.parts {
            let params: Vec<String> = p
                .params
                .iter()
                .map(|(tool, c)| format!("T{tool} {:.4}, {:.0}", c.fz_mm, c.vc_m_per_min))
                .collect();
            t.add_row(vec![
                p.part.to_string(),
                format!("v{}", p.program_version),
                params.join("; "),
                format!("{:.3}", p.cost),
                p.violated.join(", "),
            ]);
        }
        println!("{t}");
        println!(
            "cost per part: {:.3} at the start, {:.3} at the last part, {:.3} the oracle (found on the hidden truth without the learner); {} part(s) violated a constraint",
            outcome.cost_start, outcome.cost_final, outcome.oracle_cost, outcome.violations
        );
        match outcome.pending {
            Some((leaf, version)) => println!(
                "proposal v{version} waits for approval: aimm learn approve {leaf} --db {}",
                redact_url(&args.store.db)
            ),
            None => println!("version in force: v{}", outcome.version_in_force),
        }
    }
    if outcome.violations > 0 {
        bail!("{} part(s) violated a constraint", outcome.violations);
    }
    Ok(())
}

fn approve_cmd(args: ApproveArgs) -> Result<()> {
    if args.actor.trim().is_empty() {
        bail!("--actor: name who approves (it is recorded in the ledger)");
    }
    let mut store = open_store(&args.store.db)?;
    let signer = load_or_create_signer(&args.store.key)?;
    let t_ns = aimm_store::next_part_start_ns(
        store.as_ref(),
        &aimm_model::MachineId::new(&args.machine),
        0.0,
    )?;
    let who = (args.actor.as_str(), aimm_model::Role::Engineer.as_str());
    let cite = approve(store.as_mut(), args.leaf, &args.machine, who, t_ns)?;
    checkpoint_now(store.as_mut(), &signer)?;
    if args.json {
        return print_json(
            &serde_json::json!({ "released_by": cite.leaf_index, "proposal": args.leaf, "actor": args.actor }),
        );
    }
    println!(
        "proposal {} released to {} by {} (engineer): ledger record {}",
        args.leaf, args.machine, args.actor, cite.leaf_index
    );
    Ok(())
}

fn status(args: StatusArgs) -> Result<()> {
    let store = open_store(&args.db)?;
    let name = args.program.display().to_string();
    let learners = latest_learners(store.as_ref(), &name)?;
    if learners.is_empty() {
        bail!("{}: no learning series of program {name} (run `aimm learn --program {name} --db {}` first)", redact_url(&args.db), redact_url(&args.db));
    }
    let in_force = program_in_force(store.as_ref(), &name)?.map(|(v, _)| v);
    let mut out = Vec::new();
    let mut nexts = Vec::new();
    for (cite, data) in learners {
        let learner = data.learner(data.mode)?;
        let next = learner.ask()?;
        out.push(serde_json::json!({
            "tool": data.tool,
            "model_leaf": cite.leaf_index,
            "parts": data.observations.len(),
            "best": learner.best(),
            "next": next,
        }));
        nexts.push(next);
    }
    if args.json {
        return print_json(
            &serde_json::json!({ "program": name, "version_in_force": in_force, "operations": out }),
        );
    }
    println!(
        "program {name}: version in force {}",
        in_force.map_or("the CAM program".into(), |v| format!("v{v}"))
    );
    for (o, next) in out.iter().zip(&nexts) {
        let best = &o["best"];
        let best = if best.is_null() {
            "none within every limit yet".to_string()
        } else {
            format!(
                "fz {:.4} mm, vc {:.1} m/min at cost {:.3}",
                best["params"]["fz_mm"].as_f64().unwrap_or(f64::NAN),
                best["params"]["vc_m_per_min"].as_f64().unwrap_or(f64::NAN),
                best["measured_cost"].as_f64().unwrap_or(f64::NAN)
            )
        };
        println!(
            "T{} after {} part(s): best measured {best}",
            o["tool"], o["parts"]
        );
        println!(
            "  next: fz {:.4} mm, vc {:.1} m/min, predicted cost {:.3} ({})",
            next.params.fz_mm, next.params.vc_m_per_min, next.predicted_cost, next.reason
        );
        let mut t = table(&[
            "constraint",
            "predicted",
            "upper bound",
            "limit",
            "margin %",
        ]);
        for m in &next.margins {
            t.add_row(vec![
                m.constraint.name().to_string(),
                format!("{:.4}", m.predicted),
                format!("{:.4}", m.upper),
                format!("{:.4}", m.limit),
                format!("{:.1}", 100.0 * (m.limit - m.upper) / m.limit),
            ]);
        }
        println!("{t}");
    }
    Ok(())
}
