//! Measurements of the criteria catalog computed from the ledger's records themselves: what the
//! citations between records prove, never what a record claims about itself. So far the data and
//! lineage measurements (`machines_with_data_share`, `model_lineage_share`,
//! `lineage_completeness`), whether a loop's decisions became NC program versions
//! (`actionability_share`), and counts of decisions (`insights`), of models trained across
//! machines (`multi_machine_models`) and of one loop acting on another's decision
//! (`cross_loop_links`); each gives its value and the leaves it rests on or found wanting.

use crate::catalog::LoopKind;
use aimm_ledger::record::{ControlAction, Evidence, Record, SensorSegment};
use aimm_store::LedgerEntry;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One measurement's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measured {
    /// The value, in the measurement's unit; `None` when nothing in the evidence could be
    /// measured (no record of the kinds it reads).
    pub value: Option<f64>,
    /// Why, in a sentence: what was counted, or what was missing.
    pub reason: String,
    /// Leaf indices it rests on (a sample, at most [`MAX_CITED`]).
    pub evidence: Vec<u64>,
    /// Leaf indices it found wanting, each with why (at most [`MAX_CITED`]).
    pub failures: Vec<(u64, String)>,
    /// The individual observations the value summarises, in its unit (e.g. every latency a
    /// percentile is taken of), for the report's plots; empty for counts and shares.
    pub samples: Vec<f64>,
}

impl Measured {
    /// Nothing measured, and why.
    pub fn unmeasured(reason: String) -> Self {
        Measured {
            value: None,
            reason,
            evidence: Vec::new(),
            failures: Vec::new(),
            samples: Vec::new(),
        }
    }
}

/// Leaves listed per measurement: enough to follow, few enough to read.
pub const MAX_CITED: usize = 20;

/// The ledger's records by leaf index, with what the citations between them prove.
pub struct LedgerView {
    entries: BTreeMap<u64, LedgerEntry>,
    /// Per leaf: whether its citations, followed all the way, reach a sensor segment, and a
    /// model or control parameter record; `None` while not yet worked out.
    reach: BTreeMap<u64, Reach>,
    broken: BTreeMap<u64, String>,
}

/// What a record's lineage reaches.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Reach {
    segment: bool,
    model_or_parameter: bool,
}

impl LedgerView {
    /// The records of `entries` (any order), with their citations checked: a citation of a leaf
    /// that is missing, later than the citing record, or whose hash differs is a broken link.
    pub fn new(entries: Vec<LedgerEntry>) -> Self {
        let entries: BTreeMap<u64, LedgerEntry> =
            entries.into_iter().map(|e| (e.leaf_index, e)).collect();
        let mut broken = BTreeMap::new();
        for (&i, e) in &entries {
            for c in &e.record.cites {
                let why = match entries.get(&c.leaf_index) {
                    None => Some(format!(
                        "cites leaf {}, which is not in the evidence",
                        c.leaf_index
                    )),
                    Some(_) if c.leaf_index >= i => {
                        Some(format!("cites leaf {}, which is not earlier", c.leaf_index))
                    }
                    Some(cited) if cited.leaf_hash != c.leaf_hash => Some(format!(
                        "cites leaf {} by a hash that is not its own",
                        c.leaf_index
                    )),
                    Some(_) => None,
                };
                if let Some(why) = why {
                    broken.entry(i).or_insert(why);
                }
            }
        }
        let mut evidence = LedgerView {
            entries,
            reach: BTreeMap::new(),
            broken,
        };
        // Citations point to earlier leaves only (later ones are broken links), so one pass in
        // leaf order sees every cited record's reach before the citing one's.
        let indices: Vec<u64> = evidence.entries.keys().copied().collect();
        for i in indices {
            let r = evidence.reach_of(i);
            evidence.reach.insert(i, r);
        }
        evidence
    }

    fn reach_of(&self, i: u64) -> Reach {
        let e = &self.entries[&i];
        let own = Reach {
            segment: matches!(e.record.evidence, Evidence::SensorSegment(_)),
            model_or_parameter: matches!(
                e.record.evidence,
                Evidence::ModelTraining(_) | Evidence::ControlParameterChange(_)
            ),
        };
        e.record
            .cites
            .iter()
            .filter(|c| c.leaf_index < i)
            .filter_map(|c| self.reach.get(&c.leaf_index))
            .fold(own, |a, b| Reach {
                segment: a.segment || b.segment,
                model_or_parameter: a.model_or_parameter || b.model_or_parameter,
            })
    }

