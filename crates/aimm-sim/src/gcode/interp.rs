//! The modal state machine: walks a [`Program`] block by block, lazily, and yields [`Op`]s.
//! Execution order within a block follows Fanuc/LinuxCNC: feed mode, F, S, T, M6, spindle,
//! coolant, dwell, plane, units, cutter comp, length comp, work offset, distance mode, return
//! mode, non-modal codes (G10, G28, G53, G92), motion, then program stops.
//!
//! Motion itself (targets, arcs, cycles, compensation output) lives in [`super::motion`].

use super::arc::Plane;
use super::cutter_comp::{CutterComp, Out};
use super::cycles::CycleKind;
use super::error::{Fault, InterpError};
use super::expr::Params;
use super::flow::Flow;
use super::modal::{self, group_of, GCode};
use super::ops::{OffsetKind, Op, SpindleDir, Vec3};
use super::program::{Block, Program};
use super::words::Words;
use crate::tool_table::ToolTable;
use std::collections::{HashSet, VecDeque};

/// Length units a program is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Units {
    /// Millimetres (G21).
    Mm,
    /// Inches (G20).
    Inch,
}

/// Interpreter settings. Defaults: 0.005 mm chords, 0.013 mm arc radius tolerance, home at
/// machine [0, 0, 100] mm, mm units, zero work offsets, block delete off.
#[derive(Clone, Debug, PartialEq)]
pub struct InterpConfig {
    /// Largest distance between an arc and its chords, mm.
    pub chord_tolerance_mm: f64,
    /// How far start and end radius of an arc may differ (or 0.1 % of the radius if larger), mm.
    /// LinuxCNC's 0.0005 in by default; CAM output rounds centres.
    pub arc_radius_tolerance_mm: f64,
    /// Machine home (G28 reference and start position), machine coordinates, mm.
    pub home_mm: Vec3,
    /// Units of programs without G20/G21.
    pub default_units: Units,
    /// G54..G59 work offsets at program start, mm.
    pub work_offsets_mm: [Vec3; 6],
    /// Block-delete switch: when on, blocks starting with `/` are skipped.
    pub block_delete: bool,
}

impl Default for InterpConfig {
    fn default() -> Self {
        Self {
            chord_tolerance_mm: 0.005,
            arc_radius_tolerance_mm: 0.0127,
            home_mm: [0.0, 0.0, 100.0],
            default_units: Units::Mm,
            work_offsets_mm: [[0.0; 3]; 6],
            block_delete: false,
        }
    }
}

/// The modal motion mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Motion {
    Rapid,
    Linear,
    Cw,
    Ccw,
    /// G33.1 rigid tapping.
    Tap,
    Cycle(CycleKind),
}

/// Turns a program into machine operations, one block at a time, as the iterator is pulled.
pub struct Interpreter<'p> {
    pub(crate) program: &'p Program,
    pub(crate) tools: ToolTable,
    pub(crate) config: InterpConfig,
    pub(crate) out: VecDeque<Op>,
    finished: bool,
    last_line: u32,
    pub(crate) flow: Flow,
    pub(crate) params: Params,
    warned: HashSet<String>,
    // Modal state.
    pub(crate) motion: Motion,
    /// The G0–G3/G33.1 mode a canned cycle interrupted (G80 restores it).
    pub(crate) motion_before_cycle: Motion,
    pub(crate) plane: Plane,
    pub(crate) inch: bool,
    pub(crate) absolute: bool,
    pub(crate) arc_absolute: bool,
    per_rev: bool,
    /// F as programmed, in program units.
    feed: f64,
    pub(crate) rpm: f64,
    dir: SpindleDir,
    selected_tool: Option<u32>,
    spindle_tool: Option<u32>,
    d_register: Option<u32>,
    /// H register while G43 is active.
    h_register: Option<u32>,
    wcs: usize,
    pub(crate) work_offsets: [Vec3; 6],
    pub(crate) g92: Vec3,
    pub(crate) to_initial: bool,
    pub(crate) cycle: Option<super::cycles::Cycle>,
    /// Programmed point in machine coordinates, before length and radius compensation.
    pub(crate) pos: Vec3,
    /// Where the tool tip is (end of the last emitted move).
    pub(crate) tool_pos: Vec3,
    pub(crate) comp: CutterComp,
    pub(crate) chord_buf: Vec<Vec3>,
}

