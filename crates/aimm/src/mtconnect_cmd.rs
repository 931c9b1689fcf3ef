//! `aimm serve` (aimm's MTConnect agent), `aimm replay` (an SHDR recording as an adapter, or
//! straight into the store) and `aimm connect mtconnect` (the client).

use crate::output::{print_json, table};
use crate::part::open_store;
use aimm_connect::mtconnect::client::{read_overrides, ClientOptions, MtcClient};
use aimm_connect::mtconnect::http::SharedAgent;
use aimm_connect::mtconnect::replay::{replay_into, serve_adapter, ReplayStats};
use aimm_connect::mtconnect::service::{run_agent, AdapterLink};
use aimm_connect::mtconnect::{Agent, AgentOptions};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Serve every machine aimm knows as an MTConnect 2.7 agent, and read SHDR adapters into it.
///
/// Publishes /probe, /current, /sample (with `interval` for multipart streaming), /assets
/// (CuttingTool assets with tool life from the store) and MTConnect error documents. Machines
/// in the store are published with their stored data; `--devices` serves a real device file
/// (e.g. cppagent's Okuma/Mazak model) whose items SHDR adapters feed by id or name. Samples
/// that are aimm signals (spindle load, feed, override, ...) are sealed into the store.
///
/// Examples:
///   aimm serve --db aimm.db
///   aimm serve --db plant.db --devices Devices.xml --adapter OKUMA=10.0.0.5:7878
///   curl 'http://127.0.0.1:5000/sample?from=1&count=100'
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// Store whose machines are published and that receives adapter data: a SQLite file or a
    /// postgres:// URL.
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    db: String,
    /// MTConnect Devices file to serve besides the store's machines.
    #[arg(long)]
    devices: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// HTTP port (0: any free port; `--json` tells which).
    #[arg(long, default_value_t = 5000)]
    port: u16,
    /// SHDR adapter to connect to, `[DEVICE=]host:port` (repeatable; DEVICE defaults to the
    /// first device of --devices).
    #[arg(long)]
    adapter: Vec<String>,
    /// Observations kept for /sample.
    #[arg(long, default_value_t = 131_072)]
    buffer: usize,
    /// Print the listening address and devices as one JSON line when ready.
    #[arg(long)]
    json: bool,
}

/// Replay an SHDR recording: as an adapter on a TCP port (an agent connects and reads it), or
/// straight into the store through the agent's ingest path.
///
/// Lines go out unchanged (timestamps included), paced by their timestamps at `--speed`
/// (pauses capped at 10 s) or as fast as possible with `--fast`.
///
/// Examples:
///   aimm replay okuma.shdr --port 7878 --speed 10
///   aimm serve --devices Devices.xml --adapter OKUMA=127.0.0.1:7878
///   aimm replay okuma.shdr --db aimm.db --devices Devices.xml --device OKUMA
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ReplayArgs {
    /// SHDR recording (`timestamp|key|value|…` lines).
    file: PathBuf,
    /// Serve the recording as an adapter on this port (0: any free port; `--json` tells
    /// which); the link closes at the end of the recording.
    #[arg(long, conflicts_with = "db")]
    port: Option<u16>,
    /// Address to listen on with --port.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Feed the recording straight into this store instead (SQLite file or postgres:// URL;
    /// needs --devices).
    #[arg(long, requires = "devices")]
    db: Option<String>,
    /// Device file whose data items the recording's keys name (with --db).
    #[arg(long)]
    devices: Option<PathBuf>,
    /// Device the recording belongs to (with --db; default: the first of --devices).
    #[arg(long)]
    device: Option<String>,
    /// Replay speed, × real time.
    #[arg(long, default_value_t = 1.0, conflicts_with = "fast")]
    speed: f64,
    /// No pauses at all.
    #[arg(long)]
    fast: bool,
    /// Print JSON (with --port, the listening address first, as its own line).
    #[arg(long)]
    json: bool,
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Builds the agent `serve` and `replay --db` run.
fn agent(db: &str, devices: Option<&Path>, buffer: usize) -> Result<Agent> {
    let store = open_store(db)?;
    let text = devices.map(|p| read_text(p, "device file")).transpose()?;
    let name = devices.map(|p| p.display().to_string());
    let doc = name.as_deref().zip(text.as_deref());
    let options = AgentOptions {
        buffer_size: buffer,
        ..AgentOptions::default()
    };
    Agent::for_store(store, doc, &HashMap::new(), &options)
        .with_context(|| format!("cannot start the agent on store {db}"))
}

/// Device index named by `name`, or the first device.
fn device_index(agent: &Agent, name: Option<&str>, what: &str) -> Result<usize> {
    let model = agent.model();
    match name {
        Some(n) => model.device_by_name(n).with_context(|| {
            let known: Vec<&str> = model.devices.iter().map(|d| d.name.as_str()).collect();
            format!("{what}: no device '{n}'; devices: {known:?}")
        }),
        None if model.devices.is_empty() => bail!("{what}: there is no device to feed"),
        None => Ok(0),
    }
}

#[derive(Serialize)]
struct Listening {
    url: String,
    devices: Vec<String>,
}

pub fn serve(args: ServeArgs) -> Result<()> {
    let agent = agent(&args.db, args.devices.as_deref(), args.buffer)?;
    let mut links = Vec::new();
    for spec in &args.adapter {
        let (device, addr) = match spec.split_once('=') {
            Some((d, a)) => (Some(d), a),
            None => (None, spec.as_str()),
        };
        let device = device_index(&agent, device, &format!("--adapter {spec}"))?;
        links.push(AdapterLink {
            device,
            addr: addr.to_string(),
        });
    }
    let devices: Vec<String> = agent
        .model()
        .devices
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.bind.as_str(), args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
        let url = format!("http://{}", listener.local_addr()?);
        if args.json {
            println!("{}", serde_json::to_string(&Listening { url, devices })?);
        } else {
            println!(
                "MTConnect agent on {url}/probe serving {}",
                devices.join(", ")
            );
        }
        let shared = SharedAgent::new(agent);
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        run_agent(shared, listener, links, shutdown).await?;
        Ok(())
    })
}

