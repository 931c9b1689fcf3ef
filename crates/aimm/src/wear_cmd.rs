//! `aimm wear`: train, evaluate and apply the flank-wear model on recorded data (the long-format
//! wear CSV, see `aimm_connect::wear_csv`, with its columns named on the command line); training
//! is recorded as ledger evidence, and applying a model prints its trajectory per run.

use crate::keys_cmd::load_or_create_signer;
use crate::output::{print_json, table};
use crate::part::open_store;
use crate::part::RecordArgs;
use aimm_connect::wear_csv::{
    read_wear_csv, WearCsvOptions, WearDataset, WearRun, WearUnit, DEFAULT_GROUP_COLUMN,
};
use aimm_loops::wear::{
    leave_one_run_out, training_metrics, trajectory, FoldResult, Observation, WearModel,
    WearTrainConfig, DEFAULT_WEAR_CRITERION_MM, MODEL_KIND,
};
use aimm_store::evidence::{checkpoint_now, record_model_training};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand)]
pub enum WearCommand {
    /// Train the wear model on a wear CSV and write it to a file; with --db also record a
    /// `model_training` ledger record (dataset digest, features, hyper-parameters, metrics,
    /// artifact digest). The same data give the same model digest. The model file keeps its
    /// signals' names, units and training scale; `predict` matches columns to them by name.
    ///
    /// Example:
    ///   aimm wear train --data testdata/wear/uniwear.csv --wear-unit mm --group phm2010 --exclude c6 --out wear.json --db aimm.db
    ///   aimm wear train --data plant.csv --run-col tool --time-col cut_s --wear-col vb_um --signals load_pct,power_kw --out wear.json
    #[command(verbatim_doc_comment)]
    Train(TrainArgs),
    /// Leave-one-run-out evaluation: RMSE/MAE per held-out run and interval coverage, next to
    /// the sensor-free baseline (the training runs' mean wear curve); only windows with measured
    /// wear are scored.
    ///
    /// Example:
    ///   aimm wear eval --data testdata/wear/uniwear.csv --wear-unit mm --group phm2010
    ///   aimm wear eval --data testdata/wear/uniwear.csv --wear-unit mm --normalise-per-group
    #[command(verbatim_doc_comment)]
    Eval(EvalArgs),
    /// Score data with a trained model, window by window: wear with its interval, remaining life
    /// to the wear criterion and, where wear was measured, the error (with a per-run RMSE).
    /// Signal columns are matched to the model's by name, in any order; a missing or extra one is
    /// refused. The data need no wear column (a tool in production).
    ///
    /// Example:
    ///   aimm wear predict --model wear.json --data testdata/wear/uniwear.csv --wear-unit mm --group phm2010
    ///   aimm wear predict --model wear.json --data spindle-today.csv --json
    #[command(verbatim_doc_comment)]
    Predict(PredictArgs),
}

#[derive(clap::Args)]
pub struct DataArgs {
    /// Wear CSV: one row per time point; run id, time (s), signal columns, measured wear (may be
    /// empty or NaN where not measured). Format: `aimm_connect::wear_csv`.
    #[arg(long)]
    data: PathBuf,
    /// Only runs of this group (e.g. phm2010, nuaa).
    #[arg(long)]
    group: Option<String>,
    /// Unit of the wear column when its header does not say (mm or um).
    #[arg(long)]
    wear_unit: Option<WearUnit>,
    #[command(flatten)]
    columns: ColumnArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Which column is which, for files not laid out as uniwear.csv.
#[derive(clap::Args)]
pub struct ColumnArgs {
    /// Header of the run id column (one tool's life).
    #[arg(long, default_value = "experiment_tag")]
    run_col: String,
    /// Header of the time column, s of cutting since the tool was new.
    #[arg(long, default_value = "timestamp")]
    time_col: String,
    /// Header of the measured wear column [default: the first of tool_wear, tool_wear_mm,
    /// tool_wear_um, vb_mm, vb_um].
    #[arg(long)]
    wear_col: Option<String>,
    /// Header of the group column [default: dataset_tag when present].
    #[arg(long)]
    group_col: Option<String>,
    /// The signal columns, comma-separated (e.g. force_z,vibration_x); every other column is
    /// ignored. Default: every numeric column without another role (the choice is printed).
    #[arg(long, value_delimiter = ',')]
    signals: Option<Vec<String>>,
}

/// How the model is trained.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Divide each signal by its group's RMS before training, so groups measured on different
    /// scales (another sensor or gain) are learnt together; without it such a mix is refused.
    /// Data to score must then belong to a trained group.
    #[arg(long)]
    normalise_per_group: bool,
    /// Cutting time per window, s. For a part program repeated tool after tool with one row per
    /// part, half a part's cutting time (every part is then a window of its own).
    #[arg(long, default_value_t = WearTrainConfig::default().window.window_s)]
    window_s: f64,
    /// What a window's observation of the wear is: prior-residual (the wear-clock prior
    /// corrected by a ridge map of every feature; suits any data) or sensor-state (each signal's
    /// drift against the new tool, calibrated against the wear and inverted, read by a filter
    /// that learns the tool's own wear rate; for a part program repeated tool after tool, one
    /// row per part, with --window-s half a part).
    #[arg(long, value_enum, default_value_t = ObservationArg::PriorResidual)]
    observation: ObservationArg,
}