impl<'p> Interpreter<'p> {
    /// An interpreter at the start of `program`, with `tools` and `config`.
    pub fn new(program: &'p Program, tools: ToolTable, config: InterpConfig) -> Self {
        let home = config.home_mm;
        Self {
            program,
            tools,
            inch: config.default_units == Units::Inch,
            work_offsets: config.work_offsets_mm,
            config,
            out: VecDeque::new(),
            finished: false,
            last_line: 0,
            flow: Flow::new(program),
            params: Params::default(),
            warned: HashSet::new(),
            motion: Motion::Rapid,
            motion_before_cycle: Motion::Rapid,
            plane: Plane::Xy,
            absolute: true,
            arc_absolute: false,
            per_rev: false,
            feed: 0.0,
            rpm: 0.0,
            dir: SpindleDir::Off,
            selected_tool: None,
            spindle_tool: None,
            d_register: None,
            h_register: None,
            wcs: 0,
            g92: [0.0; 3],
            to_initial: true,
            cycle: None,
            pos: home,
            tool_pos: home,
            comp: CutterComp::default(),
            chord_buf: Vec::new(),
        }
    }

    /// The tool table (geometry and wear registers).
    pub fn tool_table(&self) -> &ToolTable {
        &self.tools
    }

    /// For live offset changes; they apply to blocks interpreted afterwards.
    pub fn tool_table_mut(&mut self) -> &mut ToolTable {
        &mut self.tools
    }

    /// mm per program unit.
    pub(crate) fn scale(&self) -> f64 {
        if self.inch {
            25.4
        } else {
            1.0
        }
    }

    /// Offset from programmed coordinates to machine coordinates.
    pub(crate) fn origin(&self) -> Vec3 {
        let w = self.work_offsets[self.wcs];
        [w[0] + self.g92[0], w[1] + self.g92[1], w[2] + self.g92[2]]
    }

    /// Tool-tip Z minus programmed Z under G43: H register length − actual tool length.
    pub(crate) fn length_offset(&self) -> f64 {
        let Some(h) = self.h_register else { return 0.0 };
        let h_len = self.tools.register(h).length_mm();
        // An unknown tool is taken to match its H register.
        let actual = self
            .spindle_tool
            .and_then(|t| self.tools.tool(t))
            .map_or(h_len, |t| t.length_mm);
        h_len - actual
    }

    /// Feed rate for feed moves, mm/min.
    pub(crate) fn feed_mm_per_min(&self) -> Result<f64, Fault> {
        let f = self.feed * self.scale();
        let f = if self.per_rev {
            if self.rpm <= 0.0 {
                return Err(Fault::new(
                    "G95 feed per revolution with spindle speed zero",
                ));
            }
            f * self.rpm
        } else {
            f
        };
        if f <= 0.0 {
            return Err(Fault::new("feed move with feed rate zero (no F word yet)"));
        }
        Ok(f)
    }

    /// Radius of the active cutter compensation register (D word, else the loaded tool).
    pub(crate) fn comp_radius(&self) -> Result<f64, Fault> {
        let d = self
            .d_register
            .or(self.spindle_tool)
            .ok_or_else(|| Fault::new("G41/G42 without a D word and with no tool loaded"))?;
        let r = self.tools.register(d).radius_mm();
        if r <= 0.0 {
            return Err(Fault::new(format!(
                "cutter compensation with D{d}: radius {r} mm (geometry + wear) must be positive"
            )));
        }
        Ok(r)
    }

    /// Queues an operation, behind a move that cutter compensation is still holding.
    pub(crate) fn push_op(&mut self, op: Op) {
        if self.comp.has_pending() {
            self.comp.hold(op);
        } else {
            self.out.push_back(op);
        }
    }

    /// A warning, once per `kind` per program.
    pub(crate) fn warn(&mut self, line: u32, kind: &str, message: String) {
        if self.warned.insert(kind.to_string()) {
            self.push_op(Op::Warning { line, message });
        }
    }

    fn finish(&mut self, line: u32) {
        let mut outs = Vec::new();
        self.comp.flush(&mut outs);
        self.output(outs);
        self.out.push_back(Op::End { line });
        self.finished = true;
    }

