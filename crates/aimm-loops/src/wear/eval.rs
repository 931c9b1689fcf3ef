//! Leave-one-run-out evaluation of the wear model next to the sensor-free baseline (the mean wear
//! curve of the training runs against cutting time), per held-out run.

use super::features::{windows, Window};
use super::model::{WearEstimate, WearModel, WearModelError, WearTrainConfig};
use aimm_model::WearRun;
use serde::Serialize;

/// Figures for one held-out run, in µm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldResult {
    /// The held-out run.
    pub run: String,
    /// Windows of it with measured wear, the ones scored.
    pub windows: usize,
    /// Root-mean-square error of the estimate, µm.
    pub rmse_um: f64,
    /// Mean absolute error of the estimate, µm.
    pub mae_um: f64,
    /// Share of windows whose measured wear lies inside the interval.
    pub coverage: f64,
    /// Mean half width of the 90 % interval, µm.
    pub interval_half_width_um: f64,
    /// RMSE of the sensor-free baseline (mean wear-vs-time curve of the training runs), µm.
    pub baseline_rmse_um: f64,
    /// MAE of the sensor-free baseline, µm.
    pub baseline_mae_um: f64,
    /// Digest of the model trained without this run.
    pub model_digest: String,
}

/// Trains on all runs but one and scores the held-out one, for every run (needs ≥ 2 runs).
pub fn leave_one_run_out(
    runs: &[&WearRun],
    signal_names: &[String],
    config: &WearTrainConfig,
) -> Result<Vec<FoldResult>, WearModelError> {
    let mut out = Vec::new();
    for (i, test) in runs.iter().enumerate() {
        let train: Vec<&WearRun> = runs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, r)| *r)
            .collect();
        let model = WearModel::train(&train, signal_names, config)?;
        let estimates = model.predict(test)?;
        let truth = windows(test, config.window);
        let baseline = baseline_curve(&train, config);
        let (mut se, mut ae, mut bse, mut bae, mut inside) = (0.0, 0.0, 0.0, 0.0, 0usize);
        let scored: Vec<(usize, (&WearEstimate, &Window))> = estimates
            .iter()
            .zip(&truth)
            .enumerate()
            .filter(|(_, (_, w))| w.labelled())
            .collect();
        for &(k, (e, w)) in &scored {
            let err = (e.wear_mm - w.wear_mm) * 1000.0;
            se += err * err;
            ae += err.abs();
            let b = baseline.get(k).or(baseline.last()).copied().unwrap_or(0.0);
            let berr = (b - w.wear_mm) * 1000.0;
            bse += berr * berr;
            bae += berr.abs();
            inside += usize::from(e.lo_mm <= w.wear_mm && w.wear_mm <= e.hi_mm);
        }
        let n = scored.len().max(1) as f64;
        out.push(FoldResult {
            run: test.run.clone(),
            windows: scored.len(),
            rmse_um: (se / n).sqrt(),
            mae_um: ae / n,
            coverage: inside as f64 / n,
            interval_half_width_um: model.interval_half_width_mm * 1000.0,
            baseline_rmse_um: (bse / n).sqrt(),
            baseline_mae_um: bae / n,
            model_digest: model.digest(),
        });
    }
    Ok(out)
}

/// Mean measured wear of the training runs per window index (windows are fixed spans of cutting
/// time), averaged over the runs measured there; an index where none is holds the value before it
/// (the first measured one at the start), and past the longest run the last value holds.
fn baseline_curve(train: &[&WearRun], config: &WearTrainConfig) -> Vec<f64> {
    let curves: Vec<Vec<f64>> = train
        .iter()
        .map(|r| {
            windows(r, config.window)
                .iter()
                .map(|w| w.wear_mm)
                .collect()
        })
        .collect();
    let len = curves.iter().map(Vec::len).max().unwrap_or(0);
    let means: Vec<f64> = (0..len)
        .map(|k| {
            let vals: Vec<f64> = curves
                .iter()
                .filter_map(|c| c.get(k).copied())
                .filter(|v| !v.is_nan())
                .collect();
            vals.iter().sum::<f64>() / vals.len() as f64
        })
        .collect();
    let first = means.iter().copied().find(|v| !v.is_nan()).unwrap_or(0.0);
    means
        .iter()
        .scan(first, |held, &v| {
            if !v.is_nan() {
                *held = v;
            }
            Some(*held)
        })
        .collect()
}

/// The metrics a `model_training` record carries for a model trained on `runs`: the training runs
/// and, with two or more, their leave-one-run-out means next to the baseline's.
pub fn training_metrics(
    runs: &[&WearRun],
    signal_names: &[String],
    config: &WearTrainConfig,
) -> Result<serde_json::Map<String, serde_json::Value>, WearModelError> {
    let folds = if runs.len() >= 2 {
        leave_one_run_out(runs, signal_names, config)?
    } else {
        Vec::new()
    };
    let mean = |f: fn(&FoldResult) -> f64| {
        (!folds.is_empty()).then(|| folds.iter().map(f).sum::<f64>() / folds.len() as f64)
    };
    let metrics = serde_json::json!({
        "training_runs": runs.iter().map(|r| r.run.clone()).collect::<Vec<_>>(),
        "loro_mean_rmse_um": mean(|f| f.rmse_um),
        "loro_mean_mae_um": mean(|f| f.mae_um),
        "loro_mean_coverage": mean(|f| f.coverage),
        "baseline_mean_rmse_um": mean(|f| f.baseline_rmse_um),
    });
    match metrics {
        serde_json::Value::Object(map) => Ok(map),
        _ => unreachable!("built as an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tool whose wear grows with the work of its load signal, measured every `every` rows.
    fn run(name: &str, load: f64, every: usize) -> WearRun {
        let time_s: Vec<f64> = (0..300).map(|i| i as f64).collect();
        let wear_mm = time_s
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if i % every == 0 {
                    0.02 + 1e-5 * load * t
                } else {
                    f64::NAN
                }
            })
            .collect();
        let signals = vec![time_s.iter().map(|t| load + (t * 0.7).sin()).collect()];
        WearRun {
            run: name.into(),
            group: None,
            time_s,
            wear_mm,
            signals,
        }
    }

    #[test]
    fn sparse_labels_train_and_score_only_the_measured_windows() {
        let runs = [run("a", 5.0, 25), run("b", 8.0, 25), run("c", 6.0, 25)];
        let refs: Vec<&WearRun> = runs.iter().collect();
        let names = vec!["load".to_string()];
        let folds = leave_one_run_out(&refs, &names, &WearTrainConfig::default()).unwrap();
        for f in &folds {
            // 300 s in 10 s windows, wear measured every 25 s: 12 measured windows of 30.
            assert_eq!(f.windows, 12, "{f:?}");
            assert!(
                f.rmse_um.is_finite() && f.baseline_rmse_um.is_finite(),
                "{f:?}"
            );
        }
        let model = WearModel::train(&refs[..2], &names, &WearTrainConfig::default()).unwrap();
        let estimates = model.predict(&runs[2]).unwrap();
        assert_eq!(estimates.len(), 30, "every window is estimated");
        assert!(estimates.iter().all(|e| e.wear_mm.is_finite()));
    }
}
