//! Integration tests of the evidence ledger in the store, each run on both backends (a SQLite
//! file and a schema on a real PostgreSQL server, see `support`): leaf indices and roots against
//! an independently built Merkle tree, proofs, citation checks, sensor-segment records, reopening,
//! concurrent writers, tampered and missing stored leaves, checkpoints, a failed commit,
//! durability of acknowledged appends across a SIGKILLed writer process, and the same ledger root
//! on both backends for the same input. Migration of a SQLite version 1 file is tested at the end.

mod support;

use aimm_ledger::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use aimm_ledger::record::{ControlAction, SensorSegment};
use aimm_ledger::{Citation, Evidence, Hash, MerkleTree, Origin, ProofError, Record};
use aimm_model::{MachineId, SignalKind, SignalSeries};
use aimm_store::segment_codec::encode_segment;
use aimm_store::{SqliteStore, Store, StoreError, SCHEMA_VERSION};
use sha2::Digest as _;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::{Backend, TestDb};

on_both_backends!(
    appends_get_consecutive_indices_and_the_root_of_an_independent_tree,
    proofs_from_the_store_verify,
    bad_citations_reject_the_whole_batch_and_write_nothing,
    sealed_segments_append_their_sensor_segment_records,
    reopening_rebuilds_the_same_tree,
    a_second_connection_sees_appends_of_the_first,
    concurrent_writers_get_distinct_leaves_and_one_tree,
    a_failed_commit_leaves_neither_database_nor_tree_ahead,
    a_gap_in_the_stored_leaves_is_reported_not_hashed_over,
    tampered_record_bytes_are_reported,
    checkpoints_are_kept_one_per_size_in_order,
    acknowledged_records_survive_sigkill,
);

/// A control action record number `k`, citing `cites`.
fn action(k: u64, cites: Vec<Citation>) -> Record {
    Record::new(
        1_767_592_800_000_000_000 + k as i64,
        Evidence::ControlAction(ControlAction {
            loop_name: "feed".into(),
            machine: "mill-1".into(),
            command: serde_json::json!({ "feed_override_pct": 50 + k % 70 }),
            inputs: serde_json::json!({ "spindle_load_pct": k as f64 / 7.0, "k": k }),
        }),
        cites,
    )
}

fn cite(record: &Record, index: u64) -> Citation {
    record.cite(index).unwrap()
}

/// All stored leaf hashes, read back through the store's entries.
fn stored_leaf_hashes(store: &dyn Store) -> Vec<Hash> {
    let size = store.ledger_size().unwrap();
    let mut out = Vec::new();
    store
        .for_each_ledger_entry(0, size, &mut |e| {
            assert_eq!(e.leaf_hash, leaf_hash(&e.bytes), "leaf {}", e.leaf_index);
            out.push(e.leaf_hash);
            Ok(())
        })
        .unwrap();
    out
}

fn series(signal: SignalKind, t0: i64, n: usize) -> SignalSeries {
    let mut s = SignalSeries::new(MachineId::new("mill-1"), signal);
    for i in 0..n {
        s.push(t0 + i as i64 * 1_000, i as f64 * 0.5);
    }
    s
}

