//! `aimm bench connect`: the machine interfaces and the plant store, each figure next to a
//! baseline measured in the same run. MTConnect: HTTP responses/s of aimm's agent for `/sample`
//! and `/current` against a bare axum "hello" on the same loopback, and SHDR ingest lines/s
//! against parsing alone. With an MQTT broker: Sparkplug B round trip and ingest
//! ([`mqtt`](crate::mqtt)). With a PostgreSQL server: segment ingest against SQLite
//! ([`store`](crate::store)).

use crate::part::BenchPart;
use crate::store::pg_vs_sqlite_ingest;
use crate::{render_table, BenchError, Figure, Report};
use aimm_connect::mtconnect::http::{serve, SharedAgent};
use aimm_connect::mtconnect::http_get::HttpGet;
use aimm_connect::mtconnect::replay::replay_into;
use aimm_connect::mtconnect::shdr::ShdrParser;
use aimm_connect::mtconnect::{Agent, AgentOptions, DeviceModel, SignalMap};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What `aimm bench connect` measures, and against what.
pub struct ConnectOptions {
    /// Device file the agent serves.
    pub devices: PathBuf,
    /// SHDR recording loaded into the agent (and timed for ingest).
    pub shdr: PathBuf,
    /// Seconds each HTTP figure is measured for.
    pub seconds: f64,
    /// Concurrent HTTP clients.
    pub clients: usize,
    /// MQTT broker for the Sparkplug B figures, mqtt://HOST:PORT; without it they are left out.
    pub mqtt: Option<String>,
    /// PostgreSQL server for the segment-ingest figures; without it they are left out.
    pub db_postgres: Option<String>,
}

/// What `aimm bench connect` measured.
pub struct ConnectReport {
    /// The figures, each next to its baseline.
    pub figures: Vec<Figure>,
    /// Figures left out, and what to give to have them.
    pub left_out: Vec<&'static str>,
    /// Concurrent HTTP clients of the MTConnect figures.
    pub clients: usize,
    /// Seconds each HTTP figure was measured for.
    pub seconds: f64,
}

/// Measures the MTConnect figures, then the Sparkplug B and PostgreSQL ones where `options`
/// names a broker or a server; a spinner on stderr shows the stage.
pub fn run(options: &ConnectOptions) -> Result<ConnectReport, BenchError> {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(100));
    bar.set_message("MTConnect agent");
    let mut figures = mtconnect_figures(options)?;
    let mut left_out = Vec::new();
    let part = BenchPart::new()?;
    match &options.mqtt {
        Some(url) => {
            bar.set_message("Sparkplug B over MQTT");
            figures.extend(crate::mqtt::mqtt_figures(url, &part)?);
        }
        None => left_out.push("Sparkplug B over MQTT (give --mqtt)"),
    }
    match &options.db_postgres {
        Some(url) => {
            bar.set_message("PostgreSQL vs SQLite segment ingest");
            let simulated = part.simulate(2)?;
            figures.extend(pg_vs_sqlite_ingest(url, &simulated.series, 16)?);
        }
        None => left_out.push("PostgreSQL ingest (give --db-postgres)"),
    }
    bar.finish_and_clear();
    Ok(ConnectReport {
        figures,
        left_out,
        clients: options.clients,
        seconds: options.seconds,
    })
}

impl Report for ConnectReport {
    fn text(&self) -> String {
        let mut out = format!(
            "{}\nMTConnect: {} loopback HTTP/1.1 keep-alive clients, {} s per figure",
            render_table(&self.figures),
            self.clients,
            self.seconds
        );
        if !self.left_out.is_empty() {
            out.push_str(&format!("\nleft out: {}", self.left_out.join("; ")));
        }
        out
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "figures": self.figures, "left_out": self.left_out })
    }
}

fn read(path: &Path) -> Result<String, BenchError> {
    std::fs::read_to_string(path).map_err(|source| BenchError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The Okuma recording in an agent without a store (only the agent's own work is timed).
fn okuma_agent(devices: &str, shdr: &str) -> Result<(Agent, f64, u64), BenchError> {
    let model = DeviceModel::parse("devices", devices)?;
    let signals = SignalMap::build(&model, &HashMap::new());
    let mut agent = Agent::new(model, signals, &AgentOptions::default(), None)?;
    let device = agent.model().device_by_name("OKUMA").unwrap_or(0);
    let start = Instant::now();
    let stats = replay_into(&mut agent, device, "shdr", shdr, &mut |_| {})?;
    Ok((agent, start.elapsed().as_secs_f64(), stats.lines))
}

/// Requests/s that `clients` concurrent keep-alive clients get from `url` in `seconds`.
async fn rate(url: String, clients: usize, seconds: f64) -> Result<f64, BenchError> {
    rate_with(HttpGet::default(), url, clients, seconds).await
}

/// [`rate`] with the client `http` (e.g. one that sends a token).
pub(crate) async fn rate_with(
    http: HttpGet,
    url: String,
    clients: usize,
    seconds: f64,
) -> Result<f64, BenchError> {
    let (status, _) = http.get(&url).await?;
    if status != 200 {
        return Err(BenchError::HttpStatus { url, status });
    }
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
                Ok::<_, BenchError>(n)
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// The MTConnect figures alone, each next to its same-run baseline: `/sample` and `/current`
/// responses/s against a bare axum "hello", SHDR ingest lines/s against parsing alone.
pub fn mtconnect_figures(options: &ConnectOptions) -> Result<Vec<Figure>, BenchError> {
    let devices = read(&options.devices)?;
    let shdr = read(&options.shdr)?;
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
        let (c, s) = (options.clients, options.seconds);
        let sample = rate(format!("{base}/OKUMA/sample?from={first}&count=100"), c, s).await?;
        let current = rate(format!("{base}/OKUMA/current"), c, s).await?;
        let hello = rate(format!("{hello_base}/hello"), c, s).await?;
        Ok::<_, BenchError>((sample, current, hello))
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
