//! A cell to schedule as people write it: machines, jobs and a tariff in CSV files, by name
//! (issue 15), and the one JSON form of a named energy model that the plan file, the `schedule`
//! ledger record and the CP-SAT peer of the benchmark share.
//!
//! CSV formats (a header line first; blank lines and lines starting with `#` are skipped; every
//! error names the 1-based line and what is wrong there):
//!
//! * machines: `machine,rated_kw,idle_kw,standby_kw,off_kw,wake_s,wake_kw,warmup_s,warmup_kw`:
//!   the machine's name, its rated (default cutting) power, its state powers (off ≤ standby ≤
//!   idle), its standby → idle time and power, and its off → standby time and power.
//! * jobs: `job,op,machine,duration_s,cutting_kw,due_s,weight`: one row per operation *and*
//!   eligible machine. Jobs are numbered in order of first appearance, operations of a job by
//!   their `op` number (whole, ≥ 1, no gaps); an operation has one row per machine it may run
//!   on. `cutting_kw` may be empty: the machine's rated power. `due_s` (from the plan's start)
//!   and `weight` must be equal on every row of a job.
//! * tariff: `start,end,price_per_kwh`: bands of a day as `HH:MM` (or seconds), contiguous from
//!   `00:00` to `24:00`; the tariff repeats daily. [`rotate_tariff`] turns it into bands from the
//!   plan's start time of day.

use super::energy::{
    EnergyModel, EnergySpec, JobTerms, MachinePower, ModelError, OptionPower, TariffBand,
};
use super::instance::{Instance, Job, MachineOption, Operation, Time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Seconds in the day a tariff file describes.
pub const DAY_S: Time = 86_400;

/// A CSV line that cannot be read: its 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct FileError {
    /// 1-based line of the file.
    pub line: u64,
    /// What is wrong there.
    pub reason: String,
}

fn at(line: u64, reason: impl Into<String>) -> FileError {
    FileError {
        line,
        reason: reason.into(),
    }
}

/// The rows of `text` (header checked against `columns`), each with its 1-based line.
fn rows(text: &str, columns: &[&str]) -> Result<Vec<(u64, Vec<String>)>, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| at(1, e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header != columns {
        return Err(at(
            1,
            format!(
                "header `{}` is not `{}`",
                header.join(","),
                columns.join(",")
            ),
        ));
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            at(
                e.position().map_or(0, |p| p.line()),
                format!("not CSV: {e}"),
            )
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != columns.len() {
            return Err(at(
                line,
                format!("{} fields, the header has {}", record.len(), columns.len()),
            ));
        }
        out.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(out)
}

/// `field` (named `name`) as a finite number ≥ 0.
fn non_negative(line: u64, name: &str, field: &str) -> Result<f64, FileError> {
    match field.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(v) => Err(at(line, format!("{name} {v}: must be a finite number ≥ 0"))),
        Err(_) => Err(at(line, format!("{name} `{field}` is not a number"))),
    }
}

/// `field` (named `name`) as whole seconds ≥ 0.
fn seconds(line: u64, name: &str, field: &str) -> Result<Time, FileError> {
    match field.parse::<Time>() {
        Ok(v) if v >= 0 => Ok(v),
        Ok(v) => Err(at(line, format!("{name} {v}: must be ≥ 0 s"))),
        Err(_) => Err(at(line, format!("{name} `{field}` is not whole seconds"))),
    }
}

/// Machines read from a machines CSV: names and powers, in file order.
pub fn parse_machines(text: &str) -> Result<(Vec<String>, Vec<MachinePower>), FileError> {
    let columns = [
        "machine",
        "rated_kw",
        "idle_kw",
        "standby_kw",
        "off_kw",
        "wake_s",
        "wake_kw",
        "warmup_s",
        "warmup_kw",
    ];
    let mut names: Vec<String> = Vec::new();
    let mut powers = Vec::new();
    for (line, f) in rows(text, &columns)? {
        if f[0].is_empty() {
            return Err(at(line, "machine name is empty"));
        }
        if names.contains(&f[0]) {
            return Err(at(line, format!("machine {:?} is listed twice", f[0])));
        }
        let kw = |i: usize| non_negative(line, columns[i], &f[i]);
        let power = MachinePower {
            rated_kw: kw(1)?,
            idle_kw: kw(2)?,
            standby_kw: kw(3)?,
            off_kw: kw(4)?,
            wake_s: seconds(line, columns[5], &f[5])?,
            wake_kw: kw(6)?,
            warmup_s: seconds(line, columns[7], &f[7])?,
            warmup_kw: kw(8)?,
        };
        if !(power.off_kw <= power.standby_kw && power.standby_kw <= power.idle_kw) {
            return Err(at(line, "powers must be off_kw ≤ standby_kw ≤ idle_kw"));
        }
        names.push(f[0].clone());
        powers.push(power);
    }
    if names.is_empty() {
        return Err(at(2, "no machines"));
    }
    Ok((names, powers))
}

