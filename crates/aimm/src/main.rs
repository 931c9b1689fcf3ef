//! `aimm`: the command line. It parses arguments and wires the aimm crates together; the domain
//! logic lives in those crates.

mod assess_cmd;
mod bench_cmd;
mod connect_cmd;
mod data_cmd;
mod demo_cmd;
mod keys_cmd;
mod learn_cmd;
mod ledger_cmd;
mod loop_cmd;
mod mqtt_args;
mod mtconnect_cmd;
mod output;
mod part;
mod report_cmd;
mod schedule_cell_cmd;
mod schedule_cmd;
mod sim_cmd;
mod wear_cmd;
mod web_cmd;

use clap::{Parser, Subcommand};

/// aimm makes a CNC cell provably intelligent: it simulates or connects machines, stores their
/// time-stamped data in sealed, hashed segments, closes optimisation loops on them, and records
/// every decision in a tamper-evident ledger that a third party verifies offline.
///
/// Start with `aimm demo`, then look at what it stored with `aimm data ls`.
#[derive(Parser)]
#[command(name = "aimm", version, propagate_version = true)]
struct Cli {
    /// Log detail: error, warn, info, debug or trace (also RUST_LOG).
    #[arg(long, global = true, env = "AIMM_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Sim(Box<sim_cmd::SimArgs>),
    Demo(demo_cmd::DemoArgs),
    /// Read machines over their open interfaces (MTConnect agents, Sparkplug B over MQTT) into
    /// the store.
    #[command(subcommand)]
    Connect(connect_cmd::ConnectCommand),
    /// See and export stored signals.
    #[command(subcommand)]
    Data(data_cmd::DataCommand),
    /// Closed loops on the simulated mill, compared with the machine without them.
    #[command(subcommand)]
    Loop(loop_cmd::LoopCommand),
    /// Tool-wear model: train on recorded data (as ledger evidence), evaluate, predict.
    #[command(subcommand)]
    Wear(wear_cmd::WearCommand),
    /// The evidence ledger: list, show, lineage, sign checkpoints.
    #[command(subcommand)]
    Ledger(ledger_cmd::LedgerCommand),
    /// Export an evidence bundle (records, checkpoints, proofs, verifier key, sensor segments).
    Export(ledger_cmd::ExportArgs),
    /// Check an evidence bundle offline: tree, proofs, signatures, citations, segment digests.
    Verify(ledger_cmd::VerifyArgs),
    /// Signing keys for ledger checkpoints.
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
    Serve(mtconnect_cmd::ServeArgs),
    Replay(mtconnect_cmd::ReplayArgs),
    /// Benchmarks that print a table of figures next to their baselines.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
    Assess(assess_cmd::AssessArgs),
    Schedule(schedule_cmd::ScheduleArgs),
    Learn(learn_cmd::LearnArgs),
    /// Check an assessment report (`aimm assess --db STORE --report DIR --sign KEY`) offline: the
    /// assessor's signature, the SHA-256 of every report file (any edit fails, naming the file)
    /// and, with --bundle, that the bundle's signed checkpoint is the ledger the report
    /// assessed and that assessing the bundle again gives the same assessment. Exits non-zero
    /// on any failure, with --json too.
    #[command(after_help = "Examples:\n  \
aimm keys new --name assessor\n  \
aimm assess --db aimm.db --report report --sign assessor.key --pdf\n  \
aimm verify-report report --key assessor.vkey\n  \
aimm verify-report report --key assessor.vkey --bundle aimm-bundle --bundle-key aimm-ledger.vkey")]
    VerifyReport(report_cmd::VerifyReportArgs),
    Web(web_cmd::WebArgs),
    /// Users of the web dashboard and HTTP API: add (prints a token), list, revoke.
    #[command(subcommand)]
    Users(web_cmd::UsersCommand),
}

fn main() -> std::process::ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::Sim(args) => sim_cmd::run(*args),
        Command::Demo(args) => demo_cmd::run(args),
        Command::Connect(cmd) => connect_cmd::run(cmd),
        Command::Data(cmd) => data_cmd::run(cmd),
        Command::Loop(cmd) => loop_cmd::run(cmd),
        Command::Wear(cmd) => wear_cmd::run(cmd),
        Command::Ledger(cmd) => ledger_cmd::run(cmd),
        Command::Export(args) => ledger_cmd::export(args),
        Command::Verify(args) => ledger_cmd::verify(args),
        Command::Keys(cmd) => keys_cmd::run(cmd),
        Command::Serve(args) => mtconnect_cmd::serve(args),
        Command::Replay(args) => mtconnect_cmd::replay(args),
        Command::Bench(cmd) => bench_cmd::run(cmd),
        Command::Assess(args) => assess_cmd::run(args),
        Command::Schedule(args) => schedule_cmd::run(args),
        Command::Learn(args) => learn_cmd::run(args),
        Command::VerifyReport(args) => report_cmd::verify_report(args),
        Command::Web(args) => web_cmd::run(args),
        Command::Users(cmd) => web_cmd::users(cmd),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `aimm ledger lineage 42 | head` should end quietly when `head` has read enough, as Unix tools
/// do; Rust ignores SIGPIPE and would panic on the failed write instead.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
