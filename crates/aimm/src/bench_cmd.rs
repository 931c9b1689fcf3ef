//! `aimm bench`: figures next to their baselines, measured in the same run.

use crate::output::{print_json, table};
use aimm_assess::conformance::feed::run_case;
use aimm_connect::wear_csv::{read_wear_csv, WearCsvOptions, WearUnit};
use aimm_ledger::bundle::verify_bundle;
use aimm_ledger::merkle::verify_inclusion;
use aimm_ledger::note::Signer;
use aimm_ledger::record::{Evidence, Record, SensorSegment};
use aimm_ledger::MerkleTree;
use aimm_loops::feed::validation::builtin_cases;
use aimm_loops::feed::{FeedController, FeedMode, FeedParams, LoadSample};
use aimm_loops::wear::{leave_one_run_out, WearModel, WearTrainConfig};
use aimm_model::{MachineSpec, Material, SignalKind, SignalSeries, ToolSpec};
use aimm_sim::gcode::{parse, Interpreter, Program};
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, Simulator, ToolTable, DEFAULT_START_NS};
use aimm_store::evidence::{checkpoint_now, export_bundle};
use aimm_store::{RowPerSampleBaseline, SqliteStore, Store};
use anyhow::Result;
use indicatif::ProgressBar;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Instant;

/// The realistic program the simulator benchmark runs: roughing, finishing under cutter
/// compensation, a stepped pocket and a drilling cycle in steel.
const BENCH_PROGRAM: &str = include_str!("../../../examples/bracket_c45.nc");

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Simulator speed (simulated s per wall s at 500 Hz, one core) and store write throughput
    /// (sealed, compressed, hashed segments vs plain row-per-sample SQLite inserts).
    Sim(BenchSimArgs),
    /// Evidence ledger: durable appends/s in batches (vs one transaction per record),
    /// inclusion-proof verifications/s (vs recomputing the root), and `aimm verify` time on a
    /// large bundle (vs hashing its records file once).
    Ledger(BenchLedgerArgs),
    /// Adaptive feed loop: decision latency per sample (p50/p99, vs a fixed-gain PI on the same
    /// samples), and cycle-time reduction and overloads per validation part vs constant feed.
    Feed(BenchFeedArgs),
    /// Tool-wear model on real data: leave-one-run-out RMSE/MAE/coverage per fold next to the
    /// sensor-free baseline, training time, and prediction latency per window.
    Wear(BenchWearArgs),
    /// Store backends: PostgreSQL segment ingest samples/s (binary COPY, durable) next to SQLite
    /// ingesting the same simulated samples in the same run.
    ///
    /// Examples:
    ///   aimm bench store --db-postgres postgres://aimm@127.0.0.1:55432/postgres
    ///   AIMM_BENCH_POSTGRES_URL=postgres://… aimm bench store --parts 1 --json
    #[command(verbatim_doc_comment)]
    Store(crate::bench_store::BenchStoreArgs),
    /// Machine interfaces and the plant store: MTConnect agent /sample and /current responses/s
    /// (vs a bare HTTP hello on the same loopback) and SHDR ingest lines/s (vs parsing alone);
    /// with --mqtt, the Sparkplug B sample → override round trip p50/p99 (vs an in-process
    /// channel) and MQTT ingest samples/s (vs sealing straight into SQLite); with --db-postgres,
    /// PostgreSQL segment ingest (vs SQLite).
    ///
    /// Example (scripts/services/*.sh start the broker and server; run from the repo root):
    ///   aimm bench connect --mqtt mqtt://127.0.0.1:18830 --db-postgres postgresql://aimm@127.0.0.1:55432/postgres
    #[command(verbatim_doc_comment)]
    Connect(crate::bench_connect::BenchConnectArgs),
}