/// [`Observation`] on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ObservationArg {
    PriorResidual,
    SensorState,
}

/// The `--observation` value that trains with `observation`, for commands printed to retrain a
/// model (named by clap, so it cannot drift from what the option accepts).
pub fn observation_flag(observation: Observation) -> String {
    let arg = match observation {
        Observation::PriorResidual => ObservationArg::PriorResidual,
        Observation::SensorState => ObservationArg::SensorState,
    };
    clap::ValueEnum::to_possible_value(&arg)
        .expect("no observation is hidden")
        .get_name()
        .to_string()
}

impl ModelArgs {
    fn config(&self) -> anyhow::Result<WearTrainConfig> {
        if !(self.window_s.is_finite() && self.window_s > 0.0) {
            anyhow::bail!(
                "--window-s {}: a window must last a positive number of seconds",
                self.window_s
            );
        }
        let mut config = WearTrainConfig {
            normalise_per_group: self.normalise_per_group,
            observation: match self.observation {
                ObservationArg::PriorResidual => Observation::PriorResidual,
                ObservationArg::SensorState => Observation::SensorState,
            },
            ..WearTrainConfig::default()
        };
        config.window.window_s = self.window_s;
        Ok(config)
    }
}

#[derive(clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Runs to leave out of training (e.g. the one to test on).
    #[arg(long)]
    exclude: Vec<String>,
    /// Where to write the model (JSON).
    #[arg(long, default_value = "wear-model.json")]
    out: PathBuf,
    #[command(flatten)]
    record: RecordArgs,
}

#[derive(clap::Args)]
pub struct PredictArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Model file written by `aimm wear train`.
    #[arg(long)]
    model: PathBuf,
    /// Wear criterion for remaining life, mm (ISO 8688-2: 0.3).
    #[arg(long, default_value_t = DEFAULT_WEAR_CRITERION_MM)]
    criterion: f64,
}

pub fn run(cmd: WearCommand) -> Result<()> {
    match cmd {
        WearCommand::Train(args) => train(args),
        WearCommand::Eval(args) => eval(args),
        WearCommand::Predict(args) => predict(args),
    }
}

/// Reads the data; without `--signals`, says on stderr which columns became signals.
fn load(args: &DataArgs, wear_required: bool) -> Result<WearDataset> {
    let c = &args.columns;
    let options = WearCsvOptions {
        run_column: c.run_col.clone(),
        time_column: c.time_col.clone(),
        wear_column: c.wear_col.clone(),
        wear_unit: args.wear_unit,
        group_column: c.group_col.clone(),
        signals: c.signals.clone(),
        wear_required,
    };
    let data = read_wear_csv(&args.data, &options)?;
    if c.signals.is_none() {
        let ignored = if data.ignored.is_empty() {
            String::new()
        } else {
            format!("; ignored: {}", quoted(&data.ignored))
        };
        eprintln!(
            "{}: signals (every numeric column without another role; --signals to choose): {}{ignored}",
            data.source,
            quoted(&data.signal_names)
        );
    }
    Ok(data)
}

fn quoted(names: &[String]) -> String {
    let q: Vec<String> = names
        .iter()
        .map(|n| match n.as_str() {
            "" => "\"\" (an unnamed index)".to_string(),
            n => format!("{n:?}"),
        })
        .collect();
    q.join(", ")
}

fn select<'a>(data: &'a WearDataset, args: &DataArgs) -> Result<Vec<&'a WearRun>> {
    let runs: Vec<&WearRun> = match &args.group {
        Some(g) => data.group(g),
        None => data.runs.iter().collect(),
    };
    if runs.is_empty() {
        let column = args.columns.group_col.as_deref();
        bail!(
            "{}: no runs{}",
            data.source,
            args.group.as_ref().map_or(String::new(), |g| format!(
                " in group {g:?} (column {:?})",
                column.unwrap_or(DEFAULT_GROUP_COLUMN)
            ))
        );
    }
    Ok(runs)
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n.max(1) as f64
}

