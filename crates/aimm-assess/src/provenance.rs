//! Provenance: whether the machines evidence comes from are simulated or real, as their sensor
//! segments record it. Whatever sealed a segment wrote its `origin`: aimm's simulator, an
//! MTConnect adapter, a Sparkplug edge node (which may declare itself a simulator in its birth
//! certificate) or an import of a recording. Nothing in data proves a machine real: "real" here
//! means every segment of the machine came in over a machine interface or an import from a
//! source that did not declare itself a simulator, and the report says so in those words.

use crate::measure::LedgerView;
use aimm_ledger::record::Evidence;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What a machine's segments say of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// A segment came from a simulator.
    Simulated,
    /// A segment records no origin (written before aimm recorded it), none is simulated.
    NotRecorded,
    /// Every segment came in over a machine interface or an import, none declared simulated.
    Real,
}

/// Machines by what their segments say, with the interfaces the samples came in by.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Origins {
    /// Machines with a segment from a simulator (aimm's, or one its interface declared).
    pub simulated: BTreeSet<String>,
    /// Machines every segment of which came in over a machine interface or an import from a
    /// source that did not declare itself a simulator.
    pub real: BTreeSet<String>,
    /// Machines with a segment that records no origin, or with no segment at all.
    pub not_recorded: BTreeSet<String>,
    /// The interfaces their samples came in by (`simulator`, `mtconnect`, `sparkplug`, `import`).
    pub interfaces: BTreeSet<&'static str>,
}

impl Origins {
    /// No machine at all.
    pub fn is_empty(&self) -> bool {
        self.simulated.is_empty() && self.real.is_empty() && self.not_recorded.is_empty()
    }

    /// In words, e.g. "simulated: mill-1, mill-2 (over simulator)".
    pub fn describe(&self) -> String {
        if self.is_empty() {
            return "no machine's data".into();
        }
        let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        let mut parts = Vec::new();
        if !self.simulated.is_empty() {
            parts.push(format!("simulated: {}", list(&self.simulated)));
        }
        if !self.real.is_empty() {
            parts.push(format!(
                "real as declared (no source said it simulates): {}",
                list(&self.real)
            ));
        }
        if !self.not_recorded.is_empty() {
            parts.push(format!(
                "simulated or real not recorded: {}",
                list(&self.not_recorded)
            ));
        }
        let mut text = parts.join("; ");
        if !self.interfaces.is_empty() {
            let via: Vec<&str> = self.interfaces.iter().copied().collect();
            text.push_str(&format!(" (data over {})", via.join(", ")));
        }
        text
    }
}

