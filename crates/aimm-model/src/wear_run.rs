//! One tool's recorded life as the wear loop reads it: time points of cutting with measured (or,
//! on the simulator, true) flank wear and per-signal values. Loaded from a wear CSV by
//! `aimm-connect`, written by the simulator's cutting log, read by the wear model in `aimm-loops`.

/// One tool's recorded life: time points in file order with wear and signal values.
#[derive(Debug, Clone, PartialEq)]
pub struct WearRun {
    /// The run's id (a tool's life).
    pub run: String,
    /// The data set group the run belongs to (e.g. `phm2010`), if the source names one.
    pub group: Option<String>,
    /// Cutting time of each time point since the tool was new, s.
    pub time_s: Vec<f64>,
    /// Flank wear VB at each time point, mm (NaN where not measured).
    pub wear_mm: Vec<f64>,
    /// `signals[j][i]`: signal `j` (in the order of the data set's signal names) at time point `i`.
    pub signals: Vec<Vec<f64>>,
}
