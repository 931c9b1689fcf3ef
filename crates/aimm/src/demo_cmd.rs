//! `aimm demo`: a cell of simulated machines making parts, recorded into the store and the
//! evidence ledger, ending with a signed checkpoint and a verified bundle.

use crate::keys_cmd::{load_or_create_signer, DEFAULT_KEY};
use crate::output::{print_json, table_within};
use crate::part::open_store;
use aimm_assess::cell::{run_cell, CellFile, MachineOutcome, EXAMPLE_PROGRAMS};
use aimm_assess::conformance::feed::{record_baseline_run, run_case};
use aimm_assess::conformance::wear::{run_trial, Trial, TrialSpec};
use aimm_assess::learn_cell::{learn_series, LearnOutcome, LearnSpec, PlantSettings};
use aimm_assess::schedule_cell::{demo_spec, run_schedule_cell, ScheduleCellOutcome};
use aimm_ledger::bundle::verify_bundle;
use aimm_loops::feed::validation::{builtin_cases, record_validation};
use aimm_loops::feed::DEFAULT_ACTUATION_DELAY_MS;
use aimm_loops::learn::safe::LearnMode;
use aimm_loops::wear::WearLoopParams;
use aimm_model::{MachineId, MachineSpec, Material, DEFAULT_CHANGEOVER_S, DEFAULT_START_NS};
use aimm_store::evidence::{checkpoint_now, export_bundle};
use aimm_store::next_part_start_ns;
use anyhow::{bail, Context, Result};
use comfy_table::{Table, TableComponent};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The built-in cell (examples/; its programs are [`EXAMPLE_PROGRAMS`]), so the demo needs no
/// files beside the binary.
const DEFAULT_CELL: &str = include_str!("../../../examples/demo-cell.toml");
/// The wear loop's part: a finished contour, cut by one tool over a long series.
const WEAR_PROGRAM: (&str, &str) = (
    "examples/ring_c45.nc",
    include_str!("../../../examples/ring_c45.nc"),
);

/// The energy-scheduled cell's machines: mill-4 once its wear series is done, and two more.
const SCHEDULE_MACHINES: [&str; 3] = ["mill-4", "mill-5", "mill-6"];

/// The terminal width every line of the human output fits (stdout and the progress on
/// stderr): a standard terminal, and logs read without scrolling sideways.
const COLUMNS: u16 = 100;

/// The learning loop's part: a roughing and a finishing operation.
const LEARN_PROGRAM: (&str, &str) = (
    "examples/learn_c45.nc",
    include_str!("../../../examples/learn_c45.nc"),
);

/// The main job: a cell of simulated machines making parts, recorded into ./aimm.db.
///
/// By default three mills make steel, aluminium and titanium parts (examples/demo-cell.toml).
/// Every part is made with the real-time adaptive feed loop on (setpoints taught in on the first
/// part). Everything is recorded: machines, tools, programs, runs, sensor data and the commanded
/// override as sealed SHA-256-hashed segments, and events; and in the evidence ledger the
/// program versions, the loop's parameters and learned setpoints, and its actions (citing the
/// sensor segments they were decided from), with a signed checkpoint after every part. The feed
/// loop is then validated on the built-in cases. A fourth mill (mill-4) runs the tool-wear loop:
/// a model trained on simulated tool lives (recorded on mill-4-lives) compensates a long series of
/// parts through G10 wear offsets in the NC program and plans the tool change, every decision in
/// the ledger (see `aimm loop wear`). The energy-scheduled cell follows (see `aimm schedule`),
/// then a fifth mill (mill-7) runs the process-parameter learning loop in auto mode on
/// examples/learn_c45.nc (see `aimm learn`). It ends with summary tables that fit a
/// 100-column terminal (per machine: the loop against the programmed feed and the best safe
/// constant override, then the state after the last part; then each loop's validation) and an
/// evidence bundle that `aimm verify` checks offline. Long steps show progress on stderr.
///
/// Running it again continues the cell's timeline in the same database.
///
/// Examples:
///   aimm demo
///   aimm demo --db /tmp/cell.db --bundle /tmp/cell-bundle --json
///   aimm demo --cell my-cell.toml
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Store to record into: a SQLite file (created if missing), or a PostgreSQL URL
    /// (postgres://user:password@host:5432/database).
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    db: String,
    /// Cell definition (TOML); default: the built-in three-machine cell.
    #[arg(long)]
    cell: Option<PathBuf>,
    /// Override the cell's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the number of parts per machine.
    #[arg(long)]
    parts: Option<u32>,
    /// Parts of the tool-wear loop's series on mill-4 (70 wears out one tool; 0 leaves the wear
    /// loop out).
    #[arg(long, default_value_t = 70)]
    wear_parts: u32,
    /// Leave out the energy-scheduled cell (mill-4 after its wear series, mill-5, mill-6).
    #[arg(long)]
    no_schedule: bool,
    /// Parts of the process-parameter learning loop's series on mill-7 (auto mode; 0 leaves
    /// the learning loop out).
    #[arg(long, default_value_t = 20)]
    learn_parts: u32,
    /// Signing key for checkpoints (created if missing).
    #[arg(long, env = "AIMM_KEY", default_value = DEFAULT_KEY)]
    key: PathBuf,
    /// Folder for the evidence bundle; an earlier bundle there is replaced.
    #[arg(long, default_value = "aimm-bundle")]
    bundle: PathBuf,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Serve the web dashboard on 127.0.0.1 while the cell runs (and after it, until Ctrl-C):
    /// one user per role is made and their tokens printed, to log in with.
    #[arg(long)]
    web: bool,
    /// Port of the dashboard with --web.
    #[arg(long, default_value_t = 8080, requires = "web")]
    port: u16,
}

