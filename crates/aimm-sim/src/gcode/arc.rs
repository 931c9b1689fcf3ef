//! Circular and helical arcs: centre from I/J/K or R, radius checks, and chords within a
//! tolerance. Works in plane coordinates (first, second axis) with the third axis as the helix.

use super::ops::Vec3;
use std::f64::consts::TAU;

/// The arc plane (G17/G18/G19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plane {
    /// G17, viewed from +Z.
    Xy,
    /// G18: the ZX plane, viewed from +Y (first axis Z, second X).
    Zx,
    /// G19, viewed from +X.
    Yz,
}

impl Plane {
    /// Indices of (first, second, helix) axes.
    pub fn axes(self) -> (usize, usize, usize) {
        match self {
            Plane::Xy => (0, 1, 2),
            Plane::Zx => (2, 0, 1),
            Plane::Yz => (1, 2, 0),
        }
    }

    /// A point's plane coordinates.
    pub fn project(self, p: Vec3) -> [f64; 2] {
        let (a, b, _) = self.axes();
        [p[a], p[b]]
    }
}

/// An arc's geometry; its end points are those of the move that carries it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arc {
    pub plane: Plane,
    /// Centre in plane coordinates.
    pub center: [f64; 2],
    /// Counter-clockwise (G3) seen from the plane's positive normal.
    pub ccw: bool,
    /// Start equals end and the arc is a full turn (only meaningful if they do coincide).
    pub full: bool,
}

/// Points closer than this are the same point, mm.
pub const SAME_POINT_MM: f64 = 1e-6;

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

impl Arc {
    /// Swept angle from `from` to `to`, radians, positive, in (0, 2π]; 2π for full circles.
    pub fn sweep(&self, from: Vec3, to: Vec3) -> f64 {
        let (s, e) = (self.plane.project(from), self.plane.project(to));
        let c = self.center;
        let a0 = (s[1] - c[1]).atan2(s[0] - c[0]);
        let a1 = (e[1] - c[1]).atan2(e[0] - c[0]);
        let raw = if self.ccw { a1 - a0 } else { a0 - a1 };
        let sweep = raw.rem_euclid(TAU);
        if sweep < 1e-9 && self.full {
            TAU
        } else {
            sweep
        }
    }

    /// Appends the end points of chords from `from` to `to` (exclusive of `from`, ending exactly
    /// at `to`), each chord deviating from the arc by at most `tolerance_mm`. Radius and helix
    /// axis vary linearly with angle, so a slightly unequal start and end radius (CAM rounding)
    /// still ends on the programmed point.
    pub fn chords(&self, from: Vec3, to: Vec3, tolerance_mm: f64, out: &mut Vec<Vec3>) {
        let (a, b, h) = self.plane.axes();
        let (s, e) = (self.plane.project(from), self.plane.project(to));
        let c = self.center;
        let (r0, r1) = (dist(s, c), dist(e, c));
        let sweep = self.sweep(from, to);
        let r = r0.max(r1);
        // Sagitta r(1 - cos(θ/2)) ≤ tolerance.
        let step = if tolerance_mm >= r {
            std::f64::consts::FRAC_PI_2
        } else {
            (2.0 * (1.0 - tolerance_mm / r).acos()).min(std::f64::consts::FRAC_PI_2)
        };
        let n = ((sweep / step).ceil() as usize).clamp(1, 1_000_000);
        let a0 = (s[1] - c[1]).atan2(s[0] - c[0]);
        let dir = if self.ccw { 1.0 } else { -1.0 };
        for i in 1..n {
            let t = i as f64 / n as f64;
            let ang = a0 + dir * sweep * t;
            let rad = r0 + (r1 - r0) * t;
            let mut p = [0.0; 3];
            p[a] = c[0] + rad * ang.cos();
            p[b] = c[1] + rad * ang.sin();
            p[h] = from[h] + (to[h] - from[h]) * t;
            out.push(p);
        }
        out.push(to);
    }
}

/// Why an arc's centre cannot be found or does not fit its end points (lengths in mm).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ArcError {
    /// R format with start = end: the centre is undetermined.
    #[error("an R-format arc cannot start and end at the same point")]
    RFormatFullCircle,
    /// R smaller than half the chord.
    #[error("arc radius {radius_mm:.4} mm is smaller than half the distance between start and end ({half_chord_mm:.4} mm)")]
    RadiusTooSmall {
        /// |R|, mm.
        radius_mm: f64,
        /// Half the start–end distance, mm.
        half_chord_mm: f64,
    },
    /// The centre coincides with the start point.
    #[error("arc centre is at the start point (zero radius)")]
    ZeroRadius,
    /// Start and end lie at different distances from the centre.
    #[error("arc radius to start {start_mm:.4} mm differs from radius to end {end_mm:.4} mm by {difference_mm:.4} mm")]
    RadiiDiffer {
        /// Centre to start, mm.
        start_mm: f64,
        /// Centre to end, mm.
        end_mm: f64,
        /// Their difference, mm.
        difference_mm: f64,
    },
}

