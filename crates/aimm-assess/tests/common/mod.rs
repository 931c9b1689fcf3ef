//! Helpers the loop-on-the-simulator tests share: a store's ledger as records, the built-in
//! assessment of a store with its signals, one criterion of it.

#![allow(dead_code)] // each test binary uses its own part of these helpers

use aimm_assess::assessment::{assess, Assessment, Judged};
use aimm_assess::catalog::Catalog;
use aimm_assess::measure::LedgerView;
use aimm_assess::signals::{Signals, StoreBlobs};
use aimm_ledger::record::Record;
use aimm_store::{SqliteStore, Store};

/// The store's built-in assessment, with its signals.
pub fn assessed(store: &SqliteStore) -> Assessment {
    let view = LedgerView::new(
        store
            .ledger_entries(0, store.ledger_size().unwrap())
            .unwrap(),
    );
    let blobs = StoreBlobs(store);
    assess(
        &Catalog::builtin(),
        &view,
        Some(&Signals::new(&view, &blobs)),
    )
}

/// Criterion `id` of `a`, of a loop or of the cell.
pub fn criterion<'a>(a: &'a Assessment, id: &str) -> &'a Judged {
    a.loops
        .iter()
        .flat_map(|l| &l.criteria)
        .chain(&a.cell)
        .find(|j| j.id == id)
        .unwrap_or_else(|| panic!("no criterion {id}"))
}

/// Every ledger record of the store, with its leaf index.
pub fn records(store: &SqliteStore) -> Vec<(u64, Record)> {
    store
        .ledger_entries(0, store.ledger_size().unwrap())
        .unwrap()
        .into_iter()
        .map(|e| (e.leaf_index, e.record))
        .collect()
}
