//! The per-segment overview stored beside a sealed segment (not inside its blob, so the blob's
//! bytes and SHA-256, and with them the ledger's digests, are what they were before overviews
//! existed): the segment's samples cut into chunks of [`CHUNK`] consecutive samples, each reduced
//! to its first and last time, count, min, max, sum and last value. A range query for a plot
//! reads these few bytes instead of decoding the segment (see [`crate::downsample`]).
//!
//! Byte format (little-endian): version `u8` (= 1), chunk size `u32`, number of chunks `u32`,
//! then per chunk `t_first i64, t_last i64, count u32, min f64, max f64, sum f64, last f64`.

use aimm_model::SignalSeries;

/// Samples per chunk. 128 keeps the overview at ~0.4 byte per sample (a tenth of a compressed
/// segment, or less) while a chunk of a 1 kHz signal spans 0.13 s, narrow enough for buckets
/// from ~2 s up (a 1-hour window at 1000 points has 3.6 s buckets).
pub(crate) const CHUNK: usize = 128;

const VERSION: u8 = 1;
const HEADER: usize = 9;
const CHUNK_BYTES: usize = 8 + 8 + 4 + 8 * 4;

/// One chunk of consecutive samples of a segment, reduced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Chunk {
    pub t_first: i64,
    pub t_last: i64,
    pub count: u32,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub last: f64,
}

/// The overview of a (valid, non-empty) series, encoded.
pub(crate) fn encode(series: &SignalSeries) -> Vec<u8> {
    let chunks = series.len().div_ceil(CHUNK);
    let mut out = Vec::with_capacity(HEADER + chunks * CHUNK_BYTES);
    out.push(VERSION);
    out.extend_from_slice(&(CHUNK as u32).to_le_bytes());
    out.extend_from_slice(&(chunks as u32).to_le_bytes());
    for (t, v) in series.t_ns.chunks(CHUNK).zip(series.values.chunks(CHUNK)) {
        let (min, max, sum) = v.iter().fold(
            (f64::INFINITY, f64::NEG_INFINITY, 0.0),
            |(lo, hi, s), &x| (lo.min(x), hi.max(x), s + x),
        );
        out.extend_from_slice(&t[0].to_le_bytes());
        out.extend_from_slice(&t[t.len() - 1].to_le_bytes());
        out.extend_from_slice(&(t.len() as u32).to_le_bytes());
        for x in [min, max, sum, v[v.len() - 1]] {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

/// The chunks of an encoded overview; `Err` names what is wrong with it.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<Chunk>, String> {
    if bytes.len() < HEADER || bytes[0] != VERSION {
        return Err(format!(
            "overview of {} bytes is not version {VERSION}",
            bytes.len()
        ));
    }
    let n = u32::from_le_bytes(bytes[5..9].try_into().expect("4 bytes")) as usize;
    let body = &bytes[HEADER..];
    if body.len() != n * CHUNK_BYTES {
        return Err(format!(
            "overview says {n} chunks but holds {} bytes",
            body.len()
        ));
    }
    let i64_at = |c: &[u8], at: usize| i64::from_le_bytes(c[at..at + 8].try_into().expect("8"));
    let f64_at = |c: &[u8], at: usize| f64::from_le_bytes(c[at..at + 8].try_into().expect("8"));
    Ok(body
        .chunks_exact(CHUNK_BYTES)
        .map(|c| Chunk {
            t_first: i64_at(c, 0),
            t_last: i64_at(c, 8),
            count: u32::from_le_bytes(c[16..20].try_into().expect("4")),
            min: f64_at(c, 20),
            max: f64_at(c, 28),
            sum: f64_at(c, 36),
            last: f64_at(c, 44),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimm_model::{MachineId, SignalKind};

    #[test]
    fn chunks_reduce_consecutive_samples() {
        let mut s = SignalSeries::new(MachineId::new("m"), SignalKind::ALL[0]);
        for i in 0..300 {
            s.push(i * 10, (i % 7) as f64);
        }
        let chunks = decode(&encode(&s)).unwrap();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[2].count, 300 - 2 * CHUNK as u32);
        assert_eq!(chunks[1].t_first, CHUNK as i64 * 10);
        assert_eq!(chunks[2].t_last, 2990);
        assert_eq!(chunks[2].last, (299 % 7) as f64);
        assert_eq!((chunks[0].min, chunks[0].max), (0.0, 6.0));
        let sum: f64 = chunks.iter().map(|c| c.sum).sum();
        assert_eq!(sum, s.values.iter().sum::<f64>());
        assert!(decode(&encode(&s)[..20]).is_err());
    }
}
