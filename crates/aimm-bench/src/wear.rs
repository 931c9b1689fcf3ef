//! `aimm bench wear`: the tool-wear model on real data (the PHM 2010 and NUAA runs of a wear
//! CSV). Leave-one-run-out RMSE, MAE and interval coverage per fold, against the sensor-free
//! baseline (the mean wear curve of the training runs); training time on all runs of a group and
//! prediction latency per 10 s window, which have no baseline.

use crate::{render_table, BenchError, Figure, Report};
use aimm_connect::wear_csv::{read_wear_csv, WearCsvOptions, WearUnit};
use aimm_loops::wear::{leave_one_run_out, FoldResult, WearModel, WearTrainConfig};
use std::path::Path;
use std::time::Instant;

/// What `aimm bench wear` measured.
pub struct WearReport {
    /// The figures, each next to its baseline where it has one.
    pub figures: Vec<Figure>,
    /// Every fold, per group of runs (a group with fewer than two runs is left out).
    pub folds_by_group: Vec<(&'static str, Vec<FoldResult>)>,
}

/// Reads the wear CSV at `data` (wear in mm) and evaluates, trains and times the wear model on
/// its `phm2010` and `nuaa` groups.
pub fn run(data: &Path) -> Result<WearReport, BenchError> {
    let options = WearCsvOptions {
        wear_unit: Some(WearUnit::Mm),
        ..WearCsvOptions::default()
    };
    let data = read_wear_csv(data, &options)?;
    let config = WearTrainConfig::default();
    let mut figures = Vec::new();
    let mut folds_by_group = Vec::new();
    for group in ["phm2010", "nuaa"] {
        let runs = data.group(group);
        if runs.len() < 2 {
            continue;
        }
        let folds = leave_one_run_out(&runs, &data.signal_names, &config)?;
        for f in &folds {
            figures.push(Figure {
                what: format!(
                    "{group} {}: RMSE (MAE {:.1}, 90 % interval ±{:.0} µm covers {:.0} %)",
                    f.run,
                    f.mae_um,
                    f.interval_half_width_um,
                    100.0 * f.coverage
                ),
                value: f.rmse_um,
                unit: "µm",
                baseline: "mean wear curve of the training runs".into(),
                baseline_value: f.baseline_rmse_um,
                // Issue 12's targets (the 10 µm PHM2010 target of the first wear issue is
                // withdrawn).
                target: if group == "phm2010" {
                    "mean ≤ 0.75 × baseline, below it; covers ≥ 85 % at ±≤ 80 µm".into()
                } else {
                    "mean below baseline; covers ≥ 80 % at ±≤ 130 µm".into()
                },
            });
            figures.push(Figure {
                what: format!(
                    "{group} {}: interval score (Winkler, 90 %; baseline ±{:.0} µm covers {:.0} %)",
                    f.run,
                    f.baseline_half_width_um,
                    100.0 * f.baseline_coverage
                ),
                value: f.winkler_um,
                unit: "µm",
                baseline: "the mean curve's own interval, calibrated alike".into(),
                baseline_value: f.baseline_winkler_um,
                target: "below baseline".into(),
            });
            if let (Some(a), Some(b)) = (f.anchored_rmse_um, f.baseline_anchored_rmse_um) {
                figures.push(Figure {
                    what: format!("{group} {}: RMSE anchored at the first inspection", f.run),
                    value: a,
                    unit: "µm",
                    baseline: "mean curve anchored alike".into(),
                    baseline_value: b,
                    target: "stated".into(),
                });
            }
        }
        // Training on all runs of the group, and scoring one run window by window.
        let started = Instant::now();
        let model = WearModel::train(&runs, &data.signal_names, &config)?;
        let train_s = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let estimates = model.predict(runs[0])?;
        let per_window_us = started.elapsed().as_secs_f64() * 1e6 / estimates.len().max(1) as f64;
        figures.push(Figure {
            what: format!("{group}: training on {} runs", runs.len()),
            value: train_s * 1000.0,
            unit: "ms",
            baseline: "-".into(),
            baseline_value: f64::NAN,
            target: "-".into(),
        });
        figures.push(Figure {
            what: format!("{group}: prediction per 10 s window (features + filter)"),
            value: per_window_us,
            unit: "µs",
            baseline: "-".into(),
            baseline_value: f64::NAN,
            target: "-".into(),
        });
        folds_by_group.push((group, folds));
    }
    Ok(WearReport {
        figures,
        folds_by_group,
    })
}

impl Report for WearReport {
    fn text(&self) -> String {
        let mut out = render_table(&self.figures);
        for (group, folds) in &self.folds_by_group {
            let mean = |f: &dyn Fn(&FoldResult) -> f64| {
                folds.iter().map(f).sum::<f64>() / folds.len() as f64
            };
            let below = folds
                .iter()
                .filter(|f| f.rmse_um < f.baseline_rmse_um)
                .count();
            out.push_str(&format!(
                "\n{group}: mean RMSE {:.1} µm vs baseline {:.1} µm ({:.2} ×), below it on {below} of {} runs; mean coverage {:.0} %, mean half-width {:.0} µm",
                mean(&|f| f.rmse_um),
                mean(&|f| f.baseline_rmse_um),
                mean(&|f| f.rmse_um) / mean(&|f| f.baseline_rmse_um),
                folds.len(),
                100.0 * mean(&|f| f.coverage),
                mean(&|f| f.interval_half_width_um)
            ));
            let anchored: Vec<(f64, f64)> = folds
                .iter()
                .filter_map(|f| Some((f.anchored_rmse_um?, f.baseline_anchored_rmse_um?)))
                .collect();
            let n = anchored.len().max(1) as f64;
            out.push_str(&format!(
                "\n{group}: interval score {:.0} µm vs the baseline's calibrated interval {:.0} µm \
                 (±{:.0} µm, covers {:.0} %); anchored at the first inspection: mean RMSE {:.1} µm \
                 vs baseline anchored alike {:.1} µm",
                mean(&|f| f.winkler_um),
                mean(&|f| f.baseline_winkler_um),
                mean(&|f| f.baseline_half_width_um),
                100.0 * mean(&|f| f.baseline_coverage),
                anchored.iter().map(|a| a.0).sum::<f64>() / n,
                anchored.iter().map(|a| a.1).sum::<f64>() / n,
            ));
        }
        out
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "figures": self.figures })
    }
}
