//! What a wear model knows of each signal besides its name: the unit its name states and the
//! scale it had in training; the check that a training set does not mix groups whose signals are
//! on different scales (another sensor, gain or unit), which the model would read as wear; and
//! per-group normalisation, which lets such groups be learnt together.

use aimm_model::WearRun;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Largest ratio between two groups' RMS of one signal that a training set may mix. Cutting
/// conditions move a pooled group's level by less (uniwear.csv: NUAA's six runs under different
/// conditions have force_z RMS 219–253, within 1.2×; single runs spread more — NUAA vibration_x
/// 1.3 in W6 against 14.2 in W5, 11× — but a group pools its runs), while another sensor,
/// amplifier gain or unit moves it by an order of magnitude or more (PHM2010 against NUAA RMS:
/// force_z 18.6 against 235, 12.6×; vibration_x 36×, vibration_y 27×). Ten separates the two.
pub const MAX_GROUP_SCALE_RATIO: f64 = 10.0;

/// A signal's level over the training rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalScale {
    /// Mean over the rows.
    pub mean: f64,
    /// Standard deviation over the rows.
    pub std: f64,
}

impl SignalScale {
    /// Mean and standard deviation of signal `j` over every row of `runs`.
    pub fn of(runs: &[&WearRun], j: usize) -> SignalScale {
        let values = || runs.iter().flat_map(|r| r.signals[j].iter().copied());
        let n = values().count().max(1) as f64;
        let mean = values().sum::<f64>() / n;
        let var = values().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        SignalScale {
            mean,
            std: var.sqrt(),
        }
    }

    /// Root mean square, the signal's size whatever its offset.
    pub fn rms(&self) -> f64 {
        (self.mean * self.mean + self.std * self.std).sqrt()
    }
}

/// The unit a signal's name states by its suffix (`spindle_power_kw` → kW), if a known one.
pub fn unit_of(name: &str) -> Option<String> {
    const SUFFIXES: [(&str, &str); 9] = [
        ("_pct", "%"),
        ("_kw", "kW"),
        ("_w", "W"),
        ("_n", "N"),
        ("_nm", "N·m"),
        ("_a", "A"),
        ("_g", "g"),
        ("_mm", "mm"),
        ("_rpm", "1/min"),
    ];
    let lower = name.to_ascii_lowercase();
    SUFFIXES
        .iter()
        .find(|(suffix, _)| lower.ends_with(suffix))
        .map(|(_, unit)| unit.to_string())
}

/// Two groups of a training set whose RMS of one signal are more than
/// [`MAX_GROUP_SCALE_RATIO`] apart.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleClash {
    /// The signal.
    pub signal: String,
    /// The group with the larger RMS, and that RMS.
    pub high: (String, f64),
    /// The group with the smaller RMS, and that RMS.
    pub low: (String, f64),
}

/// `runs` by group, in order of first appearance; runs without a group form the group "".
fn by_group<'a>(runs: &[&'a WearRun]) -> Vec<(String, Vec<&'a WearRun>)> {
    let mut groups: Vec<(String, Vec<&WearRun>)> = Vec::new();
    for r in runs {
        let g = r.group.clone().unwrap_or_default();
        match groups.iter_mut().find(|(name, _)| *name == g) {
            Some((_, members)) => members.push(r),
            None => groups.push((g, vec![r])),
        }
    }
    groups
}

/// The first signal whose RMS differs between two groups of `runs` by more than
/// [`MAX_GROUP_SCALE_RATIO`]; runs without a group form one group.
pub fn group_scale_clash(runs: &[&WearRun], signal_names: &[String]) -> Option<ScaleClash> {
    let groups = by_group(runs);
    if groups.len() < 2 {
        return None;
    }
    signal_names.iter().enumerate().find_map(|(j, name)| {
        let rms: Vec<(String, f64)> = groups
            .iter()
            .map(|(g, members)| (g.clone(), SignalScale::of(members, j).rms()))
            .collect();
        let high = rms.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
        let low = rms.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
        (high.1 > MAX_GROUP_SCALE_RATIO * low.1).then(|| ScaleClash {
            signal: name.clone(),
            high: high.clone(),
            low: low.clone(),
        })
    })
}