fn appends_get_consecutive_indices_and_the_root_of_an_independent_tree(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    assert_eq!(store.ledger_size().unwrap(), 0);
    assert_eq!(
        store.ledger_root(0).unwrap(),
        MerkleTree::new().root(),
        "empty log"
    );
    let mut all: Vec<Record> = Vec::new();
    // A small batch (prepared on the caller's thread) then a big one (prepared in parallel),
    // citing within the batch and back into the log.
    for n in [3u64, 2_001] {
        let first = all.len() as u64;
        let mut batch: Vec<Record> = Vec::new();
        for k in 0..n {
            let mut cites = Vec::new();
            if k > 0 {
                cites.push(cite(&batch[k as usize - 1], first + k - 1));
            }
            if first > 0 {
                cites.push(cite(&all[0], 0));
            }
            batch.push(action(first + k, cites));
        }
        let appended = store.append_records(&batch).unwrap();
        assert_eq!(appended.len(), batch.len());
        for (i, (a, r)) in appended.iter().zip(&batch).enumerate() {
            assert_eq!(a.leaf_index, first + i as u64);
            assert_eq!(a.leaf_hash, r.leaf_hash().unwrap());
        }
        all.extend(batch);
    }
    let expected = MerkleTree::from_leaf_hashes(all.iter().map(|r| r.leaf_hash().unwrap()));
    let size = store.ledger_size().unwrap();
    assert_eq!(size, all.len() as u64);
    for n in [0, 1, 2, 3, 4, 1_000, size - 1, size] {
        assert_eq!(
            store.ledger_root(n).unwrap(),
            expected.root_at(n).unwrap(),
            "size {n}"
        );
    }
    // Entries hold the exact canonical bytes and the record they decode to.
    let entry = store.ledger_record(1_500).unwrap();
    assert_eq!(entry.leaf_index, 1_500);
    assert_eq!(entry.bytes, all[1_500].to_canonical_bytes().unwrap());
    // Compared with the decoded canonical form: RFC 8785 writes numbers as doubles, so a t_ns
    // beyond 2^53 comes back rounded (a property of the record encoding, not of the store).
    let canonical = |r: &Record| Record::from_canonical_bytes(&r.to_canonical_bytes().unwrap());
    assert_eq!(entry.record, canonical(&all[1_500]).unwrap());
    let range = store.ledger_entries(2, 6).unwrap();
    assert_eq!(
        range.iter().map(|e| e.leaf_index).collect::<Vec<_>>(),
        [2, 3, 4, 5]
    );
    assert_eq!(range[1].record, canonical(&all[3]).unwrap());
    // Ranges beyond the log are refused, naming the operation.
    let err = store.ledger_record(size).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::LedgerRange {
                op: "ledger_record",
                source: ProofError::IndexOutOfRange { .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(store.ledger_entries(0, size + 1).is_err());
    assert!(store.ledger_root(size + 1).is_err());
}

fn proofs_from_the_store_verify(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let records: Vec<Record> = (0..37).map(|k| action(k, vec![])).collect();
    let leaves: Vec<Hash> = store
        .append_records(&records)
        .unwrap()
        .iter()
        .map(|a| a.leaf_hash)
        .collect();
    for size in 1..=37u64 {
        let root = store.ledger_root(size).unwrap();
        for index in 0..size {
            let proof = store.inclusion_proof(index, size).unwrap();
            verify_inclusion(&leaves[index as usize], index, size, &proof, &root).unwrap();
            // The proof is specific to its leaf.
            let other = leaves[(index as usize + 1) % 37];
            assert!(verify_inclusion(&other, index, size, &proof, &root).is_err());
        }
        for first in 1..=size {
            let proof = store.consistency_proof(first, size).unwrap();
            let first_root = store.ledger_root(first).unwrap();
            verify_consistency(first, size, &proof, &first_root, &root).unwrap();
        }
    }
    assert!(store.inclusion_proof(37, 37).is_err());
    assert!(store.consistency_proof(3, 38).is_err());
}

fn bad_citations_reject_the_whole_batch_and_write_nothing(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let base: Vec<Record> = (0..4).map(|k| action(k, vec![])).collect();
    store.append_records(&base).unwrap();
    let root = store.ledger_root(4).unwrap();

    let good = action(10, vec![cite(&base[1], 1)]);
    let mut wrong_hash = cite(&base[2], 2);
    wrong_hash.leaf_hash[0] ^= 1;
    let own_leaf = Citation {
        leaf_index: 6, // the citing record's own index
        leaf_hash: [0; 32],
    };
    let later_in_batch = cite(&good, 7);
    let nonexistent = Citation {
        leaf_index: 1_000,
        leaf_hash: [0; 32],
    };
    for (bad, problem) in [
        (wrong_hash.clone(), "that leaf's hash is"),
        (own_leaf, "not earlier"),
        (later_in_batch, "not earlier"),
        (nonexistent, "no such leaf"),
    ] {
        // Position 2: leaves 4 and 5 are fine, leaf 6 is the culprit, leaf 7 would follow.
        let batch = vec![
            good.clone(),
            good.clone(),
            action(11, vec![bad.clone()]),
            good.clone(),
        ];
        let err = store.append_records(&batch).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, StoreError::BadCitation { position: 2, leaf_index: 6, cited_index, .. }
                if *cited_index == bad.leaf_index),
            "{text}"
        );
        assert!(text.contains(problem), "{text}");
        assert!(text.contains(store.location()), "{text}");
        assert!(text.contains("record 2 of the batch"), "{text}");
        assert!(text.contains(&hex::encode(bad.leaf_hash)), "{text}");
        assert_eq!(store.ledger_size().unwrap(), 4, "{text}");
        assert_eq!(store.ledger_root(4).unwrap(), root);
    }
    // A citation of an earlier record of the same batch is fine.
    let first = action(20, vec![]);
    let second = action(21, vec![cite(&first, 4), cite(&base[0], 0)]);
    let appended = store.append_records(&[first, second]).unwrap();
    assert_eq!(appended[1].leaf_index, 5);
    // Nothing from the refused batches reached the file.
    drop(store);
    let reopened = db.open();
    assert_eq!(reopened.ledger_size().unwrap(), 6);
}

