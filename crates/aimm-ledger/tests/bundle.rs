//! Bundle export and offline verification: a small bundle verifies, and every single-byte flip
//! of every file, every record deletion, swap or duplication, a foreign signature, an extra file
//! or a wrong segment makes it fail.

use aimm_ledger::bundle::{verify_bundle, write_bundle, BundleContents, BundleError, VerifyReport};
use aimm_ledger::checkpoint::{sign_checkpoint, Checkpoint};
use aimm_ledger::merkle::{Hash, MerkleTree};
use aimm_ledger::note::Signer;
use aimm_ledger::record::{
    ControlAction, ControlParameterChange, Evidence, ModelTraining, NcProgram, Record,
    SensorSegment, ValidationReport,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const ORIGIN: &str = "aimm.example/plant-1";

fn segment(machine: &str, blob: &[u8]) -> Evidence {
    Evidence::SensorSegment(SensorSegment {
        machine: machine.into(),
        signal: "spindle_load_pct".into(),
        t_first_ns: 1_000,
        t_last_ns: 2_000,
        count: 3,
        sha256: Sha256::digest(blob).into(),
        origin: None,
    })
}

/// Twelve records of every kind, citing earlier ones.
fn records(blobs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Record> = Vec::new();
    let cite = |out: &Vec<Record>, i: usize| out[i].cite(i as u64).unwrap();
    out.push(Record::new(1, segment("mill-1", &blobs[0]), vec![]));
    out.push(Record::new(2, segment("mill-2", &blobs[1]), vec![]));
    let program = |version: u32, parent: Option<u32>| {
        Evidence::NcProgram(NcProgram {
            name: "O1000".into(),
            version,
            sha256: [version as u8; 32],
            parent_version: parent,
            what_changed: "feed".into(),
            why: "wear".into(),
        })
    };
    out.push(Record::new(3, program(1, None), vec![]));
    let training = Evidence::ModelTraining(ModelTraining {
        model_kind: "wear".into(),
        version: 1,
        dataset_digests: vec![hex::encode([1u8; 32])],
        features: vec!["load".into()],
        hyper_parameters: json!({"alpha": 0.5}).as_object().unwrap().clone(),
        code_version: "0.1.0".into(),
        seed: 7,
        metrics: json!({"mae_um": 3.25}).as_object().unwrap().clone(),
        artifact_sha256: [2; 32],
    });
    let c = vec![cite(&out, 0), cite(&out, 1)];
    out.push(Record::new(4, training, c));
    let change = Evidence::ControlParameterChange(ControlParameterChange {
        loop_name: "feed".into(),
        parameter: "target_load_pct".into(),
        old: json!(80),
        new: json!(75),
        bounds: json!([50, 95]),
        actor: "engineer".into(),
        role: None,
    });
    let c = vec![cite(&out, 3)];
    out.push(Record::new(5, change, c));
    for t in 6..=10 {
        let action = Evidence::ControlAction(ControlAction {
            loop_name: "feed".into(),
            machine: "mill-1".into(),
            command: json!({"feed_override_pct": 80 + t}),
            inputs: json!({"load_pct": 91.5}),
        });
        let c = vec![cite(&out, 0), cite(&out, out.len() - 1)];
        out.push(Record::new(t, action, c));
    }
    let c = vec![cite(&out, 2)];
    out.push(Record::new(11, program(2, Some(1)), c));
    let report = Evidence::ValidationReport(ValidationReport {
        loop_name: "feed".into(),
        test: "overload".into(),
        passed: true,
        figures: json!({"reaction_ms": 120}).as_object().unwrap().clone(),
        summary: "ok ✓".into(),
    });
    let c = vec![cite(&out, 5), cite(&out, 9), cite(&out, 10)];
    out.push(Record::new(12, report, c));
    assert_eq!(out.len(), 12);
    out.iter()
        .map(|r| r.to_canonical_bytes().unwrap())
        .collect()
}

fn checkpoint(tree: &MerkleTree, size: u64) -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: tree.root_at(size).unwrap(),
        extensions: vec![],
    }
}