    /// Interprets the next block (or ends the program).
    fn step(&mut self) -> Result<(), InterpError> {
        let Some(index) = self.flow.next_block() else {
            self.finish(self.last_line);
            return Ok(());
        };
        let block = &self.program.blocks[index];
        self.last_line = block.line;
        let result = if block.deletable && self.config.block_delete {
            Ok(())
        } else {
            self.block(index, block)
        };
        result.map_err(|f| InterpError {
            source: self.program.name.clone(),
            line: block.line,
            column: f.column,
            message: f.message,
        })
    }

    fn block(&mut self, index: usize, block: &Block) -> Result<(), Fault> {
        if let Some(o) = &block.o_word {
            return self.flow.o_word(self.program, index, o, &mut self.params);
        }
        let w = Words::evaluate(block, &self.params)?;
        // Parameters are set after the block's words have read the old values.
        for a in &block.assignments {
            self.params.assign(a)?;
        }
        self.execute(block.line, &w)
    }

    fn execute(&mut self, line: u32, w: &Words) -> Result<(), Fault> {
        for &(g, col) in &w.g {
            if group_of(g).is_none() {
                return Err(Fault::at(col, format!("unknown G code {}", modal::name(g))));
            }
        }
        if let Some(col) = w.g(930) {
            return Err(Fault::at(col, "G93 inverse-time feed is not supported"));
        }
        if w.g(940).is_some() {
            self.per_rev = false;
        }
        if w.g(950).is_some() {
            self.per_rev = true;
        }
        if let Some(f) = w.get('F') {
            if f < 0.0 {
                return Err(Fault::maybe(w.column('F'), "negative feed rate"));
            }
            self.feed = f;
        }
        if let Some(s) = w.get('S') {
            if s < 0.0 {
                return Err(Fault::maybe(w.column('S'), "negative spindle speed"));
            }
            self.rpm = s;
        }
        if let Some(t) = w.index('T')? {
            self.selected_tool = Some(t);
        }
        self.m_codes(line, w)?;
        if w.g(40).is_some() {
            self.dwell(line, w)?;
        }
        self.modes(line, w)?;
        if w.g(100).is_some() {
            return self.g10(line, w);
        }
        if w.g(520).is_some() {
            self.warn(
                line,
                "G52",
                "G52 local coordinate shift is not modelled; ignored".into(),
            );
        }
        if w.g(920).is_some() {
            self.g92_set(w);
        }
        if w.g(921).is_some() {
            self.g92 = [0.0; 3];
        }
        let homing = w.g(280).is_some() || w.g(300).is_some();
        if w.g(300).is_some() {
            self.warn(
                line,
                "G30",
                "G30 second reference point is modelled as G28 home".into(),
            );
        }
        // These codes read X/Y/Z as their own arguments, not as a move.
        let axis_words_used = homing || [40, 520, 680, 920].iter().any(|&g| w.g(g).is_some());
        for letter in ['A', 'B', 'C', 'U', 'V', 'W'] {
            if w.has(letter) {
                self.warn(
                    line,
                    "extra axes",
                    format!("{letter} axis words are not modelled (3-axis machine); ignored"),
                );
            }
        }
        if homing {
            self.home(line, w)?;
        } else if !axis_words_used {
            self.motion(line, w)?;
        }
        for stop in [0, 1] {
            if w.m(stop).is_some() {
                self.push_op(Op::Stop {
                    line,
                    optional: stop == 1,
                });
            }
        }
        if w.m(2).is_some() || w.m(30).is_some() {
            self.finish(line);
        }
        Ok(())
    }

