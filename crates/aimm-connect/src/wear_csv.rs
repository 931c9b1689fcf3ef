//! Reader for recorded tool-wear data: the documented long-format CSV that wear models are
//! trained, evaluated and applied on.
//!
//! # Format
//!
//! One row per time point, a header row first, comma-separated. Columns, in any order (each
//! header can be changed in [`WearCsvOptions`]; the CLI's `--run-col`, `--time-col`,
//! `--wear-col`, `--group-col`, `--signals`):
//!
//! | column | default name | content |
//! |---|---|---|
//! | run id | `experiment_tag` | one tool's life (a cutter, an experiment); rows of a run need not be contiguous |
//! | time | `timestamp` | seconds of cutting since the run's tool was new; strictly increasing within a run |
//! | measured wear | `tool_wear` (unit from [`WearCsvOptions::wear_unit`]), or a header stating it: `tool_wear_mm`, `tool_wear_um`, `vb_mm`, `vb_um` | flank wear VB; an empty cell or `NaN` where it was not measured |
//! | group (optional) | `dataset_tag` | which data set / machine / material a run belongs to |
//! | signals | [`WearCsvOptions::signals`], or else every other column whose first cell is a number | e.g. `force_z`, `vibration_x`, `spindle_power` |
//!
//! When the signals are named, every other column is ignored; otherwise a leading column with an
//! empty header (a pandas index) and text columns are ignored, and [`WearDataset::ignored`] says
//! which. Wear is usually measured only at inspections: rows without it are kept (their signals
//! still count) with wear NaN. The wear column may be absent altogether when
//! [`WearCsvOptions::wear_required`] is off (scoring a tool in production).
//!
//! Every cell of the time and signal columns must be a finite number. Wear must lie in a plausible
//! range for its unit: no value above 5 mm (µm declared as mm) and, when any is measured, the
//! largest at least 5 µm (mm declared as µm). Any error fails the whole load — half a data set is
//! never returned — and names the file, the row and the column. Rows are numbered as an editor
//! numbers the file's lines: the header is row 1.

use std::collections::HashMap;
use std::path::Path;

/// Largest flank wear accepted, mm: far beyond any wear criterion (ISO 8688-2 uses 0.3 mm), so
/// larger values are a unit mistake, not wear.
pub const MAX_PLAUSIBLE_WEAR_MM: f64 = 5.0;

/// Smallest value the largest measured wear of a file may take, mm (5 µm). A tool's flank wear
/// is tens of µm after its running-in and 0.1–0.3 mm near its end; a whole file below 5 µm is
/// mm declared as µm (0.3 mm read as 0.3 µm), not wear.
pub const MIN_PLAUSIBLE_LARGEST_WEAR_MM: f64 = 0.005;

/// Default header of the group column, used when the file has it.
pub const DEFAULT_GROUP_COLUMN: &str = "dataset_tag";

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

/// Column names, the wear unit and which columns are signals; [`Default`] matches the uniwear
/// layout except the unit.
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
    /// Header of the group column (data set / machine / material); required when given. `None`:
    /// [`DEFAULT_GROUP_COLUMN`] when the header has it, else no groups.
    pub group_column: Option<String>,
    /// The signal columns, in this order; every other column is ignored. `None`: every other
    /// column whose first cell is a number, in file order.
    pub signals: Option<Vec<String>>,
    /// Whether the file must have a wear column (training, evaluation). Off, a file without one
    /// loads with wear NaN everywhere (scoring a tool in production); a wear column named in
    /// [`WearCsvOptions::wear_column`] is still required.
    pub wear_required: bool,
}

impl Default for WearCsvOptions {
    fn default() -> Self {
        WearCsvOptions {
            run_column: "experiment_tag".into(),
            time_column: "timestamp".into(),
            wear_column: None,
            wear_unit: None,
            group_column: None,
            signals: None,
            wear_required: true,
        }
    }
}

pub use aimm_model::WearRun;

