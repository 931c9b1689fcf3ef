//! The safe learner: one proposal per part (ask), one measurement per part (tell), never a
//! proposal the models cannot vouch for (SafeOpt / GoOSE style).
//!
//! Safe set: a candidate `(fz, vc)` is safe when, for every constraint that applies, the upper
//! confidence bound `mean + β·sd` of its modelled value ([`super::models`]) is below the limit.
//! Before any data the only safe point is the start (the CAM/handbook parameters, assumed safe:
//! the first part runs at them); the physics priors then let the set grow around every part
//! made, by as much as the slopes' uncertainty allows. `β = 2` (one-sided ≈ 97.7 % per constraint
//! under the Student-t bands, which are wider than normal with few parts).
//!
//! Choice among safe candidates: the one with the lowest predicted cost at the models' means.
//! The cost of every part made counts, so there is no pure-exploration step: cost falls with
//! faster feeds and speeds until a constraint binds, so the cheapest safe point lies on the safe
//! set's edge, where a part's measurement shrinks the band and the set moves out — expansion
//! comes from exploitation. Ties go to the candidate nearer the last part.
//!
//! Candidates: a `grid_points × grid_points` grid, uniform in `(ln fz, ln vc)`, over the box (in
//! [`LearnMode::Advise`]) or over the box cut by the trust region around the last part made (in
//! [`LearnMode::Auto`]: at most `trust_region_log_step` in `ln fz` and in `ln vc` per part),
//! plus the last part's parameters.
//!
//! The default settings were chosen on the training seeds 1000..1019 of the process benchmark
//! only, never on the reported seeds 0..19.

use super::models::{ModelFrame, PhysicsPriors, Prediction, ResponseModels};
use aimm_model::{
    CutParams, OperationGeometry, ParamBox, PartMeasurement, ProcessConstraint, ProcessCosts,
    ProcessLimits,
};
use serde::{Deserialize, Serialize};

/// One operation to learn: what is fixed, what the plant pays, what it must hold, and where the
/// learner may search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnProblem {
    /// The operation's tool and engagement.
    pub geometry: OperationGeometry,
    /// The plant's limits.
    pub limits: ProcessLimits,
    /// The plant's costs.
    pub costs: ProcessCosts,
    /// The box of parameters the tool maker allows.
    pub bounds: ParamBox,
    /// The CAM/handbook start, assumed safe: the first part runs at it.
    pub start: CutParams,
    /// The spindle's no-load power per 1000 rev/min, kW (known from the machine).
    pub no_load_kw_per_krpm: f64,
}

impl LearnProblem {
    /// What the response models need of the problem.
    pub fn frame(&self) -> ModelFrame {
        ModelFrame {
            geometry: self.geometry.clone(),
            limits: self.limits.clone(),
            costs: self.costs,
            start: self.start,
            no_load_kw_per_krpm: self.no_load_kw_per_krpm,
        }
    }
}

/// Whether proposals are applied by the loop or by an engineer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LearnMode {
    /// Proposals wait for approval; the part made may be the previous parameters.
    Advise,
    /// Proposals are applied to the next part, within a trust region.
    Auto,
}

/// The learner's settings. Defaults chosen on training seeds 1000..1019 only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnSettings {
    /// Width of the confidence band, in standard deviations, a safe candidate keeps below every
    /// limit.
    pub beta: f64,
    /// Auto mode: largest step per part in `ln fz` and in `ln vc` (0.15: ±16 %).
    pub trust_region_log_step: f64,
    /// Candidates per axis of the grid.
    pub grid_points: usize,
    /// The models' physics priors.
    pub priors: PhysicsPriors,
}

impl Default for LearnSettings {
    fn default() -> Self {
        Self {
            beta: 2.0,
            trust_region_log_step: 0.15,
            grid_points: 25,
            priors: PhysicsPriors::default(),
        }
    }
}

