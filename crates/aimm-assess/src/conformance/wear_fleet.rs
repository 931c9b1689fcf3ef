//! The wear loop over many tools of scattered life (the simulator draws each tool's life and each
//! batch of blanks from its seed), against what plants do without it, on the same tools:
//! (a) a fixed number of parts per tool, the largest at which no part of any tested tool goes out
//! of tolerance (chosen in hindsight: the most a plant's experience could give), with offsets from
//! the nominal wear curve; (b) the same loop on cutting time alone (a model trained through the
//! same pipeline with no signals); (c) no compensation, each tool used to the wear criterion.
//!
//! The models train on their own tool lives; the plan margin of the loop and of (b) is found by
//! the same search on other, calibration, tools (the smallest margin at which every calibration
//! tool is changed before the criterion); the tested tools are a third set. Every part of every
//! practice is made on the simulator.

use super::wear::{run_tool, train_on_simulated_lives, Practice, WearTrialError};
use aimm_loops::wear::policy::{decide, predict, Plan};
use aimm_loops::wear::{
    FleetValidation, PartRecord, PracticeFigures, Series, ToolOutcome, WearLoopError,
    WearLoopParams, WearModel, WearTrainConfig,
};
use aimm_model::{Material, WearRun};

/// Plan margins the search tries, smallest first (share of the wear criterion).
pub const PLAN_MARGINS: [f64; 10] = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5];

/// What a fleet trial runs.
#[derive(Clone, Debug)]
pub struct FleetSpec {
    /// NC program (name, text) with a reference feature cut under cutter compensation.
    pub program: (String, String),
    /// Workpiece material.
    pub material: Material,
    /// Seeds of the tool lives the models are trained on.
    pub train_seeds: Vec<u64>,
    /// Seeds of the tools the plan margins are searched on.
    pub calibration_seeds: Vec<u64>,
    /// Seeds of the tools tested.
    pub test_seeds: Vec<u64>,
    /// The loop's settings (its plan margin is searched).
    pub params: WearLoopParams,
}

/// A fleet trial's outcome.
pub struct FleetTrial {
    /// The wear loop's model (spindle load and power).
    pub model: WearModel,
    /// The model on cutting time alone, trained on the same lives.
    pub time_only_model: WearModel,
    /// The figures of every practice and the verdict.
    pub validation: FleetValidation,
}

/// Runs the fleet trial of `spec`; `progress` hears each stage.
pub fn run_fleet(
    spec: &FleetSpec,
    mut progress: impl FnMut(&str),
) -> Result<FleetTrial, WearTrialError> {
    check_disjoint(spec)?;
    let program = (spec.program.0.as_str(), spec.program.1.as_str());
    let (material, params) = (spec.material, &spec.params);
    let criterion = params.criterion_mm;
    progress("training the wear models on simulated tool lives");
    let training =
        train_on_simulated_lives(program, material, &spec.train_seeds, true, params, None)?;
    let time_only_model = train_time_only(&training.lives, &training.model.config)?;
    let model = training.model;

    progress("searching the plan margins on the calibration tools");
    let mut calibration = Vec::new();
    for &seed in &spec.calibration_seeds {
        // Kept on size by its measured wear, as the loop keeps its tools: an uncompensated tool
        // cuts less and wears slower.
        let life = run_tool(
            program,
            material,
            seed,
            Practice::MeasuredOffsets,
            params,
            1.1 * criterion,
            |_| false,
        )?;
        calibration.push(life);
    }
    let loop_margin = search_margin(&model, &calibration, params)?;
    let time_margin = search_margin(&time_only_model, &calibration, params)?;
    let with_margin = |plan_margin| WearLoopParams {
        plan_margin,
        ..params.clone()
    };
    let (loop_params, time_params) = (with_margin(loop_margin), with_margin(time_margin));

    let mut outcomes: [Vec<ToolOutcome>; 3] = Default::default();
    let mut fixed_runs = Vec::new();
    let mut fixed_count = usize::MAX;
    for (i, &seed) in spec.test_seeds.iter().enumerate() {
        progress(&format!(
            "tool {} of {} (seed {seed})",
            i + 1,
            spec.test_seeds.len()
        ));
        let plain = run_tool(
            program,
            material,
            seed,
            Practice::Uncompensated,
            params,
            criterion,
            |_| false,
        )?;
        let life_s = plain.life_s(criterion);
        outcomes[0].push(outcome(seed, &plain.parts, life_s));
        for (k, (m, p)) in [(&model, &loop_params), (&time_only_model, &time_params)]
            .into_iter()
            .enumerate()
        {
            let series = run_tool(
                program,
                material,
                seed,
                Practice::Loop(m),
                p,
                1.1 * criterion,
                |_| false,
            )?;
            outcomes[k + 1].push(outcome(seed, &series.parts, life_s));
        }
        // (a): until the first part out of tolerance or at the criterion; the count is the
        // least over the tools of the parts before it, so no tool need go further than that.
        let cap = fixed_count.saturating_add(1);
        let series = run_tool(
            program,
            material,
            seed,
            Practice::NominalOffsets(&time_only_model),
            params,
            criterion,
            |p| !in_tolerance(p) || p.part as usize >= cap,
        )?;
        let good = series
            .parts
            .iter()
            .take_while(|p| in_tolerance(p) && p.true_vb_mm < criterion)
            .count();
        fixed_count = fixed_count.min(good);
        fixed_runs.push((seed, series, life_s));
    }
    let fixed = fixed_runs
        .iter()
        .map(|(seed, s, life)| outcome(*seed, &s.parts[..fixed_count], *life))
        .collect();
    let [plain, looped, time_only] = outcomes;
    let validation = FleetValidation::judge(
        criterion,
        (
            PracticeFigures::of("wear loop (spindle load and power)", looped, criterion),
            loop_margin,
        ),
        (
            PracticeFigures::of(
                "(a) fixed parts per tool, nominal-curve offsets",
                fixed,
                criterion,
            ),
            fixed_count,
        ),
        (
            PracticeFigures::of("(b) loop on cutting time alone", time_only, criterion),
            time_margin,
        ),
        PracticeFigures::of(
            "(c) no compensation, tool to the criterion",
            plain,
            criterion,
        ),
    );
    Ok(FleetTrial {
        model,
        time_only_model,
        validation,
    })
}

