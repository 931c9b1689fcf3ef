//! Validation of the wear loop: the same series of parts with one wearing tool, without and with
//! the loop, on the same seed ([`run_trial`]), and the figures and verdict of the loop's
//! `validation_report` ([`WearValidation`]): every compensated part in tolerance where the
//! uncompensated series drifts out, tools changed before the wear criterion after using at least
//! [`MIN_LIFE_USED`] of their life.

use crate::wear_evidence::{RecordedModel, WearRecorder};
use crate::wear_loop::{
    run_series, train_on_simulated_lives, Series, SimulatedTraining, WearLoopError, WearLoopParams,
};
use aimm_ledger::Citation;
use aimm_model::Material;
use aimm_store::Store;
use serde::Serialize;

/// Share of a tool's life a planned change must have used.
pub const MIN_LIFE_USED: f64 = 0.85;

/// What a trial runs.
#[derive(Clone, Debug)]
pub struct TrialSpec {
    /// NC program (name, text) with a reference feature cut under cutter compensation.
    pub program: (String, String),
    pub material: Material,
    pub parts: u32,
    /// Seed of the series' sensor noise.
    pub seed: u64,
    /// Seeds of the simulated tool lives the model is trained on.
    pub train_seeds: Vec<u64>,
    /// Machine the looped series is recorded on; the training lives go on `<machine>-lives`.
    pub machine: String,
    pub params: WearLoopParams,
}

/// What a recorded trial left in the ledger.
#[derive(Clone, Debug, Serialize)]
pub struct TrialEvidence {
    pub model: RecordedModel,
    /// The latest program version the loop wrote.
    pub last_program: Option<Citation>,
    pub tool_change_plans: Vec<Citation>,
    pub report: Citation,
}

/// A trial's outcome.
pub struct Trial {
    pub training: SimulatedTraining,
    pub plain: Series,
    pub looped: Series,
    pub validation: WearValidation,
    pub evidence: Option<TrialEvidence>,
}

/// Trains the model on simulated lives, then runs the series without and with the loop. With
/// `store`, the training lives and the looped series are recorded, with the model, every decision
/// and the validation report in the ledger; the uncompensated series, a comparison on the same
/// seed, is not. `progress` hears each stage's name.
pub fn run_trial(
    spec: &TrialSpec,
    mut store: Option<&mut dyn Store>,
    mut progress: impl FnMut(&str),
) -> Result<Trial, WearLoopError> {
    let program = (spec.program.0.as_str(), spec.program.1.as_str());
    let (material, params) = (spec.material, &spec.params);
    progress("training the wear model on simulated tool lives");
    let (training, model) = {
        let lab = format!("{}-lives", spec.machine);
        let mut recorder = store
            .as_deref_mut()
            .map(|s| WearRecorder::new(s, &lab, material))
            .transpose()?;
        let training = train_on_simulated_lives(
            program,
            material,
            &spec.train_seeds,
            params,
            recorder.as_mut(),
        )?;
        let model = recorder
            .as_mut()
            .map(|r| r.record_model(&training))
            .transpose()?;
        (training, model)
    };
    progress("making the series without and with the loop");
    let plain = run_series(program, material, spec.seed, spec.parts, None, params, None)?;
    let mut recorder = store
        .map(|s| WearRecorder::new(s, &spec.machine, material))
        .transpose()?;
    if let (Some(r), Some(m)) = (recorder.as_mut(), &model) {
        r.use_model(m.clone());
    }
    let looped = run_series(
        program,
        material,
        spec.seed,
        spec.parts,
        Some(&training.model),
        params,
        recorder.as_mut(),
    )?;
    let validation = WearValidation::of(&plain, &looped, params);
    let evidence = match (recorder, model) {
        (Some(mut r), Some(model)) => Some(TrialEvidence {
            report: r.record_validation(&validation)?,
            model,
            last_program: r.last_program.clone(),
            tool_change_plans: r.plans.clone(),
        }),
        _ => None,
    };
    Ok(Trial {
        training,
        plain,
        looped,
        validation,
        evidence,
    })
}

/// A retired tool, measured against the uncompensated tool's life.
#[derive(Clone, Debug, Serialize)]
pub struct ToolChangeFigures {
    pub cutting_s: f64,
    pub true_vb_mm: f64,
    /// Share of the life (cutting time to the criterion without the loop) used.
    pub life_used: Option<f64>,
}

