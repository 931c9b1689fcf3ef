//! The simulation engine: executes interpreted G-code on the virtual mill tick by tick (one tick
//! per fast sample), cutting the z-map stock, evaluating cutting force, power and wear, and
//! recording noisy sensor samples and events. Live inputs (feed override, wear offsets, tool
//! replacement) act from the next tick, as on a real control.

use crate::cutting::{kienzle, CutConditions, CutLoad};
use crate::gcode::{
    InterpConfig, InterpError, Interpreter, OffsetKind, Op, Program, SpindleDir, Vec3,
};
use crate::materials::MaterialConstants;
use crate::panel::{Panel, PanelAction, PanelError, PanelScript};
use crate::planner::{Planner, RatingError};
use crate::power::PowerModel;
use crate::process::outcome::{roughness_ra_um, wall_error_mm};
use crate::process::stability::{specific_limit_n_per_mm, tangential_coefficient};
use crate::process::ProcessTruth;
use crate::recording::Recording;
use crate::result::{FeatureResult, OperationSummary, PartResult, ToolWear};
use crate::stock::{Removal, Stock, StockSpec};
use crate::tool_table::ToolTable;
use crate::wear::WearModel;
use aimm_model::overload::{OverloadChange, OverloadMeter};
use aimm_model::{
    ActuatorError, Event, EventKind, HardnessFactor, MachineSpec, MachineState, Material,
    SignalKind, StockHardness, TimeNs, ToolKind, NS_PER_S,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::collections::{BTreeMap, VecDeque};

pub use aimm_model::DEFAULT_START_NS;

/// Everything a run needs besides the program and the tool table.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The machine simulated.
    pub machine: MachineSpec,
    /// The workpiece material.
    pub material: Material,
    /// Seeds the sensor noise; same seed, same samples.
    pub seed: u64,
    /// Time of the run's first tick, UTC ns since the Unix epoch.
    pub start_ns: TimeNs,
    /// Rate of spindle load, spindle power and cutting force samples, Hz.
    pub fast_rate_hz: f64,
    /// Rate of the other continuous signals, Hz (a divisor of the fast rate is exact).
    pub slow_rate_hz: f64,
    /// Stock block; `None` = the feed moves' footprint below `stock_top_mm`, plus a tool radius.
    pub stock: Option<StockSpec>,
    /// Top of the stock when it is derived from the program, mm.
    pub stock_top_mm: f64,
    /// Harder regions of the stock (casting skin, hard spots); none by default.
    pub hardness: StockHardness,
    /// The batch of blanks the stock comes from: factors on kc and on the wear rate over the
    /// whole block, on top of [`SimConfig::hardness`] (nominal by default; seeded draws in
    /// [`crate::scatter::batch_hardness`]).
    pub batch: HardnessFactor,
    /// Z-map cell edge, mm; `None` = a fortieth of the smallest tool diameter, 0.05–0.25 mm.
    /// Finishing allowances thinner than a cell are not resolved.
    pub cell_mm: Option<f64>,
    /// ± tolerance of the reference feature, mm.
    pub tolerance_mm: f64,
    /// Time an M6 tool change takes, s.
    pub tool_change_s: f64,
    /// Machine power by state.
    pub power: PowerModel,
    /// Tool-wear model.
    pub wear: WearModel,
    /// G-code interpreter settings.
    pub interp: InterpConfig,
    /// The hidden process truth of this material, tool and holder ([`crate::process`]): when
    /// set, its Kienzle and Taylor constants replace [`crate::materials`]' (and its Taylor chip
    /// exponent the wear model's), and its tool-tip dynamics, force ratio, static stiffness and
    /// roughness factor apply to every tool, and a cut whose stability ratio reaches 1 warns
    /// of chatter (once per block, naming the line). `None`: the material's constants, and the
    /// nominal truth of [`ProcessTruth::nominal`] for each tool's diameter in the operation
    /// summaries only (no chatter warnings: a class average is not this tool).
    pub process_truth: Option<ProcessTruth>,
    /// Corner radius of the flat end mills, mm, for the roughness of the operation summaries
    /// (ball end mills: half the diameter); below 0.1 mm the formula takes 0.1 mm.
    pub corner_radius_mm: f64,
}

