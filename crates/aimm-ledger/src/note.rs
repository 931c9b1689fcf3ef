//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys, following the Go
//! reference implementation (golang.org/x/mod/sumdb/note) and parsing strictly: lowercase hex key
//! IDs, canonical base64 only, so a flipped byte anywhere in a note or a key is always detected.
//!
//! A note is UTF-8 text ending in `\n`, a blank line, then one or more signature lines
//! `— <key name> <base64(key ID ‖ signature)>\n`. The key ID is the first four bytes of
//! SHA-256(key name ‖ `\n` ‖ 0x01 ‖ public key). Key texts:
//! verifier `<name>+<key ID hex>+<base64(0x01 ‖ public key)>`,
//! signer `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 ‖ seed)>`.
//!
//! Policies taken from Go: at most 100 signature lines; identical lines count once; signatures
//! by unknown keys are ignored but at least one must verify; a known key listed twice is an
//! error. Stricter than Go: every signature line of a known key is verified, not only the first.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;

/// Algorithm byte of Ed25519 keys.
const ALG_ED25519: u8 = 0x01;
/// Go's cap on signature lines, against notes that take forever to check.
const MAX_SIGNATURES: usize = 100;
const SIG_PREFIX: &str = "— ";

/// Why a key or a note was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key name that is empty or holds spaces or '+'.
    #[error("invalid key name '{0}': must be non-empty UTF-8 without spaces or '+'")]
    InvalidName(String),
    /// Malformed verifier key text.
    #[error("verifier key '{text}': {what}")]
    VerifierKey {
        /// The key text.
        text: String,
        /// What is wrong with it.
        what: String,
    },
    /// Malformed signer key text (what is wrong; the private key text is never echoed back).
    #[error("signer key: {0}")]
    SignerKey(String),
    /// The note text or its signature lines do not follow the signed-note format.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// No signature line is by a trusted key.
    #[error("note has no signature from a trusted key")]
    NoVerifiableSignatures,
    /// A trusted key's signature does not verify.
    #[error("invalid signature by trusted key {name}+{key_id:08x}")]
    InvalidSignature {
        /// The key's name.
        name: String,
        /// The key's ID.
        key_id: u32,
    },
    /// Two trusted keys share a name and key ID.
    #[error("ambiguous key {name}+{key_id:08x}: listed more than once among the trusted keys")]
    AmbiguousKey {
        /// The key's name.
        name: String,
        /// The key's ID.
        key_id: u32,
    },
}

/// Whether `name` may name a key: non-empty, no Unicode white space, no '+'.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == '+')
}

/// Key ID: SHA-256(name ‖ '\n' ‖ 0x01 ‖ public key)[..4], big-endian.
fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Parses exactly eight lowercase hex digits.
fn parse_key_id(text: &str) -> Option<u32> {
    let ok = text.len() == 8 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ok.then(|| u32::from_str_radix(text, 16).ok()).flatten()
}

/// Decodes `0x01 ‖ 32 bytes` from canonical base64.
fn decode_key(b64: &str) -> Result<[u8; 32], String> {
    let raw = B64
        .decode(b64)
        .map_err(|e| format!("key is not canonical base64: {e}"))?;
    match raw.split_first() {
        Some((&ALG_ED25519, rest)) => rest
            .try_into()
            .map_err(|_| format!("Ed25519 key has {} bytes, not 32", rest.len())),
        Some((alg, _)) => Err(format!("unknown key algorithm 0x{alg:02x}")),
        None => Err("empty key".into()),
    }
}

fn encode_key(key: &[u8; 32]) -> String {
    let mut raw = Vec::with_capacity(33);
    raw.push(ALG_ED25519);
    raw.extend_from_slice(key);
    B64.encode(raw)
}

