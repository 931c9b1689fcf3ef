//! Range queries reduced for a plot ([`crate::Store::read_downsampled`]): a signal over a time
//! range as at most `max_points` equal-width buckets (count, min, max, mean, last), or as its raw
//! samples when there are no more of them than that.
//!
//! Decoding every segment of a long range costs ~20 ns per sample (10 M samples take several
//! hundred ms), so segments lying wholly inside the range are answered from their stored
//! overview ([`crate::overview`]: chunks of 128 consecutive samples) whenever its chunks are
//! narrow compared with a bucket; only the segments at the edges of the range, segments sealed
//! before overviews existed, and segments whose chunks are too wide for the buckets are decoded.

use crate::backend::{collect, segment_meta, Backend, Overlapping, SegmentsWhere, BLOB_COLUMN};
use crate::error::{Result, StoreError};
use crate::overview::{self, Chunk};
use crate::segment_read::decode_checked;
use crate::store::SegmentMeta;
use aimm_model::{MachineId, SignalKind, SignalSeries, TimeNs};
use serde::{Deserialize, Serialize};

/// Largest `max_points` [`crate::Store::read_downsampled`] accepts: more points than any plot
/// shows, and a bound on the memory one query takes.
pub const MAX_POINTS: usize = 100_000;

/// An overview chunk is used only when its time span is at most this fraction of a bucket's
/// width, so that a chunk straddling a bucket boundary moves at most ~1/16 of a bucket's samples
/// to its neighbour; wider chunks are decoded instead.
const CHUNK_SPAN_PER_BUCKET: i128 = 16;

/// More segments to decode than this (or all of them) are fetched with one range query instead
/// of one query each (one round trip instead of many on PostgreSQL).
const FETCH_ONE_BY_ONE: usize = 8;

/// A signal over `[t0_ns, t1_ns)` reduced for a plot, as [`crate::Store::read_downsampled`]
/// returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Downsampled {
    /// The machine.
    pub machine: String,
    /// The signal's name.
    pub signal: String,
    /// Start of the range (included), UTC ns.
    pub t0_ns: i64,
    /// End of the range (excluded), UTC ns.
    pub t1_ns: i64,
    /// Width of one bucket in ns; 0 when the points are the raw samples.
    pub bucket_ns: i64,
    /// Samples in the range in all.
    pub samples: u64,
    /// Non-empty buckets in time order.
    pub points: Vec<Bucket>,
}

/// One point of a [`Downsampled`]: a bucket of samples, or one raw sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket (`t0_ns + k * bucket_ns`), or the sample's time when raw; UTC ns.
    pub t_ns: i64,
    /// Samples in the bucket (1 when raw).
    pub count: u64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
    /// Value of the latest sample (of equal times, the one `read_samples` lists last).
    pub last: f64,
}

/// A bucket being filled.
#[derive(Clone, Copy)]
struct Acc {
    count: u64,
    min: f64,
    max: f64,
    sum: f64,
    last_t: i64,
    last: f64,
}

const EMPTY: Acc = Acc {
    count: 0,
    min: f64::INFINITY,
    max: f64::NEG_INFINITY,
    sum: 0.0,
    last_t: i64::MIN,
    last: f64::NAN,
};

impl Acc {
    /// Adds `count` samples (at least one) with these extremes and sum, the latest at `last_t`.
    /// Callers add in segment order, then time order within a segment, so `>=` makes the latest
    /// of equal times the one `read_samples`' stable merge lists last.
    fn add(&mut self, count: u64, min: f64, max: f64, sum: f64, last_t: i64, last: f64) {
        self.count += count;
        self.min = self.min.min(min);
        self.max = self.max.max(max);
        self.sum += sum;
        if last_t >= self.last_t {
            self.last_t = last_t;
            self.last = last;
        }
    }
}

/// Equal-width buckets over `[t0, t0 + n * width)`.
struct Buckets {
    t0: i64,
    width: i128,
    acc: Vec<Acc>,
}

impl Buckets {
    fn new(t0: i64, t1: i64, max_points: usize) -> Self {
        let span = t1 as i128 - t0 as i128;
        let width = (span + max_points as i128 - 1) / max_points as i128;
        let n = ((span + width - 1) / width) as usize;
        Buckets {
            t0,
            width,
            acc: vec![EMPTY; n],
        }
    }

