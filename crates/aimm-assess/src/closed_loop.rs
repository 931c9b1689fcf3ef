//! The closed-loop test of a feed loop from its stored signals (`closed_loop_p`): does the
//! spindle load predict the next change of the commanded feed override beyond what the
//! override's own history predicts? A loop that acts on the load passes; a constant override, or
//! one that changes on its own schedule (even if the load then follows it), does not.
//!
//! The test, per machine recording both signals: both are put on a common grid of
//! [`GRID_MS`] by time stamp (each grid point holds the latest sample at or before it; signals
//! are matched by time, never by position), and the override's change ΔOₖ = Oₖ₊₁ − Oₖ is fitted
//! by least squares on its own last [`LAGS`] changes (model A) and on those plus the load's last
//! [`LAGS`] values (model B). The statistic is RSS_A / RSS_B. Its null distribution comes from
//! time-shifted surrogates: the load series shifted circularly against the override by
//! [`SURROGATES`] offsets spread over the middle of the record, which keeps each series' own
//! autocorrelation and breaks only their alignment (an F test would assume independent
//! residuals, which a controlled signal does not have). p = (1 + #{surrogate ≥ real}) /
//! (1 + [`SURROGATES`]). Written here: the statistic is a dozen least-squares fits, and no crate
//! offers surrogate tests.

use crate::measure::{Measured, MAX_CITED};
use crate::signals::Signals;
use aimm_model::{SignalKind, SignalSeries};

/// Grid step, ms: finer than a feed loop's reaction budget (50 ms), coarse enough to keep a
/// shift's record to thousands of points.
pub const GRID_MS: i64 = 20;

/// Lags of each regressor, grid steps (100 ms).
pub const LAGS: usize = 5;

/// Time-shifted surrogates: p is at least 1 / (1 + this), 0.005.
pub const SURROGATES: usize = 199;

/// Grid points a machine needs for the test (20 s at [`GRID_MS`]).
const MIN_POINTS: usize = 1000;

/// A machine whose override changed at fewer grid points than this share sat at a bound: the
/// load never asked its loop to act, so its record cannot show a closed loop either way and is
/// not tested (an override that never changes at all is a failure: nothing acts).
pub const MIN_CHANGE_SHARE: f64 = 0.01;

/// `closed_loop_p` over every machine whose evidence records both the spindle load and the
/// commanded feed override: the largest p (every tested machine's loop must be closed; 1 when
/// no machine could be tested because every override sat at a bound).
pub fn closed_loop_p(signals: &Signals) -> Result<Measured, String> {
    let machines = signals.machines_with(
        SignalKind::SpindleLoadPct,
        SignalKind::FeedOverrideCommandedPct,
    );
    let mut worst: Option<f64> = None;
    let mut reasons = Vec::new();
    let mut evidence = Vec::new();
    let mut failures = Vec::new();
    let mut untested = Vec::new();
    for m in &machines {
        let load = signals.read(m, SignalKind::SpindleLoadPct)?;
        let commanded = signals.read(m, SignalKind::FeedOverrideCommandedPct)?;
        let leaves: Vec<u64> = load
            .leaves
            .iter()
            .chain(&commanded.leaves)
            .copied()
            .collect();
        let (load, commanded) = (load.series, commanded.series);
        let outcome = test(&load, &commanded);
        if let Ok(o) = &outcome {
            if (o.changes as f64) < MIN_CHANGE_SHARE * o.points as f64 {
                untested.push(format!(
                    "{m}: not tested, the override changed at only {} of {} points (it sat at \
                     a bound: the load never asked the loop to act)",
                    o.changes, o.points
                ));
                continue;
            }
        }
        let p = outcome.as_ref().map_or(1.0, |o| o.p);
        let why = match &outcome {
            Ok(o) => format!(
                "{m}: p = {:.3} (RSS ratio {:.3} against a surrogate median of {:.3}; the \
                 override changed at {} of {} points)",
                o.p, o.ratio, o.surrogate_median, o.changes, o.points
            ),
            Err(why) => format!("{m}: {why}"),
        };
        // A failure cites the machine's own segments (none when they are not in the ledger).
        if outcome.as_ref().is_err() || p > 0.01 {
            if let Some(&leaf) = leaves.first() {
                failures.push((leaf, why.clone()));
            }
        }
        evidence.extend(leaves);
        reasons.push(why);
        worst = Some(worst.map_or(p, |w: f64| w.max(p)));
    }
    if worst.is_none() && !untested.is_empty() {
        // Every machine sat at a bound: nothing shows the loop closed.
        worst = Some(1.0);
    }
    reasons.extend(untested);
    evidence.truncate(MAX_CITED);
    failures.truncate(MAX_CITED);
    Ok(Measured {
        value: worst,
        reason: if machines.is_empty() {
            "no machine records both the spindle load and a commanded feed override".into()
        } else {
            reasons.join("; ")
        },
        evidence,
        failures,
        samples: Vec::new(),
    })
}

