//! The flexible job-shop model and the parsers of the standard text formats.
//!
//! A job is an ordered list of operations; each operation may run on any of its eligible
//! machines, with a processing time per machine ([`MachineOption`]). The classic job shop (JSSP)
//! is the case of exactly one option per operation. Everything a later energy model needs per
//! operation *and* machine (cutting power, a power profile) belongs on [`MachineOption`], next to
//! the processing time it goes with, so the solver's machine choice carries it along.
//!
//! Parsers are pure (`&str → Instance`); they skip blank lines and lines starting with `#`, and
//! every [`ParseError`] names the 1-based line of the text and what is wrong there. Jobs,
//! operations and machines are numbered from 0 in file order, whatever the file's own numbering.

use std::fmt;

/// Time in the instance's time unit (processing times, starts, ends). Signed so differences and
/// "not yet" sentinels need no casts.
pub type Time = i64;

/// One way to run an operation: on `machine` (0-based), taking `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineOption {
    /// The machine, numbered from 0.
    pub machine: usize,
    /// The processing time on that machine, ≥ 0.
    pub duration: Time,
}

/// An operation: the machines it may run on (at least one, each at most once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The eligible machines with their processing times.
    pub options: Vec<MachineOption>,
}

impl Operation {
    /// The processing time on `machine`, or `None` if the machine is not eligible.
    pub fn duration_on(&self, machine: usize) -> Option<Time> {
        self.options
            .iter()
            .find(|o| o.machine == machine)
            .map(|o| o.duration)
    }
}

/// A job: operations that run one after the other, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The operations, in processing order.
    pub operations: Vec<Operation>,
}

/// A (flexible) job-shop instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Number of machines; every option's machine is below it.
    pub machines: usize,
    /// The jobs.
    pub jobs: Vec<Job>,
}

impl Instance {
    /// Total number of operations over all jobs.
    pub fn operation_count(&self) -> usize {
        self.jobs.iter().map(|j| j.operations.len()).sum()
    }
}

/// A text instance that cannot be read: the 1-based line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// 1-based line of the text (the line after the last one for a missing line).
    pub line: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

/// What is wrong on a line of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The text has no header line.
    MissingHeader,
    /// The header is not `jobs machines` with both ≥ 1.
    BadHeader(String),
    /// A token is not a number.
    NotANumber(String),
    /// A processing time below zero.
    NegativeTime(i64),
    /// A machine index outside the header's machine count.
    MachineOutOfRange {
        /// The machine as written in the file.
        machine: i64,
        /// The header's machine count.
        machines: usize,
    },
    /// An operation lists no eligible machine.
    NoEligibleMachine {
        /// The operation, 0-based within its job.
        operation: usize,
    },
    /// An operation lists the same machine twice.
    DuplicateMachine {
        /// The operation, 0-based within its job.
        operation: usize,
        /// The machine as written in the file.
        machine: i64,
    },
    /// A job line ends before its operations are complete.
    TruncatedJob {
        /// Numbers the line needs.
        expected: usize,
        /// Numbers it has.
        found: usize,
    },
    /// A job line has more numbers than its operations use.
    TrailingNumbers {
        /// Numbers the line needs.
        expected: usize,
        /// Numbers it has.
        found: usize,
    },
    /// The file has fewer or more job lines than the header says.
    WrongJobCount {
        /// Jobs in the header.
        expected: usize,
        /// Job lines found.
        found: usize,
    },
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHeader => write!(f, "no header line `jobs machines`"),
            Self::BadHeader(h) => write!(f, "header `{h}` is not `jobs machines` with both ≥ 1"),
            Self::NotANumber(t) => write!(f, "`{t}` is not a whole number"),
            Self::NegativeTime(t) => write!(f, "negative processing time {t}"),
            Self::MachineOutOfRange { machine, machines } => {
                write!(f, "machine {machine} out of range for {machines} machines")
            }
            Self::NoEligibleMachine { operation } => {
                write!(f, "operation {operation} has no eligible machine")
            }
            Self::DuplicateMachine { operation, machine } => {
                write!(f, "operation {operation} lists machine {machine} twice")
            }
            Self::TruncatedJob { expected, found } => {
                write!(
                    f,
                    "truncated job line: {found} numbers, at least {expected} needed"
                )
            }
            Self::TrailingNumbers { expected, found } => {
                write!(
                    f,
                    "job line has {found} numbers, its operations use {expected}"
                )
            }
            Self::WrongJobCount { expected, found } => {
                write!(
                    f,
                    "header says {expected} jobs, the file has {found} job lines"
                )
            }
        }
    }
}