#[derive(clap::Args)]
pub struct BenchWearArgs {
    /// Wear CSV (wear in mm).
    #[arg(long, default_value = "testdata/wear/uniwear.csv")]
    data: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BenchFeedArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BenchLedgerArgs {
    /// Records in the ledger (and the bundle).
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Records per durable append.
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BenchSimArgs {
    /// Parts simulated for the speed figure (more = steadier).
    #[arg(long, default_value_t = 5)]
    parts: u32,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// One line of a benchmark table.
#[derive(Serialize)]
pub(crate) struct Figure {
    pub what: String,
    pub value: f64,
    pub unit: &'static str,
    pub baseline: String,
    pub baseline_value: f64,
    pub target: String,
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Sim(args) => bench_sim(args),
        BenchCommand::Ledger(args) => bench_ledger(args),
        BenchCommand::Feed(args) => bench_feed(args),
        BenchCommand::Wear(args) => bench_wear(args),
        BenchCommand::Store(args) => crate::bench_store::run(args),
        BenchCommand::Connect(args) => crate::bench_connect::run(args),
    }
}

/// The benchmark part: examples/bracket_c45.nc in steel C45 on a VMC, ready to simulate.
pub(crate) struct BenchPart {
    program: Program,
    tools: ToolTable,
    config: SimConfig,
}

/// What simulating some benchmark parts recorded.
pub(crate) struct SimulatedParts {
    /// Every sample, in seal-sized windows (10 s at 500 Hz) per signal.
    pub series: Vec<SignalSeries>,
    pub simulated_s: f64,
    pub samples: u64,
}

impl BenchPart {
    pub(crate) fn new() -> Result<Self> {
        let program = parse("examples/bracket_c45.nc", BENCH_PROGRAM)?;
        let mut config = SimConfig::new(MachineSpec::vmc("bench"), Material::SteelC45, 1);
        let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config)
            .map_err(anyhow::Error::msg)?;
        Ok(Self {
            program,
            tools,
            config,
        })
    }

    /// Simulates `parts` parts (seeds 0, 1, ...) at 500 Hz, keeping every sample.
    pub(crate) fn simulate(&self, parts: u32) -> Result<SimulatedParts> {
        let mut out = SimulatedParts {
            series: Vec::new(),
            simulated_s: 0.0,
            samples: 0,
        };
        for part in 0..parts {
            let mut c = self.config.clone();
            c.seed = u64::from(part);
            let mut sim = Simulator::new(&self.program, self.tools.clone(), c)?;
            let mut steps = 0u64;
            while sim.step()? {
                steps += 1;
                if steps.is_multiple_of(5000) {
                    out.series.extend(sim.recording().drain().0);
                }
            }
            out.series.extend(sim.recording().drain().0);
            out.simulated_s += sim.elapsed_s();
            out.samples += sim.result().samples;
        }
        Ok(out)
    }
}

fn bench_sim(args: BenchSimArgs) -> Result<()> {
    let part = BenchPart::new()?;

    // Interpreter alone: the ceiling the physics adds to.
    let started = Instant::now();
    let mut ops = 0u64;
    for _ in 0..args.parts {
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
    } = part.simulate(args.parts)?;
    let wall_s = started.elapsed().as_secs_f64();
    let speed = simulated_s / wall_s;

    // Store writes: the same samples sealed vs row-per-sample, each into a fresh file.
    let dir = tempfile::tempdir()?;
    let mut store = SqliteStore::open(dir.path().join("sealed.db"))?;
    let started = Instant::now();
    let mut stored_bytes = 0u64;
    for batch in series.chunks(16) {
        stored_bytes += store
            .append_segments(None, batch)?
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
    if args.json {
        return print_json(&serde_json::json!({
            "program": "examples/bracket_c45.nc",
            "parts": args.parts,
            "simulated_s": simulated_s,
            "samples": samples,
            "figures": figures,
        }));
    }
    print_figures(&figures);
    println!(
        "{} parts of examples/bracket_c45.nc: {simulated_s:.0} simulated s, {samples} samples",
        args.parts
    );
    Ok(())
}

pub(crate) fn print_figures(figures: &[Figure]) {
    let mut t = table(&["figure", "value", "unit", "baseline (same run)", "target"]);
    for f in figures {
        let base = if f.baseline_value.is_nan() {
            f.baseline.clone()
        } else {
            format!("{}: {}", f.baseline, human(f.baseline_value))
        };
        t.add_row(vec![
            f.what.clone(),
            human(f.value),
            f.unit.into(),
            base,
            f.target.clone(),
        ]);
    }
    println!("{t}");
}

/// A synthetic but realistic evidence record: a sensor segment of one of 16 signals.
fn segment_record(i: u64) -> Record {
    let sha256: aimm_ledger::Hash = Sha256::digest(i.to_le_bytes()).into();
    Record::new(
        DEFAULT_START_NS + i as i64 * 10_000_000,
        Evidence::SensorSegment(SensorSegment {
            machine: format!("mill-{}", i % 3 + 1),
            signal: SignalKind::ALL[(i % 15) as usize].name().into(),
            t_first_ns: DEFAULT_START_NS + i as i64 * 10_000_000,
            t_last_ns: DEFAULT_START_NS + i as i64 * 10_000_000 + 9_998_000_000,
            count: 5000,
            sha256,
        }),
        vec![],
    )
}

fn bench_ledger(args: BenchLedgerArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let n = args.records.max(1);
    let bar = ProgressBar::new(n).with_message("appending");

    // Durable appends in batches.
    let mut store = SqliteStore::open(dir.path().join("ledger.db"))?;
    let started = Instant::now();
    let mut next = 0u64;
    while next < n {
        let batch: Vec<Record> = (next..(next + args.batch as u64).min(n))
            .map(segment_record)
            .collect();
        store.append_records(&batch)?;
        next += batch.len() as u64;
        bar.set_position(next);
    }
    let appends_per_s = n as f64 / started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    // Baseline: one durable transaction per record.
    let mut single = SqliteStore::open(dir.path().join("single.db"))?;
    let k = 500u64.min(n);
    let started = Instant::now();
    for i in 0..k {
        single.append_records(&[segment_record(i)])?;
    }
    let single_per_s = k as f64 / started.elapsed().as_secs_f64();

    // Inclusion proofs: verification throughput vs recomputing the root from all leaves.
    let size = store.ledger_size()?;
    let root = store.ledger_root(size)?;
    let picks: Vec<u64> = (0..20_000u64).map(|i| (i * 7_919) % size).collect();
    let proofs: Vec<_> = picks
        .iter()
        .map(|&i| {
            Ok((
                store.ledger_record(i)?.leaf_hash,
                store.inclusion_proof(i, size)?,
            ))
        })
        .collect::<Result<_>>()?;
    let started = Instant::now();
    for (&i, (leaf, proof)) in picks.iter().zip(&proofs) {
        verify_inclusion(leaf, i, size, proof, &root)?;
    }
    let verifications_per_s = picks.len() as f64 / started.elapsed().as_secs_f64();
    let leaves: Vec<_> = store
        .ledger_entries(0, size)?
        .into_iter()
        .map(|e| e.leaf_hash)
        .collect();
    let started = Instant::now();
    let recomputed = MerkleTree::from_leaf_hashes(leaves).root();
    let recompute_per_s = 1.0 / started.elapsed().as_secs_f64();
    anyhow::ensure!(
        recomputed == root,
        "recomputed root differs from the store's"
    );

    // A bundle of the whole ledger, verified offline.
    let signer = Signer::generate("bench")?;
    checkpoint_now(&mut store, &signer)?;
    let bundle = dir.path().join("bundle");
    export_bundle(&store, &bundle, &signer.verifier(), false)?;
    let started = Instant::now();
    let report = verify_bundle(&bundle, Some(&signer.verifier()));
    let verify_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(report.is_ok(), "bundle failed: {:?}", report.first_failure);
    let started = Instant::now();
    let bytes = std::fs::read(bundle.join("records"))?;
    let _ = Sha256::digest(&bytes);
    let hash_file_s = started.elapsed().as_secs_f64();

    let figures = vec![
        Figure {
            what: format!("ledger appends, durable, batches of {}", args.batch),
            value: appends_per_s,
            unit: "records/s",
            baseline: "one transaction per record".into(),
            baseline_value: single_per_s,
            target: "≥ 200 k/s".into(),
        },
        Figure {
            what: "inclusion-proof verifications".into(),
            value: verifications_per_s,
            unit: "proofs/s",
            baseline: "recomputing the root from all leaves".into(),
            baseline_value: recompute_per_s,
            target: "≥ 50 k/s".into(),
        },
        Figure {
            what: format!("aimm verify, {n}-record bundle"),
            value: verify_s,
            unit: "s",
            baseline: "SHA-256 of its records file alone".into(),
            baseline_value: hash_file_s,
            target: "-".into(),
        },
    ];
    if args.json {
        return print_json(&serde_json::json!({ "records": n, "figures": figures }));
    }
    print_figures(&figures);
    Ok(())
}

/// The load stream of a real part (the stepped block at constant feed): what the loop sees.
fn recorded_load_stream() -> Result<Vec<(i64, f64)>> {
    let program = parse(
        "examples/steps_c45.nc",
        include_str!("../../../examples/steps_c45.nc"),
    )?;
    let mut config = SimConfig::new(MachineSpec::vmc("bench"), Material::SteelC45, 1);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config)
        .map_err(anyhow::Error::msg)?;
    let mut sim = Simulator::new(&program, tools, config)?;
    let mut stream = Vec::new();
    while sim.step()? {
        stream.push((sim.time_ns(), sim.latest(SignalKind::SpindleLoadPct)));
        if stream.len() % 5000 == 0 {
            sim.recording().drain();
        }
    }
    Ok(stream)
}

/// p50 and p99 of per-call times of `step` over `stream`, ns.
fn latency(stream: &[(i64, f64)], mut step: impl FnMut(i64, f64) -> f64) -> (f64, f64) {
    let mut times: Vec<u64> = Vec::with_capacity(stream.len());
    let mut sink = 0.0;
    for &(t, load) in stream {
        let started = Instant::now();
        sink += step(t, load);
        times.push(started.elapsed().as_nanos() as u64);
    }
    std::hint::black_box(sink);
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] as f64;
    (at(0.5), at(0.99))
}