    fn m_codes(&mut self, line: u32, w: &Words) -> Result<(), Fault> {
        for &(m, _) in &w.m {
            if !matches!(m, 0..=9 | 30) {
                let what = match m {
                    19 => "spindle orientation",
                    98 | 99 => "subprogram call/return",
                    48 | 49 => "override enable/disable",
                    _ => "M code",
                };
                self.warn(
                    line,
                    &format!("M{m}"),
                    format!("M{m} ({what}) is not modelled; ignored"),
                );
            }
        }
        if let Some(col) = w.m(6) {
            let tool = self
                .selected_tool
                .ok_or_else(|| Fault::at(col, "M6 tool change with no T word before it"))?;
            self.spindle_tool = Some(tool);
            self.push_op(Op::ToolChange { line, tool });
        }
        let dir = [
            (3, SpindleDir::Clockwise),
            (4, SpindleDir::CounterClockwise),
            (5, SpindleDir::Off),
        ]
        .into_iter()
        .filter(|(m, _)| w.m(*m).is_some())
        .map(|(_, d)| d)
        .collect::<Vec<_>>();
        if dir.len() > 1 {
            return Err(Fault::maybe(
                w.m(4).or(w.m(5)),
                "M3, M4 and M5 conflict in one block",
            ));
        }
        if let Some(d) = dir.first() {
            self.dir = *d;
        }
        if !dir.is_empty() || w.has('S') {
            self.push_op(Op::Spindle {
                line,
                rpm: self.rpm,
                dir: self.dir,
            });
        }
        if w.m(7).is_some() || w.m(8).is_some() {
            self.push_op(Op::Coolant { line, on: true });
        }
        if w.m(9).is_some() {
            self.push_op(Op::Coolant { line, on: false });
        }
        Ok(())
    }

    /// G4: Fanuc P in milliseconds, or X in seconds.
    fn dwell(&mut self, line: u32, w: &Words) -> Result<(), Fault> {
        let seconds = match (w.get('P'), w.get('X')) {
            (Some(p), None) => p / 1000.0,
            (None, Some(x)) => x,
            _ => {
                return Err(Fault::maybe(
                    w.g(40),
                    "G4 needs exactly one of P (ms) or X (s)",
                ))
            }
        };
        if seconds < 0.0 {
            return Err(Fault::maybe(w.g(40), "negative dwell time"));
        }
        self.push_op(Op::Dwell { line, seconds });
        Ok(())
    }

    /// Plane, units, compensation, work offsets, distance and return modes.
    fn modes(&mut self, line: u32, w: &Words) -> Result<(), Fault> {
        for (g, plane) in [(170, Plane::Xy), (180, Plane::Zx), (190, Plane::Yz)] {
            if w.g(g).is_some() {
                self.plane = plane;
            }
        }
        if w.g(200).is_some() {
            self.inch = true;
        }
        if w.g(210).is_some() {
            self.inch = false;
        }
        if let Some(d) = w.index('D')? {
            self.d_register = Some(d);
        }
        if w.g(400).is_some() {
            let mut outs = Vec::new();
            self.comp.cancel(&mut outs);
            self.output(outs);
        }
        for (g, left) in [(410, true), (420, false)] {
            if let Some(col) = w.g(g) {
                if self.plane != Plane::Xy {
                    return Err(Fault::at(
                        col,
                        "cutter compensation is supported only in G17",
                    ));
                }
                self.comp.start(left);
            }
        }
        if w.g(430).is_some() {
            let h = w.index('H')?.or(self.spindle_tool).or(self.selected_tool);
            self.h_register = Some(h.ok_or_else(|| {
                Fault::maybe(w.g(430), "G43 without H and with no tool selected")
            })?);
        } else if let Some(col) = w.column('H') {
            if w.g(490).is_none() {
                return Err(Fault::at(col, "H word without G43"));
            }
        }
        if w.g(490).is_some() {
            self.h_register = None;
        }
        for (i, g) in [540, 550, 560, 570, 580, 590].into_iter().enumerate() {
            if w.g(g).is_some() {
                self.wcs = i;
            }
        }
        for (g, on) in [(900, true), (910, false)] {
            if w.g(g).is_some() {
                self.absolute = on;
            }
        }
        for (g, on) in [(901, true), (911, false)] {
            if w.g(g).is_some() {
                self.arc_absolute = on;
            }
        }
        for (g, on) in [(980, true), (990, false)] {
            if w.g(g).is_some() {
                self.to_initial = on;
            }
        }
        if w.g(160).is_some() {
            self.warn(
                line,
                "G16",
                "G16 polar coordinates are not modelled; words read as Cartesian".into(),
            );
        }
        if w.g(680).is_some() {
            self.warn(
                line,
                "G68",
                "G68 coordinate rotation is not modelled; ignored".into(),
            );
        }
        Ok(())
    }