fn sealed_segments_append_their_sensor_segment_records(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    store.append_records(&[action(0, vec![])]).unwrap();
    let input = [
        series(SignalKind::SpindleLoadPct, 5_000, 300),
        SignalSeries::new(MachineId::new("mill-1"), SignalKind::SpindleSpeedRpm),
        series(SignalKind::SpindlePowerKw, 9_000, 200),
    ];
    let metas = store
        .append_segments(None, Origin::SIMULATOR, &input)
        .unwrap();
    assert_eq!(metas.len(), 2, "the empty series is skipped");
    for (meta, leaf) in metas.iter().zip([1u64, 2]) {
        assert_eq!(meta.ledger_index, Some(leaf));
        let entry = store.ledger_record(leaf).unwrap();
        assert_eq!(entry.record.t_ns, meta.t_last_ns);
        assert!(entry.record.cites.is_empty());
        assert_eq!(
            entry.record.evidence,
            Evidence::SensorSegment(SensorSegment {
                machine: "mill-1".into(),
                signal: meta.signal.name().into(),
                t_first_ns: meta.t_first_ns,
                t_last_ns: meta.t_last_ns,
                count: meta.count,
                sha256: meta.sha256,
                origin: Some(Origin::SIMULATOR),
            })
        );
        // The record's digest is the digest of the stored blob.
        let blob = store.segment_blob(meta.id).unwrap();
        assert_eq!(<[u8; 32]>::from(sha2::Sha256::digest(&blob)), meta.sha256);
        // Reads and lookups by digest carry the ledger index.
        assert_eq!(store.verify_segment(meta.id).unwrap(), *meta);
        assert_eq!(
            store.segment_by_digest(&meta.sha256).unwrap().as_ref(),
            Some(meta)
        );
        let listed = store
            .segments(&meta.machine, meta.signal, i64::MIN, i64::MAX)
            .unwrap();
        assert_eq!(listed, std::slice::from_ref(meta));
    }
    assert_eq!(store.segment_by_digest(&[9; 32]).unwrap(), None);
    // The tree, already loaded, followed the segment appends.
    let expected = MerkleTree::from_leaf_hashes(stored_leaf_hashes(&*store));
    assert_eq!(store.ledger_root(3).unwrap(), expected.root());
    // A refused segment batch appends no record either.
    let mut bad = series(SignalKind::SpindleSpeedRpm, 0, 10);
    bad.t_ns.swap(2, 3);
    assert!(store
        .append_segments(
            None,
            Origin::SIMULATOR,
            &[series(SignalKind::SpindleSpeedRpm, 0, 10), bad]
        )
        .is_err());
    assert_eq!(store.ledger_size().unwrap(), 3);
}

