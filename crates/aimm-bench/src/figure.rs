//! One line of a benchmark table (a figure next to its same-run baseline and its target), and the
//! table all benchmarks print.

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde::Serialize;

/// One line of a benchmark table.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// What is measured.
    pub what: String,
    /// The measured value, in `unit`.
    pub value: f64,
    /// The unit of `value` and `baseline_value`.
    pub unit: &'static str,
    /// What the figure is compared with, measured in the same run ("-" for none).
    pub baseline: String,
    /// The baseline's value, in `unit`; NaN when there is none (JSON `null`).
    pub baseline_value: f64,
    /// The value aimm aims for ("-" for none).
    pub target: String,
}

/// The figures as a table in the house style (UTF-8 borders), without a trailing newline.
pub fn render_table(figures: &[Figure]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "figure",
        "value",
        "unit",
        "baseline (same run)",
        "target",
    ]);
    for f in figures {
        let base = if f.baseline_value.is_nan() {
            f.baseline.clone()
        } else {
            format!("{}: {}", f.baseline, human(f.baseline_value))
        };
        t.add_row(vec![
            f.what.clone(),
            human(f.value),
            f.unit.into(),
            base,
            f.target.clone(),
        ]);
    }
    t.to_string()
}

/// A number with a k/M suffix for big values.
fn human(v: f64) -> String {
    match v.abs() {
        x if x >= 1e6 => format!("{:.2} M", v / 1e6),
        x if x >= 1e4 => format!("{:.1} k", v / 1e3),
        x if x >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.2}"),
    }
}