/// A loaded wear CSV: runs in order of first appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct WearDataset {
    /// Where the data came from (the file path or the name given to [`parse_wear_csv`]).
    pub source: String,
    /// Headers of the signal columns; each run's `signals` follow this order.
    pub signal_names: Vec<String>,
    /// Headers of the columns that were read as nothing (neither a role nor a signal).
    pub ignored: Vec<String>,
    /// The runs (tool lives), wear in mm (NaN where not measured) and time in s.
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

    /// The same data with exactly the signals `names`, in that order, matched by column name: how
    /// a trained model reads data whose columns may come in any order. A signal of `names` the
    /// data lacks, or a signal of the data not in `names`, is refused, naming both sides.
    pub fn with_signals(&self, names: &[String]) -> Result<WearDataset, WearCsvError> {
        let not_in = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().filter(|n| !b.contains(n)).cloned().collect()
        };
        let missing = not_in(names, &self.signal_names);
        let extra = not_in(&self.signal_names, names);
        if !missing.is_empty() || !extra.is_empty() {
            return Err(WearCsvError::SignalColumns {
                source_name: self.source.clone(),
                expected: names.to_vec(),
                missing,
                extra,
            });
        }
        let order: Vec<usize> = names
            .iter()
            .map(|n| {
                let at = self.signal_names.iter().position(|s| s == n);
                at.expect("every name was found above")
            })
            .collect();
        let runs = self
            .runs
            .iter()
            .map(|r| WearRun {
                signals: order.iter().map(|&j| r.signals[j].clone()).collect(),
                ..r.clone()
            })
            .collect();
        Ok(WearDataset {
            signal_names: names.to_vec(),
            runs,
            ..self.clone()
        })
    }
}