fn reopening_rebuilds_the_same_tree(backend: Backend) {
    let db = TestDb::new(backend);
    let (root, leaves) = {
        let mut store = db.open();
        let records: Vec<Record> = (0..300).map(|k| action(k, vec![])).collect();
        let leaves = store.append_records(&records).unwrap();
        store
            .append_segments(
                None,
                Origin::SIMULATOR,
                &[series(SignalKind::SpindleLoadPct, 0, 50)],
            )
            .unwrap();
        (store.ledger_root(301).unwrap(), leaves)
    };
    let store = db.open();
    assert_eq!(store.ledger_size().unwrap(), 301);
    assert_eq!(store.ledger_root(301).unwrap(), root);
    let proof = store.inclusion_proof(123, 301).unwrap();
    verify_inclusion(&leaves[123].leaf_hash, 123, 301, &proof, &root).unwrap();
    assert_eq!(
        MerkleTree::from_leaf_hashes(stored_leaf_hashes(&*store)).root(),
        root
    );
}

fn a_second_connection_sees_appends_of_the_first(backend: Backend) {
    let db = TestDb::new(backend);
    let mut writer = db.open();
    let mut other = db.open();
    writer.append_records(&[action(0, vec![])]).unwrap();
    assert_eq!(
        other.ledger_root(1).unwrap(),
        writer.ledger_root(1).unwrap()
    );
    // Both append; each store's tree follows the other's leaves.
    writer.append_records(&[action(1, vec![])]).unwrap();
    let a = other.append_records(&[action(2, vec![])]).unwrap();
    assert_eq!(a[0].leaf_index, 2);
    writer.append_records(&[action(3, vec![])]).unwrap();
    let expected =
        MerkleTree::from_leaf_hashes((0..4).map(|k| action(k, vec![]).leaf_hash().unwrap()));
    assert_eq!(writer.ledger_root(4).unwrap(), expected.root());
    assert_eq!(other.ledger_root(4).unwrap(), expected.root());
}

fn concurrent_writers_get_distinct_leaves_and_one_tree(backend: Backend) {
    let db = TestDb::new(backend);
    db.open(); // create the schema before the writers race to
    let writers: Vec<_> = (0..2i64)
        .map(|w| {
            let location = db.location.clone();
            std::thread::spawn(move || {
                let mut store = aimm_store::open(&location).unwrap();
                let mut appended = Vec::new();
                let mut sealed = Vec::new();
                for b in 0..20i64 {
                    let t0 = (w * 20 + b) * 1_000_000;
                    sealed.extend(
                        store
                            .append_segments(
                                None,
                                Origin::SIMULATOR,
                                &[series(SignalKind::SpindleLoadPct, t0, 10)],
                            )
                            .unwrap(),
                    );
                    let batch: Vec<Record> = (0..50)
                        .map(|k| action((w * 20 + b) as u64 * 50 + k, vec![]))
                        .collect();
                    appended.extend(store.append_records(&batch).unwrap());
                }
                (appended, sealed)
            })
        })
        .collect();
    let results: Vec<_> = writers.into_iter().map(|h| h.join().unwrap()).collect();
    let store = db.open();
    let size = store.ledger_size().unwrap();
    assert_eq!(size, 2 * 20 * 51);
    let leaves = stored_leaf_hashes(&*store);
    let mut seen = std::collections::BTreeSet::new();
    for (appended, sealed) in &results {
        for a in appended {
            assert!(
                seen.insert(a.leaf_index),
                "leaf {} given twice",
                a.leaf_index
            );
            assert_eq!(leaves[a.leaf_index as usize], a.leaf_hash);
        }
        for meta in sealed {
            let leaf = meta.ledger_index.unwrap();
            assert!(seen.insert(leaf), "leaf {leaf} given twice");
            match store.ledger_record(leaf).unwrap().record.evidence {
                Evidence::SensorSegment(s) => assert_eq!(s.sha256, meta.sha256),
                other => panic!("leaf {leaf} of segment {} is {other:?}", meta.id),
            }
        }
    }
    let root = MerkleTree::from_leaf_hashes(leaves).root();
    assert_eq!(store.ledger_root(size).unwrap(), root);
}