    /// G10: L2/L20 work offsets, L1/L10–L13 tool offset registers.
    fn g10(&mut self, line: u32, w: &Words) -> Result<(), Fault> {
        let col = w.g(100).unwrap_or(0);
        let l = w
            .index('L')?
            .ok_or_else(|| Fault::at(col, "G10 needs an L word"))?;
        let p = w
            .index('P')?
            .ok_or_else(|| Fault::at(col, "G10 needs a P word"))?;
        let scale = self.scale();
        match l {
            2 | 20 => {
                let slot = match p {
                    0 => self.wcs,
                    1..=6 => p as usize - 1,
                    _ => {
                        return Err(Fault::at(
                            w.column('P').unwrap_or(col),
                            "G10 L2/L20 P must be 0..6",
                        ))
                    }
                };
                for (i, letter) in ['X', 'Y', 'Z'].into_iter().enumerate() {
                    let Some(v) = w.get(letter) else { continue };
                    let v = v * scale;
                    let o = &mut self.work_offsets[slot][i];
                    *o = if l == 20 {
                        // The current point gets program coordinate v.
                        self.pos[i] - self.g92[i] - v
                    } else if self.absolute {
                        v
                    } else {
                        *o + v
                    };
                }
                Ok(())
            }
            1 | 10..=13 => {
                let kind = match l {
                    1 | 10 => OffsetKind::LengthGeometry,
                    11 => OffsetKind::LengthWear,
                    12 => OffsetKind::RadiusGeometry,
                    _ => OffsetKind::RadiusWear,
                };
                let r = w
                    .get('R')
                    .ok_or_else(|| Fault::at(col, "G10 tool offset needs an R value"))?;
                let mut value_mm = r * scale;
                if !self.absolute {
                    let reg = self.tools.register(p);
                    value_mm += match kind {
                        OffsetKind::LengthGeometry => reg.length_geometry_mm,
                        OffsetKind::LengthWear => reg.length_wear_mm,
                        OffsetKind::RadiusGeometry => reg.radius_geometry_mm,
                        OffsetKind::RadiusWear => reg.radius_wear_mm,
                    };
                }
                self.tools.set(p, kind, value_mm);
                self.push_op(Op::ToolOffset {
                    line,
                    register: p,
                    kind,
                    value_mm,
                });
                Ok(())
            }
            _ => Err(Fault::at(
                w.column('L').unwrap_or(col),
                format!("G10 L{l} is not supported"),
            )),
        }
    }

    /// G92: shift coordinates so the current point has the given program coordinates.
    fn g92_set(&mut self, w: &Words) {
        let scale = self.scale();
        let wo = self.work_offsets[self.wcs];
        for (i, letter) in ['X', 'Y', 'Z'].into_iter().enumerate() {
            if let Some(v) = w.get(letter) {
                self.g92[i] = self.pos[i] - wo[i] - v * scale;
            }
        }
    }

    /// Emits compensated output in order, turning pieces into moves.
    pub(crate) fn output(&mut self, outs: Vec<Out>) {
        for o in outs {
            match o {
                Out::Seg(seg, r) => self.output_segment(seg, Some(r)),
                Out::Op(op) => self.out.push_back(op),
                Out::ZMove(seg, r) => {
                    let to = [self.tool_pos[0], self.tool_pos[1], seg.to[2]];
                    self.output_segment(
                        super::segment::Segment {
                            from: self.tool_pos,
                            to,
                            ..seg
                        },
                        Some(r),
                    );
                }
            }
        }
    }
}

/// The canned cycle a G code selects (G73, G81–G83).
pub(crate) fn is_cycle(g: GCode) -> Option<CycleKind> {
    match g {
        810 => Some(CycleKind::Drill),
        820 => Some(CycleKind::DrillDwell),
        830 => Some(CycleKind::Peck),
        730 => Some(CycleKind::ChipBreak),
        _ => None,
    }
}

impl Iterator for Interpreter<'_> {
    type Item = Result<Op, InterpError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(op) = self.out.pop_front() {
                return Some(Ok(op));
            }
            if self.finished {
                return None;
            }
            if let Err(e) = self.step() {
                self.finished = true;
                self.out.clear();
                return Some(Err(e));
            }
        }
    }
}
