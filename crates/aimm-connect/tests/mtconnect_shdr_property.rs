//! Property: whatever an SHDR adapter sends, every document the agent serves stays valid
//! against the MTConnect 2.7 Streams XSD, for every device file it accepts. Each case runs
//! one generated traffic through an agent per device file (13 of them): first a sweep with a
//! line for every data item the device declares (its `<Source>`, name or id as key), then
//! random lines mixing good and bad timestamps (year 9999, before 1970, malformed), keys of
//! the device and unknown ones, values of every shape (numbers huge, NaN, inf; controlled
//! words; control characters; data sets `k=v`, tables `{…}`, conditions with native codes and
//! qualifiers, messages, time series), lines cut short and raw bytes (invalid UTF-8 decoded as
//! the adapter link does). `/current` and `/sample` of all agents are validated in one
//! `xmllint` run per case (a run costs ~0.3 s), which bounds the case count.

mod common;

use aimm_connect::mtconnect::device::{Category, DataItem, Representation};
use aimm_connect::mtconnect::replay::replay_into;
use aimm_connect::mtconnect::{Agent, AgentOptions, DeviceModel, SignalMap};
use common::{assert_all_valid, device_files, REFUSED};
use proptest::prelude::*;
use std::collections::HashMap;

/// Values an adapter may put in a field: well-formed ones of every kind and the usual breakage.
const POOL: &[&str] = &[
    "12.5",
    "-3",
    "0",
    "1e5",
    "1e39",
    "1e400",
    "99999999999999999999999999999999",
    "NaN",
    "inf",
    "-INF",
    "1 2 3",
    "1 2",
    "ACTIVE",
    "READY",
    "active",
    "AVAILABLE",
    "UNAVAILABLE",
    "",
    "a=1 b=2",
    "a='x y' c={z} d=\"q\"",
    "a=1 <b>=2",
    "k=",
    "novalue",
    "G54={X=1 Y=2.5} G55={Z=3}",
    "G54=1",
    "r={c=x",
    "<b>&amp;\"'",
    "O\u{1}\u{2}\u{1b}",
    "Grüße",
    "2026-01-01T00:00:00Z",
    "NORMAL",
    "WARNING",
    "FAULT",
    "HIGH",
    "LOW",
    "SIDEWAYS",
    "M101",
    "3",
    "100",
];

/// One field: from the pool, or any text.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0..POOL.len()).prop_map(|i| POOL[i].to_string()),
        1 => ".{0,12}",
    ]
}

/// A key: one of the device's data items (by index, resolved per device) or any text.
#[derive(Clone, Debug)]
enum Key {
    Item(usize),
    Other(String),
}

#[derive(Clone, Debug)]
enum Line {
    /// `timestamp|key|fields…|key|fields…`, the timestamp good (seconds into the run) or not.
    Data {
        stamp: Result<u32, String>,
        groups: Vec<(Key, Vec<String>)>,
        /// Cut the rendered line after this many bytes.
        cut: Option<usize>,
    },
    /// Any bytes (the line ends at a newline inside them).
    Bytes(Vec<u8>),
}

fn line() -> impl Strategy<Value = Line> {
    let stamp = prop_oneof![
        6 => (0u32..100_000).prop_map(Ok),
        1 => prop_oneof![
            Just("9999-01-01T00:00:00Z".to_string()),
            Just("1969-12-31T23:59:59Z".to_string()),
            Just("2026-13-01T00:00:00Z".to_string()),
            Just(String::new()),
            "[0-9:T-]{0,24}",
        ]
        .prop_map(Err),
    ];
    let key = prop_oneof![
        5 => any::<usize>().prop_map(Key::Item),
        1 => "[a-zA-Z_:]{0,8}".prop_map(Key::Other),
    ];
    let group = (key, prop::collection::vec(field(), 0..6));
    prop_oneof![
        8 => (stamp, prop::collection::vec(group, 1..4), prop::option::weighted(0.1, 0usize..80))
            .prop_map(|(stamp, groups, cut)| Line::Data { stamp, groups, cut }),
        1 => prop::collection::vec(any::<u8>(), 0..60).prop_map(Line::Bytes),
    ]
}

