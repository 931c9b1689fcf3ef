//! The tool-wear loop on a machine: between parts, the wear model estimates the tool's flank wear
//! from its own spindle load and power, the radius wear offset that wear calls for is written into
//! the NC program for the next part, and a tool change is planned before the next part when the
//! remaining life will not cover it (rather than after the criterion is crossed).

use crate::nc_offsets::{with_radius_wear_offsets, NcEditError, OffsetDialect};
use crate::wear::{WearModel, WearModelError, WearTrainConfig};
use aimm_connect::wear_csv::WearRun;
use aimm_connect::{run_unrecorded, RunObserver};
use aimm_model::{MachineSpec, MachineState, Material, SignalKind, ToolSpec};
use aimm_sim::gcode::parse;
use aimm_sim::setup::prepare;
use aimm_sim::{FeatureResult, SimConfig, Simulator};
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
    /// Largest radius wear offset the loop writes, mm.
    pub max_offset_mm: f64,
    pub dialect: OffsetDialect,
}

impl Default for WearLoopParams {
    fn default() -> Self {
        Self {
            tool: 1,
            clearance_deg: 10.0,
            criterion_mm: 0.3,
            plan_margin: 0.1,
            max_offset_mm: 0.1,
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
    #[error("{0}")]
    Setup(String),
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

/// Makes part `part` of the program `text` with the loop's tool at wear `vb_mm` after `cut_s`
/// seconds of cutting, appending to its log `rows`. Returns the part, the tool's wear after it and
/// the log.
fn make_part(
    name: &str,
    text: &str,
    material: Material,
    seed: u64,
    part: u32,
    params: &WearLoopParams,
    (vb_mm, cut_s, rows): (f64, f64, Option<WearRun>),
) -> Result<(aimm_sim::PartResult, f64, CuttingLog), WearLoopError> {
    let program = parse(name, text)?;
    let mut config = SimConfig::new(
        MachineSpec::vmc("wear"),
        material,
        seed * 1000 + u64::from(part),
    );
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config)
        .map_err(WearLoopError::Setup)?;
    let mut sim = Simulator::new(&program, tools, config)?;
    sim.set_tool_wear_vb_mm(params.tool, vb_mm);
    let mut log = CuttingLog::new(params.tool, &format!("{name}#{seed}"), cut_s, rows);
    let result = run_unrecorded(&mut sim, &mut log)?;
    Ok((result, sim.tool_wear_vb_mm(params.tool), log))
}

/// Makes `parts` parts of `program` (name, text) in `material` with one tool that wears from part
/// to part. With `model`, the loop acts between parts; without it the program runs as written.
pub fn run_series(
    program: (&str, &str),
    material: Material,
    seed: u64,
    parts: u32,
    model: Option<&WearModel>,
    params: &WearLoopParams,
) -> Result<Series, WearLoopError> {
    let (name, text) = program;
    let mut series = Series {
        parts: Vec::new(),
        retired: Vec::new(),
        last_log: None,
    };
    let (mut vb, mut cut_s, mut rows) = (0.0, 0.0, None);
    let mut offset_mm = 0.0;
    let mut new_tool = false;
    for part in 1..=parts {
        let edited = match model {
            Some(_) => {
                let offsets = [(params.tool, offset_mm)].into_iter().collect();
                with_radius_wear_offsets(text, &offsets, &params.dialect)?
            }
            None => text.to_string(),
        };
        let (result, vb_after, log) = make_part(
            name,
            &edited,
            material,
            seed,
            part,
            params,
            (vb, cut_s, rows.take()),
        )?;
        vb = vb_after;
        let part_cut_s = log.cutting_s() - cut_s;
        cut_s = log.cutting_s();
        let mut record = PartRecord {
            part,
            offset_mm,
            new_tool,
            feature: result.reference_feature.clone(),
            true_vb_mm: vb,
            tool_cutting_s: cut_s,
            estimated_vb_mm: None,
        };
        new_tool = false;
        if let Some(model) = model {
            let estimates = model.predict(&log.rows)?;
            if let Some(last) = estimates.last() {
                record.estimated_vb_mm = Some(last.wear_mm);
                let plan_at = params.criterion_mm * (1.0 - params.plan_margin);
                let life = model.remaining_life(last, plan_at);
                // Plan the change before a part the tool might not finish within its life: the
                // short end of the remaining-life interval, so the criterion is not crossed.
                if life.lo_s.is_some_and(|s| s < part_cut_s) {
                    series.retired.push(ToolRetired {
                        cutting_s: cut_s,
                        true_vb_mm: vb,
                    });
                    (vb, cut_s, offset_mm, new_tool) = (0.0, 0.0, 0.0, true);
                    series.parts.push(record);
                    continue;
                }
                // The next part is cut, on average, half a part further into the wear curve.
                let grown = model.growth_mm(last, part_cut_s / 2.0);
                let radial = (last.wear_mm + grown) * params.clearance_deg.to_radians().tan();
                offset_mm = (-radial).clamp(-params.max_offset_mm, params.max_offset_mm);
            }
        }
        rows = Some(log.rows);
        series.parts.push(record);
    }
    series.last_log = rows;
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

/// A wear model trained, through the same pipeline as recorded data, on the simulated lives (to
/// VB 1.1 × the criterion) of one tool per seed on `program`.
pub fn train_on_simulated_lives(
    program: (&str, &str),
    material: Material,
    seeds: &[u64],
    params: &WearLoopParams,
) -> Result<WearModel, WearLoopError> {
    let lives = seeds
        .iter()
        .map(|&seed| {
            tool_life_log(
                program,
                material,
                seed,
                1.1 * params.criterion_mm,
                500,
                params,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let runs: Vec<&WearRun> = lives.iter().collect();
    let signals: Vec<String> = WEAR_SIGNALS.iter().map(|s| s.to_string()).collect();
    Ok(WearModel::train(
        &runs,
        &signals,
        &WearTrainConfig::default(),
    )?)
}

/// A tool's whole life on `program`, uncompensated, until its true wear reaches `until_vb_mm`
/// (at most `max_parts` parts): training data for the model.
pub fn tool_life_log(
    program: (&str, &str),
    material: Material,
    seed: u64,
    until_vb_mm: f64,
    max_parts: u32,
    params: &WearLoopParams,
) -> Result<WearRun, WearLoopError> {
    let (name, text) = program;
    let (mut vb, mut cut_s, mut rows) = (0.0, 0.0, None);
    for part in 1..=max_parts {
        let (_, vb_after, log) = make_part(
            name,
            text,
            material,
            seed,
            part,
            params,
            (vb, cut_s, rows.take()),
        )?;
        vb = vb_after;
        cut_s = log.cutting_s();
        rows = Some(log.rows);
        if vb >= until_vb_mm {
            break;
        }
    }
    Ok(rows.expect("at least one part"))
}