    /// Every record, by leaf index.
    pub fn records(&self) -> impl Iterator<Item = (u64, &Record)> {
        self.entries.iter().map(|(i, e)| (*i, &e.record))
    }

    /// The record at leaf `i` with its leaf hash, if the evidence holds it.
    pub fn entry(&self, i: u64) -> Option<&LedgerEntry> {
        self.entries.get(&i)
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the evidence holds no record.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The decisions of `kind`'s loop (its control actions), by leaf index.
    pub fn decisions(
        &self,
        kind: LoopKind,
    ) -> impl Iterator<Item = (u64, &Record, &ControlAction)> {
        self.records().filter_map(move |(i, r)| match &r.evidence {
            Evidence::ControlAction(a) if kind.record_names().contains(&a.loop_name.as_str()) => {
                Some((i, r, a))
            }
            _ => None,
        })
    }

    /// The `sensor_segment` records, by leaf index.
    pub fn segment_records(&self) -> impl Iterator<Item = (u64, &SensorSegment)> {
        self.records().filter_map(|(i, r)| match &r.evidence {
            Evidence::SensorSegment(s) => Some((i, s)),
            _ => None,
        })
    }

    /// `machines_with_data_share`: of the machines the evidence names (in segments and control
    /// actions), the share with sealed sensor segments, %.
    pub fn machines_with_data_share(&self) -> Measured {
        let mut with_data = BTreeMap::new();
        let mut named = BTreeSet::new();
        for (i, r) in self.records() {
            match &r.evidence {
                Evidence::SensorSegment(s) => {
                    named.insert(s.machine.clone());
                    with_data.entry(s.machine.clone()).or_insert(i);
                }
                Evidence::ControlAction(a) => {
                    named.insert(a.machine.clone());
                }
                _ => {}
            }
        }
        let failures: Vec<(u64, String)> = self
            .records()
            .filter_map(|(i, r)| match &r.evidence {
                Evidence::ControlAction(a) if !with_data.contains_key(&a.machine) => Some((
                    i,
                    format!(
                        "machine {:?} is commanded but records no sensor data",
                        a.machine
                    ),
                )),
                _ => None,
            })
            .take(MAX_CITED)
            .collect();
        Measured {
            value: (!named.is_empty()).then(|| 100.0 * with_data.len() as f64 / named.len() as f64),
            reason: format!(
                "{} of {} machines named in the evidence record time-stamped sensor segments",
                with_data.len(),
                named.len()
            ),
            evidence: with_data.values().copied().take(MAX_CITED).collect(),
            failures,
            samples: Vec::new(),
        }
    }

    /// `model_lineage_share`: model_training records whose citations reach sensor segments (the
    /// data they were trained on), %.
    pub fn model_lineage_share(&self) -> Measured {
        self.share(
            |r| matches!(r.evidence, Evidence::ModelTraining(_)),
            |reach, _| {
                reach
                    .segment
                    .then_some(())
                    .ok_or("cites no sensor segment".into())
            },
            "models trace to the sensor segments they were trained on",
        )
    }

    /// `lineage_completeness`: of the control actions, derived NC program versions, control
    /// parameter changes and models, the share with no broken link whose lineage reaches what it
    /// must: sensor segments for actions, derived programs and models; also a model or control
    /// parameter record for actions and derived programs (the decision's version). A program
    /// version that cites no decision (a program as written) and a parameter change must only
    /// have no broken link.
    pub fn lineage_completeness(&self) -> Measured {
        self.share(
            |r| {
                matches!(
                    r.evidence,
                    Evidence::ControlAction(_)
                        | Evidence::NcProgram(_)
                        | Evidence::ControlParameterChange(_)
                        | Evidence::ModelTraining(_)
                )
            },
            |reach, r| {
                let derived = match &r.evidence {
                    Evidence::ControlAction(_) => true,
                    Evidence::NcProgram(_) => !r.cites.is_empty() && reach.model_or_parameter,
                    _ => false,
                };
                if matches!(r.evidence, Evidence::ModelTraining(_)) && !reach.segment {
                    return Err("a model whose lineage reaches no sensor segment".into());
                }
                if derived && !reach.segment {
                    return Err("a decision whose lineage reaches no sensor segment".into());
                }
                if matches!(r.evidence, Evidence::ControlAction(_)) && !reach.model_or_parameter
                {
                    return Err(
                        "an action whose lineage reaches no model or control parameter record"
                            .into(),
                    );
                }
                Ok(())
            },
            "records' lineage is complete (no broken link, reaches sensor segments and the versioned model or parameters)",
        )
    }

    /// `actionability_share` of `kind`'s decisions that change the program (a wear offset, learnt
    /// parameters: every decision of the loop but a planned tool change), the share a later NC
    /// program version cites, %: the version is what the machine runs. Decisions recorded with
    /// no program written from them are a dashboard, not a loop.
    pub fn actionability_share(&self, kind: LoopKind) -> Measured {
        let mut acted_on = BTreeSet::new();
        for (_, r) in self.records() {
            if let Evidence::NcProgram(_) = r.evidence {
                acted_on.extend(r.cites.iter().map(|c| c.leaf_index));
            }
        }
        let decisions: Vec<u64> = self
            .records()
            .filter_map(|(i, r)| match &r.evidence {
                Evidence::ControlAction(a)
                    if kind.record_names().contains(&a.loop_name.as_str())
                        && a.command.get("decision").and_then(|d| d.as_str())
                            != Some("tool_change") =>
                {
                    Some(i)
                }
                _ => None,
            })
            .collect();
        let (done, not): (Vec<u64>, Vec<u64>) =
            decisions.iter().partition(|i| acted_on.contains(i));
        Measured {
            value: (!decisions.is_empty())
                .then(|| 100.0 * done.len() as f64 / decisions.len() as f64),
            reason: if decisions.is_empty() {
                format!("no decision of the {} loop is in the evidence", kind.name())
            } else {
                format!(
                    "{} of {} decisions of the {} loop became NC program versions",
                    done.len(),
                    decisions.len(),
                    kind.name()
                )
            },
            evidence: done.into_iter().take(MAX_CITED).collect(),
            failures: not
                .into_iter()
                .take(MAX_CITED)
                .map(|i| (i, "no NC program version cites this decision".to_string()))
                .collect(),
            samples: Vec::new(),
        }
    }

    /// `insights`: decisions the loops recorded (control actions, each citing what it was decided
    /// from).
    pub fn insights(&self) -> Measured {
        let decisions: Vec<u64> = self
            .records()
            .filter(|(_, r)| matches!(r.evidence, Evidence::ControlAction(_)))
            .map(|(i, _)| i)
            .collect();
        Measured {
            value: Some(decisions.len() as f64),
            reason: format!("{} decisions recorded as control actions", decisions.len()),
            evidence: decisions.into_iter().take(MAX_CITED).collect(),
            failures: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// `multi_machine_models`: model_training records whose cited sensor segments come from
    /// more than one machine.
    pub fn multi_machine_models(&self) -> Measured {
        let mut models = Vec::new();
        let mut single = Vec::new();
        for (i, r) in self.records() {
            if !matches!(r.evidence, Evidence::ModelTraining(_)) {
                continue;
            }
            let machines: BTreeSet<&str> = r
                .cites
                .iter()
                .filter_map(|c| self.entries.get(&c.leaf_index))
                .filter_map(|e| match &e.record.evidence {
                    Evidence::SensorSegment(s) => Some(s.machine.as_str()),
                    _ => None,
                })
                .collect();
            if machines.len() > 1 {
                models.push(i);
            } else {
                single.push((
                    i,
                    format!("trained on the data of {} machine(s)", machines.len()),
                ));
            }
        }
        Measured {
            value: Some(models.len() as f64),
            reason: format!(
                "{} of {} models trained on the data of more than one machine",
                models.len(),
                models.len() + single.len()
            ),
            evidence: models.into_iter().take(MAX_CITED).collect(),
            failures: single.into_iter().take(MAX_CITED).collect(),
            samples: Vec::new(),
        }
    }

    /// `cross_loop_links`: control actions of one loop that cite a control action of another.
    pub fn cross_loop_links(&self) -> Measured {
        let loop_of = |i: u64| match self.entries.get(&i).map(|e| &e.record.evidence) {
            Some(Evidence::ControlAction(a)) => Some(a.loop_name.as_str()),
            _ => None,
        };
        let links: Vec<u64> = self
            .records()
            .filter(|(i, r)| {
                let own = loop_of(*i);
                own.is_some()
                    && r.cites
                        .iter()
                        .any(|c| loop_of(c.leaf_index).is_some_and(|l| Some(l) != own))
            })
            .map(|(i, _)| i)
            .collect();
        Measured {
            value: Some(links.len() as f64),
            reason: format!(
                "{} decisions of one loop cite a decision of another",
                links.len()
            ),
            evidence: links.into_iter().take(MAX_CITED).collect(),
            failures: Vec::new(),
            samples: Vec::new(),
        }
    }

    /// The share (%) of records `pick` picks that have no broken link and pass `complete`.
    fn share(
        &self,
        pick: impl Fn(&Record) -> bool,
        complete: impl Fn(Reach, &Record) -> Result<(), String>,
        what: &str,
    ) -> Measured {
        let (mut checked, mut good) = (0usize, Vec::new());
        let mut failures = Vec::new();
        for (i, r) in self.records().filter(|(_, r)| pick(r)) {
            checked += 1;
            let verdict = match self.broken.get(&i) {
                Some(why) => Err(why.clone()),
                None => complete(self.reach[&i], r),
            };
            match verdict {
                Ok(()) => good.push(i),
                Err(why) => failures.push((i, format!("{}: {why}", r.evidence.kind()))),
            }
        }
        let failed = failures.len();
        failures.truncate(MAX_CITED);
        Measured {
            value: (checked > 0).then(|| 100.0 * good.len() as f64 / checked as f64),
            reason: if checked == 0 {
                "no record of the kinds it reads is in the evidence".into()
            } else {
                format!("{} of {checked} {what}; {failed} not", good.len())
            },
            evidence: good.into_iter().take(MAX_CITED).collect(),
            failures,
            samples: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimm_ledger::record::ModelTraining;
    use aimm_ledger::Citation;
    use aimm_store::{SqliteStore, Store};

    fn segment(machine: &str) -> Evidence {
        Evidence::SensorSegment(SensorSegment {
            machine: machine.into(),
            signal: "spindle_load_pct".into(),
            t_first_ns: 0,
            t_last_ns: 1_000,
            count: 10,
            sha256: [7; 32],
            origin: Some(aimm_ledger::Origin::SIMULATOR),
        })
    }

    fn model() -> Evidence {
        Evidence::ModelTraining(ModelTraining {
            model_kind: "wear".into(),
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

    fn action(machine: &str) -> Evidence {
        Evidence::ControlAction(ControlAction {
            loop_name: "wear".into(),
            machine: machine.into(),
            command: serde_json::json!({ "radius_wear_offset_mm": -0.01 }),
            inputs: serde_json::json!({}),
        })
    }

    /// A ledger of `records` (evidence, leaves cited) in a real store, read back as entries.
    fn ledger(records: &[(Evidence, &[u64])]) -> Vec<LedgerEntry> {
        let mut store = SqliteStore::open_in_memory().unwrap();
        for (i, (evidence, cites)) in records.iter().enumerate() {
            let cites = cites
                .iter()
                .map(|&k| {
                    let e = store.ledger_record(k).unwrap();
                    Citation {
                        leaf_index: k,
                        leaf_hash: e.leaf_hash,
                    }
                })
                .collect();
            let r = Record::new(i as i64, evidence.clone(), cites);
            store.append_records(&[r]).unwrap();
        }
        store
            .ledger_entries(0, store.ledger_size().unwrap())
            .unwrap()
    }

    #[test]
    fn a_complete_lineage_passes_and_a_model_without_its_data_does_not() {
        // Segment → model → action citing both: complete.
        let good = LedgerView::new(ledger(&[
            (segment("mill-1"), &[]),
            (model(), &[0]),
            (action("mill-1"), &[0, 1]),
        ]));
        assert_eq!(good.lineage_completeness().value, Some(100.0));
        assert_eq!(good.model_lineage_share().value, Some(100.0));
        assert_eq!(good.machines_with_data_share().value, Some(100.0));
        // A model record without its training data, and an action on a machine with no data.
        let bad = LedgerView::new(ledger(&[
            (segment("mill-1"), &[]),
            (model(), &[]),
            (action("mill-2"), &[1]),
        ]));
        let m = bad.model_lineage_share();
        assert_eq!(m.value, Some(0.0));
        assert_eq!(m.failures[0].0, 1, "{m:?}");
        let l = bad.lineage_completeness();
        assert_eq!(l.value, Some(0.0), "{l:?}");
        assert!(l
            .failures
            .iter()
            .any(|(leaf, why)| *leaf == 2 && why.contains("no sensor segment")));
        let d = bad.machines_with_data_share();
        assert_eq!(d.value, Some(50.0));
        assert!(d.failures[0].1.contains("mill-2"), "{d:?}");
    }

    fn nc_version(version: u32) -> Evidence {
        Evidence::NcProgram(aimm_ledger::record::NcProgram {
            name: "ring.nc".into(),
            version,
            sha256: [version as u8; 32],
            parent_version: None,
            what_changed: "offset".into(),
            why: "wear".into(),
        })
    }

    #[test]
    fn wear_decisions_without_a_program_version_are_a_dashboard() {
        let looped = LedgerView::new(ledger(&[
            (segment("mill-1"), &[]),
            (model(), &[0]),
            (action("mill-1"), &[0, 1]),
            (nc_version(2), &[2]),
        ]));
        assert_eq!(
            looped.actionability_share(LoopKind::Wear).value,
            Some(100.0)
        );
        let dashboard = LedgerView::new(ledger(&[
            (segment("mill-1"), &[]),
            (model(), &[0]),
            (action("mill-1"), &[0, 1]),
            (action("mill-1"), &[0, 1]),
        ]));
        let m = dashboard.actionability_share(LoopKind::Wear);
        assert_eq!(m.value, Some(0.0));
        assert_eq!(m.failures.len(), 2);
        // A loop with no decisions is not measured, not passed.
        assert_eq!(dashboard.actionability_share(LoopKind::Learn).value, None);
    }

    #[test]
    fn counts_of_decisions_fleet_models_and_loops_acting_on_each_other() {
        let mut feed = action("mill-1");
        if let Evidence::ControlAction(a) = &mut feed {
            a.loop_name = "schedule".into();
        }
        let view = LedgerView::new(ledger(&[
            (segment("mill-1"), &[]),
            (segment("mill-2"), &[]),
            (model(), &[0]),
            (model(), &[0, 1]),
            (action("mill-1"), &[0, 2]),
            (feed, &[4]),
        ]));
        assert_eq!(view.insights().value, Some(2.0));
        let fleet = view.multi_machine_models();
        assert_eq!((fleet.value, fleet.evidence.clone()), (Some(1.0), vec![3]));
        let links = view.cross_loop_links();
        assert_eq!((links.value, links.evidence), (Some(1.0), vec![5]));
    }

    #[test]
    fn a_removed_or_forged_link_is_a_broken_link() {
        let mut entries = ledger(&[
            (segment("mill-1"), &[]),
            (model(), &[0]),
            (action("mill-1"), &[0, 1]),
        ]);
        // The model's record removed from the evidence: the action's link to it dangles.
        let without_model: Vec<LedgerEntry> = entries
            .iter()
            .filter(|e| e.leaf_index != 1)
            .cloned()
            .collect();
        let l = LedgerView::new(without_model).lineage_completeness();
        assert_eq!(l.value, Some(0.0));
        assert!(l.failures[0].1.contains("not in the evidence"), "{l:?}");
        // A citation by another hash (the cited record swapped for another).
        entries[2].record.cites[1].leaf_hash = [9; 32];
        let l = LedgerView::new(entries).lineage_completeness();
        assert!(
            l.failures
                .iter()
                .any(|(leaf, why)| *leaf == 2 && why.contains("not its own")),
            "{l:?}"
        );
        // Nothing to judge is not a pass.
        let empty = LedgerView::new(Vec::new()).lineage_completeness();
        assert_eq!(empty.value, None);
    }
}
