//! Trusted commands: an edge node applies an NCMD or DCMD only if its host signed it, and only
//! once, while it is fresh.
//!
//! The scheme. Each command payload carries, beside its writes, three metrics: the host
//! application id ([`HOST_ID`], a string: the name of the host's ed25519 key), a command
//! sequence ([`SEQUENCE`], UInt64: starts at the host's start time in µs and goes up by one per
//! command, so it keeps rising across host sessions too) and an ed25519 signature
//! ([`SIGNATURE`], Bytes, the last metric). The payload's own timestamp is the time it was
//! sent. The signature covers [`DOMAIN`], the topic and the payload's protobuf encoding without
//! the signature metric: every write, the host id, the sequence and the timestamp. The edge
//! node holds the host's public key (its `.vkey`, from `aimm keys new`) and refuses, with the
//! reason: a command with no or a bad signature, one naming another host, one whose sequence
//! is not above the last it accepted (a replay), and one older than its `max_command_age_ms`
//! (or that far in the future: clocks disagree). The sequence check makes the expiry a second
//! line: a replay within the age window is refused by its sequence, and one replayed to an
//! edge node restarted since (which forgot the sequence) by its age.
//!
//! Why signatures and not an HMAC with a shared key: the edge node, on a shop-floor PC, is the
//! easier machine to break into, and with a shared key whoever holds one edge node's key file
//! can command every machine that trusts the same key; with ed25519 an edge node holds only a
//! public key, which commands nothing. One host key serves every edge node. aimm already
//! keeps ed25519 keys for its ledger (same file formats, same `aimm keys new`). The cost is a
//! verification per command, tens of µs, against a network round trip of hundreds.

use super::payload::proto::payload::{metric, Metric};
use super::payload::proto::{DataType, Payload};
use super::payload::{self, Value};
use aimm_ledger::note::{Signer, Verifier};
use prost::Message;
use std::sync::atomic::{AtomicU64, Ordering};

/// Command metric: the id of the host application that sent the command (its key's name).
pub const HOST_ID: &str = "command/host_id";
/// Command metric: the host's command sequence, strictly increasing.
pub const SEQUENCE: &str = "command/seq";
/// Command metric: the ed25519 signature, 64 bytes.
pub const SIGNATURE: &str = "command/signature";
/// What a command signature is of, so it can never pass for another kind of signed message.
pub const DOMAIN: &[u8] = b"aimm sparkplug command v1\0";

/// The host's side: encodes and signs its commands.
#[derive(Debug)]
pub struct CommandSigner {
    signer: Option<Signer>,
    next_seq: AtomicU64,
}

impl CommandSigner {
    /// Signs with `signer` (the host id is its name); `None` sends commands unsigned, which
    /// only an edge node started with insecure commands takes.
    pub fn new(signer: Option<Signer>) -> Self {
        Self {
            signer,
            next_seq: AtomicU64::new(payload::now_ms() * 1000),
        }
    }

    /// The host id commands carry, if they are signed.
    pub fn host_id(&self) -> Option<&str> {
        self.signer.as_ref().map(Signer::name)
    }

    /// A command payload for `topic` writing `metrics`, signed.
    pub fn encode(&self, topic: &str, metrics: &[(&str, Value)]) -> Vec<u8> {
        let mut p = payload::command(metrics);
        let Some(signer) = &self.signer else {
            return p.encode_to_vec();
        };
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
        let ms = p.timestamp;
        p.metrics.push(Metric {
            name: Some(HOST_ID.into()),
            timestamp: ms,
            datatype: Some(DataType::String as u32),
            value: Some(metric::Value::StringValue(signer.name().into())),
            ..Metric::default()
        });
        p.metrics.push(Metric {
            name: Some(SEQUENCE.into()),
            timestamp: ms,
            datatype: Some(DataType::UInt64 as u32),
            value: Some(metric::Value::LongValue(seq)),
            ..Metric::default()
        });
        let signature = signer.sign_bytes(&signed_message(topic, &p));
        p.metrics.push(Metric {
            name: Some(SIGNATURE.into()),
            timestamp: ms,
            datatype: Some(DataType::Bytes as u32),
            value: Some(metric::Value::BytesValue(signature.to_vec())),
            ..Metric::default()
        });
        p.encode_to_vec()
    }
}