/// The content lines of a text: 1-based line number and the line, blank lines and `#` comments
/// skipped.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// The whole numbers of a line (a time limit on their size is the caller's).
fn numbers(line_no: usize, line: &str) -> Result<Vec<i64>, ParseError> {
    line.split_whitespace()
        .map(|t| {
            t.parse::<i64>().map_err(|_| ParseError {
                line: line_no,
                kind: ParseErrorKind::NotANumber(t.to_owned()),
            })
        })
        .collect()
}

/// The header `jobs machines [more]`: the job and machine counts and the header's line number.
/// `extra` allows one trailing number (Brandimarte's average flexibility, possibly fractional).
fn header<'a>(
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
    line_count: usize,
    extra: bool,
) -> Result<(usize, usize, usize), ParseError> {
    let (no, line) = lines.next().ok_or(ParseError {
        line: line_count + 1,
        kind: ParseErrorKind::MissingHeader,
    })?;
    let bad = || ParseError {
        line: no,
        kind: ParseErrorKind::BadHeader(line.to_owned()),
    };
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let allowed = if extra { 2..=3 } else { 2..=2 };
    if !allowed.contains(&tokens.len()) {
        return Err(bad());
    }
    let count = |t: &str| t.parse::<usize>().ok().filter(|&n| n >= 1);
    let (jobs, machines) = (
        count(tokens[0]).ok_or_else(bad)?,
        count(tokens[1]).ok_or_else(bad)?,
    );
    if tokens.len() == 3 && tokens[2].parse::<f64>().is_err() {
        return Err(bad());
    }
    Ok((jobs, machines, no))
}

/// A processing time as read: refuses negative times.
fn duration(line: usize, t: i64) -> Result<Time, ParseError> {
    if t < 0 {
        Err(ParseError {
            line,
            kind: ParseErrorKind::NegativeTime(t),
        })
    } else {
        Ok(t)
    }
}

/// A machine as read, `base` the file's first machine number (0 or 1), as a 0-based index.
fn machine(line: usize, m: i64, base: i64, machines: usize) -> Result<usize, ParseError> {
    usize::try_from(m - base)
        .ok()
        .filter(|&i| i < machines)
        .ok_or(ParseError {
            line,
            kind: ParseErrorKind::MachineOutOfRange {
                machine: m,
                machines,
            },
        })
}

/// Checks the job-line count once all lines are read.
fn job_count(
    jobs: Vec<Job>,
    expected: usize,
    last_line: usize,
    machines: usize,
) -> Result<Instance, ParseError> {
    if jobs.len() != expected {
        return Err(ParseError {
            line: last_line,
            kind: ParseErrorKind::WrongJobCount {
                expected,
                found: jobs.len(),
            },
        });
    }
    Ok(Instance { machines, jobs })
}

/// Parses the standard JSSP text format (OR-Library / JSPLIB): a header `jobs machines`, then
/// one line per job of `machine duration` pairs in processing order, machines from 0, one pair per
/// machine.
pub fn parse_jssp(text: &str) -> Result<Instance, ParseError> {
    let line_count = text.lines().count();
    let mut lines = content_lines(text);
    let (n_jobs, machines, mut last) = header(&mut lines, line_count, false)?;
    let mut jobs = Vec::with_capacity(n_jobs);
    for (no, line) in lines {
        last = no;
        if jobs.len() == n_jobs {
            // One job line too many: report it where it is.
            return Err(ParseError {
                line: no,
                kind: ParseErrorKind::WrongJobCount {
                    expected: n_jobs,
                    found: n_jobs + 1,
                },
            });
        }
        let nums = numbers(no, line)?;
        let expected = 2 * machines;
        if nums.len() < expected {
            return Err(ParseError {
                line: no,
                kind: ParseErrorKind::TruncatedJob {
                    expected,
                    found: nums.len(),
                },
            });
        }
        if nums.len() > expected {
            return Err(ParseError {
                line: no,
                kind: ParseErrorKind::TrailingNumbers {
                    expected,
                    found: nums.len(),
                },
            });
        }
        let operations = nums
            .chunks_exact(2)
            .map(|pair| {
                Ok(Operation {
                    options: vec![MachineOption {
                        machine: machine(no, pair[0], 0, machines)?,
                        duration: duration(no, pair[1])?,
                    }],
                })
            })
            .collect::<Result<_, ParseError>>()?;
        jobs.push(Job { operations });
    }
    job_count(jobs, n_jobs, last + 1, machines)
}

