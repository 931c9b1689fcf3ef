//! Evidence bundles: a log exported to a directory that [`verify_bundle`] checks offline, with
//! no database and no network. Format version 1, every file parsed strictly so that flipping any
//! byte, or deleting, reordering or inserting a record, fails verification:
//!
//! * `checkpoint`: the latest signed checkpoint note ([`crate::checkpoint`]) of tree size N,
//!   with exactly one signature line, by the bundle's key (as are the history checkpoints).
//! * `verifier.key`: the signer's verifier key text and `\n`.
//! * `records`: exactly N lines; line i (0-based) is `<i> <canonical record JSON>\n`, the index
//!   in decimal without leading zeros, one space, then the exact leaf bytes. Canonical JSON
//!   (RFC 8785) escapes control characters, so leaf bytes never hold a newline.
//! * `history`: zero or more blocks, each an earlier checkpoint of the same log with its
//!   consistency proof to the latest, framed by a byte length so the note needs no escaping:
//!   ```text
//!   size <M>\n
//!   note <L>\n
//!   <L bytes: the signed checkpoint note of size M>
//!   proof <hex>,<hex>,...\n        (lowercase hex; nothing after "proof " if the proof is empty)
//!   ```
//!   Sizes are strictly increasing, at least 1 and at most N; numbers are decimal without
//!   leading zeros.
//! * `segments/<sha256 hex>`: optional raw sensor-segment blobs; each hashes to its name and is
//!   named by the `sha256` of a `sensor_segment` record in the bundle.
//!
//! Nothing else may be in the directory.

use crate::checkpoint::{open_checkpoint, parse_decimal, Checkpoint};
use crate::merkle::{leaf_hash, verify_consistency, Hash, MerkleTree};
use crate::note::{self, Verifier};
use crate::record::{Evidence, Record};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const CHECKPOINT: &str = "checkpoint";
const VERIFIER_KEY: &str = "verifier.key";
const RECORDS: &str = "records";
const HISTORY: &str = "history";
const SEGMENTS: &str = "segments";

/// What goes into a bundle.
#[derive(Clone, Debug)]
pub struct BundleContents {
    /// The latest signed checkpoint; its size is `records.len()`.
    pub checkpoint_note: String,
    /// The log's verifier key, written to the bundle for offline checks.
    pub verifier: Verifier,
    /// Canonical record bytes; a record's leaf index is its position.
    pub records: Vec<Vec<u8>>,
    /// Earlier signed checkpoints, by increasing size, each with its consistency proof to the
    /// latest.
    pub history: Vec<(String, Vec<Hash>)>,
    /// Sensor-segment blobs by SHA-256.
    pub segments: Vec<(Hash, Vec<u8>)>,
}