/// The loop's validation figures: the series without and with the loop, same seed.
#[derive(Clone, Debug, Serialize)]
pub struct WearValidation {
    pub parts: usize,
    pub criterion_mm: f64,
    pub out_of_tolerance_without_loop: usize,
    pub out_of_tolerance_with_loop: usize,
    pub max_abs_error_without_loop_mm: f64,
    pub max_abs_error_with_loop_mm: f64,
    /// Cutting time at which the uncompensated tool reached the criterion, s.
    pub tool_life_s: Option<f64>,
    pub tool_changes: Vec<ToolChangeFigures>,
    /// Largest true wear any part of the looped series ended with, mm.
    pub max_true_vb_with_loop_mm: f64,
    /// RMSE of the per-part estimates against the true wear, µm.
    pub estimate_rmse_um: Option<f64>,
    /// Share of parts whose interval held the true wear.
    pub interval_coverage: Option<f64>,
    pub passed: bool,
    pub failures: Vec<String>,
}

impl WearValidation {
    pub fn of(plain: &Series, looped: &Series, params: &WearLoopParams) -> Self {
        let tool_life_s = plain.life_s(params.criterion_mm);
        let tool_changes: Vec<ToolChangeFigures> = looped
            .retired
            .iter()
            .map(|r| ToolChangeFigures {
                cutting_s: r.cutting_s,
                true_vb_mm: r.true_vb_mm,
                life_used: tool_life_s.map(|l| r.cutting_s / l),
            })
            .collect();
        let max_true_vb = looped
            .parts
            .iter()
            .map(|p| p.true_vb_mm)
            .fold(0.0, f64::max);
        let accuracy = looped.estimate_accuracy();
        let mut failures = Vec::new();
        if plain.out_of_tolerance() == 0 {
            failures.push(
                "the series is too short to wear the uncompensated tool out of tolerance".into(),
            );
        }
        if looped.out_of_tolerance() > 0 {
            failures.push(format!(
                "{} parts out of tolerance with the loop",
                looped.out_of_tolerance()
            ));
        }
        if max_true_vb >= params.criterion_mm {
            failures.push(format!(
                "a tool reached VB {max_true_vb:.3} mm ≥ the criterion {} mm",
                params.criterion_mm
            ));
        }
        if tool_changes.is_empty() {
            failures.push("no tool change was planned".into());
        }
        for c in &tool_changes {
            match c.life_used {
                Some(u) if u >= MIN_LIFE_USED => {}
                Some(u) => failures.push(format!(
                    "a tool was changed after {:.1} % of its life (< {:.0} %)",
                    100.0 * u,
                    100.0 * MIN_LIFE_USED
                )),
                None => failures.push(
                    "the uncompensated tool never reached the criterion: life used unknown".into(),
                ),
            }
        }
        Self {
            parts: looped.parts.len(),
            criterion_mm: params.criterion_mm,
            out_of_tolerance_without_loop: plain.out_of_tolerance(),
            out_of_tolerance_with_loop: looped.out_of_tolerance(),
            max_abs_error_without_loop_mm: plain.max_abs_error_mm(),
            max_abs_error_with_loop_mm: looped.max_abs_error_mm(),
            tool_life_s,
            tool_changes,
            max_true_vb_with_loop_mm: max_true_vb,
            estimate_rmse_um: accuracy.map(|a| a.0),
            interval_coverage: accuracy.map(|a| a.1),
            passed: failures.is_empty(),
            failures,
        }
    }

    /// One paragraph saying what was tested and how it came out.
    pub fn summary(&self) -> String {
        let verdict = if self.passed {
            "passed".to_string()
        } else {
            format!("failed: {}", self.failures.join("; "))
        };
        format!(
            "{} parts: {} out of tolerance without the loop, {} with it; {} planned tool \
             change(s) before VB {} mm, each required to use ≥ {:.0} % of the tool's life; {verdict}",
            self.parts,
            self.out_of_tolerance_without_loop,
            self.out_of_tolerance_with_loop,
            self.tool_changes.len(),
            self.criterion_mm,
            100.0 * MIN_LIFE_USED
        )
    }
}
