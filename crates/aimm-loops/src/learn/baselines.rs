//! The ways of choosing a part's parameters the safe learner is measured against, behind one
//! ask–tell [`Strategy`] trait (the safe learner implements it too): the fixed CAM start,
//! random search and grid search in the box, and constrained expected improvement — the same
//! response models as the safe learner, without a safe set (the "unsafe BO"). Every part starts
//! at the CAM start; all are seeded and deterministic.

use super::linalg::{normal_cdf, normal_pdf};
use super::models::{PhysicsPriors, ResponseModels};
use super::safe::{log_grid, LearnProblem, SafeLearner};
use aimm_model::{CutParams, ParamBox, PartMeasurement};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A way of choosing each part's parameters from the parts made before.
pub trait Strategy {
    /// Its name in tables.
    fn name(&self) -> &str;
    /// The parameters for the next part.
    fn ask(&mut self) -> CutParams;
    /// What the part made with `params` measured.
    fn tell(&mut self, params: CutParams, measured: &PartMeasurement);
    /// The parameters it would recommend for production now (default: the cheapest part seen
    /// whose measurement met every limit, else the start).
    fn recommend(&self) -> CutParams;
    /// Asks answered with a refusal, not a proposal (default: none).
    fn refusals(&self) -> usize {
        0
    }
}

/// The best measured-feasible part of a history, by measured cost.
#[derive(Clone, Debug, Default)]
struct History {
    best: Option<(CutParams, f64)>,
    parts: usize,
}

impl History {
    fn tell(&mut self, problem: &LearnProblem, params: CutParams, m: &PartMeasurement) {
        self.parts += 1;
        if m.violated(&problem.limits).is_empty() {
            let c = m.cost(&problem.costs);
            if self.best.is_none_or(|(_, b)| c < b) {
                self.best = Some((params, c));
            }
        }
    }
    fn recommend(&self, start: CutParams) -> CutParams {
        self.best.map(|(p, _)| p).unwrap_or(start)
    }
}

impl Strategy for SafeLearner {
    fn name(&self) -> &str {
        "aimm safe"
    }
    /// The learner's proposal; on a refusal, the best parameters seen (else the start).
    fn ask(&mut self) -> CutParams {
        match SafeLearner::ask(self) {
            Ok(p) => p.params,
            Err(_) => {
                self.note_refusal();
                self.recommend()
            }
        }
    }
    fn refusals(&self) -> usize {
        self.refused()
    }
    fn tell(&mut self, params: CutParams, measured: &PartMeasurement) {
        // A refused measurement (not finite) teaches nothing; the part is still made.
        let _ = SafeLearner::tell(self, params, measured);
    }
    fn recommend(&self) -> CutParams {
        self.best()
            .map(|b| b.params)
            .unwrap_or(self.problem().start)
    }
}

/// The CAM/handbook start on every part.
#[derive(Clone, Debug)]
pub struct FixedStart {
    start: CutParams,
}

impl FixedStart {
    /// The baseline for `problem`.
    pub fn new(problem: &LearnProblem) -> Self {
        Self {
            start: problem.start,
        }
    }
}

impl Strategy for FixedStart {
    fn name(&self) -> &str {
        "fixed start"
    }
    fn ask(&mut self) -> CutParams {
        self.start
    }
    fn tell(&mut self, _: CutParams, _: &PartMeasurement) {}
    fn recommend(&self) -> CutParams {
        self.start
    }
}

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The start, then parameters drawn uniformly in the box.
#[derive(Clone, Debug)]
pub struct RandomSearch {
    problem: LearnProblem,
    rng: ChaCha8Rng,
    history: History,
}