/// Why a bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The target directory already holds something.
    #[error("{path} exists and is not an empty directory; refusing to write a bundle there")]
    NotEmpty {
        /// The target directory.
        path: PathBuf,
    },
    /// The contents do not form a bundle (e.g. checkpoint size ≠ record count).
    #[error("bundle contents: {0}")]
    Invalid(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn hex_list(hashes: &[Hash]) -> String {
    hashes.iter().map(hex::encode).collect::<Vec<_>>().join(",")
}

/// Writes `contents` as a bundle in `dir`, which must not exist or be an empty directory.
/// Checks the framing it relies on (no newline in a record, notes that parse, segment digests)
/// but not signatures or proofs: run [`verify_bundle`] for that.
pub fn write_bundle(dir: &Path, contents: &BundleContents) -> Result<(), BundleError> {
    if dir.exists() {
        let empty = dir.is_dir() && dir.read_dir().map_err(io_err(dir))?.next().is_none();
        if !empty {
            return Err(BundleError::NotEmpty {
                path: dir.to_path_buf(),
            });
        }
    } else {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let invalid = |what: String| BundleError::Invalid(what);
    note::split(&contents.checkpoint_note)
        .map_err(|e| invalid(format!("latest checkpoint: {e}")))?;
    if let Some(i) = contents.records.iter().position(|r| r.contains(&b'\n')) {
        return Err(invalid(format!("record {i} contains a newline")));
    }

    let write_file = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(io_err(&path))
    };
    write_file(CHECKPOINT, contents.checkpoint_note.as_bytes())?;
    write_file(VERIFIER_KEY, format!("{}\n", contents.verifier).as_bytes())?;

    let mut history = Vec::new();
    for (i, (note_text, proof)) in contents.history.iter().enumerate() {
        let (text, _) =
            note::split(note_text).map_err(|e| invalid(format!("history checkpoint {i}: {e}")))?;
        let size = Checkpoint::parse(text)
            .map_err(|e| invalid(format!("history checkpoint {i}: {e}")))?
            .size;
        history.extend_from_slice(
            format!(
                "size {size}\nnote {}\n{note_text}proof {}\n",
                note_text.len(),
                hex_list(proof)
            )
            .as_bytes(),
        );
    }
    write_file(HISTORY, &history)?;

    let path = dir.join(RECORDS);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io_err(&path))?);
    for (i, record) in contents.records.iter().enumerate() {
        write!(out, "{i} ").map_err(io_err(&path))?;
        out.write_all(record).map_err(io_err(&path))?;
        out.write_all(b"\n").map_err(io_err(&path))?;
    }
    out.into_inner()
        .map_err(|e| io_err(&path)(e.into_error()))?
        .sync_all()
        .map_err(io_err(&path))?;

    if !contents.segments.is_empty() {
        let seg_dir = dir.join(SEGMENTS);
        std::fs::create_dir(&seg_dir).map_err(io_err(&seg_dir))?;
        for (hash, blob) in &contents.segments {
            if <[u8; 32]>::from(Sha256::digest(blob)) != *hash {
                return Err(invalid(format!(
                    "segment {} does not hash to its name",
                    hex::encode(hash)
                )));
            }
            let path = seg_dir.join(hex::encode(hash));
            std::fs::write(&path, blob).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// One check of a bundle verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked, e.g. `checkpoint signature`.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// What was found, or why it failed.
    pub detail: String,
}

/// The outcome of [`verify_bundle`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Every check made, in order.
    pub checks: Vec<Check>,
    /// The first failed check: file, line and, for records, the leaf index.
    pub first_failure: Option<String>,
    /// Records read and hashed.
    pub records: u64,
    /// Segment files checked.
    pub segments: u64,
    /// The verifier key the signatures were checked with.
    pub key: String,
    /// Whether that key was given by the caller (true) or taken from the bundle itself (false,
    /// which proves integrity but not who signed).
    pub key_trusted: bool,
}

impl VerifyReport {
    /// True when every check passed and nothing failed.
    pub fn is_ok(&self) -> bool {
        self.first_failure.is_none() && self.checks.iter().all(|c| c.passed)
    }
}

/// A verification failure located in a bundle file.
#[derive(Clone, Debug)]
struct Failure {
    file: String,
    line: Option<u64>,
    leaf: Option<u64>,
    what: String,
}

impl Failure {
    fn new(file: &str, what: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line: None,
            leaf: None,
            what: what.into(),
        }
    }

    fn at(file: &str, line: u64, what: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            ..Self::new(file, what)
        }
    }

    fn leaf(leaf: u64, what: impl Into<String>) -> Self {
        Self {
            leaf: Some(leaf),
            ..Self::at(RECORDS, leaf + 1, what)
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file.is_empty() {
            return write!(f, "{}", self.what);
        }
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(leaf) = self.leaf {
            write!(f, " (leaf {leaf})")?;
        }
        write!(f, ": {}", self.what)
    }
}

type Checked<T> = Result<T, Failure>;

