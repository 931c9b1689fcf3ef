//! Bad input on both sides of aimm's MTConnect code, over real sockets: an agent that sends
//! malformed XML, data items in the wrong units, and vanishes mid-stream (the client names the
//! URL and place, recovers, and loses nothing it accepted); an adapter that sends bad lines
//! (the agent logs them with their place and goes on).

use aimm_connect::mtconnect::client::{ClientOptions, MtcClient};
use aimm_connect::mtconnect::replay::replay_into;
use aimm_connect::mtconnect::{Agent, AgentOptions, DeviceModel, SignalMap};
use aimm_model::{MachineId, SignalKind};
use aimm_store::{SqliteStore, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const PROBE: &str = r#"<?xml version="1.0"?>
<MTConnectDevices xmlns="urn:mtconnect.org:MTConnectDevices:2.7"><Header instanceId="7"/>
<Devices><Device id="m" name="M" uuid="m-1"><DataItems>
  <DataItem id="avail" category="EVENT" type="AVAILABILITY"/></DataItems><Components>
  <Axes id="axes"><Components><Rotary id="s" name="S"><DataItems>
    <DataItem id="load" category="SAMPLE" type="LOAD" units="PERCENT"/>
    <DataItem id="speed" category="SAMPLE" type="ROTARY_VELOCITY" subType="ACTUAL" units="REVOLUTION/MINUTE"/>
  </DataItems></Rotary></Components></Axes>
  <Controller id="c"><Components><Path id="p"><DataItems>
    <DataItem id="feed" category="SAMPLE" type="PATH_FEEDRATE" subType="ACTUAL" units="INCH/MINUTE"/>
  </DataItems></Path></Components></Controller>
</Components></Device></Devices></MTConnectDevices>"#;

/// A Streams document of instance 7 with `loads` as (sequence, value), plus a feed sample.
fn streams(first: u64, next: u64, loads: &[(u64, f64)]) -> String {
    let mut obs = String::new();
    for (seq, v) in loads {
        obs.push_str(&format!(
            r#"<Load dataItemId="load" timestamp="2026-01-01T00:00:{seq:02}Z" sequence="{seq}">{v}</Load><PathFeedrate dataItemId="feed" timestamp="2026-01-01T00:00:{seq:02}Z" sequence="{seq}">12</PathFeedrate>"#
        ));
    }
    format!(
        r#"<?xml version="1.0"?><MTConnectStreams xmlns="urn:mtconnect.org:MTConnectStreams:2.7"><Header instanceId="7" firstSequence="{first}" lastSequence="{}" nextSequence="{next}"/><Streams><DeviceStream name="M" uuid="m-1"><ComponentStream component="Rotary" componentId="s"><Samples>{obs}</Samples></ComponentStream></DeviceStream></Streams></MTConnectStreams>"#,
        next - 1
    )
}

/// A scripted agent: answers each request path with the next scripted body for it (the last
/// one repeats), one request per connection.
async fn scripted_agent(listener: TcpListener, script: Arc<Mutex<HashMap<String, Vec<String>>>>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let script = script.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let Ok(n) = sock.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let request = String::from_utf8_lossy(&got);
            let target = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let path = target
                .split('?')
                .next()
                .unwrap()
                .trim_start_matches('/')
                .to_string();
            let body = {
                let mut s = script.lock().unwrap();
                let list = s.get_mut(&path).expect("scripted path");
                if list.len() > 1 {
                    list.remove(0)
                } else {
                    list[0].clone()
                }
            };
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(reply.as_bytes()).await;
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_survives_malformed_xml_wrong_units_and_a_vanishing_agent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}");
    let script = Arc::new(Mutex::new(HashMap::from([
        ("probe".to_string(), vec![PROBE.to_string()]),
        ("current".to_string(), vec![streams(1, 3, &[(2, 20.0)])]),
        (
            "sample".to_string(),
            vec![
                streams(1, 3, &[(1, 10.0), (2, 20.0)]),
                // Cut off mid-document, as a crashing agent or proxy might.
                streams(1, 4, &[(3, 30.0)])[..200].to_string() + "\n<Load dataItemId=\"load\" <",
                streams(1, 4, &[(3, 30.0)]),
            ],
        ),
    ])));
    let server = tokio::spawn(scripted_agent(listener, script.clone()));
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("c.db")).unwrap();
    let mut client = MtcClient::new(&url, Box::new(store), ClientOptions::default());
    assert_eq!(client.step().await.unwrap(), 0, "probe and current");
    assert_eq!(client.step().await.unwrap(), 4, "sequences 1 and 2");
    // Malformed XML: the error names the URL and the line; the request is not advanced.
    let err = client.step().await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("{url}/sample?from=3")) && err.contains("line 1: malformed XML"),
        "{err}"
    );
    assert_eq!(client.next_sequence(), Some(3));
    assert_eq!(client.step().await.unwrap(), 2, "sequence 3 on the retry");
    // The agent vanishes: the error names the URL; once it is back the client goes on.
    server.abort();
    let _ = server.await;
    let err = client.step().await.unwrap_err().to_string();
    assert!(err.contains(&format!("{url}/sample?from=4")), "{err}");
    let listener = loop {
        // The port may take a moment to be free again.
        match TcpListener::bind(addr).await {
            Ok(l) => break l,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    script
        .lock()
        .unwrap()
        .insert("sample".into(), vec![streams(1, 5, &[(4, 40.0)])]);
    tokio::spawn(scripted_agent(listener, script));
    assert_eq!(client.step().await.unwrap(), 2);
    client.flush().unwrap();
    let load = client
        .store()
        .read_samples(
            &MachineId::new("M"),
            SignalKind::SpindleLoadPct,
            i64::MIN,
            i64::MAX,
        )
        .unwrap();
    assert_eq!(
        load.values,
        [10.0, 20.0, 30.0, 40.0],
        "nothing accepted was lost"
    );
    // The feed is in INCH/MINUTE where aimm's mapping needs MILLIMETER/SECOND: not stored.
    let feed = client
        .store()
        .read_samples(
            &MachineId::new("M"),
            SignalKind::FeedActualMmPerMin,
            i64::MIN,
            i64::MAX,
        )
        .unwrap();
    assert!(feed.is_empty());
}

#[test]
fn bad_adapter_lines_are_rejected_with_their_place_and_the_rest_goes_in() {
    let model = DeviceModel::parse(
        "probe",
        &PROBE.replace("urn:mtconnect.org:MTConnectDevices:2.7", "x"),
    )
    .unwrap();
    let signals = SignalMap::build(&model, &HashMap::new());
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("a.db")).unwrap();
    let sink =
        aimm_connect::mtconnect::StoreSink::new(Box::new(store), aimm_ledger::Origin::SIMULATOR);
    let mut agent = Agent::new(model, signals, &AgentOptions::default(), Some(sink)).unwrap();
    let text = "2026-01-01T00:00:01Z|load|10\n\
                yesterday|load|11\n\
                2026-01-01T00:00:02Z|load|lots\n\
                2026-01-01T00:00:03Z|@ASSET@|t1|CuttingTool|<CuttingTool><Oops></CuttingTool>\n\
                2026-01-01T00:00:04Z|nosuchkey|1|load|12\n\
                2026-01-01T00:00:05Z|load|UNAVAILABLE\n\
                2026-01-01T00:00:06Z|load|13\n";
    let stats = replay_into(&mut agent, 0, "bad.shdr", text, &mut |_| {}).unwrap();
    assert_eq!(stats.lines, 7);
    assert_eq!(
        stats.rejected, 2,
        "the bad timestamp and the malformed asset"
    );
    let store = SqliteStore::open(dir.path().join("a.db")).unwrap();
    let load = store
        .read_samples(
            &MachineId::new("M"),
            SignalKind::SpindleLoadPct,
            i64::MIN,
            i64::MAX,
        )
        .unwrap();
    // The non-number and UNAVAILABLE are no samples; the unknown key is skipped, its
    // neighbour is kept.
    assert_eq!(load.values, [10.0, 12.0, 13.0]);
}
