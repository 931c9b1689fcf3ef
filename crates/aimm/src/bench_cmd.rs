//! `aimm bench`: the arguments of each benchmark area; the benchmarks themselves live in the
//! aimm-bench crate, which hands back a report printed here as a table or as JSON.

use crate::output::{print_json, spinner};
use crate::part::{parse_material, read_program};
use aimm_assess::conformance::wear_fleet::FleetSpec;
use aimm_bench::connect::ConnectOptions;
use aimm_bench::Report;
use aimm_loops::wear::WearLoopParams;
use anyhow::{bail, Result};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Simulator speed (simulated s per wall s at 500 Hz, one core) and store write throughput
    /// (sealed, compressed, hashed segments vs plain row-per-sample SQLite inserts).
    Sim(BenchSimArgs),
    /// Evidence ledger: durable appends/s in batches (vs one transaction per record),
    /// inclusion-proof verifications/s (vs recomputing the root), and `aimm verify` time on a
    /// large bundle (vs hashing its records file once).
    Ledger(BenchLedgerArgs),
    /// The assessment: `aimm assess --bundle` wall time and peak memory on the demo cell's
    /// bundle and on a synthetic bundle of a million records, each next to `aimm verify` on
    /// the same bundle.
    #[command(
        after_help = "Examples:\n  aimm bench assess\n  aimm bench assess --records 100000 --json"
    )]
    Assess(BenchAssessArgs),
    /// Adaptive feed loop: decision latency per sample (p50/p99, vs a fixed-gain PI on the same
    /// samples), and cycle-time reduction and overloads per validation part vs constant feed.
    Feed(BenchFeedArgs),
    /// Tool-wear model on real data: leave-one-run-out RMSE/MAE/coverage per fold next to the
    /// sensor-free baseline, training time, and prediction latency per window.
    Wear(BenchWearArgs),
    /// Tool-wear loop over many simulated tools of scattered life (lognormal, CV 0.3) and blank
    /// batches: parts out of tolerance, parts per tool and tool life used, next to (a) a fixed
    /// parts-per-tool count (the largest with no part of any tool out of tolerance) with offsets
    /// from the nominal wear curve, (b) the same loop on cutting time alone and (c) no
    /// compensation, on the same tools in the same run. The models train on their own lives,
    /// the plan margins are searched on calibration tools, the tools tested are a third set.
    /// Non-zero exit when the loop fails its verdict.
    ///
    /// Example (run from the repo root):
    ///   aimm bench wear-loop --tools 20 --json
    #[command(verbatim_doc_comment)]
    WearLoop(BenchWearLoopArgs),
    /// Store backends: PostgreSQL segment ingest samples/s (binary COPY, durable) next to SQLite
    /// ingesting the same simulated samples in the same run.
    ///
    /// Examples:
    ///   aimm bench store --db-postgres postgres://aimm@127.0.0.1:55432/postgres
    ///   AIMM_BENCH_POSTGRES_URL=postgres://… aimm bench store --parts 1 --json
    #[command(verbatim_doc_comment)]
    Store(BenchStoreArgs),
    /// Range queries for plots: a signal of 10 M samples (1 kHz, 10 s segments) read as 1000
    /// points over its full range and over a 1-hour window, and a 1-minute window, p50/p99 of
    /// `read_downsampled` next to `read_samples` + bucketing in the same run; SQLite, and
    /// PostgreSQL when a server is given.
    ///
    /// Examples:
    ///   aimm bench range
    ///   aimm bench range --samples 1000000 --db-postgres postgres://aimm@127.0.0.1:55432/postgres --json
    #[command(verbatim_doc_comment)]
    Range(BenchRangeArgs),
    /// The web API under load next to a bare axum handler in the same run: responses/s of the
    /// signal range endpoint (10 M samples → 1000 points) and of the ledger record endpoint,
    /// the range endpoint's p50/p99 for one client, and page load times in Chromium (with
    /// scripts/services/playwright.sh sourced; otherwise said not measured).
    ///
    /// Examples:
    ///   aimm bench web
    ///   aimm bench web --samples 1000000 --clients 8 --seconds 5 --json
    #[command(verbatim_doc_comment)]
    Web(BenchWebArgs),
    /// Machine interfaces and the plant store: MTConnect agent /sample and /current responses/s
    /// (vs a bare HTTP hello on the same loopback) and SHDR ingest lines/s (vs parsing alone);
    /// with --mqtt, the Sparkplug B sample → override round trip p50/p99 signed (vs the same
    /// round trip unsigned) and unsigned (vs an in-process channel) and MQTT ingest samples/s
    /// (vs sealing straight into SQLite); with --db-postgres, PostgreSQL segment ingest (vs
    /// SQLite).
    ///
    /// Example (scripts/services/*.sh start the broker and server; run from the repo root):
    ///   aimm bench connect --mqtt mqtt://127.0.0.1:18830 --db-postgres postgresql://aimm@127.0.0.1:55432/postgres
    #[command(verbatim_doc_comment)]
    Connect(BenchConnectArgs),
    /// Scheduling: makespan gap to the best known per instance for aimm's tabu search and
    /// OR-Tools CP-SAT side by side (same time limit and threads); energy cost of aimm's plan on
    /// seeded energy overlays next to EDD, FIFO and CP-SAT (same model, EDD's tardiness as its
    /// limit); reschedule latency p50/p99 and operations moved per event kind on a 50 × 10 shop
    /// next to planning again from scratch. Needs Python 3 with ortools (`pip install ortools`).
    ///
    /// Examples (run from the repo root):
    ///   aimm bench schedule
    ///   aimm bench schedule --instances ft10,mk01 --energy-instances ft06 --time-limit 5 --json
    #[command(verbatim_doc_comment)]
    Schedule(BenchScheduleArgs),
    /// Process-parameter learning (issue 16): aimm's safe learner in auto mode next to the
    /// fixed CAM start, random search, grid search and constrained expected improvement (the
    /// same models without a safe set) on the simulator's six process cases, each seed a hidden
    /// truth: parts that violate a constraint, parts until the recommendation stays within 5 %
    /// of the oracle, final regret, cost at the start, at the end and of the parts made; per
    /// case and strategy (mean, worst). Non-zero exit when a criterion of the issue fails.
    ///
    /// Examples:
    ///   aimm bench learn
    ///   aimm bench learn --seeds 0-4 --parts 20 --cases steel,ti-6al-4v/finishing --json
    #[command(verbatim_doc_comment)]
    Learn(BenchLearnArgs),
}