/// Contents of a 12-record bundle with two segments and one history checkpoint (size 5).
fn contents(signer: &Signer) -> BundleContents {
    let blobs = vec![b"segment one bytes".to_vec(), b"segment two".to_vec()];
    let records = records(&blobs);
    let tree =
        MerkleTree::from_leaf_hashes(records.iter().map(|r| aimm_ledger::merkle::leaf_hash(r)));
    let n = tree.size();
    BundleContents {
        checkpoint_note: sign_checkpoint(&checkpoint(&tree, n), signer).unwrap(),
        verifier: signer.verifier(),
        history: vec![(
            sign_checkpoint(&checkpoint(&tree, 5), signer).unwrap(),
            tree.consistency_proof(5, n).unwrap(),
        )],
        segments: blobs
            .into_iter()
            .map(|b| (<Hash>::from(Sha256::digest(&b)), b))
            .collect(),
        records,
    }
}

fn signer() -> Signer {
    Signer::from_seed("plant-1", [42; 32]).unwrap()
}

fn write(dir: &Path) -> PathBuf {
    let path = dir.join("bundle");
    write_bundle(&path, &contents(&signer())).unwrap();
    path
}

fn assert_fails(report: &VerifyReport, what: &str) {
    assert!(!report.is_ok(), "{what}: verification passed: {report:#?}");
    assert!(report.first_failure.is_some(), "{what}");
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn a_written_bundle_verifies_with_and_without_a_trusted_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write(tmp.path());
    let report = verify_bundle(&dir, None);
    assert!(report.is_ok(), "{report:#?}");
    assert_eq!((report.records, report.segments), (12, 2));
    assert!(!report.key_trusted);
    assert_eq!(report.checks.len(), 8);
    assert!(report.checks[0].detail.contains("taken from the bundle"));
    let trusted = verify_bundle(&dir, Some(&signer().verifier()));
    assert!(trusted.is_ok() && trusted.key_trusted, "{trusted:#?}");
    let json = serde_json::to_value(&trusted).unwrap();
    assert_eq!(json["checks"][2]["name"], "records");
    // The files hold what the module documentation says.
    let records = std::fs::read_to_string(dir.join("records")).unwrap();
    assert!(records.starts_with("0 {\"cites\":[],"));
    assert_eq!(records.lines().count(), 12);
    let history = std::fs::read_to_string(dir.join("history")).unwrap();
    assert!(history.starts_with("size 5\nnote "), "{history}");
    assert!(history.ends_with('\n') && history.contains("\nproof "));
}

#[test]
fn every_single_byte_flip_in_every_file_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write(tmp.path());
    let mut flips = 0;
    for file in files(&dir) {
        let original = std::fs::read(&file).unwrap();
        for offset in 0..original.len() {
            for mask in [0x01u8, 0x80] {
                let mut bytes = original.clone();
                bytes[offset] ^= mask;
                std::fs::write(&file, &bytes).unwrap();
                let report = verify_bundle(&dir, None);
                assert_fails(
                    &report,
                    &format!("{} byte {offset} ^ {mask:#x}", file.display()),
                );
                flips += 1;
            }
        }
        std::fs::write(&file, &original).unwrap();
    }
    assert!(verify_bundle(&dir, None).is_ok());
    // Every byte of all six files (about 4.8 kB), two flips each.
    assert!(flips > 9_000, "{flips}");
}

fn edit_records(dir: &Path, edit: impl FnOnce(&mut Vec<String>)) {
    let path = dir.join("records");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    edit(&mut lines);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn deleting_swapping_or_duplicating_records_fails_and_names_the_leaf() {
    let tmp = tempfile::tempdir().unwrap();
    type Edit = Box<dyn FnOnce(&mut Vec<String>)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("delete last", Box::new(|l| drop(l.pop()))),
        ("delete middle", Box::new(|l| drop(l.remove(4)))),
        ("swap", Box::new(|l| l.swap(2, 3))),
        ("duplicate", Box::new(|l| l.insert(5, l[4].clone()))),
        ("duplicate last", Box::new(|l| l.push(l[11].clone()))),
        // Renumbering keeps indices in order but moves every later leaf.
        (
            "delete and renumber",
            Box::new(|l| {
                l.remove(6);
                for (i, line) in l.iter_mut().enumerate() {
                    let (_, rest) = line.split_once(' ').unwrap();
                    *line = format!("{i} {rest}");
                }
            }),
        ),
    ];
    for (i, (what, edit)) in edits.into_iter().enumerate() {
        let dir = write(&tmp.path().join(i.to_string()));
        edit_records(&dir, edit);
        assert_fails(&verify_bundle(&dir, None), what);
    }
    let dir = write(&tmp.path().join("swap-report"));
    edit_records(&dir, |l| l.swap(2, 3));
    let report = verify_bundle(&dir, None);
    let first = report.first_failure.unwrap();
    assert!(first.contains("records line 3 (leaf 2)"), "{first}");
}