fn a_failed_commit_leaves_neither_database_nor_tree_ahead(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    store.append_records(&[action(0, vec![])]).unwrap();
    store.ledger_root(1).unwrap(); // load the tree
                                   // A deferred foreign key violated by any new leaf makes COMMIT itself fail.
    let guard = "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE guard (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);";
    let (arm, disarm) = match backend {
        Backend::Sqlite => (
            "CREATE TRIGGER fail_commit AFTER INSERT ON ledger_leaves
             BEGIN INSERT INTO guard (p) VALUES (42); END;",
            "DROP TRIGGER fail_commit",
        ),
        Backend::Postgres => (
            "CREATE FUNCTION fail_commit() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN INSERT INTO guard (p) VALUES (42); RETURN NULL; END $$;
             CREATE TRIGGER fail_commit AFTER INSERT ON ledger_leaves
               FOR EACH ROW EXECUTE FUNCTION fail_commit();",
            "DROP TRIGGER fail_commit ON ledger_leaves",
        ),
    };
    db.exec(&format!("{guard}\n{arm}"));
    let err = store
        .append_records(&[action(1, vec![]), action(2, vec![])])
        .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("foreign key"),
        "{err}"
    );
    db.exec(disarm);
    assert_eq!(store.ledger_size().unwrap(), 1);
    let appended = store
        .append_records(&[action(3, vec![]), action(4, vec![])])
        .unwrap();
    assert_eq!(appended[0].leaf_index, 1);
    let expected =
        MerkleTree::from_leaf_hashes([0, 3, 4].map(|k| action(k, vec![]).leaf_hash().unwrap()));
    assert_eq!(store.ledger_root(3).unwrap(), expected.root());
}

fn a_gap_in_the_stored_leaves_is_reported_not_hashed_over(backend: Backend) {
    let db = TestDb::new(backend);
    db.open()
        .append_records(&(0..5).map(|k| action(k, vec![])).collect::<Vec<_>>())
        .unwrap();
    db.exec("DELETE FROM ledger_leaves WHERE leaf_index = 2");
    // Reopened, the tree is rebuilt from the stored hashes.
    let store = db.open();
    let err = store.ledger_root(5).unwrap_err().to_string();
    assert!(err.contains("ledger_leaves row 2: missing"), "{err}");
    let err = store.ledger_entries(0, 5).unwrap_err().to_string();
    assert!(err.contains("ledger_leaves row 2: missing"), "{err}");
}

fn tampered_record_bytes_are_reported(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let records: Vec<Record> = (0..3).map(|k| action(k, vec![])).collect();
    store.append_records(&records).unwrap();
    let bytes = store.ledger_record(0).unwrap().bytes;
    let tampered = String::from_utf8(bytes)
        .unwrap()
        .replace("\"feed\"", "\"fake\"");
    db.exec(&format!(
        "UPDATE ledger_leaves SET record = {} WHERE leaf_index = 0",
        db.blob_literal(tampered.as_bytes())
    ));
    let err = store.ledger_record(0).unwrap_err().to_string();
    assert!(
        err.contains("ledger_leaves row 0: record bytes hash to"),
        "{err}"
    );
    assert_eq!(
        store.ledger_record(1).unwrap().bytes,
        records[1].to_canonical_bytes().unwrap()
    );
}

fn checkpoints_are_kept_one_per_size_in_order(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    assert_eq!(store.latest_checkpoint().unwrap(), None);
    store
        .append_records(&(0..5).map(|k| action(k, vec![])).collect::<Vec<_>>())
        .unwrap();
    for size in [3u64, 5, 0] {
        store
            .put_checkpoint(size, &format!("aimm.example/log\n{size}\n"))
            .unwrap();
    }
    // Storing the same note again is harmless; another note for a stored size is refused.
    store.put_checkpoint(3, "aimm.example/log\n3\n").unwrap();
    let err = store.put_checkpoint(3, "forged\n").unwrap_err();
    assert!(
        matches!(err, StoreError::CheckpointConflict { size: 3, .. }),
        "{err}"
    );
    let err = store.put_checkpoint(6, "too far\n").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::CheckpointBeyondLedger {
                size: 6,
                ledger_size: 5,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains(store.location()), "{err}");
    let stored = store.checkpoints().unwrap();
    assert_eq!(stored.iter().map(|c| c.size).collect::<Vec<_>>(), [0, 3, 5]);
    assert_eq!(stored[1].note, "aimm.example/log\n3\n");
    assert!(stored.iter().all(|c| c.t_ns > 1_700_000_000_000_000_000));
    assert_eq!(store.latest_checkpoint().unwrap().as_ref(), stored.last());
}

