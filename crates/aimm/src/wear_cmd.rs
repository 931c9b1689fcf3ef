//! `aimm wear`: train, evaluate and apply the flank-wear model on recorded data (the long-format
//! wear CSV, see `aimm_connect::wear_csv`); training is recorded as ledger evidence.

use crate::keys_cmd::load_or_create_signer;
use crate::output::{print_json, table};
use crate::part::open_store;
use crate::part::RecordArgs;
use aimm_connect::wear_csv::{read_wear_csv, WearCsvOptions, WearDataset, WearRun, WearUnit};
use aimm_loops::wear::{
    leave_one_run_out, training_metrics, FoldResult, WearModel, WearTrainConfig,
    DEFAULT_WEAR_CRITERION_MM, MODEL_KIND,
};
use aimm_store::evidence::{checkpoint_now, record_model_training};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Model kind in `model_training` records.

#[derive(clap::Subcommand)]
pub enum WearCommand {
    /// Train the wear model on a wear CSV and write it to a file; with --db also record a
    /// `model_training` ledger record (dataset digest, features, hyper-parameters, metrics,
    /// artifact digest). The same data give the same model digest.
    ///
    /// Example:
    ///   aimm wear train --data testdata/wear/uniwear.csv --group phm2010 --exclude c6 --out wear.json --db aimm.db
    #[command(verbatim_doc_comment)]
    Train(TrainArgs),
    /// Leave-one-run-out evaluation: RMSE/MAE per held-out run and interval coverage, next to
    /// the sensor-free baseline (the training runs' mean wear curve).
    ///
    /// Example:
    ///   aimm wear eval --data testdata/wear/uniwear.csv --group phm2010
    #[command(verbatim_doc_comment)]
    Eval(DataArgs),
    /// Score new data with a trained model: wear with its interval and remaining life to the
    /// wear criterion, per run.
    Predict(PredictArgs),
}

#[derive(clap::Args)]
pub struct DataArgs {
    /// Wear CSV: one row per time point; run id, time (s), signal columns, measured wear.
    #[arg(long)]
    data: PathBuf,
    /// Only runs of this group (e.g. phm2010, nuaa).
    #[arg(long)]
    group: Option<String>,
    /// Unit of the wear column when its header does not say (mm or um).
    #[arg(long)]
    wear_unit: Option<WearUnit>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
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

fn load(args: &DataArgs) -> Result<WearDataset> {
    let options = WearCsvOptions {
        wear_unit: args.wear_unit,
        ..WearCsvOptions::default()
    };
    Ok(read_wear_csv(&args.data, &options)?)
}

fn select<'a>(data: &'a WearDataset, group: &Option<String>) -> Result<Vec<&'a WearRun>> {
    let runs: Vec<&WearRun> = match group {
        Some(g) => data.group(g),
        None => data.runs.iter().collect(),
    };
    if runs.is_empty() {
        bail!(
            "{}: no runs{}",
            data.source,
            group
                .as_ref()
                .map_or(String::new(), |g| format!(" in group '{g}'"))
        );
    }
    Ok(runs)
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n.max(1) as f64
}

fn train(args: TrainArgs) -> Result<()> {
    let data = load(&args.data)?;
    let runs: Vec<&WearRun> = select(&data, &args.data.group)?
        .into_iter()
        .filter(|r| !args.exclude.contains(&r.run))
        .collect();
    let config = WearTrainConfig::default();
    let model = WearModel::train(&runs, &data.signal_names, &config)?;
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

fn eval(args: DataArgs) -> Result<()> {
    let data = load(&args)?;
    let runs = select(&data, &args.group)?;
    if runs.len() < 2 {
        bail!("{}: leave-one-run-out needs at least two runs", data.source);
    }
    let folds = leave_one_run_out(&runs, &data.signal_names, &WearTrainConfig::default())?;
    if args.json {
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
    let data = load(&args.data)?;
    let runs = select(&data, &args.data.group)?;
    let mut out = Vec::new();
    for run in runs {
        let estimates = model.predict(run)?;
        let Some(last) = estimates.last() else {
            continue;
        };
        let life = model.remaining_life(last, args.criterion);
        out.push(serde_json::json!({
            "run": run.run, "t_s": last.t_s, "wear_mm": last.wear_mm,
            "interval_mm": [last.lo_mm, last.hi_mm], "remaining_life_s": life.seconds,
            "remaining_life_interval_s": [life.lo_s, life.hi_s],
        }));
    }
    if args.data.json {
        return print_json(&out);
    }
    let mut t = table(&[
        "run",
        "cutting time s",
        "VB mm",
        "90 % interval mm",
        "remaining life s",
    ]);
    for o in &out {
        let f = |v: &serde_json::Value| v.as_f64().map_or("-".into(), |x| format!("{x:.3}"));
        t.add_row(vec![
            o["run"].as_str().unwrap_or("").to_string(),
            f(&o["t_s"]),
            f(&o["wear_mm"]),
            format!("{} – {}", f(&o["interval_mm"][0]), f(&o["interval_mm"][1])),
            f(&o["remaining_life_s"]),
        ]);
    }
    println!("{t}");
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
