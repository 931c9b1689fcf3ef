//! `path=` on `/current` and `/sample` over real HTTP: the Okuma/Mazak device model fed with the
//! start of the real Okuma recording; each filtered document validates against the 2.7 Streams
//! XSD and holds exactly the data items the path selects; bad paths get an INVALID_XPATH error
//! document naming the expression and the position.

mod common;

use aimm_connect::mtconnect::http::{serve, SharedAgent};
use aimm_connect::mtconnect::http_get::HttpGet;
use aimm_connect::mtconnect::replay::replay_into;
use aimm_connect::mtconnect::streams::parse_streams;
use aimm_connect::mtconnect::{Agent, AgentOptions, DeviceModel, SignalMap};
use common::{assert_all_valid, assert_valid, read};
use std::collections::{BTreeSet, HashMap};

/// An agent on the Okuma/Mazak devices with the first 2,000 lines of the Okuma recording, served
/// on loopback; returns its base URL and the model.
async fn okuma_agent() -> (String, DeviceModel) {
    let model = DeviceModel::parse(
        "Devices_2.7.xml",
        &read("devices/demo_okuma_mazak_Devices_2.7.xml"),
    )
    .unwrap();
    let signals = SignalMap::build(&model, &HashMap::new());
    let mut agent = Agent::new(model.clone(), signals, &AgentOptions::default(), None).unwrap();
    let recording = read("shdr/demo_okuma.shdr.txt");
    let head: String = recording
        .lines()
        .take(2000)
        .map(|l| format!("{l}\n"))
        .collect();
    replay_into(&mut agent, 0, "okuma.shdr", &head, &mut |_| {}).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(
        SharedAgent::new(agent),
        listener,
        std::future::pending(),
    ));
    (base, model)
}

fn ids_in(url: &str, doc: &str) -> BTreeSet<String> {
    parse_streams(url, doc)
        .unwrap_or_else(|e| panic!("{e}"))
        .observations
        .into_iter()
        .map(|o| o.data_item_id)
        .collect()
}

/// Percent-encodes a path for a query string.
fn encoded(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_and_sample_hold_exactly_the_data_items_a_path_selects() {
    let (base, model) = okuma_agent().await;
    let http = HttpGet::new(std::time::Duration::from_secs(10));
    let ids = |f: &dyn Fn(&aimm_connect::mtconnect::device::DataItem) -> bool| -> BTreeSet<String> {
        model
            .items
            .iter()
            .filter(|i| f(i))
            .map(|i| i.id.clone())
            .collect()
    };
    let okuma = model.device_by_name("OKUMA").unwrap();
    let cases: Vec<(&str, &str, BTreeSet<String>)> = vec![
        (
            "",
            r#"//DataItem[@type="LOAD"]"#,
            ids(&|i| i.kind == "LOAD"),
        ),
        (
            "",
            r#"//DataItem[@category="SAMPLE"]"#,
            ids(&|i| i.category == aimm_connect::mtconnect::device::Category::Sample),
        ),
        (
            "",
            r#"//Components//DataItem[@type="POSITION" and @subType="ACTUAL"]"#,
            ids(&|i| {
                i.kind == "POSITION"
                    && i.sub_type.as_deref() == Some("ACTUAL")
                    && i.component != "Device"
            }),
        ),
        (
            "",
            r#"//Device[@name="OKUMA"]//Linear[@name="X"]|//DataItem[@type="AVAILABILITY"]"#,
            ids(&|i| i.kind == "AVAILABILITY" || (i.device == okuma && i.component_id == "Lx1")),
        ),
        (
            "/OKUMA",
            "//Axes",
            ids(&|i| {
                i.device == okuma && ["Linear", "Rotary", "Axes"].contains(&i.component.as_str())
            }),
        ),
    ];
    let mut docs = Vec::new();
    for (device, path, expected) in &cases {
        assert!(!expected.is_empty(), "{path}: the model has no such items");
        // The state at a sequence after every item's initial UNAVAILABLE.
        let at = format!("current?at={}", model.items.len() + 50);
        for request in ["current", at.as_str(), "sample?count=100000"] {
            let sep = if request.contains('?') { '&' } else { '?' };
            let url = format!("{base}{device}/{request}{sep}path={}", encoded(path));
            let (status, doc) = http.get(&url).await.unwrap();
            assert_eq!(status, 200, "{url}: {doc}");
            let got = ids_in(&url, &doc);
            if request.starts_with("current") {
                // Every data item has a state: /current shows them all.
                assert_eq!(&got, expected, "{url}");
            } else {
                assert!(got.is_subset(expected) && !got.is_empty(), "{url}: {got:?}");
            }
            docs.push((url, doc));
        }
    }
    assert_all_valid("Streams", &docs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_path_is_an_invalid_xpath_error_naming_expression_and_position() {
    let (base, _) = okuma_agent().await;
    let http = HttpGet::new(std::time::Duration::from_secs(10));
    for (request, path, says) in [
        ("current", "//Axes?//Linear", "at character 7"),
        ("sample", "//////Linear", "at character 3"),
        ("current", r#"//DataItem[@type="LOAD""#, "at character 24"),
        (
            "current",
            "//DataItem[contains(@type, 'LOAD')]",
            "at character 12",
        ),
        ("sample", r#"//Linear[@name="W"]"#, "selects no data item"),
        (
            "Mazak/current",
            r#"//Device[@name="OKUMA"]"#,
            "selects no data item of device 'Mazak'",
        ),
    ] {
        let url = format!("{base}/{request}?path={}", encoded(path));
        let (status, doc) = http.get(&url).await.unwrap();
        assert_eq!(status, 400, "{url}");
        assert!(doc.contains("<InvalidXPath>"), "{url}: {doc}");
        let text = doc.replace("&quot;", "\"").replace("&apos;", "'");
        assert!(text.contains(path) && text.contains(says), "{url}: {doc}");
        assert_valid("Error", &doc);
    }
}
