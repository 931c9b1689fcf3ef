//! Reader for a controller's recorded samples as CSV, the file import of recorded data: what a
//! non-aimm controller (or its historian) exports, read into aimm signals so its evidence can be
//! sealed and assessed (`aimm assess import --csv`).
//!
//! # Format
//!
//! Long format, one sample per row, comma-separated, a header row first. Columns, in any order:
//!
//! | column | content |
//! |---|---|
//! | `t_utc` or `t_ns` | the sample's time: RFC 3339 UTC (`2022-08-08T13:51:34.7167146Z`), or UTC nanoseconds since the Unix epoch; with both, they must agree |
//! | `machine` | the machine's id, e.g. `okuma-1` |
//! | `signal` | an aimm signal name, e.g. `spindle_load_pct`, `feed_override_pct` (`aimm data ls` and the CLI's help list them) |
//! | `value` | a finite number in the signal's aimm unit (`%`, `kW`, `rev/min`, `mm/min`, `mm`, …) |
//! | `unit` (optional) | the value's unit; when present it must be the signal's aimm unit, so a file in other units is refused rather than misread |
//!
//! `aimm data export` writes this format (with both time columns and `unit`), so an export reads
//! back. Any other column is refused, not ignored. Within one machine's signal, time must
//! increase strictly from row to row (rows of different signals may interleave). Any error fails
//! the whole file and names the file, the line (the header is line 1) and the column.

use crate::mtconnect::shdr::parse_timestamp;
use aimm_model::{MachineId, SignalKind, SignalSeries, TimeNs};
use std::collections::BTreeMap;

/// A CSV of samples that cannot be read, located in the file.
#[derive(Debug, thiserror::Error)]
#[error("{source_name} line {line}{}: {what}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct SignalCsvError {
    /// The file (or what the text came from).
    pub source_name: String,
    /// 1-based line (the header is line 1).
    pub line: u64,
    /// The column, when one is at fault.
    pub column: Option<String>,
    /// What is wrong.
    pub what: String,
}

/// Column positions of a header.
struct Columns {
    t_utc: Option<usize>,
    t_ns: Option<usize>,
    machine: usize,
    signal: usize,
    value: usize,
    unit: Option<usize>,
}

