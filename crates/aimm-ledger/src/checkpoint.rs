//! C2SP tlog checkpoints (<https://c2sp.org/tlog-checkpoint>): the signed statement "the log
//! `origin` has `size` leaves with Merkle root `root`". The body is the origin line, the tree size
//! in decimal, the root hash in base64, then optional extension lines, each ending in `\n`.
//!
//! Parsing is strict so that one body has exactly one encoding: no leading zeros or sign in the
//! size, canonical base64 of exactly 32 bytes, no empty lines (so also no empty extension lines).

use crate::merkle::Hash;
use crate::note::{self, NoteError, OpenedNote, Signer, Verifier};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

/// Why a checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signed note around the checkpoint is bad.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// The checkpoint body is malformed.
    #[error("checkpoint body line {line}: {what}")]
    Body {
        /// 1-based line of the body.
        line: usize,
        /// What is wrong with it.
        what: String,
    },
}

/// A log's signed tree head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's unique name, e.g. `aimm.example/plant-1`.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 root hash of the tree of `size` leaves.
    pub root: Hash,
    /// Extension lines, without their newlines.
    pub extensions: Vec<String>,
}

/// Parses a decimal u64 with no sign and no leading zeros (except "0" itself).
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    text.parse().ok()
}

impl Checkpoint {
    /// Parses a checkpoint body (the note text).
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        let err = |line: usize, what: &str| CheckpointError::Body {
            line,
            what: what.to_string(),
        };
        let Some(lines) = body.strip_suffix('\n') else {
            return Err(err(
                body.split('\n').count(),
                "last line does not end in a newline",
            ));
        };
        let lines: Vec<&str> = lines.split('\n').collect();
        if lines.len() < 3 {
            return Err(err(
                lines.len() + 1,
                "need origin, tree size and root hash lines",
            ));
        }
        if let Some(i) = lines.iter().position(|l| l.is_empty()) {
            return Err(err(i + 1, "empty line"));
        }
        let size = parse_decimal(lines[1])
            .ok_or_else(|| err(2, "tree size is not a decimal number without leading zeros"))?;
        let root_bytes = B64
            .decode(lines[2])
            .map_err(|_| err(3, "root hash is not canonical base64"))?;
        let root: Hash = root_bytes.as_slice().try_into().map_err(|_| {
            err(
                3,
                &format!("root hash has {} bytes, not 32", root_bytes.len()),
            )
        })?;
        Ok(Self {
            origin: lines[0].to_string(),
            size,
            root,
            extensions: lines[3..].iter().map(|s| s.to_string()).collect(),
        })
    }

    /// The body text, as signed.
    pub fn to_body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            body.push_str(e);
            body.push('\n');
        }
        body
    }
}

/// The checkpoint as a note signed by `signer`. Fails if the origin or an extension is empty or
/// holds a newline or control character, which would make the body unparseable.
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    signer: &Signer,
) -> Result<String, CheckpointError> {
    let body = checkpoint.to_body();
    if Checkpoint::parse(&body)? != *checkpoint {
        return Err(CheckpointError::Body {
            line: 0,
            what: "origin or an extension line is empty or holds a newline".into(),
        });
    }
    Ok(note::sign(&body, &[signer])?)
}

/// Opens a signed checkpoint note under the trusted `verifiers` and parses its body.
pub fn open_checkpoint(
    note: &str,
    verifiers: &[Verifier],
) -> Result<(Checkpoint, OpenedNote), CheckpointError> {
    let opened = note::open(note, verifiers)?;
    Ok((Checkpoint::parse(&opened.text)?, opened))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_and_is_strict() {
        let c = Checkpoint {
            origin: "aimm.example/log".into(),
            size: 12,
            root: [9; 32],
            extensions: vec!["ext one".into()],
        };
        assert_eq!(Checkpoint::parse(&c.to_body()).unwrap(), c);
        let root = B64.encode([9u8; 32]);
        for bad in [
            format!("o\n012\n{root}\n"),
            format!("o\n+12\n{root}\n"),
            format!("o\n12\n{root}\n\n"),
            format!("o\n12\n{root}"),
            format!("\n12\n{root}\n"),
            format!("o\n12\n{}\n", B64.encode([9u8; 31])),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("00"), None);
    }

    #[test]
    fn signs_and_opens() {
        let s = Signer::from_seed("log", [3; 32]).unwrap();
        let c = Checkpoint {
            origin: "o".into(),
            size: 0,
            root: crate::merkle::empty_root(),
            extensions: vec![],
        };
        let note = sign_checkpoint(&c, &s).unwrap();
        assert_eq!(open_checkpoint(&note, &[s.verifier()]).unwrap().0, c);
        let bad = Checkpoint {
            origin: "a\nb".into(),
            ..c
        };
        assert!(sign_checkpoint(&bad, &s).is_err());
    }
}
