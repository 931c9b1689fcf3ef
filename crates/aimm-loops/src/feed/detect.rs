//! Cutting-state detectors of the feed controller: engagement (is the tool in the material?) and
//! sudden-change suspicion (breakage: the cutting load vanishes; spike: it more than doubles).
//!
//! Engagement starts as soon as two consecutive raw samples, or the filtered load, rise above the
//! air margin: reacting on raw samples gains a few milliseconds of descent toward the feed-forward
//! override on re-entry, and requiring two of them keeps single noise outliers out. It ends when
//! both raw and filtered load are back within the margin.
//!
//! Sudden changes compare the raw cutting load with the samples of the last window that were at the
//! engagement's established level (a slow average over five windows, ±25 %): a tool entering or
//! leaving the material ramps its load over tens of milliseconds, so by the time the load has
//! doubled or reached the air level no sample of the last window is at the lagging average, and
//! the check stays quiet; a break or a hard spot changes the load within a few samples from a
//! steady level.

/// Entry confirmations needed from raw samples above the margin.
const RAW_ENTRY_SAMPLES: u32 = 2;

/// Engagement with hysteresis on raw and filtered load relative to the no-load level.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct EngagementDetector {
    engaged: bool,
    raw_above: u32,
}

impl EngagementDetector {
    /// Updates from one sample; returns the engagement state.
    pub(crate) fn update(&mut self, raw: f64, filtered: f64, no_load: f64, margin: f64) -> bool {
        let threshold = no_load + margin;
        self.raw_above = if raw > threshold {
            self.raw_above.saturating_add(1)
        } else {
            0
        };
        if self.engaged {
            self.engaged = raw > threshold || filtered > threshold;
        } else {
            self.engaged = filtered > threshold || self.raw_above >= RAW_ENTRY_SAMPLES;
        }
        self.engaged
    }

    pub(crate) fn engaged(&self) -> bool {
        self.engaged
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

/// What a sudden change looked like.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SuddenChange {
    /// Cutting load fell from `before` to `now` (at the air level).
    Drop { before: f64, now: f64 },
    /// Cutting load rose from `before` to `now` (> 2×).
    Spike { before: f64, now: f64 },
}

/// Ring capacity of the cutting-load history: 256 samples cover a 0.5 s window at 500 Hz; longer
/// windows see only the newest 256 samples, which only makes the check stricter.
const HISTORY: usize = 256;
/// The established level is a slow average of this many windows.
const LEVEL_WINDOWS: f64 = 5.0;
/// A sample counts as at the established level within this fraction of it.
const LEVEL_TOLERANCE: f64 = 0.25;

/// One remembered sample: time, cutting load, established level then.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    t_ns: i64,
    cut: f64,
    level: f64,
}

/// Breakage / spike detection over one engagement. Fixed-size storage: no allocation per sample.
#[derive(Clone, Debug)]
pub(crate) struct SuddenChangeDetector {
    history: [Entry; HISTORY],
    len: usize,
    next: usize,
    /// Time of the engagement's first sample: the level is established one averaging time later.
    first_t_ns: i64,
}

impl Default for SuddenChangeDetector {
    fn default() -> Self {
        Self {
            history: [Entry::default(); HISTORY],
            len: 0,
            next: 0,
            first_t_ns: 0,
        }
    }
}

impl SuddenChangeDetector {
    /// Feeds the raw cutting load at `t_ns` (engaged samples only). `at_air` says whether the raw
    /// load is within the air margin. Returns a suspicion if one is seen; the caller gates it on a
    /// steady command and reports once per engagement.
    pub(crate) fn update(
        &mut self,
        t_ns: i64,
        cut: f64,
        at_air: bool,
        window_ns: i64,
        drop_fraction: f64,
        min_change: f64,
    ) -> Option<SuddenChange> {
        if self.len == 0 {
            self.first_t_ns = t_ns;
        }
        let established_ns = self
            .first_t_ns
            .saturating_add((LEVEL_WINDOWS * window_ns as f64) as i64);
        let since_ns = t_ns.saturating_sub(window_ns);
        let change = self.compare(
            since_ns,
            established_ns,
            cut,
            at_air,
            drop_fraction,
            min_change,
        );
        self.push(t_ns, cut, window_ns);
        change
    }

