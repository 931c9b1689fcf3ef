//! Canned drilling cycles (G73, G81, G82, G83) expanded into rapid and feed moves at one hole.
//! Levels are in programmed machine coordinates (tool length compensation comes later, as for
//! any move).

use super::ops::Vec3;

/// How much above the previous peck depth a G83 rapid-in stops before feeding again, mm
/// (LinuxCNC's fixed 0.010 in). G73 backs off by the same distance to break the chip.
pub const PECK_CLEARANCE_MM: f64 = 0.254;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CycleKind {
    /// G81.
    Drill,
    /// G82: dwell at the bottom.
    DrillDwell,
    /// G83: full retract to R after each peck.
    Peck,
    /// G73: short back-off after each peck (chip breaking).
    ChipBreak,
}

/// Modal parameters of the active cycle, mm and s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cycle {
    pub kind: CycleKind,
    /// Z of the R (retract) plane.
    pub r_z: f64,
    /// Z of the hole bottom.
    pub bottom_z: f64,
    /// Peck depth Q (G73/G83).
    pub peck: f64,
    /// Dwell at the bottom (G82).
    pub dwell_s: f64,
    /// G98: return to the initial level; G99: to R.
    pub to_initial: bool,
    /// Z when the cycle mode began.
    pub initial_z: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    Rapid(Vec3),
    Feed(Vec3),
    Dwell(f64),
}

/// Why a canned cycle cannot drill its hole.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CycleError {
    /// The hole bottom lies above the R plane.
    #[error("cycle bottom Z {bottom_z_mm:.4} mm lies above the R plane {r_z_mm:.4} mm")]
    BottomAboveR {
        /// Z of the hole bottom, mm.
        bottom_z_mm: f64,
        /// Z of the R plane, mm.
        r_z_mm: f64,
    },
    /// G73/G83 without a positive peck depth Q.
    #[error("peck cycle needs a positive Q")]
    NoPeckDepth,
}

/// The moves that drill one hole at `xy`, starting from `at`.
pub fn expand(c: &Cycle, at: Vec3, xy: [f64; 2]) -> Result<Vec<Step>, CycleError> {
    if c.bottom_z > c.r_z {
        return Err(CycleError::BottomAboveR {
            bottom_z_mm: c.bottom_z,
            r_z_mm: c.r_z,
        });
    }
    if matches!(c.kind, CycleKind::Peck | CycleKind::ChipBreak) && c.peck <= 0.0 {
        return Err(CycleError::NoPeckDepth);
    }
    let mut steps = Vec::new();
    let mut z = at[2];
    if z < c.r_z {
        z = c.r_z;
        steps.push(Step::Rapid([at[0], at[1], z]));
    }
    let p = |z: f64| [xy[0], xy[1], z];
    steps.push(Step::Rapid(p(z)));
    steps.push(Step::Rapid(p(c.r_z)));
    match c.kind {
        CycleKind::Drill => steps.push(Step::Feed(p(c.bottom_z))),
        CycleKind::DrillDwell => {
            steps.push(Step::Feed(p(c.bottom_z)));
            steps.push(Step::Dwell(c.dwell_s));
        }
        CycleKind::Peck | CycleKind::ChipBreak => {
            let mut depth = c.r_z;
            loop {
                let next = (depth - c.peck).max(c.bottom_z);
                steps.push(Step::Feed(p(next)));
                if next <= c.bottom_z {
                    break;
                }
                if c.kind == CycleKind::Peck {
                    steps.push(Step::Rapid(p(c.r_z)));
                    steps.push(Step::Rapid(p(next + PECK_CLEARANCE_MM)));
                } else {
                    steps.push(Step::Rapid(p(next + PECK_CLEARANCE_MM)));
                }
                depth = next;
            }
        }
    }
    let top = if c.to_initial {
        c.initial_z.max(c.r_z)
    } else {
        c.r_z
    };
    steps.push(Step::Rapid(p(top)));
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(kind: CycleKind) -> Cycle {
        Cycle {
            kind,
            r_z: 2.0,
            bottom_z: -10.0,
            peck: 4.0,
            dwell_s: 0.5,
            to_initial: true,
            initial_z: 25.0,
        }
    }

    fn feed_depths(steps: &[Step]) -> Vec<f64> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Feed(p) => Some(p[2]),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn drill_goes_to_r_then_bottom_then_initial() {
        let s = expand(&cycle(CycleKind::Drill), [0.0, 0.0, 25.0], [5.0, 6.0]).unwrap();
        assert_eq!(
            s,
            vec![
                Step::Rapid([5.0, 6.0, 25.0]),
                Step::Rapid([5.0, 6.0, 2.0]),
                Step::Feed([5.0, 6.0, -10.0]),
                Step::Rapid([5.0, 6.0, 25.0]),
            ]
        );
        let mut g99 = cycle(CycleKind::DrillDwell);
        g99.to_initial = false;
        let s = expand(&g99, [0.0, 0.0, 25.0], [5.0, 6.0]).unwrap();
        assert!(s.contains(&Step::Dwell(0.5)));
        assert_eq!(s.last(), Some(&Step::Rapid([5.0, 6.0, 2.0])));
    }

    #[test]
    fn peck_steps_by_q_and_retracts_to_r() {
        let s = expand(&cycle(CycleKind::Peck), [0.0, 0.0, 25.0], [0.0, 0.0]).unwrap();
        assert_eq!(feed_depths(&s), vec![-2.0, -6.0, -10.0]);
        let retracts = s
            .iter()
            .filter(|st| **st == Step::Rapid([0.0, 0.0, 2.0]))
            .count();
        // Once on the way in, once after each of the two intermediate pecks.
        assert_eq!(retracts, 3);
        assert!(s.contains(&Step::Rapid([0.0, 0.0, -6.0 + PECK_CLEARANCE_MM])));
    }

    #[test]
    fn bad_levels_are_refused() {
        let mut c = cycle(CycleKind::Drill);
        c.bottom_z = 5.0;
        assert!(expand(&c, [0.0; 3], [0.0; 2]).is_err());
        let mut c = cycle(CycleKind::Peck);
        c.peck = 0.0;
        assert!(expand(&c, [0.0; 3], [0.0; 2]).is_err());
    }
}
