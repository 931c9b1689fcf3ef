//! Cutter radius compensation (G41/G42) in the XY plane: offsets the programmed path left or
//! right by the D register's radius and joins consecutive offset pieces — intersecting them at
//! inside corners, rolling round the corner point on an arc at outside corners. Start-up moves
//! from the uncompensated position straight onto the first offset piece; after G40 the next move
//! runs from the offset position back to the programmed path (Fanuc type A start-up and cancel).
//!
//! One offset piece is held back until the next one is known (its end depends on the corner);
//! operations programmed in between are held with it so the output keeps program order.

use super::arc::{Arc, Plane, SAME_POINT_MM};
use super::ops::{Op, Vec3};
use super::segment::Segment;

type V2 = [f64; 2];

fn sub(a: V2, b: V2) -> V2 {
    [a[0] - b[0], a[1] - b[1]]
}
fn add(a: V2, b: V2) -> V2 {
    [a[0] + b[0], a[1] + b[1]]
}
fn scale(a: V2, k: f64) -> V2 {
    [a[0] * k, a[1] * k]
}
fn cross(a: V2, b: V2) -> f64 {
    a[0] * b[1] - a[1] * b[0]
}
fn dot(a: V2, b: V2) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}
fn len(a: V2) -> f64 {
    a[0].hypot(a[1])
}
fn unit(a: V2) -> V2 {
    scale(a, 1.0 / len(a))
}
fn xy(p: Vec3) -> V2 {
    [p[0], p[1]]
}
fn with_xy(p: Vec3, q: V2) -> Vec3 {
    [q[0], q[1], p[2]]
}

/// What compensation hands back for output, in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Out {
    /// An offset path piece, with the radius it was offset by.
    Seg(Segment, f64),
    /// A held non-motion operation.
    Op(Op),
    /// A move along Z only, at whatever XY the tool has reached.
    ZMove(Segment, f64),
}

struct Pending {
    /// Offset geometry, end not yet final.
    seg: Segment,
    radius: f64,
    /// Programmed end point (the corner), and the programmed tangent there.
    corner: V2,
    tangent: V2,
}

#[derive(Default)]
pub(crate) struct CutterComp {
    /// +1 for G41 (tool left of the path), −1 for G42; `None` when off.
    side: Option<f64>,
    pending: Option<Pending>,
    held: Vec<Out>,
}

/// Unit tangent of a programmed piece at its start or end.
fn tangent(seg: &Segment, at_end: bool) -> V2 {
    match seg.arc {
        None => unit(sub(xy(seg.to), xy(seg.from))),
        Some(a) => {
            let p = if at_end { xy(seg.to) } else { xy(seg.from) };
            let e = unit(sub(p, a.center));
            if a.ccw {
                [-e[1], e[0]]
            } else {
                [e[1], -e[0]]
            }
        }
    }
}

/// The piece offset by `r` to side `s` (+1 left); errors if an arc would shrink to nothing.
fn offset(seg: &Segment, s: f64, r: f64) -> Result<Segment, String> {
    let mut out = *seg;
    match seg.arc {
        None => {
            let t = tangent(seg, false);
            let off = scale([-t[1], t[0]], s * r);
            out.from = with_xy(seg.from, add(xy(seg.from), off));
            out.to = with_xy(seg.to, add(xy(seg.to), off));
        }
        Some(a) => {
            let radius = len(sub(xy(seg.from), a.center));
            // Left of a counter-clockwise arc is towards its centre.
            let new_radius = if a.ccw {
                radius - s * r
            } else {
                radius + s * r
            };
            if new_radius <= SAME_POINT_MM {
                return Err(format!(
                    "cutter radius {r:.4} mm is too large for the {radius:.4} mm arc it compensates"
                ));
            }
            let move_out = |p: Vec3| {
                let e = unit(sub(xy(p), a.center));
                let r_here = len(sub(xy(p), a.center)) * new_radius / radius;
                with_xy(p, add(a.center, scale(e, r_here)))
            };
            out.from = move_out(seg.from);
            out.to = move_out(seg.to);
        }
    }
    Ok(out)
}

/// Intersections of two offset pieces taken as full lines/circles.
fn intersections(a: &Segment, b: &Segment) -> Vec<V2> {
    match (a.arc, b.arc) {
        (None, None) => {
            let (p, d) = (xy(a.from), sub(xy(a.to), xy(a.from)));
            let (q, e) = (xy(b.from), sub(xy(b.to), xy(b.from)));
            let c = cross(d, e);
            if c.abs() < 1e-12 {
                return vec![];
            }
            vec![add(p, scale(d, cross(sub(q, p), e) / c))]
        }
        (None, Some(arc)) => line_circle(a, arc.center, len(sub(xy(b.from), arc.center))),
        (Some(arc), None) => line_circle(b, arc.center, len(sub(xy(a.to), arc.center))),
        (Some(c1), Some(c2)) => circle_circle(
            c1.center,
            len(sub(xy(a.to), c1.center)),
            c2.center,
            len(sub(xy(b.from), c2.center)),
        ),
    }
}