/// How many SHDR fields follow an item's key.
fn arity(item: &DataItem) -> usize {
    match (item.category, item.kind.as_str(), item.representation) {
        (Category::Condition, _, _) => 5,
        (_, "MESSAGE", _) => 2,
        (_, _, Representation::TimeSeries) => 3,
        _ => 1,
    }
}

/// The key an adapter sends `item` under: its `<Source>`, name or id, chosen by `pick`.
fn key_of(item: &DataItem, pick: usize) -> &str {
    let keys: Vec<&str> = [item.source.as_deref(), item.name.as_deref(), Some(&item.id)]
        .into_iter()
        .flatten()
        .collect();
    keys[pick % keys.len()]
}

fn stamp(seconds: u32) -> String {
    format!(
        "2026-01-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        1 + seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
        seconds % 1000
    )
}

/// The adapter's bytes for `model`: a sweep over every data item (values from `sweep`), then
/// `lines`.
fn traffic(model: &DeviceModel, sweep: &[String], lines: &[Line]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, item) in model.items.iter().enumerate() {
        let values: Vec<&str> = (0..arity(item))
            .map(|k| sweep[(i + k) % sweep.len()].as_str())
            .collect();
        let line = format!(
            "{}|{}|{}\n",
            stamp(i as u32),
            key_of(item, i),
            values.join("|")
        );
        out.extend_from_slice(line.as_bytes());
    }
    for line in lines {
        match line {
            Line::Bytes(bytes) => out.extend_from_slice(bytes),
            Line::Data {
                stamp: t,
                groups,
                cut,
            } => {
                let mut text = match t {
                    Ok(s) => stamp(*s),
                    Err(s) => s.clone(),
                };
                for (key, fields) in groups {
                    let key = match key {
                        Key::Item(i) if !model.items.is_empty() => {
                            let item = &model.items[i % model.items.len()];
                            key_of(item, *i).to_string()
                        }
                        Key::Item(_) => "nothing".to_string(),
                        Key::Other(k) => k.clone(),
                    };
                    text.push('|');
                    text.push_str(&key);
                    for f in fields {
                        text.push('|');
                        text.push_str(f);
                    }
                }
                let mut bytes = text.into_bytes();
                if let Some(n) = cut {
                    bytes.truncate(*n);
                }
                out.extend_from_slice(&bytes);
            }
        }
        out.push(b'\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_adapter_traffic_leaves_every_served_document_valid(
        sweep in prop::collection::vec(field(), 1..8),
        lines in prop::collection::vec(line(), 0..40),
    ) {
        let mut docs = Vec::new();
        for (file, text) in device_files() {
            if REFUSED.iter().any(|(f, _)| *f == file) {
                continue;
            }
            let model = DeviceModel::parse(&file, &text).unwrap();
            let bytes = traffic(&model, &sweep, &lines);
            let signals = SignalMap::build(&model, &HashMap::new());
            let mut agent = Agent::new(model, signals, &AgentOptions::default(), None).unwrap();
            // Invalid UTF-8 is replaced as the adapter link replaces it.
            let text = String::from_utf8_lossy(&bytes);
            for device in 0..agent.model().devices.len() {
                replay_into(&mut agent, device, &file, &text, &mut |_| {}).unwrap();
            }
            docs.push((format!("{file} /current"), agent.current(None)));
            let (sample, _) = agent.sample(None, None, 100_000, "/sample").unwrap();
            docs.push((format!("{file} /sample"), sample));
        }
        prop_assert!(docs.len() >= 26, "{} documents", docs.len());
        assert_all_valid("Streams", &docs);
    }
}