fn read_text(dir: &Path, name: &str) -> Checked<String> {
    let bytes = std::fs::read(dir.join(name)).map_err(|e| Failure::new(name, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| Failure::new(name, format!("not UTF-8: {e}")))
}

/// (a) The bundle's key, and the key to check signatures with.
fn check_key(dir: &Path, trusted: Option<&Verifier>) -> (Checked<String>, Option<Verifier>) {
    let bundle_key = read_text(dir, VERIFIER_KEY).and_then(|text| {
        let key_text = text
            .strip_suffix('\n')
            .filter(|t| !t.contains('\n'))
            .ok_or_else(|| Failure::at(VERIFIER_KEY, 1, "must be one key line ending in \\n"))?;
        Verifier::parse(key_text).map_err(|e| Failure::at(VERIFIER_KEY, 1, e.to_string()))
    });
    match (trusted, bundle_key) {
        (Some(t), Ok(k)) if *t == k => (Ok(format!("{k} (matches the trusted key)")), Some(k)),
        (Some(t), Ok(k)) => (
            Err(Failure::at(
                VERIFIER_KEY,
                1,
                format!("bundle key {k} is not the trusted key {t}"),
            )),
            Some(t.clone()),
        ),
        (Some(t), Err(e)) => (Err(e), Some(t.clone())),
        (None, Ok(k)) => (
            Ok(format!(
                "{k} taken from the bundle itself: proves integrity, not who signed; \
                 give a trusted key to check that"
            )),
            Some(k),
        ),
        (None, Err(e)) => (Err(e), None),
    }
}

/// Opens a checkpoint note that must carry exactly one signature line, by `key`: other or
/// repeated lines would be bytes a verifier ignores, and a bundle has no such bytes.
fn open_own_checkpoint(note_text: &str, key: &Verifier) -> Result<Checkpoint, String> {
    let (checkpoint, _) =
        open_checkpoint(note_text, std::slice::from_ref(key)).map_err(|e| e.to_string())?;
    let (_, signatures) = note::split(note_text).map_err(|e| e.to_string())?;
    let lines = signatures.lines().count();
    if lines != 1 {
        return Err(format!(
            "{lines} signature lines; a bundle checkpoint has exactly one, by {}+{:08x}",
            key.name(),
            key.key_id()
        ));
    }
    Ok(checkpoint)
}

/// What one pass over `records` yields.
struct RecordScan {
    tree: MerkleTree,
    /// Digests named by `sensor_segment` records.
    segment_refs: HashSet<Hash>,
    /// The first bad citation, if any (the scan goes on past it).
    bad_citation: Option<Failure>,
    citations: u64,
}

/// (c) and (e): reads `records` in one buffered pass, hashing leaves and checking citations
/// against the leaf hashes seen so far. Stops at the first structural failure.
fn scan_records(dir: &Path, keep: &mut dyn FnMut(u64, &[u8], Record)) -> Checked<RecordScan> {
    let file = File::open(dir.join(RECORDS)).map_err(|e| Failure::new(RECORDS, e.to_string()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut scan = RecordScan {
        tree: MerkleTree::new(),
        segment_refs: HashSet::new(),
        bad_citation: None,
        citations: 0,
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Failure::new(RECORDS, e.to_string()))?;
        if n == 0 {
            return Ok(scan);
        }
        let index = scan.tree.size();
        let fail = |what: &str| Failure::leaf(index, what);
        let body = line
            .strip_suffix(b"\n")
            .ok_or_else(|| fail("last line does not end in \\n"))?;
        let space = body
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| fail("no space after the leaf index"))?;
        let given = std::str::from_utf8(&body[..space])
            .ok()
            .and_then(parse_decimal)
            .ok_or_else(|| fail("leaf index is not a decimal number without leading zeros"))?;
        if given != index {
            return Err(fail(&format!("leaf index {given}, expected {index}")));
        }
        let bytes = &body[space + 1..];
        let record = Record::from_canonical_bytes(bytes).map_err(|e| fail(&e.to_string()))?;
        for c in &record.cites {
            scan.citations += 1;
            if scan.bad_citation.is_some() {
                continue;
            }
            let problem = if c.leaf_index >= index {
                Some(format!("cites leaf {}, not an earlier one", c.leaf_index))
            } else if scan.tree.leaf(c.leaf_index) != Some(c.leaf_hash) {
                Some(format!(
                    "cites leaf {} with hash {}, but that leaf's hash differs",
                    c.leaf_index,
                    hex::encode(c.leaf_hash)
                ))
            } else {
                None
            };
            scan.bad_citation = problem.map(|p| fail(&p));
        }
        if let Evidence::SensorSegment(s) = &record.evidence {
            scan.segment_refs.insert(s.sha256);
        }
        scan.tree.push(leaf_hash(bytes));
        keep(index, bytes, record);
    }
}

/// One parsed `history` block.
struct HistoryBlock {
    line: u64,
    size: u64,
    note: String,
    proof: Vec<Hash>,
}

/// Parses `history` (framing only; signatures and proofs are checked by the caller).
fn parse_history(data: &[u8]) -> Checked<Vec<HistoryBlock>> {
    let mut blocks = Vec::new();
    let mut pos = 0;
    let mut line = 1u64;
    // Takes one '\n'-terminated line starting with `prefix`, returns the rest of it.
    let take_line = |pos: &mut usize, line: &mut u64, prefix: &str| -> Checked<String> {
        let end = data[*pos..]
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| Failure::at(HISTORY, *line, "line does not end in \\n"))?;
        let text = std::str::from_utf8(&data[*pos..*pos + end])
            .ok()
            .and_then(|t| t.strip_prefix(prefix))
            .ok_or_else(|| Failure::at(HISTORY, *line, format!("expected '{prefix}...'")))?;
        *pos += end + 1;
        *line += 1;
        Ok(text.to_string())
    };
    let number = |text: &str, line: u64| {
        parse_decimal(text)
            .ok_or_else(|| Failure::at(HISTORY, line, "not a decimal number without leading zeros"))
    };
    while pos < data.len() {
        let block_line = line;
        let size = number(&take_line(&mut pos, &mut line, "size ")?, line - 1)?;
        let length = number(&take_line(&mut pos, &mut line, "note ")?, line - 1)?;
        let end = usize::try_from(length)
            .ok()
            .and_then(|l| pos.checked_add(l))
            .filter(|&e| e <= data.len())
            .ok_or_else(|| Failure::at(HISTORY, line - 1, "note length runs past the file"))?;
        let note = String::from_utf8(data[pos..end].to_vec())
            .map_err(|_| Failure::at(HISTORY, line, "note is not UTF-8"))?;
        let note_line = line;
        line += note.bytes().filter(|&b| b == b'\n').count() as u64;
        pos = end;
        if !note.ends_with('\n') {
            return Err(Failure::at(HISTORY, note_line, "note does not end in \\n"));
        }
        let proof_text = take_line(&mut pos, &mut line, "proof ")?;
        let proof = if proof_text.is_empty() {
            Vec::new()
        } else {
            proof_text
                .split(',')
                .map(parse_hex_hash)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    Failure::at(
                        HISTORY,
                        line - 1,
                        "proof is not comma-separated lowercase hex hashes",
                    )
                })?
        };
        blocks.push(HistoryBlock {
            line: block_line,
            size,
            note,
            proof,
        });
    }
    Ok(blocks)
}

