//! `aimm`: the command line. It parses arguments and wires the aimm crates together; the domain
//! logic lives in those crates.

mod bench_cmd;
mod data_cmd;
mod demo_cmd;
mod output;
mod part;
mod sim_cmd;

use clap::{Parser, Subcommand};

/// aimm makes a CNC cell provably intelligent: it simulates or connects machines, stores their
/// time-stamped data in sealed, hashed segments, and (in later releases) closes optimisation
/// loops on them with a tamper-evident evidence ledger.
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
    Sim(sim_cmd::SimArgs),
    Demo(demo_cmd::DemoArgs),
    /// See and export stored signals.
    #[command(subcommand)]
    Data(data_cmd::DataCommand),
    /// Benchmarks that print a table of figures next to their baselines.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::Sim(args) => sim_cmd::run(args),
        Command::Demo(args) => demo_cmd::run(args),
        Command::Data(cmd) => data_cmd::run(cmd),
        Command::Bench(cmd) => bench_cmd::run(cmd),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
