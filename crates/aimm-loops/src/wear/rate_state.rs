//! The tool's own wear rate, for the sensor-state observation: flank wear grows as
//! dVB/dt = m · h(VB), a rate law in the wear itself (h, learnt from the training lives) times the
//! tool's own rate factor m (1 for the training tools' typical rate), and a two-state Kalman
//! filter estimates wear and m together from the sensor readings.
//!
//! Why: nominally equal tools differ in life by a factor (lognormal, CV 0.2–0.4: see the scatter
//! of `aimm-sim`), and the wear curve steepens towards the criterion. A filter that grows its
//! estimate at the typical tool's rate lags a fast tool by much of the margin a plan has, and a
//! remaining life extrapolated at that rate is too long for exactly the tools that matter. The
//! rate is a function of the wear, not of the cutting time, as in the wear laws (Usui's rate
//! grows with contact stress and temperature, which grow with the wear land; the three-zone flank
//! wear curve): a tool at another point of its life at the same cutting time grows at the rate of
//! where it is. Without signals the same law with m = 1 is the sensor-free estimate, its interval
//! widening as the spread of m allows.

use super::features::Window;
use serde::{Deserialize, Serialize};

/// Knots of the rate law, evenly spaced from no wear to the most measured in training.
const KNOTS: usize = 12;

/// Alternations between fitting the law (given each run's factor) and the factors (given the law).
const FIT_ROUNDS: usize = 30;

/// Weight of the rate law's curvature penalty, per unit of the data's weight per knot: enough to
/// bridge knots with few measurements, small against the data elsewhere.
const SMOOTHING: f64 = 0.01;

/// Least variance of the rate factor at a tool's start: a few training lives can all have nearly
/// the same rate by chance; tool lives scatter with a CV of 0.2–0.4, so (0.1)² is low.
const MIN_RATE_VAR: f64 = 0.01;

/// RK4 steps per prediction (one window).
const STEPS: usize = 4;

/// Typical flank-wear rate as a function of the wear: piecewise linear between knots, the last
/// knot's rate beyond it (past the wear measured in training the law knows no more, and a rising
/// rate carried on would grow the wear without bound), never below a thousandth of its largest
/// rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLaw {
    /// Wear at the knots, mm, ascending.
    pub knots_mm: Vec<f64>,
    /// Rate at each knot, mm per s of cutting.
    pub rates_mm_per_s: Vec<f64>,
}

impl RateLaw {
    /// The typical rate at wear `vb`, mm/s.
    pub fn rate(&self, vb: f64) -> f64 {
        let (k, r) = (&self.knots_mm, &self.rates_mm_per_s);
        let floor = 1e-3 * r.iter().copied().fold(0.0, f64::max);
        let last = k.len() - 1;
        let i = k.partition_point(|x| *x <= vb).clamp(1, last);
        let v = if vb <= k[0] {
            r[0]
        } else if vb >= k[last] {
            r[last]
        } else {
            let u = (vb - k[i - 1]) / (k[i] - k[i - 1]);
            r[i - 1] + u * (r[i] - r[i - 1])
        };
        v.max(floor)
    }

    /// Wear after `dt_s` of cutting from `vb` at `m` times the typical rate (RK4), mm.
    pub fn grow(&self, vb: f64, m: f64, dt_s: f64) -> f64 {
        if m <= 0.0 || dt_s <= 0.0 {
            return vb;
        }
        let h = dt_s / STEPS as f64;
        let f = |x: f64| m * self.rate(x);
        (0..STEPS).fold(vb, |x, _| {
            let k1 = f(x);
            let k2 = f(x + 0.5 * h * k1);
            let k3 = f(x + 0.5 * h * k2);
            let k4 = f(x + h * k3);
            x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        })
    }

    /// Cutting time from wear `from` to `to` at `m` times the typical rate, s (∫ dx / (m·h(x)),
    /// Simpson's rule); `None` when m ≤ 0 (the wear does not grow).
    pub fn time_to(&self, from: f64, to: f64, m: f64) -> Option<f64> {
        if from >= to {
            return Some(0.0);
        }
        if m <= 0.0 {
            return None;
        }
        let n = 64;
        let h = (to - from) / n as f64;
        let f = |i: usize| 1.0 / self.rate(from + i as f64 * h);
        let odd: f64 = (1..n).step_by(2).map(f).sum();
        let even: f64 = (2..n).step_by(2).map(f).sum();
        Some(h / 3.0 * (f(0) + 4.0 * odd + 2.0 * even + f(n)) / m)
    }