fn train(args: TrainArgs) -> Result<()> {
    let data = load(&args.data, true)?;
    let runs: Vec<&WearRun> = select(&data, &args.data)?
        .into_iter()
        .filter(|r| !args.exclude.contains(&r.run))
        .collect();
    let config = args.model.config()?;
    let model = WearModel::train(&runs, &data.signal_names, &config)
        .with_context(|| format!("{}: cannot train", data.source))?;
    let digest = model.digest();
    let json = serde_json::to_string_pretty(&model)?;
    std::fs::write(&args.out, &json)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    // Metrics on the training runs themselves, held out one at a time.
    let metrics = training_metrics(&runs, &data.signal_names, &config)?;
    let mut recorded = None;
    if let Some(db) = &args.record.db {
        let signer = load_or_create_signer(&args.record.key)?;
        let mut store = open_store(db)?;
        let dataset: [u8; 32] = Sha256::digest(std::fs::read(&args.data.data)?).into();
        let training = model.training_record(vec![hex::encode(dataset)], metrics.clone());
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos() as i64;
        let (cite, version) = record_model_training(&mut *store, now_ns, training, Vec::new())?;
        checkpoint_now(&mut *store, &signer)?;
        recorded = Some((cite.leaf_index, version));
    }
    if args.data.json {
        return print_json(&serde_json::json!({
            "model": args.out, "sha256": digest, "metrics": metrics,
            "ledger_leaf": recorded.map(|r| r.0), "version": recorded.map(|r| r.1),
        }));
    }
    println!("model written to {} (sha256 {digest})", args.out.display());
    println!(
        "trained on {} run(s); metrics: {}",
        runs.len(),
        serde_json::Value::Object(metrics)
    );
    if let Some((leaf, version)) = recorded {
        println!("recorded as {MODEL_KIND} v{version}, ledger leaf {leaf}");
    }
    Ok(())
}

fn eval(args: EvalArgs) -> Result<()> {
    let data = load(&args.data, true)?;
    let runs = select(&data, &args.data)?;
    if runs.len() < 2 {
        bail!("{}: leave-one-run-out needs at least two runs", data.source);
    }
    let folds = leave_one_run_out(&runs, &data.signal_names, &args.model.config()?)
        .with_context(|| format!("{}: cannot evaluate", data.source))?;
    if args.data.json {
        return print_json(&folds);
    }
    print_folds(&folds);
    Ok(())
}

/// The per-fold table next to the baseline.
pub fn print_folds(folds: &[FoldResult]) {
    let mut t = table(&[
        "held-out run",
        "windows",
        "RMSE µm",
        "MAE µm",
        "coverage (90 % interval)",
        "baseline RMSE µm",
        "baseline MAE µm",
    ]);
    for f in folds {
        t.add_row(vec![
            f.run.clone(),
            f.windows.to_string(),
            format!("{:.1}", f.rmse_um),
            format!("{:.1}", f.mae_um),
            format!(
                "{:.0} % (±{:.0} µm)",
                100.0 * f.coverage,
                f.interval_half_width_um
            ),
            format!("{:.1}", f.baseline_rmse_um),
            format!("{:.1}", f.baseline_mae_um),
        ]);
    }
    t.add_row(vec![
        "mean".into(),
        String::new(),
        format!("{:.1}", mean(folds.iter().map(|f| f.rmse_um))),
        format!("{:.1}", mean(folds.iter().map(|f| f.mae_um))),
        format!("{:.0} %", 100.0 * mean(folds.iter().map(|f| f.coverage))),
        format!("{:.1}", mean(folds.iter().map(|f| f.baseline_rmse_um))),
        format!("{:.1}", mean(folds.iter().map(|f| f.baseline_mae_um))),
    ]);
    println!("{t}");
}

fn predict(args: PredictArgs) -> Result<()> {
    let model: WearModel = read_model(&args.model)?;
    // Columns are matched to the model's signals by name, whatever their order in the file.
    let data = load(&args.data, false)?.with_signals(&model.signal_names)?;
    let runs = select(&data, &args.data)?;
    model
        .check_scales(&runs)
        .with_context(|| format!("{}: cannot apply {}", data.source, args.model.display()))?;
    let trajectories = runs
        .iter()
        .map(|run| trajectory(&model, run, args.criterion))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{}: cannot apply {}", data.source, args.model.display()))?;
    if args.data.json {
        return print_json(&trajectories);
    }
    let mm = |v: f64| format!("{v:.3}");
    let s = |v: Option<f64>| v.map_or("-".into(), |x| format!("{x:.0}"));
    for tr in &trajectories {
        println!(
            "run {} (remaining life to VB {} mm)",
            tr.run, tr.criterion_mm
        );
        let mut t = table(&[
            "cutting time s",
            "VB mm",
            "90 % interval mm",
            "remaining life s",
            "life interval s",
            "measured mm",
            "error µm",
        ]);
        for p in &tr.points {
            let life = &p.remaining_life;
            t.add_row(vec![
                format!("{:.1}", p.t_s),
                mm(p.wear_mm),
                format!("{} – {}", mm(p.interval_mm[0]), mm(p.interval_mm[1])),
                s(life.seconds),
                format!("{} – {}", s(life.lo_s), s(life.hi_s)),
                p.measured_mm.map_or("-".into(), mm),
                p.error_um.map_or("-".into(), |e| format!("{e:+.1}")),
            ]);
        }
        println!("{t}");
        match tr.rmse_um {
            Some(rmse) => println!(
                "run {}: RMSE {rmse:.1} µm over {} measured window(s)",
                tr.run, tr.measured_windows
            ),
            None => println!("run {}: no measured wear to score against", tr.run),
        }
    }
    Ok(())
}

fn read_model(path: &Path) -> Result<WearModel> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read model {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a wear model written by `aimm wear train`",
            path.display()
        )
    })
}