/// Every machine of a ledger with what its segments say of it.
pub struct MachineOrigins {
    machines: BTreeMap<String, (Class, BTreeSet<&'static str>)>,
}

impl MachineOrigins {
    /// Reads every sensor segment of `view`.
    pub fn new(view: &LedgerView) -> Self {
        let mut machines: BTreeMap<String, (Class, BTreeSet<&'static str>)> = BTreeMap::new();
        for (_, s) in view.segment_records() {
            let class = match s.origin {
                Some(o) if o.simulated => Class::Simulated,
                Some(_) => Class::Real,
                None => Class::NotRecorded,
            };
            let entry = machines
                .entry(s.machine.clone())
                .or_insert((Class::Real, BTreeSet::new()));
            // One simulated segment makes the machine simulated; one without origin, unknown.
            entry.0 = match (entry.0, class) {
                (Class::Simulated, _) | (_, Class::Simulated) => Class::Simulated,
                (Class::NotRecorded, _) | (_, Class::NotRecorded) => Class::NotRecorded,
                _ => Class::Real,
            };
            if let Some(o) = s.origin {
                entry.1.insert(o.interface.name());
            }
        }
        MachineOrigins { machines }
    }

    /// Every machine with data.
    pub fn all(&self) -> Origins {
        self.of(self.machines.keys().map(String::as_str))
    }

    /// The machines the records at `leaves` name or reach through their citations (a control
    /// action's machine; every sensor segment in their lineage).
    pub fn of_leaves(&self, view: &LedgerView, leaves: &[u64]) -> Origins {
        let mut names: BTreeSet<&str> = BTreeSet::new();
        let mut seen: BTreeSet<u64> = BTreeSet::new();
        let mut todo: Vec<u64> = leaves.to_vec();
        while let Some(i) = todo.pop() {
            if !seen.insert(i) {
                continue;
            }
            let Some(e) = view.entry(i) else { continue };
            match &e.record.evidence {
                Evidence::SensorSegment(s) => {
                    names.insert(&s.machine);
                }
                Evidence::ControlAction(a) => {
                    names.insert(&a.machine);
                }
                _ => {}
            }
            todo.extend(e.record.cites.iter().map(|c| c.leaf_index));
        }
        self.of(names.into_iter())
    }

    fn of<'a>(&self, names: impl Iterator<Item = &'a str>) -> Origins {
        let mut out = Origins::default();
        for name in names {
            let (class, interfaces) = self
                .machines
                .get(name)
                .cloned()
                .unwrap_or((Class::NotRecorded, BTreeSet::new()));
            match class {
                Class::Simulated => &mut out.simulated,
                Class::Real => &mut out.real,
                Class::NotRecorded => &mut out.not_recorded,
            }
            .insert(name.to_string());
            out.interfaces.extend(interfaces);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimm_ledger::record::{ControlAction, SensorSegment};
    use aimm_ledger::{Citation, Interface, Origin, Record};
    use aimm_store::LedgerEntry;

    fn entry(i: u64, evidence: Evidence, cites: Vec<Citation>) -> LedgerEntry {
        let record = Record::new(i as i64, evidence, cites);
        LedgerEntry {
            leaf_index: i,
            leaf_hash: record.leaf_hash().unwrap(),
            bytes: record.to_canonical_bytes().unwrap(),
            record,
        }
    }

    fn segment(i: u64, machine: &str, origin: Option<Origin>) -> LedgerEntry {
        entry(
            i,
            Evidence::SensorSegment(SensorSegment {
                machine: machine.into(),
                signal: "spindle_load_pct".into(),
                t_first_ns: 0,
                t_last_ns: 1,
                count: 2,
                sha256: [i as u8; 32],
                origin,
            }),
            vec![],
        )
    }

    #[test]
    fn machines_are_simulated_real_or_unrecorded_by_their_segments_and_lineage() {
        let real = Some(Origin::undeclared(Interface::Sparkplug));
        let declared = Some(Origin {
            interface: Interface::Sparkplug,
            simulated: true,
        });
        let entries = vec![
            segment(0, "okuma", real),
            segment(1, "okuma", Some(Origin::undeclared(Interface::Import))),
            segment(2, "mixed", real),
            segment(3, "mixed", declared),
            segment(4, "old", None),
            segment(5, "sim", Some(Origin::SIMULATOR)),
        ];
        let cite = |e: &LedgerEntry| Citation {
            leaf_index: e.leaf_index,
            leaf_hash: e.leaf_hash,
        };
        let action = entry(
            6,
            Evidence::ControlAction(ControlAction {
                loop_name: "feed".into(),
                machine: "ghost".into(),
                command: serde_json::json!({}),
                inputs: serde_json::json!({}),
            }),
            vec![cite(&entries[0])],
        );
        let mut all = entries;
        all.push(action);
        let view = LedgerView::new(all);
        let origins = MachineOrigins::new(&view);

        let everything = origins.all();
        assert_eq!(everything.real, ["okuma".to_string()].into());
        assert_eq!(
            everything.simulated,
            ["mixed".to_string(), "sim".to_string()].into()
        );
        assert_eq!(everything.not_recorded, ["old".to_string()].into());
        assert_eq!(
            everything.interfaces,
            ["import", "simulator", "sparkplug"].into()
        );

        // The action names a machine with no data of its own, and reaches okuma's segment.
        let cited = origins.of_leaves(&view, &[6]);
        assert_eq!(cited.real, ["okuma".to_string()].into());
        assert_eq!(cited.not_recorded, ["ghost".to_string()].into());
        assert!(cited.simulated.is_empty());
        assert!(
            cited.describe().contains("real as declared"),
            "{}",
            cited.describe()
        );
        assert_eq!(
            origins.of_leaves(&view, &[]).describe(),
            "no machine's data"
        );
    }
}
