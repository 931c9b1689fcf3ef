//! The report's plots built on a small hand-made ledger whose data is known, and its HTML
//! carrying exactly the numbers of the JSON.

use super::plots::{self, bucket_means, histogram};
use super::{html, PlotKind, Report, Source};
use crate::assessment::{Judged, LoopAssessment};
use crate::bundle_evidence::EvidenceSource;
use crate::catalog::{Comparison, LoopKind, Threshold};
use crate::measure::LedgerView;
use crate::signals::{Blobs, Signals};
use aimm_ledger::merkle::Hash;
use aimm_ledger::record::{ControlAction, ModelTraining, NcProgram, SensorSegment};
use aimm_ledger::{Citation, Evidence, Record};
use aimm_model::{MachineId, SignalKind, SignalSeries};
use aimm_store::segment_codec::encode_segment;
use aimm_store::LedgerEntry;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Segment blobs by digest, in memory.
#[derive(Default)]
struct MemBlobs(HashMap<Hash, Vec<u8>>);

impl Blobs for MemBlobs {
    fn blob(&self, sha256: &Hash) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.get(sha256).cloned())
    }
}

/// A ledger being written by hand, with the blobs of its segments.
#[derive(Default)]
struct Ledger {
    entries: Vec<LedgerEntry>,
    blobs: MemBlobs,
}

const T0: i64 = 1_767_592_800_000_000_000;
const MS: i64 = 1_000_000;

impl Ledger {
    fn push(&mut self, t_ns: i64, evidence: Evidence, cites: &[u64]) -> u64 {
        let cites = cites
            .iter()
            .map(|&i| Citation {
                leaf_index: i,
                leaf_hash: self.entries[i as usize].leaf_hash,
            })
            .collect();
        let record = Record::new(t_ns, evidence, cites);
        let bytes = record.to_canonical_bytes().unwrap();
        let leaf_index = self.entries.len() as u64;
        self.entries.push(LedgerEntry {
            leaf_index,
            leaf_hash: record.leaf_hash().unwrap(),
            bytes,
            record,
        });
        leaf_index
    }

    /// A segment of `signal` on `machine` with a sample every 10 ms from `T0`.
    fn segment(&mut self, machine: &str, signal: SignalKind, values: &[f64]) -> u64 {
        let series = SignalSeries {
            machine: MachineId::new(machine),
            signal,
            t_ns: (0..values.len() as i64).map(|k| T0 + k * 10 * MS).collect(),
            values: values.to_vec(),
        };
        let blob = encode_segment(&series).unwrap();
        let sha256: Hash = Sha256::digest(&blob).into();
        self.blobs.0.insert(sha256, blob);
        let evidence = Evidence::SensorSegment(SensorSegment {
            machine: machine.into(),
            signal: signal.name().into(),
            t_first_ns: series.t_ns[0],
            t_last_ns: *series.t_ns.last().unwrap(),
            count: values.len() as u64,
            sha256,
            origin: Some(aimm_ledger::Origin::SIMULATOR),
        });
        self.push(T0, evidence, &[])
    }

    fn view(&self) -> LedgerView {
        LedgerView::new(self.entries.clone())
    }
}

fn wear_action(estimate_mm: f64, command: serde_json::Value) -> Evidence {
    Evidence::ControlAction(ControlAction {
        loop_name: "wear".into(),
        machine: "mill-4".into(),
        command,
        inputs: json!({ "prediction": { "estimate": { "wear_mm": estimate_mm } } }),
    })
}

fn model() -> Evidence {
    Evidence::ModelTraining(ModelTraining {
        model_kind: "wear_vb".into(),
        version: 1,
        dataset_digests: vec![],
        features: vec![],
        hyper_parameters: Default::default(),
        code_version: "test".into(),
        seed: 0,
        metrics: Default::default(),
        artifact_sha256: [3; 32],
    })
}

