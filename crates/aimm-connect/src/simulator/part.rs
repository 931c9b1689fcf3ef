//! The one recipe for recording a simulated part: the machine and the program version are
//! registered ([`register_program`]), the run is recorded with whatever rides along
//! ([`record_part`]: program row, run, sealed segments, tools used). The CLI, the demo cell, the wear loop's
//! series and the loops' conformance runs all record parts through here, so a part is the same
//! set of rows and ledger records whoever made it. The next part on a machine starts at
//! [`aimm_store::next_part_start_ns`].

use super::{record_run, ConnectError, RecordOptions};
use aimm_ledger::Citation;
use aimm_model::{MachineSpec, Material};
use aimm_sim::{PartResult, Simulator};
use aimm_store::evidence::record_program;
use aimm_store::{
    NewRun, ProgramId, ProgramRecord, RunId, RunObserver, SegmentMeta, Store, StoreError,
};

/// A part to record.
#[derive(Clone, Debug)]
pub struct PartSpec<'a> {
    /// The machine making it (registered in the store by [`register_program`] or earlier).
    pub machine: &'a MachineSpec,
    /// The stored program the simulator runs (from [`register_program`], or `put_program` for a
    /// version the ledger records otherwise, e.g. a loop's compensated program).
    pub program: ProgramId,
    /// Workpiece material.
    pub material: Material,
    /// Seed of the simulator's noise.
    pub seed: u64,
    /// Free-form run parameters stored with the run (override, loop on/off, part number, …).
    pub params_json: serde_json::Value,
}

/// A recorded part.
#[derive(Clone, Debug)]
pub struct RecordedPart {
    /// The run it was recorded as.
    pub run: RunId,
    /// The simulator's result.
    pub result: PartResult,
    /// The segments sealed for it, in order.
    pub segments: Vec<SegmentMeta>,
    /// When the part ended, UTC ns.
    pub t_end_ns: i64,
}

/// Registers `machine` and the program `(name, text)` in the store and its `nc_program` ledger
/// record (a new version only when the text changed), saying `why`. Returns the program's row and
/// the citation of its version.
pub fn register_program(
    store: &mut dyn Store,
    machine: &MachineSpec,
    (name, text): (&str, &str),
    why: &str,
    t_ns: i64,
) -> Result<(ProgramRecord, Citation), StoreError> {
    store.put_machine(machine)?;
    let stored = store.put_program(name, text)?;
    let cite = record_program(store, name, text, why, t_ns)?;
    Ok((stored, cite))
}

/// Runs `sim` (built from `part`'s program, starting at the time the run should start) to the
/// end as a recorded run with `observer` riding along, and stores the tools it used.
pub fn record_part<'s>(
    sim: &mut Simulator<'s>,
    store: &mut dyn Store,
    part: &PartSpec<'_>,
    observer: &mut dyn RunObserver<Simulator<'s>>,
) -> Result<RecordedPart, ConnectError> {
    record_part_with(sim, store, part, RecordOptions::default(), observer)
}

/// [`record_part`] with recording `options` (segment window, pace).
pub fn record_part_with<'s>(
    sim: &mut Simulator<'s>,
    store: &mut dyn Store,
    part: &PartSpec<'_>,
    options: RecordOptions,
    observer: &mut dyn RunObserver<Simulator<'s>>,
) -> Result<RecordedPart, ConnectError> {
    let new_run = NewRun {
        machine: part.machine.id.clone(),
        program_id: Some(part.program),
        material: part.material.to_string(),
        seed: part.seed,
        t_start_ns: sim.time_ns(),
        params_json: part.params_json.clone(),
    };
    let recorded = record_run(sim, store, &new_run, options, observer)?;
    for used in &recorded.result.tools {
        if let Some(tool) = sim.tool_table().tool(used.tool) {
            store.put_tool(&part.machine.id, tool)?;
        }
    }
    Ok(RecordedPart {
        run: recorded.run,
        result: recorded.result,
        segments: recorded.segments,
        t_end_ns: sim.time_ns(),
    })
}
