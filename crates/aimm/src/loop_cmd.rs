//! `aimm loop`: run a closed loop on the simulator and compare it with the machine without it.

use crate::keys_cmd::load_or_create_signer;
use crate::output::{print_json, spinner, table};
use crate::part::{open_store, parse_material, read_program};
use crate::part::{HardnessArgs, RecordArgs};
use crate::wear_cmd::observation_flag;
use aimm_assess::conformance::feed::{record_loop_run, run_case_with_operator};
use aimm_assess::conformance::wear::{run_trial, TrialSpec};
use aimm_assess::faults::FaultPlan;
use aimm_connect::wear_csv::write_wear_csv;
use aimm_loops::feed::validation::{
    builtin_cases, record_validation, CaseOutcome, FeedCase, RMS_BOUND_PCT, SLOWER_TOLERANCE_PCT,
    VARYING_ENGAGEMENT_GAIN_PCT,
};
use aimm_loops::feed::{FeedEventKind, FeedParams, Setpoint, MAX_ACTUATION_DELAY_MS};
use aimm_loops::wear::{signal_names, PartRecord, Series, WearLoopParams, MODEL_KIND};
use aimm_model::MachineSpec;
use aimm_sim::PanelScript;
use aimm_store::evidence::checkpoint_now;
use aimm_store::redact_url;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum LoopCommand {
    /// Real-time spindle-load adaptive feed control on the simulated mill: the loop commands the
    /// feed override every load sample (500 Hz) to hold the spindle load at a setpoint.
    ///
    /// The program runs at its programmed feed, at the best safe constant override (the highest,
    /// in 5 % steps up to 200 %, with no spindle overload — what an operator finds by trying)
    /// and with the loop, and the three are compared. `--validate` runs the built-in validation
    /// cases instead and fails unless the loop is never more than 1 % slower than the best safe
    /// constant override, at least 8 % faster where the engagement varies, never overloads, and
    /// tracks its setpoint.
    ///
    /// Examples:
    ///   aimm loop feed --program examples/steps_c45.nc --setpoint 90
    ///   aimm loop feed --program examples/bracket_c45.nc --teach --db aimm.db
    ///   aimm loop feed --program examples/steps_c45.nc --setpoint 70 \
    ///       --operator "14s:hold,17s:cycle-start,20s:override=60,22s:override=100"
    ///   aimm loop feed --validate --db aimm.db --json
    #[command(verbatim_doc_comment)]
    Feed(FeedArgs),
    /// Tool-wear compensation on the simulated mill: one tool makes a long series of parts;
    /// between parts the wear model (trained on simulated tool lives) estimates its wear from
    /// spindle load and power, the radius wear offset is written into the NC program (G10 L13)
    /// for the next part, and a tool change is planned before the wear criterion. The same
    /// series without the loop is shown beside it, and the loop's validation verdict. Its tools
    /// are nominal (each lives alike): this is one tool's evidence trail; the loop over tools of
    /// scattered life, against plant practice without it, is `aimm bench wear-loop`.
    ///
    /// With --db everything is recorded: the training lives and the looped series as runs with
    /// their sensor segments, and in the ledger the model (`model_training`, citing the training
    /// segments), each decision (`control_action`), each compensated program (`nc_program`),
    /// planned tool changes (also as events) and the `validation_report`. `aimm ledger lineage`
    /// of an offset's program version walks back to the model and the sensor data.
    ///
    /// Examples:
    ///   aimm loop wear --parts 70
    ///   aimm loop wear --db aimm.db --training-csv lives.csv
    ///   aimm wear train --data lives.csv --wear-unit mm --window-s 9.79 \
    ///       --observation sensor-state --out m.json   (same model digest; the command
    ///       to retrain is printed with --training-csv)
    #[command(verbatim_doc_comment)]
    Wear(WearLoopArgs),
}