pub fn replay(args: ReplayArgs) -> Result<()> {
    let text = read_text(&args.file, "SHDR recording")?;
    let source = args.file.display().to_string();
    let lines = text.lines().count() as u64;
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(lines).with_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} lines  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    let speed = if args.fast { None } else { Some(args.speed) };
    if speed.is_some_and(|s| s.is_nan() || s <= 0.0) {
        bail!("--speed must be > 0, got {}", args.speed);
    }
    let (stats, sealed) = if let Some(db) = &args.db {
        let mut agent = agent(db, args.devices.as_deref(), 1 << 16)?;
        let device = device_index(&agent, args.device.as_deref(), "--device")?;
        let stats = replay_into(&mut agent, device, &source, &text, &mut |n| {
            bar.set_position(n)
        })?;
        let sealed = agent.sink_mut().map(|s| s.sealed);
        (stats, sealed)
    } else {
        let port = args
            .port
            .context("give --port (serve as adapter) or --db (into the store)")?;
        let runtime = tokio::runtime::Runtime::new()?;
        let stats = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind((args.bind.as_str(), port))
                .await
                .with_context(|| format!("cannot listen on {}:{port}", args.bind))?;
            let addr = listener.local_addr()?.to_string();
            if args.json {
                println!("{}", serde_json::json!({ "adapter": addr }));
            } else {
                bar.set_message(format!("adapter on {addr}, waiting for an agent"));
            }
            let stats = serve_adapter(&source, &text, listener, speed, &mut |n| {
                bar.set_position(n);
                bar.set_message("");
            })
            .await?;
            anyhow::Ok(stats)
        })?;
        (stats, None)
    };
    bar.finish_and_clear();
    print_replay(&stats, sealed, args.json)
}

fn print_replay(stats: &ReplayStats, sealed: Option<(u64, u64, u64)>, json: bool) -> Result<()> {
    if json {
        let mut value = serde_json::to_value(stats)?;
        if let Some((segments, samples, events)) = sealed {
            value["segments"] = segments.into();
            value["samples"] = samples.into();
            value["events"] = events.into();
        }
        return print_json(&value);
    }
    let mut t = table(&[
        "lines", "records", "rejected", "segments", "samples", "events",
    ]);
    let (seg, smp, ev) = sealed.map_or(("-".into(), "-".into(), "-".into()), |(a, b, c)| {
        (a.to_string(), b.to_string(), c.to_string())
    });
    t.add_row(vec![
        stats.lines.to_string(),
        stats.records.to_string(),
        stats.rejected.to_string(),
        seg,
        smp,
        ev,
    ]);
    println!("{t}");
    Ok(())
}

/// Follow an MTConnect agent (probe, current, then sample by sequence) and store the data items
/// that are aimm signals, until Ctrl-C.
///
/// Items map onto aimm signals by type/subType/units (`aimm serve` publishes them that way;
/// cppagent device files mostly fit); `--map` overrides it for odd devices with a TOML file:
///   [signals]
///   S2load = "spindle_load_pct"     # data item id or name = aimm signal
/// Agent restarts, buffer overruns (recorded as an event), UNAVAILABLE values, unknown items,
/// malformed documents and vanished agents are survived and logged.
///
/// Examples:
///   aimm connect mtconnect http://127.0.0.1:5000 --db plant.db
///   aimm connect mtconnect http://agent:5000/OKUMA --map okuma.toml --json
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ConnectMtconnectArgs {
    /// Agent URL, optionally with a device: http://host:5000 or http://host:5000/DEVICE.
    url: String,
    /// Store that receives the samples and events: a SQLite file or a postgres:// URL.
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    db: String,
    /// Override file: [signals] table of data item id or name = aimm signal name.
    #[arg(long)]
    map: Option<PathBuf>,
    /// Observations asked for per /sample request.
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Pause between polls that brought nothing new, ms.
    #[arg(long, default_value_t = 500)]
    interval_ms: u64,
    /// Print the final counts as JSON.
    #[arg(long)]
    json: bool,
}

pub fn connect(args: ConnectMtconnectArgs) -> Result<()> {
    let overrides = match &args.map {
        Some(path) => read_overrides(path)?,
        None => HashMap::new(),
    };
    let options = ClientOptions {
        count: args.count.max(1),
        poll_interval: std::time::Duration::from_millis(args.interval_ms),
        overrides,
    };
    let store = open_store(&args.db)?;
    let mut client = MtcClient::new(&args.url, store, options);
    let runtime = tokio::runtime::Runtime::new()?;
    let spinner = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    spinner.set_message(format!("following {} (Ctrl-C stops)", args.url));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let stats = runtime.block_on(client.run(async {
        let _ = tokio::signal::ctrl_c().await;
    }))?;
    spinner.finish_and_clear();
    if args.json {
        return print_json(&stats);
    }
    let mut t = table(&[
        "polls",
        "observations",
        "samples",
        "unavailable",
        "unknown",
        "gaps",
        "restarts",
        "errors",
    ]);
    t.add_row(
        [
            stats.polls,
            stats.observations,
            stats.samples,
            stats.unavailable,
            stats.unknown,
            stats.gaps,
            stats.restarts,
            stats.errors,
        ]
        .map(|n| n.to_string())
        .to_vec(),
    );
    println!("{t}");
    Ok(())
}