/// One machine's test.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The surrogate p-value.
    pub p: f64,
    /// RSS_A / RSS_B on the real alignment.
    pub ratio: f64,
    /// Its median over the surrogates.
    pub surrogate_median: f64,
    /// Grid points used.
    pub points: usize,
    /// Of them, the points at which the commanded override changed.
    pub changes: usize,
}

/// The test of `commanded` against `load` (see the module doc); `Err` says why it cannot be
/// closed or cannot be told.
pub fn test(load: &SignalSeries, commanded: &SignalSeries) -> Result<Outcome, String> {
    let (Some(&a0), Some(&b0)) = (load.t_ns.first(), commanded.t_ns.first()) else {
        return Err("a signal has no samples".into());
    };
    let t0 = a0.max(b0);
    let t1 = load.t_ns[load.t_ns.len() - 1].min(commanded.t_ns[commanded.t_ns.len() - 1]);
    let step = GRID_MS * 1_000_000;
    let n = usize::try_from((t1 - t0) / step).unwrap_or(0);
    if n < MIN_POINTS {
        return Err(format!(
            "{} s in common, under the {} s the test needs",
            (t1 - t0) as f64 * 1e-9,
            MIN_POINTS as i64 * GRID_MS / 1000
        ));
    }
    let l = on_grid(load, t0, step, n);
    let o = on_grid(commanded, t0, step, n);
    let d: Vec<f64> = o.windows(2).map(|w| w[1] - w[0]).collect();
    if d.iter().all(|x| *x == 0.0) {
        return Err("the commanded override never changes: no loop acts".into());
    }
    let ratio_at = |shift: usize| rss_ratio(&d, &l, shift);
    let ratio = ratio_at(0);
    let m = d.len();
    let mut surrogates: Vec<f64> = (0..SURROGATES)
        .map(|j| ratio_at(m / 10 + j * (8 * m / 10) / SURROGATES))
        .collect();
    let beaten = surrogates.iter().filter(|s| **s >= ratio).count();
    surrogates.sort_by(f64::total_cmp);
    Ok(Outcome {
        p: (1 + beaten) as f64 / (1 + SURROGATES) as f64,
        ratio,
        surrogate_median: surrogates[SURROGATES / 2],
        points: n,
        changes: d.iter().filter(|x| **x != 0.0).count(),
    })
}

/// `s` on the grid t0 + k·step, k < n: the latest sample at or before each point (the first
/// sample before the first).
fn on_grid(s: &SignalSeries, t0: i64, step: i64, n: usize) -> Vec<f64> {
    let mut j = 0;
    (0..n)
        .map(|k| {
            let t = t0 + k as i64 * step;
            while j + 1 < s.t_ns.len() && s.t_ns[j + 1] <= t {
                j += 1;
            }
            s.values[j]
        })
        .collect()
}

