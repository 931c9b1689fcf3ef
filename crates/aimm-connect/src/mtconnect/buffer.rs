//! The agent's observation buffer: a fixed-size ring of sequence-numbered observations (what
//! `/sample` pages through) plus the latest observation of every data item (what `/current`
//! shows). Sequence numbers start at 1 and never repeat within an agent instance.

use aimm_model::TimeNs;
use std::collections::VecDeque;

/// A health condition as SHDR reports it (`level|nativeCode|nativeSeverity|qualifier|message`).
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// `NORMAL`, `WARNING`, `FAULT` or `UNAVAILABLE`.
    pub level: String,
    /// The controller's own alarm code (`nativeCode`); empty when none.
    pub native_code: String,
    /// The controller's own severity (`nativeSeverity`); empty when none.
    pub native_severity: String,
    /// `HIGH` or `LOW` when a value is out of range (`qualifier`); empty otherwise.
    pub qualifier: String,
    /// The alarm text, published as the condition element's content.
    pub message: String,
}

/// The value of one observation.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `UNAVAILABLE`: the data item's value is not known (no adapter, or it said so).
    Unavailable,
    /// Text as published (samples already converted to the published units).
    Text(String),
    /// The state of a CONDITION data item.
    Condition(Condition),
    /// A DATA_SET observation: its entries, key and value.
    DataSet(Vec<(String, String)>),
    /// A TABLE observation: its rows, key and cells (key and value).
    Table(Vec<(String, Vec<(String, String)>)>),
    /// A `MESSAGE` event: native code and text.
    Message {
        /// The controller's message code (`nativeCode`); empty when none.
        native_code: String,
        /// The message text.
        text: String,
    },
}

/// One observation of one data item.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The agent's sequence number for this observation (1, 2, …; unique per instance).
    pub sequence: u64,
    /// Index into the device model's data items.
    pub item: usize,
    /// When the value was observed (the adapter's timestamp), ns since the Unix epoch (UTC).
    pub t_ns: TimeNs,
    /// What was observed.
    pub value: Value,
}

/// Ring buffer of the last `capacity` observations plus the latest per data item.
#[derive(Debug)]
pub struct SequenceBuffer {
    ring: VecDeque<Observation>,
    capacity: usize,
    next_sequence: u64,
    latest: Vec<Option<Observation>>,
}

impl SequenceBuffer {
    /// An empty buffer for `items` data items holding at most `capacity` observations.
    pub fn new(items: usize, capacity: usize) -> Self {
        Self {
            ring: VecDeque::with_capacity(capacity.min(1 << 20)),
            capacity: capacity.max(1),
            next_sequence: 1,
            latest: vec![None; items],
        }
    }

    /// Appends an observation and returns its sequence number.
    pub fn push(&mut self, item: usize, t_ns: TimeNs, value: Value) -> u64 {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let obs = Observation {
            sequence,
            item,
            t_ns,
            value,
        };
        self.latest[item] = Some(obs.clone());
        if self.ring.len() == self.capacity {
            self.ring.pop_front();
        }
        self.ring.push_back(obs);
        sequence
    }

    /// Sequence of the oldest observation still held (`next_sequence` when empty).
    pub fn first_sequence(&self) -> u64 {
        self.ring.front().map_or(self.next_sequence, |o| o.sequence)
    }

    /// Sequence of the newest observation (0 when none).
    pub fn last_sequence(&self) -> u64 {
        self.next_sequence - 1
    }

    /// Sequence number the next observation will get (the header's `nextSequence`).
    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// The most observations held (the header's `bufferSize`).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Up to `count` observations from sequence `from` on that `keep` accepts; also returns the
    /// sequence to ask for next. `from` must lie in `[first_sequence, next_sequence]`.
    pub fn range(
        &self,
        from: u64,
        count: usize,
        keep: impl Fn(&Observation) -> bool,
    ) -> (Vec<&Observation>, u64) {
        let start = (from.saturating_sub(self.first_sequence())) as usize;
        let mut out = Vec::new();
        let mut next = self.next_sequence;
        for obs in self.ring.iter().skip(start) {
            if out.len() == count {
                next = obs.sequence;
                break;
            }
            if keep(obs) {
                out.push(obs);
            }
        }
        (out, next)
    }

