//! The tool-wear loop on a machine: between parts, the wear model estimates the tool's flank wear
//! from its own spindle load and power, the radius wear offset that wear calls for is written into
//! the NC program for the next part (through the safety guard, like any command), and a tool
//! change is planned before the next part when the remaining life will not cover it (rather than
//! after the criterion is crossed). With a [`WearRecorder`] every part, the model and each
//! decision go into the store and its ledger.

use crate::guard::{Guard, SafeBounds};
use crate::nc_offsets::{NcEditError, OffsetDialect, ProgramOffsets};
use crate::wear::{RemainingLife, WearEstimate, WearModel, WearModelError, WearTrainConfig};
use crate::wear_evidence::{PartMade, WearRecorder};
use aimm_connect::wear_csv::WearRun;
use aimm_connect::{run_unrecorded, ConnectError, RunObserver};
use aimm_ledger::Citation;
use aimm_model::{ActuatorError, MachineSpec, MachineState, Material, SignalKind, ToolSpec};
use aimm_sim::gcode::parse;
use aimm_sim::setup::prepare;
use aimm_sim::{FeatureResult, SimConfig, Simulator};
use aimm_store::StoreError;
use serde::Serialize;

/// The signals the wear model reads, in the order of [`WearRun::signals`].
pub const WEAR_SIGNALS: [&str; 2] = ["spindle_load_pct", "spindle_power_kw"];

/// The loop's settings.
#[derive(Clone, Debug)]
pub struct WearLoopParams {
    /// Tool (and D register) the loop looks after.
    pub tool: u32,
    /// Flank clearance angle of the tool, degrees: radial wear = VB · tan α.
    pub clearance_deg: f64,
    /// Wear criterion that ends a tool's life, mm (ISO 8688-2: 0.3).
    pub criterion_mm: f64,
    /// Tool changes are planned against the criterion less this share of it: near the end of
    /// life wear accelerates faster than the estimate follows (≈ 20 µm behind at VB 0.3 on the
    /// simulator), and crossing the criterion is what planning is for.
    pub plan_margin: f64,
    /// Size and step limits of the offsets the loop writes (the guard's radius-offset bounds).
    pub bounds: SafeBounds,
    pub dialect: OffsetDialect,
}

impl Default for WearLoopParams {
    fn default() -> Self {
        Self {
            tool: 1,
            clearance_deg: 10.0,
            criterion_mm: 0.3,
            plan_margin: 0.1,
            bounds: SafeBounds {
                max_radius_offset_mm: 0.1,
                max_radius_offset_step_mm: 0.02,
                ..SafeBounds::default()
            },
            dialect: OffsetDialect::FanucL13,
        }
    }
}

/// One row per second of cutting with the loop's tool: mean spindle load and power while cutting,
/// and the true wear (the microscope's reading; training data only, never read by the model).
pub struct CuttingLog {
    tool: u32,
    /// Cutting time of the tool before this run, s.
    cut_s: f64,
    next_row_s: f64,
    sums: [f64; 2],
    count: u32,
    pub rows: WearRun,
}

