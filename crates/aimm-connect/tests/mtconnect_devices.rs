//! Every device file in `testdata/mtconnect/devices`, whatever MTConnect version it declares, is
//! served as 2.7: `/probe`, `/current` and `/sample` validate against the 2.7 XSDs. Two of the
//! reference agent's test files are invalid on purpose and are refused with the reason, naming
//! the file, the id or relationship and the element; a third refusal fails the test.

mod common;

use aimm_connect::mtconnect::{Agent, AgentOptions, DeviceModel, SignalMap};
use common::{assert_all_valid, device_files, REFUSED};
use std::collections::HashMap;

#[test]
fn every_device_file_is_served_as_2_7_or_refused_with_its_reason() {
    let files = device_files();
    assert!(files.len() >= 15, "{} device files", files.len());
    let mut probes = Vec::new();
    let mut streams = Vec::new();
    let mut refused = Vec::new();
    for (file, text) in &files {
        let expected = REFUSED.iter().find(|(f, _)| f == file);
        match (DeviceModel::parse(file, text), expected) {
            (Err(e), Some((_, says))) => {
                let e = e.to_string();
                for part in std::iter::once(&file.as_str()).chain(says.iter()) {
                    assert!(e.contains(part), "{file}: '{part}' not in: {e}");
                }
                refused.push(file.clone());
            }
            (Err(e), None) => panic!("{file} is refused: {e}"),
            (Ok(_), Some(_)) => panic!("{file} is invalid on purpose but was accepted"),
            (Ok(model), None) => {
                assert!(!model.devices.is_empty(), "{file}: no device");
                let signals = SignalMap::build(&model, &HashMap::new());
                let agent = Agent::new(model, signals, &AgentOptions::default(), None).unwrap();
                probes.push((file.clone(), agent.probe(None)));
                streams.push((format!("{file} /current"), agent.current(None)));
                let (sample, _) = agent.sample(None, None, 100_000, "/sample").unwrap();
                streams.push((format!("{file} /sample"), sample));
            }
        }
    }
    assert_eq!(refused.len(), REFUSED.len(), "refused: {refused:?}");
    assert_all_valid("Devices", &probes);
    assert_all_valid("Streams", &streams);
}