fn line_circle(l: &Segment, c: V2, r: f64) -> Vec<V2> {
    let (p, d) = (xy(l.from), sub(xy(l.to), xy(l.from)));
    let f = sub(p, c);
    let (qa, qb, qc) = (dot(d, d), 2.0 * dot(f, d), dot(f, f) - r * r);
    let disc = qb * qb - 4.0 * qa * qc;
    if qa < 1e-18 || disc < 0.0 {
        return vec![];
    }
    let sq = disc.sqrt();
    [(-qb - sq) / (2.0 * qa), (-qb + sq) / (2.0 * qa)]
        .iter()
        .map(|t| add(p, scale(d, *t)))
        .collect()
}

fn circle_circle(c1: V2, r1: f64, c2: V2, r2: f64) -> Vec<V2> {
    let d = len(sub(c2, c1));
    if d < 1e-12 || d > r1 + r2 || d < (r1 - r2).abs() {
        return vec![];
    }
    let a = (r1 * r1 - r2 * r2 + d * d) / (2.0 * d);
    let h = (r1 * r1 - a * a).max(0.0).sqrt();
    let u = scale(sub(c2, c1), 1.0 / d);
    let m = add(c1, scale(u, a));
    let n = [-u[1], u[0]];
    vec![add(m, scale(n, h)), sub(m, scale(n, h))]
}

/// `seg` with its end (or start) moved to `x`, if that only shortens it.
fn trimmed(seg: &Segment, x: V2, at_end: bool) -> Option<Segment> {
    let mut t = *seg;
    if at_end {
        t.to = with_xy(seg.to, x);
    } else {
        t.from = with_xy(seg.from, x);
    }
    let shorter = match seg.arc {
        None => {
            let d = sub(xy(seg.to), xy(seg.from));
            dot(sub(xy(t.to), xy(t.from)), d) >= 0.0 && t.xy_length() <= seg.xy_length() + 1e-9
        }
        Some(a) => a.sweep(t.from, t.to) <= a.sweep(seg.from, seg.to) + 1e-9,
    };
    shorter.then_some(t)
}

impl CutterComp {
    pub(crate) fn is_active(&self) -> bool {
        self.side.is_some()
    }

    pub(crate) fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// G41 (`left`) or G42. A change of side or radius while active applies from the next piece.
    pub(crate) fn start(&mut self, left: bool) {
        self.side = Some(if left { 1.0 } else { -1.0 });
    }

    /// G40: the held piece ends at its own offset end; the next move leaves compensation.
    pub(crate) fn cancel(&mut self, out: &mut Vec<Out>) {
        self.flush(out);
        self.side = None;
    }

    /// Emits the held piece (ending at its own offset end) and what was held behind it.
    pub(crate) fn flush(&mut self, out: &mut Vec<Out>) {
        if let Some(p) = self.pending.take() {
            out.push(Out::Seg(p.seg, p.radius));
        }
        out.append(&mut self.held);
    }

    /// Holds a non-motion operation behind the pending piece.
    pub(crate) fn hold(&mut self, op: Op) {
        self.held.push(Out::Op(op));
    }

    /// Adds a programmed piece (tool-tip coordinates) with compensation radius `radius` (> 0);
    /// `tool` is where the tool is now (the start-up move begins there).
    pub(crate) fn push(
        &mut self,
        seg: Segment,
        radius: f64,
        tool: Vec3,
        out: &mut Vec<Out>,
    ) -> Result<(), String> {
        let s = self.side.expect("push only while compensation is active");
        if seg.arc.is_some_and(|a| a.plane != Plane::Xy) {
            return Err("cutter compensation works only for arcs in the G17 (XY) plane".into());
        }
        if seg.arc.is_none() && seg.xy_length() < SAME_POINT_MM {
            let z = Out::ZMove(seg, radius);
            match self.pending {
                Some(_) => self.held.push(z),
                None => out.push(z),
            }
            return Ok(());
        }
        let mut b = offset(&seg, s, radius)?;
        let corner = xy(seg.to);
        let tangent_end = tangent(&seg, true);
        match self.pending.take() {
            None => {
                // Start-up: a line runs from the tool straight to its offset end; an arc is
                // reached by a straight link to its offset start.
                if seg.arc.is_none() {
                    b.from = tool;
                } else if len(sub(xy(b.from), xy(tool))) > SAME_POINT_MM {
                    let link = Segment {
                        arc: None,
                        from: tool,
                        to: with_xy(tool, xy(b.from)),
                        ..seg
                    };
                    out.push(Out::Seg(link, radius));
                }
            }
            Some(a) => {
                let b_start = self.join(a, &mut b, tangent(&seg, false), s, xy(seg.from), out);
                b.from = b_start;
            }
        }
        self.pending = Some(Pending {
            seg: b,
            radius,
            corner,
            tangent: tangent_end,
        });
        Ok(())
    }