/// Environment switch that turns `ledger_child_writer` into the writer process.
const CHILD_DB_ENV: &str = "AIMM_STORE_LEDGER_CHILD_DB";

/// Not a test on its own: when the parent test re-executes this binary with `CHILD_DB_ENV` set,
/// this appends batches of records in a loop (each citing the previous batch's last record) and
/// prints `ACK <leaf index> <leaf hash>` for each batch's last record after the call returns.
#[test]
fn ledger_child_writer() {
    let Ok(location) = std::env::var(CHILD_DB_ENV) else {
        return;
    };
    let mut store = aimm_store::open(&location).unwrap();
    let mut last: Option<Citation> = None;
    for b in 0u64.. {
        let batch: Vec<Record> = (0..500)
            .map(|k| action(b * 500 + k, last.iter().cloned().collect()))
            .collect();
        let appended = store.append_records(&batch).unwrap();
        let tail = appended.last().unwrap();
        println!("ACK {} {}", tail.leaf_index, hex::encode(tail.leaf_hash));
        last = Some(Citation {
            leaf_index: tail.leaf_index,
            leaf_hash: tail.leaf_hash,
        });
    }
}

fn acknowledged_records_survive_sigkill(backend: Backend) {
    let db = TestDb::new(backend);
    db.open(); // create the schema before the child races to
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ledger_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB_ENV, &db.location)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked: Vec<(u64, Hash)> = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acked.len() < 30 {
        let line = lines.next().expect("writer ended early").unwrap();
        if let Some(rest) = line.strip_prefix("ACK ") {
            let (index, hash) = rest.split_once(' ').unwrap();
            let mut leaf = [0u8; 32];
            hex::decode_to_slice(hash, &mut leaf).unwrap();
            acked.push((index.parse().unwrap(), leaf));
        }
    }
    child.kill().unwrap(); // SIGKILL, mid-append in all likelihood
    child.wait().unwrap();

    let store = db.open();
    let size = store.ledger_size().unwrap();
    let (last_index, _) = *acked.last().unwrap();
    assert!(
        size > last_index,
        "size {size}, last acknowledged leaf {last_index}"
    );
    // Whole batches only: the writer appends 500 at a time.
    assert!(size.is_multiple_of(500), "size {size}");
    let leaves = stored_leaf_hashes(&*store);
    let root = MerkleTree::from_leaf_hashes(leaves.iter().copied()).root();
    assert_eq!(store.ledger_root(size).unwrap(), root);
    for (index, hash) in &acked {
        assert_eq!(&leaves[*index as usize], hash, "leaf {index}");
        let proof = store.inclusion_proof(*index, size).unwrap();
        verify_inclusion(hash, *index, size, &proof, &root).unwrap();
    }
}

/// Schema version 1, as the first release created it.
const V1_SCHEMA: &str = r#"
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE machines (id TEXT PRIMARY KEY, spec_json TEXT NOT NULL);
CREATE TABLE tools (
    machine TEXT NOT NULL REFERENCES machines(id), number INTEGER NOT NULL,
    spec_json TEXT NOT NULL, PRIMARY KEY (machine, number)
);
CREATE TABLE programs (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 BLOB NOT NULL UNIQUE, content TEXT NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, machine TEXT NOT NULL, program_id INTEGER REFERENCES programs(id),
    material TEXT NOT NULL, seed INTEGER NOT NULL, t_start_ns INTEGER NOT NULL, t_end_ns INTEGER,
    params_json TEXT NOT NULL, result_json TEXT
);
CREATE INDEX runs_by_machine ON runs (machine, id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY, run INTEGER REFERENCES runs(id), machine TEXT NOT NULL,
    t_ns INTEGER NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL, line INTEGER
);
CREATE INDEX events_by_time ON events (machine, t_ns);
CREATE TABLE segments (
    id INTEGER PRIMARY KEY, run INTEGER REFERENCES runs(id), machine TEXT NOT NULL,
    signal TEXT NOT NULL, t_first_ns INTEGER NOT NULL, t_last_ns INTEGER NOT NULL,
    count INTEGER NOT NULL, bytes INTEGER NOT NULL, sha256 BLOB NOT NULL, blob BLOB NOT NULL
);
CREATE INDEX segments_by_range ON segments (machine, signal, t_first_ns, t_last_ns);
"#;