/// Jobs read from a jobs CSV against the machines named `machines`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobsFile {
    /// Job names, in order of first appearance.
    pub names: Vec<String>,
    /// The jobs' operations.
    pub instance: Instance,
    /// Due dates and weights.
    pub terms: Vec<JobTerms>,
    /// Cutting powers given (the rest cut at the machine's rated power).
    pub cutting: Vec<OptionPower>,
}

/// Reads a jobs CSV; `machines` are the machine names in model order.
pub fn parse_jobs(text: &str, machines: &[String]) -> Result<JobsFile, FileError> {
    let columns = [
        "job",
        "op",
        "machine",
        "duration_s",
        "cutting_kw",
        "due_s",
        "weight",
    ];
    /// A row's option: line, machine, duration, cutting kW.
    type Row = (u64, usize, Time, Option<f64>);
    struct Draft {
        first_line: u64,
        terms: JobTerms,
        /// op number → its options.
        ops: BTreeMap<u64, Vec<Row>>,
    }
    let mut names: Vec<String> = Vec::new();
    let mut drafts: Vec<Draft> = Vec::new();
    for (line, f) in rows(text, &columns)? {
        if f[0].is_empty() {
            return Err(at(line, "job name is empty"));
        }
        let op: u64 = match f[1].parse() {
            Ok(n) if n >= 1 => n,
            _ => return Err(at(line, format!("op `{}` is not a whole number ≥ 1", f[1]))),
        };
        if f[2].is_empty() {
            return Err(at(
                line,
                format!(
                    "job {:?} op {op} has no eligible machine (machine is empty)",
                    f[0]
                ),
            ));
        }
        let machine = machines.iter().position(|m| *m == f[2]).ok_or_else(|| {
            at(
                line,
                format!(
                    "unknown machine {:?} (the machines are {})",
                    f[2],
                    machines.join(", ")
                ),
            )
        })?;
        let duration = seconds(line, "duration_s", &f[3])?;
        let cutting = if f[4].is_empty() {
            None
        } else {
            Some(non_negative(line, "cutting_kw", &f[4])?)
        };
        let terms = JobTerms {
            due_s: seconds(line, "due_s", &f[5])?,
            weight: non_negative(line, "weight", &f[6])?,
        };
        let j = match names.iter().position(|n| *n == f[0]) {
            Some(j) => j,
            None => {
                names.push(f[0].clone());
                drafts.push(Draft {
                    first_line: line,
                    terms,
                    ops: BTreeMap::new(),
                });
                names.len() - 1
            }
        };
        let draft = &mut drafts[j];
        if draft.terms != terms {
            return Err(at(
                line,
                format!(
                    "job {:?} has due_s {} and weight {} on line {}, here {} and {}",
                    f[0],
                    draft.terms.due_s,
                    draft.terms.weight,
                    draft.first_line,
                    terms.due_s,
                    terms.weight
                ),
            ));
        }
        let options = draft.ops.entry(op).or_default();
        if let Some((first, ..)) = options.iter().find(|o| o.1 == machine) {
            return Err(at(
                line,
                format!(
                    "job {:?} op {op} lists machine {:?} again (first on line {first})",
                    f[0], f[2]
                ),
            ));
        }
        options.push((line, machine, duration, cutting));
    }
    if names.is_empty() {
        return Err(at(2, "no jobs"));
    }
    let mut jobs = Vec::new();
    let mut cutting = Vec::new();
    for (j, (name, draft)) in names.iter().zip(&drafts).enumerate() {
        let mut operations = Vec::new();
        for (o, (&number, options)) in draft.ops.iter().enumerate() {
            if number != o as u64 + 1 {
                return Err(at(
                    options[0].0,
                    format!(
                        "job {name:?} op {number} follows op {o}: op numbers must run 1, 2, … without gaps"
                    ),
                ));
            }
            for &(_, machine, _, kw) in options {
                if let Some(cutting_kw) = kw {
                    cutting.push(OptionPower {
                        job: j,
                        operation: o,
                        machine,
                        cutting_kw,
                    });
                }
            }
            operations.push(Operation {
                options: options
                    .iter()
                    .map(|&(_, machine, duration, _)| MachineOption { machine, duration })
                    .collect(),
            });
        }
        jobs.push(Job { operations });
    }
    Ok(JobsFile {
        names,
        instance: Instance {
            machines: machines.len(),
            jobs,
        },
        terms: drafts.iter().map(|d| d.terms).collect(),
        cutting,
    })
}

