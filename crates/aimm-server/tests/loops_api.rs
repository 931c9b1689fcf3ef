//! `/api/loops` shows what the ledger holds: the parameters in force (value, bounds, who set them
//! and in what role) and the machines each loop commanded.

mod common;

use aimm_ledger::record::{ControlAction, Evidence, Record};
use aimm_store::evidence::{append_one, record_parameter, ParameterValue};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_list_their_parameters_in_force_and_the_machines_they_commanded() {
    let server = common::start().await;
    let db = server.db();
    {
        let mut store = aimm_store::open(&db).unwrap();
        for (value, actor, role) in [(80.0, "teach-in", None), (85.0, "j.doe", Some("engineer"))] {
            record_parameter(
                store.as_mut(),
                1,
                ParameterValue {
                    loop_name: "adaptive_feed",
                    parameter: "mill-1/setpoint_pct",
                    value: serde_json::json!(value),
                    bounds: serde_json::json!([10.0, 100.0]),
                    actor,
                    role,
                    derived_from: vec![],
                },
            )
            .unwrap();
        }
        for pct in [90, 95] {
            let action = Evidence::ControlAction(ControlAction {
                loop_name: "adaptive_feed".into(),
                machine: "mill-1".into(),
                command: serde_json::json!({ "feed_override_pct": pct }),
                inputs: serde_json::json!({}),
            });
            append_one(store.as_mut(), &Record::new(2, action, vec![])).unwrap();
        }
    }
    let loops = server
        .call("get", "/api/loops", Some(server.token("assessor")), None)
        .await
        .json();
    let feed = loops
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "adaptive_feed")
        .unwrap_or_else(|| panic!("{loops}"));
    let p = &feed["parameters"][0];
    assert_eq!(p["name"], "mill-1/setpoint_pct");
    assert_eq!(p["value"], 85.0, "the latest value is the one in force");
    assert_eq!(
        (p["actor"].as_str(), p["role"].as_str()),
        (Some("j.doe"), Some("engineer"))
    );
    // Canonical JSON (RFC 8785) writes 10.0 as 10.
    assert_eq!(p["bounds"], serde_json::json!([10, 100]));
    assert_eq!(feed["machines"][0]["machine"], "mill-1");
    assert_eq!(feed["machines"][0]["actions"], 2);
}
