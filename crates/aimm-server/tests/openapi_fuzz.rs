//! schemathesis (PyPI, an independent OpenAPI fuzzer) generates requests from the server's own
//! OpenAPI document — every operation, with valid and invalid parameters and bodies — and finds
//! no answer 5xx and none that contradicts the document's status codes. It runs as an engineer
//! (the widest role that writes) on a store with a machine, sensor data and ledger records.
//! `scripts/services/schemathesis.sh` installs it; without it the test fails, it does not skip.

mod common;

use aimm_ledger::Origin;
use aimm_model::{MachineId, SignalKind, SignalSeries};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error() {
    let server = common::start().await;
    let db = server.db();
    {
        let mut store = aimm_store::open(&db).unwrap();
        let t0 = aimm_model::DEFAULT_START_NS;
        let series = SignalSeries {
            machine: MachineId::new("mill-1"),
            signal: SignalKind::SpindleLoadPct,
            t_ns: (0..5000).map(|i| t0 + i * 2_000_000).collect(),
            values: (0..5000)
                .map(|i| 40.0 + (i as f64 / 100.0).sin() * 20.0)
                .collect(),
        };
        store
            .append_segments(None, Origin::SIMULATOR, &[series])
            .unwrap();
    }
    let url = format!("http://{}/api/openapi.json", server.addr);
    let token = server.token("engineer").to_string();
    let cwd = server.dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("schemathesis")
            // Its cache goes to the working directory: the test's, not the repository.
            .current_dir(&cwd)
            .args([
                "run",
                &url,
                "--checks",
                "not_a_server_error,status_code_conformance",
            ])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            // An event stream never ends; its answer is checked by the live and matrix tests.
            .args(["--exclude-path", "/api/live"])
            .args(["--max-examples", "25", "--seed", "1", "--workers", "1"])
            .args(["--request-timeout", "10", "--no-color"])
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| {
        panic!("schemathesis did not run ({e}): scripts/services/schemathesis.sh installs it")
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis failed:\n{stdout}\n{stderr}"
    );
    // It really ran the operations (a document it could not read would test nothing).
    assert!(stdout.contains("passed"), "{stdout}");
    eprintln!("{stdout}");
}
