//! `aimm bench sim`: simulator speed (simulated seconds per wall second at 500 Hz on one core,
//! against real time, with the G-code interpreter alone as its ceiling) and store write throughput
//! (sealed, compressed, hashed segments against plain row-per-sample SQLite inserts of the same
//! samples, and bytes per sample against the raw 16 bytes).

use crate::part::{BenchPart, SimulatedParts};
use crate::{render_table, BenchError, Figure, Report};
use aimm_ledger::Origin;
use aimm_sim::gcode::Interpreter;
use aimm_store::{RowPerSampleBaseline, SqliteStore, Store};
use std::time::Instant;

/// What `aimm bench sim` measured.
pub struct SimReport {
    /// Parts of examples/bracket_c45.nc simulated.
    pub parts: u32,
    /// Simulated seconds, all parts together.
    pub simulated_s: f64,
    /// Samples recorded (and stored), all parts together.
    pub samples: u64,
    /// The figures, each next to its baseline.
    pub figures: Vec<Figure>,
}

/// Simulates `parts` benchmark parts, timing the interpreter alone and the full simulation, then
/// stores every sample sealed and row by row, each into a fresh SQLite file.
pub fn run(parts: u32) -> Result<SimReport, BenchError> {
    let part = BenchPart::new()?;

    // Interpreter alone: the ceiling the physics adds to.
    let started = Instant::now();
    let mut ops = 0u64;
    for _ in 0..parts {
        for op in Interpreter::new(
            &part.program,
            part.tools.clone(),
            part.config.interp.clone(),
        ) {
            op?;
            ops += 1;
        }
    }
    let interp_ops_per_s = ops as f64 / started.elapsed().as_secs_f64();

    // Full simulation at 500 Hz, keeping every sample for the store figures.
    let started = Instant::now();
    let SimulatedParts {
        series,
        simulated_s,
        samples,
    } = part.simulate(parts)?;
    let wall_s = started.elapsed().as_secs_f64();
    let speed = simulated_s / wall_s;

    // Store writes: the same samples sealed vs row-per-sample, each into a fresh file.
    let dir = tempfile::tempdir()?;
    let mut store = SqliteStore::open(dir.path().join("sealed.db"))?;
    let started = Instant::now();
    let mut stored_bytes = 0u64;
    for batch in series.chunks(16) {
        stored_bytes += store
            .append_segments(None, Origin::SIMULATOR, batch)?
            .iter()
            .map(|m| m.bytes)
            .sum::<u64>();
    }
    let sealed_per_s = samples as f64 / started.elapsed().as_secs_f64();
    let mut baseline = RowPerSampleBaseline::open(dir.path().join("rows.db"))?;
    let started = Instant::now();
    for batch in series.chunks(16) {
        baseline.append(batch)?;
    }
    let rows_per_s = samples as f64 / started.elapsed().as_secs_f64();

    let figures = vec![
        Figure {
            what: "simulator, 500 Hz, one core".into(),
            value: speed,
            unit: "× real time",
            baseline: "real time".into(),
            baseline_value: 1.0,
            target: "≥ 1000×".into(),
        },
        Figure {
            what: "G-code interpreter alone".into(),
            value: interp_ops_per_s,
            unit: "ops/s",
            baseline: "-".into(),
            baseline_value: f64::NAN,
            target: "-".into(),
        },
        Figure {
            what: "store: sealed, compressed, hashed segments".into(),
            value: sealed_per_s,
            unit: "samples/s",
            baseline: "row-per-sample SQLite inserts".into(),
            baseline_value: rows_per_s,
            target: "≥ 2 M samples/s".into(),
        },
        Figure {
            what: "store: bytes per sample, sealed".into(),
            value: stored_bytes as f64 / samples as f64,
            unit: "B/sample",
            baseline: "raw (i64 time + f64 value)".into(),
            baseline_value: 16.0,
            target: "-".into(),
        },
    ];
    Ok(SimReport {
        parts,
        simulated_s,
        samples,
        figures,
    })
}

impl Report for SimReport {
    fn text(&self) -> String {
        format!(
            "{}\n{} parts of examples/bracket_c45.nc: {:.0} simulated s, {} samples",
            render_table(&self.figures),
            self.parts,
            self.simulated_s,
            self.samples
        )
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "program": "examples/bracket_c45.nc",
            "parts": self.parts,
            "simulated_s": self.simulated_s,
            "samples": self.samples,
            "figures": self.figures,
        })
    }
}