/// A feed-loop machine whose load steps from 50 % to 90 % at 1 s while the commanded override
/// falls from 150 % to 110 %; a wear loop on mill-4 deciding twice, once made an NC program
/// version; mill-4's measured offsets and power.
fn cell() -> Ledger {
    let mut l = Ledger::default();
    let load: Vec<f64> = (0..300)
        .map(|k| if k < 100 { 50.0 } else { 90.0 })
        .collect();
    let over: Vec<f64> = (0..300)
        .map(|k| if k < 101 { 150.0 } else { 110.0 })
        .collect();
    l.segment("mill-1", SignalKind::SpindleLoadPct, &load); // 0
    l.segment("mill-1", SignalKind::FeedOverrideCommandedPct, &over); // 1
    l.segment("mill-4", SignalKind::ToolRadiusWearOffsetMm, &[0.0, -0.002]); // 2
    l.segment("mill-4", SignalKind::MachinePowerKw, &[1.0, 3.0, 2.0]); // 3
    l.push(T0, model(), &[3]); // 4
    let first = l.push(
        T0 + 10 * MS,
        wear_action(0.01, json!({ "decision": "offset", "offset_mm": -0.002 })),
        &[2, 4],
    ); // 5
    l.push(
        T0 + 10 * MS,
        Evidence::NcProgram(NcProgram {
            name: "ring.nc".into(),
            version: 2,
            sha256: [9; 32],
            parent_version: Some(1),
            what_changed: "offset".into(),
            why: "wear".into(),
        }),
        &[first],
    ); // 6
    l.push(
        T0 + 1_010 * MS,
        wear_action(0.25, json!({ "decision": "tool_change", "tool": 1 })),
        &[4],
    ); // 7
    l
}

#[test]
fn the_load_plot_is_the_attested_samples_around_the_largest_step() {
    let l = cell();
    let view = l.view();
    let signals = Signals::new(&view, &l.blobs);
    let p = plots::load_step(&view, Some(&signals));
    assert_eq!(p.kind, PlotKind::Lines);
    assert_eq!(p.series.len(), 2, "{}", p.note);
    let (load, over) = (&p.series[0], &p.series[1]);
    assert!(load.name.contains("spindle_load_pct") && load.name.contains("mill-1"));
    // The step is at sample 100 (1 s); the window is 2 s either side, clipped to the data.
    assert_eq!(load.x.len(), 300);
    assert_eq!(load.x[100], 0.0);
    assert_eq!((load.x[0], load.y[99], load.y[100]), (-1.0, 50.0, 90.0));
    assert_eq!((over.y[100], over.y[101]), (150.0, 110.0));
    assert!(p.note.contains("+40.0 %"), "{}", p.note);
    let leaves: Vec<u64> = p.cites.iter().map(|c| c.leaf_index).collect();
    assert_eq!(leaves, [0, 1]);
    assert_eq!(p.cites[0].leaf_hash, hex::encode(l.entries[0].leaf_hash));
    // Without signals, or without a feed loop, there is a note and no data.
    let none = plots::load_step(&view, None);
    assert!(none.series.is_empty() && !none.note.is_empty());
}

#[test]
fn the_wear_plot_shows_estimates_commanded_and_measured_offsets() {
    let l = cell();
    let view = l.view();
    let signals = Signals::new(&view, &l.blobs);
    let p = plots::wear(&view, Some(&signals));
    let names: Vec<&str> = p.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let estimate = &p.series[0];
    assert_eq!(estimate.y, [0.01, 0.25]);
    assert_eq!(estimate.x, [0.01, 1.01]);
    assert_eq!(p.series[1].y, [-0.002]); // the tool change commands no offset
    assert_eq!(p.series[2].y, [0.0, -0.002]);
    assert_eq!(p.series[2].x, [0.0, 0.01]);
    assert!(
        p.note.contains("2 decisions") && p.note.contains("1 of them cited by a new NC program"),
        "{}",
        p.note
    );
    assert!(p.note.contains("(leaf 7)"), "{}", p.note);
}

#[test]
fn energy_plots_measured_power_and_says_no_schedule_exists() {
    let l = cell();
    let view = l.view();
    let signals = Signals::new(&view, &l.blobs);
    let p = plots::energy(&view, Some(&signals));
    assert_eq!(p.series.len(), 1);
    assert_eq!(p.series[0].y, [1.0, 3.0, 2.0]);
    assert!(p.note.contains("no scheduling loop"), "{}", p.note);
    // Long series are averaged per time bucket, never invented.
    let (x, y) = bucket_means(&[0, 1, 2, 3], &[1.0, 3.0, 5.0, 7.0], 0, 2);
    assert_eq!(y, [2.0, 6.0]);
    assert_eq!(x, [0.5e-9, 2.5e-9]);
}

