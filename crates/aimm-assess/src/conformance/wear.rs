//! The wear loop's conformance run on the simulator: one tool makes a long series of parts and
//! wears from part to part; between parts the loop's [`WearRunner`] estimates the wear from the
//! tool's own spindle load and power and writes the offset into the NC program for the next part
//! (or plans a tool change). The same series without the loop, on the same seed, is the
//! comparison; the model is trained through the same pipeline as recorded data, on simulated tool
//! lives. With a [`WearRecorder`] every part, the model and each decision go into the store and its
//! ledger.

use aimm_connect::simulator::part::{record_part, PartSpec};
use aimm_connect::wear_csv::write_wear_csv;
use aimm_connect::{run_unrecorded, ConnectError};
use aimm_ledger::Citation;
use aimm_loops::wear::{
    signal_names, Decision, Observation, PartMade, PartRecord, RecordedModel, Series, ToolRetired,
    WearLoopError, WearLoopParams, WearModel, WearRecorder, WearRunner, WearTrainConfig,
    WearValidation, WEAR_SIGNALS,
};
use aimm_model::{MachineSpec, MachineState, Material, SignalKind, ToolSpec, WearRun};
use aimm_sim::gcode::parse;
use aimm_sim::setup::prepare;
use aimm_sim::{scatter, PartResult, SimConfig, Simulator};
use aimm_store::{RunObserver, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Why a trial could not run.
#[derive(Debug, thiserror::Error)]
pub enum WearTrialError {
    /// The program does not parse.
    #[error(transparent)]
    Program(#[from] aimm_sim::gcode::ParseError),
    /// The simulator stopped.
    #[error(transparent)]
    Sim(#[from] aimm_sim::SimError),
    /// The simulator could not be set up for the program.
    #[error("{program}: {message}")]
    Setup {
        /// The program's name.
        program: String,
        /// What was wrong.
        message: String,
    },
    /// A recorded part failed.
    #[error(transparent)]
    Record(#[from] ConnectError),
    /// The loop failed.
    #[error(transparent)]
    Loop(#[from] WearLoopError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] aimm_store::StoreError),
    /// The tool seeds of a trial are unusable (named in the message).
    #[error("wear trial seeds: {0}")]
    Seeds(String),
}

/// One row per part cut with the loop's tool, as a tool-monitoring system keeps a cycle's
/// summary: its mean spindle load and power while cutting, and the true wear over the same
/// cutting (its mean: the wear the load saw; the microscope's reading, for training only, never
/// read by the model). Per part, not per second:
/// a part's load follows its cuts (roughing high, finishing low), so rows or windows that do not
/// end with the part mix a varying share of the next part's first cut into their level, a
/// swing of a few per cent from one window to the next that buries the wear's rise.
pub struct CuttingLog {
    tool: u32,
    /// Cutting time of the tool so far, s.
    cut_s: f64,
    sums: [f64; 2],
    vb_sum: f64,
    count: u32,
    /// The rows so far, as a wear data set holds them.
    pub rows: WearRun,
}

impl CuttingLog {
    /// A log of `tool` continuing after `cut_s` seconds of cutting (a fresh tool: 0).
    pub fn new(tool: u32, run: &str, cut_s: f64, rows: Option<WearRun>) -> Self {
        Self {
            tool,
            cut_s,
            sums: [0.0; 2],
            vb_sum: 0.0,
            count: 0,
            rows: rows.unwrap_or_else(|| WearRun {
                run: run.into(),
                group: None,
                time_s: Vec::new(),
                wear_mm: Vec::new(),
                signals: vec![Vec::new(); WEAR_SIGNALS.len()],
            }),
        }
    }

    /// Cutting time of the tool so far, s.
    pub fn cutting_s(&self) -> f64 {
        self.cut_s
    }

    /// Ends the part: its row (none if the tool did not cut).
    fn end_part(&mut self) {
        if self.count == 0 {
            return;
        }
        self.rows.time_s.push(self.cut_s);
        self.rows.wear_mm.push(self.vb_sum / f64::from(self.count));
        self.vb_sum = 0.0;
        for (j, s) in self.sums.iter().enumerate() {
            self.rows.signals[j].push(s / f64::from(self.count));
        }
        self.sums = [0.0; 2];
        self.count = 0;
    }
}

impl<'s> RunObserver<Simulator<'s>> for CuttingLog {
    fn after_step(&mut self, sim: &mut Simulator<'s>) {
        let cutting = sim.latest(SignalKind::MachineState) == MachineState::Cutting.code();
        if !cutting || sim.latest(SignalKind::ToolNumber) != f64::from(self.tool) {
            return;
        }
        self.cut_s += 1.0 / 500.0;
        self.sums[0] += sim.latest(SignalKind::SpindleLoadPct);
        self.sums[1] += sim.latest(SignalKind::SpindlePowerKw);
        self.vb_sum += sim.tool_wear_vb_mm(self.tool);
        self.count += 1;
    }
}

/// The tool in the machine between parts: its seed, whether its life and its blanks scatter
/// ([`aimm_sim::scatter`]; else every tool and batch is nominal), true wear (the simulator's
/// state), cutting time and log so far.
struct ToolState {
    seed: u64,
    scattered: bool,
    vb_mm: f64,
    cut_s: f64,
    rows: Option<WearRun>,
}

impl ToolState {
    fn new(seed: u64, scattered: bool) -> Self {
        Self {
            seed,
            scattered,
            vb_mm: 0.0,
            cut_s: 0.0,
            rows: None,
        }
    }
}

/// Seed of the `n`-th tool (from 0) of the series seeded `seed`: the first is `seed` itself, the
/// next ones lie above 2³² so that they never meet the small seeds of training lives.
pub fn tool_seed(seed: u64, n: u64) -> u64 {
    seed.wrapping_add(n << 32)
}

/// Makes part `part` (from 1) of the series seeded `seed` with the program `text` and the loop's
/// tool in `tool` (updated to after the part), recorded when `recorder` is given. The part's
/// sensor noise and its batch of blanks follow from `seed` and `part`; the tool's life from
/// its own seed (when they scatter).
#[allow(clippy::too_many_arguments)]
fn make_part(
    name: &str,
    text: &str,
    material: Material,
    seed: u64,
    part: u32,
    params: &WearLoopParams,
    tool: &mut ToolState,
    recorder: Option<&mut WearRecorder<'_>>,
) -> Result<(PartResult, CuttingLog, Option<PartMade>), WearTrialError> {
    let program = parse(name, text)?;
    let machine = recorder
        .as_ref()
        .map_or_else(|| MachineSpec::vmc("wear"), |r| r.machine().clone());
    let mut config = SimConfig::new(machine.clone(), material, seed * 1000 + u64::from(part));
    if tool.scattered {
        config.batch = scatter::batch_hardness(
            (seed << 20).wrapping_add(u64::from((part - 1) / scatter::PARTS_PER_BATCH)),
        );
    }
    if let Some(r) = &recorder {
        config.start_ns = r.next_start_ns();
    }
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).map_err(|e| {
        WearTrialError::Setup {
            program: name.to_string(),
            message: e.to_string(),
        }
    })?;
    let mut sim = Simulator::new(&program, tools, config)?;
    sim.set_tool_wear_vb_mm(params.tool, tool.vb_mm);
    if tool.scattered {
        sim.set_tool_life_factor(params.tool, scatter::tool_life_factor(tool.seed))?;
    }
    let run = format!("{name}#{}", tool.seed);
    let mut log = CuttingLog::new(params.tool, &run, tool.cut_s, tool.rows.take());
    let (result, made) = match recorder {
        Some(r) => {
            // Each compensated version is its own program row; its ledger record is the loop's.
            let program = r.store().put_program(name, text)?.id;
            let spec = PartSpec {
                machine: &machine,
                program,
                material,
                seed,
                params_json: serde_json::json!({ "part": part, "wear_loop": r.has_model() }),
            };
            let recorded = record_part(&mut sim, r.store(), &spec, &mut log)?;
            let made = r.part_made(recorded.run, recorded.t_end_ns, &recorded.segments)?;
            (recorded.result, Some(made))
        }
        None => (run_unrecorded(&mut sim, &mut log)?, None),
    };
    tool.vb_mm = sim.tool_wear_vb_mm(params.tool);
    log.end_part();
    tool.cut_s = log.cutting_s();
    Ok((result, log, made))
}

/// How the parts of a series are compensated and their tools changed.
#[derive(Clone, Copy)]
pub enum Practice<'m> {
    /// The program as written; the tool stays in.
    Uncompensated,
    /// The wear loop on this model (trained on sensor signals, or on none: cutting time alone):
    /// offsets from its estimate, tool changes from its remaining-life interval.
    Loop(&'m WearModel),
    /// Offsets from the wear measured after each part (as when tool lives are recorded for
    /// training); the tool stays in.
    MeasuredOffsets,
    /// Offsets from the nominal wear curve: this time-only model's prior at the tool's cutting
    /// time half-way through the next part; the tool stays in (a fixed count changes it).
    NominalOffsets(&'m WearModel),
}

/// A series in progress: the program, the tool in the machine and the offsets in its program.
struct SeriesRun<'a, 'm> {
    program: (&'a str, &'a str),
    material: Material,
    seed: u64,
    params: &'a WearLoopParams,
    practice: Practice<'m>,
    runner: WearRunner,
    tool: ToolState,
    tools_used: u64,
    scattered: bool,
    new_tool: bool,
    retired: Vec<ToolRetired>,
}

impl<'a, 'm> SeriesRun<'a, 'm> {
    fn new(
        program: (&'a str, &'a str),
        material: Material,
        seed: u64,
        practice: Practice<'m>,
        params: &'a WearLoopParams,
        scattered: bool,
    ) -> Result<Self, WearTrialError> {
        if let Practice::NominalOffsets(m) = practice {
            if !m.signal_names.is_empty() {
                return Err(WearTrialError::Loop(WearLoopError::Setup(
                    "the nominal wear curve is a model on cutting time alone (no signals)",
                )));
            }
        }
        Ok(Self {
            program,
            material,
            seed,
            params,
            practice,
            runner: WearRunner::new(params),
            tool: ToolState::new(tool_seed(seed, 0), scattered),
            tools_used: 1,
            scattered,
            new_tool: false,
            retired: Vec::new(),
        })
    }

    /// Makes part `part` and decides what the next one runs with; `true` when the tool was
    /// changed after it, and what was recorded of the part (with `recorder`).
    fn next_part(
        &mut self,
        part: u32,
        mut recorder: Option<&mut WearRecorder<'_>>,
    ) -> Result<(PartRecord, bool, Option<PartMade>), WearTrialError> {
        let (name, text) = self.program;
        let edited = match self.practice {
            Practice::Uncompensated => text.to_string(),
            _ => self.runner.program(text).map_err(WearLoopError::from)?,
        };
        let cut_before_s = self.tool.cut_s;
        let (result, log, made) = make_part(
            name,
            &edited,
            self.material,
            self.seed,
            part,
            self.params,
            &mut self.tool,
            recorder.as_deref_mut(),
        )?;
        let part_cut_s = self.tool.cut_s - cut_before_s;
        let mut record = PartRecord {
            part,
            offset_mm: self.runner.offset_mm(),
            new_tool: std::mem::take(&mut self.new_tool),
            feature: result.reference_feature.clone(),
            true_vb_mm: self.tool.vb_mm,
            tool_cutting_s: self.tool.cut_s,
            estimated_vb_mm: None,
            estimated_interval_mm: None,
            decision: None,
        };
        let log = self.tool.rows.insert(log.rows);
        let model = match self.practice {
            Practice::Uncompensated => return Ok((record, false, made)),
            Practice::MeasuredOffsets => {
                let tan = self.params.clearance_deg.to_radians().tan();
                self.runner
                    .compensate(0, -self.tool.vb_mm * tan, "measured wear")?;
                return Ok((record, false, made));
            }
            Practice::NominalOffsets(curve) => {
                let t = self.tool.cut_s + part_cut_s / 2.0;
                let vb = curve.prior.wear_mm(&[t]);
                let tan = self.params.clearance_deg.to_radians().tan();
                self.runner.compensate(0, -vb * tan, "nominal wear curve")?;
                return Ok((record, false, made));
            }
            Practice::Loop(model) => model,
        };
        let evidence = match (recorder, &made) {
            (Some(r), Some(made)) => Some((r, made, (name, text))),
            _ => None,
        };
        let mut changed = false;
        if let Some((p, decision)) = self
            .runner
            .after_part(model, log, part_cut_s, part, evidence)?
        {
            let e = &p.estimate;
            record.estimated_vb_mm = Some(e.wear_mm);
            record.estimated_interval_mm = Some((e.lo_mm, e.hi_mm));
            if let Decision::ToolChange { .. } = decision {
                self.retired.push(ToolRetired {
                    cutting_s: self.tool.cut_s,
                    true_vb_mm: self.tool.vb_mm,
                });
                self.tool = ToolState::new(tool_seed(self.seed, self.tools_used), self.scattered);
                self.tools_used += 1;
                self.new_tool = true;
                changed = true;
            }
            record.decision = Some(decision);
        }
        Ok((record, changed, made))
    }
}

/// Makes `parts` parts of `program` (name, text) in `material` from tools that wear from part to
/// part, the first seeded `seed`, compensated and changed by `practice`. With `recorder`, every
/// part and (with the loop) every decision is recorded.
pub fn run_series(
    program: (&str, &str),
    material: Material,
    seed: u64,
    parts: u32,
    practice: Practice<'_>,
    params: &WearLoopParams,
    mut recorder: Option<&mut WearRecorder<'_>>,
) -> Result<Series, WearTrialError> {
    let mut run = SeriesRun::new(program, material, seed, practice, params, false)?;
    let mut made = Vec::new();
    for part in 1..=parts {
        made.push(run.next_part(part, recorder.as_deref_mut())?.0);
    }
    Ok(Series {
        parts: made,
        retired: run.retired,
        last_log: run.tool.rows,
    })
}

/// One tool (seed `seed`; its life and its blanks scatter) under `practice`, from new until the loop changes it, `stop` says so
/// after a part, or its wear reaches `limit_mm` (or its edge fails): the parts it made, with a
/// log of the tool's life. `limit_mm` must lie below the wear at which the edge fails.
pub fn run_tool(
    program: (&str, &str),
    material: Material,
    seed: u64,
    practice: Practice<'_>,
    params: &WearLoopParams,
    limit_mm: f64,
    stop: impl FnMut(&PartRecord) -> bool,
) -> Result<Series, WearTrialError> {
    let run = SeriesRun::new(program, material, seed, practice, params, true)?;
    Ok(until_tool_out(run, limit_mm, None, stop)?.0)
}

/// Makes the parts of `run`'s first tool until the tool is changed, `stop` says so after a part,
/// or its wear reaches `limit_mm`: the series, and the wear segments recorded with `recorder`.
fn until_tool_out(
    mut run: SeriesRun<'_, '_>,
    limit_mm: f64,
    mut recorder: Option<&mut WearRecorder<'_>>,
    mut stop: impl FnMut(&PartRecord) -> bool,
) -> Result<(Series, Vec<Citation>), WearTrialError> {
    let mut made = Vec::new();
    let mut segments = Vec::new();
    for part in 1.. {
        let (record, changed, recorded) = run.next_part(part, recorder.as_deref_mut())?;
        segments.extend(recorded.into_iter().flat_map(|m| m.wear_segments));
        let end = changed || stop(&record) || record.true_vb_mm >= limit_mm;
        made.push(record);
        if end {
            break;
        }
    }
    let series = Series {
        parts: made,
        retired: run.retired,
        last_log: run.tool.rows,
    };
    Ok((series, segments))
}

/// A wear model trained, through the same pipeline as recorded data, on simulated tool lives.
pub struct SimulatedTraining {
    /// The trained model.
    pub model: WearModel,
    /// The lives it was trained on (one per seed), as a wear CSV would hold them.
    pub lives: Vec<WearRun>,
    /// With a recorder: the `sensor_segment` records of the signals the model reads.
    pub segments: Vec<Citation>,
}

/// Trains a wear model on the simulated lives (to VB 1.1 × the criterion) of one tool per seed
/// on `program`, tools and blanks nominal or `scattered`; with `recorder`, the lives are recorded
/// as runs of its machine.
pub fn train_on_simulated_lives(
    program: (&str, &str),
    material: Material,
    seeds: &[u64],
    scattered: bool,
    params: &WearLoopParams,
    mut recorder: Option<&mut WearRecorder<'_>>,
) -> Result<SimulatedTraining, WearTrialError> {
    let mut lives = Vec::new();
    let mut segments = Vec::new();
    for &seed in seeds {
        let (life, cites) = tool_life_log(
            program,
            material,
            seed,
            (1.1 * params.criterion_mm, 500),
            scattered,
            params,
            recorder.as_deref_mut(),
        )?;
        lives.push(life);
        segments.extend(cites);
    }
    let runs: Vec<&WearRun> = lives.iter().collect();
    let config = part_program_config(program, material, params)?;
    let model = WearModel::train(&runs, &signal_names(), &config).map_err(WearLoopError::from)?;
    Ok(SimulatedTraining {
        model,
        lives,
        segments,
    })
}

/// Training settings for a tool that cuts `program` part after part: each window holds one part's
/// row of the [`CuttingLog`], so that every window holds the same cuts and a signal's level moves
/// only with the tool and the stock; and the sensors read the wear directly ([`Observation::SensorState`]),
/// which carries to tools that wear faster or slower than any trained on.
pub fn part_program_config(
    program: (&str, &str),
    material: Material,
    params: &WearLoopParams,
) -> Result<WearTrainConfig, WearTrialError> {
    let first = run_tool(
        program,
        material,
        0,
        Practice::Uncompensated,
        params,
        0.0,
        |_| true,
    )?;
    // Half a part, so that each part's row (parts differ by a few tens of ms) is a window of its
    // own; to 10 ms, so that `aimm wear train --window-s` can state it.
    let half_part_s = (first.parts[0].tool_cutting_s * 50.0).round() / 100.0;
    let mut config = WearTrainConfig::default();
    config.window.window_s = half_part_s;
    config.observation = Observation::SensorState;
    Ok(config)
}

/// A tool's whole life on `program`, compensated by its measured wear, until its true wear
/// reaches `until.0` mm (at most `until.1` parts), nominal or `scattered`: training data for the
/// model, with the citations of the recorded segments of the signals it reads.
pub fn tool_life_log(
    program: (&str, &str),
    material: Material,
    seed: u64,
    until: (f64, u32),
    scattered: bool,
    params: &WearLoopParams,
    recorder: Option<&mut WearRecorder<'_>>,
) -> Result<(WearRun, Vec<Citation>), WearTrialError> {
    // Compensated by the wear measured after each part, as the plant that measured these lives
    // would have: an uncompensated tool cuts ever less of the finishing stock, so it would load
    // the spindle and wear unlike the tool the loop keeps on size.
    let run = SeriesRun::new(
        program,
        material,
        seed,
        Practice::MeasuredOffsets,
        params,
        scattered,
    )?;
    let (series, cites) = until_tool_out(run, until.0, recorder, |p| p.part >= until.1)?;
    Ok((series.last_log.expect("at least one part"), cites))
}
/// What a trial runs.
#[derive(Clone, Debug)]
pub struct TrialSpec {
    /// NC program (name, text) with a reference feature cut under cutter compensation.
    pub program: (String, String),
    /// Workpiece material.
    pub material: Material,
    /// Parts in each series.
    pub parts: u32,
    /// Seed of the series' sensor noise.
    pub seed: u64,
    /// Seeds of the simulated tool lives the model is trained on.
    pub train_seeds: Vec<u64>,
    /// Machine the looped series is recorded on; the training lives go on `<machine>-lives`.
    pub machine: String,
    /// The loop's settings.
    pub params: WearLoopParams,
}

/// What a recorded trial left in the ledger.
#[derive(Clone, Debug, Serialize)]
pub struct TrialEvidence {
    /// The model version the decisions cite.
    pub model: RecordedModel,
    /// The latest program version the loop wrote.
    pub last_program: Option<Citation>,
    /// The tool-change plans recorded.
    pub tool_change_plans: Vec<Citation>,
    /// The `validation_report` record.
    pub report: Citation,
}

/// A trial's outcome.
pub struct Trial {
    /// The model and its training lives.
    pub training: SimulatedTraining,
    /// The series without the loop.
    pub plain: Series,
    /// The series with the loop.
    pub looped: Series,
    /// The loop's validation figures and verdict.
    pub validation: WearValidation,
    /// What the trial recorded, with a store.
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
) -> Result<Trial, WearTrialError> {
    let program = (spec.program.0.as_str(), spec.program.1.as_str());
    let (material, params) = (spec.material, &spec.params);
    progress("training the wear model on simulated tool lives");
    let (training, model) = {
        let lab = format!("{}-lives", spec.machine);
        let mut recorder = store
            .as_deref_mut()
            .map(|s| WearRecorder::new(s, &lab))
            .transpose()?;
        let training = train_on_simulated_lives(
            program,
            material,
            &spec.train_seeds,
            false,
            params,
            recorder.as_mut(),
        )?;
        let model = recorder
            .as_mut()
            .map(|r| {
                let digest = dataset_sha256(&training.lives);
                r.record_model(
                    &training.model,
                    &training.lives,
                    &digest,
                    training.segments.clone(),
                )
            })
            .transpose()?;
        (training, model)
    };
    progress("making the series without and with the loop");
    let plain = run_series(
        program,
        material,
        spec.seed,
        spec.parts,
        Practice::Uncompensated,
        params,
        None,
    )?;
    let mut recorder = store
        .map(|s| WearRecorder::new(s, &spec.machine))
        .transpose()?;
    if let (Some(r), Some(m)) = (recorder.as_mut(), &model) {
        r.use_model(m.clone());
    }
    let looped = run_series(
        program,
        material,
        spec.seed,
        spec.parts,
        Practice::Loop(&training.model),
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

/// SHA-256 of `lives` as a wear CSV of the signals the model reads: the name of the training
/// data in the model's record (`aimm wear train` on that file gives the same model digest).
pub fn dataset_sha256(lives: &[WearRun]) -> String {
    let lives: Vec<_> = lives.iter().collect();
    let csv = write_wear_csv(&lives, &signal_names());
    hex::encode(Sha256::digest(csv.as_bytes()))
}