/// Why a wear CSV could not be loaded; each names the file, and where it applies the row
/// (numbered as the file's lines, the header is row 1) and the column.
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
    /// The file has nothing in it, not even a header row.
    #[error(
        "{source_name}: the file is empty (expected a header row, then one row per time point)"
    )]
    EmptyFile {
        /// The file.
        source_name: String,
    },
    /// A row with a different number of fields than the header.
    #[error("{source_name}: row {row}, column {column:?}: {found} fields where the header has {expected}")]
    Fields {
        /// The file.
        source_name: String,
        /// The row.
        row: usize,
        /// The first missing column, or the last column when the row has too many fields.
        column: String,
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A row that is not valid CSV text (e.g. not UTF-8).
    #[error("{source_name}: row {row}, column {column:?}: {message}")]
    Csv {
        /// The file.
        source_name: String,
        /// The row.
        row: usize,
        /// The column where the reader failed.
        column: String,
        /// What the CSV reader found.
        message: String,
    },
    /// A required column (run id, time, wear, a named group or signal) is not in the header.
    #[error("{source_name}: row 1: missing column {column:?}{hint}")]
    MissingColumn {
        /// The file.
        source_name: String,
        /// The header that was looked for.
        column: String,
        /// Why it may be missing (e.g. the file is not comma-separated), or empty.
        hint: String,
    },
    /// The signal columns are not the ones asked for (a model's signals).
    #[error(
        "{source_name}: row 1: the signal columns do not match {expected:?}: missing {missing:?}, \
         extra {extra:?} (rename the columns, or choose them with --signals)"
    )]
    SignalColumns {
        /// The file.
        source_name: String,
        /// The signals asked for.
        expected: Vec<String>,
        /// Asked for but not in the data.
        missing: Vec<String>,
        /// In the data but not asked for.
        extra: Vec<String>,
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
        /// The row.
        row: usize,
        /// The column's header.
        column: String,
        /// What is wrong with the cell.
        message: String,
    },
    /// The file has a header but no data rows.
    #[error("{source_name}: row 2: no data rows after the header")]
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
/// form and unmeasured wear as an empty cell, so [`parse_wear_csv`] reads back exactly the same
/// values. A data set written this way has a stable SHA-256 by which training records name it.
pub fn write_wear_csv(runs: &[&WearRun], signal_names: &[String]) -> String {
    let grouped = runs.iter().any(|r| r.group.is_some());
    let mut header = vec!["experiment_tag"];
    if grouped {
        header.push(DEFAULT_GROUP_COLUMN);
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
                let wear = run.wear_mm[i];
                row.push(if wear.is_nan() {
                    String::new()
                } else {
                    wear.to_string()
                });
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

/// The CSV reader's error as ours: the row from its position, the column from the field.
fn csv_error(src: &str, header: &[String], error: csv::Error) -> WearCsvError {
    let row = error.position().map_or(1, |p| p.line() as usize);
    let column = |i: usize| header.get(i).or(header.last()).cloned().unwrap_or_default();
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => WearCsvError::Fields {
            source_name: src.to_string(),
            row,
            column: column(*len as usize),
            found: *len as usize,
            expected: *expected_len as usize,
        },
        csv::ErrorKind::Utf8 { err, .. } => WearCsvError::Csv {
            source_name: src.to_string(),
            row,
            column: column(err.field()),
            message: "not valid UTF-8 text".into(),
        },
        csv::ErrorKind::Io(e) => WearCsvError::Io {
            source_name: src.to_string(),
            error: std::io::Error::new(e.kind(), e.to_string()),
        },
        _ => WearCsvError::Csv {
            source_name: src.to_string(),
            row,
            column: column(0),
            message: error.to_string(),
        },
    }
}

/// Why a column may be missing: a header that is one field holding `;` or tabs is not
/// comma-separated.
fn delimiter_hint(header: &[String]) -> String {
    match header {
        [only] if only.contains(';') => {
            "; the file looks ;-delimited: save it comma-separated".into()
        }
        [only] if only.contains('\t') => {
            "; the file looks tab-delimited: save it comma-separated".into()
        }
        _ => String::new(),
    }
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
        .map_err(|error| csv_error(&src, &[], error))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(WearCsvError::EmptyFile { source_name: src });
    }
    let find = |name: &str| header.iter().position(|h| h == name);
    let require = |name: &str| {
        find(name).ok_or_else(|| WearCsvError::MissingColumn {
            source_name: src.clone(),
            column: name.to_string(),
            hint: delimiter_hint(&header),
        })
    };
    let run_col = require(&options.run_column)?;
    let time_col = require(&options.time_column)?;
    let wear = wear_column(&header, options, &src)?;
    let group_col = match &options.group_column {
        Some(name) => Some(require(name)?),
        None => find(DEFAULT_GROUP_COLUMN),
    };

    let mut records = reader.records();
    let first = match records.next() {
        None => return Err(WearCsvError::Empty { source_name: src }),
        Some(r) => r.map_err(|error| csv_error(&src, &header, error))?,
    };
    let roles = [Some(run_col), Some(time_col), wear.map(|w| w.0), group_col];
    let signal_cols: Vec<usize> = match &options.signals {
        Some(names) => names.iter().map(|n| require(n)).collect::<Result<_, _>>()?,
        // Without names, the numeric columns other than the roles above; text columns are labels.
        None => (0..header.len())
            .filter(|c| !roles.contains(&Some(*c)) && !header[*c].is_empty())
            .filter(|c| {
                first
                    .get(*c)
                    .is_some_and(|v| v.trim().parse::<f64>().is_ok())
            })
            .collect(),
    };
    let ignored = (0..header.len())
        .filter(|c| !roles.contains(&Some(*c)) && !signal_cols.contains(c))
        .map(|c| header[c].clone())
        .collect();

    let mut runs: Vec<WearRun> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // The largest measured wear, mm, with its row and cell, for the unit check at the end.
    let mut largest: Option<(f64, usize, String)> = None;
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
    for record in std::iter::once(Ok(first)).chain(records) {
        let record = record.map_err(|error| csv_error(&src, &header, error))?;
        let row = record.position().map_or(0, |p| p.line() as usize);
        let run_id = record.get(run_col).unwrap_or("").trim().to_string();
        if run_id.is_empty() {
            return Err(cell(row, run_col, "empty run id".into()));
        }
        let group = group_col.map(|c| record.get(c).unwrap_or("").trim().to_string());
        let t = number(&record, row, time_col)?;
        let wear_mm = match wear {
            None => f64::NAN,
            Some((col, unit)) => {
                let text = record.get(col).unwrap_or("").trim();
                // Wear is measured at inspections: an empty cell or NaN is a row without it.
                let raw = if text.is_empty() || text.eq_ignore_ascii_case("nan") {
                    f64::NAN
                } else {
                    number(&record, row, col)?
                };
                let mm = unit.to_mm(raw);
                if mm < 0.0 {
                    return Err(cell(
                        row,
                        col,
                        format!("negative wear {raw} {}", unit.name()),
                    ));
                }
                if mm > MAX_PLAUSIBLE_WEAR_MM {
                    return Err(cell(
                        row,
                        col,
                        format!(
                            "wear {raw} {} is above {MAX_PLAUSIBLE_WEAR_MM} mm: wrong unit? \
                             µm declared as mm? (state um: --wear-unit um or a *_um header)",
                            unit.name()
                        ),
                    ));
                }
                if largest.as_ref().is_none_or(|l| mm > l.0) {
                    largest = Some((mm, row, text.to_string()));
                }
                mm
            }
        };
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
    if let (Some((col, unit)), Some((mm, row, text))) = (wear, largest) {
        if mm < MIN_PLAUSIBLE_LARGEST_WEAR_MM {
            let fix = match unit {
                WearUnit::Um => "mm declared as µm? (state mm: --wear-unit mm or a *_mm header)",
                WearUnit::Mm => "not flank wear in mm?",
            };
            return Err(cell(
                row,
                col,
                format!(
                    "the largest wear in the file is {text} {}, below {} µm: {fix}",
                    unit.name(),
                    MIN_PLAUSIBLE_LARGEST_WEAR_MM * 1000.0
                ),
            ));
        }
    }
    Ok(WearDataset {
        source: src,
        signal_names: signal_cols.iter().map(|&c| header[c].clone()).collect(),
        ignored,
        runs,
    })
}

/// Finds the wear column and its unit: stated by the header suffix or by the options, never
/// guessed. `None` when the file has none and none is required.
fn wear_column(
    header: &[String],
    options: &WearCsvOptions,
    src: &str,
) -> Result<Option<(usize, WearUnit)>, WearCsvError> {
    let candidates = [
        "tool_wear",
        "tool_wear_mm",
        "tool_wear_um",
        "vb_mm",
        "vb_um",
    ];
    let name = match &options.wear_column {
        Some(n) => n.clone(),
        None => match candidates.iter().find(|c| header.iter().any(|h| h == *c)) {
            Some(c) => c.to_string(),
            None if !options.wear_required => return Ok(None),
            None => "tool_wear".into(),
        },
    };
    let col =
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| WearCsvError::MissingColumn {
                source_name: src.to_string(),
                column: name.clone(),
                hint: delimiter_hint(header),
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
        (Some(u), _) | (None, Some(u)) => Ok(Some((col, u))),
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

    #[test]
    fn an_empty_file_says_so() {
        let e = error_text("", Some(WearUnit::Mm));
        assert!(e.contains("t.csv: the file is empty"), "{e}");
    }

    #[test]
    fn a_semicolon_delimited_file_is_named() {
        let text = "timestamp;tool_wear;experiment_tag\n1;0.1;a\n";
        let e = error_text(text, Some(WearUnit::Mm));
        assert!(
            e.contains("t.csv: row 1") && e.contains("looks ;-delimited"),
            "{e}"
        );
    }

    #[test]
    fn an_uneven_row_names_its_row_and_column_in_one_numbering() {
        // The short row is line 4 of the file: row 4, as for a bad cell there.
        let text = GOOD.replace("2,0.5,3.0,0.07,c2,phm", "2,0.5,3.0,0.07");
        let e = error_text(&text, Some(WearUnit::Mm));
        assert!(
            e.starts_with(
                "t.csv: row 4, column \"experiment_tag\": 4 fields where the header has 6"
            ),
            "{e}"
        );
        assert!(!e.contains("line") && !e.contains("record"), "{e}");
        let bad = GOOD.replace("0.07", "x");
        let e = error_text(&bad, Some(WearUnit::Mm));
        assert!(e.contains("row 4, column \"tool_wear\""), "{e}");
    }

    #[test]
    fn wear_in_mm_declared_as_um_is_rejected_naming_the_fix() {
        let e = error_text(GOOD, Some(WearUnit::Um));
        assert!(
            e.contains("row 4, column \"tool_wear\"") && e.contains("--wear-unit mm"),
            "{e}"
        );
    }

    #[test]
    fn rows_without_wear_are_kept_unlabelled() {
        let text = GOOD.replace("0.06", "").replace("0.07", "NaN");
        let d = parse(&text, Some(WearUnit::Mm)).unwrap();
        assert_eq!(d.runs[0].wear_mm[0], 0.05);
        assert!(d.runs[0].wear_mm[1].is_nan() && d.runs[1].wear_mm[0].is_nan());
        assert_eq!(d.runs[0].signals[0], vec![1.0, 2.0]);
    }

    #[test]
    fn a_file_without_wear_loads_when_wear_is_not_required() {
        let text = "run,t,load\na,1,0.5\na,2,0.6\n";
        let options = WearCsvOptions {
            run_column: "run".into(),
            time_column: "t".into(),
            wear_required: false,
            ..WearCsvOptions::default()
        };
        let d = parse_wear_csv(text.as_bytes(), "p.csv", &options).unwrap();
        assert_eq!(d.signal_names, vec!["load"]);
        assert!(d.runs[0].wear_mm.iter().all(|w| w.is_nan()));
        let required = WearCsvOptions {
            wear_required: true,
            ..options
        };
        let e = parse_wear_csv(text.as_bytes(), "p.csv", &required).unwrap_err();
        assert!(
            e.to_string().contains("missing column \"tool_wear\""),
            "{e}"
        );
    }

    #[test]
    fn named_columns_and_signals_ignore_the_rest() {
        let text = "tool,secs,vb,plant,load,label,power\n\
            a,1,0.1,p1,5,7,2\na,2,0.2,p1,6,7,3\n";
        let options = WearCsvOptions {
            run_column: "tool".into(),
            time_column: "secs".into(),
            wear_column: Some("vb".into()),
            wear_unit: Some(WearUnit::Mm),
            group_column: Some("plant".into()),
            signals: Some(vec!["power".into(), "load".into()]),
            ..WearCsvOptions::default()
        };
        let d = parse_wear_csv(text.as_bytes(), "n.csv", &options).unwrap();
        assert_eq!(d.signal_names, vec!["power", "load"]);
        assert_eq!(d.runs[0].signals, vec![vec![2.0, 3.0], vec![5.0, 6.0]]);
        assert_eq!(d.ignored, vec!["label"]);
        assert_eq!(d.runs[0].group.as_deref(), Some("p1"));
        // Without names every numeric column is a signal, the label too.
        let d = parse_wear_csv(
            text.as_bytes(),
            "n.csv",
            &WearCsvOptions {
                signals: None,
                ..options.clone()
            },
        )
        .unwrap();
        assert_eq!(d.signal_names, vec!["load", "label", "power"]);
        let missing = WearCsvOptions {
            signals: Some(vec!["torque".into()]),
            ..options
        };
        let e = parse_wear_csv(text.as_bytes(), "n.csv", &missing).unwrap_err();
        assert!(
            e.to_string()
                .contains("n.csv: row 1: missing column \"torque\""),
            "{e}"
        );
    }

    #[test]
    fn signals_are_matched_by_name_and_a_mismatch_is_named() {
        let text = "experiment_tag,timestamp,tool_wear_mm,b,a\nr,1,0.1,2,1\nr,2,0.2,4,3\n";
        let d = parse_wear_csv(text.as_bytes(), "m.csv", &WearCsvOptions::default()).unwrap();
        let names = vec!["a".to_string(), "b".to_string()];
        let m = d.with_signals(&names).unwrap();
        assert_eq!(m.runs[0].signals, vec![vec![1.0, 3.0], vec![2.0, 4.0]]);
        let e = d
            .with_signals(&["a".to_string(), "c".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.csv: row 1")
                && e.contains("missing [\"c\"]")
                && e.contains("extra [\"b\"]"),
            "{e}"
        );
    }
}