    /// Fits the law and each run's rate factor on the growth between consecutive measured windows
    /// of `runs` (least squares, alternating; the factors' geometric mean is 1). `None` without
    /// two measured windows in a run.
    pub fn fit(runs: &[&Vec<Window>]) -> Option<(RateLaw, Vec<f64>)> {
        // (run, wear midway, cutting time between, growth between).
        let steps: Vec<(usize, f64, f64, f64)> = runs
            .iter()
            .enumerate()
            .flat_map(|(r, ws)| {
                let measured: Vec<&Window> = ws.iter().filter(|w| w.labelled()).collect();
                measured
                    .windows(2)
                    .map(|p| {
                        let (a, b) = (p[0], p[1]);
                        (
                            r,
                            0.5 * (a.wear_mm + b.wear_mm),
                            b.t_s - a.t_s,
                            b.wear_mm - a.wear_mm,
                        )
                    })
                    .filter(|s| s.2 > 0.0)
                    .collect::<Vec<_>>()
            })
            .collect();
        let top = steps.iter().map(|s| s.1).fold(0.0, f64::max);
        if steps.len() < 2 || top <= 0.0 {
            return None;
        }
        let knots_mm: Vec<f64> = (0..KNOTS)
            .map(|j| top * j as f64 / (KNOTS - 1) as f64)
            .collect();
        let mut law = RateLaw {
            knots_mm,
            rates_mm_per_s: vec![0.0; KNOTS],
        };
        let mut factors = vec![1.0; runs.len()];
        for _ in 0..FIT_ROUNDS {
            law.rates_mm_per_s = law.fit_rates(&steps, &factors);
            factors = (0..runs.len())
                .map(|r| {
                    let (num, den) = steps.iter().filter(|s| s.0 == r).fold(
                        (0.0, 0.0),
                        |(n, d), &(_, x, dt, dx)| {
                            let g = dt * law.rate(x);
                            (n + dx * g, d + g * g)
                        },
                    );
                    if den > 0.0 && num > 0.0 {
                        num / den
                    } else {
                        1.0
                    }
                })
                .collect();
            let mean_log = factors.iter().map(|m| m.ln()).sum::<f64>() / factors.len() as f64;
            let g = mean_log.exp();
            factors.iter_mut().for_each(|m| *m /= g);
            law.rates_mm_per_s.iter_mut().for_each(|r| *r *= g);
        }
        Some((law, factors))
    }

    /// The knots' rates by penalised least squares on `steps`, given each run's factor: the
    /// growth of a step is its run's factor × its duration × the law at its midway wear.
    fn fit_rates(&self, steps: &[(usize, f64, f64, f64)], factors: &[f64]) -> Vec<f64> {
        let k = self.knots_mm.len();
        let mut a = vec![vec![0.0; k]; k];
        let mut b = vec![0.0; k];
        for &(r, x, dt, dx) in steps {
            let basis = self.basis(x);
            let scale = factors[r] * dt;
            for &(i, pi) in &basis {
                b[i] += scale * pi * dx;
                for &(j, pj) in &basis {
                    a[i][j] += scale * scale * pi * pj;
                }
            }
        }
        let weight = (0..k).map(|i| a[i][i]).sum::<f64>() / k as f64;
        // Second differences: a smooth law where the measurements are few.
        for j in 1..k - 1 {
            let d = [(j - 1, 1.0), (j, -2.0), (j + 1, 1.0)];
            for &(p, cp) in &d {
                for &(q, cq) in &d {
                    a[p][q] += SMOOTHING * weight * cp * cq;
                }
            }
        }
        for (i, row) in a.iter_mut().enumerate() {
            row[i] += 1e-9 * weight.max(f64::MIN_POSITIVE);
        }
        let rates = super::linear::solve(a, b);
        let floor = 1e-3 * rates.iter().copied().fold(0.0, f64::max).max(1e-12);
        rates.into_iter().map(|r| r.max(floor)).collect()
    }

