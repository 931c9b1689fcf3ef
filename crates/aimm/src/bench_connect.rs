//! `aimm bench connect`: the machine interfaces and the plant store, each figure next to a
//! baseline measured in the same run. MTConnect: HTTP responses/s of aimm's agent for `/sample`
//! and `/current` next to a bare axum "hello" on the same loopback, and SHDR ingest lines/s next
//! to parsing alone. With `--mqtt`: Sparkplug B round trip and ingest ([`crate::bench_mqtt`]).
//! With `--db-postgres`: PostgreSQL segment ingest next to SQLite ([`crate::bench_store`]).

use crate::bench_cmd::{print_figures, BenchPart, Figure};
use crate::bench_store::bench_pg_vs_sqlite_ingest;
use crate::output::print_json;
use aimm_connect::mtconnect::http::{serve, SharedAgent};
use aimm_connect::mtconnect::http_get::HttpGet;
use aimm_connect::mtconnect::replay::replay_into;
use aimm_connect::mtconnect::shdr::ShdrParser;
use aimm_connect::mtconnect::{Agent, AgentOptions, DeviceModel, SignalMap};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

pub fn run(args: BenchConnectArgs) -> Result<()> {
    let bar = crate::output::spinner();
    bar.set_message("MTConnect agent");
    let mut figures = mtconnect_figures(&args)?;
    let mut left_out = Vec::new();
    let part = BenchPart::new()?;
    match &args.mqtt {
        Some(url) => {
            bar.set_message("Sparkplug B over MQTT");
            figures.extend(crate::bench_mqtt::mqtt_figures(url, &part)?);
        }
        None => left_out.push("Sparkplug B over MQTT (give --mqtt)"),
    }
    match &args.db_postgres {
        Some(url) => {
            bar.set_message("PostgreSQL vs SQLite segment ingest");
            let simulated = part.simulate(2)?;
            figures.extend(bench_pg_vs_sqlite_ingest(url, &simulated.series, 16)?);
        }
        None => left_out.push("PostgreSQL ingest (give --db-postgres)"),
    }
    bar.finish_and_clear();
    if args.json {
        return print_json(&serde_json::json!({ "figures": figures, "left_out": left_out }));
    }
    print_figures(&figures);
    println!(
        "MTConnect: {} loopback HTTP/1.1 keep-alive clients, {} s per figure",
        args.clients, args.seconds
    );
    if !left_out.is_empty() {
        println!("left out: {}", left_out.join("; "));
    }
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The Okuma recording in an agent without a store (only the agent's own work is timed).
fn okuma_agent(devices: &str, shdr: &str) -> Result<(Agent, f64, u64)> {
    let model = DeviceModel::parse("devices", devices)?;
    let signals = SignalMap::build(&model, &HashMap::new());
    let mut agent = Agent::new(model, signals, &AgentOptions::default(), None)?;
    let device = agent.model().device_by_name("OKUMA").unwrap_or(0);
    let start = Instant::now();
    let stats = replay_into(&mut agent, device, "shdr", shdr, &mut |_| {})?;
    Ok((agent, start.elapsed().as_secs_f64(), stats.lines))
}

/// Requests/s that `clients` concurrent keep-alive clients get from `url` in `seconds`.
async fn rate(url: String, clients: usize, seconds: f64) -> Result<f64> {
    let http = HttpGet::default();
    let (status, _) = http.get(&url).await?;
    anyhow::ensure!(status == 200, "{url}: status {status}");
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < until {
                    http.get(&url).await?;
                    n += 1;
                }
                anyhow::Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// MTConnect figures, each next to its same-run baseline.
pub fn mtconnect_figures(args: &BenchConnectArgs) -> Result<Vec<Figure>> {
    let devices = read(&args.devices)?;
    let shdr = read(&args.shdr)?;
    let parse_start = Instant::now();
    let mut parser = ShdrParser::default();
    let mut lines = 0u64;
    for line in shdr.lines() {
        parser.feed(line, "shdr")?;
        lines += 1;
    }
    let parse_s = parse_start.elapsed().as_secs_f64();
    let (agent, ingest_s, ingested) = okuma_agent(&devices, &shdr)?;
    let first = agent.last_sequence().saturating_sub(1000).max(1);
    let runtime = tokio::runtime::Runtime::new()?;
    let (sample, current, hello) = runtime.block_on(async {
        let shared = SharedAgent::new(agent);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(serve(shared, listener, std::future::pending()));
        let hello_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let hello_base = format!("http://{}", hello_listener.local_addr()?);
        let hello_app =
            axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
        tokio::spawn(async move { axum::serve(hello_listener, hello_app).await });
        let (c, s) = (args.clients, args.seconds);
        let sample = rate(format!("{base}/OKUMA/sample?from={first}&count=100"), c, s).await?;
        let current = rate(format!("{base}/OKUMA/current"), c, s).await?;
        let hello = rate(format!("{hello_base}/hello"), c, s).await?;
        anyhow::Ok((sample, current, hello))
    })?;
    let hello_name = "bare axum \"hello\" responses/s".to_string();
    Ok(vec![
        Figure {
            what: "MTConnect /sample (100 observations) responses/s".into(),
            value: sample,
            unit: "1/s",
            baseline: hello_name.clone(),
            baseline_value: hello,
            target: "-".into(),
        },
        Figure {
            what: "MTConnect /current (Okuma, all items) responses/s".into(),
            value: current,
            unit: "1/s",
            baseline: hello_name,
            baseline_value: hello,
            target: "-".into(),
        },
        Figure {
            what: "SHDR ingest into the agent (Okuma recording)".into(),
            value: ingested as f64 / ingest_s,
            unit: "lines/s",
            baseline: "SHDR parsing alone".into(),
            baseline_value: lines as f64 / parse_s,
            target: "-".into(),
        },
    ])
}