/// Reads `text` (the CSV's content; `source_name` names it in errors) into one series per
/// machine and signal, in time order.
pub fn parse_signal_csv(
    source_name: &str,
    text: &str,
) -> Result<Vec<SignalSeries>, SignalCsvError> {
    let err = |line: u64, column: Option<&str>, what: String| SignalCsvError {
        source_name: source_name.to_string(),
        line,
        column: column.map(str::to_string),
        what,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let csv_err = |e: csv::Error| {
        let line = e.position().map_or(1, |p| p.line());
        err(line, None, e.to_string())
    };
    let header = reader.headers().map_err(csv_err)?.clone();
    let columns = columns(&header).map_err(|(column, what)| err(1, column.as_deref(), what))?;
    let mut series: BTreeMap<(MachineId, SignalKind), (SignalSeries, u64)> = BTreeMap::new();
    for row in reader.records() {
        let row = row.map_err(csv_err)?;
        let line = row.position().map_or(0, |p| p.line());
        let cell = |i: usize| row.get(i).unwrap_or("");
        let machine = cell(columns.machine);
        if machine.is_empty() {
            return Err(err(line, Some("machine"), "empty machine id".into()));
        }
        let signal = SignalKind::from_name(cell(columns.signal))
            .map_err(|e| err(line, Some("signal"), e.to_string()))?;
        if let Some(u) = columns.unit {
            if cell(u) != signal.unit() {
                return Err(err(
                    line,
                    Some("unit"),
                    format!(
                        "'{}' is not the unit of {} ('{}'); convert the values to aimm's unit",
                        cell(u),
                        signal.name(),
                        signal.unit()
                    ),
                ));
            }
        }
        let value: f64 = cell(columns.value).parse().map_err(|_| {
            err(
                line,
                Some("value"),
                format!("'{}' is not a number", cell(columns.value)),
            )
        })?;
        if !value.is_finite() {
            return Err(err(
                line,
                Some("value"),
                format!("'{}' is not a finite number", cell(columns.value)),
            ));
        }
        let t_ns = time(&columns, &cell).map_err(|(c, what)| err(line, Some(c), what))?;
        let key = (MachineId::new(machine), signal);
        let (s, last_line) = series
            .entry(key)
            .or_insert_with(|| (SignalSeries::new(MachineId::new(machine), signal), 0));
        if let Some(&last) = s.t_ns.last() {
            if t_ns <= last {
                return Err(err(
                    line,
                    Some(if columns.t_ns.is_some() {
                        "t_ns"
                    } else {
                        "t_utc"
                    }),
                    format!(
                        "time does not increase: {machine} {} was already at this time or later \
                         on line {last_line}",
                        signal.name()
                    ),
                ));
            }
        }
        s.push(t_ns, value);
        *last_line = line;
    }
    Ok(series.into_values().map(|(s, _)| s).collect())
}

/// The header's columns, or the column at fault and why.
fn columns(header: &csv::StringRecord) -> Result<Columns, (Option<String>, String)> {
    let mut found: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in header.iter().enumerate() {
        if !matches!(
            name,
            "t_utc" | "t_ns" | "machine" | "signal" | "value" | "unit"
        ) {
            return Err((
                Some(name.to_string()),
                "unknown column (the columns are t_utc or t_ns, machine, signal, value and \
                 optionally unit)"
                    .into(),
            ));
        }
        if found.insert(name, i).is_some() {
            return Err((Some(name.to_string()), "column given twice".into()));
        }
    }
    let required = |name: &str| {
        found
            .get(name)
            .copied()
            .ok_or_else(|| (Some(name.to_string()), "missing column".to_string()))
    };
    let columns = Columns {
        t_utc: found.get("t_utc").copied(),
        t_ns: found.get("t_ns").copied(),
        machine: required("machine")?,
        signal: required("signal")?,
        value: required("value")?,
        unit: found.get("unit").copied(),
    };
    if columns.t_utc.is_none() && columns.t_ns.is_none() {
        return Err((
            Some("t_utc".into()),
            "missing column: a time column t_utc (RFC 3339) or t_ns (UTC ns) is needed".into(),
        ));
    }
    Ok(columns)
}

/// A row's time from its time column(s), or the column at fault and why.
fn time<'a>(
    columns: &Columns,
    cell: &impl Fn(usize) -> &'a str,
) -> Result<TimeNs, (&'static str, String)> {
    let utc = columns
        .t_utc
        .map(|i| {
            parse_timestamp(cell(i)).map_err(|e| ("t_utc", format!("{e} (RFC 3339 UTC expected)")))
        })
        .transpose()?;
    let ns = columns
        .t_ns
        .map(|i| {
            cell(i).parse::<TimeNs>().map_err(|_| {
                (
                    "t_ns",
                    format!("'{}' is not an integer of UTC nanoseconds", cell(i)),
                )
            })
        })
        .transpose()?;
    match (utc, ns) {
        (Some(u), Some(n)) if u != n => Err((
            "t_ns",
            format!(
                "{n} is not the instant t_utc '{}' names",
                cell(columns.t_utc.unwrap_or(0))
            ),
        )),
        (_, Some(t)) | (Some(t), None) => Ok(t),
        (None, None) => Err(("t_utc", "no time".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_group_into_series_by_machine_and_signal_in_either_time_form() {
        let text = "t_utc,machine,signal,value\n\
                    2022-08-08T13:51:34Z,okuma,spindle_load_pct,12.5\n\
                    2022-08-08T13:51:34Z,okuma,feed_override_pct,100\n\
                    2022-08-08T13:51:35.5Z,okuma,spindle_load_pct,14\n";
        let series = parse_signal_csv("a.csv", text).unwrap();
        assert_eq!(series.len(), 2);
        let load = series
            .iter()
            .find(|s| s.signal == SignalKind::SpindleLoadPct)
            .unwrap();
        assert_eq!(load.values, vec![12.5, 14.0]);
        assert_eq!(load.t_ns[1] - load.t_ns[0], 1_500_000_000);
        let ns = "machine,signal,unit,t_utc,t_ns,value\n\
                  m,spindle_power_kw,kW,1970-01-01T00:00:01Z,1000000000,3.5\n";
        assert_eq!(
            parse_signal_csv("b.csv", ns).unwrap()[0].t_ns,
            vec![1_000_000_000]
        );
    }

    #[test]
    fn bad_input_is_refused_by_line_and_column() {
        let head = "t_ns,machine,signal,value,unit\n";
        for (row, expect) in [
            ("5,m,spindle_load_kw,1,%", "line 2, column signal"),
            ("5,m,spindle_power_kw,1,W", "line 2, column unit"),
            ("5,m,spindle_load_pct,NaN,%", "line 2, column value"),
            ("5,m,spindle_load_pct,abc,%", "line 2, column value"),
            ("x,m,spindle_load_pct,1,%", "line 2, column t_ns"),
            (",m,spindle_load_pct,1,%", "line 2, column t_ns"),
            ("5,,spindle_load_pct,1,%", "line 2, column machine"),
            ("5,m,spindle_load_pct,1", "line 2"),
        ] {
            let e = parse_signal_csv("f.csv", &format!("{head}{row}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("f.csv ") && e.contains(expect), "{row}: {e}");
        }
        let backwards = format!("{head}5,m,spindle_load_pct,1,%\n4,m,spindle_load_pct,1,%\n");
        let e = parse_signal_csv("f.csv", &backwards)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3, column t_ns") && e.contains("line 2"),
            "{e}"
        );
        let e = parse_signal_csv("f.csv", "time,machine,signal,value\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1, column time"), "{e}");
        let e = parse_signal_csv("f.csv", "t_ns,machine,value\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("column signal: missing column"), "{e}");
    }
}