    /// The knots that carry wear `x` and their weights (hat functions).
    fn basis(&self, x: f64) -> [(usize, f64); 2] {
        let k = &self.knots_mm;
        let i = k.partition_point(|v| *v <= x).clamp(1, k.len() - 1);
        let u = ((x - k[i - 1]) / (k[i] - k[i - 1])).clamp(0.0, 1.0);
        [(i - 1, 1.0 - u), (i, u)]
    }
}

/// The variance of the rate factors of the training runs about 1, at least [`MIN_RATE_VAR`].
pub fn rate_start_var(factors: &[f64]) -> f64 {
    let n = factors.len().max(1) as f64;
    (factors.iter().map(|m| (m - 1.0).powi(2)).sum::<f64>() / n).max(MIN_RATE_VAR)
}

/// The two-state filter's rate settings: the law and the rate factor's variances (from the
/// training runs and nested CV on them); the wear's variances come with each run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateFilter {
    /// The typical wear rate as a function of the wear.
    pub law: RateLaw,
    /// Variance of the tool's rate factor at its start: the training runs' spread.
    pub rate_start_var: f64,
    /// Variance the rate factor may drift by per window (a harder batch, a changed condition).
    pub rate_process_var: f64,
}

/// Variances of the wear in the two-state filter, mm².
#[derive(Debug, Clone, Copy)]
pub struct WearNoise {
    /// Of the wear at the first window.
    pub start: f64,
    /// Of one window's observation.
    pub observation: f64,
    /// Of the wear growth per window beyond the law's.
    pub process: f64,
}

/// The filter's state after a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateStep {
    /// Estimated wear (the state; may fall after a correction), mm.
    pub wear_mm: f64,
    /// Its variance, mm².
    pub var_mm2: f64,
    /// The tool's estimated rate factor.
    pub rate_factor: f64,
    /// Its variance.
    pub rate_var: f64,
}

impl RateFilter {
    /// Runs the filter over `ws` from wear `start` at the first window, correcting with each
    /// observation (`NaN`: none, the filter only predicts). An `anchor` (window index, measured
    /// wear) sets the wear there exactly.
    pub fn run(
        &self,
        start: f64,
        noise: WearNoise,
        (ws, obs): (&[Window], &[f64]),
        anchor: Option<(usize, f64)>,
    ) -> Vec<RateStep> {
        let (mut x, mut m) = (start, 1.0);
        // Covariance of (wear, rate factor).
        let mut p = [[noise.start, 0.0], [0.0, self.rate_start_var]];
        let mut prev_t: Option<f64> = None;
        let mut out = Vec::with_capacity(ws.len());
        for (k, (w, &z)) in ws.iter().zip(obs).enumerate() {
            if let Some(t0) = prev_t {
                let dt = w.t_s - t0;
                let grown = self.law.grow(x, m, dt);
                // Jacobian by finite differences: the law is piecewise linear, RK4 smooths it.
                let (ex, em) = (1e-6, 1e-6);
                let dx = (self.law.grow(x + ex, m, dt) - grown) / ex;
                let dm = (self.law.grow(x, m + em, dt) - grown) / em;
                let f = [[dx, dm], [0.0, 1.0]];
                p = add(
                    mul(mul(f, p), transpose(f)),
                    [[noise.process, 0.0], [0.0, self.rate_process_var]],
                );
                x = grown;
            }
            if z.is_finite() {
                let s = p[0][0] + noise.observation;
                let (g0, g1) = (p[0][0] / s, p[1][0] / s);
                let innovation = z - x;
                x += g0 * innovation;
                m = (m + g1 * innovation).max(0.0);
                p = [
                    [(1.0 - g0) * p[0][0], (1.0 - g0) * p[0][1]],
                    [p[1][0] - g1 * p[0][0], p[1][1] - g1 * p[0][1]],
                ];
            }
            if let Some((_, measured)) = anchor.filter(|a| a.0 == k) {
                x = measured;
                p[0] = [0.0, 0.0];
                p[1][0] = 0.0;
            }
            out.push(RateStep {
                wear_mm: x,
                var_mm2: p[0][0].max(0.0),
                rate_factor: m,
                rate_var: p[1][1].max(0.0),
            });
            prev_t = Some(w.t_s);
        }
        out
    }
}