/// `HH:MM` (or whole seconds) as seconds of the day.
fn time_of_day(line: u64, name: &str, field: &str) -> Result<Time, FileError> {
    let bad = || {
        at(
            line,
            format!("{name} `{field}` is not HH:MM (00:00 to 24:00) or whole seconds"),
        )
    };
    let s = match field.split_once(':') {
        Some((h, m)) => {
            let (h, m): (Time, Time) =
                (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            if !(0..60).contains(&m) {
                return Err(bad());
            }
            h * 3600 + m * 60
        }
        None => field.parse().map_err(|_| bad())?,
    };
    if (0..=DAY_S).contains(&s) {
        Ok(s)
    } else {
        Err(bad())
    }
}

/// A tariff CSV: bands of one day, contiguous from 00:00 to 24:00.
pub fn parse_tariff(text: &str) -> Result<Vec<TariffBand>, FileError> {
    let mut bands: Vec<TariffBand> = Vec::new();
    let mut last_line = 1;
    for (line, f) in rows(text, &["start", "end", "price_per_kwh"])? {
        let start_s = time_of_day(line, "start", &f[0])?;
        let end_s = time_of_day(line, "end", &f[1])?;
        let previous = bands.last().map_or(0, |b| b.end_s);
        if start_s != previous {
            return Err(at(
                line,
                format!(
                    "band starts at {} but the previous ends at {} (bands must be contiguous from 00:00)",
                    f[0],
                    hh_mm(previous)
                ),
            ));
        }
        if end_s <= start_s {
            return Err(at(line, format!("band {}–{} is empty", f[0], f[1])));
        }
        bands.push(TariffBand {
            start_s,
            end_s,
            price_per_kwh: non_negative(line, "price_per_kwh", &f[2])?,
        });
        last_line = line;
    }
    match bands.last() {
        None => Err(at(2, "no bands")),
        Some(b) if b.end_s != DAY_S => Err(at(
            last_line,
            format!("the last band ends at {}, not 24:00", hh_mm(b.end_s)),
        )),
        Some(_) => Ok(bands),
    }
}

/// Seconds of the day as `HH:MM`.
fn hh_mm(s: Time) -> String {
    format!("{:02}:{:02}", s / 3600, s % 3600 / 60)
}

/// A day's `bands` as the model wants them: from the plan's start at `start_of_day_s` (0 = the
/// band at 00:00), contiguous over one day.
pub fn rotate_tariff(bands: &[TariffBand], start_of_day_s: Time) -> Vec<TariffBand> {
    let shift = start_of_day_s.rem_euclid(DAY_S);
    let mut out: Vec<TariffBand> = Vec::new();
    // Walk the day once from the shift, band by band, in two laps of the day.
    let mut t = shift;
    for lap in 0..2 {
        for b in bands {
            let (start, end) = (b.start_s + lap * DAY_S, b.end_s + lap * DAY_S);
            let (from, to) = (start.max(t), end.min(shift + DAY_S));
            if to > from {
                out.push(TariffBand {
                    start_s: from - shift,
                    end_s: to - shift,
                    price_per_kwh: b.price_per_kwh,
                });
                t = to;
            }
        }
    }
    out
}

/// An energy model with the names of its machines and jobs.
#[derive(Debug, Clone)]
pub struct NamedModel {
    /// Machine names, in model order.
    pub machines: Vec<String>,
    /// Job names, in model order.
    pub jobs: Vec<String>,
    /// The model.
    pub model: EnergyModel,
}

/// One machine option in [`ModelJson`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionJson {
    /// The machine, 0-based.
    pub machine: usize,
    /// Processing time.
    pub duration_s: Time,
    /// Cutting power.
    pub cutting_kw: f64,
}