fn in_tolerance(p: &PartRecord) -> bool {
    p.feature.as_ref().is_none_or(|f| f.in_tolerance)
}

/// What the tool `seed` did in `parts` (the parts it made, in order).
fn outcome(seed: u64, parts: &[PartRecord], life_s: Option<f64>) -> ToolOutcome {
    let last = parts.last();
    ToolOutcome {
        tool_seed: seed,
        parts: parts.len(),
        out_of_tolerance: parts.iter().filter(|p| !in_tolerance(p)).count(),
        cutting_s: last.map_or(0.0, |p| p.tool_cutting_s),
        true_vb_mm: last.map_or(0.0, |p| p.true_vb_mm),
        life_s,
    }
}

/// The wear model on cutting time alone: the same pipeline, with the same settings (`config`),
/// on the same lives with no signals.
pub fn train_time_only(
    lives: &[WearRun],
    config: &WearTrainConfig,
) -> Result<WearModel, WearTrialError> {
    let bare: Vec<WearRun> = lives
        .iter()
        .map(|l| WearRun {
            signals: Vec::new(),
            ..l.clone()
        })
        .collect();
    let runs: Vec<&WearRun> = bare.iter().collect();
    Ok(WearModel::train(&runs, &[], config).map_err(WearLoopError::from)?)
}

/// The smallest of [`PLAN_MARGINS`] at which the policy on `model` changes every calibration tool
/// (uncompensated lives) before a part ends at or past the criterion; the largest if none does.
fn search_margin(
    model: &WearModel,
    lives: &[Series],
    params: &WearLoopParams,
) -> Result<f64, WearTrialError> {
    for margin in PLAN_MARGINS {
        let p = WearLoopParams {
            plan_margin: margin,
            ..params.clone()
        };
        let mut all_in_time = true;
        for life in lives {
            if !changed_in_time(model, life, &p)? {
                all_in_time = false;
                break;
            }
        }
        if all_in_time {
            return Ok(margin);
        }
    }
    Ok(PLAN_MARGINS[PLAN_MARGINS.len() - 1])
}

/// Whether the policy, fed the log of `life` part by part, plans a change before the first part
/// that ends at or past the criterion.
fn changed_in_time(
    model: &WearModel,
    life: &Series,
    params: &WearLoopParams,
) -> Result<bool, WearTrialError> {
    let log = life
        .last_log
        .as_ref()
        .ok_or(WearLoopError::Setup("a calibration life has no log"))?;
    let mut cut_before_s = 0.0;
    for part in &life.parts {
        if part.true_vb_mm >= params.criterion_mm {
            return Ok(false);
        }
        let rows = log.time_s.partition_point(|t| *t <= part.tool_cutting_s);
        let prefix = WearRun {
            run: log.run.clone(),
            group: None,
            time_s: log.time_s[..rows].to_vec(),
            wear_mm: log.wear_mm[..rows].to_vec(),
            signals: log.signals.iter().map(|s| s[..rows].to_vec()).collect(),
        };
        let part_cut_s = part.tool_cutting_s - cut_before_s;
        cut_before_s = part.tool_cutting_s;
        let Some(prediction) =
            predict(model, &prefix, part_cut_s, params).map_err(WearLoopError::from)?
        else {
            continue;
        };
        if let Plan::ChangeTool { .. } = decide(&prediction, part_cut_s, params) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The three sets of seeds must not meet: a tool tested is neither trained on nor calibrated on.
fn check_disjoint(spec: &FleetSpec) -> Result<(), WearTrialError> {
    let sets = [
        ("training", &spec.train_seeds),
        ("calibration", &spec.calibration_seeds),
        ("test", &spec.test_seeds),
    ];
    for (i, (a, xs)) in sets.iter().enumerate() {
        if xs.is_empty() {
            return Err(WearTrialError::Seeds(format!("no {a} seeds")));
        }
        for (b, ys) in &sets[i + 1..] {
            if let Some(s) = xs.iter().find(|s| ys.contains(s)) {
                return Err(WearTrialError::Seeds(format!(
                    "seed {s} is both a {a} and a {b} seed"
                )));
            }
        }
    }
    Ok(())
}
