//! Where a machine's timeline continues: the next part starts one changeover after the end of its
//! last recorded run, so parts recorded by different commands follow each other in time.

use crate::{Result, Store};
use aimm_model::{changeover_ns, MachineId, TimeNs, DEFAULT_START_NS};

/// When the next part on `machine` starts: `changeover_s` after the end of its last finished run,
/// or [`DEFAULT_START_NS`] on a machine with none.
pub fn next_part_start_ns(
    store: &dyn Store,
    machine: &MachineId,
    changeover_s: f64,
) -> Result<TimeNs> {
    Ok(store
        .last_run_end_ns(machine)?
        .map_or(DEFAULT_START_NS, |end| end + changeover_ns(changeover_s)))
}