/// One operation in [`ModelJson`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationJson {
    /// Its eligible machines.
    pub options: Vec<OptionJson>,
}

/// One job in [`ModelJson`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobJson {
    /// Its name.
    pub id: String,
    /// Due date, s from the plan's start.
    pub due_s: Time,
    /// Weight of a second late.
    pub weight: f64,
    /// Its operations, in order.
    pub operations: Vec<OperationJson>,
}

/// One machine in [`ModelJson`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineJson {
    /// Its name.
    pub id: String,
    /// See [`MachinePower`].
    pub rated_kw: f64,
    /// See [`MachinePower`].
    pub idle_kw: f64,
    /// See [`MachinePower`].
    pub standby_kw: f64,
    /// See [`MachinePower`].
    pub off_kw: f64,
    /// See [`MachinePower`].
    pub wake_s: Time,
    /// See [`MachinePower`].
    pub wake_kw: f64,
    /// See [`MachinePower`].
    pub warmup_s: Time,
    /// See [`MachinePower`].
    pub warmup_kw: f64,
}

impl MachineJson {
    /// Machine `id` with `power`.
    pub fn new(id: &str, power: &MachinePower) -> Self {
        Self {
            id: id.to_owned(),
            rated_kw: power.rated_kw,
            idle_kw: power.idle_kw,
            standby_kw: power.standby_kw,
            off_kw: power.off_kw,
            wake_s: power.wake_s,
            wake_kw: power.wake_kw,
            warmup_s: power.warmup_s,
            warmup_kw: power.warmup_kw,
        }
    }
}

impl From<&TariffBand> for BandJson {
    fn from(b: &TariffBand) -> Self {
        Self {
            start_s: b.start_s,
            end_s: b.end_s,
            price_per_kwh: b.price_per_kwh,
        }
    }
}

/// One tariff band in [`ModelJson`], s from the plan's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandJson {
    /// Start.
    pub start_s: Time,
    /// End (exclusive).
    pub end_s: Time,
    /// Price.
    pub price_per_kwh: f64,
}

/// The JSON form of a [`NamedModel`]: every cutting power spelled out, times in s from the
/// plan's start, the tariff's bands repeating with the last band's end as period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelJson {
    /// The machines.
    pub machines: Vec<MachineJson>,
    /// The jobs.
    pub jobs: Vec<JobJson>,
    /// The tariff.
    pub tariff: Vec<BandJson>,
    /// Demand charge per kW of peak.
    pub demand_per_kw: f64,
    /// Plant power cap.
    pub cap_kw: f64,
}

impl NamedModel {
    /// Builds the model from the parsed files; errors name machines and jobs by name.
    pub fn new(
        machines: (Vec<String>, Vec<MachinePower>),
        jobs: JobsFile,
        tariff: Vec<TariffBand>,
        demand_per_kw: f64,
        cap_kw: f64,
    ) -> Result<Self, String> {
        let spec = EnergySpec {
            machines: machines.1,
            cutting: jobs.cutting,
            tariff,
            demand_per_kw,
            cap_kw,
            jobs: jobs.terms,
        };
        let names = (machines.0, jobs.names);
        let model = EnergyModel::new(jobs.instance, spec).map_err(|e| match e {
            ModelError::CapBelowMachine {
                machine,
                need_kw,
                cap_kw,
            } => format!(
                "cap {cap_kw} kW is below the {need_kw:.2} kW machine {:?} draws on its own \
                 (its highest cutting or switching power, the others off): no schedule fits",
                names.0[machine]
            ),
            ModelError::StateOrder { machine, reason } => {
                format!("machine {:?}: {reason}", names.0[machine])
            }
            other => other.to_string(),
        })?;
        Ok(Self {
            machines: names.0,
            jobs: names.1,
            model,
        })
    }