#[test]
fn a_checkpoint_signed_by_another_key_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write(tmp.path());
    let other = Signer::from_seed("plant-1", [7; 32]).unwrap();
    let c = contents(&other);
    std::fs::write(dir.join("checkpoint"), &c.checkpoint_note).unwrap();
    assert_fails(&verify_bundle(&dir, None), "own verifier.key");
    assert_fails(
        &verify_bundle(&dir, Some(&signer().verifier())),
        "trusted key",
    );
    // Swapping verifier.key too makes the bundle self-consistent at the top, but the history
    // checkpoint still carries the original signature, and a trusted key catches the swap.
    std::fs::write(dir.join("verifier.key"), format!("{}\n", other.verifier())).unwrap();
    assert_fails(&verify_bundle(&dir, None), "history under the old key");
    assert_fails(
        &verify_bundle(&dir, Some(&signer().verifier())),
        "trusted, swapped key",
    );
    // A second signature line (a cosignature, or the same line twice) is not allowed either.
    let dir = write(&tmp.path().join("cosigned"));
    let note = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
    let own_line = note.rsplit_once("\n\n").unwrap().1.to_string();
    let foreign_line = c.checkpoint_note.rsplit_once("\n\n").unwrap().1.to_string();
    for extra in [own_line, foreign_line] {
        std::fs::write(dir.join("checkpoint"), format!("{note}{extra}")).unwrap();
        assert_fails(&verify_bundle(&dir, None), "two signature lines");
    }
    // An intact bundle checked against a different trusted key fails too.
    let dir = write(&tmp.path().join("intact"));
    assert_fails(
        &verify_bundle(&dir, Some(&other.verifier())),
        "untrusted signer",
    );
}

#[test]
fn extra_files_and_wrong_segments_fail_but_missing_segments_are_fine() {
    let tmp = tempfile::tempdir().unwrap();
    let seg_name = |dir: &Path| files(&dir.join("segments"))[0].clone();

    let dir = write(&tmp.path().join("extra"));
    std::fs::write(dir.join("notes.txt"), "hi").unwrap();
    assert_fails(&verify_bundle(&dir, None), "extra file");

    let dir = write(&tmp.path().join("extra-dir"));
    std::fs::create_dir(dir.join("segments").join("sub")).unwrap();
    assert_fails(&verify_bundle(&dir, None), "extra directory");

    let dir = write(&tmp.path().join("missing"));
    std::fs::remove_file(seg_name(&dir)).unwrap();
    let report = verify_bundle(&dir, None);
    assert!(report.is_ok(), "{report:#?}");
    assert_eq!(report.segments, 1);

    let dir = write(&tmp.path().join("wrong"));
    std::fs::write(seg_name(&dir), b"other bytes").unwrap();
    let report = verify_bundle(&dir, None);
    assert_fails(&report, "wrong segment content");
    assert!(report.first_failure.unwrap().starts_with("segments/"));

    // Right digest, but no record names it.
    let dir = write(&tmp.path().join("unreferenced"));
    let blob = b"not in the log";
    std::fs::write(
        dir.join("segments").join(hex::encode(Sha256::digest(blob))),
        blob,
    )
    .unwrap();
    assert_fails(&verify_bundle(&dir, None), "unreferenced segment");

    for required in ["checkpoint", "verifier.key", "records", "history"] {
        let dir = write(&tmp.path().join(format!("no-{required}")));
        std::fs::remove_file(dir.join(required)).unwrap();
        assert_fails(&verify_bundle(&dir, None), required);
    }
}

#[test]
fn write_bundle_refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("x"), "x").unwrap();
    let err = write_bundle(tmp.path(), &contents(&signer())).unwrap_err();
    assert!(matches!(err, BundleError::NotEmpty { .. }), "{err}");
    // An existing empty directory is fine.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    write_bundle(&empty, &contents(&signer())).unwrap();
    assert!(verify_bundle(&empty, None).is_ok());
}