#[test]
fn the_lineage_graph_is_the_citations_of_the_decision_that_became_a_program() {
    let l = cell();
    let p = plots::lineage(&l.view());
    let mut nodes: Vec<(u64, i32, &str)> = p
        .nodes
        .iter()
        .map(|n| (n.leaf_index, n.layer, n.kind.as_str()))
        .collect();
    nodes.sort();
    // The later action (7) is cited by nothing; action 5 became NC program version 6.
    assert_eq!(
        nodes,
        [
            (2, -1, "sensor_segment"),
            (3, -2, "sensor_segment"),
            (4, -1, "model_training"),
            (5, 0, "control_action"),
            (6, 1, "nc_program"),
        ]
    );
    let mut edges: Vec<(u64, u64)> = p.edges.iter().map(|e| (e.from, e.to)).collect();
    edges.sort();
    assert_eq!(edges, [(4, 3), (5, 2), (5, 4), (6, 5)]);
    assert!(p.note.contains("leaf 5"), "{}", p.note);
}

fn latency_loop(samples: Vec<f64>) -> LoopAssessment {
    LoopAssessment {
        loop_kind: LoopKind::Feed,
        level: 0,
        criteria: vec![Judged {
            id: "L3.feed.latency".into(),
            level: 3,
            text: "fast".into(),
            measure: "loop_latency_p99".into(),
            passed: None,
            measured: None,
            threshold: Threshold {
                op: Comparison::AtMost,
                value: 50.0,
                unit: "ms".into(),
            },
            reason: "no decision to time".into(),
            evidence: vec![5],
            failures: vec![],
            samples,
            provenance: Default::default(),
        }],
    }
}

#[test]
fn latency_histograms_count_the_measured_samples_or_say_why_there_are_none() {
    let view = cell().view();
    let p = plots::latency(&latency_loop(vec![1.0, 2.0, 2.0, 3.0, 10.0]), &view);
    assert_eq!(p.kind, PlotKind::Histogram);
    let counts = &p.series[0].y;
    assert_eq!(counts.iter().sum::<f64>(), 5.0);
    assert_eq!((counts[0], *counts.last().unwrap()), (4.0, 1.0));
    assert_eq!(p.cites[0].leaf_index, 5);
    let empty = plots::latency(&latency_loop(vec![]), &view);
    assert!(empty.series.is_empty());
    assert!(empty.note.contains("no decision to time"), "{}", empty.note);
    let (x, y) = histogram(&[4.0, 4.0]);
    assert_eq!((x, y), (vec![4.0], vec![2.0]));
}

#[test]
fn the_html_draws_exactly_the_json_numbers_and_cites_leaf_hashes() {
    let l = cell();
    let view = l.view();
    let signals = Signals::new(&view, &l.blobs);
    let mut assessment =
        crate::assessment::assess(&crate::catalog::Catalog::builtin(), &view, Some(&signals));
    assessment.loops[0] = latency_loop(vec![0.1, 0.30000000000000004, 7.25]);
    let source = Source::new(
        EvidenceSource::Store {
            location: "test <db>".into(),
            records: view.len() as u64,
        },
        &view,
    );
    let root = aimm_ledger::MerkleTree::from_leaf_hashes(l.entries.iter().map(|e| e.leaf_hash));
    assert_eq!(source.ledger_root, hex::encode(root.root()));
    let report = Report::new(assessment, &view, Some(&signals), source);
    let page = html::render(&report);
    assert!(page.contains("test &lt;db&gt;"));
    // Self-contained: the only URL is the SVG namespace, which is never fetched.
    let namespaces = page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
    assert_eq!(page.matches("http").count(), namespaces);
    for plot in &report.plots {
        for s in &plot.series {
            let attr = format!("data-series=\"{}\" data-points=\"", html::esc(&s.name));
            let at = page
                .find(&attr)
                .unwrap_or_else(|| panic!("{} not drawn", s.name))
                + attr.len();
            let points = &page[at..at + page[at..].find('"').unwrap()];
            let parsed: Vec<(f64, f64)> = points
                .split(' ')
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            let want: Vec<(f64, f64)> = s.x.iter().copied().zip(s.y.iter().copied()).collect();
            assert_eq!(parsed, want, "{}", s.name);
        }
    }
    let cites = &report.cites["L3.lineage"];
    assert!(!cites.is_empty());
    for c in cites {
        assert_eq!(
            c.leaf_hash,
            hex::encode(l.entries[c.leaf_index as usize].leaf_hash)
        );
        assert!(page.contains(&format!(
            "data-leaf=\"{}\" data-hash=\"{}\"",
            c.leaf_index, c.leaf_hash
        )));
    }
}