#[derive(clap::Args)]
pub struct BenchLearnArgs {
    /// Seeds of the hidden truths: a range `A-B` (inclusive) or a comma-separated list
    /// (the learner's settings were chosen on 1000-1019; report others).
    #[arg(long, default_value = "0-19")]
    seeds: String,
    /// Parts per run.
    #[arg(long, default_value_t = 30)]
    parts: usize,
    /// Cases whose name contains one of these, comma-separated (default: all six).
    #[arg(long, value_delimiter = ',')]
    cases: Vec<String>,
    /// Print every run's figures too (in JSON they always are).
    #[arg(long)]
    runs: bool,
    /// The learner's confidence band in standard deviations (default: the chosen 2.0; for
    /// experiments on training seeds only).
    #[arg(long)]
    beta: Option<f64>,
    /// The learner's trust region, largest step per part in ln fz and ln vc (default: the
    /// chosen 0.15).
    #[arg(long)]
    trust_region: Option<f64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BenchScheduleArgs {
    /// Folder of instances/, fjsp-brandimarte/ and bounds.csv.
    #[arg(long, default_value = "testdata/jssp")]
    data: PathBuf,
    /// Makespan instances, comma-separated (default: the ten JSSP of issue 15 and mk01–mk10).
    #[arg(long, value_delimiter = ',')]
    instances: Option<Vec<String>>,
    /// Energy overlay instances, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "ft06,la01,ft10,mk01")]
    energy_instances: Vec<String>,
    /// Wall-clock limit per solver and instance, s.
    #[arg(long, default_value_t = 10.0)]
    time_limit: f64,
    /// Threads of aimm's search and workers of CP-SAT.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Python with ortools.
    #[arg(long, default_value = "python3")]
    python: String,
    /// The CP-SAT peer script.
    #[arg(long, default_value = "crates/aimm-bench/peers/cpsat_schedule.py")]
    peer: PathBuf,
    /// Seed of overlays, searches and events.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Reschedules per event kind.
    #[arg(long, default_value_t = 10)]
    events: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
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
pub struct BenchWearLoopArgs {
    /// NC program with a reference feature cut under cutter compensation.
    #[arg(long, default_value = "examples/ring_c45.nc")]
    program: PathBuf,
    /// Workpiece material: steel-c45, al-6061, ti-6al-4v, ss-316l or gg-25.
    #[arg(long, default_value = "steel-c45")]
    material: String,
    /// Tools tested (seeds 2001, 2002, …).
    #[arg(long, default_value_t = 20)]
    tools: u64,
    /// Tool lives the models are trained on (seeds 1, 2, …).
    #[arg(long, default_value_t = 8)]
    train_lives: u64,
    /// Tools the plan margins are searched on (seeds 1001, 1002, …).
    #[arg(long, default_value_t = 6)]
    calibration_tools: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BenchFeedArgs {
    /// Folder of real CAM programs with a materials.csv (program,material,reason) naming the
    /// material each one's speeds and feeds fit; each runs like a validation case.
    #[arg(long, default_value = "testdata/gcode")]
    real_programs: PathBuf,
    /// Leave the real programs out (the built-in and held-out parts only).
    #[arg(long)]
    no_real_programs: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BenchAssessArgs {
    /// Records of the synthetic bundle.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Parts per machine of the demo cell whose bundle is assessed.
    #[arg(long, default_value_t = 1)]
    demo_parts: u32,
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

#[derive(clap::Args)]
pub struct BenchStoreArgs {
    /// PostgreSQL server to measure, postgres://user:password@host:5432/database. The bench
    /// works in a schema of its own, dropped at the end; scripts/services/postgres.sh starts a
    /// throwaway server (and sets AIMM_TEST_POSTGRES_URL).
    #[arg(long, env = "AIMM_BENCH_POSTGRES_URL")]
    db_postgres: String,
    /// Parts of examples/bracket_c45.nc simulated at 500 Hz for the samples (~230 k each).
    #[arg(long, default_value_t = 10)]
    parts: u32,
    /// Series (10 s windows of one signal) per append call, i.e. per durable transaction.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BenchRangeArgs {
    /// Samples of the signal (1 kHz, so 10 M is ~2.8 h).
    #[arg(long, default_value_t = 10_000_000)]
    samples: u64,
    /// PostgreSQL server to measure too, postgres://user:password@host:5432/database (a
    /// scratch schema is created and dropped). Without it only SQLite is measured.
    #[arg(long, env = "AIMM_BENCH_POSTGRES_URL")]
    db_postgres: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BenchWebArgs {
    /// Samples of the signal served (1 kHz).
    #[arg(long, default_value_t = 10_000_000)]
    samples: u64,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Seconds each rate is measured for.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BenchConnectArgs {
    /// Device file the agent serves.
    #[arg(
        long,
        default_value = "testdata/mtconnect/devices/demo_okuma_mazak_Devices_2.7.xml"
    )]
    devices: PathBuf,
    /// SHDR recording loaded into the agent (and timed for ingest).
    #[arg(long, default_value = "testdata/mtconnect/shdr/demo_okuma.shdr.txt")]
    shdr: PathBuf,
    /// Seconds each HTTP figure is measured for.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// MQTT broker for the Sparkplug B figures, mqtt://HOST:PORT; it must allow unlimited
    /// in-flight messages (mosquitto `max_inflight_messages 0`), as
    /// scripts/services/mosquitto.sh configures it. Without it those figures are left out.
    #[arg(long, env = "AIMM_TEST_MQTT_URL")]
    mqtt: Option<String>,
    /// PostgreSQL server for the segment-ingest figures (a scratch schema is created and
    /// dropped). Without it those figures are left out.
    #[arg(long, env = "AIMM_TEST_POSTGRES_URL")]
    db_postgres: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Sim(args) => print(&aimm_bench::sim::run(args.parts)?, args.json),
        BenchCommand::Assess(args) => print(
            &aimm_bench::assess::run(args.records, args.demo_parts)?,
            args.json,
        ),
        BenchCommand::Ledger(args) => print(
            &aimm_bench::ledger::run(args.records, args.batch)?,
            args.json,
        ),
        BenchCommand::Feed(args) => {
            let dir = (!args.no_real_programs).then_some(args.real_programs.as_path());
            print(&aimm_bench::feed::run(dir)?, args.json)
        }
        BenchCommand::Wear(args) => print(&aimm_bench::wear::run(&args.data)?, args.json),
        BenchCommand::Schedule(args) => schedule(args),
        BenchCommand::Learn(args) => learn(args),
        BenchCommand::WearLoop(args) => wear_loop(args),
        BenchCommand::Store(args) => print(
            &aimm_bench::store::run(&args.db_postgres, args.parts, args.batch)?,
            args.json,
        ),
        BenchCommand::Range(args) => print(
            &aimm_bench::range::run(args.samples, args.db_postgres.as_deref())?,
            args.json,
        ),
        BenchCommand::Web(args) => print(
            &aimm_bench::web::run(args.samples, args.clients, args.seconds)?,
            args.json,
        ),
        BenchCommand::Connect(args) => {
            let options = ConnectOptions {
                devices: args.devices,
                shdr: args.shdr,
                seconds: args.seconds,
                clients: args.clients,
                mqtt: args.mqtt,
                db_postgres: args.db_postgres,
            };
            print(&aimm_bench::connect::run(&options)?, args.json)
        }
    }
}

fn wear_loop(args: BenchWearLoopArgs) -> Result<()> {
    for (flag, n) in [
        ("--tools", args.tools),
        ("--train-lives", args.train_lives),
        ("--calibration-tools", args.calibration_tools),
    ] {
        if !(1..1000).contains(&n) {
            bail!("{flag} {n}: must be within 1–999");
        }
    }
    let (_, text) = read_program(&args.program)?;
    let spec = FleetSpec {
        program: (args.program.display().to_string(), text),
        material: parse_material(&args.material)?,
        train_seeds: (1..=args.train_lives).collect(),
        calibration_seeds: (1001..=1000 + args.calibration_tools).collect(),
        test_seeds: (2001..=2000 + args.tools).collect(),
        params: WearLoopParams::default(),
    };
    let bar = spinner();
    let report = aimm_bench::wear_loop::run(&spec, |stage| bar.set_message(stage.to_string()))?;
    bar.finish_and_clear();
    print(&report, args.json)?;
    let v = &report.validation;
    if !v.passed {
        bail!(
            "the wear loop failed its verdict: {}",
            v.failures.join("; ")
        );
    }
    Ok(())
}

/// Prints `report` as JSON with `json`, as a table otherwise.
fn print(report: &impl Report, json: bool) -> Result<()> {
    if json {
        return print_json(&report.json());
    }
    println!("{}", report.text());
    Ok(())
}

fn schedule(args: BenchScheduleArgs) -> Result<()> {
    use aimm_bench::schedule::{run, ScheduleBenchOptions, FJSP_INSTANCES, JSSP_INSTANCES};
    if !(args.time_limit.is_finite() && args.time_limit > 0.0) {
        bail!(
            "--time-limit {}: must be a positive number of seconds",
            args.time_limit
        );
    }
    if !(1..=64).contains(&args.threads) {
        bail!("--threads {}: must be 1 to 64", args.threads);
    }
    let options = ScheduleBenchOptions {
        data: args.data,
        instances: args.instances.unwrap_or_else(|| {
            JSSP_INSTANCES
                .iter()
                .chain(&FJSP_INSTANCES)
                .map(|s| s.to_string())
                .collect()
        }),
        energy_instances: args.energy_instances,
        time_limit_s: args.time_limit,
        threads: args.threads,
        python: args.python,
        peer: args.peer,
        seed: args.seed,
        events: args.events.max(1),
    };
    let bar = spinner();
    let report = run(&options, |what| bar.set_message(what.to_string()))?;
    bar.finish_and_clear();
    print(&report, args.json)
}

/// `A-B` (inclusive) or `a,b,c`.
fn parse_seeds(text: &str) -> Result<Vec<u64>> {
    let bad = || anyhow::anyhow!("--seeds {text}: expected A-B or a comma-separated list");
    if let Some((a, b)) = text.split_once('-') {
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if b < a {
            return Err(bad());
        }
        return Ok((a..=b).collect());
    }
    text.split(',')
        .map(|s| s.trim().parse().map_err(|_| bad()))
        .collect()
}

fn learn(args: BenchLearnArgs) -> Result<()> {
    use aimm_bench::learn::{run, LearnBenchOptions};
    let seeds = parse_seeds(&args.seeds)?;
    if !(1..=1000).contains(&args.parts) {
        bail!("--parts {}: must be within 1–1000", args.parts);
    }
    let mut settings = aimm_loops::learn::LearnSettings::default();
    for (flag, value, slot) in [
        ("--beta", args.beta, &mut settings.beta),
        (
            "--trust-region",
            args.trust_region,
            &mut settings.trust_region_log_step,
        ),
    ] {
        if let Some(v) = value {
            if !(v.is_finite() && v > 0.0) {
                bail!("{flag} {v}: must be a positive number");
            }
            *slot = v;
        }
    }
    let options = LearnBenchOptions {
        seeds,
        parts: args.parts,
        cases: args.cases,
        settings,
        progress: !args.json,
        ..LearnBenchOptions::default()
    };
    let report = run(&options);
    if report.runs.is_empty() {
        bail!("--cases {:?}: no benchmark case matches", options.cases);
    }
    if args.json {
        print_json(&report.json())?;
    } else {
        if args.runs {
            println!("{}", report.runs_text());
        }
        println!("{}", report.text());
    }
    if !report.passed() {
        bail!(
            "the learner failed issue 16's criteria: {}",
            report.failures.join("; ")
        );
    }
    Ok(())
}
