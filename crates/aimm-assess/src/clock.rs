//! `clock_offset_p99`: how far machine time stamps run ahead of aimm's clock, from the segments
//! the ledger attests.

use crate::latency::percentile;
use crate::measure::{LedgerView, Measured, MAX_CITED};

/// `clock_offset_p99`: how far each segment's last time stamp (the machine's clock) lies
/// after the aimm time its record was written at (aimm's clock), p99 over the segments, ms.
/// A sample cannot be recorded before it was taken, so any such lead is clock offset; a
/// machine clock that runs behind cannot be told from segments alone, so this is a lower
/// bound of the offset, and says so.
pub fn clock_offset_p99(view: &LedgerView) -> Measured {
    let mut leads: Vec<(u64, f64)> = view
        .segment_records()
        .map(|(i, s)| {
            let r = &view.entry(i).expect("a listed leaf").record;
            (i, ((s.t_last_ns - r.t_ns) as f64 * 1e-6).max(0.0))
        })
        .collect();
    let samples: Vec<f64> = leads.iter().map(|(_, l)| *l).collect();
    let p99 = percentile(&samples, 0.99);
    leads.sort_by(|a, b| b.1.total_cmp(&a.1));
    Measured {
        value: p99,
        reason: match p99 {
            None => "no sensor segment in the evidence".into(),
            Some(p) => format!(
                "machine time stamps lead aimm's record times by {p:.1} ms (p99) over {} \
                 segments, at most {:.1} ms (a lower bound of the clock offset: a machine \
                 clock behind aimm's does not show in segments)",
                samples.len(),
                leads.first().map_or(0.0, |l| l.1)
            ),
        },
        evidence: leads.iter().take(MAX_CITED).map(|(i, _)| *i).collect(),
        failures: leads
            .iter()
            .filter(|(_, l)| *l > 0.0)
            .take(MAX_CITED)
            .map(|(i, l)| {
                (
                    *i,
                    format!("its last sample is stamped {l:.1} ms after aimm recorded it"),
                )
            })
            .collect(),
        samples,
    }
}
