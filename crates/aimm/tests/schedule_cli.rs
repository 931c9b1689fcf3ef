//! `aimm schedule` on real benchmark instances (testdata/jssp): every schedule it prints is
//! checked here by a checker that reads the instance file itself and shares nothing with aimm's;
//! the known optima of ft06 (55) and mk01 (40) are reached; the same seeds give the same
//! schedule on two threads; bad input is refused naming the file and line.

mod common;

use common::json_of;
use serde_json::Value;
use std::collections::BTreeMap;
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

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/schedule")
        .join(name)
        .display()
        .to_string()
}

/// The example cell (examples/schedule/, cap 25 kW, from 16:00) planned into the plan file `out`.
fn plan_examples(out: &str) -> Output {
    aimm(&[
        "schedule",
        "--jobs",
        &example("jobs.csv"),
        "--machines",
        &example("machines.csv"),
        "--tariff",
        &example("tariff.csv"),
        "--cap",
        "25",
        "--start",
        "16:00",
        "--out",
        out,
        "--json",
    ])
}

/// `(job, op) → [(machine, duration)]` and the jobs' due dates, read from a jobs CSV here.
fn read_jobs_csv(text: &str) -> BTreeMap<(String, u64), Vec<(String, i64)>> {
    let mut ops: BTreeMap<(String, u64), Vec<(String, i64)>> = BTreeMap::new();
    for line in text.lines().skip_while(|l| l.starts_with('#')).skip(1) {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        ops.entry((f[0].into(), f[1].parse().unwrap()))
            .or_default()
            .push((f[2].into(), f[3].parse().unwrap()));
    }
    ops
}

#[test]
fn a_cell_plan_is_valid_under_the_cap_and_cheaper_than_edd_and_no_later() {
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    let out = plan_examples(plan_file.to_str().unwrap());
    let v = json_of(&out);
    let jobs = read_jobs_csv(&std::fs::read_to_string(example("jobs.csv")).unwrap());
    // Every operation once, on an eligible machine for its duration, after its job's previous
    // one, never two at once on a machine.
    let ops = v["operations"].as_array().unwrap();
    assert_eq!(ops.len(), jobs.len());
    let mut busy: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    let mut job_end: BTreeMap<(String, u64), i64> = BTreeMap::new();
    for o in ops {
        let (job, op) = (
            o["job_name"].as_str().unwrap(),
            o["op"].as_u64().unwrap() + 1,
        );
        let machine = o["machine_name"].as_str().unwrap();
        let (start, end) = (o["start"].as_i64().unwrap(), o["end"].as_i64().unwrap());
        let options = &jobs[&(job.to_string(), op)];
        let d = options
            .iter()
            .find(|(m, _)| m == machine)
            .expect("eligible")
            .1;
        assert_eq!(end - start, d, "{o}");
        assert!(start >= 0);
        busy.entry(machine.into()).or_default().push((start, end));
        job_end.insert((job.into(), op), end);
    }
    for o in ops {
        let (job, op) = (
            o["job_name"].as_str().unwrap(),
            o["op"].as_u64().unwrap() + 1,
        );
        if op > 1 {
            assert!(o["start"].as_i64().unwrap() >= job_end[&(job.to_string(), op - 1)]);
        }
    }
    for spans in busy.values_mut() {
        spans.sort_unstable();
        assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "{spans:?}");
    }
    let (plan, edd) = (&v["plan"], &v["edd"]);
    assert!(plan["peak_kw"].as_f64().unwrap() <= 25.0 + 1e-9);
    assert!(edd["peak_kw"].as_f64().unwrap() <= 25.0 + 1e-9);
    assert!(
        plan["weighted_tardiness_s"].as_f64().unwrap()
            <= edd["weighted_tardiness_s"].as_f64().unwrap()
    );
    assert!(plan["cost"].as_f64().unwrap() < edd["cost"].as_f64().unwrap());
    // The plan file holds the same schedule.
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(file["version"], 1);
    assert_eq!(file["operations"].as_array().unwrap().len(), ops.len());
}

