//! Published test vectors (testdata/ledger-vectors, see its SOURCE.md): RFC 6962 hashing, every
//! transparency-dev/merkle inclusion and consistency probe, exhaustive 8-leaf proofs, Go sumdb
//! signed notes and C2SP checkpoints including a real sum.golang.org tree head.

use aimm_ledger::checkpoint::{open_checkpoint, sign_checkpoint, Checkpoint, CheckpointError};
use aimm_ledger::merkle::{
    empty_root, leaf_hash, node_hash_bytes, verify_consistency, verify_inclusion, Hash, MerkleTree,
};
use aimm_ledger::note::{self, NoteError, Signer, Verifier};
use serde_json::Value;
use std::path::PathBuf;

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ledger-vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn hex_bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

/// A 32-byte hash from hex, or None when the vector holds something else (on purpose).
fn hash(v: &Value) -> Option<Hash> {
    hex_bytes(v).try_into().ok()
}

fn hashes(v: &Value) -> Option<Vec<Hash>> {
    v.as_array().unwrap().iter().map(hash).collect()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[test]
fn rfc6962_hasher_vectors_leaf_hashes_subtrees_and_roots() {
    let v = load("merkle_tree_hashes.json");
    let vectors = v["hasher_vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 4);
    for h in vectors {
        let want = hash(&h["want_hex"]).unwrap();
        let got = match s(&h["kind"]) {
            "empty_root" => empty_root(),
            "leaf" => leaf_hash(&hex_bytes(&h["data_hex"])),
            "node" => node_hash_bytes(&hex_bytes(&h["left_hex"]), &hex_bytes(&h["right_hex"])),
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(got, want, "{}", h["desc"]);
    }
    let inputs: Vec<Vec<u8>> = v["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(hex_bytes)
        .collect();
    let leaves: Vec<Hash> = inputs.iter().map(|d| leaf_hash(d)).collect();
    assert_eq!(Some(leaves.clone()), hashes(&v["leaf_hashes_hex"]));
    let tree = MerkleTree::from_leaf_hashes(leaves.iter().copied());
    for (level, nodes) in v["node_hashes_by_level_hex"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (i, node) in nodes.as_array().unwrap().iter().enumerate() {
            let width = 1usize << level;
            let sub = MerkleTree::from_leaf_hashes(leaves[i * width..(i + 1) * width].to_vec());
            assert_eq!(Some(sub.root()), hash(node), "level {level} node {i}");
        }
    }
    let roots = v["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 9);
    for r in roots {
        let size = r["tree_size"].as_u64().unwrap();
        assert_eq!(tree.root_at(size).ok(), hash(&r["root_hex"]), "size {size}");
    }
}

#[test]
fn all_inclusion_probes() {
    let v = load("inclusion_proofs.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 98);
    let mut passed = 0;
    for c in cases {
        // Hashes that are not 32 bytes cannot even be expressed: that is a rejection too.
        let result = match (
            hash(&c["leaf_hash_hex"]),
            hashes(&c["proof_hex"]),
            hash(&c["root_hex"]),
        ) {
            (Some(leaf), Some(proof), Some(root)) => verify_inclusion(
                &leaf,
                c["leaf_index"].as_u64().unwrap(),
                c["tree_size"].as_u64().unwrap(),
                &proof,
                &root,
            )
            .is_ok(),
            _ => false,
        };
        assert_eq!(result, !c["want_error"].as_bool().unwrap(), "{}", c["file"]);
        passed += result as usize;
    }
    assert_eq!(passed, 6);
}

#[test]
fn all_consistency_probes_with_the_lenient_case_rejected_at_parsing() {
    let v = load("consistency_proofs.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 98);
    let mut passed = 0;
    for c in cases {
        let parsed = (
            hash(&c["root1_hex"]),
            hash(&c["root2_hex"]),
            hashes(&c["proof_hex"]),
        );
        if c.get("strictness_note").is_some() {
            // Upstream accepts short "don't care" roots for equal sizes; our [u8; 32] API
            // cannot represent them, so this probe is rejected when parsed. Decided on purpose.
            assert_ne!(hex_bytes(&c["root1_hex"]).len(), 32);
            assert!(parsed.0.is_none() && parsed.1.is_none(), "{}", c["file"]);
            assert!(!c["want_error"].as_bool().unwrap());
            continue;
        }
        let result = match parsed {
            (Some(r1), Some(r2), Some(proof)) => verify_consistency(
                c["size1"].as_u64().unwrap(),
                c["size2"].as_u64().unwrap(),
                &proof,
                &r1,
                &r2,
            )
            .is_ok(),
            _ => false,
        };
        assert_eq!(result, !c["want_error"].as_bool().unwrap(), "{}", c["file"]);
        passed += result as usize;
    }
    assert_eq!(passed, 5, "six good probes, one of them the lenient case");
}

#[test]
fn exhaustive_8_leaf_proofs_verify_and_match_generated_ones() {
    let v = load("merkle_exhaustive_8.json");
    let leaves: Vec<Hash> = v["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| leaf_hash(&hex_bytes(d)))
        .collect();
    let tree = MerkleTree::from_leaf_hashes(leaves.iter().copied());
    let inclusion = v["inclusion"].as_array().unwrap();
    assert_eq!(inclusion.len(), 36);
    for c in inclusion {
        let (i, n) = (
            c["leaf_index"].as_u64().unwrap(),
            c["tree_size"].as_u64().unwrap(),
        );
        let proof = hashes(&c["proof_hex"]).unwrap();
        let root = hash(&c["root_hex"]).unwrap();
        assert_eq!(tree.inclusion_proof(i, n).unwrap(), proof, "{i} in {n}");
        assert_eq!(tree.root_at(n).unwrap(), root);
        verify_inclusion(&hash(&c["leaf_hash_hex"]).unwrap(), i, n, &proof, &root).unwrap();
    }
    let consistency = v["consistency"].as_array().unwrap();
    assert_eq!(consistency.len(), 36);
    for c in consistency {
        let (m, n) = (c["size1"].as_u64().unwrap(), c["size2"].as_u64().unwrap());
        let proof = hashes(&c["proof_hex"]).unwrap();
        assert_eq!(tree.consistency_proof(m, n).unwrap(), proof, "{m} -> {n}");
        let (r1, r2) = (
            hash(&c["root1_hex"]).unwrap(),
            hash(&c["root2_hex"]).unwrap(),
        );
        verify_consistency(m, n, &proof, &r1, &r2).unwrap();
    }
}

fn category(e: &NoteError) -> &'static str {
    match e {
        NoteError::Malformed(_) => "malformed",
        NoteError::NoVerifiableSignatures => "no_verifiable_signatures",
        NoteError::InvalidSignature { .. } => "invalid_signature",
        NoteError::AmbiguousKey { .. } => "ambiguous_key",
        _ => "other",
    }
}

fn verifiers(c: &Value) -> Vec<Verifier> {
    c["verifier_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| Verifier::parse(s(k)).unwrap())
        .collect()
}

#[test]
fn signed_note_keys() {
    let v = load("signed_notes.json");
    for k in v["verifier_keys"].as_array().unwrap() {
        let parsed = Verifier::parse(s(&k["vkey"]));
        assert_eq!(
            parsed.is_ok(),
            k["valid"].as_bool().unwrap(),
            "{}",
            k["vkey"]
        );
        if let Ok(p) = &parsed {
            assert_eq!(p.to_string(), s(&k["vkey"]));
        }
        if let Some(seed) = k.get("private_seed_hex") {
            let seed: [u8; 32] = hex_bytes(seed).try_into().unwrap();
            let signer = Signer::from_seed(parsed.unwrap().name(), seed).unwrap();
            assert_eq!(signer.verifier().to_string(), s(&k["vkey"]));
        }
    }
    let signers = v["signer_keys"].as_array().unwrap();
    assert_eq!(signers.len(), 5);
    for k in signers {
        let signer = Signer::parse(s(&k["skey"])).unwrap();
        assert_eq!(signer.to_string(), s(&k["skey"]));
        assert_eq!(signer.verifier().to_string(), s(&k["vkey"]));
    }
    // A private key whose key ID does not match its public key is refused.
    let bad = s(&signers[0]["skey"]).replace("c74f20a3", "c74f20a4");
    assert!(Signer::parse(&bad).is_err());
}

#[test]
fn signed_note_cases() {
    let v = load("signed_notes.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 23);
    for c in cases {
        let id = s(&c["id"]);
        let message = match c["note"].as_str() {
            Some(n) => n.to_string(),
            // Not UTF-8: a Rust &str cannot even hold it, which is where we reject it.
            None => {
                assert!(
                    String::from_utf8(hex_bytes(&c["note_hex"])).is_err(),
                    "{id}"
                );
                assert_eq!(c["error"], "malformed");
                continue;
            }
        };
        let result = note::open(&message, &verifiers(c));
        match s(&c["expect"]) {
            "valid" => {
                let opened = result.unwrap_or_else(|e| panic!("{id}: {e}"));
                let names: Vec<&str> = opened.verified.iter().map(|(n, _)| n.as_str()).collect();
                let want: Vec<&str> = c["verified"].as_array().unwrap().iter().map(s).collect();
                assert_eq!(names, want, "{id}");
                assert_eq!(
                    opened.unverified_lines,
                    c["unverified"].as_array().unwrap().len(),
                    "{id}"
                );
                if let Some(text) = c["text"].as_str() {
                    assert_eq!(opened.text, text, "{id}");
                }
            }
            _ => {
                let err = result.expect_err(id);
                assert_eq!(category(&err), s(&c["error"]), "{id}: {err}");
            }
        }
    }
}

#[test]
fn signing_reproduces_published_signatures_byte_for_byte() {
    let v = load("signed_notes.json");
    let peter = Signer::parse(s(&v["signer_keys"][0]["skey"])).unwrap();
    let enoch = Signer::from_seed("EnochRoot", [0; 32]).unwrap();
    let both = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "go-open-both")
        .unwrap();
    let signed = note::sign(s(&both["text"]), &[&peter, &enoch]).unwrap();
    assert_eq!(signed, s(&both["note"]));
}

fn checkpoint_category(e: &CheckpointError) -> &'static str {
    match e {
        CheckpointError::Note(n) => category(n),
        CheckpointError::Body { .. } => "malformed",
    }
}

#[test]
fn checkpoint_cases_including_the_real_sum_golang_org_head() {
    let v = load("checkpoints.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 20);
    let keys = load("signed_notes.json")["signer_keys"].clone();
    let signer = |name: &str| {
        keys.as_array()
            .unwrap()
            .iter()
            .map(|k| Signer::parse(s(&k["skey"])).unwrap())
            .find(|k| k.name() == name)
            .unwrap()
    };
    let mut sumdb_verified = false;
    for c in cases {
        let id = s(&c["id"]);
        let text = s(&c["checkpoint"]);
        if let Some(p) = c.get("parsed") {
            let body = Checkpoint::parse(note::split(text).unwrap().0).unwrap();
            assert_eq!(body.origin, s(&p["origin"]), "{id}");
            assert_eq!(body.size, p["tree_size"].as_u64().unwrap(), "{id}");
            assert_eq!(Some(body.root), hash(&p["root_hash_hex"]), "{id}");
            let ext: Vec<&str> = p["extension_lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(s)
                .collect();
            assert_eq!(body.extensions, ext, "{id}");
            assert_eq!(note::split(text).unwrap().0, body.to_body(), "{id}");
        }
        let result = open_checkpoint(text, &verifiers(c));
        if c["expect"] == "valid" {
            let (cp, opened) = result.unwrap_or_else(|e| panic!("{id}: {e}"));
            if id == "sum.golang.org-2024-09-23" {
                assert_eq!(cp.size, 30055305);
                assert_eq!(opened.verified[0].0, "sum.golang.org");
                sumdb_verified = true;
            }
            // Re-signing our own test-key checkpoints reproduces them exactly.
            if id.starts_with("derived-8leaf-size") {
                assert_eq!(sign_checkpoint(&cp, &signer("Log")).unwrap(), text, "{id}");
            }
            if id == "derived-8leaf-extensions-cosigned" {
                let again = note::sign(&cp.to_body(), &[&signer("Log"), &signer("Known")]);
                assert_eq!(again.unwrap(), text);
            }
            if let Some(seed) = c.get("private_seed_hex") {
                let seed: [u8; 32] = hex_bytes(seed).try_into().unwrap();
                let own = Signer::from_seed(&cp.origin, seed).unwrap();
                assert_eq!(own.verifier(), verifiers(c)[0]);
                assert_eq!(sign_checkpoint(&cp, &own).unwrap(), text, "{id}");
            }
        } else {
            let err = result.expect_err(id);
            let got = checkpoint_category(&err);
            let ok = match s(&c["error"]) {
                "malformed_or_invalid_signature" => {
                    got == "malformed" || got == "invalid_signature"
                }
                want => got == want || c.get("alt_error").is_some_and(|a| a == got),
            };
            assert!(ok, "{id}: {err}");
        }
    }
    assert!(sumdb_verified);
}

#[test]
fn checkpoint_body_parse_cases() {
    let v = load("checkpoints.json");
    let cases = v["body_parse_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    let root32 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    for c in cases {
        let body = s(&c["body"]);
        let err = Checkpoint::parse(body).expect_err(s(&c["desc"]));
        if c["want_error"] == false {
            // transparency-dev/formats accepts roots of any length and trailing empty lines; we
            // require a 32-byte SHA-256 root and no empty lines, so these fail here on purpose.
            let line = match err {
                CheckpointError::Body { line, .. } => line,
                other => panic!("{other}"),
            };
            let lines: Vec<&str> = body.split('\n').collect();
            let trailing_empty = lines[3..lines.len() - 1].iter().any(|l| l.is_empty());
            assert_eq!(line, if trailing_empty { 4 } else { 3 }, "{}", c["desc"]);
            // With a real 32-byte root they parse, unless they carry empty lines.
            let fixed = body.replacen(lines[2], root32, 1);
            assert_eq!(
                Checkpoint::parse(&fixed).is_ok(),
                !trailing_empty,
                "{}",
                c["desc"]
            );
        }
    }
}
