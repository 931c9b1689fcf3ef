//! Where the simulator puts what its sensors measure: one column buffer per signal plus events.
//! The caller drains it (e.g. to seal a store segment per time window).

use aimm_model::{Event, MachineId, SignalKind, SignalSeries};

/// Samples and events produced since the last drain.
#[derive(Clone, Debug)]
pub struct Recording {
    /// One series per signal, indexed by position in [`SignalKind::ALL`].
    series: Vec<SignalSeries>,
    events: Vec<Event>,
}

impl Recording {
    /// An empty recording for `machine`, one series per signal kind.
    pub fn new(machine: &MachineId) -> Self {
        Self {
            series: SignalKind::ALL
                .iter()
                .map(|&s| SignalSeries::new(machine.clone(), s))
                .collect(),
            events: Vec::new(),
        }
    }

    /// Adds a sample (the simulator's sensors, or a loop recording what it commanded).
    pub fn push(&mut self, signal: SignalKind, t_ns: i64, value: f64) {
        self.series[signal.index()].push(t_ns, value);
    }

    pub(crate) fn push_event(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Samples of `signal` not yet drained.
    pub fn series(&self, signal: SignalKind) -> &SignalSeries {
        &self.series[signal.index()]
    }

    /// Events not yet drained.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Number of samples not yet drained.
    pub fn len(&self) -> usize {
        self.series.iter().map(SignalSeries::len).sum()
    }

    /// True when no samples or events wait to be drained.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.events.is_empty()
    }

    /// Takes every non-empty series (one future segment each) and all events.
    pub fn drain(&mut self) -> (Vec<SignalSeries>, Vec<Event>) {
        let series = self
            .series
            .iter_mut()
            .filter(|s| !s.is_empty())
            .map(SignalSeries::take)
            .collect();
        (series, std::mem::take(&mut self.events))
    }
}
