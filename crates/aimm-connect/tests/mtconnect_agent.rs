//! aimm's MTConnect agent end to end over real HTTP on loopback: the real Okuma SHDR recording
//! replayed through a real TCP adapter link into an agent serving the real Okuma/Mazak device
//! model plus the machines of a SQLite store; every document kind validated with `xmllint`
//! against the MTConnect 2.7 XSDs; values, timestamps and assets checked against the recording;
//! the aimm signals checked in the store.

use aimm_connect::mtconnect::adapter::run_once;
use aimm_connect::mtconnect::http::{serve, SharedAgent};
use aimm_connect::mtconnect::http_get::HttpGet;
use aimm_connect::mtconnect::replay::{replay_into, serve_adapter};
use aimm_connect::mtconnect::shdr::{format_timestamp, parse_timestamp, ShdrRecord};
use aimm_connect::mtconnect::streams::parse_streams;
use aimm_connect::mtconnect::{Agent, AgentOptions};
use aimm_ledger::Origin;
use aimm_model::{EventKind, MachineId, MachineSpec, SignalKind, SignalSeries, ToolSpec};
use aimm_store::{SqliteStore, Store};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;

mod common;
use common::{assert_valid, read};

/// A store with one simulated machine: spindle load, feed, tool number and wear offset.
fn store_with_mill(path: &std::path::Path) -> SqliteStore {
    let mut store = SqliteStore::open(path).unwrap();
    let mill = MachineSpec::vmc("mill-1");
    store.put_machine(&mill).unwrap();
    store
        .put_tool(&mill.id, &ToolSpec::default_end_mill(1))
        .unwrap();
    let t0 = 1_700_000_000_000_000_000i64;
    let series = |signal, values: &[f64]| {
        let mut s = SignalSeries::new(mill.id.clone(), signal);
        for (i, v) in values.iter().enumerate() {
            s.push(t0 + i as i64 * 60_000_000_000, *v);
        }
        s
    };
    store
        .append_segments(
            None,
            Origin::SIMULATOR,
            &[
                series(SignalKind::SpindleLoadPct, &[10.0, 55.5, 61.25]),
                series(SignalKind::FeedActualMmPerMin, &[600.0, 1200.0, 0.0]),
                series(SignalKind::ToolNumber, &[1.0, 1.0, 1.0]),
                series(SignalKind::ToolRadiusWearOffsetMm, &[0.0, -0.01, -0.02]),
                series(SignalKind::MachineState, &[4.0, 4.0, 2.0]),
            ],
        )
        .unwrap();
    store
}

async fn start_http(agent: Agent) -> (Arc<SharedAgent>, String) {
    let shared = SharedAgent::new(agent);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(shared.clone(), listener, std::future::pending()));
    (shared, base)
}

/// (timestamp, value) of every observation of data item `id` in `doc`; timestamps as published
/// (trailing zeros of the fraction dropped, at least microseconds).
fn values_of(url: &str, doc: &str, id: &str) -> Vec<(String, String)> {
    parse_streams(url, doc)
        .unwrap()
        .observations
        .into_iter()
        .filter(|o| o.data_item_id == id)
        .map(|o| (o.timestamp, o.value))
        .collect()
}

