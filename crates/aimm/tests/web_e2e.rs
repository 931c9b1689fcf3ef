//! The dashboard end to end, as its users see it, in Debian's Chromium driven by playwright-core
//! (scripts/services/playwright.sh installs both; without them this test fails, it does not
//! skip): a demo cell's store with a pending proposal, `aimm web` serving it, a machine recorded
//! live by `aimm sim --live`, and crates/aimm-server/e2e/dashboard.mjs logging in as every
//! role, opening every page, checking that the plots draw points, approving as an engineer and
//! being refused as an assessor, and following the live machine. Screenshots are kept in
//! target/tmp/e2e-screenshots.

mod common;

use common::{aimm_in, json_of};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Kills a child process when dropped, so a failing test leaves no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_role_sees_every_page_draw_real_data_in_chromium() {
    let e2e = std::env::var("AIMM_E2E_DIR").expect(
        "AIMM_E2E_DIR is not set: source scripts/services/playwright.sh (scripts/test does)",
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A demo cell: feed loop on three mills, the wear loop, the energy schedule, learning.
    json_of(&aimm_in(
        d,
        &[
            "demo",
            "--parts",
            "1",
            "--wear-parts",
            "12",
            "--learn-parts",
            "2",
            "--json",
        ],
    ));
    // A proposal waiting for an engineer: the demo's learning series goes on in advise mode.
    std::fs::create_dir(d.join("examples")).unwrap();
    std::fs::copy(example("learn_c45.nc"), d.join("examples/learn_c45.nc")).unwrap();
    let learn = "examples/learn_c45.nc";
    json_of(&aimm_in(
        d,
        &[
            "learn",
            "--program",
            learn,
            "--parts",
            "2",
            "--mode",
            "advise",
            "--machine",
            "mill-7",
            "--json",
        ],
    ));
    let mut tokens = serde_json::Map::new();
    for role in ["assessor", "operator", "engineer", "admin"] {
        let user = json_of(&aimm_in(
            d,
            &[
                "users",
                "add",
                &format!("e2e-{role}"),
                "--role",
                role,
                "--json",
            ],
        ));
        tokens.insert(role.into(), user["token"].clone());
    }
    let tokens_file = d.join("tokens.json");
    std::fs::write(&tokens_file, serde_json::to_vec(&tokens).unwrap()).unwrap();

    let mut web = Running(
        Command::new(env!("CARGO_BIN_EXE_aimm"))
            .current_dir(d)
            .args(["web", "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(web.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("aimm web printed no address: {line}"))
        .trim_end_matches('/')
        .to_string();
    // A machine making a part in real time while the browser watches.
    let _live = Running(
        Command::new(env!("CARGO_BIN_EXE_aimm"))
            .current_dir(d)
            .args([
                "sim",
                &example("bracket_c45.nc"),
                "--machine",
                "live-1",
                "--db",
                "aimm.db",
                "--live",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-screenshots");
    let out = Command::new("node")
        .arg(Path::new(&e2e).join("dashboard.mjs"))
        .arg(&base)
        .arg(&tokens_file)
        .arg(&artifacts)
        .output()
        .expect("node did not run: scripts/services/playwright.sh installs Node.js packages");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}\nscreenshots in {}", artifacts.display());
    assert!(
        out.status.success(),
        "dashboard.mjs failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("engineer approved proposal"), "{stdout}");
    assert!(stdout.contains("live-1:"), "{stdout}");
    let shots = std::fs::read_dir(&artifacts).unwrap().count();
    // Nine pages for each of four roles, two approvals, the live machine.
    assert!(shots >= 4 * 9 + 3, "{shots} screenshots");
}
