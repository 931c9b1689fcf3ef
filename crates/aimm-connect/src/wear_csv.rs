//! Reader for recorded tool-wear training data: the documented long-format CSV that wear models
//! are trained and evaluated on.
//!
//! # Format
//!
//! One row per time point, a header row first. Columns, in any order:
//!
//! | column | default name | content |
//! |---|---|---|
//! | run id | `experiment_tag` | one tool's life (a cutter, an experiment); rows of a run need not be contiguous |
//! | time | `timestamp` | seconds of cutting since the run's tool was new; strictly increasing within a run |
//! | measured wear | `tool_wear` (unit from [`WearCsvOptions::wear_unit`]), or a header stating it: `tool_wear_mm`, `tool_wear_um`, `vb_mm`, `vb_um` | flank wear VB |
//! | group (optional) | `dataset_tag` | which data set / machine / material a run belongs to |
//! | signals | every other column whose first cell is a number | e.g. `force_z`, `vibration_x`, `spindle_power` |
//!
//! A leading column with an empty header (a pandas index) is ignored, and so are other text columns.
//! Every cell of the time, wear and signal columns must be a finite number; wear must lie in a
//! plausible range for its unit (0–5 mm, 0–5000 µm), which catches µm values declared as mm.
//! Any error fails the whole load — half a data set is never returned — and names the file, the
//! row (1-based, the header is row 1) and the column.

use std::collections::HashMap;
use std::path::Path;

/// Largest flank wear accepted, mm: far beyond any wear criterion (ISO 8688-2 uses 0.3 mm), so
/// larger values are a unit mistake, not wear.
pub const MAX_PLAUSIBLE_WEAR_MM: f64 = 5.0;

/// Unit of the measured-wear column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WearUnit {
    /// Millimetres (`mm`).
    Mm,
    /// Micrometres (`um` or `µm`); converted to mm on reading.
    Um,
}

impl WearUnit {
    fn to_mm(self, v: f64) -> f64 {
        match self {
            WearUnit::Mm => v,
            WearUnit::Um => v / 1000.0,
        }
    }

    fn name(self) -> &'static str {
        match self {
            WearUnit::Mm => "mm",
            WearUnit::Um => "um",
        }
    }
}

/// A wear unit other than `mm`, `um` or `µm`; names the text given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("wear unit {0:?}: expected mm or um")]
pub struct UnknownWearUnit(pub String);

impl std::str::FromStr for WearUnit {
    type Err = UnknownWearUnit;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mm" => Ok(WearUnit::Mm),
            "um" | "µm" => Ok(WearUnit::Um),
            other => Err(UnknownWearUnit(other.to_string())),
        }
    }
}

/// Column names and the wear unit; [`Default`] matches the uniwear layout except the unit.
#[derive(Debug, Clone)]
pub struct WearCsvOptions {
    /// Header of the run id column (one tool's life); default `experiment_tag`.
    pub run_column: String,
    /// Header of the time column, s of cutting since the tool was new; default `timestamp`.
    pub time_column: String,
    /// `None`: the first of `tool_wear`, `tool_wear_mm`, `tool_wear_um`, `vb_mm`, `vb_um` present.
    pub wear_column: Option<String>,
    /// Required when the wear header does not state its unit; must agree with it when it does.
    pub wear_unit: Option<WearUnit>,
    /// Header of the optional group column (data set / machine / material); default
    /// `dataset_tag`. Used when present in the header.
    pub group_column: String,
}

impl Default for WearCsvOptions {
    fn default() -> Self {
        WearCsvOptions {
            run_column: "experiment_tag".into(),
            time_column: "timestamp".into(),
            wear_column: None,
            wear_unit: None,
            group_column: "dataset_tag".into(),
        }
    }
}

pub use aimm_model::WearRun;

/// A loaded wear CSV: runs in order of first appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct WearDataset {
    /// Where the data came from (the file path or the name given to [`parse_wear_csv`]).
    pub source: String,
    /// Headers of the signal columns, in file order; each run's `signals` follow this order.
    pub signal_names: Vec<String>,
    /// The runs (tool lives), wear in mm and time in s.
    pub runs: Vec<WearRun>,
}

impl WearDataset {
    /// The runs of one group (all runs when the file has no group column).
    pub fn group(&self, group: &str) -> Vec<&WearRun> {
        self.runs
            .iter()
            .filter(|r| r.group.as_deref().is_none_or(|g| g == group))
            .collect()
    }
}