/// Why the learner refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearnError {
    /// The start parameters lie outside the box.
    #[error(
        "start fz {fz_mm} mm, vc {vc_m_per_min} m/min lies outside the box \
         fz {fz_range:?} mm, vc {vc_range:?} m/min: the learner starts only from parameters it may use"
    )]
    StartOutsideBounds {
        /// Start feed per tooth, mm.
        fz_mm: f64,
        /// Start cutting speed, m/min.
        vc_m_per_min: f64,
        /// Feed range, mm.
        fz_range: (f64, f64),
        /// Speed range, m/min.
        vc_range: (f64, f64),
    },
    /// The told parameters lie outside the box.
    #[error("part made at fz {fz_mm} mm, vc {vc_m_per_min} m/min, outside the box")]
    OutsideBounds {
        /// Feed per tooth, mm.
        fz_mm: f64,
        /// Cutting speed, m/min.
        vc_m_per_min: f64,
    },
    /// A number is NaN or infinite.
    #[error("{field} is not a finite number ({value})")]
    NotFinite {
        /// The field.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// A number that must be positive is not.
    #[error("{field} must be positive, got {value}")]
    NotPositive {
        /// The field.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// A measured value that cannot be negative is.
    #[error("{field} cannot be negative, got {value}")]
    Negative {
        /// The field.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// A constraint no parameter in the box can be shown to meet.
    #[error("no parameters can meet the {} limit: {detail}", constraint.name())]
    NoSafeParameters {
        /// The constraint.
        constraint: ProcessConstraint,
        /// What was found.
        detail: String,
    },
}

/// A constraint's prediction at a proposal, on the measured scale.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConstraintMargin {
    /// The constraint.
    pub constraint: ProcessConstraint,
    /// Predicted value (models' mean).
    pub predicted: f64,
    /// Upper confidence bound (mean + β·sd).
    pub upper: f64,
    /// The limit.
    pub limit: f64,
}

/// The parameters for the next part, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The parameters.
    pub params: CutParams,
    /// Predicted cost per part (NaN for the first part: nothing is learnt yet).
    pub predicted_cost: f64,
    /// Every applying constraint's prediction (empty for the first part).
    pub margins: Vec<ConstraintMargin>,
    /// Why these parameters.
    pub reason: String,
}

/// The best parameters seen: the lowest predicted cost among the parts made whose measurement
/// met every limit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incumbent {
    /// The parameters.
    pub params: CutParams,
    /// The cost measured on the part made with them (the last such part).
    pub measured_cost: f64,
    /// The models' cost at them now.
    pub predicted_cost: f64,
}

/// One part made.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The parameters it was made with.
    pub params: CutParams,
    /// What it measured.
    pub measured: PartMeasurement,
}

/// The safe learner of one operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SafeLearner {
    problem: LearnProblem,
    mode: LearnMode,
    settings: LearnSettings,
    models: ResponseModels,
    observed: Vec<Observation>,
    /// Asks through [`super::Strategy`] that were refused (the strategy fell back).
    #[serde(default)]
    refused: usize,
}

fn finite(field: &'static str, value: f64) -> Result<f64, LearnError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(LearnError::NotFinite { field, value })
    }
}

fn positive(field: &'static str, value: f64) -> Result<f64, LearnError> {
    finite(field, value)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(LearnError::NotPositive { field, value })
    }
}

fn not_negative(field: &'static str, value: f64) -> Result<f64, LearnError> {
    finite(field, value)?;
    if value >= 0.0 {
        Ok(value)
    } else {
        Err(LearnError::Negative { field, value })
    }
}