#[test]
fn bad_cell_files_are_refused_naming_the_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = std::fs::read_to_string(example("jobs.csv")).unwrap();
    let cases = [
        (
            jobs.replace("cover-1,2,mill-a", "cover-1,2,mill-x"),
            "25",
            "jobs.csv: line 12: unknown machine \"mill-x\"",
        ),
        (
            jobs.replace("shaft-1,1,mill-c,3000", "shaft-1,1,mill-c,-3000"),
            "25",
            "jobs.csv: line 16: duration_s -3000: must be ≥ 0 s",
        ),
        (
            jobs.replace("cover-2,2,mill-a", "cover-2,2,"),
            "25",
            "jobs.csv: line 15: job \"cover-2\" op 2 has no eligible machine",
        ),
        (
            jobs.clone(),
            "9",
            "cap 9 kW is below the 15.00 kW machine \"mill-c\"",
        ),
    ];
    for (text, cap, expected) in cases {
        let path = dir.path().join("jobs.csv");
        std::fs::write(&path, text).unwrap();
        let out = aimm(&[
            "schedule",
            "--jobs",
            path.to_str().unwrap(),
            "--machines",
            &example("machines.csv"),
            "--tariff",
            &example("tariff.csv"),
            "--cap",
            cap,
            "--json",
        ]);
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
    }
}

