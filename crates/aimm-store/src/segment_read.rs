//! Reading sealed segments back, the same for every backend: decoding a stored blob and checking
//! it against its index row, verifying its digest, and assembling the samples of a time range
//! from the overlapping segments.

use crate::error::{Result, StoreError};
use crate::segment_codec::{decode_segment, CodecError};
use crate::store::SegmentMeta;
use aimm_model::{MachineId, SignalKind, SignalSeries, TimeNs};
use sha2::{Digest, Sha256};

/// Decodes a stored blob of database `db` and checks it is the segment its index row describes.
pub(crate) fn decode_checked(db: &str, meta: &SegmentMeta, blob: &[u8]) -> Result<SignalSeries> {
    let corrupt = |source| StoreError::CorruptSegment {
        db: db.to_string(),
        id: meta.id,
        source,
    };
    let series = decode_segment(blob).map_err(corrupt)?;
    if series.machine != meta.machine
        || series.signal != meta.signal
        || series.len() as u64 != meta.count
        || series.t_ns.first() != Some(&meta.t_first_ns)
        || series.t_ns.last() != Some(&meta.t_last_ns)
    {
        return Err(corrupt(CodecError::BadField {
            field: "header",
            problem: format!(
                "blob holds {}/{} with {} samples, index row says {}/{} with {}",
                series.machine,
                series.signal,
                series.len(),
                meta.machine,
                meta.signal,
                meta.count
            ),
        }));
    }
    Ok(series)
}

/// Recomputes the blob's SHA-256 against the stored digest, then checks it decodes to its row.
pub(crate) fn verify_blob(db: &str, meta: SegmentMeta, blob: &[u8]) -> Result<SegmentMeta> {
    let actual: [u8; 32] = Sha256::digest(blob).into();
    if actual != meta.sha256 {
        return Err(StoreError::DigestMismatch {
            db: db.to_string(),
            id: meta.id,
            machine: meta.machine.clone(),
            signal: meta.signal,
            stored: meta.sha256_hex(),
            actual: hex::encode(actual),
        });
    }
    decode_checked(db, &meta, blob)?;
    Ok(meta)
}

/// The samples in `[t0_ns, t1_ns)` of the given segments (ordered by start time), in time order.
pub(crate) fn samples_in_range(
    db: &str,
    machine: &MachineId,
    signal: SignalKind,
    t0_ns: TimeNs,
    t1_ns: TimeNs,
    rows: &[(SegmentMeta, Vec<u8>)],
) -> Result<SignalSeries> {
    let mut out = SignalSeries::new(machine.clone(), signal);
    let mut in_order = true;
    for (meta, blob) in rows {
        let seg = decode_checked(db, meta, blob)?;
        // Each segment's timestamps are sorted, so the range is one contiguous slice.
        let lo = seg.t_ns.partition_point(|&t| t < t0_ns);
        let hi = seg.t_ns.partition_point(|&t| t < t1_ns);
        if let (Some(&prev), Some(&next)) = (out.t_ns.last(), seg.t_ns[lo..hi].first()) {
            in_order &= prev <= next;
        }
        out.t_ns.extend_from_slice(&seg.t_ns[lo..hi]);
        out.values.extend_from_slice(&seg.values[lo..hi]);
    }
    if !in_order {
        // Segments written by separate appends may overlap in time; merge them stably so
        // equal timestamps keep segment order.
        let mut pairs: Vec<(TimeNs, f64)> = out
            .t_ns
            .iter()
            .copied()
            .zip(out.values.iter().copied())
            .collect();
        pairs.sort_by_key(|&(t, _)| t);
        (out.t_ns, out.values) = pairs.into_iter().unzip();
    }
    Ok(out)
}