type M2 = [[f64; 2]; 2];

fn mul(a: M2, b: M2) -> M2 {
    let c = |i: usize, j: usize| a[i][0] * b[0][j] + a[i][1] * b[1][j];
    [[c(0, 0), c(0, 1)], [c(1, 0), c(1, 1)]]
}

fn transpose(a: M2) -> M2 {
    [[a[0][0], a[1][0]], [a[0][1], a[1][1]]]
}

fn add(a: M2, b: M2) -> M2 {
    [
        [a[0][0] + b[0][0], a[0][1] + b[0][1]],
        [a[1][0] + b[1][0], a[1][1] + b[1][1]],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows of 10 s of a tool whose wear grows as m · (1 + 10·VB) · 1e-4 mm/s.
    fn life(m: f64) -> Vec<Window> {
        let mut vb = 0.0;
        (1..=60)
            .map(|k| {
                for _ in 0..100 {
                    vb += 0.1 * m * (1.0 + 10.0 * vb) * 1e-4;
                }
                Window {
                    t_s: 10.0 * k as f64,
                    features: vec![],
                    clocks: vec![],
                    wear_mm: vb,
                }
            })
            .collect()
    }

    #[test]
    fn the_law_and_each_tools_factor_are_recovered() {
        let (slow, fast) = (life(0.8), life(1.25));
        let (law, factors) = RateLaw::fit(&[&slow, &fast]).unwrap();
        // Geometric mean 1: the factors are 0.8 and 1.25 exactly.
        assert!((factors[0] - 0.8).abs() < 0.02, "{factors:?}");
        assert!((factors[1] - 1.25).abs() < 0.03, "{factors:?}");
        // The lives reach 0.06 and 0.11 mm.
        for vb in [0.02, 0.05, 0.08] {
            let want = (1.0 + 10.0 * vb) * 1e-4;
            let got = law.rate(vb);
            assert!(
                (got / want - 1.0).abs() < 0.05,
                "rate at {vb}: {got} vs {want}"
            );
        }
        // Time from 0.05 to 0.1 mm at m = 1: ln(2/1.5) / (10·1e-4) s.
        let t = law.time_to(0.05, 0.1, 1.0).unwrap();
        assert!((t / ((2.0f64 / 1.5).ln() / 1e-3) - 1.0).abs() < 0.05, "{t}");
        // Past the wear trained on, the rate holds: the law knows no more.
        let top = *law.knots_mm.last().unwrap();
        assert_eq!(law.rate(top + 0.1), law.rate(top));
    }

    #[test]
    fn the_filter_finds_a_fast_tools_rate_from_its_readings() {
        let (slow, typical, fast) = (life(0.8), life(1.0), life(1.5));
        let (law, factors) = RateLaw::fit(&[&slow, &typical]).unwrap();
        let filter = RateFilter {
            law,
            rate_start_var: rate_start_var(&factors).max(0.1),
            rate_process_var: 0.0,
        };
        let noise = WearNoise {
            start: 1e-4,
            observation: 1e-4,
            process: 1e-8,
        };
        let readings: Vec<f64> = fast.iter().map(|w| w.wear_mm).collect();
        let steps = filter.run(0.0, noise, (&fast, &readings), None);
        let last = steps.last().unwrap();
        // The law is the geometric mean of the two trained on: 0.8 and 1.0 of the test's unit.
        let m_fast = 1.5 / 0.8f64.sqrt();
        assert!(
            (last.rate_factor / m_fast - 1.0).abs() < 0.15,
            "rate {} against {m_fast}",
            last.rate_factor
        );
        // Without readings the filter follows the typical tool and grows unsure.
        let blind = filter.run(0.0, noise, (&fast, &vec![f64::NAN; fast.len()]), None);
        assert!(blind.last().unwrap().wear_mm < 0.8 * fast.last().unwrap().wear_mm);
        assert!(blind.last().unwrap().var_mm2 > last.var_mm2);
    }
}
