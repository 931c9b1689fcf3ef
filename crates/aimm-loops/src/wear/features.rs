//! Per-window features of one run's signals: the rows of a run are cut into fixed spans of cutting
//! time, and each span gives time-domain statistics per signal plus the run's cumulative cutting
//! time, signal energy and signal work up to its end (cutting time and signal work are the wear
//! clocks of the prior). Windows need no wear label, so prediction uses the same
//! code as training.

use aimm_model::WearRun;
use serde::{Deserialize, Serialize};

/// One window of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Cumulative cutting time at the window's last row, s.
    pub t_s: f64,
    /// Features, named by [`feature_names`].
    pub features: Vec<f64>,
    /// The wear clocks at the window's last row: cutting time, s, then per signal the cumulative
    /// signal work ∑ |v|·Δt since the tool was new (the `<signal>_cum_abs` features).
    pub clocks: Vec<f64>,
    /// Mean measured wear over the window's rows that have it, mm (the label; NaN when none
    /// has, ignored when predicting).
    pub wear_mm: f64,
}

impl Window {
    /// Whether wear was measured in the window.
    pub fn labelled(&self) -> bool {
        !self.wear_mm.is_nan()
    }
}

/// How windows are cut. Fixed, not fitted: see the module doc of [`super`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowSpec {
    /// Cutting time per window, s.
    pub window_s: f64,
}

/// Statistics per signal, in feature order.
const STATS: [&str; 6] = ["mean", "rms", "std", "peak", "cum_energy", "cum_abs"];

/// Names of the features [`windows`] yields for these signals: `cut_time_s`, then per signal
/// `<signal>_<stat>` for the window mean, RMS, standard deviation, peak |value|, the cumulative
/// energy (∑ v²·Δt since the tool was new) and the cumulative signal work (∑ |v|·Δt since the tool
/// was new, a wear clock of the prior).
pub fn feature_names(signals: &[String]) -> Vec<String> {
    let mut names = vec!["cut_time_s".to_string()];
    for s in signals {
        names.extend(STATS.iter().map(|stat| format!("{s}_{stat}")));
    }
    names
}

/// Cuts a run into windows of `spec.window_s` seconds of cutting (window k holds rows with
/// k·w ≤ t < (k+1)·w; empty spans are skipped) and computes their features.
pub fn windows(run: &WearRun, spec: WindowSpec) -> Vec<Window> {
    let n_sig = run.signals.len();
    let mut out = Vec::new();
    let mut energy = vec![0.0; n_sig];
    let mut work = vec![0.0; n_sig];
    let mut start = 0;
    let mut prev_t = 0.0;
    while start < run.time_s.len() {
        let k = (run.time_s[start] / spec.window_s).floor();
        let mut end = start;
        while end < run.time_s.len() && (run.time_s[end] / spec.window_s).floor() == k {
            end += 1;
        }
        let n = (end - start) as f64;
        let mut features = vec![run.time_s[end - 1]];
        let mut clocks = vec![run.time_s[end - 1]];
        for (j, signal) in run.signals.iter().enumerate() {
            let v = &signal[start..end];
            let mean = v.iter().sum::<f64>() / n;
            let ms = v.iter().map(|x| x * x).sum::<f64>() / n;
            let var = (ms - mean * mean).max(0.0);
            let peak = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            // Energy over the window's span of cutting time, as if each row held until the next.
            let mut t0 = prev_t;
            for (i, x) in v.iter().enumerate() {
                let t = run.time_s[start + i];
                let dt = (t - t0).max(0.0);
                energy[j] += x * x * dt;
                work[j] += x.abs() * dt;
                t0 = t;
            }
            features.extend([mean, ms.sqrt(), var.sqrt(), peak, energy[j], work[j]]);
            clocks.push(work[j]);
        }
        prev_t = run.time_s[end - 1];
        let measured: Vec<f64> = run.wear_mm[start..end]
            .iter()
            .copied()
            .filter(|w| !w.is_nan())
            .collect();
        let wear_mm = if measured.is_empty() {
            f64::NAN
        } else {
            measured.iter().sum::<f64>() / measured.len() as f64
        };
        out.push(Window {
            t_s: run.time_s[end - 1],
            features,
            clocks,
            wear_mm,
        });
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_split_by_cutting_time_and_accumulate_energy() {
        let run = WearRun {
            run: "r".into(),
            group: None,
            time_s: vec![1.0, 2.0, 3.0, 5.0, 6.0],
            wear_mm: vec![0.1, 0.1, 0.2, 0.3, 0.3],
            signals: vec![vec![1.0, -3.0, 2.0, 2.0, 2.0]],
        };
        let w = windows(&run, WindowSpec { window_s: 4.0 });
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].features[0], 3.0);
        assert_eq!(w[0].features[1], 0.0); // mean of 1, -3, 2
        assert_eq!(w[0].features[4], 3.0); // peak |value|
        assert_eq!(w[0].features[5], 1.0 + 9.0 + 4.0); // energy, Δt = 1 s each
        assert_eq!(w[1].features[5], 14.0 + 4.0 * 2.0 + 4.0); // Δt 2 s then 1 s
        assert_eq!(w[0].features[6], 1.0 + 3.0 + 2.0); // work ∑ |v|·Δt
        assert_eq!(w[1].features[6], 6.0 + 2.0 * 2.0 + 2.0);
        assert_eq!(w[1].clocks, vec![6.0, 12.0]);
        assert!((w[0].wear_mm - 0.4 / 3.0).abs() < 1e-12);
        assert_eq!(feature_names(&["f".into()]).len(), w[0].features.len());
    }
}
