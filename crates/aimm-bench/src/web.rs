//! `aimm bench web`: the HTTP API under load, next to a bare axum handler on the same loopback
//! in the same run (the ceiling of the HTTP stack alone): responses/s of the signal range
//! endpoint (a 10 M-sample signal reduced to 1000 points, token checked, store read) and of the
//! ledger record endpoint (a record with its inclusion proof), the range endpoint's latency
//! for one client, and — when Playwright and Chromium are installed (scripts/services/
//! playwright.sh) — how long pages take to load with their plots drawn in Chromium, next to the
//! login page, which draws nothing.

use crate::connect::rate_with;
use crate::{render_table, BenchError, Figure, Report};
use aimm_connect::mtconnect::http_get::HttpGet;
use aimm_model::{MachineId, Role};
use aimm_server::{AppState, ServerOptions};
use aimm_store::{NewRun, SqliteStore, Store};
use serde::Serialize;
use std::time::Instant;

/// What `aimm bench web` measured.
#[derive(Clone, Debug, Serialize)]
pub struct WebReport {
    /// Samples of the signal served.
    pub samples: u64,
    /// Concurrent clients.
    pub clients: usize,
    /// Seconds each rate was measured for.
    pub seconds: f64,
    /// Every figure.
    pub figures: Vec<Figure>,
    /// What was not measured, and why.
    pub not_measured: Vec<String>,
}

impl Report for WebReport {
    fn text(&self) -> String {
        let mut text = format!(
            "{}\n{} samples; {} clients for {} s per rate",
            render_table(&self.figures),
            self.samples,
            self.clients,
            self.seconds
        );
        for n in &self.not_measured {
            text.push_str(&format!("\nnot measured: {n}"));
        }
        text
    }

    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("the report serializes")
    }
}

