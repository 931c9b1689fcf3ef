//! The assessor's signature over a written report: `report.sig` is a signed note (C2SP
//! signed-note, the ledger's own format) whose text names the report format, the assessed
//! ledger's size and root, and the SHA-256 of every report file written. Checking it needs the
//! assessor's verifier key only: a changed byte in any file, a file added after signing, or
//! another key fails, naming the file.

use super::FORMAT;
use aimm_ledger::note::{self, NoteError, Signer, Verifier};
use aimm_ledger::Check;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The signature file, next to the report files.
pub const SIG_FILE: &str = "report.sig";
/// The files a report directory may hold besides [`SIG_FILE`], in the order they are listed.
pub const FILES: [&str; 3] = ["report.json", "report.html", "report.pdf"];

/// Why a report could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The note could not be made.
    #[error("signing {SIG_FILE}: {0}")]
    Note(#[from] NoteError),
}

/// What the signature covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The assessed ledger's size.
    pub ledger_size: u64,
    /// Its root, hex.
    pub ledger_root: String,
    /// (file name, SHA-256 hex) of every report file, in [`FILES`] order.
    pub files: Vec<(String, String)>,
}

fn sha256_file(path: &Path) -> Result<String, std::io::Error> {
    Ok(hex::encode(Sha256::digest(std::fs::read(path)?)))
}

impl Manifest {
    /// The manifest of the report files present in `dir`, for a ledger of `ledger_size` records
    /// with root `ledger_root` (hex).
    pub fn of_dir(dir: &Path, ledger_size: u64, ledger_root: &str) -> Result<Self, SignError> {
        let mut files = Vec::new();
        for name in FILES {
            let path = dir.join(name);
            if path.exists() {
                let digest = sha256_file(&path).map_err(|source| SignError::Io {
                    path: path.clone(),
                    source,
                })?;
                files.push((name.to_string(), digest));
            }
        }
        Ok(Manifest {
            ledger_size,
            ledger_root: ledger_root.to_string(),
            files,
        })
    }

    /// The note text: the format, `ledger <size> <root>`, then `<sha256> <file>` per file.
    pub fn text(&self) -> String {
        let mut text = format!(
            "{FORMAT}\nledger {} {}\n",
            self.ledger_size, self.ledger_root
        );
        for (name, digest) in &self.files {
            text.push_str(&format!("{digest} {name}\n"));
        }
        text
    }

    /// Parses a note text written by [`Manifest::text`].
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        if lines.next() != Some(FORMAT) {
            return Err(format!("the signed text does not start with {FORMAT}"));
        }
        let ledger = lines.next().unwrap_or_default();
        let (size, root) = ledger
            .strip_prefix("ledger ")
            .and_then(|r| r.split_once(' '))
            .ok_or_else(|| format!("line 2 is not `ledger <size> <root>`: {ledger:?}"))?;
        let ledger_size = size
            .parse()
            .map_err(|e| format!("line 2: ledger size {size:?}: {e}"))?;
        let mut files = Vec::new();
        for (n, line) in lines.enumerate() {
            let (digest, name) = line
                .split_once(' ')
                .filter(|(d, n)| d.len() == 64 && FILES.contains(n))
                .ok_or_else(|| format!("line {}: not `<sha256> <report file>`: {line:?}", n + 3))?;
            files.push((name.to_string(), digest.to_string()));
        }
        Ok(Manifest {
            ledger_size,
            ledger_root: root.to_string(),
            files,
        })
    }
}

/// Signs the report files in `dir` with `signer`, writing [`SIG_FILE`]; returns what it covers.
pub fn sign(
    dir: &Path,
    ledger_size: u64,
    ledger_root: &str,
    signer: &Signer,
) -> Result<Manifest, SignError> {
    let manifest = Manifest::of_dir(dir, ledger_size, ledger_root)?;
    let signed = note::sign(&manifest.text(), &[signer])?;
    let path = dir.join(SIG_FILE);
    std::fs::write(&path, signed).map_err(|source| SignError::Io { path, source })?;
    Ok(manifest)
}

/// The outcome of [`verify`] (and of any checks a caller adds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The first failed check, as `name: detail`.
    pub first_failure: Option<String>,
    /// The verifier key the signature was checked with.
    pub key: String,
    /// What the signature covers, when it verified.
    pub manifest: Option<Manifest>,
}

