//! `aimm learn` as a user runs it: auto mode prints the figures the issue names (violations,
//! costs, the oracle, every part) and records a series whose lineage reaches the part runs'
//! segments; advise mode waits for `aimm learn approve`, which names the actor; `status` says
//! what the learner would try next; bad programs and boxes exit non-zero with the reason, with
//! --json too.

mod common;

use common::{aimm_in as aimm, json_of};

const PROGRAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/learn_c45.nc");

fn learn<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "learn",
        "--program",
        PROGRAM,
        "--db",
        "l.db",
        "--key",
        "l.key",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn auto_mode_prints_the_figures_and_its_lineage_reaches_the_parts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = json_of(&aimm(
        d,
        &learn(&["--mode", "auto", "--parts", "6", "--seed", "5", "--json"]),
    ));
    assert_eq!(out["violations"], 0, "{out}");
    let parts = out["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 6);
    for p in parts {
        assert!(p["cost"].as_f64().unwrap() > 0.0, "{p}");
        assert!(p["violated"].as_array().unwrap().is_empty(), "{p}");
    }
    let (start, last, oracle) = (
        out["cost_start"].as_f64().unwrap(),
        out["cost_final"].as_f64().unwrap(),
        out["oracle_cost"].as_f64().unwrap(),
    );
    assert!(oracle < start && last < start, "{out}");
    // The lineage of the last released version walks to its models and the parts' segments.
    let actions = json_of(&aimm(
        d,
        &[
            "ledger",
            "ls",
            "--db",
            "l.db",
            "--type",
            "control_action",
            "--json",
        ],
    ));
    let release = actions
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|a| a["record"]["loop"] == "learn")
        .expect("a release");
    let leaf = release["leaf_index"].as_u64().unwrap().to_string();
    let lineage = json_of(&aimm(
        d,
        &["ledger", "lineage", &leaf, "--db", "l.db", "--json"],
    ));
    let kinds: Vec<&str> = lineage["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["record"]["type"].as_str().unwrap())
        .collect();
    for kind in [
        "control_action",
        "nc_program",
        "model_training",
        "sensor_segment",
    ] {
        assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
    }
}

#[test]
fn advise_mode_waits_for_approval_and_status_names_the_next_try() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = json_of(&aimm(d, &learn(&["--parts", "2", "--json"])));
    assert!(
        out["parts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["program_version"] == 1),
        "{out}"
    );
    let leaf = out["pending"][0]
        .as_u64()
        .expect("a proposal waits")
        .to_string();
    let status = json_of(&aimm(
        d,
        &[
            "learn",
            "status",
            "--program",
            PROGRAM,
            "--db",
            "l.db",
            "--json",
        ],
    ));
    let ops = status["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2, "{status}");
    for op in ops {
        assert!(
            op["next"]["params"]["fz_mm"].as_f64().unwrap() > 0.0,
            "{op}"
        );
        assert!(
            !op["next"]["margins"].as_array().unwrap().is_empty(),
            "{op}"
        );
    }
    let approved = json_of(&aimm(
        d,
        &[
            "learn", "approve", &leaf, "--db", "l.db", "--key", "l.key", "--actor", "j.doe",
            "--json",
        ],
    ));
    assert_eq!(approved["actor"], "j.doe");
    let again = aimm(
        d,
        &[
            "learn", "approve", &leaf, "--db", "l.db", "--key", "l.key", "--actor", "j.doe",
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("released already"));
    let next = json_of(&aimm(d, &learn(&["--parts", "1", "--json"])));
    assert_eq!(next["parts"][0]["part"], 3, "{next}");
    assert_ne!(next["parts"][0]["program_version"], 1, "{next}");
}

#[test]
fn bad_input_is_refused_with_the_reason_and_a_failing_exit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("air.nc"), "%\nN10 G0 X0 Y0\nN20 M30\n%\n").unwrap();
    // A post-processor's placeholder spindle speed: 0.69 mm per tooth at 2 m/min.
    let text = std::fs::read_to_string(PROGRAM).unwrap();
    std::fs::write(
        d.join("placeholder.nc"),
        text.replace("S2228", "S123").replace("F356.", "F340."),
    )
    .unwrap();
    for (args, expected) in [
        (
            vec![
                "learn",
                "--program",
                "air.nc",
                "--db",
                "l.db",
                "--key",
                "l.key",
                "--json",
            ],
            "no cutting operation",
        ),
        (
            learn(&["--fz-range", "0.2:0.4", "--json"]),
            "outside the box",
        ),
        (learn(&["--ra-max", "0.001", "--json"]), "roughness"),
        (learn(&["--fz-range", "0.4:0.2"]), "LO must be below HI"),
        (learn(&["--tool-cost", "nan"]), "--tool-cost"),
    ] {
        let out = aimm(d, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}
