//! Motion blocks: targets in machine coordinates (work offsets, G91, G53, inches), lines, arcs,
//! canned cycles, rigid tapping and G28 homing, then tool-length and cutter-radius compensation
//! and chords.

use super::arc::{center_from_radius, check_radius, Arc, SAME_POINT_MM};
use super::cycles::{self, Cycle, CycleKind, Step};
use super::error::Fault;
use super::interp::{is_cycle, Interpreter, Motion};
use super::modal;
use super::ops::{Move, Op, Vec3};
use super::segment::Segment;
use super::words::Words;

const AXES: [char; 3] = ['X', 'Y', 'Z'];

impl Interpreter<'_> {
    /// Programmed target of the block's X/Y/Z words, machine coordinates (before compensation).
    fn target(&self, w: &Words, machine: bool) -> Vec3 {
        let scale = self.scale();
        let origin = self.origin();
        let dz = self.length_offset();
        let mut t = self.pos;
        for (i, letter) in AXES.into_iter().enumerate() {
            let Some(v) = w.get(letter) else { continue };
            let v = v * scale;
            t[i] = if machine {
                // G53 names where the tip goes.
                v - if i == 2 { dz } else { 0.0 }
            } else if self.absolute {
                v + origin[i]
            } else {
                t[i] + v
            };
        }
        t
    }

    fn tip(&self, p: Vec3) -> Vec3 {
        [p[0], p[1], p[2] + self.length_offset()]
    }

    /// The block's motion, if it has any.
    pub(crate) fn motion(&mut self, line: u32, w: &Words) -> Result<(), Fault> {
        let mut mode = None;
        let mut cycle_code = None;
        for &(g, col) in &w.g {
            match g {
                0 | 10 | 20 | 30 | 331 => mode = Some((g, col)),
                730 | 800 | 810 | 820 | 830 | 840 | 850 | 860 | 890 => cycle_code = Some((g, col)),
                _ => {}
            }
        }
        if let (Some((m, col)), Some((c, _))) = (mode, cycle_code) {
            if c != 800 {
                let msg = format!(
                    "{} and {} conflict in one block",
                    modal::name(m),
                    modal::name(c)
                );
                return Err(Fault::at(col, msg));
            }
        }
        let mut new_cycle = false;
        if let Some((c, _)) = cycle_code {
            let kind = match is_cycle(c) {
                Some(k) => Some(k),
                None if c == 800 => None,
                None => {
                    let name = modal::name(c);
                    self.warn(
                        line,
                        &name,
                        format!("{name} is modelled as a G81 drilling cycle"),
                    );
                    Some(CycleKind::Drill)
                }
            };
            match kind {
                Some(k) => {
                    if !matches!(self.motion, Motion::Cycle(_)) {
                        self.cycle = None;
                        self.motion_before_cycle = self.motion;
                    }
                    self.motion = Motion::Cycle(k);
                    new_cycle = true;
                }
                // Fanuc: cycles are their own modal group; G80 brings back the G0/G1 mode that
                // was active before the cycle.
                None => {
                    if matches!(self.motion, Motion::Cycle(_)) {
                        self.motion = self.motion_before_cycle;
                    }
                    self.cycle = None;
                }
            }
        }
        if let Some((m, _)) = mode {
            self.motion = match m {
                0 => Motion::Rapid,
                10 => Motion::Linear,
                20 => Motion::Cw,
                30 => Motion::Ccw,
                _ => Motion::Tap,
            };
            self.cycle = None;
        }
        let machine = w.g(530).is_some();
        if let (true, Some(col)) = (machine, w.g(530)) {
            if !matches!(self.motion, Motion::Rapid | Motion::Linear) {
                return Err(Fault::at(col, "G53 needs G0 or G1"));
            }
        }
        let arc_words = ['I', 'J', 'K', 'R'].iter().any(|l| w.has(*l));
        match self.motion {
            Motion::Rapid | Motion::Linear if w.any_axis() => {
                let to = self.target(w, machine);
                self.line_to(line, to, self.motion == Motion::Rapid)
            }
            Motion::Cw | Motion::Ccw if w.any_axis() || arc_words => self.arc(line, w),
            Motion::Tap if w.any_axis() => self.tap(line, w),
            Motion::Cycle(kind) if w.any_axis() || new_cycle => self.cycle(line, w, kind),
            _ => Ok(()),
        }
    }

    /// A straight move of the programmed point to `to`.
    fn line_to(&mut self, line: u32, to: Vec3, rapid: bool) -> Result<(), Fault> {
        let feed = if rapid { 0.0 } else { self.feed_mm_per_min()? };
        let seg = Segment {
            line,
            from: self.tip(self.pos),
            to: self.tip(to),
            arc: None,
            rapid,
            feed_mm_per_min: feed,
        };
        self.pos = to;
        self.emit(seg)
    }

    fn arc(&mut self, line: u32, w: &Words) -> Result<(), Fault> {
        let ccw = self.motion == Motion::Ccw;
        let g_col = w.g(if ccw { 30 } else { 20 });
        let (a, b, _) = self.plane.axes();
        let to = self.target(w, false);
        let (s3, e3) = (self.tip(self.pos), self.tip(to));
        let (s, e) = (self.plane.project(s3), self.plane.project(e3));
        let offsets = ['I', 'J', 'K'];
        let (la, lb) = (offsets[a], offsets[b]);
        let scale = self.scale();
        let tol = self.config.arc_radius_tolerance_mm;
        let same = (s[0] - e[0]).hypot(s[1] - e[1]) < SAME_POINT_MM;
        let center = if let Some(r) = w.get('R') {
            let col = w.column('R');
            center_from_radius(s, e, r * scale, ccw, tol).map_err(|m| Fault {
                column: col,
                message: m.to_string(),
            })?
        } else if w.has(la) || w.has(lb) {
            let col = w.column(la).or(w.column(lb));
            let (ia, ib) = (
                w.get(la).unwrap_or(0.0) * scale,
                w.get(lb).unwrap_or(0.0) * scale,
            );
            let origin = self.tip(self.origin());
            let absolute = [ia + origin[a], ib + origin[b]];
            let incremental = [s[0] + ia, s[1] + ib];
            let first = if self.arc_absolute {
                absolute
            } else {
                incremental
            };
            match check_radius(s, e, first, tol) {
                Ok(()) => first,
                // Some controls (and files written for them) take I/J/K as absolute centres.
                Err(_) if !self.arc_absolute && check_radius(s, e, absolute, tol).is_ok() => {
                    self.warn(
                        line,
                        "absolute arc centres",
                        "arc centre I/J/K fits only as absolute coordinates (as with G90.1); read that way".into(),
                    );
                    absolute
                }
                Err(m) => {
                    return Err(Fault {
                        column: col,
                        message: m.to_string(),
                    })
                }
            }
        } else {
            return Err(Fault {
                column: g_col,
                message: format!(
                    "G{} arc needs I/J/K centre words of its plane or R",
                    if ccw { 3 } else { 2 }
                ),
            });
        };
        let arc = Arc {
            plane: self.plane,
            center,
            ccw,
            full: same,
        };
        let feed = self.feed_mm_per_min()?;
        self.pos = to;
        self.emit(Segment {
            line,
            from: s3,
            to: e3,
            arc: Some(arc),
            rapid: false,
            feed_mm_per_min: feed,
        })
    }

    /// G33.1: feed to the target at pitch × speed, then back out the same way.
    fn tap(&mut self, line: u32, w: &Words) -> Result<(), Fault> {
        self.warn(
            line,
            "G33.1",
            "G33.1 rigid tapping is modelled as a feed move in and back out at pitch × spindle speed".into(),
        );
        let col = w.g(331);
        let pitch = w.get('K').ok_or_else(|| Fault {
            column: col,
            message: "G33.1 needs K (pitch)".into(),
        })?;
        if self.rpm <= 0.0 {
            return Err(Fault {
                column: col,
                message: "G33.1 tapping with spindle speed zero".into(),
            });
        }
        let feed = pitch.abs() * self.scale() * self.rpm;
        let start = self.pos;
        let to = self.target(w, false);
        for p in [to, start] {
            let seg = Segment {
                line,
                from: self.tip(self.pos),
                to: self.tip(p),
                arc: None,
                rapid: false,
                feed_mm_per_min: feed,
            };
            self.pos = p;
            self.emit(seg)?;
        }
        Ok(())
    }

    fn cycle(&mut self, line: u32, w: &Words, kind: CycleKind) -> Result<(), Fault> {
        let col =
            w.g.iter()
                .find(|(g, _)| (730..=890).contains(g))
                .map(|&(_, c)| c);
        let fault = |m: &str| Fault {
            column: col,
            message: m.to_string(),
        };
        if self.plane != super::arc::Plane::Xy {
            return Err(fault("canned cycles are supported only in G17"));
        }
        if self.comp.is_active() {
            return Err(fault("canned cycle with cutter compensation active"));
        }
        let scale = self.scale();
        let origin = self.origin();
        let mut c = self.cycle.unwrap_or(Cycle {
            kind,
            r_z: f64::NAN,
            bottom_z: f64::NAN,
            peck: 0.0,
            dwell_s: 0.0,
            to_initial: self.to_initial,
            initial_z: self.pos[2],
        });
        c.kind = kind;
        c.to_initial = self.to_initial;
        if let Some(r) = w.get('R') {
            c.r_z = if self.absolute {
                r * scale + origin[2]
            } else {
                c.initial_z + r * scale
            };
        }
        if let Some(z) = w.get('Z') {
            c.bottom_z = if self.absolute {
                z * scale + origin[2]
            } else {
                c.r_z + z * scale
            };
        }
        if let Some(q) = w.get('Q') {
            c.peck = q.abs() * scale;
        }
        if let Some(p) = w.get('P') {
            c.dwell_s = p / 1000.0;
        }
        if c.r_z.is_nan() || c.bottom_z.is_nan() {
            return Err(fault("canned cycle needs R and Z"));
        }
        self.cycle = Some(c);
        let mut hole = self.pos;
        for (i, letter) in ['X', 'Y'].into_iter().enumerate() {
            if let Some(v) = w.get(letter) {
                hole[i] = if self.absolute {
                    v * scale + origin[i]
                } else {
                    hole[i] + v * scale
                };
            }
        }
        let steps =
            cycles::expand(&c, self.pos, [hole[0], hole[1]]).map_err(|m| fault(&m.to_string()))?;
        for step in steps {
            match step {
                Step::Rapid(p) => self.line_to(line, p, true)?,
                Step::Feed(p) => self.line_to(line, p, false)?,
                Step::Dwell(seconds) => self.push_op(Op::Dwell { line, seconds }),
            }
        }
        Ok(())
    }

    /// G28/G30: rapid via the intermediate point, then the named axes (all if none) go home.
    pub(crate) fn home(&mut self, line: u32, w: &Words) -> Result<(), Fault> {
        let via = self.target(w, false);
        self.line_to(line, via, true)?;
        let named: Vec<usize> = (0..3).filter(|&i| w.has(AXES[i])).collect();
        let axes = if named.is_empty() {
            vec![0, 1, 2]
        } else {
            named
        };
        let dz = self.length_offset();
        let mut to = self.pos;
        for i in axes {
            to[i] = self.config.home_mm[i] - if i == 2 { dz } else { 0.0 };
        }
        self.line_to(line, to, true)
    }

    /// Sends a programmed piece through cutter compensation (if active) to the output.
    fn emit(&mut self, seg: Segment) -> Result<(), Fault> {
        if self.comp.is_active() {
            let r = self.comp_radius()?;
            let mut outs = Vec::new();
            self.comp
                .push(seg, r, self.tool_pos, &mut outs)
                .map_err(Fault::new)?;
            self.output(outs);
        } else {
            self.output_segment(seg, None);
        }
        Ok(())
    }

    /// Moves for one piece from the tool position; arcs become chords.
    pub(crate) fn output_segment(&mut self, seg: Segment, comp_radius_mm: Option<f64>) {
        let mut points = std::mem::take(&mut self.chord_buf);
        points.clear();
        if let Some(arc) = seg.arc {
            // The tool is not on the arc's start when length compensation changed since the last
            // move, or when leaving cutter compensation: go there first.
            points.push(seg.from);
            arc.chords(
                seg.from,
                seg.to,
                self.config.chord_tolerance_mm,
                &mut points,
            );
        } else {
            points.push(seg.to);
        }
        for &p in &points {
            let from = self.tool_pos;
            let d =
                ((p[0] - from[0]).powi(2) + (p[1] - from[1]).powi(2) + (p[2] - from[2]).powi(2))
                    .sqrt();
            if d < 1e-9 {
                continue;
            }
            self.out.push_back(Op::Move(Move {
                line: seg.line,
                from,
                to: p,
                rapid: seg.rapid,
                feed_mm_per_min: seg.feed_mm_per_min,
                comp_radius_mm,
            }));
            self.tool_pos = p;
        }
        self.chord_buf = points;
    }
}