/// Why a wear CSV could not be loaded; each names the file, and where it applies the row
/// (1-based, the header is row 1) and the column.
#[derive(Debug, thiserror::Error)]
pub enum WearCsvError {
    /// The file could not be opened or read.
    #[error("{source_name}: cannot read: {error}")]
    Io {
        /// The file.
        source_name: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A row that is not valid CSV (e.g. a different number of fields than the header).
    #[error("{source_name}: row {row}: malformed CSV: {error}")]
    Csv {
        /// The file.
        source_name: String,
        /// The row, 1-based (the header is row 1).
        row: usize,
        /// The CSV reader's error.
        error: csv::Error,
    },
    /// A required column (run id, time, wear) is not in the header.
    #[error("{source_name}: row 1: missing column {column:?}")]
    MissingColumn {
        /// The file.
        source_name: String,
        /// The header that was looked for.
        column: String,
    },
    /// The wear column's unit is unknown (neither stated by its header nor given in the
    /// options) or the header and the options disagree.
    #[error("{source_name}: row 1, column {column:?}: {message}")]
    WearUnit {
        /// The file.
        source_name: String,
        /// The wear column's header.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A bad cell: not a finite number, empty run id, implausible wear, time not increasing
    /// within its run, or a run that changes group.
    #[error("{source_name}: row {row}, column {column:?}: {message}")]
    Cell {
        /// The file.
        source_name: String,
        /// The row, 1-based (the header is row 1).
        row: usize,
        /// The column's header.
        column: String,
        /// What is wrong with the cell.
        message: String,
    },
    /// The file has a header but no data rows.
    #[error("{source_name}: no data rows")]
    Empty {
        /// The file.
        source_name: String,
    },
}

/// Reads a wear CSV file (see the module doc for the format).
pub fn read_wear_csv(path: &Path, options: &WearCsvOptions) -> Result<WearDataset, WearCsvError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| WearCsvError::Io {
        source_name: name.clone(),
        error,
    })?;
    parse_wear_csv(std::io::BufReader::new(file), &name, options)
}

/// Writes `runs` in the documented format (`experiment_tag`, `dataset_tag` when a run has a
/// group, `timestamp`, `tool_wear_mm`, then `signal_names`), numbers in their shortest exact
/// form, so [`parse_wear_csv`] reads back exactly the same values. A data set written this way
/// has a stable SHA-256 by which training records name it.
pub fn write_wear_csv(runs: &[&WearRun], signal_names: &[String]) -> String {
    let grouped = runs.iter().any(|r| r.group.is_some());
    let mut header = vec!["experiment_tag"];
    if grouped {
        header.push("dataset_tag");
    }
    header.extend(["timestamp", "tool_wear_mm"]);
    header.extend(signal_names.iter().map(String::as_str));
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = (|| -> Result<(), csv::Error> {
        writer.write_record(&header)?;
        for run in runs {
            for i in 0..run.time_s.len() {
                let mut row = vec![run.run.clone()];
                if grouped {
                    row.push(run.group.clone().unwrap_or_default());
                }
                row.push(run.time_s[i].to_string());
                row.push(run.wear_mm[i].to_string());
                row.extend(run.signals.iter().map(|s| s[i].to_string()));
                writer.write_record(&row)?;
            }
        }
        writer.flush()?;
        Ok(())
    })();
    written.expect("writing CSV into memory cannot fail");
    String::from_utf8(writer.into_inner().expect("flushed above"))
        .expect("CSV of UTF-8 fields is UTF-8")
}