pub fn run(args: DemoArgs) -> Result<()> {
    if !args.web {
        return run_demo(&args);
    }
    let tokens = crate::web_cmd::demo_users(&args.db)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let web = crate::web_cmd::WebArgs {
        db: args.db.clone(),
        port: args.port,
        bind: std::net::Ipv4Addr::LOCALHOST.into(),
        key: args.key.clone(),
        secure_cookie: false,
    };
    let (addr, _server) = runtime.block_on(crate::web_cmd::start(&web))?;
    eprintln!("dashboard: http://{addr}/ (log in with a token; the cell fills it as it runs)");
    for (role, token) in &tokens {
        eprintln!("  {:<9} {token}", role.as_str());
    }
    run_demo(&args)?;
    eprintln!("dashboard still at http://{addr}/; Ctrl-C stops");
    runtime.block_on(tokio::signal::ctrl_c())?;
    Ok(())
}

fn run_demo(args: &DemoArgs) -> Result<()> {
    let (mut cell, programs) = load_cell(args.cell.as_deref())?;
    if let Some(seed) = args.seed {
        cell.seed = seed;
    }
    if let Some(parts) = args.parts {
        cell.machine.iter_mut().for_each(|m| m.parts = parts);
    }
    let signer = load_or_create_signer(&args.key)?;
    let mut store = open_store(&args.db)?;
    let total: u64 = cell.machine.iter().map(|m| u64::from(m.parts)).sum();
    let bar = step("machines' parts", Some(total));
    let outcomes = run_cell(&cell, &programs, &mut *store, &signer, |p| {
        bar.set_message(format!("{} part {}/{}", p.machine, p.part, p.parts));
        if p.part_done {
            bar.inc(1);
        }
    })?;
    bar.finish_with_message("done");
    let cases = builtin_cases();
    // Each case is run, then its baseline made once more, recorded, so an assessor can
    // recompute it: two steps per case.
    let bar = step("feed loop validation", Some(2 * cases.len() as u64));
    let mut validation = Vec::with_capacity(cases.len());
    for (k, case) in cases.iter().enumerate() {
        bar.set_message(format!("case {}/{}", k + 1, cases.len()));
        validation.push(run_case(
            case,
            &cell.feed,
            DEFAULT_ACTUATION_DELAY_MS,
            cell.seed,
        )?);
        bar.inc(1);
    }
    for (k, (case, outcome)) in cases.iter().zip(&mut validation).enumerate() {
        bar.set_message(format!("recording baseline {}/{}", k + 1, cases.len()));
        let machine = MachineSpec::vmc(format!("baseline-{}", k + 1));
        record_baseline_run(&mut *store, &machine, case, outcome, cell.seed)?;
        bar.inc(1);
    }
    let validation_leaf = record_validation(
        &mut *store,
        (&cell.feed, DEFAULT_ACTUATION_DELAY_MS),
        &cases,
        &validation,
        DEFAULT_START_NS,
    )?;
    checkpoint_now(&mut *store, &signer)?;
    bar.finish_with_message("done");
    let wear = match args.wear_parts {
        0 => None,
        parts => {
            let spec = TrialSpec {
                program: (WEAR_PROGRAM.0.into(), WEAR_PROGRAM.1.into()),
                material: Material::SteelC45,
                parts,
                seed: cell.seed,
                train_seeds: vec![cell.seed + 1, cell.seed + 2],
                machine: "mill-4".into(),
                params: WearLoopParams::default(),
            };
            // The trial names its two stages only; the spinner ticks by itself in between.
            let bar = step("wear loop on mill-4", None);
            let trial = run_trial(&spec, Some(&mut *store), |stage| {
                bar.set_message(stage.to_string());
            })?;
            checkpoint_now(&mut *store, &signer)?;
            bar.finish_with_message(format!("{parts} parts done"));
            Some(trial)
        }
    };
    let schedule = if args.no_schedule {
        None
    } else {
        let bar = step("energy-scheduled cell", None);
        let free_ns = next_part_start_ns(&*store, &MachineId::new("mill-4"), DEFAULT_CHANGEOVER_S)?;
        let planned_change = wear
            .as_ref()
            .and_then(|t| t.evidence.as_ref())
            .and_then(|e| e.tool_change_plans.last().cloned());
        let spec = demo_spec(SCHEDULE_MACHINES, free_ns, cell.seed, planned_change)?;
        let outcome = run_schedule_cell(&mut *store, &spec, |stage| {
            bar.set_message(stage.to_string());
        })?;
        checkpoint_now(&mut *store, &signer)?;
        bar.finish_with_message("done");
        Some(outcome)
    };
    let learn = match args.learn_parts {
        0 => None,
        parts => {
            let bar = step("learning on mill-7", Some(u64::from(parts)));
            let spec = LearnSpec {
                program: (LEARN_PROGRAM.0.into(), LEARN_PROGRAM.1.into()),
                material: Material::SteelC45,
                parts,
                mode: LearnMode::Auto,
                seed: cell.seed,
                machine: "mill-7".into(),
                plant: PlantSettings::default(),
            };
            let outcome = learn_series(&spec, &mut *store, |p| {
                bar.set_message(format!("part {} cost {:.3}", p.part, p.cost));
                bar.inc(1);
            })?;
            checkpoint_now(&mut *store, &signer)?;
            bar.finish_with_message("done");
            Some(outcome)
        }
    };
    let bar = step("evidence bundle", None);
    bar.set_message("exporting");
    replace_bundle_dir(&args.bundle)?;
    let exported = export_bundle(&*store, &args.bundle, &signer.verifier(), true)?;
    bar.set_message("verifying");
    let report = verify_bundle(&args.bundle, Some(&signer.verifier()));
    bar.finish_with_message("done");
    if let Some(failure) = &report.first_failure {
        bail!("the bundle just exported does not verify: {failure}");
    }
    let passed = validation.iter().filter(|o| o.passed).count();
    if args.json {
        return print_json(&serde_json::json!({
            "db": store.location(),
            "bundle": args.bundle,
            "bundle_records": exported.records,
            "bundle_segments": exported.segments,
            "machines": outcomes,
            "feed_loop_validation": { "passed": passed, "cases": validation, "report_leaf": validation_leaf.leaf_index },
            "wear_loop": wear.as_ref().map(|w| serde_json::json!({ "validation": w.validation, "evidence": w.evidence })),
            "schedule_loop": schedule,
            "learn_loop": learn,
        }));
    }
    print_machines(&outcomes);
    let mut loops = table_within(&["loop", "result", "report\nleaf"], COLUMNS);
    row_lines(&mut loops);
    loops.add_row(validation_row(
        passed,
        validation.len(),
        validation_leaf.leaf_index,
    ));
    if let Some(wear) = &wear {
        loops.add_row(wear_row(wear));
    }
    if let Some(s) = &schedule {
        loops.add_row(schedule_row(s));
    }
    if let Some(l) = &learn {
        loops.add_row(learn_row(l));
    }
    println!("\nThe loops, each judged on its own cases and recorded as a ledger report:");
    println!("{loops}");
    // Paths go on lines of their own: they are the user's, of any length.
    println!("\nrecorded into {}", store.location());
    println!(
        "evidence bundle {}: {} records, {} segments, verified",
        args.bundle.display(),
        exported.records,
        exported.segments
    );
    println!("next: aimm data ls");
    println!("      aimm ledger ls --type nc_program");
    println!("      aimm ledger lineage <leaf>");
    println!("      aimm verify {}", args.bundle.display());
    Ok(())
}