    /// Emits `a` ended at the corner it makes with `b`, the held operations, and any link;
    /// returns where `b` starts.
    fn join(
        &mut self,
        a: Pending,
        b: &mut Segment,
        b_tangent: V2,
        s: f64,
        corner: V2,
        out: &mut Vec<Out>,
    ) -> Vec3 {
        let mut a_seg = a.seg;
        let turn = cross(a.tangent, b_tangent);
        let gap = len(sub(xy(a_seg.to), xy(b.from)));
        let mut link = None;
        if gap > SAME_POINT_MM {
            if s * turn > 1e-9 {
                // Inside corner: meet where the two offset pieces cross, nearest the corner.
                let best = intersections(&a_seg, b).into_iter().min_by(|p, q| {
                    len(sub(*p, a.corner))
                        .partial_cmp(&len(sub(*q, a.corner)))
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                match best.and_then(|x| Some((trimmed(&a_seg, x, true)?, trimmed(b, x, false)?))) {
                    Some((ta, tb)) => {
                        a_seg = ta;
                        *b = tb;
                    }
                    None => link = Some(None),
                }
            } else if s * turn < -1e-9 || dot(a.tangent, b_tangent) < 0.0 {
                // Outside corner (or reversal): roll round the corner point.
                link = Some(Some(Arc {
                    plane: Plane::Xy,
                    center: corner,
                    ccw: s < 0.0,
                    full: false,
                }));
            } else {
                link = Some(None);
            }
        }
        out.push(Out::Seg(a_seg, a.radius));
        out.append(&mut self.held);
        if let Some(arc) = link {
            let l = Segment {
                from: a_seg.to,
                to: b.from,
                arc,
                ..*b
            };
            out.push(Out::Seg(l, a.radius));
        }
        b.from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(from: V2, to: V2) -> Segment {
        Segment {
            line: 1,
            from: [from[0], from[1], 0.0],
            to: [to[0], to[1], 0.0],
            arc: None,
            rapid: false,
            feed_mm_per_min: 100.0,
        }
    }

    fn segs(out: &[Out]) -> Vec<Segment> {
        out.iter()
            .filter_map(|o| match o {
                Out::Seg(s, _) => Some(*s),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn inside_corner_of_a_left_turn_is_intersected() {
        let mut c = CutterComp::default();
        c.start(true);
        let mut out = Vec::new();
        // The start-up move runs from where the tool is: here already on the offset line.
        c.push(
            line([0.0, 0.0], [10.0, 0.0]),
            1.0,
            [0.0, 1.0, 0.0],
            &mut out,
        )
        .unwrap();
        c.push(line([10.0, 0.0], [10.0, 10.0]), 1.0, [0.0; 3], &mut out)
            .unwrap();
        c.flush(&mut out);
        let s = segs(&out);
        assert_eq!(s.len(), 2);
        // Tool left of +X is at y = 1; left of +Y is at x = 9: the corner is (9, 1).
        assert!(len(sub(xy(s[0].to), [9.0, 1.0])) < 1e-9, "{:?}", s[0].to);
        assert!(len(sub(xy(s[1].from), [9.0, 1.0])) < 1e-9);
        assert!(len(sub(xy(s[1].to), [9.0, 10.0])) < 1e-9);
    }

    #[test]
    fn outside_corner_gets_an_arc_round_the_corner() {
        let mut c = CutterComp::default();
        c.start(false);
        let mut out = Vec::new();
        c.push(
            line([0.0, 0.0], [10.0, 0.0]),
            2.0,
            [0.0, -2.0, 0.0],
            &mut out,
        )
        .unwrap();
        c.hold(Op::Coolant { line: 1, on: true });
        c.push(line([10.0, 0.0], [10.0, 10.0]), 2.0, [0.0; 3], &mut out)
            .unwrap();
        let s = segs(&out);
        // Right of +X is y = -2; right of +Y is x = 12: an arc from (10,-2) to (12,0) round (10,0).
        assert!(len(sub(xy(s[0].to), [10.0, -2.0])) < 1e-9);
        assert!(matches!(out[1], Out::Op(Op::Coolant { .. })));
        let link = s[1];
        assert_eq!(link.arc.unwrap().center, [10.0, 0.0]);
        assert!(link.arc.unwrap().ccw);
        assert!(len(sub(xy(link.to), [12.0, 0.0])) < 1e-9);
        assert!(c.has_pending());
    }

    #[test]
    fn arc_too_small_for_the_tool_is_an_error() {
        let arc = Segment {
            arc: Some(Arc {
                plane: Plane::Xy,
                center: [0.0, 0.0],
                ccw: true,
                full: false,
            }),
            ..line([2.0, 0.0], [0.0, 2.0])
        };
        let mut c = CutterComp::default();
        c.start(true);
        assert!(c.push(arc, 3.0, [2.0, 0.0, 0.0], &mut Vec::new()).is_err());
        let mut c = CutterComp::default();
        c.start(false);
        assert!(c.push(arc, 3.0, [2.0, 0.0, 0.0], &mut Vec::new()).is_ok());
    }
}