/// The bytes a command's signature is of: [`DOMAIN`], the topic, a zero byte and the payload
/// without its signature.
fn signed_message(topic: &str, unsigned: &Payload) -> Vec<u8> {
    let mut msg = DOMAIN.to_vec();
    msg.extend_from_slice(topic.as_bytes());
    msg.push(0);
    unsigned.encode(&mut msg).expect("a Vec grows as needed");
    msg
}

/// Whose commands an edge node takes.
#[derive(Clone, Debug)]
pub enum CommandTrust {
    /// Only commands signed by this host key (the host id is the key's name), each once.
    Host(Box<Verifier>),
    /// Any command on the edge node's topics, signed or not: for a closed, trusted network
    /// only (the node warns at start).
    Insecure,
}

/// Why a command was refused, and whom it claimed to come from.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// The host id the command named, if any.
    pub host_id: Option<String>,
    /// Why it was refused.
    pub reason: String,
}

/// A command that passed: its host, sequence and writes.
#[derive(Debug)]
pub struct Accepted {
    /// The host that signed it (`None` when commands are insecure).
    pub host_id: Option<String>,
    /// Its sequence (`None` when commands are insecure).
    pub seq: Option<u64>,
    /// Its writes, without the authentication metrics.
    pub metrics: Vec<Metric>,
}

/// The edge node's side: checks each command and remembers the last sequence it took.
#[derive(Debug)]
pub struct CommandGate {
    trust: CommandTrust,
    max_age_ms: u64,
    last_seq: Option<u64>,
}

impl CommandGate {
    /// A gate taking what `trust` allows, sent at most `max_age_ms` ago.
    pub fn new(trust: CommandTrust, max_age_ms: u64) -> Self {
        Self {
            trust,
            max_age_ms,
            last_seq: None,
        }
    }

    /// Checks the command `p` that came on `topic` at `now_ms`.
    pub fn check(&mut self, topic: &str, mut p: Payload, now_ms: u64) -> Result<Accepted, Refusal> {
        let host_id = p.metrics.iter().find_map(|m| match (&m.name, &m.value) {
            (Some(n), Some(metric::Value::StringValue(h))) if n == HOST_ID => Some(h.clone()),
            _ => None,
        });
        let refuse = |reason: String| Refusal {
            host_id: host_id.clone(),
            reason,
        };
        let sent_ms = p
            .timestamp
            .ok_or_else(|| refuse("payload has no timestamp".into()))?;
        let verifier = match &self.trust {
            CommandTrust::Insecure => {
                self.fresh(sent_ms, now_ms).map_err(refuse)?;
                p.metrics
                    .retain(|m| ![HOST_ID, SEQUENCE, SIGNATURE].contains(&name_of(m)));
                return Ok(Accepted {
                    host_id,
                    seq: None,
                    metrics: p.metrics,
                });
            }
            CommandTrust::Host(v) => v,
        };
        let signature = match p.metrics.last() {
            Some(m) if name_of(m) == SIGNATURE => match &m.value {
                Some(metric::Value::BytesValue(b)) => b.clone(),
                _ => return Err(refuse("signature metric holds no bytes".into())),
            },
            _ => return Err(refuse(format!("not signed (no {SIGNATURE} metric last)"))),
        };
        p.metrics.pop();
        let claimed = host_id
            .as_deref()
            .ok_or_else(|| refuse(format!("names no host ({HOST_ID})")))?;
        if claimed != verifier.name() {
            return Err(refuse(format!(
                "host '{claimed}' is not trusted here (only '{}')",
                verifier.name()
            )));
        }
        if !verifier.verify(&signed_message(topic, &p), &signature) {
            return Err(refuse(format!(
                "signature does not verify with host '{claimed}''s key"
            )));
        }
        let seq = p
            .metrics
            .iter()
            .find_map(|m| match &m.value {
                Some(metric::Value::LongValue(s)) if name_of(m) == SEQUENCE => Some(*s),
                _ => None,
            })
            .ok_or_else(|| refuse(format!("no command sequence ({SEQUENCE})")))?;
        if let Some(last) = self.last_seq.filter(|&last| seq <= last) {
            return Err(refuse(format!(
                "sequence {seq} is not above {last}, the last taken: a replay"
            )));
        }
        self.fresh(sent_ms, now_ms).map_err(refuse)?;
        // Authentic and new: even if its writes are refused, it may not come again.
        self.last_seq = Some(seq);
        p.metrics
            .retain(|m| ![HOST_ID, SEQUENCE].contains(&name_of(m)));
        Ok(Accepted {
            host_id,
            seq: Some(seq),
            metrics: p.metrics,
        })
    }