#[test]
fn a_version_1_file_migrates_and_keeps_its_segments() {
    let db = TestDb::new(Backend::Sqlite);
    let path = &db.location;
    let old = series(SignalKind::SpindleLoadPct, 100, 64);
    let blob = encode_segment(&old).unwrap();
    let digest: [u8; 32] = sha2::Sha256::digest(&blob).into();
    {
        let raw = rusqlite::Connection::open(path).unwrap();
        raw.execute_batch(V1_SCHEMA).unwrap();
        raw.execute(
            "INSERT INTO segments (machine, signal, t_first_ns, t_last_ns, count, bytes, sha256, blob)
             VALUES ('mill-1', 'spindle_load_pct', 100, ?1, 64, ?2, ?3, ?4)",
            rusqlite::params![old.t_ns[63], blob.len() as i64, &digest[..], &blob],
        )
        .unwrap();
    }
    let mut store = SqliteStore::open(path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let meta = store.segment_by_digest(&digest).unwrap().unwrap();
    assert_eq!(meta.ledger_index, None, "sealed before the ledger existed");
    assert_eq!(store.verify_segment(meta.id).unwrap(), meta);
    assert_eq!(
        store
            .read_samples(&meta.machine, meta.signal, i64::MIN, i64::MAX)
            .unwrap(),
        old
    );
    // Sealed without an overview: downsampled reads decode it.
    let few = store
        .read_downsampled(&meta.machine, meta.signal, 100, 63_200, 2)
        .unwrap();
    assert_eq!((few.samples, few.points.len()), (64, 2));
    assert_eq!(few.points.iter().map(|p| p.count).sum::<u64>(), 64);
    assert_eq!(store.ledger_size().unwrap(), 0);
    let new = store
        .append_segments(
            None,
            Origin::SIMULATOR,
            &[series(SignalKind::SpindleLoadPct, 1_000_000, 8)],
        )
        .unwrap();
    assert_eq!(new[0].ledger_index, Some(0));
    store.append_records(&[action(0, vec![])]).unwrap();
    drop(store);
    assert_eq!(SqliteStore::open(path).unwrap().ledger_size().unwrap(), 2);
}

/// The same seal and the same records give the same blobs, digests and ledger root on both
/// backends.
#[test]
fn both_backends_store_the_same_bytes_and_root() {
    let stores: Vec<(TestDb, Box<dyn Store>)> = [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .map(|b| {
            let db = TestDb::new(b);
            let mut store = db.open();
            store.append_records(&[action(0, vec![])]).unwrap();
            store
                .append_segments(
                    None,
                    Origin::SIMULATOR,
                    &[
                        series(SignalKind::SpindleLoadPct, 0, 700),
                        series(SignalKind::SpindlePowerKw, 50, 300),
                    ],
                )
                .unwrap();
            (db, store)
        })
        .collect();
    let (sqlite, pg) = (&stores[0].1, &stores[1].1);
    assert_eq!(pg.ledger_size().unwrap(), 3);
    assert_eq!(pg.ledger_root(3).unwrap(), sqlite.ledger_root(3).unwrap());
    for signal in [SignalKind::SpindleLoadPct, SignalKind::SpindlePowerKw] {
        let machine = MachineId::new("mill-1");
        let a = sqlite
            .segments(&machine, signal, i64::MIN, i64::MAX)
            .unwrap();
        let b = pg.segments(&machine, signal, i64::MIN, i64::MAX).unwrap();
        assert_eq!(a[0].sha256, b[0].sha256);
        assert_eq!(
            sqlite.segment_blob(a[0].id).unwrap(),
            pg.segment_blob(b[0].id).unwrap()
        );
    }
}