impl CuttingLog {
    /// A log of `tool` continuing after `cut_s` seconds of cutting (a fresh tool: 0).
    pub fn new(tool: u32, run: &str, cut_s: f64, rows: Option<WearRun>) -> Self {
        Self {
            tool,
            cut_s,
            next_row_s: cut_s.floor() + 1.0,
            sums: [0.0; 2],
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

    pub fn cutting_s(&self) -> f64 {
        self.cut_s
    }
}

impl RunObserver for CuttingLog {
    fn after_step(&mut self, sim: &mut Simulator<'_>) {
        let cutting = sim.latest(SignalKind::MachineState) == MachineState::Cutting.code();
        if !cutting || sim.latest(SignalKind::ToolNumber) != f64::from(self.tool) {
            return;
        }
        self.cut_s += 1.0 / 500.0;
        self.sums[0] += sim.latest(SignalKind::SpindleLoadPct);
        self.sums[1] += sim.latest(SignalKind::SpindlePowerKw);
        self.count += 1;
        if self.cut_s >= self.next_row_s {
            self.rows.time_s.push(self.cut_s);
            self.rows.wear_mm.push(sim.tool_wear_vb_mm(self.tool));
            for (j, s) in self.sums.iter().enumerate() {
                self.rows.signals[j].push(s / f64::from(self.count));
            }
            self.sums = [0.0; 2];
            self.count = 0;
            self.next_row_s += 1.0;
        }
    }
}

/// Why a series could not run.
#[derive(Debug, thiserror::Error)]
pub enum WearLoopError {
    #[error(transparent)]
    Program(#[from] aimm_sim::gcode::ParseError),
    #[error(transparent)]
    Sim(#[from] aimm_sim::SimError),
    #[error(transparent)]
    Model(#[from] WearModelError),
    #[error(transparent)]
    Edit(#[from] NcEditError),
    #[error(transparent)]
    Actuator(#[from] ActuatorError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Record(#[from] ConnectError),
    #[error("{0}")]
    Setup(String),
}

/// What the loop decided after a part.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// The next part's program carries this radius wear offset (what the guard let through of
    /// what the estimate asked for).
    Offset { requested_mm: f64, offset_mm: f64 },
    /// The tool will not last the next part: change it before.
    ToolChange {
        /// Short end of the remaining-life interval, s of cutting.
        remaining_life_lo_s: f64,
        /// Cutting time of one part, s.
        part_cutting_s: f64,
    },
}

/// The estimate a decision was taken on.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    pub estimate: WearEstimate,
    pub remaining_life: RemainingLife,
    /// Wear expected by the middle of the next part, mm.
    pub grown_mm: f64,
    /// Wear at which changes are planned: the criterion less the plan margin, mm.
    pub plan_at_mm: f64,
}

/// What happened to one part of a series.
#[derive(Clone, Debug, Serialize)]
pub struct PartRecord {
    pub part: u32,
    /// Radius wear offset the part's program carried, mm.
    pub offset_mm: f64,
    /// A new tool was put in before this part.
    pub new_tool: bool,
    pub feature: Option<FeatureResult>,
    /// True wear at the end of the part, mm.
    pub true_vb_mm: f64,
    /// The tool's cutting time at the end of the part, s.
    pub tool_cutting_s: f64,
    /// The model's estimate at the end of the part, mm.
    pub estimated_vb_mm: Option<f64>,
    /// The estimate's interval, mm.
    pub estimated_interval_mm: Option<(f64, f64)>,
    pub decision: Option<Decision>,
}

/// A tool taken out of the machine.
#[derive(Clone, Debug, Serialize)]
pub struct ToolRetired {
    /// Cutting time it did, s.
    pub cutting_s: f64,
    /// Its true wear when taken out, mm.
    pub true_vb_mm: f64,
}

/// A series of parts.
#[derive(Clone, Debug, Serialize)]
pub struct Series {
    pub parts: Vec<PartRecord>,
    pub retired: Vec<ToolRetired>,
    /// The log of the tool in the machine at the end.
    #[serde(skip)]
    pub last_log: Option<WearRun>,
}

/// The tool in the machine between parts: its true wear (the simulator's state), cutting time
/// and log so far.
struct ToolState {
    vb_mm: f64,
    cut_s: f64,
    rows: Option<WearRun>,
}

impl ToolState {
    fn new() -> Self {
        Self {
            vb_mm: 0.0,
            cut_s: 0.0,
            rows: None,
        }
    }
}

/// Makes part `part` of the program `text` with the loop's tool in `tool` (updated to after the
/// part), recorded when `recorder` is given.
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
) -> Result<(aimm_sim::PartResult, CuttingLog, Option<PartMade>), WearLoopError> {
    let program = parse(name, text)?;
    let machine = recorder
        .as_ref()
        .map_or_else(|| MachineSpec::vmc("wear"), |r| r.machine().clone());
    let mut config = SimConfig::new(machine, material, seed * 1000 + u64::from(part));
    if let Some(r) = &recorder {
        config.start_ns = r.next_start_ns();
    }
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config)
        .map_err(|e| WearLoopError::Setup(e.to_string()))?;
    let mut sim = Simulator::new(&program, tools, config)?;
    sim.set_tool_wear_vb_mm(params.tool, tool.vb_mm);
    let run = format!("{name}#{seed}");
    let mut log = CuttingLog::new(params.tool, &run, tool.cut_s, tool.rows.take());
    let (result, made) = match recorder {
        Some(r) => {
            let made = r.record_part(&mut sim, (name, text), seed, part, &mut log)?;
            (made.result.clone(), Some(made))
        }
        None => (run_unrecorded(&mut sim, &mut log)?, None),
    };
    tool.vb_mm = sim.tool_wear_vb_mm(params.tool);
    tool.cut_s = log.cutting_s();
    Ok((result, log, made))
}

/// The loop's decision after a part that took `part_cut_s` of cutting, from the tool's log.
fn decide(
    model: &WearModel,
    log: &WearRun,
    part_cut_s: f64,
    params: &WearLoopParams,
) -> Result<Option<Prediction>, WearLoopError> {
    let Some(estimate) = model.predict(log)?.pop() else {
        return Ok(None);
    };
    let plan_at_mm = params.criterion_mm * (1.0 - params.plan_margin);
    let remaining_life = model.remaining_life(&estimate, plan_at_mm);
    // The next part is cut, on average, half a part further into the wear curve.
    let grown_mm = model.growth_mm(&estimate, part_cut_s / 2.0);
    Ok(Some(Prediction {
        estimate,
        remaining_life,
        grown_mm,
        plan_at_mm,
    }))
}

/// Makes `parts` parts of `program` (name, text) in `material` with one tool that wears from part
/// to part. With `model`, the loop acts between parts; without it the program runs as written.
/// With `recorder`, every part and (with a model) every decision is recorded.
pub fn run_series(
    program: (&str, &str),
    material: Material,
    seed: u64,
    parts: u32,
    model: Option<&WearModel>,
    params: &WearLoopParams,
    mut recorder: Option<&mut WearRecorder<'_>>,
) -> Result<Series, WearLoopError> {
    let (name, text) = program;
    let mut series = Series {
        parts: Vec::new(),
        retired: Vec::new(),
        last_log: None,
    };
    let mut tool = ToolState::new();
    let mut guard = Guard::new(params.bounds);
    let mut nc = ProgramOffsets::default();
    nc.offsets.insert(params.tool, 0.0);
    let mut new_tool = false;
    for part in 1..=parts {
        let edited = match model {
            Some(_) => nc.apply(text, &params.dialect)?,
            None => text.to_string(),
        };
        let cut_before_s = tool.cut_s;
        let (result, log, made) = make_part(
            name,
            &edited,
            material,
            seed,
            part,
            params,
            &mut tool,
            recorder.as_deref_mut(),
        )?;
        let part_cut_s = tool.cut_s - cut_before_s;
        let mut record = PartRecord {
            part,
            offset_mm: nc.offsets.get(&params.tool).copied().unwrap_or(0.0),
            new_tool,
            feature: result.reference_feature.clone(),
            true_vb_mm: tool.vb_mm,
            tool_cutting_s: tool.cut_s,
            estimated_vb_mm: None,
            estimated_interval_mm: None,
            decision: None,
        };
        new_tool = false;
        tool.rows = Some(log.rows);
        let prediction = match model {
            Some(model) => decide(
                model,
                tool.rows.as_ref().expect("set above"),
                part_cut_s,
                params,
            )?,
            None => None,
        };
        if let Some(p) = prediction {
            let e = &p.estimate;
            record.estimated_vb_mm = Some(e.wear_mm);
            record.estimated_interval_mm = Some((e.lo_mm, e.hi_mm));
            let t_ns = made.as_ref().map_or(0, |m| m.t_end_ns);
            // Plan the change before a part the tool might not finish within its life: the
            // short end of the remaining-life interval, so the criterion is not crossed.
            let decision = match p.remaining_life.lo_s {
                Some(lo) if lo < part_cut_s => {
                    series.retired.push(ToolRetired {
                        cutting_s: tool.cut_s,
                        true_vb_mm: tool.vb_mm,
                    });
                    tool = ToolState::new();
                    new_tool = true;
                    guard.new_tool(params.tool);
                    guard.radius_wear_offset(&mut nc, t_ns, params.tool, 0.0, "new tool")?;
                    Decision::ToolChange {
                        remaining_life_lo_s: lo,
                        part_cutting_s: part_cut_s,
                    }
                }
                _ => {
                    let radial = (e.wear_mm + p.grown_mm) * params.clearance_deg.to_radians().tan();
                    let offset_mm = guard.radius_wear_offset(
                        &mut nc,
                        t_ns,
                        params.tool,
                        -radial,
                        "predicted flank wear",
                    )?;
                    Decision::Offset {
                        requested_mm: -radial,
                        offset_mm,
                    }
                }
            };
            if let (Some(r), Some(made)) = (recorder.as_deref_mut(), &made) {
                let next_text = nc.apply(text, &params.dialect)?;
                r.record_decision(made, (name, &next_text), params.tool, &p, &decision, part)?;
            }
            record.decision = Some(decision);
        }
        series.parts.push(record);
    }
    series.last_log = tool.rows;
    Ok(series)
}

impl Series {
    /// Parts whose reference feature is out of tolerance.
    pub fn out_of_tolerance(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| p.feature.as_ref().is_some_and(|f| !f.in_tolerance))
            .count()
    }

    /// Largest |mean error| of the reference feature over the parts, mm.
    pub fn max_abs_error_mm(&self) -> f64 {
        self.parts
            .iter()
            .filter_map(|p| p.feature.as_ref())
            .map(|f| f.mean_error_mm.abs())
            .fold(0.0, f64::max)
    }

    /// RMSE of the estimate against the true wear over the parts (µm) and the share of parts
    /// whose interval held the true wear; `None` without estimates.
    pub fn estimate_accuracy(&self) -> Option<(f64, f64)> {
        let pairs: Vec<(f64, (f64, f64), f64)> = self
            .parts
            .iter()
            .filter_map(|p| Some((p.estimated_vb_mm?, p.estimated_interval_mm?, p.true_vb_mm)))
            .collect();
        if pairs.is_empty() {
            return None;
        }
        let n = pairs.len() as f64;
        let mse = pairs.iter().map(|(e, _, t)| (e - t).powi(2)).sum::<f64>() / n;
        let covered = pairs
            .iter()
            .filter(|(_, (lo, hi), t)| lo <= t && t <= hi)
            .count() as f64;
        Some((1000.0 * mse.sqrt(), covered / n))
    }

    /// Cutting time at which this (uncompensated) series' tool reached `criterion_mm`,
    /// interpolated between parts.
    pub fn life_s(&self, criterion_mm: f64) -> Option<f64> {
        let mut prev = (0.0, 0.0);
        for p in &self.parts {
            if p.true_vb_mm >= criterion_mm {
                let f = (criterion_mm - prev.1) / (p.true_vb_mm - prev.1);
                return Some(prev.0 + f * (p.tool_cutting_s - prev.0));
            }
            prev = (p.tool_cutting_s, p.true_vb_mm);
        }
        None
    }
}

/// A wear model trained, through the same pipeline as recorded data, on simulated tool lives.
pub struct SimulatedTraining {
    pub model: WearModel,
    /// The lives it was trained on (one per seed), as a wear CSV would hold them.
    pub lives: Vec<WearRun>,
    /// With a recorder: the `sensor_segment` records of the signals the model reads.
    pub segments: Vec<Citation>,
}

/// Trains a wear model on the simulated lives (to VB 1.1 × the criterion) of one tool per seed
/// on `program`; with `recorder`, the lives are recorded as runs of its machine.
pub fn train_on_simulated_lives(
    program: (&str, &str),
    material: Material,
    seeds: &[u64],
    params: &WearLoopParams,
    mut recorder: Option<&mut WearRecorder<'_>>,
) -> Result<SimulatedTraining, WearLoopError> {
    let mut lives = Vec::new();
    let mut segments = Vec::new();
    for &seed in seeds {
        let (life, cites) = tool_life_log(
            program,
            material,
            seed,
            (1.1 * params.criterion_mm, 500),
            params,
            recorder.as_deref_mut(),
        )?;
        lives.push(life);
        segments.extend(cites);
    }
    let runs: Vec<&WearRun> = lives.iter().collect();
    let model = WearModel::train(&runs, &signal_names(), &WearTrainConfig::default())?;
    Ok(SimulatedTraining {
        model,
        lives,
        segments,
    })
}

/// The names of [`WEAR_SIGNALS`] as a wear data set lists them.
pub fn signal_names() -> Vec<String> {
    WEAR_SIGNALS.iter().map(|s| s.to_string()).collect()
}

/// A tool's whole life on `program`, uncompensated, until its true wear reaches `until.0` mm (at
/// most `until.1` parts): training data for the model, with the citations of the recorded
/// segments of the signals it reads.
pub fn tool_life_log(
    program: (&str, &str),
    material: Material,
    seed: u64,
    until: (f64, u32),
    params: &WearLoopParams,
    mut recorder: Option<&mut WearRecorder<'_>>,
) -> Result<(WearRun, Vec<Citation>), WearLoopError> {
    let (name, text) = program;
    let mut tool = ToolState::new();
    let mut cites = Vec::new();
    for part in 1..=until.1 {
        let (_, log, made) = make_part(
            name,
            text,
            material,
            seed,
            part,
            params,
            &mut tool,
            recorder.as_deref_mut(),
        )?;
        tool.rows = Some(log.rows);
        cites.extend(made.into_iter().flat_map(|m| m.wear_segments));
        if tool.vb_mm >= until.0 {
            break;
        }
    }
    Ok((tool.rows.expect("at least one part"), cites))
}