#[derive(clap::Args)]
pub struct WearLoopArgs {
    /// NC program with a reference feature cut under cutter compensation.
    #[arg(long, default_value = "examples/ring_c45.nc")]
    program: PathBuf,
    /// Workpiece material: steel-c45, al-6061, ti-6al-4v, ss-316l or gg-25.
    #[arg(long, default_value = "steel-c45")]
    material: String,
    /// Parts in the series.
    #[arg(long, default_value_t = 70)]
    parts: u32,
    /// Seed of the series' sensor noise.
    #[arg(long, default_value_t = 13)]
    seed: u64,
    /// Seeds of the simulated tool lives the model is trained on.
    #[arg(long, default_values_t = [11, 12])]
    train_seeds: Vec<u64>,
    /// Machine id the looped series is recorded on (with --db); the training lives are recorded
    /// on `<machine>-lives`.
    #[arg(long, default_value = "mill-4")]
    machine: String,
    /// Also write the training lives as a wear CSV (the format `aimm wear train` reads).
    #[arg(long)]
    training_csv: Option<PathBuf>,
    #[command(flatten)]
    record: RecordArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct FeedArgs {
    /// NC program to run (not with --validate).
    #[arg(long, required_unless_present = "validate")]
    program: Option<PathBuf>,
    /// Workpiece material: steel-c45, al-6061, ti-6al-4v, ss-316l or gg-25.
    #[arg(long, default_value = "steel-c45")]
    material: String,
    /// Spindle-load setpoint, %. Without it (and without --teach) the loop holds the machine's
    /// limit: the alarm load less --limit-margin.
    #[arg(long, conflicts_with = "teach")]
    setpoint: Option<f64>,
    /// Learn the setpoint per tool from a first part at the programmed feed (Heidenhain
    /// AFC-style teach-in: a high quantile of the steady engaged load, entries and plunges
    /// left out), to load each tool no more than its program did.
    #[arg(long)]
    teach: bool,
    /// Lowest override the loop may command, % (a cut too heavy for it overloads, holds and
    /// restarts here).
    #[arg(long, default_value_t = 10.0)]
    min_override: f64,
    /// Highest override the loop may command, % (the control's range ends at 200 %).
    #[arg(long, default_value_t = 200.0)]
    max_override: f64,
    /// Spindle overload threshold, %: a spindle overload (load smoothed over 100 ms above it)
    /// holds the feed; the same definition judges the loop and every baseline.
    #[arg(long, default_value_t = 120.0)]
    alarm_load: f64,
    /// Machine-limit mode: the setpoint is this many load-% points below --alarm-load.
    #[arg(long, default_value_t = FeedParams::default().limit_margin_pct)]
    limit_margin: f64,
    /// Delay from decision to effect on the machine, ms (an interpolation cycle).
    #[arg(long, default_value_t = 4.0)]
    actuation_delay_ms: f64,
    /// Flank wear the tool starts with, mm.
    #[arg(long, default_value_t = 0.0)]
    initial_wear: f64,
    #[command(flatten)]
    hardness: HardnessArgs,
    /// Run the built-in validation cases and record a validation report (with --db).
    #[arg(long)]
    validate: bool,
    /// Seed of the sensor noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The operator works the panel during the runs (the panel wins: the loop pauses):
    /// comma-separated `<seconds>s:<action>`, actions `override=<pct>` (0–200 in steps of 10;
    /// off 100 the knob has precedence), `hold`, `cycle-start` (or `release`),
    /// `single-block=on|off`, `mdi`, `auto`.
    #[arg(long, conflicts_with = "validate")]
    operator: Option<PanelScript>,
    #[command(flatten)]
    record: RecordArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: LoopCommand) -> Result<()> {
    match cmd {
        LoopCommand::Feed(args) => feed(args),
        LoopCommand::Wear(args) => wear(args),
    }
}

fn feed(args: FeedArgs) -> Result<()> {
    let params = FeedParams {
        min_override_pct: args.min_override,
        max_override_pct: args.max_override,
        limit_margin_pct: args.limit_margin,
        ..FeedParams::default().with_alarm_load(args.alarm_load)
    };
    params
        .validate()
        .map_err(|e| anyhow::anyhow!("feed loop settings: {e}"))?;
    let delay = args.actuation_delay_ms;
    if !(delay.is_finite() && (0.0..=MAX_ACTUATION_DELAY_MS).contains(&delay)) {
        bail!("--actuation-delay-ms {delay}: must be within 0–{MAX_ACTUATION_DELAY_MS} ms");
    }
    if let Some(sp) = args.setpoint {
        if !(sp > 0.0 && sp < args.alarm_load) {
            bail!(
                "--setpoint {sp}: must be above 0 and below the alarm load {} %",
                args.alarm_load
            );
        }
    }
    let cases = if args.validate {
        builtin_cases()
    } else {
        let path = args
            .program
            .as_ref()
            .expect("clap requires --program without --validate");
        let (_, text) = read_program(path)?;
        vec![FeedCase {
            name: path.display().to_string(),
            program: path.display().to_string(),
            text,
            material: parse_material(&args.material)?,
            initial_wear_mm: args.initial_wear,
            setpoint: match (args.setpoint, args.teach) {
                (Some(sp), _) => Setpoint::Fixed(sp),
                (None, true) => Setpoint::Teach(Default::default()),
                (None, false) => Setpoint::Limit,
            },
            varying_engagement: false,
            hardness: args.hardness.hardness(),
        }]
    };
    let operator = args.operator.clone().unwrap_or_default();
    let bar = indicatif::ProgressBar::new(cases.len() as u64);
    let mut outcomes = Vec::new();
    for case in &cases {
        bar.set_message(case.name.clone());
        outcomes.push(run_case_with_operator(
            case,
            &params,
            args.actuation_delay_ms,
            args.seed,
            &operator,
        )?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let recorded = match &args.record.db {
        Some(db) => Some(record(&args, db, &params, &cases, &outcomes)?),
        None => None,
    };
    if args.json {
        print_json(&serde_json::json!({
            "cases": outcomes,
            "rms_bound_pct": RMS_BOUND_PCT,
            "recorded": recorded,
        }))?;
    } else {
        print_outcomes(&outcomes);
        if let Some(r) = recorded {
            println!("{r}");
        }
    }
    // A failed validation is a failed command, in JSON as in text.
    if outcomes.iter().any(|o| !o.passed) {
        bail!(
            "{} case(s) failed validation",
            outcomes.iter().filter(|o| !o.passed).count()
        );
    }
    Ok(())
}

/// Stores the evidence: with --validate a validation report citing the loop's parameters and
/// the programs; otherwise the loop's run itself, recorded like any run.
fn record(
    args: &FeedArgs,
    db: &str,
    params: &FeedParams,
    cases: &[FeedCase],
    outcomes: &[CaseOutcome],
) -> Result<String> {
    let signer = load_or_create_signer(&args.record.key)?;
    let mut store = open_store(db)?;
    let t0 = aimm_sim::DEFAULT_START_NS;
    if args.validate {
        let report = record_validation(
            &mut *store,
            (params, args.actuation_delay_ms),
            cases,
            outcomes,
            t0,
        )?;
        let checkpoint = checkpoint_now(&mut *store, &signer)?;
        return Ok(format!(
            "validation report recorded as ledger leaf {} (checkpoint size {})",
            report.leaf_index, checkpoint.size
        ));
    }
    // Record the loop's run on the case's program.
    let machine = MachineSpec::vmc("mill-1");
    let run = record_loop_run(
        &mut *store,
        &machine,
        &cases[0],
        (params, args.actuation_delay_ms),
        args.seed,
        (
            &args.operator.clone().unwrap_or_default(),
            FaultPlan::default(),
        ),
    )?;
    let checkpoint = checkpoint_now(&mut *store, &signer)?;
    Ok(format!(
        "loop run stored as run {} in {} ({} segments; checkpoint size {})",
        run.part.run,
        store.location(),
        run.part.segments.len(),
        checkpoint.size
    ))
}

fn wear(args: WearLoopArgs) -> Result<()> {
    let material = parse_material(&args.material)?;
    let (_, text) = read_program(&args.program)?;
    let spec = TrialSpec {
        program: (args.program.display().to_string(), text),
        material,
        parts: args.parts,
        seed: args.seed,
        train_seeds: args.train_seeds.clone(),
        machine: args.machine.clone(),
        params: WearLoopParams::default(),
    };
    let bar = spinner();
    let mut recording = match &args.record.db {
        Some(db) => Some((open_store(db)?, load_or_create_signer(&args.record.key)?)),
        None => None,
    };
    let trial = run_trial(
        &spec,
        recording
            .as_mut()
            .map(|(s, _)| s.as_mut() as &mut dyn aimm_store::Store),
        |stage| bar.set_message(stage.to_string()),
    )?;
    let checkpoint = match &mut recording {
        Some((store, signer)) => Some(checkpoint_now(&mut **store, signer)?),
        None => None,
    };
    bar.finish_and_clear();
    if let Some(path) = &args.training_csv {
        let lives: Vec<_> = trial.training.lives.iter().collect();
        std::fs::write(path, write_wear_csv(&lives, &signal_names()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        let config = &trial.training.model.config;
        eprintln!(
            "wrote the training lives to {0}; `aimm wear train --data {0} --wear-unit mm \
             --window-s {1} --observation {2} --out model.json` trains the same model \
             (digest {3})",
            path.display(),
            config.window.window_s,
            observation_flag(config.observation),
            trial.training.model.digest()
        );
    }
    if args.json {
        return print_json(&serde_json::json!({
            "model_sha256": trial.training.model.digest(),
            "without_loop": trial.plain, "with_loop": trial.looped,
            "validation": trial.validation,
            "evidence": trial.evidence,
            "checkpoint_size": checkpoint.map(|c| c.size),
        }));
    }
    print_series(&trial.plain, &trial.looped);
    let v = &trial.validation;
    for c in &v.tool_changes {
        println!(
            "tool changed after {:.0} s of cutting at VB {:.3} mm: {} of its life used",
            c.cutting_s,
            c.true_vb_mm,
            c.life_used
                .map_or("?".into(), |u| format!("{:.1} %", 100.0 * u))
        );
    }
    if let (Some(rmse), Some(cov)) = (v.estimate_rmse_um, v.interval_coverage) {
        println!(
            "wear estimate after each part: RMSE {rmse:.1} µm, interval held the true wear in {:.0} % of parts",
            100.0 * cov
        );
    }
    println!("validation: {}", v.summary());
    if let (Some(e), Some(c), Some(db)) = (&trial.evidence, &checkpoint, &args.record.db) {
        println!(
            "recorded in {}: model {} v{} (leaf {}), last program version leaf {}, {} tool-change plan(s), validation report leaf {}; checkpoint size {}",
            redact_url(db),
            MODEL_KIND,
            e.model.version,
            e.model.cite.leaf_index,
            e.last_program.as_ref().map_or("-".into(), |p| p.leaf_index.to_string()),
            e.tool_change_plans.len(),
            e.report.leaf_index,
            c.size
        );
    }
    if !v.passed {
        bail!(
            "the wear loop failed its validation: {}",
            v.failures.join("; ")
        );
    }
    Ok(())
}

/// The two series side by side, part by part.
fn print_series(plain: &Series, looped: &Series) {
    let mut t = table(&[
        "part",
        "error mm without loop",
        "offset mm",
        "error mm with loop",
        "true VB mm",
        "estimated VB mm",
        "",
    ]);
    for (a, b) in plain.parts.iter().zip(&looped.parts) {
        let err = |p: &PartRecord| {
            p.feature.as_ref().map_or("-".into(), |f| {
                format!(
                    "{:+.4}{}",
                    f.mean_error_mm,
                    if f.in_tolerance { "" } else { " OUT" }
                )
            })
        };
        t.add_row(vec![
            b.part.to_string(),
            err(a),
            format!("{:+.4}", b.offset_mm),
            err(b),
            format!("{:.3}", b.true_vb_mm),
            b.estimated_vb_mm.map_or("-".into(), |v| format!("{v:.3}")),
            if b.new_tool {
                "new tool".into()
            } else {
                String::new()
            },
        ]);
    }
    println!("{t}");
    println!(
        "out of tolerance: {} of {} parts without the loop, {} with it",
        plain.out_of_tolerance(),
        plain.parts.len(),
        looped.out_of_tolerance()
    );
}

fn print_outcomes(outcomes: &[CaseOutcome]) {
    let mut t = table(&[
        "case",
        "material",
        "cycle s: programmed / best constant (%) / loop",
        "loop vs best %",
        "overloads",
        "max load %",
        "setpoint %",
        "RMS error % of sp",
        "result",
    ]);
    for o in outcomes {
        let sp = o
            .loop_report
            .setpoints
            .iter()
            .map(|(t, sp)| format!("T{t} {sp:.0}"))
            .collect::<Vec<_>>()
            .join(", ");
        let (p, b, a) = (&o.programmed_feed, &o.best_constant.figures, &o.adaptive);
        t.add_row(vec![
            o.name.clone(),
            o.material.clone(),
            format!(
                "{:.1} / {:.1} ({:.0}) / {:.1}",
                p.cycle_time_s, b.cycle_time_s, o.best_constant.override_pct, a.cycle_time_s
            ),
            format!("{:+.1}", -o.cycle_time_reduction_pct),
            format!(
                "{} / {} / {}",
                p.overload_events, b.overload_events, a.overload_events
            ),
            format!(
                "{:.0} / {:.0} / {:.0}",
                p.max_spindle_load_pct, b.max_spindle_load_pct, a.max_spindle_load_pct
            ),
            sp,
            match &o.tracking_not_judged {
                None => format!("{:.1}", o.loop_report.rms_error_pct),
                Some(_) => "not judged (< 1 s unsaturated)".into(),
            },
            o.verdict(),
        ]);
    }
    println!("{t}");
    println!(
        "pass = at most {SLOWER_TOLERANCE_PCT} % slower than the best safe constant override ({VARYING_ENGAGEMENT_GAIN_PCT} % faster where the engagement varies), no spindle overload, RMS tracking error ≤ {RMS_BOUND_PCT} % of setpoint over ≥ 1 s of unsaturated control"
    );
    for o in outcomes {
        for e in &o.loop_report.events {
            if matches!(
                e.kind,
                FeedEventKind::OperatorPaused(_) | FeedEventKind::OperatorReleased(_)
            ) {
                let at_s = (e.t_ns - aimm_sim::DEFAULT_START_NS) as f64 * 1e-9;
                println!("{}: {at_s:.3} s: {}", o.name, e.detail);
            }
        }
    }
}
