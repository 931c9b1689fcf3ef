//! The process-parameter learning loop on the simulated mill, into a real SQLite store, judged
//! by the assessment: in auto mode the loop lowers the cost per part with no part beyond a limit
//! of the hidden truth, every proposal is a program version differing from its parent only in F
//! and S words, the lineage of a release reaches the models and the part runs' segments, and
//! the learning criteria pass; in advise mode nothing reaches the machine until an engineer
//! approves (the release names them), and a ledger where the loop only advised fails the
//! criteria, with the reason. Bad programs and boxes are refused, not learned on.

mod common;

use aimm_assess::learn_cell::{learn_series, LearnCellError, LearnSpec, PlantSettings};
use aimm_ledger::record::Evidence;
use aimm_loops::learn::evidence::{approve, ApprovalError};
use aimm_loops::learn::program::differs_only_in_feeds_and_speeds;
use aimm_loops::learn::safe::LearnMode;
use aimm_model::Material;
use aimm_store::evidence::lineage;
use aimm_store::{SqliteStore, Store};
use common::{assessed, criterion, records};

const PROGRAM: &str = include_str!("../../../examples/learn_c45.nc");
const NAME: &str = "examples/learn_c45.nc";

fn spec(parts: u32, mode: LearnMode) -> LearnSpec {
    LearnSpec {
        program: (NAME.into(), PROGRAM.into()),
        material: Material::SteelC45,
        parts,
        mode,
        seed: 3,
        machine: "mill-7".into(),
        plant: PlantSettings::default(),
    }
}

fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (SqliteStore::open(dir.path().join("learn.db")).unwrap(), dir)
}

fn program_text(store: &SqliteStore, sha256: &[u8; 32]) -> String {
    store
        .program_by_digest(sha256)
        .unwrap()
        .expect("the version's text is stored")
        .content
}

