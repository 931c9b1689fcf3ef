//! Per-window features of one run's signals: the rows of a run are cut into fixed spans of cutting
//! time, and each span gives time-domain statistics per signal plus the run's cumulative cutting
//! time, signal energy and signal work up to its end (cutting time and signal work are the wear
//! clocks of the prior). Windows need no wear label, so prediction uses the same
//! code as training.

use aimm_model::WearRun;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

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
const STATS: [&str; 7] = [
    "mean",
    "rms",
    "std",
    "peak",
    "cum_energy",
    "cum_abs",
    "drift",
];

/// Names of the features [`windows`] yields for these signals: `cut_time_s`, then per signal
/// `<signal>_<stat>` for the window mean, RMS, standard deviation, peak |value|, the cumulative
/// energy (∑ v²·Δt since the tool was new), the cumulative signal work (∑ |v|·Δt since the tool
/// was new, a wear clock of the prior) and `drift`, the [`LevelDrift`] of the signal's level.
pub fn feature_names(signals: &[String]) -> Vec<String> {
    let mut names = vec!["cut_time_s".to_string()];
    for s in signals {
        names.extend(STATS.iter().map(|stat| format!("{s}_{stat}")));
    }
    names
}

/// Whether feature `i` (in [`feature_names`] order) is a signal's `drift`.
pub fn is_drift_feature(i: usize) -> bool {
    i > 0 && STATS[(i - 1) % STATS.len()] == "drift"
}

/// A window-to-window change of the relative level larger than this many times the typical size
/// of the earlier changes (median |change|), or below the typical (median) change by as much, is
/// a step, not wear: a new batch of blanks (harder or softer stock moves the load at once, wear
/// moves it part by part, and only up) or a changed program.
const JUMP_FACTOR: f64 = 3.0;

/// Changes seen before steps are judged (the median needs a few).
const MIN_CHANGES: usize = 5;

/// The changes a step is judged against: the last few, so that the faster wear near the end of a
/// tool's life is not taken for steps.
const RECENT_CHANGES: usize = 10;

/// How much harder a tool cuts than when it was new, from one signal: its level (mean over the
/// window's cutting time, ∑ |v|·Δt / ∑ Δt) relative to the first window's, minus 1, accumulated
/// window by window, a step ([`JUMP_FACTOR`]) counting as the typical change instead (the wear
/// went on growing under it). Wear raises the cutting force slowly; the hardness of a new batch
/// of blanks moves it by a step that would otherwise read as tens of µm of wear. Causal: each
/// window uses only the windows before it.
#[derive(Debug, Default)]
struct LevelDrift {
    reference: Option<f64>,
    last_rel: Option<f64>,
    /// The last [`RECENT_CHANGES`] changes, signed.
    changes: VecDeque<f64>,
    drift: f64,
}

impl LevelDrift {
    fn update(&mut self, level: f64) -> f64 {
        let reference = *self.reference.get_or_insert(level);
        if reference == 0.0 {
            return 0.0;
        }
        let rel = level / reference - 1.0;
        if let Some(last) = self.last_rel.replace(rel) {
            let change = rel - last;
            let typical = (self.changes.len() >= MIN_CHANGES).then(|| {
                let size = median(self.changes.iter().map(|c| c.abs()));
                (median(self.changes.iter().copied()), size)
            });
            self.drift += match typical {
                Some((t, size))
                    if change.abs() > JUMP_FACTOR * size || change < t - JUMP_FACTOR * size =>
                {
                    t
                }
                _ => change,
            };
            if self.changes.len() == RECENT_CHANGES {
                self.changes.pop_front();
            }
            self.changes.push_back(change);
        }
        self.drift
    }
}

fn median(xs: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = xs.collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
    let mut drifts: Vec<LevelDrift> = (0..n_sig).map(|_| LevelDrift::default()).collect();
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
            let (mut t0, work_before) = (prev_t, work[j]);
            for (i, x) in v.iter().enumerate() {
                let t = run.time_s[start + i];
                let dt = (t - t0).max(0.0);
                energy[j] += x * x * dt;
                work[j] += x.abs() * dt;
                t0 = t;
            }
            let span = run.time_s[end - 1] - prev_t;
            let level = if span > 0.0 {
                (work[j] - work_before) / span
            } else {
                mean
            };
            let drift = drifts[j].update(level);
            features.extend([mean, ms.sqrt(), var.sqrt(), peak, energy[j], work[j], drift]);
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
        // drift: the level (∑ |v|·Δt / span) is 6 / 3 s in both windows.
        assert_eq!((w[0].features[7], w[1].features[7]), (0.0, 0.0));
        let doubled = WearRun {
            signals: vec![vec![2.0, 2.0, 2.0, 4.0, 4.0]],
            ..run.clone()
        };
        let w = windows(&doubled, WindowSpec { window_s: 4.0 });
        assert_eq!((w[0].features[7], w[1].features[7]), (0.0, 1.0));
        let names = feature_names(&["f".into()]);
        let drift: Vec<&str> = (0..names.len())
            .filter(|&i| is_drift_feature(i))
            .map(|i| names[i].as_str())
            .collect();
        assert_eq!(drift, ["f_drift"]);
    }

    #[test]
    fn drift_follows_a_slow_rise_and_skips_a_step() {
        let mut d = LevelDrift::default();
        let mut level = 100.0;
        let mut last = 0.0;
        for k in 0..40 {
            // +0.1 % per window, and a new batch 6 % softer from window 20 on.
            level *= 1.001;
            let reading = if k >= 20 { level * 0.94 } else { level };
            last = d.update(reading);
        }
        // Within 10 % of the rise (the step's window loses its own rise, and the softer batch
        // rises 6 % less); without skipping the step it would read −0.02.
        let expected = 1.001f64.powi(39) - 1.0;
        assert!(
            (last - expected).abs() < 0.1 * expected,
            "drift {last}, rise {expected}"
        );
    }
}