fn check_problem(p: &LearnProblem) -> Result<(), LearnError> {
    let g = &p.geometry;
    positive("geometry.tool_diameter_mm", g.tool_diameter_mm)?;
    if g.teeth == 0 {
        return Err(LearnError::NotPositive {
            field: "geometry.teeth",
            value: 0.0,
        });
    }
    positive("geometry.ap_mm", g.ap_mm)?;
    positive("geometry.ae_mm", g.ae_mm)?;
    positive("geometry.cut_length_mm", g.cut_length_mm)?;
    finite("geometry.fixed_time_s", g.fixed_time_s)?;
    finite("geometry.corner_radius_mm", g.corner_radius_mm)?;
    finite("costs.machine_per_hour", p.costs.machine_per_hour)?;
    finite("costs.tool_each", p.costs.tool_each)?;
    finite("no_load_kw_per_krpm", p.no_load_kw_per_krpm)?;
    positive("bounds.fz_mm.0", p.bounds.fz_mm.0)?;
    positive("bounds.fz_mm.1", p.bounds.fz_mm.1)?;
    positive("bounds.vc_m_per_min.0", p.bounds.vc_m_per_min.0)?;
    positive("bounds.vc_m_per_min.1", p.bounds.vc_m_per_min.1)?;
    positive("start.fz_mm", p.start.fz_mm)?;
    positive("start.vc_m_per_min", p.start.vc_m_per_min)?;
    if !p.bounds.contains(p.start) {
        return Err(LearnError::StartOutsideBounds {
            fz_mm: p.start.fz_mm,
            vc_m_per_min: p.start.vc_m_per_min,
            fz_range: p.bounds.fz_mm,
            vc_range: p.bounds.vc_m_per_min,
        });
    }
    // Limits: a limit at or below zero (or below the spindle's own no-load share) cannot be met.
    let l = &p.limits;
    let impossible = |c: ProcessConstraint, v: f64, floor: f64| -> Result<(), LearnError> {
        let v = finite(
            match c {
                ProcessConstraint::Chatter => "limits.stability_ratio",
                ProcessConstraint::Power => "limits.spindle_power_kw",
                ProcessConstraint::Torque => "limits.spindle_torque_nm",
                ProcessConstraint::Roughness => "limits.roughness_ra_um",
                ProcessConstraint::Tolerance => "limits.wall_error_mm",
                ProcessConstraint::ToolLife => "limits.min_parts_per_tool",
            },
            v,
        )?;
        if v <= floor {
            return Err(LearnError::NoSafeParameters {
                constraint: c,
                detail: format!("the limit {v} is at or below {floor}, which no cut goes under"),
            });
        }
        Ok(())
    };
    impossible(ProcessConstraint::Chatter, l.stability_ratio, 0.0)?;
    let min_rpm = p.bounds.vc_m_per_min.0 * 1000.0 / (std::f64::consts::PI * g.tool_diameter_mm);
    impossible(
        ProcessConstraint::Power,
        l.spindle_power_kw,
        p.no_load_kw_per_krpm.max(0.0) * min_rpm / 1000.0,
    )?;
    impossible(
        ProcessConstraint::Torque,
        l.spindle_torque_nm,
        p.no_load_kw_per_krpm.max(0.0) * 60.0 / (2.0 * std::f64::consts::PI),
    )?;
    if let Some(ra) = l.roughness_ra_um {
        impossible(ProcessConstraint::Roughness, ra, 0.0)?;
    }
    if let Some(w) = l.wall_error_mm {
        impossible(ProcessConstraint::Tolerance, w, 0.0)?;
    }
    impossible(ProcessConstraint::ToolLife, l.min_parts_per_tool, 0.0)?;
    Ok(())
}

fn check_measurement(params: CutParams, m: &PartMeasurement) -> Result<(), LearnError> {
    positive("params.fz_mm", params.fz_mm)?;
    positive("params.vc_m_per_min", params.vc_m_per_min)?;
    finite("cycle_time_s", m.cycle_time_s)?;
    finite("spindle_power_kw", m.spindle_power_kw)?;
    finite("spindle_torque_nm", m.spindle_torque_nm)?;
    not_negative("stability_ratio", m.stability_ratio)?;
    not_negative("roughness_ra_um", m.roughness_ra_um)?;
    not_negative("wall_error_mm", m.wall_error_mm)?;
    not_negative("tool_life_used", m.tool_life_used)?;
    Ok(())
}

/// `n` points uniform in log between `lo` and `hi` (just `lo` when they meet).
fn log_axis(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if n <= 1 || hi <= lo {
        return vec![lo];
    }
    let (a, b) = (lo.ln(), hi.ln());
    (0..n)
        .map(|i| {
            if i == n - 1 {
                hi
            } else {
                (a + (b - a) * i as f64 / (n - 1) as f64).exp()
            }
        })
        .collect()
}

/// A grid over `area`, uniform in log.
pub fn log_grid(area: &ParamBox, n: usize) -> Vec<CutParams> {
    let fz = log_axis(area.fz_mm.0, area.fz_mm.1, n);
    let vc = log_axis(area.vc_m_per_min.0, area.vc_m_per_min.1, n);
    fz.iter()
        .flat_map(|&f| {
            vc.iter().map(move |&v| CutParams {
                fz_mm: f,
                vc_m_per_min: v,
            })
        })
        .collect()
}