impl RandomSearch {
    /// Random search on `problem` with `seed`.
    pub fn new(problem: &LearnProblem, seed: u64) -> Self {
        Self {
            problem: problem.clone(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            history: History::default(),
        }
    }
}

impl Strategy for RandomSearch {
    fn name(&self) -> &str {
        "random"
    }
    fn ask(&mut self) -> CutParams {
        if self.history.parts == 0 {
            return self.problem.start;
        }
        let b = self.problem.bounds;
        let u = uniform(&mut self.rng);
        let v = uniform(&mut self.rng);
        CutParams {
            fz_mm: b.fz_mm.0 + u * (b.fz_mm.1 - b.fz_mm.0),
            vc_m_per_min: b.vc_m_per_min.0 + v * (b.vc_m_per_min.1 - b.vc_m_per_min.0),
        }
    }
    fn tell(&mut self, params: CutParams, measured: &PartMeasurement) {
        self.history.tell(&self.problem, params, measured);
    }
    fn recommend(&self) -> CutParams {
        self.history.recommend(self.problem.start)
    }
}

/// The start, then a fixed `side × side` grid (uniform in log over the box) walked in a seeded
/// order, repeated if the parts outlast it.
#[derive(Clone, Debug)]
pub struct GridSearch {
    problem: LearnProblem,
    order: Vec<CutParams>,
    history: History,
}

impl GridSearch {
    /// Grid search on `problem`, `side` points per axis, order shuffled with `seed`.
    pub fn new(problem: &LearnProblem, side: usize, seed: u64) -> Self {
        let mut order = log_grid(&problem.bounds, side.max(1));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for i in (1..order.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        Self {
            problem: problem.clone(),
            order,
            history: History::default(),
        }
    }
}

impl Strategy for GridSearch {
    fn name(&self) -> &str {
        "grid"
    }
    fn ask(&mut self) -> CutParams {
        match self.history.parts {
            0 => self.problem.start,
            k => self.order[(k - 1) % self.order.len()],
        }
    }
    fn tell(&mut self, params: CutParams, measured: &PartMeasurement) {
        self.history.tell(&self.problem, params, measured);
    }
    fn recommend(&self) -> CutParams {
        self.history.recommend(self.problem.start)
    }
}

/// Constrained expected improvement: the safe learner's response models, and each part at the
/// grid point maximising the expected improvement on the best feasible cost seen times the
/// probability every constraint holds — no safe set, no trust region.
#[derive(Clone, Debug)]
pub struct ConstrainedEi {
    problem: LearnProblem,
    models: ResponseModels,
    grid: Vec<CutParams>,
    history: History,
}

impl ConstrainedEi {
    /// Constrained EI on `problem` with the default physics priors and a `grid_points`² grid.
    pub fn new(problem: &LearnProblem, grid_points: usize) -> Self {
        let frame = problem.frame();
        let bounds: ParamBox = problem.bounds;
        Self {
            problem: problem.clone(),
            models: ResponseModels::new(frame, &PhysicsPriors::default()),
            grid: log_grid(&bounds, grid_points),
            history: History::default(),
        }
    }
}

impl Strategy for ConstrainedEi {
    fn name(&self) -> &str {
        "constrained EI"
    }
    fn ask(&mut self) -> CutParams {
        if self.models.is_empty() {
            return self.problem.start;
        }
        let post = self.models.posterior();
        let incumbent = self.history.best.map(|(_, c)| c);
        let mut best = (f64::NEG_INFINITY, self.problem.start);
        for &p in &self.grid {
            let pred = post.predict(p);
            let feasible: f64 = pred
                .constraints
                .iter()
                .map(|c| {
                    if c.sd.is_finite() && c.sd > 0.0 {
                        normal_cdf((c.limit - c.mean) / c.sd)
                    } else if c.mean < c.limit {
                        1.0
                    } else {
                        0.0
                    }
                })
                .product();
            let score = match incumbent {
                Some(f_best) => {
                    let s = pred.cost_sd.max(1e-12);
                    let z = (f_best - pred.cost) / s;
                    let ei = (f_best - pred.cost) * normal_cdf(z) + s * normal_pdf(z);
                    ei.max(0.0) * feasible
                }
                // Nothing feasible yet: look for feasibility.
                None => feasible,
            };
            if score > best.0 {
                best = (score, p);
            }
        }
        best.1
    }
    fn tell(&mut self, params: CutParams, measured: &PartMeasurement) {
        let finite = [
            measured.cycle_time_s,
            measured.spindle_power_kw,
            measured.spindle_torque_nm,
            measured.stability_ratio,
            measured.roughness_ra_um,
            measured.wall_error_mm,
            measured.tool_life_used,
        ]
        .iter()
        .all(|v| v.is_finite());
        if finite {
            self.models.push(params, measured);
        }
        self.history.tell(&self.problem, params, measured);
    }
    fn recommend(&self) -> CutParams {
        self.history.recommend(self.problem.start)
    }
}