impl SimConfig {
    /// Defaults for `machine` cutting `material`, noise seeded by `seed`: 500 Hz fast and 50 Hz slow
    /// samples, stock from the program, ±0.02 mm tolerance, 5 s tool changes.
    pub fn new(machine: MachineSpec, material: Material, seed: u64) -> Self {
        Self {
            machine,
            material,
            seed,
            start_ns: DEFAULT_START_NS,
            fast_rate_hz: 500.0,
            slow_rate_hz: 50.0,
            stock: None,
            stock_top_mm: 0.0,
            hardness: StockHardness::default(),
            batch: HardnessFactor { kc: 1.0, wear: 1.0 },
            cell_mm: None,
            tolerance_mm: 0.02,
            tool_change_s: 5.0,
            power: PowerModel::default(),
            wear: WearModel::default(),
            interp: InterpConfig::default(),
            process_truth: None,
            corner_radius_mm: 0.0,
        }
    }
}

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The program cannot be run (see [`InterpError`]).
    #[error(transparent)]
    Program(#[from] InterpError),
    /// The machine cannot do what the program asks.
    #[error("{program}: line {line}: {message}")]
    Machine {
        /// Program name.
        program: String,
        /// 1-based line of the block.
        line: u32,
        /// What the machine cannot do.
        message: String,
    },
    /// A setting in [`SimConfig`] is out of range.
    #[error("invalid simulator setting: {0}")]
    Config(String),
    /// An operator action the panel cannot do.
    #[error(transparent)]
    Panel(#[from] PanelError),
    /// A machine rating the motion planner cannot work with.
    #[error(transparent)]
    Rating(#[from] RatingError),
}

/// What the machine is doing between ticks.
#[derive(Clone, Debug)]
enum Activity {
    /// Needs the next op.
    Ready,
    /// Travelling the planner's buffered blocks.
    Moving,
    /// Dwell or tool change.
    Waiting {
        left_s: f64,
    },
    Finished,
}

/// Material removed over the last few cut steps: the engagement the force model sees.
#[derive(Clone, Debug, Default)]
struct EngagementWindow {
    /// (removal, path mm) of the last [`WINDOW`] cuts.
    cuts: [(Removal, f64); WINDOW],
    next: usize,
}

/// Cut steps averaged: smooths the quantisation of the z-map cells.
const WINDOW: usize = 4;

/// What the force and wear models see of the cut.
#[derive(Clone, Copy, Debug, Default)]
struct Engagement {
    section_mm2: f64,
    depth_mm: f64,
    /// Volume-weighted kc factor of the stock's hardness (1 in nominal material).
    kc_factor: f64,
    /// Volume-weighted wear-rate factor of the stock's hardness.
    wear_factor: f64,
}

impl EngagementWindow {
    fn push(&mut self, removal: Removal, path_mm: f64) {
        self.cuts[self.next] = (removal, path_mm);
        self.next = (self.next + 1) % WINDOW;
    }

    fn engagement(&self) -> Engagement {
        let mut sum = Removal::default();
        let mut path = 0.0;
        for (r, s) in &self.cuts {
            sum.volume_mm3 += r.volume_mm3;
            sum.kc_weighted_mm3 += r.kc_weighted_mm3;
            sum.wear_weighted_mm3 += r.wear_weighted_mm3;
            sum.depth_mm = sum.depth_mm.max(r.depth_mm);
            path += s;
        }
        if sum.volume_mm3 <= 1e-9 || path <= 0.0 {
            Engagement::default()
        } else {
            Engagement {
                section_mm2: sum.volume_mm3 / path,
                depth_mm: sum.depth_mm,
                kc_factor: sum.kc_weighted_mm3 / sum.volume_mm3,
                wear_factor: sum.wear_weighted_mm3 / sum.volume_mm3,
            }
        }
    }
}

/// Running sums for the reference-feature result.
#[derive(Clone, Debug, Default)]
struct FeatureSums {
    length_mm: f64,
    error_length: f64,
    max_abs_mm: f64,
}

impl FeatureSums {
    fn add(&mut self, error_mm: f64, length_mm: f64) {
        self.length_mm += length_mm;
        self.error_length += error_mm * length_mm;
        self.max_abs_mm = self.max_abs_mm.max(error_mm.abs());
    }
}

/// What the physics needs of the tool in the spindle.
#[derive(Clone, Copy, Debug)]
struct Cutter {
    kind: ToolKind,
    diameter_mm: f64,
    flutes: u32,
}

impl Cutter {
    fn radius_mm(&self) -> f64 {
        self.diameter_mm / 2.0
    }
}

/// Running sums of one tool's operation ([`OperationSummary`]).
#[derive(Clone, Debug, Default)]
struct OperationSums {
    tool: u32,
    first_motion_s: Option<f64>,
    last_motion_s: f64,
    cutting_time_s: f64,
    cut_length_mm: f64,
    removed_mm3: f64,
    ap_weighted: f64,
    ae_weighted: f64,
    peak_power_kw: f64,
    peak_torque_nm: f64,
    peak_ratio: f64,
    max_fz_mm: f64,
    wall_error_mm: f64,
    life_used: f64,
}

/// The specific stability limit last computed, reused while the tool, speed and width of cut
/// stay within a small tolerance (the lobes are computed only when they change).
#[derive(Clone, Copy, Debug)]
struct StabilityCache {
    tool: u32,
    rpm: f64,
    ae_mm: f64,
    specific_limit: f64,
}

/// Per-tool wear state.
#[derive(Clone, Copy, Debug)]
struct ToolState {
    vb_mm: f64,
    cutting_time_s: f64,
    /// This tool's life as a factor on the nominal Taylor life ([`crate::scatter`]).
    life_factor: f64,
    /// Broken off: the tool turns but cuts nothing.
    broken: bool,
    /// Loaded into the spindle during this run.
    loaded: bool,
}

impl Default for ToolState {
    fn default() -> Self {
        Self {
            vb_mm: 0.0,
            cutting_time_s: 0.0,
            life_factor: 1.0,
            broken: false,
            loaded: false,
        }
    }
}

/// A simulated machine running one program.
pub struct Simulator<'p> {
    cfg: SimConfig,
    program_name: String,
    consts: MaterialConstants,
    interp: Interpreter<'p>,
    stock: Stock,
    rng: ChaCha8Rng,
    rec: Recording,
    latest: [f64; SignalKind::ALL.len()],
    t_ns: TimeNs,
    tick: u64,
    dt_s: f64,
    dt_ns: TimeNs,
    slow_every: u64,
    cut_step_mm: f64,
    activity: Activity,
    motion: Planner,
    line: u32,
    pos: Vec3,
    feed_override_pct: f64,
    feed_hold: bool,
    /// The operator's panel, which wins over the loops.
    panel: Panel,
    /// The next op, held back by single block until cycle start.
    parked: VecDeque<Op>,
    programmed_feed: f64,
    spindle_rpm: f64,
    spindle_dir: SpindleDir,
    coolant: bool,
    tool: Option<u32>,
    tools: BTreeMap<u32, ToolState>,
    window: EngagementWindow,
    since_cut_mm: f64,
    /// Tip of the current tool's last cut (reset at tool changes).
    last_cut: Option<Vec3>,
    lateral: bool,
    energy_kwh: f64,
    cutting_time_s: f64,
    max_load_pct: f64,
    /// Overload events, judged on the true load as [`aimm_model::overload`] defines them.
    overload: OverloadMeter,
    removed_mm3: f64,
    comp_feature: FeatureSums,
    side_feature: FeatureSums,
    warnings: Vec<String>,
    warned_spindle_off: bool,
    samples: u64,
    logged_tool: Option<(u32, f64)>,
    operations: Vec<OperationSums>,
    stability_cache: Option<StabilityCache>,
    /// Line of the last chatter warning (one warning per block).
    chatter_line: Option<u32>,
    /// Section (mm²), depth (mm) and cutting power (W) of the cut, averaged over the last
    /// [`SUMMARY_SMOOTHING_MM`] of path for the operation summaries; reset when the cut ends.
    smoothed_cut: Option<(f64, f64, f64)>,
}

/// Path length over which the operation summaries average the engagement and the cutting power
/// (exponentially), mm: the z-map's cell quantization makes the 4-cut engagement jitter by
/// about a cell width (± 6 % of a_e = 2 mm with 0.25 mm cells); half a 10 mm tool's diameter
/// of path averages it out (assumed).
pub const SUMMARY_SMOOTHING_MM: f64 = 5.0;

impl<'p> Simulator<'p> {
    /// Prepares a run of `program` with `tools`; the stock is planned from the program when the
    /// configuration gives none.
    pub fn new(program: &'p Program, tools: ToolTable, cfg: SimConfig) -> Result<Self, SimError> {
        if !(cfg.fast_rate_hz > 0.0
            && cfg.slow_rate_hz > 0.0
            && cfg.slow_rate_hz <= cfg.fast_rate_hz)
        {
            return Err(SimError::Config(format!(
                "sample rates must satisfy 0 < slow ({} Hz) <= fast ({} Hz)",
                cfg.slow_rate_hz, cfg.fast_rate_hz
            )));
        }
        let smallest_tool = tools
            .tools()
            .map(|t| t.diameter_mm)
            .fold(f64::INFINITY, f64::min);
        let cell_mm = cfg
            .cell_mm
            .unwrap_or_else(|| (smallest_tool / 40.0).clamp(0.05, 0.25));
        let spec = match cfg.stock {
            Some(s) => s,
            None => plan_stock(program, &tools, &cfg)?,
        };
        cfg.hardness
            .validate()
            .map_err(|e| SimError::Config(e.to_string()))?;
        let b = cfg.batch;
        if !(b.kc.is_finite() && b.kc > 0.0 && b.wear.is_finite() && b.wear > 0.0) {
            return Err(SimError::Config(format!(
                "batch hardness factors kc {} and wear {} must be positive numbers",
                b.kc, b.wear
            )));
        }
        let stock = Stock::new(spec, cell_mm).with_hardness(&cfg.hardness);
        let mut cfg = cfg;
        if let Some(t) = &cfg.process_truth {
            cfg.wear.chip_exponent = t.taylor_chip_exponent;
        }
        let dt_ns = (NS_PER_S as f64 / cfg.fast_rate_hz).round() as TimeNs;
        let rec = Recording::new(&cfg.machine.id);
        Ok(Self {
            program_name: program.name.clone(),
            consts: cfg
                .process_truth
                .map_or_else(|| MaterialConstants::of(cfg.material), |t| t.constants()),
            interp: Interpreter::new(program, tools, cfg.interp.clone()),
            cut_step_mm: stock.cell_mm() / 2.0,
            stock,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            rec,
            latest: [f64::NAN; SignalKind::ALL.len()],
            t_ns: cfg.start_ns,
            tick: 0,
            dt_s: dt_ns as f64 / NS_PER_S as f64,
            dt_ns,
            slow_every: (cfg.fast_rate_hz / cfg.slow_rate_hz).round().max(1.0) as u64,
            activity: Activity::Ready,
            motion: Planner::new(&cfg.machine)?,
            line: 0,
            pos: cfg.interp.home_mm,
            feed_override_pct: 100.0,
            feed_hold: false,
            panel: Panel::default(),
            parked: VecDeque::new(),
            programmed_feed: 0.0,
            spindle_rpm: 0.0,
            spindle_dir: SpindleDir::Off,
            coolant: false,
            tool: None,
            tools: BTreeMap::new(),
            window: EngagementWindow::default(),
            since_cut_mm: 0.0,
            last_cut: None,
            lateral: true,
            energy_kwh: 0.0,
            cutting_time_s: 0.0,
            max_load_pct: 0.0,
            overload: OverloadMeter::new(&cfg.machine),
            removed_mm3: 0.0,
            comp_feature: FeatureSums::default(),
            side_feature: FeatureSums::default(),
            warnings: Vec::new(),
            warned_spindle_off: false,
            samples: 0,
            logged_tool: None,
            operations: Vec::new(),
            stability_cache: None,
            chatter_line: None,
            smoothed_cut: None,
            cfg,
        })
    }

    // ---- live inputs -------------------------------------------------------------------------

    /// Sets the feed-rate override, % (the control clamps to 0–200 %, the range of Fanuc and
    /// Siemens panels; 0 holds the feed). The path speed follows from the next tick with the
    /// machine's acceleration and jerk.
    pub fn set_feed_override(&mut self, pct: f64) {
        self.feed_override_pct = if pct.is_finite() {
            pct.clamp(0.0, 200.0)
        } else {
            100.0
        };
    }

    /// Stops (true) or resumes (false) all axis motion, braking and accelerating with the
    /// machine's acceleration and jerk; the spindle keeps turning. This is the loops' hold: the
    /// operator's is on the panel ([`Simulator::operate`]) and outlasts it.
    pub fn set_feed_hold(&mut self, hold: bool) {
        if hold != self.feed_hold {
            self.feed_hold = hold;
            let what = if hold { "feed hold" } else { "feed resumed" };
            self.event(EventKind::ProgramStop, what.into());
        }
    }

    // ---- operator panel ----------------------------------------------------------------------

    /// Works the operator's panel (see [`crate::panel`]); recorded as an operator-panel event.
    /// Turning the knob writes the override register: the knob's position is the override in
    /// force.
    pub fn operate(&mut self, action: PanelAction) -> Result<(), PanelError> {
        self.panel.apply(action, self.line)?;
        match action {
            PanelAction::OverrideKnob(pct) => self.feed_override_pct = f64::from(pct),
            PanelAction::SingleBlock(true) => {
                // The blocks read ahead go back to wait: the block in progress is the last.
                let mut ahead: VecDeque<Op> = self.motion.cut_after_front().into();
                ahead.append(&mut self.parked);
                self.parked = ahead;
            }
            _ => {}
        }
        self.event(EventKind::OperatorPanel, action.to_string());
        Ok(())
    }

    /// Plays `script` from the next tick: each action once the run's elapsed time reaches its
    /// time (replacing what was left of an earlier script).
    pub fn set_panel_script(&mut self, script: PanelScript) {
        self.panel.set_script(script);
    }

    /// The operator's panel.
    pub fn panel(&self) -> &Panel {
        &self.panel
    }

    /// Breaks the tool in the spindle: it goes on turning but cuts nothing until replaced.
    pub fn break_tool(&mut self) {
        if let Some(t) = self.tool {
            self.tools.entry(t).or_default().broken = true;
            // The engagement ends at once, not over the smoothing window of a tool leaving a cut.
            self.window = EngagementWindow::default();
        }
    }

    /// Puts tool `number` in the spindle before the program starts, as the tool a machine still
    /// holds from its last change, with no tool-change cycle; `note` (why, and which tool) goes
    /// into the part result's warnings at `line`. For programs that cut before any `T… M6`.
    pub fn load_tool_at_start(
        &mut self,
        number: u32,
        line: u32,
        note: String,
    ) -> Result<(), SimError> {
        if self.interp.tool_table().tool(number).is_none() {
            return Err(SimError::Machine {
                program: self.program_name.clone(),
                line,
                message: format!("T{number} is not in the tool table"),
            });
        }
        self.tool = Some(number);
        self.tools.entry(number).or_default().loaded = true;
        self.operation_of(number);
        self.warn(line, note);
        Ok(())
    }

    /// Writes the radius wear offset of register `register`, mm; it applies from the next
    /// interpreted block (as on a control with block look-ahead).
    pub fn set_radius_wear_offset(&mut self, register: u32, value_mm: f64) {
        self.interp
            .tool_table_mut()
            .set(register, OffsetKind::RadiusWear, value_mm);
        self.event(
            EventKind::ToolOffsetChange,
            format!("D{register} radius wear set to {value_mm:.4} mm"),
        );
    }

    /// Replaces tool `number` with a new one of the same geometry (wear back to zero).
    pub fn replace_tool(&mut self, number: u32) {
        let loaded = self.tools.get(&number).is_some_and(|t| t.loaded);
        self.tools.insert(
            number,
            ToolState {
                loaded,
                ..ToolState::default()
            },
        );
        self.event(
            EventKind::ToolChange,
            format!("T{number} replaced by a new tool"),
        );
    }

    // ---- state -------------------------------------------------------------------------------

    /// Simulated time now, UTC ns since the Unix epoch.
    pub fn time_ns(&self) -> TimeNs {
        self.t_ns
    }

    /// Simulated seconds since the run started.
    pub fn elapsed_s(&self) -> f64 {
        (self.t_ns - self.cfg.start_ns) as f64 / NS_PER_S as f64
    }

    /// True once the program has ended.
    pub fn is_finished(&self) -> bool {
        matches!(self.activity, Activity::Finished)
    }

    /// Source line of the block being executed.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// Spindle overload events so far ([`aimm_model::overload`]).
    pub fn overload_events(&self) -> u32 {
        self.overload.events()
    }

    /// Whether a tool broke in this run.
    pub fn tool_broken(&self) -> bool {
        self.tools.values().any(|s| s.broken)
    }

    /// Feed-rate override in force, %.
    pub fn feed_override_pct(&self) -> f64 {
        self.feed_override_pct
    }

    /// The last recorded (noisy) value of `signal`, NaN before its first sample.
    pub fn latest(&self, signal: SignalKind) -> f64 {
        self.latest[signal.index()]
    }

    /// True flank wear of tool `number`, mm (what a microscope would measure; not a sensor).
    pub fn tool_wear_vb_mm(&self, number: u32) -> f64 {
        self.tools.get(&number).map_or(0.0, |t| t.vb_mm)
    }

    /// Presets the wear of tool `number` (a tool that was used before this run), mm.
    pub fn set_tool_wear_vb_mm(&mut self, number: u32, vb_mm: f64) {
        self.tools.entry(number).or_default().vb_mm = vb_mm.max(0.0);
    }

    /// Sets the life of tool `number` to `factor` × the nominal Taylor life (a tool of a longer-
    /// or shorter-lived edge; [`crate::scatter::tool_life_factor`] draws one). It wears at
    /// 1/`factor` of the nominal rate; a replaced tool is nominal again.
    pub fn set_tool_life_factor(&mut self, number: u32, factor: f64) -> Result<(), SimError> {
        if !(factor.is_finite() && factor > 0.0) {
            return Err(SimError::Config(format!(
                "tool life factor of T{number}: {factor} must be a positive number"
            )));
        }
        self.tools.entry(number).or_default().life_factor = factor;
        Ok(())
    }

    /// The tool table in force (geometry and wear offsets).
    pub fn tool_table(&self) -> &ToolTable {
        self.interp.tool_table()
    }

    /// The stock as cut so far.
    pub fn stock(&self) -> &Stock {
        &self.stock
    }

    /// Samples and events recorded since the last drain.
    pub fn recording(&mut self) -> &mut Recording {
        &mut self.rec
    }

    // ---- running -----------------------------------------------------------------------------

    /// Runs to the end of the program and returns the part result.
    pub fn run(&mut self) -> Result<PartResult, SimError> {
        while self.step()? {}
        Ok(self.result())
    }

    /// Advances one tick (one fast sample period). Returns false once the program has ended.
    pub fn step(&mut self) -> Result<bool, SimError> {
        if self.is_finished() {
            return Ok(false);
        }
        if self.tick == 0 {
            self.event(
                EventKind::ProgramStart,
                format!("{} started", self.program_name),
            );
        }
        while let Some(action) = self.panel.due(self.elapsed_s()) {
            self.operate(action)?;
        }
        // Feed hold or MDI: time passes, nothing of the program runs.
        let mut left_s = if self.panel.stops_program() {
            0.0
        } else {
            self.dt_s
        };
        let mut feed_mm = 0.0;
        let mut rapid_mm = 0.0;
        while left_s > 1e-12 {
            match &mut self.activity {
                Activity::Finished => break,
                Activity::Ready => {
                    self.fill()?;
                    match self.motion.take_op() {
                        Some(op) => self.begin(op)?,
                        // Single block: stopped at the block end until cycle start.
                        None if self.motion.is_empty() && !self.parked.is_empty() => break,
                        None if self.motion.is_empty() => self.finish(),
                        None => self.activity = Activity::Moving,
                    }
                }
                Activity::Waiting { left_s: wait } => {
                    let used = wait.min(left_s);
                    *wait -= used;
                    left_s -= used;
                    if *wait <= 1e-12 {
                        self.activity = Activity::Ready;
                    }
                }
                Activity::Moving => {
                    let (fed, rapid) = self.advance(&mut left_s)?;
                    feed_mm += fed;
                    rapid_mm += rapid;
                    if self.motion.is_empty() {
                        self.activity = Activity::Ready;
                    }
                }
            }
        }
        self.t_ns += self.dt_ns;
        self.tick += 1;
        self.update(feed_mm, rapid_mm)?;
        Ok(!self.is_finished())
    }

    /// Reads ops into the planner's look-ahead buffer while it wants more.
    fn fill(&mut self) -> Result<(), SimError> {
        while self.motion.wants_more() {
            let op = match self.parked.pop_front() {
                Some(op) => op,
                None => match self.interp.next() {
                    None => {
                        self.motion.end_of_program();
                        break;
                    }
                    Some(op) => op?,
                },
            };
            if !self.panel.admits(op.line()) {
                // Single block: the next block waits for cycle start; the planner brakes to a
                // stop at the end of what it holds.
                self.parked.push_front(op);
                break;
            }
            if let Op::Move(mv) = &op {
                let top = self.stock.spec().top_mm;
                // Tool changes stop the buffer, so the tool now is the one this move runs with.
                if !mv.rapid && self.tool.is_none() && mv.from[2].min(mv.to[2]) < top {
                    return Err(SimError::Machine {
                        program: self.program_name.clone(),
                        line: mv.line,
                        message: format!(
                            "feed move below the stock top (Z{top} mm) with no tool in the spindle: no T… M6 before it"
                        ),
                    });
                }
            }
            self.motion.offer(op);
        }
        Ok(())
    }

    /// Travels the path the planner gives for up to `left_s`, cutting as it goes; returns the
    /// (feed, rapid) distances, mm.
    fn advance(&mut self, left_s: &mut f64) -> Result<(f64, f64), SimError> {
        self.fill()?;
        let mut rest = self
            .motion
            .plan(left_s, self.feed_override_pct, self.feed_hold);
        let (mut fed, mut rapid) = (0.0, 0.0);
        while let Some(piece) = self.motion.travel(&mut rest) {
            let mv = &piece.mv;
            // Mostly sideways (peripheral cut) rather than along the tool axis (plunge).
            let lateral = piece.unit[0].hypot(piece.unit[1]) >= piece.unit[2].abs();
            if piece.entered {
                for op in piece.ops {
                    self.begin(op)?;
                }
                self.line = mv.line;
                if !mv.rapid {
                    self.programmed_feed = mv.feed_mm_per_min;
                    self.lateral = lateral;
                }
            }
            self.pos = piece.pos;
            if mv.rapid {
                rapid += piece.ds_mm;
                self.window = EngagementWindow::default();
                self.since_cut_mm = 0.0;
            } else {
                fed += piece.ds_mm;
                self.since_cut_mm += piece.ds_mm;
                if self.since_cut_mm >= self.cut_step_mm || piece.finished {
                    self.cut();
                }
                if lateral && self.window.engagement().section_mm2 > 0.0 {
                    self.record_wall(mv.comp_radius_mm, piece.ds_mm);
                }
            }
            if piece.finished {
                self.fill()?;
            }
        }
        Ok((fed, rapid))
    }

    /// Cuts the stock at the current position and updates the engagement window.
    fn cut(&mut self) {
        let Some(spec) = self.cutter() else {
            self.since_cut_mm = 0.0;
            return;
        };
        if self
            .tool
            .and_then(|t| self.tools.get(&t))
            .is_some_and(|s| s.broken)
        {
            self.window.push(Removal::default(), self.since_cut_mm);
            self.since_cut_mm = 0.0;
            return;
        }
        let radius = spec.radius_mm() - self.cfg.wear.radius_loss_mm(self.current_vb());
        let removal = self.stock.cut(self.pos, radius, spec.kind, self.last_cut);
        self.last_cut = Some(self.pos);
        self.removed_mm3 += removal.volume_mm3;
        self.window.push(removal, self.since_cut_mm);
        self.since_cut_mm = 0.0;
    }

    /// Adds `length_mm` of wall cut now to the reference-feature sums. The wall stands at the
    /// tool-centre path plus the tool's effective radius; the control placed the centre for
    /// `comp` (or the CAM system for the nominal radius), so the deviation is the difference.
    fn record_wall(&mut self, comp: Option<f64>, length_mm: f64) {
        let Some(spec) = self.cutter() else {
            return;
        };
        let nominal = spec.radius_mm();
        let effective = nominal - self.cfg.wear.radius_loss_mm(self.current_vb());
        let error = comp.unwrap_or(nominal) - effective;
        if comp.is_some() {
            self.comp_feature.add(error, length_mm);
        }
        self.side_feature.add(error, length_mm);
    }

    fn begin(&mut self, op: Op) -> Result<(), SimError> {
        self.line = op.line();
        match op {
            // Moves run through the planner's buffer.
            op @ Op::Move(_) => {
                self.motion.offer(op);
                self.activity = Activity::Moving;
            }
            Op::Dwell { seconds, .. } => {
                self.activity = Activity::Waiting {
                    left_s: seconds.max(0.0),
                }
            }
            Op::Spindle { rpm, dir, line } => {
                let max = self.cfg.machine.spindle_max_rpm;
                if rpm > max {
                    self.warn(
                        line,
                        format!("S{rpm} above the spindle's {max} rev/min: clamped"),
                    );
                }
                self.spindle_rpm = rpm.clamp(0.0, max);
                self.spindle_dir = dir;
            }
            Op::ToolChange { tool: 0, .. } => {
                // `T0 M6` empties the spindle (Fanuc and LinuxCNC convention): the tool goes back
                // to the magazine and nothing cuts until the next tool change.
                self.tool = None;
                self.last_cut = None;
                self.spindle_dir = SpindleDir::Off;
                self.activity = Activity::Waiting {
                    left_s: self.cfg.tool_change_s,
                };
                self.event(EventKind::ToolChange, "T0: spindle emptied".into());
            }
            Op::ToolChange { line, tool } => {
                if self.interp.tool_table().tool(tool).is_none() {
                    return Err(SimError::Machine {
                        program: self.program_name.clone(),
                        line,
                        message: format!("T{tool} is not in the tool table"),
                    });
                }
                self.tool = Some(tool);
                self.last_cut = None;
                self.tools.entry(tool).or_default().loaded = true;
                self.operation_of(tool);
                self.spindle_dir = SpindleDir::Off;
                self.activity = Activity::Waiting {
                    left_s: self.cfg.tool_change_s,
                };
                self.event(EventKind::ToolChange, format!("T{tool} loaded"));
            }
            Op::Coolant { on, .. } => self.coolant = on,
            Op::Stop { optional, .. } => {
                let what = if optional {
                    "optional stop (M1)"
                } else {
                    "program stop (M0)"
                };
                self.event(EventKind::ProgramStop, format!("{what}: continued"));
            }
            Op::ToolOffset {
                register,
                kind,
                value_mm,
                ..
            } => self.event(
                EventKind::ToolOffsetChange,
                format!("G10 register {register} {kind:?} = {value_mm:.4} mm"),
            ),
            Op::Warning { line, message } => self.warn(line, message),
            Op::End { .. } => self.finish(),
        }
        Ok(())
    }

    fn finish(&mut self) {
        if !self.is_finished() {
            self.activity = Activity::Finished;
            self.event(
                EventKind::ProgramEnd,
                format!("{} ended", self.program_name),
            );
        }
    }

    fn warn(&mut self, line: u32, message: String) {
        let text = format!("line {line}: {message}");
        self.warnings.push(text.clone());
        self.event(EventKind::Warning, text);
    }

    fn event(&mut self, kind: EventKind, message: String) {
        self.rec.push_event(Event {
            machine: self.cfg.machine.id.clone(),
            t_ns: self.t_ns,
            kind,
            message,
            line: (self.line > 0).then_some(self.line),
        });
    }

    /// The geometry of the tool in the spindle; a copy of the few numbers the physics reads, so
    /// the per-tick path allocates nothing.
    fn cutter(&self) -> Option<Cutter> {
        self.tool
            .and_then(|t| self.interp.tool_table().tool(t))
            .map(|t| Cutter {
                kind: t.kind,
                diameter_mm: t.diameter_mm,
                flutes: t.flutes,
            })
    }

    /// The operation sums of `tool`, added in order of first use.
    fn operation_of(&mut self, tool: u32) -> &mut OperationSums {
        let i = match self.operations.iter().position(|o| o.tool == tool) {
            Some(i) => i,
            None => {
                self.operations.push(OperationSums {
                    tool,
                    ..OperationSums::default()
                });
                self.operations.len() - 1
            }
        };
        &mut self.operations[i]
    }

    /// The process truth the tool of `diameter_mm` cuts with: the configured one, or the
    /// material's constants with the nominal dynamics of that diameter.
    fn truth_for(&self, diameter_mm: f64) -> ProcessTruth {
        self.cfg.process_truth.unwrap_or_else(|| {
            let c = self.consts;
            ProcessTruth {
                kc11_n_per_mm2: c.kc11_n_per_mm2,
                mc: c.mc,
                taylor_c_m_per_min: c.taylor_c_m_per_min,
                taylor_n: c.taylor_n,
                taylor_chip_exponent: self.cfg.wear.chip_exponent,
                ..ProcessTruth::nominal(self.cfg.material, diameter_mm)
            }
        })
    }

    /// Adds this tick's cut to the operation summary of the tool in the spindle: power,
    /// torque, the stability ratio (warning once per block when it reaches 1), roughness, wall
    /// error and tool life used, with the formulas of [`crate::process`].
    #[allow(clippy::too_many_arguments)]
    fn observe_operation(
        &mut self,
        spec: &Cutter,
        cut: &Engagement,
        load: &CutLoad,
        rpm: f64,
        feed_actual: f64,
        feed_mm: f64,
    ) {
        let Some(tool) = self.tool else {
            return;
        };
        let dt = self.dt_s;
        let truth = self.truth_for(spec.diameter_mm);
        let now = (cut.section_mm2, cut.depth_mm, load.power_w);
        let (section, ap, power_w) = match self.smoothed_cut {
            None => now,
            Some((a, d, p)) => {
                let w = 1.0 - (-feed_mm / SUMMARY_SMOOTHING_MM).exp();
                (
                    a + w * (now.0 - a),
                    d + w * (now.1 - d),
                    p + w * (now.2 - p),
                )
            }
        };
        self.smoothed_cut = Some((section, ap, power_w));
        let shaft_kw = self.cfg.power.spindle_no_load_kw_per_krpm * rpm / 1000.0 + power_w / 1000.0;
        let torque_nm = shaft_kw * 1000.0 / (2.0 * std::f64::consts::PI * rpm / 60.0);
        // The window's section over its deepest cut: on ramps and plunges it can exceed the
        // tool's diameter, which no side cut engages.
        let ae = if ap > 0.0 {
            (section / ap).min(spec.diameter_mm)
        } else {
            0.0
        };
        let fz = feed_actual / (rpm * f64::from(spec.flutes.max(1)));
        let side = self.lateral && spec.kind != ToolKind::Drill;
        let mut ratio = 0.0;
        let mut wall = 0.0;
        if side && ap > 0.0 && ae > 0.0 {
            let cached = self.stability_cache.filter(|c| {
                c.tool == tool
                    && (c.rpm / rpm - 1.0).abs() < 2e-3
                    && (c.ae_mm / ae - 1.0).abs() < 1e-2
            });
            let specific_limit = match cached {
                Some(c) => c.specific_limit,
                None => {
                    let l = specific_limit_n_per_mm(&truth, ae, spec.diameter_mm, spec.flutes, rpm);
                    self.stability_cache = Some(StabilityCache {
                        tool,
                        rpm,
                        ae_mm: ae,
                        specific_limit: l,
                    });
                    l
                }
            };
            // Worn edges and harder stock raise the cutting coefficient as they raise kc.
            let kt = tangential_coefficient(&truth, fz, ae, spec.diameter_mm)
                * self.cfg.wear.force_factor(self.current_vb())
                * cut.kc_factor
                * self.cfg.batch.kc;
            ratio = ap * kt / specific_limit;
            wall = wall_error_mm(&truth, fz, ap, ae, spec.diameter_mm);
            // Warned only against a configured truth: the nominal dynamics of a diameter are a
            // class average, not this tool's (the ratio still goes to the summary).
            if ratio >= 1.0
                && self.cfg.process_truth.is_some()
                && self.chatter_line != Some(self.line)
            {
                let line = self.line;
                self.chatter_line = Some(line);
                self.warn(
                    line,
                    format!(
                        "T{tool} chatters: stability ratio {ratio:.2} (a_p {ap:.2} mm over a limit of {:.2} mm at {rpm:.0} rev/min, a_e {ae:.2} mm)",
                        ap / ratio
                    ),
                );
            }
        }
        let life_factor = self.tools.get(&tool).map_or(1.0, |s| s.life_factor);
        let life_min =
            self.cfg
                .wear
                .tool_life_min(&self.consts, load.cutting_speed_m_per_min, load.chip_mm)
                * life_factor;
        let volume = cut.section_mm2 * feed_mm;
        let o = self.operation_of(tool);
        o.cutting_time_s += dt;
        o.cut_length_mm += feed_mm;
        o.removed_mm3 += volume;
        o.ap_weighted += cut.depth_mm * volume;
        o.ae_weighted += cut.section_mm2 / cut.depth_mm.max(1e-9) * volume;
        o.peak_power_kw = o.peak_power_kw.max(shaft_kw);
        o.peak_torque_nm = o.peak_torque_nm.max(torque_nm);
        o.peak_ratio = o.peak_ratio.max(ratio);
        o.max_fz_mm = o.max_fz_mm.max(fz);
        o.wall_error_mm = o.wall_error_mm.max(wall);
        o.life_used += dt / 60.0 / life_min;
    }

    fn current_vb(&self) -> f64 {
        self.tool
            .and_then(|t| self.tools.get(&t))
            .map_or(0.0, |s| s.vb_mm)
    }

    /// Evaluates the physics for the tick just run and records samples.
    fn update(&mut self, feed_mm: f64, rapid_mm: f64) -> Result<(), SimError> {
        let dt = self.dt_s;
        let feed_actual = feed_mm / dt * 60.0;
        let spindle_on = self.spindle_dir != SpindleDir::Off && self.spindle_rpm > 0.0;
        let rpm = if spindle_on { self.spindle_rpm } else { 0.0 };
        let cut = if feed_mm > 0.0 {
            self.window.engagement()
        } else {
            Engagement::default()
        };
        let spec = self.cutter();
        let load = match &spec {
            Some(spec) if cut.section_mm2 > 0.0 => {
                let physics_rpm = if spindle_on {
                    rpm
                } else {
                    // Engraving files often never start the spindle (a router run by hand).
                    if !self.warned_spindle_off {
                        self.warned_spindle_off = true;
                        let line = self.line;
                        self.warn(line, "cutting with the spindle stopped (no S/M3): physics assumes half the maximum speed".into());
                    }
                    self.cfg.machine.spindle_max_rpm / 2.0
                };
                kienzle(
                    &self.consts,
                    &CutConditions {
                        spindle_rpm: physics_rpm,
                        feed_mm_per_min: feed_actual,
                        tool_diameter_mm: spec.diameter_mm,
                        flutes: spec.flutes,
                        section_mm2: cut.section_mm2,
                        depth_mm: cut.depth_mm,
                        plunge: !self.lateral || spec.kind == ToolKind::Drill,
                        wear_factor: self.cfg.wear.force_factor(self.current_vb()),
                        hardness_factor: cut.kc_factor * self.cfg.batch.kc,
                    },
                )
            }
            _ => CutLoad::default(),
        };
        let cutting = load.power_w > 0.0;
        let state = if cutting {
            MachineState::Cutting
        } else if spindle_on {
            MachineState::SpindleRunning
        } else {
            MachineState::Idle
        };
        let axis_fraction =
            ((feed_mm + rapid_mm) / dt * 60.0 / self.cfg.machine.rapid_mm_per_min).min(1.0);
        // A cut with the spindle never started is modelled at half the maximum speed (warned
        // above): the spindle's power and load are taken at that speed too, not at 0 rev/min.
        let rpm = if cutting && !spindle_on {
            self.cfg.machine.spindle_max_rpm / 2.0
        } else {
            rpm
        };
        let draw = self.cfg.power.draw(
            &self.cfg.machine,
            state,
            rpm,
            load.power_w,
            axis_fraction,
            self.coolant,
        );
        if cutting {
            if let Some(t) = self.tool {
                let vb = self.current_vb();
                let life_factor = self.tools.get(&t).map_or(1.0, |s| s.life_factor);
                let rate = cut.wear_factor * self.cfg.batch.wear / life_factor
                    * self.cfg.wear.rate_mm_per_s(
                        &self.consts,
                        load.cutting_speed_m_per_min,
                        load.chip_mm,
                        vb,
                    );
                let failure_mm = self.cfg.wear.vb_failure_mm;
                let s = self.tools.entry(t).or_default();
                s.vb_mm += rate * dt;
                s.cutting_time_s += dt;
                if s.vb_mm > failure_mm && !s.broken {
                    // The edge breaks here; the wear land does not grow on past it.
                    s.vb_mm = failure_mm;
                    self.break_tool();
                    let line = self.line;
                    self.warn(
                        line,
                        format!(
                            "T{t} failed: flank wear VB reached the {failure_mm} mm failure limit at {:.0} m/min ({:.1} s tool life at these conditions); it cuts nothing from here",
                            load.cutting_speed_m_per_min,
                            60.0 * self.cfg.wear.tool_life_min(&self.consts, load.cutting_speed_m_per_min, load.chip_mm),
                        ),
                    );
                }
            }
            self.cutting_time_s += dt;
        }
        if let Some(t) = self.tool {
            if feed_mm + rapid_mm > 0.0 {
                let now = self.elapsed_s();
                let o = self.operation_of(t);
                o.first_motion_s.get_or_insert(now - dt);
                o.last_motion_s = now;
            }
        }
        match (cutting, spec) {
            (true, Some(spec)) => {
                self.observe_operation(&spec, &cut, &load, rpm, feed_actual, feed_mm);
            }
            _ => self.smoothed_cut = None,
        }
        self.energy_kwh += draw.machine_kw * dt / 3600.0;
        self.check_finite(&[
            ("cutting power (W)", load.power_w),
            ("cutting force (N)", load.force_n),
            ("chip thickness (mm)", load.chip_mm),
            ("spindle power (kW)", draw.spindle_kw),
            ("spindle load (%)", draw.spindle_load_pct),
            ("machine power (kW)", draw.machine_kw),
            ("machine energy (kWh)", self.energy_kwh),
            ("flank wear VB (mm)", self.current_vb()),
        ])?;
        self.max_load_pct = self.max_load_pct.max(draw.spindle_load_pct);
        self.track_overload(draw.spindle_load_pct);

        // Sensors: fast signals every tick, slow ones every `slow_every` ticks, tool data on change.
        let load_pct = draw.spindle_load_pct;
        self.sense(SignalKind::SpindleLoadPct, load_pct, 0.3 + 0.02 * load_pct);
        self.sense(
            SignalKind::SpindlePowerKw,
            draw.spindle_kw,
            0.02 + 0.02 * draw.spindle_kw,
        );
        self.sense(
            SignalKind::CuttingForceN,
            load.force_n,
            5.0 + 0.03 * load.force_n,
        );
        if (self.tick - 1).is_multiple_of(self.slow_every) {
            self.sense(SignalKind::SpindleSpeedRpm, rpm, 0.001 * rpm);
            self.sense(
                SignalKind::FeedProgrammedMmPerMin,
                self.programmed_feed,
                0.0,
            );
            self.sense(
                SignalKind::FeedActualMmPerMin,
                feed_actual,
                0.002 * feed_actual,
            );
            self.sense(SignalKind::FeedOverridePct, self.feed_override_pct, 0.0);
            self.sense(SignalKind::PositionXMm, self.pos[0], 0.001);
            self.sense(SignalKind::PositionYMm, self.pos[1], 0.001);
            self.sense(SignalKind::PositionZMm, self.pos[2], 0.001);
            self.sense(
                SignalKind::MachinePowerKw,
                draw.machine_kw,
                0.02 + 0.01 * draw.machine_kw,
            );
            self.sense(SignalKind::MachineEnergyKwh, self.energy_kwh, 0.0);
            self.sense(SignalKind::MachineState, state.code(), 0.0);
        }
        let tool_now = self
            .tool
            .map(|t| (t, self.interp.tool_table().register(t).radius_wear_mm));
        if tool_now != self.logged_tool {
            if let Some((t, wear)) = tool_now {
                self.sense(SignalKind::ToolNumber, t as f64, 0.0);
                self.sense(SignalKind::ToolRadiusWearOffsetMm, wear, 0.0);
            }
            self.logged_tool = tool_now;
        }
        Ok(())
    }

    /// An error naming the block and the quantity when one of `values` is infinite or NaN: a
    /// physical value the model cannot give is never passed on as a number.
    fn check_finite(&self, values: &[(&str, f64)]) -> Result<(), SimError> {
        match values.iter().find(|(_, v)| !v.is_finite()) {
            None => Ok(()),
            Some((name, v)) => Err(SimError::Machine {
                program: self.program_name.clone(),
                line: self.line,
                message: format!(
                    "{name} is {v} in {}: outside what the model can compute",
                    self.cfg.material
                ),
            }),
        }
    }

    fn track_overload(&mut self, load_pct: f64) {
        let threshold = self.overload.threshold_pct();
        match self.overload.update(load_pct, self.dt_s) {
            Some(OverloadChange::Began { load_pct }) => self.event(
                EventKind::SpindleOverload,
                format!("spindle load {load_pct:.1} % above {threshold:.0} %"),
            ),
            Some(OverloadChange::Cleared { load_pct }) => self.event(
                EventKind::SpindleOverloadCleared,
                format!("spindle load {load_pct:.1} % back below {threshold:.0} %"),
            ),
            None => {}
        }
    }

    /// Records `truth` plus Gaussian noise of standard deviation `sigma`, never below zero for
    /// magnitudes that cannot be negative.
    fn sense(&mut self, signal: SignalKind, truth: f64, sigma: f64) {
        let mut value = truth;
        if sigma > 0.0 {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            value += sigma * z;
            // Noisy signals other than positions are magnitudes.
            if !matches!(
                signal,
                SignalKind::PositionXMm | SignalKind::PositionYMm | SignalKind::PositionZMm
            ) {
                value = value.max(0.0);
            }
        }
        self.latest[signal.index()] = value;
        self.rec.push(signal, self.t_ns, value);
        self.samples += 1;
    }

    /// The run's warnings, with one for a finished run that removed nothing: a program that
    /// only cuts air is never reported as a part without saying so.
    fn result_warnings(&self) -> Vec<String> {
        let mut warnings = self.warnings.clone();
        if self.is_finished() && self.removed_mm3 <= 0.0 {
            warnings.push(format!(
                "the program removed no material: no feed move met the stock (top at Z{} mm); the tools cut only air",
                self.cfg.stock_top_mm
            ));
        }
        warnings
    }

    /// The part result so far (complete once [`Simulator::is_finished`]).
    pub fn result(&self) -> PartResult {
        let feature = if self.comp_feature.length_mm > 0.0 {
            &self.comp_feature
        } else {
            &self.side_feature
        };
        let reference_feature = (feature.length_mm > 0.0).then(|| {
            let mean = feature.error_length / feature.length_mm;
            FeatureResult {
                length_mm: feature.length_mm,
                mean_error_mm: mean,
                max_abs_error_mm: feature.max_abs_mm,
                tolerance_mm: self.cfg.tolerance_mm,
                in_tolerance: feature.max_abs_mm <= self.cfg.tolerance_mm,
            }
        });
        PartResult {
            program: self.program_name.clone(),
            machine: self.cfg.machine.id.to_string(),
            material: self.cfg.material.to_string(),
            seed: self.cfg.seed,
            cycle_time_s: self.elapsed_s(),
            cutting_time_s: self.cutting_time_s,
            energy_kwh: self.energy_kwh,
            max_spindle_load_pct: self.max_load_pct,
            overload_events: self.overload.events(),
            removed_cm3: self.removed_mm3 / 1000.0,
            reference_feature,
            tools: self
                .tools
                .iter()
                .filter(|(_, s)| s.loaded)
                .map(|(&tool, s)| ToolWear {
                    tool,
                    vb_mm: s.vb_mm,
                    cutting_time_s: s.cutting_time_s,
                })
                .collect(),
            operations: self
                .operations
                .iter()
                .map(|o| {
                    let mean = |w: f64| {
                        if o.removed_mm3 > 0.0 {
                            w / o.removed_mm3
                        } else {
                            0.0
                        }
                    };
                    let spec = self.interp.tool_table().tool(o.tool);
                    let corner_mm = match spec {
                        Some(t) if t.kind == ToolKind::BallEndMill => t.radius_mm(),
                        _ => self.cfg.corner_radius_mm,
                    };
                    let truth = self.truth_for(spec.map_or(10.0, |t| t.diameter_mm));
                    OperationSummary {
                        tool: o.tool,
                        cutting_time_s: o.cutting_time_s,
                        span_s: o.first_motion_s.map_or(0.0, |f| o.last_motion_s - f),
                        cut_length_mm: o.cut_length_mm,
                        mean_ap_mm: mean(o.ap_weighted),
                        mean_ae_mm: mean(o.ae_weighted),
                        peak_spindle_power_kw: o.peak_power_kw,
                        peak_spindle_torque_nm: o.peak_torque_nm,
                        peak_stability_ratio: o.peak_ratio,
                        roughness_ra_um: roughness_ra_um(
                            truth.roughness_factor,
                            o.max_fz_mm,
                            corner_mm,
                        ),
                        wall_error_mm: o.wall_error_mm,
                        tool_life_used: o.life_used,
                    }
                })
                .collect(),
            warnings: self.result_warnings(),
            samples: self.samples,
        }
    }
}

impl aimm_model::Actuator for Simulator<'_> {
    /// Refused while the operator has precedence ([`Panel::operator`]): the panel wins.
    fn set_feed_override(&mut self, pct: f64) -> Result<(), ActuatorError> {
        if !pct.is_finite() {
            return Err(self.refuse("feed override", format!("{pct} is not a number")));
        }
        if let Some(action) = self.panel.operator() {
            return Err(self.refuse(
                &format!("feed override {pct:.1} %"),
                format!("the operator has precedence ({action})"),
            ));
        }
        Simulator::set_feed_override(self, pct);
        Ok(())
    }

    fn set_feed_hold(&mut self, hold: bool) -> Result<(), ActuatorError> {
        Simulator::set_feed_hold(self, hold);
        Ok(())
    }

    fn set_radius_wear_offset(
        &mut self,
        register: u32,
        value_mm: f64,
    ) -> Result<(), ActuatorError> {
        if !value_mm.is_finite() {
            return Err(self.refuse("radius wear offset", format!("{value_mm} is not a number")));
        }
        Simulator::set_radius_wear_offset(self, register, value_mm);
        Ok(())
    }
}