/// One group's RMS of each signal over its training rows, by which per-group normalisation
/// divides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupScale {
    /// The group ("" for runs without one).
    pub group: String,
    /// RMS of each signal, in the model's signal order.
    pub rms: Vec<f64>,
}

/// Each group's signal RMS over `runs`, groups in order of first appearance.
pub fn group_scales(runs: &[&WearRun], n_signals: usize) -> Vec<GroupScale> {
    by_group(runs)
        .into_iter()
        .map(|(group, members)| GroupScale {
            rms: (0..n_signals)
                .map(|j| SignalScale::of(&members, j).rms())
                .collect(),
            group,
        })
        .collect()
}

/// `run` with each signal divided by its group's RMS in `scales` (a zero RMS divides by 1);
/// unchanged when `scales` is empty (no normalisation); `None` when its group is not in `scales`.
pub fn normalised<'a>(run: &'a WearRun, scales: &[GroupScale]) -> Option<Cow<'a, WearRun>> {
    if scales.is_empty() {
        return Some(Cow::Borrowed(run));
    }
    let group = run.group.as_deref().unwrap_or_default();
    let scale = scales.iter().find(|s| s.group == group)?;
    let signals = run
        .signals
        .iter()
        .zip(&scale.rms)
        .map(|(values, &rms)| {
            let by = if rms > 0.0 { rms } else { 1.0 };
            values.iter().map(|v| v / by).collect()
        })
        .collect();
    Some(Cow::Owned(WearRun {
        signals,
        ..run.clone()
    }))
}

/// The first signal whose RMS over `runs` is more than [`MAX_GROUP_SCALE_RATIO`] away from its
/// training RMS in `trained`, with the two RMS (data, training): data from another sensor, gain or
/// unit than the model learnt on.
pub fn training_scale_clash(
    runs: &[&WearRun],
    signal_names: &[String],
    trained: &[SignalScale],
) -> Option<(String, f64, f64)> {
    signal_names
        .iter()
        .zip(trained)
        .enumerate()
        .find_map(|(j, (name, t))| {
            let (data, training) = (SignalScale::of(runs, j).rms(), t.rms());
            let ratio = data.max(training) / data.min(training);
            (ratio > MAX_GROUP_SCALE_RATIO).then(|| (name.clone(), data, training))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(group: &str, load: f64) -> WearRun {
        WearRun {
            run: format!("{group}-1"),
            group: Some(group.into()),
            time_s: vec![1.0, 2.0],
            wear_mm: vec![0.1, 0.2],
            signals: vec![vec![load, load], vec![1.0, 1.0]],
        }
    }

    #[test]
    fn groups_an_order_of_magnitude_apart_clash() {
        let names = vec!["force_z".to_string(), "vib".to_string()];
        let (a, b) = (run("phm", 6.0), run("nuaa", 100.0));
        let clash = group_scale_clash(&[&a, &b], &names).unwrap();
        assert_eq!(clash.signal, "force_z");
        assert_eq!(clash.high, ("nuaa".to_string(), 100.0));
        let c = run("other", 30.0);
        assert_eq!(group_scale_clash(&[&a, &c], &names), None);
        let trained = [SignalScale::of(&[&a], 0), SignalScale::of(&[&a], 1)];
        let clash = training_scale_clash(&[&b], &names, &trained).unwrap();
        assert_eq!(clash, ("force_z".to_string(), 100.0, 6.0));
        assert_eq!(training_scale_clash(&[&c], &names, &trained), None);
        let scales = group_scales(&[&a, &b], 2);
        let b1 = normalised(&b, &scales).unwrap();
        assert_eq!(b1.signals, vec![vec![1.0, 1.0], vec![1.0, 1.0]]);
        assert!(normalised(&c, &scales).is_none(), "group not trained");
    }

    #[test]
    fn units_from_name_suffixes() {
        assert_eq!(unit_of("spindle_power_kw").as_deref(), Some("kW"));
        assert_eq!(unit_of("spindle_load_pct").as_deref(), Some("%"));
        assert_eq!(unit_of("force_z"), None);
    }
}