    fn fresh(&self, sent_ms: u64, now_ms: u64) -> Result<(), String> {
        let max = self.max_age_ms;
        if now_ms > sent_ms + max {
            return Err(format!(
                "expired: sent {} ms ago, older than the {max} ms a command may be",
                now_ms - sent_ms
            ));
        }
        if sent_ms > now_ms + max {
            return Err(format!(
                "sent {} ms in the future (clocks more than {max} ms apart)",
                sent_ms - now_ms
            ));
        }
        Ok(())
    }
}

fn name_of(m: &Metric) -> &str {
    m.name.as_deref().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(signer: &Signer) -> CommandGate {
        CommandGate::new(CommandTrust::Host(Box::new(signer.verifier())), 1000)
    }

    const TOPIC: &str = "spBv1.0/g/DCMD/e/d";

    fn write() -> [(&'static str, Value); 1] {
        [(payload::CMD_FEED_OVERRIDE, Value::Number(80.0))]
    }

    #[test]
    fn a_signed_command_passes_once_and_forgeries_do_not() {
        let host = Signer::from_seed("plant-host", [7; 32]).unwrap();
        let other = Signer::from_seed("intruder", [8; 32]).unwrap();
        let impostor = Signer::from_seed("plant-host", [9; 32]).unwrap();
        let signer = CommandSigner::new(Some(host.clone()));
        let mut g = gate(&host);
        let now = payload::now_ms();
        let decode = |b: Vec<u8>| payload::decode(&b).unwrap();

        let good = signer.encode(TOPIC, &write());
        let ok = g.check(TOPIC, decode(good.clone()), now).unwrap();
        assert_eq!(ok.host_id.as_deref(), Some("plant-host"));
        assert_eq!(ok.metrics.len(), 1, "only the write is left");
        let replay = g.check(TOPIC, decode(good.clone()), now).unwrap_err();
        assert!(replay.reason.contains("replay"), "{replay:?}");

        let next = signer.encode(TOPIC, &write());
        let moved = g.check("spBv1.0/g/DCMD/e/other", decode(next), now);
        assert!(moved.unwrap_err().reason.contains("does not verify"));

        let unsigned = payload::encode_command(&write());
        assert!(g
            .check(TOPIC, decode(unsigned), now)
            .unwrap_err()
            .reason
            .contains("not signed"));
        let foreign = CommandSigner::new(Some(other)).encode(TOPIC, &write());
        let e = g.check(TOPIC, decode(foreign), now).unwrap_err();
        assert_eq!(e.host_id.as_deref(), Some("intruder"));
        assert!(e.reason.contains("not trusted"), "{e:?}");
        let forged = CommandSigner::new(Some(impostor)).encode(TOPIC, &write());
        let e = g.check(TOPIC, decode(forged), now).unwrap_err();
        assert!(e.reason.contains("does not verify"), "{e:?}");

        let late = signer.encode(TOPIC, &write());
        let e = g.check(TOPIC, decode(late), now + 5000).unwrap_err();
        assert!(e.reason.contains("expired"), "{e:?}");
        let fine = signer.encode(TOPIC, &write());
        assert!(g.check(TOPIC, decode(fine), now).is_ok());
    }
}