/// Parses exactly 64 lowercase hex digits.
fn parse_hex_hash(text: &str) -> Option<Hash> {
    let lower = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let mut out = [0u8; 32];
    (lower && hex::decode_to_slice(text, &mut out).is_ok()).then_some(out)
}

/// (f) Every history checkpoint: same key and origin, size within the tree, root recomputed
/// from the records, consistent with the latest checkpoint.
fn check_history(
    blocks: &[HistoryBlock],
    key: &Verifier,
    latest: &Checkpoint,
    tree: &MerkleTree,
) -> Checked<String> {
    let mut previous = 0;
    for b in blocks {
        let fail = |what: String| Failure::at(HISTORY, b.line, format!("size {}: {what}", b.size));
        let cp = open_own_checkpoint(&b.note, key).map_err(fail)?;
        if cp.size != b.size {
            return Err(fail(format!("note is of size {}", cp.size)));
        }
        if cp.origin != latest.origin {
            return Err(fail(format!(
                "origin '{}' is not '{}'",
                cp.origin, latest.origin
            )));
        }
        if b.size == 0 || b.size <= previous || b.size > latest.size {
            return Err(fail(format!(
                "sizes must increase strictly from 1 up to {}",
                latest.size
            )));
        }
        previous = b.size;
        let root = tree.root_at(b.size).map_err(|e| fail(e.to_string()))?;
        if root != cp.root {
            return Err(fail(
                "root differs from the records' root at that size".into(),
            ));
        }
        verify_consistency(b.size, latest.size, &b.proof, &cp.root, &latest.root)
            .map_err(|e| fail(format!("consistency proof: {e}")))?;
    }
    Ok(format!("{} earlier checkpoint(s) consistent", blocks.len()))
}