impl Verification {
    /// Records a check.
    pub fn push(&mut self, name: &str, outcome: Result<String, String>) {
        let (passed, detail) = match outcome {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        if !passed && self.first_failure.is_none() {
            self.first_failure = Some(format!("{name}: {detail}"));
        }
        self.checks.push(Check {
            name: name.to_string(),
            passed,
            detail,
        });
    }

    /// Whether every check passed.
    pub fn is_ok(&self) -> bool {
        self.first_failure.is_none()
    }
}

/// Checks the report in `dir`: [`SIG_FILE`] signed by `key`, every file it lists hashing as
/// listed, no report file unlisted, and `report.json` naming the signed ledger size and root.
pub fn verify(dir: &Path, key: &Verifier) -> Verification {
    let mut v = Verification {
        checks: Vec::new(),
        first_failure: None,
        key: key.to_string(),
        manifest: None,
    };
    let sig_path = dir.join(SIG_FILE);
    let opened = std::fs::read_to_string(&sig_path)
        .map_err(|e| format!("{}: {e}", sig_path.display()))
        .and_then(|msg| {
            note::open(&msg, std::slice::from_ref(key))
                .map_err(|e| format!("not signed by {}: {e}", key.name()))
        })
        .and_then(|opened| Manifest::parse(&opened.text));
    let manifest = match opened {
        Ok(m) => m,
        Err(e) => {
            v.push(SIG_FILE, Err(e));
            return v;
        }
    };
    v.push(
        SIG_FILE,
        Ok(format!(
            "signed by {} over {} file(s) and ledger size {} root {}",
            key.name(),
            manifest.files.len(),
            manifest.ledger_size,
            manifest.ledger_root
        )),
    );
    for name in FILES {
        let path = dir.join(name);
        let listed = manifest.files.iter().find(|(n, _)| n == name);
        let outcome = match (listed, path.exists()) {
            (None, false) => continue,
            (None, true) => Err("present but not covered by the signature".to_string()),
            (Some(_), false) => Err("signed but missing".to_string()),
            (Some((_, want)), true) => match sha256_file(&path) {
                Ok(got) if &got == want => Ok(format!("sha256 {got} as signed")),
                Ok(got) => Err(format!(
                    "edited after signing: sha256 {got}, the signature says {want}"
                )),
                Err(e) => Err(e.to_string()),
            },
        };
        v.push(name, outcome);
    }
    let json_path = dir.join(FILES[0]);
    let ledger = std::fs::read(&json_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string()))
        .and_then(|r| {
            let size = r["source"]["ledger_size"].as_u64();
            let root = r["source"]["ledger_root"].as_str();
            if size == Some(manifest.ledger_size) && root == Some(manifest.ledger_root.as_str()) {
                Ok(format!(
                    "report.json assessed the signed ledger (size {})",
                    manifest.ledger_size
                ))
            } else {
                Err(format!(
                    "report.json names ledger size {size:?} root {root:?}, the signature size {} \
                     root {}",
                    manifest.ledger_size, manifest.ledger_root
                ))
            }
        });
    v.push("ledger", ledger);
    v.manifest = Some(manifest);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_report_verifies_and_any_edit_or_other_key_fails_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = "ab".repeat(32);
        std::fs::write(
            dir.path().join("report.json"),
            format!(r#"{{"source":{{"ledger_size":7,"ledger_root":"{root}"}}}}"#),
        )
        .unwrap();
        std::fs::write(dir.path().join("report.html"), "<html></html>").unwrap();
        let signer = Signer::generate("assessor").unwrap();
        let m = sign(dir.path(), 7, &root, &signer).unwrap();
        assert_eq!(m.files.len(), 2);
        let ok = verify(dir.path(), &signer.verifier());
        assert!(ok.is_ok(), "{ok:?}");

        let other = Signer::generate("assessor").unwrap();
        let bad = verify(dir.path(), &other.verifier());
        assert!(bad.first_failure.unwrap().starts_with(SIG_FILE));

        std::fs::write(dir.path().join("report.html"), "<html> </html>").unwrap();
        let bad = verify(dir.path(), &signer.verifier());
        assert!(
            bad.first_failure
                .as_deref()
                .unwrap()
                .starts_with("report.html: edited"),
            "{bad:?}"
        );
        std::fs::write(dir.path().join("report.html"), "<html></html>").unwrap();
        std::fs::write(dir.path().join("report.pdf"), "%PDF").unwrap();
        let bad = verify(dir.path(), &signer.verifier());
        assert!(
            bad.first_failure
                .as_deref()
                .unwrap()
                .starts_with("report.pdf: present"),
            "{bad:?}"
        );
    }

    #[test]
    fn the_manifest_text_round_trips() {
        let m = Manifest {
            ledger_size: 11407,
            ledger_root: "cd".repeat(32),
            files: vec![("report.json".into(), "01".repeat(32))],
        };
        assert_eq!(Manifest::parse(&m.text()).unwrap(), m);
        assert!(Manifest::parse("aimm-report/1\nledger x y\n").is_err());
    }
}