/// Centre of an arc of radius `r` from `s` to `e` (plane coordinates): `r > 0` takes the arc of at
/// most 180°, `r < 0` the longer one (Fanuc/LinuxCNC convention).
pub fn center_from_radius(
    s: [f64; 2],
    e: [f64; 2],
    r: f64,
    ccw: bool,
    tolerance_mm: f64,
) -> Result<[f64; 2], ArcError> {
    let d = dist(s, e);
    if d < SAME_POINT_MM {
        return Err(ArcError::RFormatFullCircle);
    }
    let half = d / 2.0;
    if half > r.abs() + tolerance_mm {
        return Err(ArcError::RadiusTooSmall {
            radius_mm: r.abs(),
            half_chord_mm: half,
        });
    }
    let h = (r * r - half * half).max(0.0).sqrt();
    let u = [(e[0] - s[0]) / d, (e[1] - s[1]) / d];
    let left = [-u[1], u[0]];
    let side = if ccw == (r > 0.0) { 1.0 } else { -1.0 };
    Ok([
        s[0] + u[0] * half + side * h * left[0],
        s[1] + u[1] * half + side * h * left[1],
    ])
}

/// Checks that start and end are (nearly) equally far from the centre: the difference must be
/// within `abs_mm` or within 0.1 % of the radius, whichever is larger.
pub fn check_radius(s: [f64; 2], e: [f64; 2], c: [f64; 2], abs_mm: f64) -> Result<(), ArcError> {
    let (r0, r1) = (dist(s, c), dist(e, c));
    if r0 < SAME_POINT_MM {
        return Err(ArcError::ZeroRadius);
    }
    let diff = (r0 - r1).abs();
    if diff > abs_mm.max(1e-3 * r0) {
        return Err(ArcError::RadiiDiffer {
            start_mm: r0,
            end_mm: r1,
            difference_mm: diff,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_circle(arc: &Arc, from: Vec3, to: Vec3, tol: f64) -> Vec<Vec3> {
        let mut pts = Vec::new();
        arc.chords(from, to, tol, &mut pts);
        let r = dist(arc.plane.project(from), arc.center);
        let mut prev = from;
        for p in &pts {
            let q = arc.plane.project(*p);
            assert!((dist(q, arc.center) - r).abs() < 1e-9);
            // Chord midpoint within tolerance of the circle.
            let m = arc.plane.project([
                (p[0] + prev[0]) / 2.0,
                (p[1] + prev[1]) / 2.0,
                (p[2] + prev[2]) / 2.0,
            ]);
            assert!(r - dist(m, arc.center) <= tol + 1e-12);
            prev = *p;
        }
        pts
    }

    #[test]
    fn quarter_circle_ccw_in_xy() {
        let arc = Arc {
            plane: Plane::Xy,
            center: [0.0, 0.0],
            ccw: true,
            full: false,
        };
        let pts = on_circle(&arc, [10.0, 0.0, 0.0], [0.0, 10.0, -2.0], 0.005);
        // Counter-clockwise passes through the first quadrant.
        assert!(pts.iter().all(|p| p[0] >= -1e-9 && p[1] >= -1e-9));
        assert_eq!(*pts.last().unwrap(), [0.0, 10.0, -2.0]);
        // Helix descends monotonically.
        assert!(pts.windows(2).all(|w| w[1][2] < w[0][2]));
        assert!((arc.sweep([10.0, 0.0, 0.0], [0.0, 10.0, 0.0]) - TAU / 4.0).abs() < 1e-12);
    }

    #[test]
    fn clockwise_takes_the_long_way_for_the_same_points() {
        let arc = Arc {
            plane: Plane::Xy,
            center: [0.0, 0.0],
            ccw: false,
            full: false,
        };
        let sweep = arc.sweep([10.0, 0.0, 0.0], [0.0, 10.0, 0.0]);
        assert!((sweep - 0.75 * TAU).abs() < 1e-12);
    }

    #[test]
    fn full_circle_returns_to_start() {
        let arc = Arc {
            plane: Plane::Zx,
            center: [0.0, 0.0],
            ccw: true,
            full: true,
        };
        let start = [5.0, 3.0, 0.0];
        let pts = on_circle(&arc, start, start, 0.001);
        assert!(pts.len() > 50);
        assert_eq!(*pts.last().unwrap(), start);
        // Goes all the way round: reaches the opposite side x = -5.
        assert!(pts.iter().any(|p| (p[0] + 5.0).abs() < 0.05));
    }

    #[test]
    fn radius_format_centres() {
        let c = center_from_radius([0.0, 0.0], [10.0, 0.0], 5.0, true, 0.01).unwrap();
        assert!(dist(c, [5.0, 0.0]) < 1e-9);
        // CCW from (0,0) to (10,10): round (0,10) is a quarter turn, round (10,0) three quarters.
        let c = center_from_radius([0.0, 0.0], [10.0, 10.0], 10.0, true, 0.01).unwrap();
        assert!(dist(c, [0.0, 10.0]) < 1e-9, "{c:?}");
        let c = center_from_radius([0.0, 0.0], [10.0, 10.0], -10.0, true, 0.01).unwrap();
        assert!(dist(c, [10.0, 0.0]) < 1e-9, "{c:?}");
        let c = center_from_radius([0.0, 0.0], [10.0, 10.0], 10.0, false, 0.01).unwrap();
        assert!(dist(c, [10.0, 0.0]) < 1e-9, "{c:?}");
        assert!(center_from_radius([0.0, 0.0], [30.0, 0.0], 10.0, true, 0.01).is_err());
    }

    #[test]
    fn radius_mismatch_is_caught() {
        assert!(check_radius([10.0, 0.0], [0.0, 10.001], [0.0, 0.0], 0.013).is_ok());
        assert!(check_radius([10.0, 0.0], [0.0, 12.0], [0.0, 0.0], 0.013).is_err());
    }
}
