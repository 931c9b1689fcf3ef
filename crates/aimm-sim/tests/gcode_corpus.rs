//! Every program of the real-world corpus in `testdata/gcode` parses and runs through the
//! interpreter to the end, and lands where its units say it should.

use aimm_model::ToolSpec;
use aimm_sim::gcode::{parse, tools_from_comments, InterpConfig, Interpreter, Op, Program};
use aimm_sim::tool_table::ToolTable;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/gcode")
}

fn load(name: &str) -> Program {
    let text = std::fs::read_to_string(corpus_dir().join(name)).unwrap();
    parse(name, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Tools from the comments, a default end mill for every other number.
fn table(p: &Program) -> ToolTable {
    let mut t = ToolTable::new((0..=20).map(ToolSpec::default_end_mill));
    for tool in tools_from_comments(p) {
        t.insert(tool);
    }
    t
}

struct Run {
    ops: Vec<Op>,
    min: [f64; 3],
    max: [f64; 3],
    feed_min: [f64; 3],
    feed_max: [f64; 3],
}

fn run(name: &str) -> Run {
    let p = load(name);
    let mut r = Run {
        ops: Vec::new(),
        min: [f64::INFINITY; 3],
        max: [f64::NEG_INFINITY; 3],
        feed_min: [f64::INFINITY; 3],
        feed_max: [f64::NEG_INFINITY; 3],
    };
    for op in Interpreter::new(&p, table(&p), InterpConfig::default()) {
        let op = op.unwrap_or_else(|e| panic!("{e}"));
        if let Op::Move(m) = &op {
            for i in 0..3 {
                r.min[i] = r.min[i].min(m.to[i]);
                r.max[i] = r.max[i].max(m.to[i]);
                if !m.rapid {
                    r.feed_min[i] = r.feed_min[i].min(m.to[i]);
                    r.feed_max[i] = r.feed_max[i].max(m.to[i]);
                }
            }
            assert!(
                m.rapid || m.feed_mm_per_min > 0.0,
                "{name}:{}: feed move without feed",
                m.line
            );
        }
        r.ops.push(op);
    }
    assert!(
        matches!(r.ops.last(), Some(Op::End { .. })),
        "{name} does not end with End"
    );
    r
}

fn files() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| [".nc", ".ngc", ".gcode"].iter().any(|x| n.ends_with(x)))
        .collect();
    v.sort();
    v
}

#[test]
fn every_program_runs_to_the_end() {
    let names = files();
    assert!(names.len() >= 13, "corpus incomplete: {names:?}");
    for name in names {
        let r = run(&name);
        let moves = r.ops.iter().filter(|o| matches!(o, Op::Move(_))).count();
        assert!(moves > 5, "{name}: only {moves} moves");
        for i in 0..3 {
            assert!(
                r.min[i].is_finite() && r.max[i] < 2000.0 && r.min[i] > -2000.0,
                "{name}: extents {:?} {:?}",
                r.min,
                r.max
            );
        }
    }
}

#[test]
fn inch_program_extents_are_in_mm() {
    // Flower mold: G20, cuts X 0.001..2.249 in, Y from 0.001 in.
    let r = run("camotics_flower_mold.nc");
    assert!(
        (r.feed_max[0] - 2.249 * 25.4).abs() < 1e-6,
        "{:?}",
        r.feed_max
    );
    assert!(
        (r.feed_min[0] - 0.001 * 25.4).abs() < 1e-6,
        "{:?}",
        r.feed_min
    );
    let r = run("egp_fusion_parallel.nc");
    // G28 G91 Z0 at the start takes the tool to the home height.
    assert!((r.max[2] - 100.0).abs() < 1e-9);
    // The ball end mill's deepest point, ZMIN=-0.54 in the header (within the tip offsets).
    assert!(
        r.feed_min[2] > -0.55 * 25.4 && r.feed_min[2] < -0.3 * 25.4,
        "{:?}",
        r.feed_min
    );
}

#[test]
fn program_end_and_positions() {
    // Insulpro ends at X0 Y0 Z5 before M30.
    let r = run("gcoders_insulpro_piping.nc");
    let last = r.ops.iter().rev().find_map(|o| match o {
        Op::Move(m) => Some(m.to),
        _ => None,
    });
    assert_eq!(last, Some([0.0, 0.0, 5.0]));
    assert!(r
        .ops
        .iter()
        .any(|o| matches!(o, Op::ToolChange { tool: 1, .. })));
    // jsdc has no M2/M30: the end of the text ends it.
    let r = run("cncjs_jscut_jsdc.gcode");
    assert!(matches!(r.ops.last(), Some(Op::End { .. })));
}

#[test]
fn full_circles_return_to_their_start() {
    // VINT: 20 helical full circles of radius 15 round (0, 0).
    let r = run("egp_vint_360arc.nc");
    let on_circle = r.ops.iter().filter_map(|o| match o {
        Op::Move(m) if m.line >= 13 && m.line <= 33 => Some(m.to),
        _ => None,
    });
    let mut n = 0;
    for p in on_circle {
        assert!((p[0].hypot(p[1]) - 15.0).abs() < 1e-6, "{p:?}");
        n += 1;
    }
    assert!(n > 20 * 100, "{n} chords");
    assert!((r.feed_min[2] + 20.0).abs() < 1e-9);
}

#[test]
fn tool_comments_of_the_corpus() {
    let t = tools_from_comments(&load("egp_fusion_parallel.nc"));
    assert_eq!(t.len(), 1);
    assert!((t[0].diameter_mm - 3.175).abs() < 1e-9);
    let t = tools_from_comments(&load("egp_bottle.nc"));
    assert_eq!((t[0].number, t[0].diameter_mm), (2, 10.0));
    let t = tools_from_comments(&load("linuxcnc_mmount.ngc"));
    let numbers: Vec<u32> = t.iter().map(|t| t.number).collect();
    assert_eq!(numbers, vec![1, 2, 3, 4, 5, 6, 15]);
}

#[test]
fn linuxcnc_mmount_runs_with_its_subroutines() {
    let r = run("linuxcnc_mmount.ngc");
    let tools: Vec<u32> = r
        .ops
        .iter()
        .filter_map(|o| match o {
            Op::ToolChange { tool, .. } => Some(*tool),
            _ => None,
        })
        .collect();
    assert_eq!(tools, vec![1, 4, 3, 2, 5, 6, 0]);
    // G81 R0.025 Z-0.04 F#102: five spot holes fed to -0.04 in at #102 = 3 in/min.
    let spots: Vec<&aimm_sim::gcode::Move> = r
        .ops
        .iter()
        .filter_map(|o| match o {
            Op::Move(m) if !m.rapid && (m.to[2] + 0.04 * 25.4).abs() < 1e-9 => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(spots.len(), 5);
    assert!(spots
        .iter()
        .all(|m| (m.feed_mm_per_min - 3.0 * 25.4).abs() < 1e-9));
    // o100 call [..] [0.25] [0.55] ...: helical hole milling down to -0.55 in under G41.
    let deepest_comp = r
        .ops
        .iter()
        .filter_map(|o| match o {
            Op::Move(m) if m.comp_radius_mm.is_some() => Some(m.to[2]),
            _ => None,
        })
        .fold(f64::INFINITY, f64::min);
    assert!((deepest_comp + 0.6 * 25.4).abs() < 1e-9, "{deepest_comp}");
    // Only G33.1 is read but not modelled.
    let warnings = r
        .ops
        .iter()
        .filter(|o| matches!(o, Op::Warning { .. }))
        .count();
    assert_eq!(warnings, 1);
}
