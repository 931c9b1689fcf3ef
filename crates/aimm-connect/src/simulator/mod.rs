//! The simulator as a data source: runs a [`Simulator`] to the end of its program and seals its
//! samples into the store one time window at a time, so a crash loses at most the window in
//! progress and every acknowledged segment survives. [`part`] is the one recipe for recording a
//! simulated part with its machine, program version and tools.

pub mod part;

use aimm_ledger::Origin;
use aimm_model::{TimeNs, NS_PER_S};
use aimm_sim::{PartResult, SimError, Simulator};
use aimm_store::{NewRun, RunId, RunObserver, SegmentMeta, Store, StoreError};

/// How a run is recorded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecordOptions {
    /// Length of the time window sealed into one segment per signal, s.
    pub segment_window_s: f64,
    /// Simulated seconds per wall-clock second, when the run should keep pace with a clock (a
    /// machine watched live on the dashboard); `None` runs as fast as it can.
    pub pace: Option<f64>,
}

impl Default for RecordOptions {
    fn default() -> Self {
        Self {
            segment_window_s: 10.0,
            pace: None,
        }
    }
}

/// A recorded run.
#[derive(Clone, Debug)]
pub struct RecordedRun {
    /// The run the data was stored under (finished with the part result).
    pub run: RunId,
    /// The simulator's result for the part.
    pub result: PartResult,
    /// Every segment sealed for the run, in the order sealed.
    pub segments: Vec<SegmentMeta>,
}

/// Why recording a simulated run failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The program failed; what ran before the failure is stored under `run`.
    #[error("run {run} stopped: {source}")]
    Simulation {
        /// The run, left unfinished, holding the data recorded before the failure.
        run: RunId,
        /// The simulator's error.
        #[source]
        source: SimError,
    },
    /// The store refused a write (run, segments, events, tools).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A [`RecordOptions`] value is unusable, e.g. a segment window that is not > 0 s.
    #[error("invalid recording option: {0}")]
    Options(String),
}

/// Runs `sim` to the end, recording under a new run described by `new_run`, with `observer`
/// riding along. On a program error the data recorded so far is stored and the run is left
/// unfinished (visible as such), and the error names the run.
pub fn record_run<'s>(
    sim: &mut Simulator<'s>,
    store: &mut dyn Store,
    new_run: &NewRun,
    options: RecordOptions,
    observer: &mut dyn RunObserver<Simulator<'s>>,
) -> Result<RecordedRun, ConnectError> {
    if options.segment_window_s.is_nan() || options.segment_window_s <= 0.0 {
        return Err(ConnectError::Options(format!(
            "segment window must be > 0 s, got {}",
            options.segment_window_s
        )));
    }
    if options.pace.is_some_and(|p| !(p.is_finite() && p > 0.0)) {
        return Err(ConnectError::Options(format!(
            "pace must be > 0 simulated s per s, got {:?}",
            options.pace
        )));
    }
    let window_ns = (options.segment_window_s * NS_PER_S as f64) as TimeNs;
    let clock = (std::time::Instant::now(), sim.time_ns());
    let run = store.start_run(new_run)?;
    let mut segments = Vec::new();
    let mut seal_at = sim.time_ns() + window_ns;
    let mut report_at = sim.time_ns() + NS_PER_S;
    loop {
        let running = match sim.step() {
            Ok(running) => running,
            Err(source) => {
                flush(sim, store, run, &mut segments, observer)?;
                return Err(ConnectError::Simulation { run, source });
            }
        };
        observer.after_step(sim);
        if let Some(pace) = options.pace {
            keep_pace(clock, sim.time_ns(), pace);
        }
        if sim.time_ns() >= seal_at || !running {
            flush(sim, store, run, &mut segments, observer)?;
            seal_at += window_ns;
        }
        if sim.time_ns() >= report_at {
            observer.progress(sim);
            report_at += NS_PER_S;
        }
        if !running {
            break;
        }
    }
    let result = sim.result();
    let json = serde_json::to_value(&result).expect("a part result serialises");
    store.finish_run(run, sim.time_ns(), &json)?;
    Ok(RecordedRun {
        run,
        result,
        segments,
    })
}

/// Sleeps until the wall clock has caught up with simulated time `t_ns` at `pace` simulated
/// seconds per second, counted from `(wall, sim)` start; only when more than 5 ms ahead, so the
/// simulator is not put to sleep every tick.
fn keep_pace((wall0, sim0): (std::time::Instant, TimeNs), t_ns: TimeNs, pace: f64) {
    let due = std::time::Duration::from_secs_f64((t_ns - sim0).max(0) as f64 / 1e9 / pace);
    let elapsed = wall0.elapsed();
    if due > elapsed + std::time::Duration::from_millis(5) {
        std::thread::sleep(due - elapsed);
    }
}

/// Runs `sim` to the end with `observer` riding along, storing nothing (samples are dropped each
/// simulated second): for comparisons and benchmarks.
pub fn run_unrecorded<'s>(
    sim: &mut Simulator<'s>,
    observer: &mut dyn RunObserver<Simulator<'s>>,
) -> Result<PartResult, SimError> {
    let mut report_at = sim.time_ns() + NS_PER_S;
    while sim.step()? {
        observer.after_step(sim);
        if sim.time_ns() >= report_at {
            observer.progress(sim);
            sim.recording().drain();
            report_at += NS_PER_S;
        }
    }
    observer.after_step(sim);
    Ok(sim.result())
}

/// Seals what the simulator recorded since the last flush and tells the observer.
fn flush<'s>(
    sim: &mut Simulator<'s>,
    store: &mut dyn Store,
    run: RunId,
    segments: &mut Vec<SegmentMeta>,
    observer: &mut dyn RunObserver<Simulator<'s>>,
) -> Result<(), StoreError> {
    let (series, events) = sim.recording().drain();
    let sealed = store.append_segments(Some(run), Origin::SIMULATOR, &series)?;
    for s in &sealed {
        // The durability test reads these lines: each one is written only after the commit.
        tracing::debug!(segment = s.id.0, sha256 = %s.sha256_hex(), signal = %s.signal, "segment sealed");
    }
    store.append_events(Some(run), &events)?;
    observer.after_flush(store, run, &sealed)?;
    segments.extend(sealed);
    Ok(())
}