    /// Compares `cut` with every sample at its established level since `since_ns` (and the one
    /// straddling it, as the change may begin between two samples). The level counts from
    /// `established_ns` on.
    fn compare(
        &self,
        since_ns: i64,
        established_ns: i64,
        cut: f64,
        at_air: bool,
        drop_fraction: f64,
        min_change: f64,
    ) -> Option<SuddenChange> {
        for i in 1..=self.len {
            let e = self.history[(self.next + HISTORY - i) % HISTORY];
            let steady = e.t_ns >= established_ns
                && e.level > 0.0
                && (e.cut - e.level).abs() <= LEVEL_TOLERANCE * e.level;
            if steady && at_air && e.cut - cut > (drop_fraction * e.cut).max(min_change) {
                return Some(SuddenChange::Drop {
                    before: e.cut,
                    now: cut,
                });
            }
            if steady && cut - e.cut > e.cut.max(min_change) {
                return Some(SuddenChange::Spike {
                    before: e.cut,
                    now: cut,
                });
            }
            if e.t_ns < since_ns {
                break;
            }
        }
        None
    }

    fn push(&mut self, t_ns: i64, cut: f64, window_ns: i64) {
        let level = match self.len {
            0 => cut,
            _ => {
                let last = self.history[(self.next + HISTORY - 1) % HISTORY];
                let dt = t_ns.saturating_sub(last.t_ns) as f64;
                let alpha = 1.0 - (-dt / (LEVEL_WINDOWS * window_ns as f64)).exp();
                last.level + alpha * (cut - last.level)
            }
        };
        self.history[self.next] = Entry { t_ns, cut, level };
        self.next = (self.next + 1) % HISTORY;
        self.len = (self.len + 1).min(HISTORY);
    }

    pub(crate) fn reset(&mut self) {
        self.len = 0;
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    fn run(det: &mut SuddenChangeDetector, cuts: &[f64], air: f64) -> Option<SuddenChange> {
        let mut seen = None;
        for (i, &c) in cuts.iter().enumerate() {
            let t = i as i64 * 2 * MS;
            if let Some(s) = det.update(t, c, c < air, 10 * MS, 0.6, 15.0) {
                seen.get_or_insert(s);
            }
        }
        seen
    }

    #[test]
    fn one_sample_drop_to_air_is_a_drop() {
        let mut cuts = vec![50.0; 100];
        cuts.extend([0.5; 10]);
        let s = run(&mut SuddenChangeDetector::default(), &cuts, 3.0);
        assert!(matches!(s, Some(SuddenChange::Drop { .. })), "{s:?}");
    }

    #[test]
    fn exits_over_50_ms_and_entries_are_quiet() {
        let mut cuts = vec![50.0; 100];
        cuts.extend((1..=25).map(|i| 50.0 * (1.0 - i as f64 / 25.0)));
        cuts.extend([0.0; 10]);
        assert_eq!(run(&mut SuddenChangeDetector::default(), &cuts, 3.0), None);
        let ramp: Vec<f64> = (1..=100)
            .map(|i| 50.0 * (i as f64 / 30.0).min(1.0))
            .collect();
        assert_eq!(run(&mut SuddenChangeDetector::default(), &ramp, 3.0), None);
    }

    #[test]
    fn changes_of_a_few_points_at_light_load_are_not_alarms() {
        // Entering a slot from a plunge at light load: 6 → 14 % within a sample.
        let mut cuts = vec![6.0; 100];
        cuts.extend([14.0; 10]);
        assert_eq!(run(&mut SuddenChangeDetector::default(), &cuts, 1.0), None);
        let mut light = vec![10.0; 100];
        light.extend([0.2; 10]);
        assert_eq!(run(&mut SuddenChangeDetector::default(), &light, 1.0), None);
    }

    #[test]
    fn doubling_within_a_window_is_a_spike() {
        let mut cuts = vec![30.0; 100];
        cuts.extend([70.0; 10]);
        let s = run(&mut SuddenChangeDetector::default(), &cuts, 3.0);
        assert!(matches!(s, Some(SuddenChange::Spike { .. })), "{s:?}");
        let mut deeper = vec![30.0; 100];
        deeper.extend([45.0; 10]);
        assert_eq!(
            run(&mut SuddenChangeDetector::default(), &deeper, 3.0),
            None
        );
    }

    #[test]
    fn engagement_needs_two_raw_samples_or_the_filter() {
        let mut e = EngagementDetector::default();
        assert!(!e.update(9.0, 5.0, 5.0, 3.0));
        assert!(!e.update(5.0, 5.5, 5.0, 3.0), "one outlier is not a cut");
        assert!(!e.update(9.0, 6.0, 5.0, 3.0));
        assert!(e.update(9.0, 6.5, 5.0, 3.0));
        assert!(e.update(7.0, 8.5, 5.0, 3.0));
        assert!(!e.update(7.0, 7.5, 5.0, 3.0));
    }
}