    /// The bucket of time `t` (which lies in the range).
    fn index(&self, t: i64) -> usize {
        ((t as i128 - self.t0 as i128) / self.width) as usize
    }

    fn add_samples(&mut self, t: &[i64], v: &[f64]) {
        for (&t, &v) in t.iter().zip(v) {
            let i = self.index(t);
            self.acc[i].add(1, v, v, v, t, v);
        }
    }

    /// A chunk goes whole into the bucket of its first sample.
    fn add_chunk(&mut self, c: &Chunk) {
        let i = self.index(c.t_first);
        self.acc[i].add(c.count.into(), c.min, c.max, c.sum, c.t_last, c.last);
    }

    fn points(&self) -> Vec<Bucket> {
        self.acc
            .iter()
            .enumerate()
            .filter(|(_, a)| a.count > 0)
            .map(|(k, a)| Bucket {
                t_ns: (self.t0 as i128 + k as i128 * self.width) as i64,
                count: a.count,
                min: a.min,
                max: a.max,
                mean: a.sum / a.count as f64,
                last: a.last,
            })
            .collect()
    }
}

/// A segment overlapping the range and how it is answered.
struct Part {
    meta: SegmentMeta,
    chunks: Option<Vec<Chunk>>,
    /// Its samples in the range, when it is decoded.
    decoded: Option<SignalSeries>,
}

/// The reasons [`crate::Store::read_downsampled`] refuses its arguments, if any.
fn check_arguments(t0_ns: TimeNs, t1_ns: TimeNs, max_points: usize) -> Option<String> {
    if max_points == 0 || max_points > MAX_POINTS {
        Some(format!(
            "max_points {max_points}: must be within 1..={MAX_POINTS}"
        ))
    } else if t1_ns <= t0_ns {
        Some(format!(
            "empty range: t1_ns {t1_ns} is not after t0_ns {t0_ns}"
        ))
    } else {
        None
    }
}