/// (line timestamp, value) of every occurrence of `key` in the recording's data lines, the
/// timestamp normalised as the agent publishes it.
fn recorded(text: &str, key: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split('|');
        let Some(stamp) = fields.next().filter(|s| parse_timestamp(s).is_ok()) else {
            continue;
        };
        let fields: Vec<&str> = fields.collect();
        if fields
            .first()
            .is_some_and(|f| f.starts_with('@') || f.ends_with("_cond"))
        {
            continue;
        }
        for pair in fields.chunks(2) {
            if pair[0] == key {
                let t = format_timestamp(parse_timestamp(stamp).unwrap());
                out.push((t, pair.get(1).unwrap_or(&"").to_string()));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okuma_recording_through_an_adapter_link_comes_out_of_the_agent_and_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aimm.db");
    let store = store_with_mill(&db);
    let devices = read("devices/demo_okuma_mazak_Devices_2.7.xml");
    let agent = Agent::for_store(
        Box::new(store),
        Some(("demo_okuma_mazak_Devices_2.7.xml", &devices)),
        &HashMap::new(),
        &AgentOptions::default(),
    )
    .unwrap();
    let okuma = agent.model().device_by_name("OKUMA").unwrap();
    let (shared, base) = start_http(agent).await;
    let http = HttpGet::default();

    // Replay the recording as an adapter on an ephemeral port; the agent reads it to its end.
    let recording = read("shdr/demo_okuma.shdr.txt");
    let adapter = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = adapter.local_addr().unwrap().to_string();
    let text = recording.clone();
    let replay =
        tokio::spawn(
            async move { serve_adapter("okuma", &text, adapter, None, &mut |_| {}).await },
        );
    let link = run_once(&shared, okuma, &addr).await.unwrap();
    let sent = replay.await.unwrap().unwrap();
    assert_eq!(sent.lines, recording.lines().count() as u64);
    // Every line arrived (plus the PONG answering the agent's PING, when it came in time).
    assert!(
        link.lines == sent.lines || link.lines == sent.lines + 1,
        "{link:?} vs {sent:?}"
    );
    assert_eq!(link.rejected, 0);

    // probe: both device files' devices and the store's machine, valid 2.7.
    let (status, probe) = http.get(&format!("{base}/probe")).await.unwrap();
    assert_eq!(status, 200);
    assert_valid("Devices", &probe);
    for needle in [
        "uuid=\"OKUMA.123456\"",
        "uuid=\"Mazak\"",
        "name=\"mill-1\"",
        "id=\"mill-1_spindle_load_pct\"",
    ] {
        assert!(probe.contains(needle), "probe lacks {needle}");
    }

    // current: valid; after the adapter closed, the Okuma is UNAVAILABLE; mill-1 has its last
    // stored values in MTConnect units (1200 mm/min was 20 mm/s; the last feed is 0).
    let (_, current) = http.get(&format!("{base}/current")).await.unwrap();
    assert_valid("Streams", &current);
    assert_eq!(values_of(&base, &current, "LS1load")[0].1, "UNAVAILABLE");
    assert_eq!(
        values_of(&base, &current, "mill-1_spindle_load_pct")[0].1,
        "61.25"
    );

    // sample: the whole buffer of the Okuma, valid; values and timestamps as recorded.
    let url = format!("{base}/OKUMA/sample?from=1&count=131072");
    let (_, sample) = http.get(&url).await.unwrap();
    assert_valid("Streams", &sample);
    let s1 = values_of(&url, &sample, "LS1load");
    let want: Vec<(String, String)> = recorded(&recording, "S1load");
    assert_eq!(want.len(), 158);
    // Initial UNAVAILABLE, every recorded value, the UNAVAILABLE when the adapter left.
    assert_eq!(&s1[1..s1.len() - 1], &want[..]);
    assert!(s1.contains(&("2022-08-08T13:54:40.3105338Z".into(), "2".into())));
    assert_eq!(
        s1[s1.len() - 2],
        ("2022-08-08T13:57:57.2514119Z".into(), "0".into())
    );
    let fovr = values_of(&url, &sample, "LpFovr");
    assert!(fovr.contains(&("2022-08-08T13:44:30.3696378Z".into(), "150".into())));
    // p1Fact is MILLIMETER/MINUTE natively, published in MILLIMETER/SECOND.
    let fact = values_of(&url, &sample, "Lp1Fact");
    assert!(fact.contains(&("2022-08-08T13:51:44.3135304Z".into(), "133.3125".into())));

    // The aimm signals went to the store: spindle load (S1, the first spindle), override and
    // feed (mm/min again), as sealed segments with the recorded timestamps.
    shared.update(|a| a.flush()).unwrap();
    let check = SqliteStore::open(&db).unwrap();
    let machine = MachineId::new("OKUMA");
    let load = check
        .read_samples(&machine, SignalKind::SpindleLoadPct, i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(load.len(), 158);
    let i = load
        .t_ns
        .iter()
        .position(|&t| t == parse_timestamp("2022-08-08T13:54:40.3105338Z").unwrap())
        .unwrap();
    assert_eq!(load.values[i], 2.0);
    let feed = check
        .read_samples(&machine, SignalKind::FeedActualMmPerMin, i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(feed.len(), recorded(&recording, "p1Fact").len());
    let i = feed
        .t_ns
        .iter()
        .position(|&t| t == parse_timestamp("2022-08-08T13:51:44.3135304Z").unwrap())
        .unwrap();
    assert!(
        (feed.values[i] - 7998.75).abs() < 1e-9,
        "{}",
        feed.values[i]
    );
    let ovr = check
        .read_samples(&machine, SignalKind::FeedOverridePct, i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(ovr.values.iter().filter(|&&v| v == 150.0).count(), 1);
    let segments = check
        .segments(&machine, SignalKind::SpindleLoadPct, i64::MIN, i64::MAX)
        .unwrap();
    assert!(
        segments.iter().all(|s| s.ledger_index.is_some()),
        "segments are ledgered"
    );
    let events = check.events(&machine, i64::MIN, i64::MAX).unwrap();
    assert!(events.iter().any(
        |e| e.event.kind == EventKind::ToolChange && e.event.message == "p1CurrentTool = 8003"
    ));
    assert!(events.iter().any(|e| e.event.kind == EventKind::ProgramEnd));

    // assets: the recording's cutting tools (multiline bodies) and mill-1's tool, valid.
    let (_, assets) = http.get(&format!("{base}/assets")).await.unwrap();
    assert_valid("Assets", &assets);
    assert!(assets.contains("assetId=\"123456.2201\""));
    assert!(assets.contains(
        "<ToolLife type=\"MINUTES\" countDirection=\"UP\" initial=\"0\" limit=\"0\">160</ToolLife>"
    ));
    assert!(assets.contains("assetId=\"mill-1.T1\""));
    assert!(
        assets.contains(
            "<ToolLife type=\"WEAR\" countDirection=\"UP\" initial=\"0\">0.0200</ToolLife>"
        ),
        "{assets}"
    );
    // The last session re-sent all 17 of the Okuma's tools after its @REMOVE_ALL_ASSETS@, each
    // with its own timestamp; mill-1's tool makes 18.
    assert!(assets.contains("assetCount=\"18\""), "{}", &assets[..600]);
    assert!(assets.contains(
        "assetId=\"123456.2206\" timestamp=\"2022-08-08T13:51:53.3209284Z\" deviceUuid=\"OKUMA.123456\""
    ));
    let (_, all) = http
        .get(&format!("{base}/assets?removed=true&type=CuttingTool"))
        .await
        .unwrap();
    assert_valid("Assets", &all);
    // One or more assets by id.
    for path in ["asset", "assets"] {
        let (status, two) = http
            .get(&format!("{base}/{path}/123456.2206;mill-1.T1"))
            .await
            .unwrap();
        assert_eq!(status, 200, "{two}");
        assert_valid("Assets", &two);
        assert_eq!(two.matches("<CuttingTool ").count(), 2, "{two}");
        assert!(two.contains("assetId=\"123456.2206\"") && two.contains("assetId=\"mill-1.T1\""));
    }

    // current?at=: the state at the last sequence is the current state; at an earlier one,
    // an item changed since shows its earlier value.
    let state = |doc: &str| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = parse_streams("/current", doc)
            .unwrap()
            .observations
            .into_iter()
            .map(|o| (o.data_item_id, o.value))
            .collect();
        v.sort();
        v
    };
    let (_, now) = http.get(&format!("{base}/current")).await.unwrap();
    let last = parse_streams("/current", &now)
        .unwrap()
        .header
        .last_sequence;
    let (status, at_last) = http
        .get(&format!("{base}/current?at={last}"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{at_last}");
    assert_valid("Streams", &at_last);
    assert_eq!(state(&at_last), state(&now));
    let (_, at_earlier) = http
        .get(&format!("{base}/current?at={}", last - 200))
        .await
        .unwrap();
    assert_valid("Streams", &at_earlier);
    assert_ne!(state(&at_earlier), state(&now));

    // errors: each kind is a valid MTConnectError with the right element and status.
    for (query, status, element) in [
        ("/sample?from=abc", 400, "InvalidParameterValue"),
        ("/sample?from=999999999", 400, "OutOfRange"),
        ("/sample?count=0", 400, "OutOfRange"),
        ("/sample?bogus=1", 400, "InvalidRequest"),
        ("/probe?path=//Axes", 501, "Unsupported"),
        ("/sample?path=//Spindle", 400, "InvalidXPath"),
        ("/NOSUCH/probe", 404, "NoDevice"),
        ("/asset/no-such-tool", 404, "AssetNotFound"),
        ("/current?at=0", 400, "InvalidRequest"),
        ("/a/b/c", 400, "InvalidURI"),
    ] {
        let (got, doc) = http.get(&format!("{base}{query}")).await.unwrap();
        assert_eq!(got, status, "{query}");
        assert!(doc.contains(&format!("<{element}>")), "{query}: {doc}");
        assert_valid("Error", &doc);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_streams_new_observations_as_multipart_chunks() {
    let devices = read("devices/demo_okuma_mazak_Devices_2.7.xml");
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("s.db")).unwrap();
    let agent = Agent::for_store(
        Box::new(store),
        Some(("devices", &devices)),
        &HashMap::new(),
        &AgentOptions::default(),
    )
    .unwrap();
    let next = agent.last_sequence() + 1;
    let (shared, base) = start_http(agent).await;
    let host = base.trim_start_matches("http://").to_string();
    let reader = std::thread::spawn(move || {
        let mut tcp = std::net::TcpStream::connect(&host).unwrap();
        // Only the loads: path=//DataItem[@type="LOAD"].
        let path = "%2F%2FDataItem%5B%40type%3D%22LOAD%22%5D";
        write!(tcp, "GET /OKUMA/sample?from={next}&interval=50&heartbeat=1000&path={path} HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        // Read until the chunk with the new load value has arrived.
        while !String::from_utf8_lossy(&got).contains(">42.5</Load>") {
            let n = tcp.read(&mut buf).expect("stream chunk within 10 s");
            assert!(n > 0, "stream closed early");
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8(got).unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let okuma = shared.read(|a| a.model().device_by_name("OKUMA").unwrap());
    let feed_override = shared.read(|a| {
        let item = a.model().item_by_key(okuma, "pFovr").unwrap();
        a.model().items[item].id.clone()
    });
    let record = ShdrRecord::Data {
        t_ns: parse_timestamp("2026-01-02T03:04:05.5Z").unwrap(),
        fields: vec!["pFovr".into(), "50".into(), "S1load".into(), "42.5".into()],
    };
    shared.update(|a| a.ingest(okuma, record, "test")).unwrap();
    let text = tokio::task::spawn_blocking(move || reader.join().unwrap())
        .await
        .unwrap();
    assert!(
        text.contains("multipart/x-mixed-replace;boundary="),
        "{text}"
    );
    assert!(
        text.contains("Transfer-Encoding: chunked") || text.contains("transfer-encoding: chunked")
    );
    let part = text.split("<?xml").last().unwrap();
    let doc = format!(
        "<?xml{}",
        &part[..part.find("</MTConnectStreams>").unwrap() + 19]
    );
    assert_valid("Streams", &doc);
    assert!(
        doc.contains("timestamp=\"2026-01-02T03:04:05.500000Z\""),
        "{doc}"
    );
    // The override changed in the same line, but the path keeps it out of the stream.
    assert!(
        !text.contains(&format!("dataItemId=\"{feed_override}\"")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_replayed_straight_into_the_store_is_served_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let devices = read("devices/demo_okuma_mazak_Devices_2.7.xml");
    let recording = read("shdr/demo_okuma.shdr.txt");
    {
        let store = SqliteStore::open(&db).unwrap();
        let mut agent = Agent::for_store(
            Box::new(store),
            Some(("devices", &devices)),
            &HashMap::new(),
            &AgentOptions::default(),
        )
        .unwrap();
        let okuma = agent.model().device_by_name("OKUMA").unwrap();
        let stats = replay_into(&mut agent, okuma, "okuma.shdr", &recording, &mut |_| {}).unwrap();
        assert_eq!(stats.rejected, 0);
    }
    // A new agent on the same store, without the device file, publishes machine OKUMA from it.
    let store = SqliteStore::open(&db).unwrap();
    let agent = Agent::for_store(
        Box::new(store),
        None,
        &HashMap::new(),
        &AgentOptions::default(),
    )
    .unwrap();
    let (_, base) = start_http(agent).await;
    let url = format!("{base}/OKUMA/sample?count=131072");
    let (status, doc) = HttpGet::default().get(&url).await.unwrap();
    assert_eq!(status, 200);
    assert_valid("Streams", &doc);
    let load = values_of(&url, &doc, "OKUMA_spindle_load_pct");
    assert_eq!(load.len(), 1 + 158);
    // Stored sorted by time: the earliest session's first non-zero load is first.
    assert!(load.contains(&("2022-08-08T13:54:40.3105338Z".into(), "2".into())));
    let feed = values_of(&url, &doc, "OKUMA_feed_actual_mm_per_min");
    assert!(
        feed.contains(&("2022-08-08T13:51:44.3135304Z".into(), "133.3125".into())),
        "{feed:?}"
    );
}

#[test]
fn cppagent_device_files_of_every_version_are_read() {
    // (file, devices, data items, an SHDR key of the first device that must resolve)
    for (file, devices, items, key) in [
        ("cppagent_test_SimpleDevlce.xml", 2, 38, "avail"),
        // An AVAILABILITY item is added, as the reference agent does.
        ("cppagent_test_kinematics_2.5_data_set.xml", 1, 2, "alarm"),
        ("cppagent_test_test_config.xml", 1, 32, "avail"),
        ("cppagent_test_two_devices.xml", 2, 6, "avail"),
        (
            "cppagent_test_agent.mtconnect.org.xml",
            1,
            0,
            "spindle_speed",
        ),
        ("demo_okuma_mazak_Devices_2.7.xml", 2, 0, "S1load"),
    ] {
        let model =
            aimm_connect::mtconnect::DeviceModel::parse(file, &read(&format!("devices/{file}")))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(model.devices.len(), devices, "{file}");
        if items > 0 {
            assert_eq!(model.items.len(), items, "{file}");
        }
        assert!(model.item_by_key(0, key).is_some(), "{file}: key {key}");
    }
}

/// A 2.7 device with a condition, a message, a program event and a spindle whose speed an
/// adapter sends under its `<Source>` key.
const ADAPTER_PROBE: &str = r#"<?xml version="1.0"?>
<MTConnectDevices xmlns="urn:mtconnect.org:MTConnectDevices:2.7"><Header instanceId="1"/>
<Devices><Device id="d" name="D" uuid="d-1"><DataItems>
  <DataItem id="avail" category="EVENT" type="AVAILABILITY"/>
  <DataItem id="msg" category="EVENT" type="MESSAGE"/>
  <DataItem id="prog" category="EVENT" type="PROGRAM"/>
  <DataItem id="logic" category="CONDITION" type="LOGIC_PROGRAM"/>
</DataItems><Components><Axes id="axes"><Components><Rotary id="s" name="S"><DataItems>
  <DataItem id="load" category="SAMPLE" type="LOAD" units="PERCENT"/>
  <DataItem id="speed" category="SAMPLE" type="ROTARY_VELOCITY" subType="ACTUAL" units="REVOLUTION/MINUTE"><Source>spindle_speed</Source></DataItem>
</DataItems></Rotary></Components></Axes></Components></Device></Devices></MTConnectDevices>"#;

/// An agent on `ADAPTER_PROBE` storing into a SQLite file in `dir`.
fn adapter_agent(dir: &std::path::Path) -> Agent {
    use aimm_connect::mtconnect::{DeviceModel, SignalMap, StoreSink};
    let model = DeviceModel::parse("probe", ADAPTER_PROBE).unwrap();
    let signals = SignalMap::build(&model, &HashMap::new());
    let store = SqliteStore::open(dir.join("a.db")).unwrap();
    Agent::new(
        model,
        signals,
        &AgentOptions::default(),
        Some(StoreSink::new(
            Box::new(store),
            aimm_ledger::Origin::SIMULATOR,
        )),
    )
    .unwrap()
}

fn stored_load(dir: &std::path::Path) -> Vec<f64> {
    SqliteStore::open(dir.join("a.db"))
        .unwrap()
        .read_samples(
            &MachineId::new("D"),
            SignalKind::SpindleLoadPct,
            i64::MIN,
            i64::MAX,
        )
        .unwrap()
        .values
}

#[test]
fn whatever_an_adapter_sends_every_document_stays_schema_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = adapter_agent(dir.path());
    let text = "2026-01-01T00:00:01Z|load|10|spindle_speed|1200\n\
                2026-01-01T00:00:02Z|logic|WARNING|M101|2|HIGH|program check\n\
                2026-01-01T00:00:03Z|logic|FAULT||||a fault with no code\n\
                2026-01-01T00:00:04Z|msg|M202|coolant low\n\
                2026-01-01T00:00:05Z|prog|O\u{1}\u{2}\n\
                2026-01-01T00:00:06Z|load|inf\n\
                2026-01-01T00:00:07Z|load|NaN\n\
                9999-01-01T00:00:00Z|load|50\n\
                2026-01-01T00:00:08Z|load\n\
                2026-01-01T00:00:09Z|load|11\n";
    let stats = replay_into(&mut agent, 0, "adapter.shdr", text, &mut |_| {}).unwrap();
    assert_eq!(stats.rejected, 1, "the year-9999 line: {stats:?}");
    // Non-finite, out-of-range and cut-off values are no samples.
    assert_eq!(stored_load(dir.path()), [10.0, 11.0]);

    let current = agent.current(None);
    let (sample, _) = agent.sample(None, None, 1000, "/sample").unwrap();
    for doc in [&current, &sample] {
        assert_valid("Streams", doc);
    }
    // Activated conditions carry a conditionId: the native code, else the data item.
    assert!(sample.contains(r#"conditionId="M101""#), "{sample}");
    assert!(sample.contains(r#"conditionId="logic""#), "{sample}");
    // 2.x messages have no nativeCode attribute; the text is published.
    assert!(!sample.contains(r#"nativeCode="M202""#) && sample.contains("coolant low"));
    assert_eq!(
        values_of("/sample", &sample, "prog").last().unwrap().1,
        "O\u{FFFD}\u{FFFD}"
    );
    // The adapter's `spindle_speed` is the item whose <Source> names it.
    assert_eq!(
        values_of("/sample", &sample, "speed").last().unwrap().1,
        "1200"
    );
}

#[test]
fn creation_time_is_the_documents_own() {
    let dir = tempfile::tempdir().unwrap();
    let agent = adapter_agent(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let doc = agent.current(None);
    let attr = |name: &str| {
        let start = doc.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        parse_timestamp(&doc[start..start + doc[start..].find('"').unwrap()]).unwrap()
    };
    let gap_ms = (attr("creationTime") - attr("deviceModelChangeTime")) / 1_000_000;
    assert!(
        gap_ms >= 20,
        "creationTime only {gap_ms} ms after the agent started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_never_drops_the_adapter_link() {
    let dir = tempfile::tempdir().unwrap();
    let shared = SharedAgent::new(adapter_agent(dir.path()));
    let adapter = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = adapter.local_addr().unwrap().to_string();
    let send = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut sock, _) = adapter.accept().await.unwrap();
        // A Latin-1 ü and ß in an alarm text, a 100 kB line, then good data.
        let mut bytes = b"2026-01-01T00:00:01Z|msg|M1|Gr\xfc\xdfe\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 100_000));
        bytes.extend_from_slice(b"\n2026-01-01T00:00:02Z|load|12\n");
        sock.write_all(&bytes).await.unwrap();
        sock.shutdown().await.unwrap();
    });
    let link = run_once(&shared, 0, &addr).await.unwrap();
    send.await.unwrap();
    assert_eq!(link.lines, 3, "{link:?}");
    assert_eq!(link.rejected, 1, "the long line: {link:?}");
    assert_eq!(stored_load(dir.path()), [12.0]);
    let (sample, _) = shared
        .read(|a| a.sample(None, None, 1000, "/sample"))
        .unwrap();
    let msg = values_of("/sample", &sample, "msg");
    assert!(
        msg.iter().any(|(_, v)| v == "Gr\u{FFFD}\u{FFFD}e"),
        "{msg:?}"
    );
}

#[test]
fn a_1x_device_s_spindle_feed_and_override_reach_the_store_with_no_map() {
    use aimm_connect::mtconnect::{DeviceModel, SignalMap, StoreSink};
    // Which data item carries each signal, on the unchanged 1.x device files.
    for (file, expected) in [
        (
            "cppagent_test_agent.mtconnect.org.xml",
            &[
                // The file's ids are numbers, which 2.7 ids (XML IDs) cannot be.
                (SignalKind::SpindleSpeedRpm, "_12"),
                (SignalKind::FeedActualMmPerMin, "_6"),
                (SignalKind::FeedOverridePct, "_25"),
            ][..],
        ),
        (
            "cppagent_test_test_config.xml",
            &[
                (SignalKind::SpindleSpeedRpm, "c1"),
                (SignalKind::SpindleLoadPct, "cl3"),
            ][..],
        ),
    ] {
        let model = DeviceModel::parse(file, &read(&format!("devices/{file}"))).unwrap();
        let map = SignalMap::build(&model, &HashMap::new());
        for (signal, id) in expected {
            let item = map.item(0, *signal).map(|i| model.items[i].id.as_str());
            assert_eq!(item, Some(*id), "{file}: {signal:?}");
        }
    }
    let file = "cppagent_test_agent.mtconnect.org.xml";
    let model = DeviceModel::parse(file, &read(&format!("devices/{file}"))).unwrap();
    let signals = SignalMap::build(&model, &HashMap::new());
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("a.db")).unwrap();
    let sink = StoreSink::new(Box::new(store), aimm_ledger::Origin::SIMULATOR);
    let mut agent = Agent::new(model, signals, &AgentOptions::default(), Some(sink)).unwrap();
    let text = "2026-01-01T00:00:01Z|spindle_speed|1200|path_feedrate|10|feed_ovr|80\n";
    replay_into(&mut agent, 0, "linuxcnc.shdr", text, &mut |_| {}).unwrap();
    agent.flush().unwrap();
    let store = SqliteStore::open(dir.path().join("a.db")).unwrap();
    let value = |signal| {
        store
            .read_samples(&MachineId::new("LinuxCNC"), signal, i64::MIN, i64::MAX)
            .unwrap()
            .values
    };
    assert_eq!(value(SignalKind::SpindleSpeedRpm), [1200.0]);
    // 10 mm/s published, 600 mm/min stored.
    assert_eq!(value(SignalKind::FeedActualMmPerMin), [600.0]);
    assert_eq!(value(SignalKind::FeedOverridePct), [80.0]);
}