/// The box cut by a trust region of `step` in log around `centre`.
pub fn trust_box(bounds: &ParamBox, centre: CutParams, step: f64) -> ParamBox {
    let k = step.exp();
    ParamBox {
        fz_mm: (
            (centre.fz_mm / k).max(bounds.fz_mm.0),
            (centre.fz_mm * k).min(bounds.fz_mm.1),
        ),
        vc_m_per_min: (
            (centre.vc_m_per_min / k).max(bounds.vc_m_per_min.0),
            (centre.vc_m_per_min * k).min(bounds.vc_m_per_min.1),
        ),
    }
}

fn log_distance(a: CutParams, b: CutParams) -> f64 {
    ((a.fz_mm / b.fz_mm).ln().powi(2) + (a.vc_m_per_min / b.vc_m_per_min).ln().powi(2)).sqrt()
}

impl SafeLearner {
    /// A learner for `problem`; refuses a start outside the box, numbers that are not finite,
    /// and limits no cut can meet.
    pub fn new(
        problem: LearnProblem,
        mode: LearnMode,
        settings: LearnSettings,
    ) -> Result<Self, LearnError> {
        check_problem(&problem)?;
        positive("settings.beta", settings.beta)?;
        positive(
            "settings.trust_region_log_step",
            settings.trust_region_log_step,
        )?;
        let frame = problem.frame();
        let models = ResponseModels::new(frame, &settings.priors);
        Ok(Self {
            problem,
            mode,
            settings,
            models,
            observed: Vec::new(),
            refused: 0,
        })
    }

    /// The problem learnt.
    pub fn problem(&self) -> &LearnProblem {
        &self.problem
    }

    /// The mode.
    pub fn mode(&self) -> LearnMode {
        self.mode
    }

    /// The settings.
    pub fn settings(&self) -> &LearnSettings {
        &self.settings
    }

    /// The response models.
    pub fn models(&self) -> &ResponseModels {
        &self.models
    }

    /// Asks through the [`super::Strategy`] trait that were refused.
    pub fn refused(&self) -> usize {
        self.refused
    }

    pub(super) fn note_refusal(&mut self) {
        self.refused += 1;
    }

    /// Parts told.
    pub fn observations(&self) -> usize {
        self.observed.len()
    }

    /// The parts told, in order.
    pub fn history(&self) -> &[Observation] {
        &self.observed
    }

    /// Tells the learner what a part made with `params` measured. The parameters are those the
    /// part was really made with (in advise mode, the previous ones when a proposal was not
    /// approved). Refuses NaN or infinite values, naming the field, and parameters outside
    /// the box.
    pub fn tell(
        &mut self,
        params: CutParams,
        measured: &PartMeasurement,
    ) -> Result<(), LearnError> {
        check_measurement(params, measured)?;
        if !self.problem.bounds.contains(params) {
            return Err(LearnError::OutsideBounds {
                fz_mm: params.fz_mm,
                vc_m_per_min: params.vc_m_per_min,
            });
        }
        self.models.push(params, measured);
        self.observed.push(Observation {
            params,
            measured: *measured,
        });
        Ok(())
    }

    fn margins(&self, pred: &Prediction) -> Vec<ConstraintMargin> {
        pred.constraints
            .iter()
            .map(|c| ConstraintMargin {
                constraint: c.constraint,
                predicted: c.value(c.mean),
                upper: c.value(c.upper(self.settings.beta)),
                limit: c.limit_value(),
            })
            .collect()
    }