/// `(job, op) → (machine, start, end)` of a `--json` answer's operations.
fn placed(v: &Value) -> BTreeMap<(String, u64), (String, i64, i64)> {
    v["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                (
                    o["job_name"].as_str().unwrap().to_string(),
                    o["op"].as_u64().unwrap(),
                ),
                (
                    o["machine_name"].as_str().unwrap().to_string(),
                    o["start"].as_i64().unwrap(),
                    o["end"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

#[test]
fn each_event_kind_keeps_what_started_and_respects_the_windows() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_s = plan.to_str().unwrap();
    let first = json_of(&plan_examples(plan_s));
    let rush = dir.path().join("rush.csv");
    std::fs::write(
        &rush,
        "job,op,machine,duration_s,cutting_kw,due_s,weight\nrush-1,1,mill-a,900,,9000,5\nrush-1,1,mill-b,900,,9000,5\n",
    )
    .unwrap();
    let mut before = placed(&first);
    let rush = rush.to_str().unwrap().to_string();
    let events: [(&str, &str); 4] = [
        ("1800", "breakdown"),
        ("2000", "overrun"),
        ("2100", "rush-order"),
        ("2200", "tool-change"),
    ];
    for (version, (at, kind)) in events.iter().enumerate() {
        let at_s: i64 = at.parse().unwrap();
        // The overrun is of an operation running at the event, in the plan in force.
        let running = before
            .iter()
            .find(|(_, (_, s, e))| *s < at_s && *e > at_s)
            .map(|((job, op), _)| (job.clone(), (op + 1).to_string()))
            .expect("an operation runs at 2000 s");
        let kind_args: Vec<&str> = match *kind {
            "breakdown" => vec!["breakdown", "--machine", "mill-c", "--until", "5400"],
            "overrun" => vec![
                "overrun", "--job", &running.0, "--op", &running.1, "--extra", "600",
            ],
            "rush-order" => vec!["rush-order", "--jobs", &rush],
            _ => vec!["tool-change", "--machine", "mill-a", "--duration", "300"],
        };
        let mut args = vec!["schedule", "event", "--plan", plan_s, "--at", at, "--json"];
        args.extend(kind_args.iter().copied());
        let v = json_of(&aimm(&args));
        assert_eq!(v["version"], version as u64 + 2);
        let at: i64 = at.parse().unwrap();
        let after = placed(&v);
        let interrupted: Vec<&str> = v["interrupted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        for (key, (m, start, end)) in &before {
            let (m2, s2, e2) = &after[key];
            let name = format!("{} op {}", key.0, key.1 + 1);
            if *start < at && !interrupted.contains(&name.as_str()) {
                // Started work keeps its machine and start (an overrun's end grows).
                assert_eq!((m, start), (m2, s2), "{name} moved after {kind}");
                if *kind != "overrun" {
                    assert_eq!(end, e2, "{name}");
                }
            } else {
                assert!(*s2 >= at, "{name} starts at {s2}, before the event at {at}");
            }
        }
        // No operation on a machine while it is down (the plan file's windows, by index).
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        let machines = ["mill-a", "mill-b", "mill-c"];
        for w in file["windows"].as_array().unwrap() {
            let m = machines[w["machine"].as_u64().unwrap() as usize];
            let (ws, we) = (w["start_s"].as_i64().unwrap(), w["end_s"].as_i64().unwrap());
            for (om, s, e) in after.values() {
                if om == m {
                    assert!(
                        *e <= ws || *s >= we,
                        "{m} busy [{s}, {e}) while down [{ws}, {we})"
                    );
                }
            }
        }
        assert!(v["after"]["peak_kw"].as_f64().unwrap() <= 25.0 + 1e-9);
        before = after;
    }
    assert!(before.contains_key(&("rush-1".to_string(), 0)));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(file["windows"].as_array().unwrap().len(), 2);
    // Bad events name what is wrong, and change nothing.
    let kept = std::fs::read_to_string(&plan).unwrap();
    let ((idle_job, idle_op), _) = before
        .iter()
        .find(|(_, (_, s, _))| *s > 2300)
        .expect("an operation not started at 2300 s");
    let idle_op = (idle_op + 1).to_string();
    let not_running = format!("{idle_job} op {idle_op} is not running");
    let bad: [(Vec<&str>, &str); 3] = [
        (
            vec!["tool-change", "--machine", "mill-q", "--duration", "300"],
            "unknown machine \"mill-q\"",
        ),
        (
            vec!["breakdown", "--machine", "mill-a", "--until", "100"],
            "is not after at",
        ),
        (
            vec![
                "overrun", "--job", idle_job, "--op", &idle_op, "--extra", "60",
            ],
            &not_running,
        ),
    ];
    for (kind, expected) in bad {
        let mut args = vec![
            "schedule", "event", "--plan", plan_s, "--at", "2300", "--json",
        ];
        args.extend(kind);
        let out = aimm(&args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "expected {expected:?} in {err}");
    }
    assert_eq!(std::fs::read_to_string(&plan).unwrap(), kept);
}

/// `aimm bench schedule` on a small subset: CP-SAT (the Python peer, installed by
/// scripts/services/ortools.sh) runs side by side and its schedules are checked; aimm reaches
/// ft06's optimum; the plan is never costlier than EDD; every event kind is timed.
#[test]
fn the_schedule_bench_runs_cpsat_side_by_side() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_aimm"))
        .current_dir(&root)
        .args([
            "bench",
            "schedule",
            "--instances",
            "ft06,mk01",
            "--energy-instances",
            "ft06",
            "--time-limit",
            "2",
            "--events",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    let v = json_of(&out);
    let figures = v["figures"].as_array().unwrap();
    let find = |prefix: &str| {
        figures
            .iter()
            .filter(|f| f["what"].as_str().unwrap().starts_with(prefix))
            .collect::<Vec<_>>()
    };
    let ft06 = find("ft06: makespan gap");
    assert_eq!(ft06[0]["value"], 0.0, "{}", ft06[0]);
    assert!(
        ft06[0]["baseline_value"].as_f64().is_some(),
        "CP-SAT ran: {}",
        ft06[0]
    );
    assert!(find("mk01: makespan gap")[0]["baseline_value"]
        .as_f64()
        .is_some());
    let energy = find("ft06 overlay: energy cost");
    let edd = energy
        .iter()
        .find(|f| f["baseline"] == "EDD dispatch")
        .expect("EDD row");
    assert!(edd["value"].as_f64().unwrap() <= edd["baseline_value"].as_f64().unwrap());
    for kind in ["a breakdown", "a tool change", "a rush order", "an overrun"] {
        assert_eq!(
            find(&format!("reschedule after {kind}, 50 × 10, p99")).len(),
            1,
            "{kind}"
        );
    }
}