/// Parses the FJSP text format of Brandimarte (1993) and later sets: a header
/// `jobs machines [average flexibility]`, then one line per job: `n_ops`, then per operation
/// `k` and `k` pairs `machine duration`, machines numbered from 1.
pub fn parse_fjsp(text: &str) -> Result<Instance, ParseError> {
    let line_count = text.lines().count();
    let mut lines = content_lines(text);
    let (n_jobs, machines, mut last) = header(&mut lines, line_count, true)?;
    let mut jobs = Vec::with_capacity(n_jobs);
    for (no, line) in lines {
        last = no;
        if jobs.len() == n_jobs {
            return Err(ParseError {
                line: no,
                kind: ParseErrorKind::WrongJobCount {
                    expected: n_jobs,
                    found: n_jobs + 1,
                },
            });
        }
        let nums = numbers(no, line)?;
        // `need` counts the numbers the line must hold so far, for the truncation message.
        let mut at = 0;
        let mut need = 1;
        let take = |at: &mut usize, need: usize| -> Result<i64, ParseError> {
            let v = nums.get(*at).copied().ok_or(ParseError {
                line: no,
                kind: ParseErrorKind::TruncatedJob {
                    expected: need,
                    found: nums.len(),
                },
            })?;
            *at += 1;
            Ok(v)
        };
        let n_ops = take(&mut at, need)?;
        let n_ops = usize::try_from(n_ops).map_err(|_| ParseError {
            line: no,
            kind: ParseErrorKind::NotANumber(n_ops.to_string()),
        })?;
        let mut operations = Vec::with_capacity(n_ops);
        for op in 0..n_ops {
            need += 1;
            let k = take(&mut at, need)?;
            if k <= 0 {
                return Err(ParseError {
                    line: no,
                    kind: ParseErrorKind::NoEligibleMachine { operation: op },
                });
            }
            let k = usize::try_from(k).unwrap_or(usize::MAX);
            need = need.saturating_add(k.saturating_mul(2));
            let mut options: Vec<MachineOption> = Vec::with_capacity(k.min(machines));
            for _ in 0..k {
                let m = take(&mut at, need)?;
                let d = take(&mut at, need)?;
                let option = MachineOption {
                    machine: machine(no, m, 1, machines)?,
                    duration: duration(no, d)?,
                };
                if options.iter().any(|o| o.machine == option.machine) {
                    return Err(ParseError {
                        line: no,
                        kind: ParseErrorKind::DuplicateMachine {
                            operation: op,
                            machine: m,
                        },
                    });
                }
                options.push(option);
            }
            operations.push(Operation { options });
        }
        if at < nums.len() {
            return Err(ParseError {
                line: no,
                kind: ParseErrorKind::TrailingNumbers {
                    expected: at,
                    found: nums.len(),
                },
            });
        }
        jobs.push(Job { operations });
    }
    job_count(jobs, n_jobs, last + 1, machines)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A file of the copied benchmark data (`testdata/jssp/`), built into the test binary.
    macro_rules! data {
        ($path:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../testdata/jssp/",
                $path
            ))
        };
    }
    pub(crate) use data;

    /// The best-known upper bound of an instance from the text of a `bounds.csv` (column 5).
    pub(crate) fn best_known(csv: &str, instance: &str) -> Time {
        csv.lines()
            .find_map(|l| {
                let cols: Vec<&str> = l.split(',').collect();
                (cols[0] == instance).then(|| cols[4].parse().unwrap())
            })
            .unwrap()
    }

    fn err(r: Result<Instance, ParseError>) -> (usize, ParseErrorKind) {
        let e = r.unwrap_err();
        (e.line, e.kind)
    }

    #[test]
    fn reads_ft06_and_mk01() {
        let ft06 = parse_jssp(data!("instances/ft06.txt")).unwrap();
        assert_eq!(
            (ft06.jobs.len(), ft06.machines, ft06.operation_count()),
            (6, 6, 36)
        );
        assert_eq!(
            ft06.jobs[0].operations[0].options,
            vec![MachineOption {
                machine: 2,
                duration: 1
            }]
        );
        assert_eq!(ft06.jobs[5].operations[5].duration_on(2), Some(1));

        let mk01 = parse_fjsp(data!("fjsp-brandimarte/mk01.txt")).unwrap();
        assert_eq!(
            (mk01.jobs.len(), mk01.machines, mk01.operation_count()),
            (10, 6, 55)
        );
        // Job 0, operation 0: `2 1 5 3 4` → machine 1 (0-based 0) takes 5, machine 3 takes 4.
        let first = &mk01.jobs[0].operations[0];
        assert_eq!(first.duration_on(0), Some(5));
        assert_eq!(first.duration_on(2), Some(4));
        assert_eq!(first.duration_on(1), None);
    }

    #[test]
    fn skips_comments_and_blank_lines() {
        let i = parse_jssp("# a comment\n\n2 2\n# job 0\n0 3 1 2\n1 4 0 1\n").unwrap();
        assert_eq!(
            i.jobs[1].operations[0].options[0],
            MachineOption {
                machine: 1,
                duration: 4
            }
        );
    }

    #[test]
    fn jssp_errors_name_the_line() {
        use ParseErrorKind::*;
        assert_eq!(err(parse_jssp("# only a comment\n")), (2, MissingHeader));
        assert_eq!(err(parse_jssp("2\n")), (1, BadHeader("2".into())));
        assert_eq!(err(parse_jssp("2 0\n")), (1, BadHeader("2 0".into())));
        assert_eq!(
            err(parse_jssp("2 2\n0 3 1 2\n1 x 0 1\n")),
            (3, NotANumber("x".into()))
        );
        assert_eq!(
            err(parse_jssp("2 2\n0 3 1 2\n1 -4 0 1\n")),
            (3, NegativeTime(-4))
        );
        assert_eq!(
            err(parse_jssp("2 2\n0 3 2 2\n1 4 0 1\n")),
            (
                2,
                MachineOutOfRange {
                    machine: 2,
                    machines: 2
                }
            )
        );
        assert_eq!(
            err(parse_jssp("2 2\n0 3 1 2\n1 4 0\n")),
            (
                3,
                TruncatedJob {
                    expected: 4,
                    found: 3
                }
            )
        );
        assert_eq!(
            err(parse_jssp("2 2\n0 3 1 2 5\n1 4 0 1\n")),
            (
                2,
                TrailingNumbers {
                    expected: 4,
                    found: 5
                }
            )
        );
        assert_eq!(
            err(parse_jssp("2 2\n0 3 1 2\n")),
            (
                3,
                WrongJobCount {
                    expected: 2,
                    found: 1
                }
            )
        );
        assert_eq!(
            err(parse_jssp("1 2\n0 3 1 2\n\n1 4 0 1\n")),
            (
                4,
                WrongJobCount {
                    expected: 1,
                    found: 2
                }
            )
        );
    }

    #[test]
    fn fjsp_errors_name_the_line() {
        use ParseErrorKind::*;
        assert_eq!(
            err(parse_fjsp("2 2 1.5\n1 1 1 3\n2 0 1 1 2 4\n")),
            (3, NoEligibleMachine { operation: 0 })
        );
        assert_eq!(
            err(parse_fjsp("2 2 1.5\n1 1 1 3\n1 1 3 4\n")),
            (
                3,
                MachineOutOfRange {
                    machine: 3,
                    machines: 2
                }
            )
        );
        // Machines are 1-based in this format: 0 is out of range.
        assert_eq!(
            err(parse_fjsp("1 2\n1 1 0 3\n")),
            (
                2,
                MachineOutOfRange {
                    machine: 0,
                    machines: 2
                }
            )
        );
        assert_eq!(
            err(parse_fjsp("1 2\n1 2 1 3 1 4\n")),
            (
                2,
                DuplicateMachine {
                    operation: 0,
                    machine: 1
                }
            )
        );
        assert_eq!(err(parse_fjsp("1 2\n1 1 2 -3\n")), (2, NegativeTime(-3)));
        assert_eq!(
            err(parse_fjsp("1 2\n2 1 2 3 2 1\n")),
            (
                2,
                TruncatedJob {
                    expected: 9,
                    found: 6
                }
            )
        );
        assert_eq!(
            err(parse_fjsp("1 2\n1 1 2 3 9\n")),
            (
                2,
                TrailingNumbers {
                    expected: 4,
                    found: 5
                }
            )
        );
        assert_eq!(
            err(parse_fjsp("1 2\n1 1 2 3.5\n")),
            (2, NotANumber("3.5".into()))
        );
        assert_eq!(
            err(parse_fjsp("1 2 many\n1 1 2 3\n")),
            (1, BadHeader("1 2 many".into()))
        );
        assert_eq!(
            err(parse_fjsp("2 2\n1 1 2 3\n")),
            (
                3,
                WrongJobCount {
                    expected: 2,
                    found: 1
                }
            )
        );
        // The message names the line and the reason.
        let e = parse_fjsp("2 2 1.5\n1 1 1 3\n2 0 1 1 2 4\n").unwrap_err();
        assert_eq!(e.to_string(), "line 3: operation 0 has no eligible machine");
    }
}