fn bench_feed(args: BenchFeedArgs) -> Result<()> {
    let stream = recorded_load_stream()?;
    let params = FeedParams::default();
    let mut controller = FeedController::new(params, FeedMode::Control { setpoint_pct: 90.0 })
        .map_err(anyhow::Error::msg)?;
    let (p50, p99) = latency(&stream, |t, load| {
        controller
            .step(
                t,
                Some(LoadSample {
                    t_ns: t,
                    load_pct: load,
                }),
            )
            .override_pct
    });
    // Baseline: the textbook fixed-gain PI with clamping, no estimation or protection.
    let (mut integral, dt) = (100.0_f64, 0.002);
    let (base_p50, base_p99) = latency(&stream, |_, load| {
        let error = 90.0 - load;
        integral = (integral + 20.0 * error * dt).clamp(30.0, 150.0);
        (integral + 0.5 * error).clamp(30.0, 150.0)
    });
    let mut figures = vec![
        Figure {
            what: "decision latency per sample, p50".into(),
            value: p50 / 1000.0,
            unit: "µs",
            baseline: "fixed-gain PI, same samples".into(),
            baseline_value: base_p50 / 1000.0,
            target: "-".into(),
        },
        Figure {
            what: "decision latency per sample, p99".into(),
            value: p99 / 1000.0,
            unit: "µs",
            baseline: "fixed-gain PI, same samples".into(),
            baseline_value: base_p99 / 1000.0,
            target: "< 10 µs".into(),
        },
    ];
    let bar = ProgressBar::new(builtin_cases().len() as u64);
    for case in builtin_cases() {
        bar.set_message(case.name.clone());
        let o = run_case(&case, &params, 1)?;
        figures.push(Figure {
            what: format!(
                "{} ({}): cycle time, {:+.1} %",
                o.name, o.material, -o.cycle_time_reduction_pct
            ),
            value: o.adaptive.cycle_time_s,
            unit: "s",
            baseline: "constant feed".into(),
            baseline_value: o.constant_feed.cycle_time_s,
            target: "< constant feed".into(),
        });
        figures.push(Figure {
            what: format!("{} ({}): overload events", o.name, o.material),
            value: f64::from(o.adaptive.overload_events),
            unit: "",
            baseline: "constant feed".into(),
            baseline_value: f64::from(o.constant_feed.overload_events),
            target: "0".into(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    if args.json {
        return print_json(&serde_json::json!({ "samples": stream.len(), "figures": figures }));
    }
    print_figures(&figures);
    println!(
        "latency over {} load samples of examples/steps_c45.nc (one core, release build)",
        stream.len()
    );
    Ok(())
}

fn bench_wear(args: BenchWearArgs) -> Result<()> {
    let options = WearCsvOptions {
        wear_unit: Some(WearUnit::Mm),
        ..WearCsvOptions::default()
    };
    let data = read_wear_csv(&args.data, &options)?;
    let config = WearTrainConfig::default();
    let mut figures = Vec::new();
    let mut folds_by_group = Vec::new();
    for group in ["phm2010", "nuaa"] {
        let runs = data.group(group);
        if runs.len() < 2 {
            continue;
        }
        let folds = leave_one_run_out(&runs, &data.signal_names, &config)?;
        for f in &folds {
            figures.push(Figure {
                what: format!(
                    "{group} {}: RMSE (MAE {:.1}, coverage {:.0} %)",
                    f.run,
                    f.mae_um,
                    100.0 * f.coverage
                ),
                value: f.rmse_um,
                unit: "µm",
                baseline: "mean wear curve of the training runs".into(),
                baseline_value: f.baseline_rmse_um,
                target: if group == "phm2010" {
                    "mean ≤ 10 µm, coverage ≥ 90 %".into()
                } else {
                    "-".into()
                },
            });
        }
        // Training on all runs of the group, and scoring one run window by window.
        let started = Instant::now();
        let model = WearModel::train(&runs, &data.signal_names, &config)?;
        let train_s = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let estimates = model.predict(runs[0])?;
        let per_window_us = started.elapsed().as_secs_f64() * 1e6 / estimates.len().max(1) as f64;
        figures.push(Figure {
            what: format!("{group}: training on {} runs", runs.len()),
            value: train_s * 1000.0,
            unit: "ms",
            baseline: "-".into(),
            baseline_value: f64::NAN,
            target: "-".into(),
        });
        figures.push(Figure {
            what: format!("{group}: prediction per 10 s window (features + filter)"),
            value: per_window_us,
            unit: "µs",
            baseline: "-".into(),
            baseline_value: f64::NAN,
            target: "-".into(),
        });
        folds_by_group.push((group, folds));
    }
    if args.json {
        return print_json(&serde_json::json!({ "figures": figures }));
    }
    print_figures(&figures);
    for (group, folds) in &folds_by_group {
        let mean = |f: &dyn Fn(&aimm_loops::wear::FoldResult) -> f64| {
            folds.iter().map(f).sum::<f64>() / folds.len() as f64
        };
        println!(
            "{group}: mean RMSE {:.1} µm vs baseline {:.1} µm, mean coverage {:.0} %",
            mean(&|f| f.rmse_um),
            mean(&|f| f.baseline_rmse_um),
            100.0 * mean(&|f| f.coverage)
        );
    }
    Ok(())
}

/// A number with a k/M suffix for big values.
fn human(v: f64) -> String {
    match v.abs() {
        x if x >= 1e6 => format!("{:.2} M", v / 1e6),
        x if x >= 1e4 => format!("{:.1} k", v / 1e3),
        x if x >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.2}"),
    }
}