#[test]
fn auto_mode_learns_safely_acts_and_passes_the_assessment() {
    let (mut store, _dir) = store();
    let outcome = learn_series(&spec(8, LearnMode::Auto), &mut store, |_| {}).unwrap();
    assert_eq!(outcome.violations, 0, "{outcome:?}");
    assert!(outcome.cost_final < outcome.cost_start, "{outcome:?}");
    assert!(
        outcome.oracle_cost <= outcome.cost_final + 1e-9,
        "{outcome:?}"
    );
    assert!(outcome.version_in_force > 1, "{outcome:?}");

    let all = records(&store);
    // Every proposal differs from its parent only in F and S words.
    let versions: Vec<_> = all
        .iter()
        .filter_map(|(_, r)| match &r.evidence {
            Evidence::NcProgram(p) if p.name == NAME => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert!(versions.len() >= 3, "{versions:?}");
    for pair in versions.windows(2) {
        assert_eq!(pair[1].parent_version, Some(pair[0].version));
        let (old, new) = (
            program_text(&store, &pair[0].sha256),
            program_text(&store, &pair[1].sha256),
        );
        assert_ne!(old, new);
        assert!(
            differs_only_in_feeds_and_speeds(&old, &new),
            "v{} → v{}",
            pair[0].version,
            pair[1].version
        );
    }
    // The last release's lineage reaches a model, the part runs' sensor segments and the
    // learned limits' chain.
    let (release, _) = all
        .iter()
        .rev()
        .find(|(_, r)| matches!(&r.evidence, Evidence::ControlAction(a) if a.loop_name == "learn"))
        .expect("a release");
    let walk = lineage(&store, *release, None).unwrap();
    let kinds: Vec<&str> = walk
        .steps
        .iter()
        .map(|s| s.entry.record.evidence.kind())
        .collect();
    for kind in ["nc_program", "model_training", "sensor_segment"] {
        assert!(
            kinds.contains(&kind),
            "{kind} not in the lineage: {kinds:?}"
        );
    }
    let segments = walk
        .steps
        .iter()
        .filter(|s| s.entry.record.evidence.kind() == "sensor_segment")
        .count();
    assert!(
        segments >= 8,
        "the lineage reaches every part's segments: {segments}"
    );
    assert!(all.iter().any(|(_, r)| matches!(&r.evidence,
        Evidence::ControlParameterChange(c) if c.loop_name == "learn")));

    let a = assessed(&store);
    for id in ["L3.learn.applied", "L3.learn.effect"] {
        let j = criterion(&a, id);
        assert_eq!(j.passed, Some(true), "{id}: {}", j.reason);
    }
}

#[test]
fn advise_mode_waits_for_an_engineer_and_an_advising_loop_fails_the_assessment() {
    let (mut store, _dir) = store();
    let outcome = learn_series(&spec(3, LearnMode::Advise), &mut store, |_| {}).unwrap();
    // Nothing was released: every part ran the CAM program.
    assert!(
        outcome.parts.iter().all(|p| p.program_version == 1),
        "{outcome:?}"
    );
    let (leaf, version) = outcome.pending.expect("a proposal waits");
    assert!(version > 1);
    let a = assessed(&store);
    let applied = criterion(&a, "L3.learn.applied");
    assert_eq!(applied.passed, Some(false), "{}", applied.reason);
    assert!(
        applied.reason.contains("only advises"),
        "{}",
        applied.reason
    );
    let effect = criterion(&a, "L3.learn.effect");
    assert_eq!(effect.passed, Some(false), "{}", effect.reason);
    assert!(effect.reason.contains("only advises"), "{}", effect.reason);

    // An older proposal or a non-proposal is refused; the latest is released, naming the actor.
    let err = approve(&mut store, 0, "mill-7", ("j.doe", "engineer"), 0).unwrap_err();
    assert!(matches!(err, ApprovalError::NotAProposal { .. }), "{err}");
    let cite = approve(
        &mut store,
        leaf,
        "mill-7",
        ("j.doe", "engineer"),
        i64::MAX / 2,
    )
    .unwrap();
    let entry = store.ledger_record(cite.leaf_index).unwrap();
    match &entry.record.evidence {
        Evidence::ControlAction(a) => {
            assert_eq!(a.inputs["actor"], "j.doe");
            assert_eq!(a.inputs["role"], "engineer");
            assert_eq!(a.command["version"], version);
        }
        other => panic!("{other:?}"),
    }
    let again = approve(
        &mut store,
        leaf,
        "mill-7",
        ("j.doe", "engineer"),
        i64::MAX / 2,
    )
    .unwrap_err();
    assert!(
        matches!(again, ApprovalError::AlreadyReleased { .. }),
        "{again}"
    );
    // The next series continues with the approved version and the learners' data.
    let next = learn_series(&spec(1, LearnMode::Advise), &mut store, |_| {}).unwrap();
    assert_eq!(next.parts[0].part, 4);
    assert_eq!(next.parts[0].program_version, version);
}

#[test]
fn bad_programs_and_boxes_are_refused_not_learned_on() {
    let (mut store, _dir) = store();
    let mut air = spec(2, LearnMode::Auto);
    air.program = ("air.nc".into(), "%\nN10 G0 X0 Y0\nN20 M30\n%\n".into());
    let e = learn_series(&air, &mut store, |_| {}).unwrap_err();
    assert!(e.to_string().contains("no cutting operation"), "{e}");

    let mut outside = spec(2, LearnMode::Auto);
    outside.plant.fz_range = Some((0.2, 0.4));
    let e = learn_series(&outside, &mut store, |_| {}).unwrap_err();
    assert!(e.to_string().contains("outside the box"), "{e}");

    let mut impossible = spec(2, LearnMode::Auto);
    impossible.plant.roughness_ra_um = 0.001;
    let e = learn_series(&impossible, &mut store, |_| {}).unwrap_err();
    assert!(matches!(&e, LearnCellError::Setup(_)), "{e}");
    assert!(e.to_string().contains("roughness"), "{e}");
    assert!(store.runs(None).unwrap().is_empty(), "no part was made");
    // Nothing was released for any of them.
    assert!(!records(&store).iter().any(|(_, r)| matches!(&r.evidence,
        Evidence::ControlAction(a) if a.loop_name == "learn")));
}

#[test]
fn the_same_seed_gives_the_same_ledger_root() {
    let roots: Vec<_> = (0..2)
        .map(|_| {
            let (mut store, _dir) = store();
            learn_series(&spec(3, LearnMode::Auto), &mut store, |_| {}).unwrap();
            store.ledger_root(store.ledger_size().unwrap()).unwrap()
        })
        .collect();
    assert_eq!(roots[0], roots[1]);
}
