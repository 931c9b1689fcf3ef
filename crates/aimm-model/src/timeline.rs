//! A machine's timeline when nothing gives a real time: where a fresh machine's first run starts,
//! and how long a changeover between two parts takes. Fixed defaults keep runs bit-identical for
//! the same seed; live use passes real times.

use crate::{TimeNs, NS_PER_S};

/// Default run start: 2026-01-05T06:00:00Z (a Monday, first shift).
pub const DEFAULT_START_NS: TimeNs = 1_767_592_800 * NS_PER_S;

/// Time between two parts on one machine (unload, load, probe) unless configured otherwise, s.
pub const DEFAULT_CHANGEOVER_S: f64 = 30.0;

/// A changeover of `changeover_s` seconds in ns.
pub fn changeover_ns(changeover_s: f64) -> TimeNs {
    (changeover_s * NS_PER_S as f64) as TimeNs
}