/// A public key that checks signatures, with its name and key ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Parses `<name>+<key ID hex>+<base64(0x01 ‖ public key)>`, checking the key ID.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let err = |what: &str| NoteError::VerifierKey {
            text: text.to_string(),
            what: what.to_string(),
        };
        let mut parts = text.splitn(3, '+');
        let (name, id, b64) = match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some(i), Some(k)) => (n, i, k),
            _ => return Err(err("expected <name>+<key id>+<key>")),
        };
        if !is_valid_name(name) {
            return Err(err("invalid key name"));
        }
        let key_id_given = parse_key_id(id).ok_or_else(|| err("key ID is not 8 lowercase hex"))?;
        let public = decode_key(b64).map_err(|e| err(&e))?;
        if key_id(name, &public) != key_id_given {
            return Err(err("key ID does not match the name and key"));
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| err("not an Ed25519 point"))?;
        Ok(Self {
            name: name.to_string(),
            key_id: key_id_given,
            key,
        })
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's 32-bit ID (from its name, type and public key).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Whether `sig` is this key's signature of `msg` (strict Ed25519: canonical encodings only).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        Signature::from_slice(sig).is_ok_and(|s| self.key.verify_strict(msg, &s).is_ok())
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let public = self.key.to_bytes();
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            encode_key(&public)
        )
    }
}