    /// The JSON form.
    pub fn to_json(&self) -> ModelJson {
        let spec = self.model.spec();
        ModelJson {
            machines: self
                .machines
                .iter()
                .zip(&spec.machines)
                .map(|(id, m)| MachineJson::new(id, m))
                .collect(),
            jobs: self
                .jobs
                .iter()
                .zip(&self.model.instance().jobs)
                .zip(&spec.jobs)
                .enumerate()
                .map(|(j, ((id, job), terms))| JobJson {
                    id: id.clone(),
                    due_s: terms.due_s,
                    weight: terms.weight,
                    operations: job
                        .operations
                        .iter()
                        .enumerate()
                        .map(|(o, op)| OperationJson {
                            options: op
                                .options
                                .iter()
                                .map(|opt| OptionJson {
                                    machine: opt.machine,
                                    duration_s: opt.duration,
                                    cutting_kw: self
                                        .model
                                        .cutting_kw(j, o, opt.machine)
                                        .expect("the option's own machine"),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            tariff: spec.tariff.iter().map(BandJson::from).collect(),
            demand_per_kw: spec.demand_per_kw,
            cap_kw: spec.cap_kw,
        }
    }

    /// The model of its JSON form, validated as [`EnergyModel::new`] does.
    pub fn from_json(json: &ModelJson) -> Result<Self, String> {
        let machines = json
            .machines
            .iter()
            .map(|m| MachinePower {
                rated_kw: m.rated_kw,
                idle_kw: m.idle_kw,
                standby_kw: m.standby_kw,
                off_kw: m.off_kw,
                wake_s: m.wake_s,
                wake_kw: m.wake_kw,
                warmup_s: m.warmup_s,
                warmup_kw: m.warmup_kw,
            })
            .collect();
        let mut cutting = Vec::new();
        let mut jobs = Vec::new();
        for (j, job) in json.jobs.iter().enumerate() {
            let mut operations = Vec::new();
            for (o, op) in job.operations.iter().enumerate() {
                let mut options = Vec::new();
                for opt in &op.options {
                    if opt.machine >= json.machines.len() {
                        return Err(format!(
                            "job {:?} operation {o}: machine {} does not exist ({} machines)",
                            job.id,
                            opt.machine,
                            json.machines.len()
                        ));
                    }
                    if opt.duration_s < 0 {
                        return Err(format!(
                            "job {:?} operation {o}: duration_s {} is negative",
                            job.id, opt.duration_s
                        ));
                    }
                    options.push(MachineOption {
                        machine: opt.machine,
                        duration: opt.duration_s,
                    });
                    cutting.push(OptionPower {
                        job: j,
                        operation: o,
                        machine: opt.machine,
                        cutting_kw: opt.cutting_kw,
                    });
                }
                if options.is_empty() {
                    return Err(format!(
                        "job {:?} operation {o}: no eligible machine",
                        job.id
                    ));
                }
                operations.push(Operation { options });
            }
            jobs.push(Job { operations });
        }
        let jobs_file = JobsFile {
            names: json.jobs.iter().map(|j| j.id.clone()).collect(),
            instance: Instance {
                machines: json.machines.len(),
                jobs,
            },
            terms: json
                .jobs
                .iter()
                .map(|j| JobTerms {
                    due_s: j.due_s,
                    weight: j.weight,
                })
                .collect(),
            cutting,
        };
        let tariff = json
            .tariff
            .iter()
            .map(|b| TariffBand {
                start_s: b.start_s,
                end_s: b.end_s,
                price_per_kwh: b.price_per_kwh,
            })
            .collect();
        Self::new(
            (
                json.machines.iter().map(|m| m.id.clone()).collect(),
                machines,
            ),
            jobs_file,
            tariff,
            json.demand_per_kw,
            json.cap_kw,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MACHINES: &str =
        "machine,rated_kw,idle_kw,standby_kw,off_kw,wake_s,wake_kw,warmup_s,warmup_kw
# the cell's mills
mill-a,7.5,2.2,0.6,0,10,2.2,120,2.2
mill-b,11,2.5,0.7,0,10,2.5,120,2.5
";
    const JOBS: &str = "job,op,machine,duration_s,cutting_kw,due_s,weight
bracket,1,mill-a,300,5.1,3600,1
bracket,1,mill-b,280,,3600,1
bracket,2,mill-b,200,6,3600,1
cover,1,mill-a,400,4,1800,2
";
    const TARIFF: &str = "start,end,price_per_kwh
00:00,07:00,0.12
07:00,19:00,0.30
19:00,24:00,0.12
";

    fn machines() -> Vec<String> {
        parse_machines(MACHINES).unwrap().0
    }

    #[test]
    fn reads_the_documented_formats() {
        let (names, powers) = parse_machines(MACHINES).unwrap();
        assert_eq!(names, ["mill-a", "mill-b"]);
        assert_eq!(powers[1].rated_kw, 11.0);
        let jobs = parse_jobs(JOBS, &names).unwrap();
        assert_eq!(jobs.names, ["bracket", "cover"]);
        assert_eq!(jobs.instance.jobs[0].operations.len(), 2);
        assert_eq!(jobs.instance.jobs[0].operations[0].options.len(), 2);
        assert_eq!(jobs.terms[1].due_s, 1800);
        // Only the powers given are listed; the empty one cuts at the rated power.
        assert_eq!(jobs.cutting.len(), 3);
        let tariff = parse_tariff(TARIFF).unwrap();
        assert_eq!(tariff[1].start_s, 7 * 3600);
        let model = NamedModel::new(
            parse_machines(MACHINES).unwrap(),
            jobs,
            rotate_tariff(&tariff, 6 * 3600),
            0.5,
            20.0,
        )
        .unwrap();
        assert_eq!(model.model.cutting_kw(0, 0, 1), Some(11.0));
        // The JSON form reads back to the same model.
        let json = model.to_json();
        let back = NamedModel::from_json(&json).unwrap();
        assert_eq!(back.to_json(), json);
        assert_eq!(back.model.instance(), model.model.instance());
        assert_eq!(back.model.spec().tariff, model.model.spec().tariff);
    }

    #[test]
    fn rotation_starts_the_day_at_the_plan_start() {
        let tariff = parse_tariff(TARIFF).unwrap();
        let r = rotate_tariff(&tariff, 6 * 3600);
        let spans: Vec<(Time, Time, f64)> = r
            .iter()
            .map(|b| (b.start_s, b.end_s, b.price_per_kwh))
            .collect();
        assert_eq!(
            spans,
            [
                (0, 3600, 0.12),
                (3600, 13 * 3600, 0.30),
                (13 * 3600, 18 * 3600, 0.12),
                (18 * 3600, DAY_S, 0.12),
            ]
        );
        assert_eq!(rotate_tariff(&tariff, 0), tariff);
    }

    #[test]
    fn bad_input_names_the_line_and_the_reason() {
        let cases: [(Result<(), FileError>, u64, &str); 9] = [
            (
                parse_jobs(
                    &JOBS.replace("cover,1,mill-a", "cover,1,mill-z"),
                    &machines(),
                )
                .map(drop),
                5,
                "unknown machine \"mill-z\"",
            ),
            (
                parse_jobs(&JOBS.replace("200,6", "-200,6"), &machines()).map(drop),
                4,
                "duration_s -200: must be ≥ 0 s",
            ),
            (
                parse_jobs(&JOBS.replace("cover,1,mill-a", "cover,1,"), &machines()).map(drop),
                5,
                "has no eligible machine",
            ),
            (
                parse_jobs(
                    &JOBS.replace("bracket,2,mill-b,200,6,3600", "bracket,2,mill-b,200,6,3000"),
                    &machines(),
                )
                .map(drop),
                4,
                "has due_s 3600 and weight 1 on line 2",
            ),
            (
                parse_jobs(&JOBS.replace("bracket,2,", "bracket,3,"), &machines()).map(drop),
                4,
                "op numbers must run 1, 2, … without gaps",
            ),
            (
                parse_jobs(&JOBS.replace("4,1800,2", "4,1800"), &machines()).map(drop),
                5,
                "6 fields, the header has 7",
            ),
            (
                parse_machines(&MACHINES.replace("11,2.5,0.7", "11,0.5,0.7")).map(drop),
                4,
                "off_kw ≤ standby_kw ≤ idle_kw",
            ),
            (
                parse_tariff(&TARIFF.replace("19:00,24:00", "19:30,24:00")).map(drop),
                4,
                "band starts at 19:30 but the previous ends at 19:00",
            ),
            (
                parse_tariff(&TARIFF.replace("19:00,24:00,0.12", "19:00,23:00,0.12")).map(drop),
                4,
                "not 24:00",
            ),
        ];
        for (result, line, reason) in cases {
            let e = result.unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(e.reason.contains(reason), "{e}");
        }
        let e = parse_jobs("job,op\nx,1\n", &machines()).unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn a_cap_below_one_machine_names_it() {
        let (names, powers) = parse_machines(MACHINES).unwrap();
        let jobs = parse_jobs(JOBS, &names).unwrap();
        let e = NamedModel::new(
            (names, powers),
            jobs,
            parse_tariff(TARIFF).unwrap(),
            0.0,
            9.0,
        )
        .unwrap_err();
        assert!(e.contains("machine \"mill-b\""), "{e}");
        assert!(e.contains("cap 9 kW"), "{e}");
    }
}
