//! Sealing a batch of series: encode each into a segment blob and hash it, spread over a few
//! threads (`std::thread::scope`) so that compression is not the bottleneck of an append. Backend
//! independent: every [`crate::Store`] implementation seals through here before its insert.

use crate::segment_codec::{encode_segment, validate_series, CodecError};
use aimm_ledger::record::{Origin, SensorSegment};
use aimm_ledger::{Evidence, Record};
use aimm_model::{SignalSeries, TimeNs};
use sha2::{Digest, Sha256};

/// Threads used to seal one batch (the target machine has 2 cores; more only adds contention
/// with the database writer).
const SEAL_THREADS: usize = 2;

/// One sealed segment, ready to insert: the blob and the SHA-256 of exactly its bytes.
pub struct Sealed<'a> {
    pub series: &'a SignalSeries,
    pub blob: Vec<u8>,
    pub sha256: [u8; 32],
    /// The overview stored beside the blob (not part of it, nor of its digest).
    pub overview: Vec<u8>,
}

impl Sealed<'_> {
    /// First and last timestamp (sealed series are never empty).
    pub fn span(&self) -> (TimeNs, TimeNs) {
        (self.series.t_ns[0], self.series.t_ns[self.series.len() - 1])
    }

    /// The `sensor_segment` ledger record that sealing this segment, of samples from `origin`,
    /// appends.
    pub fn ledger_record(&self, origin: Origin) -> Record {
        let (t_first_ns, t_last_ns) = self.span();
        Record::new(
            t_last_ns,
            Evidence::SensorSegment(SensorSegment {
                machine: self.series.machine.to_string(),
                signal: self.series.signal.name().to_string(),
                t_first_ns,
                t_last_ns,
                count: self.series.len() as u64,
                sha256: self.sha256,
                origin: Some(origin),
            }),
            vec![],
        )
    }
}

/// Validates every series first (so a bad one rejects the batch before any work), then seals the
/// non-empty ones in input order.
pub fn seal_batch(series: &[SignalSeries]) -> Result<Vec<Sealed<'_>>, CodecError> {
    series.iter().try_for_each(validate_series)?;
    let todo: Vec<&SignalSeries> = series.iter().filter(|s| !s.is_empty()).collect();
    let threads = SEAL_THREADS
        .min(todo.len())
        .min(std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads <= 1 {
        return todo.into_iter().map(seal_one).collect();
    }
    // Contiguous chunks keep the output in input order when joined in spawn order.
    let chunk = todo.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = todo
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| seal_one(s))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(todo.len());
        for worker in workers {
            out.extend(worker.join().expect("segment sealing thread panicked")?);
        }
        Ok(out)
    })
}

fn seal_one(series: &SignalSeries) -> Result<Sealed<'_>, CodecError> {
    let blob = encode_segment(series)?;
    let sha256 = Sha256::digest(&blob).into();
    Ok(Sealed {
        series,
        blob,
        sha256,
        overview: crate::overview::encode(series),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimm_model::{MachineId, SignalKind};
    use proptest::prelude::*;

    fn series(i: usize, n: usize) -> SignalSeries {
        let mut s = SignalSeries::new(MachineId::new(format!("m{i}")), SignalKind::ALL[i % 15]);
        for k in 0..n {
            s.push(k as i64 * 1_000, (i * k) as f64);
        }
        s
    }

    #[test]
    fn parallel_sealing_keeps_input_order_and_skips_empty_series() {
        let input: Vec<_> = (0..7)
            .map(|i| series(i, if i == 3 { 0 } else { 50 + i }))
            .collect();
        let sealed = seal_batch(&input).unwrap();
        let expected: Vec<_> = input.iter().filter(|s| !s.is_empty()).collect();
        assert_eq!(sealed.len(), expected.len());
        for (s, e) in sealed.iter().zip(expected) {
            assert!(std::ptr::eq(s.series, e));
            assert_eq!(s.blob, encode_segment(e).unwrap());
            assert_eq!(s.sha256, <[u8; 32]>::from(Sha256::digest(&s.blob)));
        }
    }

    #[test]
    fn one_bad_series_rejects_the_batch() {
        let mut bad = series(2, 10);
        bad.t_ns.swap(3, 4);
        let err = seal_batch(&[series(1, 10), bad]).err().unwrap().to_string();
        assert!(err.contains("m2/spindle_speed_rpm"), "{err}");
    }

    proptest! {
        #[test]
        fn digest_changes_when_any_byte_changes(
            n in 1usize..300,
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let s = series(0, n);
            let sealed = seal_batch(std::slice::from_ref(&s)).unwrap().remove(0);
            let mut blob = sealed.blob.clone();
            let i = at.index(blob.len());
            blob[i] ^= flip;
            prop_assert_ne!(<[u8; 32]>::from(Sha256::digest(&blob)), sealed.sha256);
        }
    }
}