/// (h) Lists the bundle's entries; returns the segment files.
fn check_layout(dir: &Path) -> Checked<Vec<PathBuf>> {
    let entries = |d: &Path| -> Checked<Vec<(String, std::fs::FileType, PathBuf)>> {
        let mut out = Vec::new();
        let rd = d
            .read_dir()
            .map_err(|e| Failure::new(&d.display().to_string(), e.to_string()))?;
        for entry in rd {
            let entry = entry.map_err(|e| Failure::new(&d.display().to_string(), e.to_string()))?;
            let kind = entry
                .file_type()
                .map_err(|e| Failure::new(&entry.path().display().to_string(), e.to_string()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            out.push((name, kind, entry.path()));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    };
    let mut segments = Vec::new();
    let mut found = HashSet::new();
    for (name, kind, path) in entries(dir)? {
        match name.as_str() {
            CHECKPOINT | VERIFIER_KEY | RECORDS | HISTORY if kind.is_file() => {}
            SEGMENTS if kind.is_dir() => {
                for (seg, seg_kind, seg_path) in entries(&path)? {
                    if !seg_kind.is_file() {
                        return Err(Failure::new(
                            &format!("{SEGMENTS}/{seg}"),
                            "unexpected entry: segments holds regular files only",
                        ));
                    }
                    segments.push(seg_path);
                }
            }
            _ => return Err(Failure::new(&name, "unexpected entry in the bundle")),
        }
        found.insert(name);
    }
    for required in [CHECKPOINT, VERIFIER_KEY, RECORDS, HISTORY] {
        if !found.contains(required) {
            return Err(Failure::new(required, "missing"));
        }
    }
    Ok(segments)
}

/// (g) Each segment file hashes to its name and is named by a `sensor_segment` record.
fn check_segment(path: &Path, refs: &HashSet<Hash>) -> Checked<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let label = format!("{SEGMENTS}/{}", name.clone().unwrap_or_default());
    let digest = name
        .as_deref()
        .and_then(parse_hex_hash)
        .ok_or_else(|| Failure::new(&label, "name is not 64 lowercase hex digits"))?;
    let mut file = File::open(path).map_err(|e| Failure::new(&label, e.to_string()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Failure::new(&label, e.to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    if <[u8; 32]>::from(hasher.finalize()) != digest {
        return Err(Failure::new(
            &label,
            "content does not hash to the file name",
        ));
    }
    if !refs.contains(&digest) {
        return Err(Failure::new(
            &label,
            "no sensor_segment record names this digest",
        ));
    }
    Ok(())
}

fn not_checked<T>(what: &str) -> Checked<T> {
    Err(Failure::new("", format!("not checked: {what}")))
}

/// Verifies the bundle in `dir` offline. With `trusted`, signatures must be by that key (and the
/// bundle's key must be it); without, the bundle's own key is used and the report says so.
pub fn verify_bundle(dir: &Path, trusted: Option<&Verifier>) -> VerifyReport {
    verify_bundle_keeping(dir, trusted, &mut |_, _, _| {})
}

/// [`verify_bundle`], handing `keep` each record as it is read (leaf index, canonical bytes,
/// the record), so a caller that goes on to use the records reads and parses them once. What
/// `keep` got is only to be used when the report is OK.
pub fn verify_bundle_keeping(
    dir: &Path,
    trusted: Option<&Verifier>,
    keep: &mut dyn FnMut(u64, &[u8], Record),
) -> VerifyReport {
    let layout = check_layout(dir);
    let (key_check, key) = check_key(dir, trusted);

    let checkpoint = match &key {
        Some(k) => read_text(dir, CHECKPOINT)
            .and_then(|t| open_own_checkpoint(&t, k).map_err(|e| Failure::new(CHECKPOINT, e))),
        None => not_checked("no key to check the signature with"),
    };

    let scan = scan_records(dir, keep);

    let root_check = match (&checkpoint, &scan) {
        (Ok(cp), Ok(s)) if s.tree.size() != cp.size => Err(Failure::new(
            RECORDS,
            format!(
                "{} records, but the checkpoint's tree size is {}",
                s.tree.size(),
                cp.size
            ),
        )),
        (Ok(cp), Ok(s)) if s.tree.root() != cp.root => Err(Failure::new(
            CHECKPOINT,
            "root hash differs from the root recomputed from the records",
        )),
        (Ok(cp), Ok(_)) => Ok(format!("root {} at size {}", hex::encode(cp.root), cp.size)),
        _ => not_checked("needs a valid checkpoint and records"),
    };

    let citations = match &scan {
        Ok(s) => match &s.bad_citation {
            Some(f) => Err(f.clone()),
            None => Ok(format!(
                "{} citation(s) resolve to earlier leaves",
                s.citations
            )),
        },
        Err(_) => not_checked("records unreadable"),
    };

    let history = std::fs::read(dir.join(HISTORY))
        .map_err(|e| Failure::new(HISTORY, e.to_string()))
        .and_then(|data| parse_history(&data))
        .and_then(|blocks| match (&key, &checkpoint, &scan, &root_check) {
            (Some(k), Ok(cp), Ok(s), Ok(_)) => check_history(&blocks, k, cp, &s.tree),
            _ => not_checked("needs a valid key, checkpoint and records"),
        });

    let mut segments_checked = 0;
    let segments = match (&layout, &scan) {
        (Ok(files), Ok(s)) => files
            .iter()
            .try_for_each(|p| {
                check_segment(p, &s.segment_refs)?;
                segments_checked += 1;
                Ok(())
            })
            .map(|()| format!("{segments_checked} segment file(s) match their records")),
        _ => not_checked("needs a valid layout and records"),
    };

    let records = scan.as_ref().map_or(0, |s| s.tree.size());
    let checks: Vec<(&str, Checked<String>)> = vec![
        ("verifier_key", key_check),
        (
            "checkpoint",
            checkpoint.map(|c| format!("'{}' size {} signature valid", c.origin, c.size)),
        ),
        (
            "records",
            scan.map(|s| format!("{} canonical records hashed", s.tree.size())),
        ),
        ("merkle_root", root_check),
        ("citations", citations),
        ("history", history),
        ("segments", segments),
        ("layout", layout.map(|_| "no unexpected files".to_string())),
    ];
    let mut first_failure = None;
    let checks = checks
        .into_iter()
        .map(|(name, result)| {
            let (passed, detail) = match result {
                Ok(d) => (true, d),
                Err(f) => {
                    let text = f.to_string();
                    if first_failure.is_none() && !f.what.starts_with("not checked") {
                        first_failure = Some(text.clone());
                    }
                    (false, text)
                }
            };
            Check {
                name: name.to_string(),
                passed,
                detail,
            }
        })
        .collect::<Vec<_>>();
    // Dependent checks fail only after another did; still, never let a failed check pass.
    if first_failure.is_none() {
        first_failure = checks.iter().find(|c| !c.passed).map(|c| c.detail.clone());
    }
    VerifyReport {
        checks,
        first_failure,
        records,
        segments: segments_checked,
        key: key.map(|k| k.to_string()).unwrap_or_default(),
        key_trusted: trusted.is_some(),
    }
}