    /// The parameters for the next part: the start before any part, then the cheapest
    /// candidate whose every constraint's upper confidence bound is below its limit. Refuses,
    /// naming the constraint, when no candidate in the box can be shown to meet one.
    pub fn ask(&self) -> Result<Proposal, LearnError> {
        let beta = self.settings.beta;
        let Some(last) = self.observed.last().map(|o| o.params) else {
            return Ok(Proposal {
                params: self.problem.start,
                predicted_cost: f64::NAN,
                margins: Vec::new(),
                reason: "first part: the CAM/handbook start, assumed safe".into(),
            });
        };
        let post = self.models.posterior();
        let area = match self.mode {
            LearnMode::Auto => trust_box(
                &self.problem.bounds,
                last,
                self.settings.trust_region_log_step,
            ),
            LearnMode::Advise => self.problem.bounds,
        };
        let mut candidates = log_grid(&area, self.settings.grid_points);
        candidates.push(last);
        let mut best: Option<(Prediction, f64)> = None;
        for p in candidates {
            let pred = post.predict(p);
            if !pred.constraints.iter().all(|c| c.safe(beta)) || !pred.cost.is_finite() {
                continue;
            }
            let d = log_distance(p, last);
            let better = match &best {
                None => true,
                Some((b, bd)) => {
                    pred.cost < b.cost * (1.0 - 1e-9) || (pred.cost <= b.cost && d < *bd)
                }
            };
            if better {
                best = Some((pred, d));
            }
        }
        if let Some((pred, _)) = best {
            let binding = pred
                .constraints
                .iter()
                .max_by(|a, b| {
                    (a.upper(beta) - a.limit)
                        .partial_cmp(&(b.upper(beta) - b.limit))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .map(|c| c.constraint.name())
                .unwrap_or("none");
            let reason = format!(
                "cheapest parameters predicted safe at β = {beta} among {} ({} parts); nearest limit: {binding}",
                match self.mode {
                    LearnMode::Auto => "the trust region",
                    LearnMode::Advise => "the box",
                },
                self.observed.len()
            );
            return Ok(Proposal {
                params: pred.params,
                predicted_cost: pred.cost,
                margins: self.margins(&pred),
                reason,
            });
        }
        // Nothing safe here: name the constraint no candidate in the whole box meets, else the
        // one fewest candidates meet.
        let whole = log_grid(&self.problem.bounds, self.settings.grid_points);
        let constraints = self.models.frame.constraints();
        let mut meeting = vec![0usize; constraints.len()];
        let mut lowest = vec![f64::INFINITY; constraints.len()];
        for p in whole {
            let pred = post.predict(p);
            for (i, c) in pred.constraints.iter().enumerate() {
                if c.safe(beta) {
                    meeting[i] += 1;
                }
                lowest[i] = lowest[i].min(c.value(c.upper(beta)));
            }
        }
        let i = (0..constraints.len())
            .min_by_key(|&i| meeting[i])
            .unwrap_or(0);
        let c = constraints[i];
        let limit = self.models.frame.limits.clone();
        let detail = if meeting[i] == 0 {
            format!(
                "after {} parts, the lowest upper bound anywhere in the box is {:.4} against the limit {:.4}",
                self.observed.len(),
                lowest[i],
                self.observed[0]
                    .measured
                    .against(c, &limit)
                    .map(|(_, l)| l)
                    .unwrap_or(f64::NAN)
            )
        } else {
            format!(
                "after {} parts, no candidate meets every limit at once ({} of the box's candidates meet this one)",
                self.observed.len(),
                meeting[i]
            )
        };
        Err(LearnError::NoSafeParameters {
            constraint: c,
            detail,
        })
    }

    /// The best parameters seen: among the parts whose measurement met every limit, the one
    /// the models now predict cheapest.
    pub fn best(&self) -> Option<Incumbent> {
        let post = self.models.posterior();
        let limits = &self.problem.limits;
        self.observed
            .iter()
            .filter(|o| o.measured.violated(limits).is_empty())
            .map(|o| Incumbent {
                params: o.params,
                measured_cost: o.measured.cost(&self.problem.costs),
                predicted_cost: post.predict(o.params).cost,
            })
            .fold(None, |acc: Option<Incumbent>, i| match acc {
                Some(a) if a.predicted_cost <= i.predicted_cost => Some(a),
                _ => Some(i),
            })
    }

    /// The models' coefficients and data count, for a `model_training` ledger record.
    pub fn model_summary(&self) -> serde_json::Value {
        let mut v = self.models.summary();
        v["mode"] = serde_json::to_value(self.mode).unwrap_or_default();
        v["settings"] = serde_json::json!({
            "beta": self.settings.beta,
            "trust_region_log_step": self.settings.trust_region_log_step,
            "grid_points": self.settings.grid_points,
        });
        v
    }
}