/// A private key that signs notes, with its name and key ID.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Signer {
    /// A new key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        Self::from_seed(name, SigningKey::generate(&mut rand_core::OsRng).to_bytes())
    }

    /// The key with Ed25519 seed `seed`.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        if !is_valid_name(name) {
            return Err(NoteError::InvalidName(name.to_string()));
        }
        let key = SigningKey::from_bytes(&seed);
        Ok(Self {
            name: name.to_string(),
            key_id: key_id(name, &key.verifying_key().to_bytes()),
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 ‖ seed)>`, checking the key ID
    /// against the derived public key.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let err = |what: &str| NoteError::SignerKey(what.to_string());
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| err("does not start with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (name, id, b64) = match (parts.next(), parts.next(), parts.next()) {
            (Some(n), Some(i), Some(k)) => (n, i, k),
            _ => return Err(err("expected PRIVATE+KEY+<name>+<key id>+<key>")),
        };
        if !is_valid_name(name) {
            return Err(err(&format!("invalid key name '{name}'")));
        }
        let id = parse_key_id(id).ok_or_else(|| err("key ID is not 8 lowercase hex"))?;
        let seed = decode_key(b64).map_err(|e| err(&e))?;
        let signer = Self::from_seed(name, seed)?;
        if signer.key_id != id {
            return Err(err("key ID does not match the name and key"));
        }
        Ok(signer)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's 32-bit ID (from its name, type and public key).
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 signature of `msg` (for messages that are not notes, e.g. a command; the
    /// caller puts its own domain prefix in `msg`), checked by [`Verifier::verify`].
    pub fn sign_bytes(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    /// The matching public key.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }
}

/// The private key text, in Go's format.
impl fmt::Display for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seed = self.key.to_bytes();
        write!(
            f,
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            encode_key(&seed)
        )
    }
}

/// Debug output leaves the private key out, so it cannot leak into logs.
impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({}+{:08x})", self.name, self.key_id)
    }
}

/// Checks a note text: UTF-8 (by type), no control characters but '\n', ends in '\n'.
fn check_text(text: &str) -> Result<(), NoteError> {
    if let Some(c) = text.chars().find(|&c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(format!(
            "control character U+{:04X} in the text",
            c as u32
        )));
    }
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed(
            "text does not end in a newline".into(),
        ));
    }
    Ok(())
}

/// Signs `text` with every signer, in order; returns the whole note.
pub fn sign(text: &str, signers: &[&Signer]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::Malformed(
            "a note needs at least one signature".into(),
        ));
    }
    let mut note = String::with_capacity(text.len() + 1 + signers.len() * 110);
    note.push_str(text);
    note.push('\n');
    for s in signers {
        let mut raw = s.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&s.key.sign(text.as_bytes()).to_bytes());
        note.push_str(&format!("{SIG_PREFIX}{} {}\n", s.name, B64.encode(raw)));
    }
    Ok(note)
}

/// Splits a note into its text and its signature block (without the blank line), checking the
/// note's outer form but no signature. The text is everything up to the last blank line.
pub fn split(message: &str) -> Result<(&str, &str), NoteError> {
    if let Some(c) = message.chars().find(|&c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(format!(
            "control character U+{:04X}",
            c as u32
        )));
    }
    let at = message
        .rfind("\n\n")
        .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
    let (text, sigs) = (&message[..at + 1], &message[at + 2..]);
    if sigs.is_empty() {
        return Err(NoteError::Malformed("no signature lines".into()));
    }
    if !sigs.ends_with('\n') {
        return Err(NoteError::Malformed(
            "last signature line does not end in a newline".into(),
        ));
    }
    Ok((text, sigs))
}

/// A note whose signatures were checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedNote {
    /// The note text (without the signature lines).
    pub text: String,
    /// Trusted keys that signed it, as (name, key ID), in line order.
    pub verified: Vec<(String, u32)>,
    /// Distinct signature lines by keys not in the trusted list (ignored).
    pub unverified_lines: usize,
}

/// Parses `message` and checks its signatures against the trusted `verifiers`.
pub fn open(message: &str, verifiers: &[Verifier]) -> Result<OpenedNote, NoteError> {
    let (text, sigs) = split(message)?;
    let mut verified = Vec::new();
    let mut seen = HashSet::new();
    let mut unverified = HashSet::new();
    for (n, line) in sigs.split_terminator('\n').enumerate() {
        let line_no = n + 1;
        if n >= MAX_SIGNATURES {
            return Err(NoteError::Malformed(format!(
                "more than {MAX_SIGNATURES} signature lines"
            )));
        }
        let malformed =
            |what: &str| NoteError::Malformed(format!("signature line {line_no}: {what}"));
        let body = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| malformed("does not start with '— '"))?;
        let (name, b64) = body
            .split_once(' ')
            .ok_or_else(|| malformed("no space between key name and signature"))?;
        if !is_valid_name(name) {
            return Err(malformed("invalid key name"));
        }
        let raw = B64
            .decode(b64)
            .map_err(|_| malformed("signature is not canonical base64"))?;
        if raw.len() < 5 {
            return Err(malformed("signature too short"));
        }
        let id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let mut matching = verifiers
            .iter()
            .filter(|v| v.name == name && v.key_id == id);
        let Some(v) = matching.next() else {
            unverified.insert(line);
            continue;
        };
        if matching.next().is_some() {
            return Err(NoteError::AmbiguousKey {
                name: name.to_string(),
                key_id: id,
            });
        }
        if !seen.insert(line) {
            continue;
        }
        if !v.verify(text.as_bytes(), &raw[4..]) {
            return Err(NoteError::InvalidSignature {
                name: name.to_string(),
                key_id: id,
            });
        }
        if !verified.iter().any(|(n, i)| n == name && *i == id) {
            verified.push((name.to_string(), id));
        }
    }
    if verified.is_empty() {
        return Err(NoteError::NoVerifiableSignatures);
    }
    Ok(OpenedNote {
        text: text.to_string(),
        verified,
        unverified_lines: unverified.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_open_round_trips_and_keys_reparse() {
        let signer = Signer::generate("aimm.example/ledger").unwrap();
        let text = signer.to_string();
        assert!(text.starts_with("PRIVATE+KEY+aimm.example/ledger+"));
        let again = Signer::parse(&text).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
        let v = Verifier::parse(&signer.verifier().to_string()).unwrap();
        assert_eq!(v, signer.verifier());
        let note = sign("hello\n", &[&signer]).unwrap();
        let opened = open(&note, &[v]).unwrap();
        assert_eq!(opened.text, "hello\n");
        assert_eq!(
            opened.verified,
            vec![(signer.name().to_string(), signer.key_id())]
        );
        assert!(!format!("{signer:?}").contains(&text[30..]));
    }

    #[test]
    fn non_canonical_base64_and_uppercase_hex_are_rejected() {
        let good = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        assert!(Verifier::parse(good).is_ok());
        // Upper-case key ID.
        assert!(Verifier::parse(&good.replace("c74f20a3", "C74F20A3")).is_err());
        // Last base64 char 'W' = 22 = 0b010110: the final 2 bits must be zero; 'X' sets one.
        assert!(Verifier::parse(&good.replace("10TW", "10TX")).is_err());
        assert!(
            B64.decode("AB==").is_err(),
            "trailing bits must be rejected"
        );
    }

    #[test]
    fn sign_refuses_bad_text() {
        let s = Signer::from_seed("k", [1; 32]).unwrap();
        assert!(sign("no newline", &[&s]).is_err());
        assert!(sign("tab\there\n", &[&s]).is_err());
        assert!(sign("ok\n", &[]).is_err());
        assert!(Signer::from_seed("bad name", [1; 32]).is_err());
    }
}
