//! `aimm schedule` on real benchmark instances (testdata/jssp): every schedule it prints is
//! checked here by a checker that reads the instance file itself and shares nothing with aimm's;
//! the known optima of ft06 (55) and mk01 (40) are reached; the same seeds give the same
//! schedule on two threads; bad input is refused naming the file and line.

mod common;

use common::json_of;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/jssp")
        .join(path)
}

fn aimm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aimm"))
        .args(args)
        .output()
        .unwrap()
}

/// Per job, per operation: the eligible (machine, duration) pairs, machines from 0.
type Shop = Vec<Vec<Vec<(u64, u64)>>>;

fn numbers(text: &str) -> Vec<Vec<u64>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l.split_whitespace().map(|t| t.parse().unwrap()).collect())
        .collect()
}

fn read_jssp(text: &str) -> Shop {
    numbers(text)[1..]
        .iter()
        .map(|job| job.chunks(2).map(|p| vec![(p[0], p[1])]).collect())
        .collect()
}

fn read_fjsp(text: &str) -> Shop {
    numbers(text)[1..]
        .iter()
        .map(|job| {
            let mut ops = Vec::new();
            let mut at = 1;
            for _ in 0..job[0] {
                let k = job[at] as usize;
                ops.push(
                    (0..k)
                        .map(|i| (job[at + 1 + 2 * i] - 1, job[at + 2 + 2 * i]))
                        .collect(),
                );
                at += 1 + 2 * k;
            }
            ops
        })
        .collect()
}

/// Every operation once, on an eligible machine for its duration, after its job's previous
/// one, never two at a time on a machine; the makespan is the last end.
fn assert_valid(shop: &Shop, out: &Value) {
    let ops = out["operations"].as_array().unwrap();
    assert_eq!(ops.len(), shop.iter().map(Vec::len).sum::<usize>());
    let get = |o: &Value, k: &str| o[k].as_u64().unwrap();
    let mut by_machine: std::collections::BTreeMap<u64, Vec<(u64, u64)>> = Default::default();
    let mut job_end = vec![(0usize, 0u64); shop.len()];
    for o in ops {
        let (job, op, machine) = (
            get(o, "job") as usize,
            get(o, "op") as usize,
            get(o, "machine"),
        );
        let (start, end) = (get(o, "start"), get(o, "end"));
        let duration = shop[job][op]
            .iter()
            .find(|(m, _)| *m == machine)
            .unwrap_or_else(|| panic!("{o}: machine not eligible"))
            .1;
        assert_eq!(end - start, duration, "{o}");
        // Operations are listed in job order.
        assert_eq!(job_end[job].0, op, "{o}");
        assert!(
            start >= job_end[job].1,
            "{o} starts before its predecessor ends"
        );
        job_end[job] = (op + 1, end);
        by_machine.entry(machine).or_default().push((start, end));
    }
    for (m, mut spans) in by_machine {
        spans.sort_unstable();
        for w in spans.windows(2) {
            assert!(
                w[0].1 <= w[1].0,
                "machine {m}: {:?} overlaps {:?}",
                w[0],
                w[1]
            );
        }
    }
    let last = job_end.iter().map(|e| e.1).max().unwrap();
    assert_eq!(out["makespan"].as_u64().unwrap(), last);
}

#[test]
fn schedules_are_valid_reach_known_optima_and_repeat_with_their_seeds() {
    let ft06 = testdata("instances/ft06.txt");
    let mk01 = testdata("fjsp-brandimarte/mk01.txt");
    for (file, format, read, best) in [
        (&ft06, "jssp", read_jssp as fn(&str) -> Shop, 55),
        (&mk01, "fjsp", read_fjsp as fn(&str) -> Shop, 40),
    ] {
        let args = [
            "schedule",
            "--instance",
            file.to_str().unwrap(),
            "--format",
            format,
            "--iterations",
            "5000",
            "--threads",
            "2",
            "--json",
        ];
        let out = json_of(&aimm(&args));
        assert_valid(&read(&std::fs::read_to_string(file).unwrap()), &out);
        assert_eq!(out["makespan"], best, "{}", out["makespan"]);
        let again = json_of(&aimm(&args));
        assert_eq!(out["operations"], again["operations"]);
        assert_eq!(out["seed"], again["seed"]);
    }
}

#[test]
fn bad_instances_are_refused_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for (text, why) in [
        ("2 2\n0 5 1 3\n0 2 7 4\n", "line 3: machine 7"),
        ("2 2\n0 5 1 -3\n0 2 1 4\n", "line 2"),
        ("2 2\n0 5 1 3\n", "line"),
        ("", "header"),
    ] {
        let file = dir.path().join("bad.txt");
        std::fs::write(&file, text).unwrap();
        let out = aimm(&[
            "schedule",
            "--instance",
            file.to_str().unwrap(),
            "--format",
            "jssp",
            "--json",
        ]);
        assert!(!out.status.success(), "{text:?} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("bad.txt") && stderr.contains(why),
            "{text:?}: {stderr}"
        );
    }
    let ft06 = testdata("instances/ft06.txt");
    let out = aimm(&[
        "schedule",
        "--instance",
        ft06.to_str().unwrap(),
        "--format",
        "jssp",
        "--time-limit",
        "-1",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--time-limit -1"));
}