/// RSS of ΔO on its own lags over RSS on its own lags and the load's (the load shifted
/// circularly by `shift`).
fn rss_ratio(d: &[f64], load: &[f64], shift: usize) -> f64 {
    let n = load.len() as isize;
    // The load known when ΔOₖ is decided (grid points k, k−1, …), shifted circularly.
    let lag_load = |k: usize, lag: usize| {
        load[(k as isize + 1 - lag as isize - shift as isize).rem_euclid(n) as usize]
    };
    let rows = LAGS..d.len();
    let own = |k: usize| (1..=LAGS).map(move |lag| d[k - lag]);
    let rss = |with_load: bool| {
        let x: Vec<Vec<f64>> = rows
            .clone()
            .map(|k| {
                let mut r = vec![1.0];
                r.extend(own(k));
                if with_load {
                    r.extend((1..=LAGS).map(|lag| lag_load(k, lag)));
                }
                r
            })
            .collect();
        let y: Vec<f64> = rows.clone().map(|k| d[k]).collect();
        least_squares_rss(&x, &y)
    };
    let (a, b) = (rss(false), rss(true));
    if b <= 0.0 {
        return if a <= 0.0 { 1.0 } else { f64::INFINITY };
    }
    a / b
}

/// Residual sum of squares of the least-squares fit of `y` on the rows `x` (normal equations
/// with a tiny ridge, so collinear lags do not break it).
fn least_squares_rss(x: &[Vec<f64>], y: &[f64]) -> f64 {
    let p = x[0].len();
    let mut a = vec![vec![0.0; p]; p];
    let mut b = vec![0.0; p];
    for (row, yi) in x.iter().zip(y) {
        for i in 0..p {
            b[i] += row[i] * yi;
            for j in 0..p {
                a[i][j] += row[i] * row[j];
            }
        }
    }
    let scale = (0..p).map(|i| a[i][i]).fold(0.0, f64::max).max(1e-300);
    for (i, r) in a.iter_mut().enumerate() {
        r[i] += 1e-10 * scale;
    }
    let beta = aimm_loops::wear::linear::solve(a, b);
    x.iter()
        .zip(y)
        .map(|(row, yi)| yi - row.iter().zip(&beta).map(|(v, c)| v * c).sum::<f64>())
        .map(|r| r * r)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    use aimm_model::MachineId;

    fn series(kind: SignalKind, values: Vec<f64>) -> SignalSeries {
        SignalSeries {
            machine: MachineId::new("mill-1"),
            signal: kind,
            t_ns: (0..values.len() as i64).map(|k| k * 10_000_000).collect(),
            values,
        }
    }

    /// 60 s at 100 Hz of a load that follows the override (the cut) plus noise, with the
    /// override `next(k, load so far, override so far)`.
    fn cell(
        next: impl Fn(usize, f64, f64, &mut rand_chacha::ChaCha8Rng) -> f64,
    ) -> (SignalSeries, SignalSeries) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut load, mut over) = (vec![60.0], vec![100.0]);
        for k in 1..6000 {
            // Material varies slowly; the load scales with the feed.
            let stock = 1.0 + 0.3 * ((k as f64) / 700.0).sin();
            let o = next(k, load[k - 1], over[k - 1], &mut rng);
            over.push(o);
            load.push(0.6 * o * stock + rng.random_range(-1.0..1.0));
        }
        (
            series(SignalKind::SpindleLoadPct, load),
            series(SignalKind::FeedOverrideCommandedPct, over),
        )
    }

    #[test]
    fn a_loop_on_the_load_is_closed_and_a_schedule_or_a_constant_is_not() {
        // Integral control of the load to 70 %, every 50 ms.
        let (l, o) = cell(|k, load, o, _| {
            if k % 5 == 0 {
                (o + 0.2 * (70.0 - load)).clamp(50.0, 200.0)
            } else {
                o
            }
        });
        let closed = test(&l, &o).unwrap();
        assert!(closed.p <= 0.01, "{closed:?}");
        // An override that changes at random, independent of the load (the load follows it).
        let (l, o) = cell(|k, _, o, rng| {
            if k % 5 == 0 {
                (o + rng.random_range(-3.0..3.0)).clamp(50.0, 200.0)
            } else {
                o
            }
        });
        let open = test(&l, &o).unwrap();
        assert!(open.p > 0.05, "{open:?}");
        // A constant override.
        let (l, o) = cell(|_, _, o, _| o);
        assert!(test(&l, &o).unwrap_err().contains("never changes"));
    }
}
