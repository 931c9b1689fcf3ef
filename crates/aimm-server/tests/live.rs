//! A live plot follows a running simulated machine: the simulator records a part in real time
//! (one simulated second per second, a segment sealed every 0.25 s) into the store the server
//! reads, and every batch of samples reaches a Server-Sent-Events client less than 1 s after
//! the machine produced its last sample.

mod common;

use aimm_connect::{record_run, RecordOptions};
use aimm_model::{MachineSpec, Material, ToolSpec};
use aimm_sim::gcode::parse;
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, Simulator};
use aimm_store::NewRun;
use futures_util::StreamExt;
use http_body_util::BodyStream;

/// A slot cut across a bar: about 5 s of cutting.
const PROGRAM: &str = "(STOCK X0 Y0 X100 Y20 Z0)\nT1 M6\nS6000 M3\nG0 X-6 Y10 Z5\nG1 Z-2 F600\n\
G1 X106 F1500\nG0 Z5\nM30\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_reach_a_live_client_within_a_second_of_the_machine() {
    let server = common::start().await;
    let db = server.db();

    // The client subscribes first, as an open machine page does.
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<hyper::body::Bytes>>();
    let req = hyper::Request::get(format!("http://{}/api/live?machine=live-1", server.addr))
        .header(
            "authorization",
            format!("Bearer {}", server.token("operator")),
        )
        .body(http_body_util::Empty::new())
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = BodyStream::new(resp.into_body());

    // The machine: records in real time on a thread of its own, into the same store.
    let (start_tx, start_rx) = std::sync::mpsc::channel();
    let recorder = std::thread::spawn(move || {
        let program = parse("slot.nc", PROGRAM).unwrap();
        let spec = MachineSpec::vmc("live-1");
        let mut store = aimm_store::open(&db).unwrap();
        store.put_machine(&spec).unwrap();
        let mut config = SimConfig::new(spec, Material::SteelC45, 7);
        let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
        let mut sim = Simulator::new(&program, tools, config).unwrap();
        let new_run = NewRun {
            machine: "live-1".into(),
            program_id: None,
            material: "steel-c45".into(),
            seed: 7,
            t_start_ns: sim.time_ns(),
            params_json: serde_json::json!({}),
        };
        // Simulated time s0 happens at wall time w0.
        start_tx
            .send((aimm_server::clock::now_ns(), sim.time_ns()))
            .unwrap();
        let options = RecordOptions {
            segment_window_s: 0.25,
            pace: Some(1.0),
        };
        let recorded = record_run(
            &mut sim,
            store.as_mut(),
            &new_run,
            options,
            &mut |_: &Simulator<'_>| {},
        )
        .unwrap();
        recorded.result.cycle_time_s
    });
    let (w0, s0) = start_rx.recv().unwrap();

    let mut delays_ms = Vec::new();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !recorder.is_finished() || delays_ms.is_empty() {
        let frame = match tokio::time::timeout_at(deadline, body.next()).await {
            Ok(Some(f)) => f.unwrap(),
            _ => break,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buf.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if !event.starts_with("event: samples") {
                continue;
            }
            let now = aimm_server::clock::now_ns();
            let json = event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            let m: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(m["machine"], "live-1");
            let last = m["t_ns"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .as_i64()
                .unwrap();
            // When the machine produced that sample, on the wall clock.
            let produced = w0 + (last - s0);
            delays_ms.push((now - produced) as f64 / 1e6);
        }
    }
    let cycle_s = recorder.join().unwrap();
    assert!(
        cycle_s > 3.0,
        "the part must run long enough to watch: {cycle_s} s"
    );
    // A batch per signal per seal: several per simulated second.
    assert!(
        delays_ms.len() as f64 >= 2.0 * cycle_s,
        "{} batches for {cycle_s} s",
        delays_ms.len()
    );
    let worst = delays_ms.iter().cloned().fold(f64::MIN, f64::max);
    let mut sorted = delays_ms.clone();
    sorted.sort_by(f64::total_cmp);
    eprintln!(
        "live delay over {} batches: median {:.0} ms, worst {worst:.0} ms",
        sorted.len(),
        sorted[sorted.len() / 2]
    );
    assert!(
        worst < 1000.0,
        "worst delay {worst:.0} ms; all: {delays_ms:?}"
    );
    assert!(
        delays_ms.iter().all(|d| *d > -50.0),
        "samples from the future: {delays_ms:?}"
    );
}