/// Runs the bench on a signal of `samples` samples with `clients` clients for `seconds` per
/// rate.
pub fn run(samples: u64, clients: usize, seconds: f64) -> Result<WebReport, BenchError> {
    if samples < 10_000 || clients == 0 || seconds.is_nan() || seconds <= 0.0 {
        return Err(BenchError::BadInput {
            what: "--samples/--clients/--seconds".into(),
            message: format!(
                "need ≥ 10000 samples, ≥ 1 client and > 0 s; got {samples}, {clients}, {seconds}"
            ),
        });
    }
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("web.db");
    let machine = MachineId::new("bench-range");
    let token = {
        let mut store = SqliteStore::open(&db)?;
        crate::range::build(&mut store, &machine, samples, "SQLite")?;
        // One run over the whole signal, so that the pages draw it (a machine page plots its
        // latest run; the overview's OEE needs a finished part).
        let end_ns =
            crate::range::T_START_NS + (samples as i64) * (1_000_000_000 / crate::range::RATE_HZ);
        let run = store.start_run(&NewRun {
            machine: machine.clone(),
            program_id: None,
            material: "steel-c45".into(),
            seed: 0,
            t_start_ns: crate::range::T_START_NS,
            params_json: serde_json::json!({}),
        })?;
        let cycle_s = (end_ns - crate::range::T_START_NS) as f64 / 1e9;
        store.finish_run(
            run,
            end_ns,
            &serde_json::json!({ "program": "bench", "cycle_time_s": cycle_s }),
        )?;
        aimm_server::users::add_user(
            &mut store,
            "bench",
            Role::Engineer,
            None,
            ("bench", "admin"),
        )
        .map_err(|e| BenchError::BadInput {
            what: "bench user".into(),
            message: e.to_string(),
        })?
        .token
    };
    let state = AppState::open(ServerOptions::new(db.to_string_lossy())).map_err(|e| {
        BenchError::BadInput {
            what: "web server".into(),
            message: e.to_string(),
        }
    })?;
    let runtime = tokio::runtime::Runtime::new()?;
    let (mut figures, base) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(aimm_server::serve(listener, state, std::future::pending()));
        let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let bare_base = format!("http://{}", bare.local_addr()?);
        let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
        tokio::spawn(async move { axum::serve(bare, app).await });

        let http = HttpGet::default().with_bearer(&token);
        let range = format!("{base}/api/machines/bench-range/signals/spindle_load_pct?points=1000");
        let record = format!("{base}/api/ledger/{}", samples / 20_000);
        let hello = rate_with(
            HttpGet::default(),
            format!("{bare_base}/hello"),
            clients,
            seconds,
        )
        .await?;
        let range_rate = rate_with(http.clone(), range.clone(), clients, seconds).await?;
        let record_rate = rate_with(http.clone(), record, clients, seconds).await?;
        let mut latencies = Vec::new();
        let until = Instant::now() + std::time::Duration::from_secs_f64(seconds);
        while Instant::now() < until || latencies.len() < 5 {
            let t = Instant::now();
            let (status, body) = http.get(&range).await?;
            if status != 200 || !body.contains("\"bucket_ns\"") {
                return Err(BenchError::HttpStatus { url: range, status });
            }
            latencies.push(t.elapsed().as_secs_f64() * 1e3);
        }
        latencies.sort_by(f64::total_cmp);
        let bare_name = "bare axum \"hello\" responses/s".to_string();
        let figures = vec![
            Figure {
                what: format!("GET signal range ({samples} samples → 1000 points) responses/s"),
                value: range_rate,
                unit: "1/s",
                baseline: bare_name.clone(),
                baseline_value: hello,
                target: "-".into(),
            },
            Figure {
                what: "GET ledger record with inclusion proof responses/s".into(),
                value: record_rate,
                unit: "1/s",
                baseline: bare_name,
                baseline_value: hello,
                target: "-".into(),
            },
            Figure {
                what: "signal range, one client, p50".into(),
                value: latencies[latencies.len() / 2],
                unit: "ms",
                baseline: "-".into(),
                baseline_value: f64::NAN,
                target: "< 100 ms".into(),
            },
            Figure {
                what: "signal range, one client, p99".into(),
                value: latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)],
                unit: "ms",
                baseline: "-".into(),
                baseline_value: f64::NAN,
                target: "-".into(),
            },
        ];
        Ok::<_, BenchError>((figures, base))
    })?;
    let mut not_measured = Vec::new();
    match page_loads(&base, &token) {
        Ok(loads) => figures.extend(loads),
        Err(why) => not_measured.push(format!("page load in Chromium: {why}")),
    }
    drop(runtime);
    Ok(WebReport {
        samples,
        clients,
        seconds,
        figures,
        not_measured,
    })
}

/// Page load times in Chromium (crates/aimm-server/e2e/pageload.mjs), next to the login page.
fn page_loads(base: &str, token: &str) -> Result<Vec<Figure>, String> {
    let dir = std::env::var("AIMM_E2E_DIR").map_err(|_| {
        "AIMM_E2E_DIR is not set: source scripts/services/playwright.sh".to_string()
    })?;
    let out = std::process::Command::new("node")
        .arg(format!("{dir}/pageload.mjs"))
        .args([base, token, "/", "/machines/bench-range"])
        .output()
        .map_err(|e| format!("node did not run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pageload.mjs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("pageload.mjs printed no JSON: {e}"))?;
    let login = v["/login"].as_f64().ok_or("no /login time")?;
    let mut figures = Vec::new();
    for (path, what) in [
        ("/", "cell overview"),
        ("/machines/bench-range", "machine page"),
    ] {
        let ms = v[path].as_f64().ok_or(format!("no {path} time"))?;
        figures.push(Figure {
            what: format!("{what} load with plots drawn, Chromium"),
            value: ms,
            unit: "ms",
            baseline: "login page (no data)".into(),
            baseline_value: login,
            target: "-".into(),
        });
    }
    Ok(figures)
}