/// Parses wear CSV text from any reader; `source_name` names it in errors.
pub fn parse_wear_csv(
    input: impl std::io::Read,
    source_name: &str,
    options: &WearCsvOptions,
) -> Result<WearDataset, WearCsvError> {
    let src = source_name.to_string();
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| WearCsvError::Csv {
            source_name: src.clone(),
            row: 1,
            error,
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let find = |name: &str| header.iter().position(|h| h == name);
    let require = |name: &str| {
        find(name).ok_or_else(|| WearCsvError::MissingColumn {
            source_name: src.clone(),
            column: name.to_string(),
        })
    };
    let run_col = require(&options.run_column)?;
    let time_col = require(&options.time_column)?;
    let (wear_col, unit) = wear_column(&header, options, &src)?;
    let group_col = find(&options.group_column);

    let mut records = reader.records();
    let first = match records.next() {
        None => {
            return Err(WearCsvError::Empty {
                source_name: src.clone(),
            })
        }
        Some(r) => r.map_err(|error| WearCsvError::Csv {
            source_name: src.clone(),
            row: 2,
            error,
        })?,
    };
    // Signals are the numeric columns other than the roles above; text columns are labels.
    let fixed = [Some(run_col), Some(time_col), Some(wear_col), group_col];
    let signal_cols: Vec<usize> = (0..header.len())
        .filter(|c| !fixed.contains(&Some(*c)) && !header[*c].is_empty())
        .filter(|c| {
            first
                .get(*c)
                .is_some_and(|v| v.trim().parse::<f64>().is_ok())
        })
        .collect();

    let mut runs: Vec<WearRun> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let cell = |row: usize, col: usize, message: String| WearCsvError::Cell {
        source_name: src.clone(),
        row,
        column: header[col].clone(),
        message,
    };
    let number =
        |record: &csv::StringRecord, row: usize, col: usize| -> Result<f64, WearCsvError> {
            let text = record.get(col).unwrap_or("").trim();
            let v: f64 = text
                .parse()
                .map_err(|_| cell(row, col, format!("not a number: {text:?}")))?;
            if !v.is_finite() {
                return Err(cell(row, col, format!("not a finite number: {text:?}")));
            }
            Ok(v)
        };
    for (i, record) in std::iter::once(Ok(first)).chain(records).enumerate() {
        let row = i + 2;
        let record = record.map_err(|error| WearCsvError::Csv {
            source_name: src.clone(),
            row,
            error,
        })?;
        let run_id = record.get(run_col).unwrap_or("").trim().to_string();
        if run_id.is_empty() {
            return Err(cell(row, run_col, "empty run id".into()));
        }
        let group = group_col.map(|c| record.get(c).unwrap_or("").trim().to_string());
        let t = number(&record, row, time_col)?;
        let raw_wear = number(&record, row, wear_col)?;
        let wear_mm = unit.to_mm(raw_wear);
        if !(0.0..=MAX_PLAUSIBLE_WEAR_MM).contains(&wear_mm) {
            return Err(cell(
                row,
                wear_col,
                format!(
                    "wear {raw_wear} {} is outside 0–{MAX_PLAUSIBLE_WEAR_MM} mm: wrong unit?",
                    unit.name()
                ),
            ));
        }
        let k = *index.entry(run_id.clone()).or_insert_with(|| {
            runs.push(WearRun {
                run: run_id.clone(),
                group: group.clone(),
                time_s: Vec::new(),
                wear_mm: Vec::new(),
                signals: vec![Vec::new(); signal_cols.len()],
            });
            runs.len() - 1
        });
        let run = &mut runs[k];
        if run.group != group {
            let c = group_col.expect("groups differ only when the column exists");
            return Err(cell(
                row,
                c,
                format!("run {run_id:?} was in group {:?} before", run.group),
            ));
        }
        if let Some(&prev) = run.time_s.last() {
            if t <= prev {
                return Err(cell(
                    row,
                    time_col,
                    format!(
                        "time {t} s does not increase within run {run_id:?} (previous {prev} s)"
                    ),
                ));
            }
        }
        run.time_s.push(t);
        run.wear_mm.push(wear_mm);
        for (j, &c) in signal_cols.iter().enumerate() {
            run.signals[j].push(number(&record, row, c)?);
        }
    }
    Ok(WearDataset {
        source: src.clone(),
        signal_names: signal_cols.iter().map(|&c| header[c].clone()).collect(),
        runs,
    })
}

/// Finds the wear column and its unit: stated by the header suffix or by the options, never guessed.
fn wear_column(
    header: &[String],
    options: &WearCsvOptions,
    src: &str,
) -> Result<(usize, WearUnit), WearCsvError> {
    let candidates = [
        "tool_wear",
        "tool_wear_mm",
        "tool_wear_um",
        "vb_mm",
        "vb_um",
    ];
    let name = match &options.wear_column {
        Some(n) => n.clone(),
        None => candidates
            .iter()
            .find(|c| header.iter().any(|h| h == *c))
            .map(|c| c.to_string())
            .unwrap_or_else(|| "tool_wear".into()),
    };
    let col =
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| WearCsvError::MissingColumn {
                source_name: src.to_string(),
                column: name.clone(),
            })?;
    let stated = if name.ends_with("_mm") {
        Some(WearUnit::Mm)
    } else if name.ends_with("_um") {
        Some(WearUnit::Um)
    } else {
        None
    };
    let unit_error = |message: String| WearCsvError::WearUnit {
        source_name: src.to_string(),
        column: name.clone(),
        message,
    };
    match (stated, options.wear_unit) {
        (Some(s), Some(o)) if s != o => Err(unit_error(format!(
            "header says {} but the wear unit given is {}",
            s.name(),
            o.name()
        ))),
        (Some(u), _) | (None, Some(u)) => Ok((col, u)),
        (None, None) => Err(unit_error(
            "wear unit not stated: name the column *_mm / *_um or give the unit (mm|um)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, unit: Option<WearUnit>) -> Result<WearDataset, WearCsvError> {
        let options = WearCsvOptions {
            wear_unit: unit,
            ..WearCsvOptions::default()
        };
        parse_wear_csv(text.as_bytes(), "t.csv", &options)
    }

    const GOOD: &str = ",timestamp,force_z,tool_wear,experiment_tag,dataset_tag\n\
        0,0.5,1.0,0.05,c1,phm\n1,1.0,2.0,0.06,c1,phm\n2,0.5,3.0,0.07,c2,phm\n";

    #[test]
    fn reads_runs_signals_and_groups() {
        let d = parse(GOOD, Some(WearUnit::Mm)).unwrap();
        assert_eq!(d.signal_names, vec!["force_z"]);
        assert_eq!(d.runs.len(), 2);
        assert_eq!(d.runs[0].time_s, vec![0.5, 1.0]);
        assert_eq!(d.runs[0].signals[0], vec![1.0, 2.0]);
        assert_eq!(d.runs[1].group.as_deref(), Some("phm"));
        assert_eq!(d.group("phm").len(), 2);
    }

    #[test]
    fn written_csv_reads_back_exactly() {
        let run = |name: &str, t0: f64| WearRun {
            run: name.into(),
            group: None,
            time_s: vec![t0, t0 + 1.0 / 3.0],
            wear_mm: vec![0.1 + 0.2, 1e-7],
            signals: vec![vec![std::f64::consts::PI, -2.5e12], vec![0.0, 42.0]],
        };
        let runs = [run("a", 1.0), run("b,with comma", 0.125)];
        let names = vec!["load".to_string(), "power kw".to_string()];
        let text = write_wear_csv(&runs.iter().collect::<Vec<_>>(), &names);
        let back = parse_wear_csv(text.as_bytes(), "w.csv", &WearCsvOptions::default()).unwrap();
        assert_eq!(back.signal_names, names);
        assert_eq!(back.runs, runs.to_vec());
    }

    #[test]
    fn unit_from_header_in_um() {
        let text = "timestamp,vb_um,run,s\n1,50,a,0.1\n2,60,a,0.2\n";
        let options = WearCsvOptions {
            run_column: "run".into(),
            ..WearCsvOptions::default()
        };
        let d = parse_wear_csv(text.as_bytes(), "u.csv", &options).unwrap();
        assert_eq!(d.runs[0].wear_mm, vec![0.05, 0.06]);
    }

    fn error_text(text: &str, unit: Option<WearUnit>) -> String {
        parse(text, unit).unwrap_err().to_string()
    }

    #[test]
    fn unstated_or_contradicting_unit_is_rejected() {
        let e = error_text(GOOD, None);
        assert!(
            e.contains("\"tool_wear\"") && e.contains("unit not stated"),
            "{e}"
        );
        let text = "timestamp,tool_wear_mm,experiment_tag\n1,0.1,a\n";
        let e = error_text(text, Some(WearUnit::Um));
        assert!(e.contains("header says mm"), "{e}");
    }

    #[test]
    fn missing_column_is_named() {
        let e = error_text("timestamp,tool_wear\n1,0.1\n", Some(WearUnit::Mm));
        assert!(
            e.contains("row 1") && e.contains("\"experiment_tag\""),
            "{e}"
        );
    }

    #[test]
    fn bad_cells_name_row_and_column() {
        let nan = GOOD.replace("1,1.0,2.0,", "1,1.0,NaN,");
        let e = error_text(&nan, Some(WearUnit::Mm));
        assert!(e.contains("t.csv: row 3, column \"force_z\""), "{e}");
        let text = GOOD.replace("0.06", "abc");
        let e = error_text(&text, Some(WearUnit::Mm));
        assert!(
            e.contains("row 3, column \"tool_wear\": not a number"),
            "{e}"
        );
    }

    #[test]
    fn wear_in_um_declared_as_mm_is_rejected() {
        let text = GOOD.replace("0.06", "60.0");
        let e = error_text(&text, Some(WearUnit::Mm));
        assert!(
            e.contains("row 3, column \"tool_wear\"") && e.contains("wrong unit"),
            "{e}"
        );
    }

    #[test]
    fn time_must_increase_within_a_run() {
        let text = GOOD.replace("1,1.0,2.0", "1,0.5,2.0");
        let e = error_text(&text, Some(WearUnit::Mm));
        assert!(
            e.contains("row 3, column \"timestamp\"") && e.contains("c1"),
            "{e}"
        );
    }
}