/// Progress on stderr for one long step of the demo, named `name`: a bar when the step counts
/// its items (`len`), else a spinner. Both tick by themselves, because some steps report
/// nothing for seconds (the wear trial between its stages, the export). indicatif draws
/// nothing when stderr is not a terminal; in one, each finished step stays as a line with its
/// duration. The lines fit [`COLUMNS`] while messages stay under about 40 characters.
fn step(name: &str, len: Option<u64>) -> ProgressBar {
    let (bar, template) = match len {
        Some(len) => (
            ProgressBar::new(len),
            "{spinner} {prefix:<22} {elapsed:>4} [{bar:25}] {pos}/{len} {msg}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {prefix:<22} {elapsed:>4} {msg}",
        ),
    };
    // The last tick string is what a finished bar shows.
    let style = ProgressStyle::with_template(template)
        .expect("valid template")
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✓");
    bar.set_style(style);
    bar.set_prefix(name.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Reads the cell file (or the built-in one) and its programs (name, text) in machine order.
fn load_cell(path: Option<&Path>) -> Result<(CellFile, Vec<(String, String)>)> {
    let Some(path) = path else {
        let cell = CellFile::parse(DEFAULT_CELL, "built-in demo cell")?;
        let programs = cell
            .machine
            .iter()
            .map(|m| {
                EXAMPLE_PROGRAMS
                    .iter()
                    .find(|(name, _)| *name == m.program)
                    .map(|(name, text)| (format!("examples/{name}"), text.to_string()))
                    .with_context(|| format!("built-in cell names unknown program {}", m.program))
            })
            .collect::<Result<_>>()?;
        return Ok((cell, programs));
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read cell {}", path.display()))?;
    let cell = CellFile::parse(&text, &path.display().to_string())?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let programs = cell
        .machine
        .iter()
        .map(|m| {
            let p = dir.join(&m.program);
            let text = std::fs::read_to_string(&p).with_context(|| {
                format!("cannot read program {} of machine {}", p.display(), m.id)
            })?;
            Ok((p.display().to_string(), text))
        })
        .collect::<Result<_>>()?;
    Ok((cell, programs))
}

/// Empties `dir` for a new bundle if it holds an earlier aimm bundle; refuses any other
/// non-empty folder, so the demo never deletes what it did not write.
fn replace_bundle_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let is_bundle = dir.join("checkpoint").is_file() && dir.join("records").is_file();
    let empty = std::fs::read_dir(dir)?.next().is_none();
    if empty {
        return Ok(());
    }
    if !is_bundle {
        bail!(
            "{} exists and is not an aimm bundle; choose another --bundle folder",
            dir.display()
        );
    }
    std::fs::remove_dir_all(dir).with_context(|| format!("cannot replace bundle {}", dir.display()))
}

/// The per-machine results in two tables narrow enough for [`COLUMNS`]: the feed loop
/// against the programmed feed and the best safe constant override, then the loop's state,
/// the part and the tools after the last part.
fn print_machines(outcomes: &[MachineOutcome]) {
    println!(
        "Feed loop per machine: cycle time per part with the programmed feed, at the best safe\n\
         constant override (its %), with the loop; overload events the same three ways."
    );
    let mut feed = table_within(
        &[
            "machine",
            "material",
            "parts",
            "prog. s",
            "best s (ovr %)",
            "loop s",
            "vs best %",
            "overloads\nprog/best/loop",
        ],
        COLUMNS,
    );
    for o in outcomes {
        let n = o.parts.len().max(1) as f64;
        let cycle = o.parts.iter().map(|p| p.result.cycle_time_s).sum::<f64>() / n;
        let best = &o.best_constant;
        feed.add_row(vec![
            o.machine.clone(),
            o.material.clone(),
            o.parts.len().to_string(),
            format!("{:.1}", o.programmed_feed.cycle_time_s),
            format!(
                "{:.1} ({:.0})",
                best.figures.cycle_time_s, best.override_pct
            ),
            format!("{cycle:.1}"),
            format!("{:+.1}", 100.0 * (cycle / best.figures.cycle_time_s - 1.0)),
            format!(
                "{} / {} / {}",
                o.programmed_feed.overload_events,
                best.figures.overload_events,
                o.parts
                    .iter()
                    .map(|p| p.result.overload_events)
                    .sum::<u32>()
            ),
        ]);
    }
    println!("{feed}");
    println!(
        "\nAfter each machine's last part: the loop's setpoint (sp) per tool and its tracking\n\
         error, the reference feature's error, tool flank wear (VB); energy of all its parts."
    );
    let mut last = table_within(
        &[
            "machine",
            "setpoint %",
            "RMS error\n% of sp",
            "energy\nkWh",
            "ref. feature\nerror mm",
            "tool VB mm",
        ],
        COLUMNS,
    );
    row_lines(&mut last);
    for o in outcomes {
        let part = o.parts.last();
        // One tool per line: a machine may use several, and one line would not fit.
        last.add_row(vec![
            o.machine.clone(),
            part.map_or("-".into(), |p| {
                p.feed_loop
                    .setpoints
                    .iter()
                    .map(|(tool, sp)| format!("T{tool} {sp:.0}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
            // NaN: under a second of unsaturated control (a light part at the highest override).
            part.map_or("-".into(), |p| {
                if p.feed_loop.rms_error_pct.is_finite() {
                    format!("{:.1}", p.feed_loop.rms_error_pct)
                } else {
                    "n/a (saturated)".into()
                }
            }),
            format!(
                "{:.3}",
                o.parts.iter().map(|p| p.result.energy_kwh).sum::<f64>()
            ),
            part.and_then(|p| p.result.reference_feature.as_ref())
                .map_or("-".into(), |f| format!("{:+.4}", f.mean_error_mm)),
            part.map_or("-".into(), |p| {
                p.result
                    .tools
                    .iter()
                    .map(|t| format!("T{} {:.3}", t.tool, t.vb_mm))
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        ]);
    }
    println!("{last}");
}

/// Rules between the rows of `t`: its rows span several lines, which the house style's
/// borders-only tables would run together.
fn row_lines(t: &mut Table) {
    t.set_style(TableComponent::HorizontalLines, '─')
        .set_style(TableComponent::MiddleIntersections, '─')
        .set_style(TableComponent::LeftBorderIntersections, '├')
        .set_style(TableComponent::RightBorderIntersections, '┤');
}

/// "passed" or "FAILED", as the loops' rows end.
fn verdict(passed: bool) -> &'static str {
    if passed {
        "passed"
    } else {
        "FAILED"
    }
}

/// The feed loop's validation on the built-in cases: one criterion per line.
fn validation_row(passed: usize, cases: usize, leaf: u64) -> Vec<String> {
    vec![
        "feed loop\nvalidation".into(),
        format!(
            "{passed} of {cases} cases pass; a case passes when the loop is\n\
             - at most 1 % slower than the best safe constant override\n\
             - 8 % faster where the engagement varies\n\
             - without overload, tracking within bound"
        ),
        leaf.to_string(),
    ]
}

fn wear_row(wear: &Trial) -> Vec<String> {
    let w = &wear.validation;
    let mut result = vec![format!(
        "{} parts, out of tolerance: {} without the loop, {} with it",
        w.parts, w.out_of_tolerance_without_loop, w.out_of_tolerance_with_loop
    )];
    if w.tool_changes.is_empty() {
        result.push("no tool change".into());
    }
    for c in &w.tool_changes {
        result.push(format!(
            "tool changed at VB {:.3} mm after {} of its life",
            c.true_vb_mm,
            c.life_used
                .map_or("?".into(), |u| format!("{:.1} %", 100.0 * u))
        ));
    }
    result.push(verdict(w.passed).into());
    vec![
        "tool wear\nmill-4".into(),
        result.join("\n"),
        wear.evidence
            .as_ref()
            .map_or("-".into(), |e| e.report.leaf_index.to_string()),
    ]
}

fn schedule_row(s: &ScheduleCellOutcome) -> Vec<String> {
    let realised: f64 = s.jobs.iter().map(|j| j.realised_kwh).sum();
    let planned: f64 = s.jobs.iter().map(|j| j.planned_kwh).sum();
    vec![
        format!("energy schedule\n{}", SCHEDULE_MACHINES.join("\n")),
        [
            format!(
                "cost {:.2} against EDD's {:.2} ({:+.1} %)",
                s.plan_cost,
                s.edd_cost,
                100.0 * (s.plan_cost / s.edd_cost - 1.0)
            ),
            format!(
                "weighted tardiness {:.0} s (EDD {:.0} s)",
                s.plan_tardiness_s, s.edd_tardiness_s
            ),
            format!(
                "realised peak {:.2} kW under the {:.2} kW cap",
                s.realised_peak_kw, s.cap_kw
            ),
            format!("energy {realised:.2} kWh realised, {planned:.2} kWh planned"),
            format!(
                "{} schedules, {} operation(s) moved for the wear loop's tool change",
                s.schedules, s.moved
            ),
            verdict(s.passed).into(),
        ]
        .join("\n"),
        s.report.leaf_index.to_string(),
    ]
}

fn learn_row(l: &LearnOutcome) -> Vec<String> {
    vec![
        "learning\nmill-7".into(),
        [
            format!("{}, auto mode", l.program),
            format!(
                "cost per part {:.3} → {:.3} over {} parts (oracle {:.3})",
                l.cost_start,
                l.cost_final,
                l.parts.len(),
                l.oracle_cost
            ),
            format!(
                "{} part(s) beyond a limit, version v{} in force",
                l.violations, l.version_in_force
            ),
        ]
        .join("\n"),
        "-".into(),
    ]
}
