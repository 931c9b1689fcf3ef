//! An in-memory index of the ledger, caught up incrementally: the ledger is append-only, so what
//! was indexed never changes, and a request costs only the leaves appended since the last one.
//! It holds leaf numbers and the few fields lists are made of; a record's body is read from the
//! store when shown.

use aimm_ledger::record::{Evidence, KINDS};
use aimm_store::{LedgerEntry, Store, StoreError};
use std::collections::BTreeMap;

/// A version of an NC program, as its `nc_program` record states it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProgramVersion {
    /// The record's leaf.
    pub leaf: u64,
    /// When it was recorded, UTC ns.
    pub t_ns: i64,
    /// Program name.
    pub name: String,
    /// Version, from 1.
    pub version: u32,
    /// SHA-256 of the text, hex.
    pub sha256: String,
    /// The version it was derived from.
    pub parent_version: Option<u32>,
    /// What changed.
    pub what_changed: String,
    /// Why.
    pub why: String,
}

/// The index.
#[derive(Default)]
pub struct LedgerIndex {
    /// Per leaf: its kind (index into `KINDS`) and time.
    leaves: Vec<(u8, i64)>,
    /// Leaves of each kind, in order.
    by_kind: Vec<Vec<u64>>,
    /// Every program version, in ledger order.
    pub programs: Vec<ProgramVersion>,
    /// Releases of program versions: (name, version) → the releasing `control_action`.
    pub releases: BTreeMap<(String, u32), u64>,
    /// Rejections of program versions: (name, version) → the `user_action`.
    pub rejections: BTreeMap<(String, u32), u64>,
    /// The latest record of each (loop, parameter).
    pub parameters: BTreeMap<(String, String), u64>,
    /// `control_action`s of each (loop, machine), in order.
    pub actions: BTreeMap<(String, String), Vec<u64>>,
    /// The machine each program was last released to (by a loop's `control_action`).
    pub released_to: BTreeMap<String, String>,
    /// Per leaf, the leaves citing it.
    cited_by: std::collections::HashMap<u64, Vec<u64>>,
}

impl LedgerIndex {
    /// Leaves indexed.
    pub fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// Indexes the leaves `store` holds beyond those indexed.
    pub fn catch_up(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        let size = store.ledger_size()?;
        let from = self.size();
        if self.by_kind.is_empty() {
            self.by_kind = vec![Vec::new(); KINDS.len()];
        }
        store.for_each_ledger_entry(from, size, &mut |e| {
            self.add(&e);
            Ok(())
        })
    }

    fn add(&mut self, e: &LedgerEntry) {
        let kind = e.record.evidence.kind();
        let k = KINDS.iter().position(|x| *x == kind).expect("a known kind");
        self.leaves.push((k as u8, e.record.t_ns));
        self.by_kind[k].push(e.leaf_index);
        for c in &e.record.cites {
            self.cited_by.entry(c.leaf_index).or_default().push(e.leaf_index);
        }
        match &e.record.evidence {
            Evidence::NcProgram(p) => self.programs.push(ProgramVersion {
                leaf: e.leaf_index,
                t_ns: e.record.t_ns,
                name: p.name.clone(),
                version: p.version,
                sha256: hex::encode(p.sha256),
                parent_version: p.parent_version,
                what_changed: p.what_changed.clone(),
                why: p.why.clone(),
            }),
            Evidence::ControlParameterChange(c) => {
                self.parameters
                    .insert((c.loop_name.clone(), c.parameter.clone()), e.leaf_index);
            }
            Evidence::ControlAction(a) => {
                if let (Some(name), Some(version)) = (
                    a.command.get("release_program").and_then(|v| v.as_str()),
                    a.command.get("version").and_then(|v| v.as_u64()),
                ) {
                    self.releases
                        .insert((name.to_string(), version as u32), e.leaf_index);
                    self.released_to.insert(name.to_string(), a.machine.clone());
                }
                self.actions
                    .entry((a.loop_name.clone(), a.machine.clone()))
                    .or_default()
                    .push(e.leaf_index);
            }
            Evidence::UserAction(u) => {
                if u.action == "reject_proposal" {
                    if let (Some(name), Some(version)) = (
                        u.detail.get("program").and_then(|v| v.as_str()),
                        u.detail.get("version").and_then(|v| v.as_u64()),
                    ) {
                        self.rejections
                            .insert((name.to_string(), version as u32), e.leaf_index);
                    }
                }
            }
            _ => {}
        }
    }

    /// Leaves of kind `kind` (a `KINDS` name), in order; `None` for an unknown kind.
    pub fn of_kind(&self, kind: &str) -> Option<&[u64]> {
        let k = KINDS.iter().position(|x| *x == kind)?;
        Some(self.by_kind.get(k).map(Vec::as_slice).unwrap_or(&[]))
    }

    /// The kind and time of leaf `index`.
    pub fn leaf(&self, index: u64) -> Option<(&'static str, i64)> {
        self.leaves
            .get(index as usize)
            .map(|(k, t)| (KINDS[*k as usize], *t))
    }

    /// The latest `limit` leaves citing leaf `index`, newest first.
    pub fn cited_by(&self, index: u64, limit: usize) -> Vec<u64> {
        self.cited_by
            .get(&index)
            .map(|v| v.iter().rev().take(limit).copied().collect())
            .unwrap_or_default()
    }

    /// The latest version of program `name`.
    pub fn latest_program(&self, name: &str) -> Option<&ProgramVersion> {
        self.programs.iter().rev().find(|p| p.name == name)
    }
}
