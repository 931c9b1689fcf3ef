//! Printing results: a table for people, JSON for programs.

use comfy_table::{presets::UTF8_BORDERS_ONLY, ContentArrangement, Table};
use serde::Serialize;

/// A table with `header`, in the house style.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(header.to_vec());
    t
}

/// A table in the house style that wraps its cells to stay within `columns` terminal columns,
/// whatever the terminal's width (or none, when piped): for output meant to read well in a
/// standard 100-column terminal and in logs.
pub fn table_within(header: &[&str], columns: u16) -> Table {
    let mut t = table(header);
    t.set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(columns);
    t
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A UTC instant as RFC 3339 with nanoseconds.
pub fn utc(t_ns: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(t_ns.max(0) as u64);
    humantime::format_rfc3339_nanos(t).to_string()
}

/// A spinner on stderr for work of unknown length; set its message per stage.
pub fn spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}