/// [`crate::Store::read_downsampled`] on any backend.
pub(crate) fn read_downsampled(
    store: &impl Backend,
    machine: &MachineId,
    signal: SignalKind,
    t0_ns: TimeNs,
    t1_ns: TimeNs,
    max_points: usize,
) -> Result<Downsampled> {
    const OP: &str = "read_downsampled";
    let db = store.db();
    if let Some(problem) = check_arguments(t0_ns, t1_ns, max_points) {
        return Err(StoreError::InvalidArgument {
            db: db.to_string(),
            op: OP,
            problem,
        });
    }
    let range = || Overlapping {
        machine: machine.as_str(),
        signal: signal.name(),
        t0_ns,
        t1_ns,
    };
    let mut parts = store.read(OP, |c| {
        collect(
            |each| c.segment_overviews(range(), each),
            |row| {
                let meta = segment_meta(db, row)?;
                let chunks = row
                    .opt_bytes(BLOB_COLUMN)?
                    .map(|b| overview::decode(&b))
                    .transpose()
                    .map_err(|e| {
                        crate::backend::corrupt_row(db, "segment_overviews", meta.id, e)
                    })?;
                Ok(Part {
                    meta,
                    chunks,
                    decoded: None,
                })
            },
        )
    })?;
    let mut buckets = Buckets::new(t0_ns, t1_ns, max_points);

    // Which segments must be decoded: the edges of the range, those without an overview, and
    // those whose chunks are too wide for the buckets.
    let must_decode = |p: &Part| {
        p.meta.t_first_ns < t0_ns
            || p.meta.t_last_ns >= t1_ns
            || p.chunks.as_ref().is_none_or(|chunks| {
                chunks.iter().any(|c| {
                    (c.t_last as i128 - c.t_first as i128) * CHUNK_SPAN_PER_BUCKET > buckets.width
                })
            })
    };
    let todo: Vec<usize> = (0..parts.len())
        .filter(|&i| must_decode(&parts[i]))
        .collect();
    let blobs = store.read(OP, |c| {
        if todo.len() > FETCH_ONE_BY_ONE || todo.len() == parts.len() {
            collect(
                |each| c.segments(SegmentsWhere::Overlapping(range()), true, each),
                |row| Ok((segment_meta(db, row)?, row.bytes(BLOB_COLUMN)?)),
            )
        } else {
            let mut out = Vec::with_capacity(todo.len());
            for &i in &todo {
                out.extend(collect(
                    |each| c.segments(SegmentsWhere::Id(parts[i].meta.id.0), true, each),
                    |row| Ok((segment_meta(db, row)?, row.bytes(BLOB_COLUMN)?)),
                )?);
            }
            Ok(out)
        }
    })?;
    let mut blobs = blobs.into_iter().peekable();
    for &i in &todo {
        // Both lists are in (t_first_ns, id) order; skip blobs of segments not to decode.
        let (meta, blob) = loop {
            match blobs.next() {
                Some((meta, blob)) if meta.id == parts[i].meta.id => break (meta, blob),
                Some(_) => continue,
                None => {
                    return Err(StoreError::SegmentNotFound {
                        db: db.to_string(),
                        op: OP,
                        id: parts[i].meta.id,
                    })
                }
            }
        };
        let mut seg = decode_checked(db, &meta, &blob)?;
        let lo = seg.t_ns.partition_point(|&t| t < t0_ns);
        let hi = seg.t_ns.partition_point(|&t| t < t1_ns);
        seg.t_ns.truncate(hi);
        seg.values.truncate(hi);
        seg.t_ns.drain(..lo);
        seg.values.drain(..lo);
        parts[i].decoded = Some(seg);
    }

    let samples: u64 = parts
        .iter()
        .map(|p| p.decoded.as_ref().map_or(p.meta.count, |s| s.len() as u64))
        .sum();
    let mut out = Downsampled {
        machine: machine.to_string(),
        signal: signal.name().to_string(),
        t0_ns,
        t1_ns,
        bucket_ns: 0,
        samples,
        points: Vec::new(),
    };
    if samples <= max_points as u64 {
        // Few enough to return raw: read them the way read_samples does (same order and merge
        // of overlapping segments); at most MAX_POINTS samples in range, so this is cheap.
        let rows = store.read(OP, |c| {
            collect(
                |each| c.segments(SegmentsWhere::Overlapping(range()), true, each),
                |row| Ok((segment_meta(db, row)?, row.bytes(BLOB_COLUMN)?)),
            )
        })?;
        let series =
            crate::segment_read::samples_in_range(db, machine, signal, t0_ns, t1_ns, &rows)?;
        out.points = series
            .t_ns
            .iter()
            .zip(&series.values)
            .map(|(&t_ns, &v)| Bucket {
                t_ns,
                count: 1,
                min: v,
                max: v,
                mean: v,
                last: v,
            })
            .collect();
        return Ok(out);
    }
    for p in &parts {
        match (&p.decoded, &p.chunks) {
            (Some(seg), _) => buckets.add_samples(&seg.t_ns, &seg.values),
            (None, Some(chunks)) => chunks.iter().for_each(|c| buckets.add_chunk(c)),
            (None, None) => unreachable!("a segment without overview is decoded"),
        }
    }
    out.bucket_ns = i64::try_from(buckets.width).unwrap_or(i64::MAX);
    out.points = buckets.points();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_width_is_the_ceiling_and_covers_the_range() {
        let b = Buckets::new(10, 111, 10);
        assert_eq!((b.width, b.acc.len()), (11, 10));
        assert_eq!(b.index(110), 9);
        let b = Buckets::new(i64::MIN, i64::MAX, 1);
        assert_eq!(b.acc.len(), 1);
        assert_eq!(b.index(i64::MAX - 1), 0);
        let b = Buckets::new(0, 5, 100);
        assert_eq!((b.width, b.acc.len()), (1, 5));
    }

    #[test]
    fn bad_arguments_name_the_value() {
        assert!(check_arguments(0, 1, 0).unwrap().contains("max_points 0"));
        assert!(check_arguments(0, 1, 100_001)
            .unwrap()
            .contains("max_points 100001"));
        assert!(check_arguments(5, 5, 10).unwrap().contains("t1_ns 5"));
        assert!(check_arguments(0, 1, MAX_POINTS).is_none());
    }
}