    /// The latest observation of every data item that has one.
    pub fn latest(&self) -> impl Iterator<Item = &Observation> {
        self.latest.iter().flatten()
    }

    /// The state at sequence `at`: for every data item `keep` accepts, its last observation
    /// with a sequence ≤ `at`. When the ring no longer holds some item's state at `at` (its
    /// observation then has been dropped), `Err` gives the earliest sequence whose state it
    /// holds in full.
    pub fn state_at(
        &self,
        at: u64,
        keep: impl Fn(usize) -> bool,
    ) -> Result<Vec<&Observation>, u64> {
        let mut state: Vec<Option<&Observation>> = vec![None; self.latest.len()];
        let mut first_held: Vec<Option<u64>> = vec![None; self.latest.len()];
        for obs in &self.ring {
            first_held[obs.item].get_or_insert(obs.sequence);
            if obs.sequence <= at {
                state[obs.item] = Some(obs);
            }
        }
        let mut out = Vec::new();
        let mut earliest = self.first_sequence();
        let mut complete = true;
        for (item, latest) in self.latest.iter().enumerate() {
            let Some(latest) = latest.as_ref().filter(|_| keep(item)) else {
                continue;
            };
            // An item not seen in the ring has not changed since before it: its latest holds.
            let held = if first_held[item].is_none() {
                Some(latest)
            } else {
                state[item]
            };
            if let Some(first) = first_held[item] {
                earliest = earliest.max(first);
            }
            match held {
                Some(obs) => out.push(obs),
                None => complete = false,
            }
        }
        out.sort_by_key(|o| o.sequence);
        if complete {
            Ok(out)
        } else {
            Err(earliest)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_at_a_sequence_and_where_the_ring_no_longer_holds_it() {
        let mut b = SequenceBuffer::new(2, 4);
        let text = |s: &str| Value::Text(s.into());
        b.push(0, 1, text("a1")); // 1
        b.push(1, 2, text("b1")); // 2
        b.push(0, 3, text("a2")); // 3
        b.push(0, 4, text("a3")); // 4
        let values = |obs: Vec<&Observation>| -> Vec<Value> {
            obs.into_iter().map(|o| o.value.clone()).collect()
        };
        assert_eq!(
            values(b.state_at(3, |_| true).unwrap()),
            [text("b1"), text("a2")]
        );
        b.push(1, 5, text("b2")); // 5: drops sequence 1
        b.push(0, 6, text("a4")); // 6: drops sequence 2, b1
                                  // At 4, b was b1, which is gone: the earliest full state is at 5.
        assert_eq!(b.state_at(4, |_| true), Err(5));
        assert_eq!(
            values(b.state_at(5, |_| true).unwrap()),
            [text("a3"), text("b2")]
        );
        // Only item 0 asked for: its state at 4 is held.
        assert_eq!(values(b.state_at(4, |i| i == 0).unwrap()), [text("a3")]);
    }

    #[test]
    fn ring_drops_oldest_and_pages_by_sequence() {
        let mut b = SequenceBuffer::new(2, 3);
        for i in 0..5 {
            b.push(i % 2, i as i64, Value::Text(i.to_string()));
        }
        assert_eq!(
            (b.first_sequence(), b.last_sequence(), b.next_sequence()),
            (3, 5, 6)
        );
        let (obs, next) = b.range(3, 2, |_| true);
        assert_eq!(obs.iter().map(|o| o.sequence).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(next, 5);
        let (obs, next) = b.range(4, 10, |o| o.item == 1);
        assert_eq!(obs.iter().map(|o| o.sequence).collect::<Vec<_>>(), [4]);
        assert_eq!(next, 6);
        assert_eq!(b.latest().count(), 2);
    }
}