impl Simulator<'_> {
    fn refuse(&self, command: &str, reason: String) -> ActuatorError {
        ActuatorError {
            machine: self.cfg.machine.id.to_string(),
            command: command.into(),
            reason,
        }
    }
}

/// Derives the stock block from the program: the footprint of the feed moves that reach below
/// the stock top, widened by the largest tool radius.
pub fn plan_stock(
    program: &Program,
    tools: &ToolTable,
    cfg: &SimConfig,
) -> Result<StockSpec, SimError> {
    let top = cfg.stock_top_mm;
    let margin = tools.tools().map(|t| t.radius_mm()).fold(1.0, f64::max);
    let mut bounds: Option<[f64; 4]> = None;
    for op in Interpreter::new(program, tools.clone(), cfg.interp.clone()) {
        if let Op::Move(m) = op? {
            if !m.rapid && m.from[2].min(m.to[2]) < top {
                let b = bounds.get_or_insert([
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                ]);
                for p in [m.from, m.to] {
                    b[0] = b[0].min(p[0]);
                    b[1] = b[1].min(p[1]);
                    b[2] = b[2].max(p[0]);
                    b[3] = b[3].max(p[1]);
                }
            }
        }
    }
    // Nothing reaches into the material: a token block, so the run still reports air cutting.
    let [x0, y0, x1, y1] = bounds.unwrap_or([0.0, 0.0, 0.0, 0.0]);
    Ok(StockSpec {
        x_min_mm: x0 - margin,
        y_min_mm: y0 - margin,
        x_max_mm: x1 + margin,
        y_max_mm: y1 + margin,
        top_mm: top,
    })
}
