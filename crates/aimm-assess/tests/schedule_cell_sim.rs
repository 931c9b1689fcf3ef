//! The energy-scheduled cell on the simulator, into a real SQLite store, judged by the
//! assessment: the loop carries its plan out under the cap (the cell's recorded power, summed
//! per second over its machines, never above it), answers the wear loop's planned tool change
//! with a new schedule citing it, and passes the scheduling criteria; the same cell with the
//! loop only advising fails them, with the reason; the same seed gives the same ledger root.

mod common;

use aimm_assess::schedule_cell::{demo_spec, run_schedule_cell, ScheduleCellOutcome};
use aimm_ledger::record::{ControlAction, Evidence, Record};
use aimm_ledger::Citation;
use aimm_model::DEFAULT_START_NS;
use aimm_store::evidence::append_one;
use aimm_store::{SqliteStore, Store};
use common::{assessed, criterion, records};
use serde_json::json;

/// Runs the demo's cell into a new store; with `act` false the loop only advises. The wear
/// loop's planned tool change on mill-4 is a decision recorded first (its plan entry).
fn run(
    act: bool,
) -> (
    SqliteStore,
    ScheduleCellOutcome,
    Citation,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("cell.db")).unwrap();
    let decision = append_one(
        &mut store,
        &Record::new(
            DEFAULT_START_NS,
            Evidence::ControlAction(ControlAction {
                loop_name: "wear".into(),
                machine: "mill-4".into(),
                command: json!({"decision": "tool_change", "tool": 1, "before_part": 2}),
                inputs: json!({}),
            }),
            Vec::new(),
        ),
    )
    .unwrap();
    let machines = ["mill-4", "mill-5", "mill-6"];
    let mut spec = demo_spec(machines, DEFAULT_START_NS, 42, Some(decision.clone())).unwrap();
    spec.advise_only = !act;
    let outcome = run_schedule_cell(&mut store, &spec, |_| {}).unwrap();
    (store, outcome, decision, dir)
}

#[test]
fn the_loop_acts_under_the_cap_and_passes_and_an_advising_one_fails() {
    let (store, outcome, decision, _dir) = run(true);
    assert!(outcome.passed, "{outcome:?}");
    assert!(outcome.realised_peak_kw <= outcome.cap_kw, "{outcome:?}");
    assert!(outcome.plan_cost < outcome.edd_cost, "{outcome:?}");
    assert!(outcome.plan_tardiness_s <= outcome.edd_tardiness_s);
    assert_eq!(outcome.schedules, 2, "the tool change was rescheduled");
    for j in &outcome.jobs {
        assert!(
            (j.realised_kwh - j.planned_kwh).abs() <= 0.1 * j.planned_kwh,
            "{j:?}"
        );
    }
    let all = records(&store);
    // The new schedule cites the wear loop's decision, and a tool-change hold on mill-4 cites it.
    let v2 = all
        .iter()
        .find(|(_, r)| matches!(&r.evidence, Evidence::Schedule(s) if s.version == 2))
        .expect("a second schedule");
    assert!(v2.1.cites.contains(&decision));
    let hold = all.iter().find(|(_, r)| {
        matches!(&r.evidence, Evidence::ControlAction(a)
            if a.loop_name == "schedule" && a.command["hold"] == "tool_change")
    });
    let hold = hold.expect("a tool-change hold");
    assert!(hold.1.cites.contains(&decision));
    let a = assessed(&store);
    for id in ["L3.schedule.effect", "L3.schedule.latency"] {
        let j = criterion(&a, id);
        assert_eq!(j.passed, Some(true), "{id}: {}", j.reason);
    }
    assert!(criterion(&a, "L4.loops.coordinated").measured.unwrap() >= 1.0);

    let (advised, outcome, _, _dir) = run(false);
    assert!(
        outcome.passed,
        "an advising scheduler's report claims success"
    );
    assert!(!records(&advised).iter().any(|(_, r)| matches!(&r.evidence,
        Evidence::ControlAction(a) if a.loop_name == "schedule")));
    let a = assessed(&advised);
    let effect = criterion(&a, "L3.schedule.effect");
    assert_eq!(effect.passed, Some(false), "{}", effect.reason);
    assert!(effect.reason.contains("only advises"), "{}", effect.reason);
}

#[test]
fn the_same_seed_gives_the_same_ledger_root() {
    let roots: Vec<_> = (0..2)
        .map(|_| {
            let (store, _, _, _dir) = run(true);
            store.ledger_root(store.ledger_size().unwrap()).unwrap()
        })
        .collect();
    assert_eq!(roots[0], roots[1]);
}
