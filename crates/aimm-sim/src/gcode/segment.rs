//! A programmed path piece between interpretation and output: a line or an arc with its feed,
//! before arcs become chords. Cutter compensation works on these.

use super::arc::Arc;
use super::ops::Vec3;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Segment {
    pub line: u32,
    pub from: Vec3,
    pub to: Vec3,
    /// `None` for a straight move.
    pub arc: Option<Arc>,
    pub rapid: bool,
    pub feed_mm_per_min: f64,
}

impl Segment {
    pub fn xy_length(&self) -> f64 {
        (self.to[0] - self.from[0]).hypot(self.to[1] - self.from[1])
    }
}
