//! Behaviour tests of the interpreter on small hand-written programs: modal state, units,
//! compensation, cycles, offsets, errors and laziness.

use super::*;
use crate::tool_table::ToolTable;
use aimm_model::ToolSpec;

fn tools() -> ToolTable {
    ToolTable::new((1..=4).map(ToolSpec::default_end_mill))
}

fn ops_with(text: &str, table: ToolTable) -> Vec<Op> {
    let p = parse("t.nc", text).unwrap();
    Interpreter::new(&p, table, InterpConfig::default())
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ops(text: &str) -> Vec<Op> {
    ops_with(text, tools())
}

fn moves(ops: &[Op]) -> Vec<Move> {
    ops.iter()
        .filter_map(|o| match o {
            Op::Move(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn error(text: &str) -> InterpError {
    let p = parse("t.nc", text).unwrap();
    Interpreter::new(&p, tools(), InterpConfig::default())
        .find_map(Result::err)
        .expect("an error")
}

fn close(a: Vec3, b: Vec3) -> bool {
    (0..3).all(|i| (a[i] - b[i]).abs() < 1e-9)
}

#[test]
fn starts_at_home_and_rapids_are_rapid() {
    let m = moves(&ops("G0 X10 Y20\nG1 Z-1 F100\n"));
    assert_eq!(m[0].from, [0.0, 0.0, 100.0]);
    assert_eq!(m[0].to, [10.0, 20.0, 100.0]);
    assert!(m[0].rapid && !m[1].rapid);
    assert_eq!(m[1].feed_mm_per_min, 100.0);
}

#[test]
fn incremental_moves_add_up() {
    let m = moves(&ops("G90 G0 X1 Y1 Z1\nG91 G1 X2 F100\nY-3\nX.5 Z+1\n"));
    assert!(close(m.last().unwrap().to, [3.5, -2.0, 2.0]));
}

#[test]
fn inches_convert_lengths_and_feeds() {
    let m = moves(&ops("G20 G0 X1 Y2 Z.5\nG1 X2 F10\n"));
    assert!(close(m[0].to, [25.4, 50.8, 12.7]));
    assert!((m[1].feed_mm_per_min - 254.0).abs() < 1e-9);
}

#[test]
fn feed_per_rev_uses_the_spindle_speed() {
    let m = moves(&ops("S2000 M3\nG95 G1 X1 F0.1\nG94 X2 F300\n"));
    assert!((m[0].feed_mm_per_min - 200.0).abs() < 1e-9);
    assert_eq!(m[1].feed_mm_per_min, 300.0);
    assert!(error("G95 G1 X1 F0.1\n")
        .message
        .contains("spindle speed zero"));
}

#[test]
fn arcs_through_the_interpreter() {
    // Semicircle CCW from (10,0) to (-10,0) round the origin, descending 2 mm; R and IJ agree.
    for arc in ["G3 X-10 Y0 Z-2 I-10 J0", "G3 X-10 Y0 Z-2 R10"] {
        let all = moves(&ops(&format!("G0 X10 Y0 Z0\nG1 F100\n{arc}\n")));
        let chords = &all[1..];
        assert!(chords.len() > 10);
        for m in chords {
            assert!((m.to[0].hypot(m.to[1]) - 10.0).abs() < 1e-6, "{:?}", m.to);
            assert!(m.to[1] >= -1e-9, "CCW from +X to -X passes through +Y");
        }
        assert!(close(chords.last().unwrap().to, [-10.0, 0.0, -2.0]));
    }
    // A full circle in G19 (YZ) with J/K returns to its start.
    let m = moves(&ops("G0 X0 Y10 Z0\nG19 G2 Y10 Z0 J-10 K0 F100\n"));
    assert!(close(m.last().unwrap().to, [0.0, 10.0, 0.0]));
    assert!(m.iter().any(|m| m.to[1] < -9.9));
    assert!(m.iter().all(|m| m.to[0] == 0.0));
}

#[test]
fn impossible_arcs_are_errors_with_place() {
    let e = error("G0 X0 Y0\nG1 F100\nG2 X10 Y0\n");
    assert_eq!((e.line, e.column), (3, Some(1)));
    assert!(e.message.contains("I/J/K"), "{e}");
    let e = error("G0 X0 Y0\nG2 X10 Y0 I3 J0 F100\n");
    assert_eq!((e.line, e.column), (2, Some(11)));
    assert!(e.message.contains("radius"), "{e}");
    assert!(error("G0 X0 Y0\nG2 X30 Y0 R5 F100\n")
        .message
        .contains("radius"));
    let e = error("G0 X0\nG7 X1\n");
    assert_eq!((e.line, e.column), (2, Some(1)));
    assert!(
        e.to_string().starts_with("t.nc:2:1: unknown G code G7"),
        "{e}"
    );
}

#[test]
fn canned_cycles_drill_at_the_right_levels() {
    let m = moves(&ops("G0 X0 Y0 Z10\nG81 X5 Y5 Z-3 R2 F100\nX8\nG80\nZ20\n"));
    // G80 brings back G0: the last move is a rapid up, not another hole.
    let last = m.last().unwrap();
    assert!(last.rapid && close(last.to, [8.0, 5.0, 20.0]));
    let holes: Vec<Vec3> = m.iter().filter(|m| !m.rapid).map(|m| m.to).collect();
    assert_eq!(holes, vec![[5.0, 5.0, -3.0], [8.0, 5.0, -3.0]]);
    // G98 by default: back to the initial level 10 after each hole.
    assert!(close(m[m.len() - 2].to, [8.0, 5.0, 10.0]));
    assert_eq!(m.len(), 10, "1 + 4 per hole + 1");
    let m = moves(&ops("G0 X0 Y0 Z10\nG99 G83 X1 Y1 Z-7 R1 Q3 F100\nG80\n"));
    let depths: Vec<f64> = m.iter().filter(|m| !m.rapid).map(|m| m.to[2]).collect();
    assert_eq!(depths, vec![-2.0, -5.0, -7.0]);
    assert!(
        close(m.last().unwrap().to, [1.0, 1.0, 1.0]),
        "G99 returns to R"
    );
}

#[test]
fn tool_change_and_spindle_ops() {
    let o = ops("T2M6S1527F244.3\nM3\nM8\nM9 M5\nM1\nM30\nG0 X5\n");
    assert!(o.contains(&Op::ToolChange { line: 1, tool: 2 }));
    assert!(o.contains(&Op::Spindle {
        line: 2,
        rpm: 1527.0,
        dir: SpindleDir::Clockwise
    }));
    assert!(o.contains(&Op::Spindle {
        line: 4,
        rpm: 1527.0,
        dir: SpindleDir::Off
    }));
    assert!(o.contains(&Op::Coolant { line: 3, on: true }));
    assert!(o.contains(&Op::Stop {
        line: 5,
        optional: true
    }));
    assert_eq!(o.last(), Some(&Op::End { line: 6 }));
    assert!(moves(&o).is_empty(), "nothing runs after M30");
}

#[test]
fn unmodelled_words_warn_once_and_continue() {
    let o = ops("M19\nG0 X1\nM19\nG68 X0 Y0 R30\nG1 X2 F100\n");
    let warnings: Vec<&Op> = o
        .iter()
        .filter(|o| matches!(o, Op::Warning { .. }))
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    // G68's X/Y are its centre, not a move.
    assert_eq!(moves(&o).len(), 2, "{o:?}");
}

#[test]
fn length_compensation_offsets_the_tip() {
    let mut t = tools();
    t.set(1, OffsetKind::LengthWear, -0.2);
    t.set(2, OffsetKind::LengthGeometry, 80.0);
    // Tool 1 (75 mm) loaded; H1 = 75 + wear −0.2: the tip goes 0.2 deeper.
    let m = moves(&ops_with(
        "T1 M6\nG43 H1 G0 Z10\nG43 H2 Z10\nG49 Z10\n",
        t.clone(),
    ));
    assert!((m[0].to[2] - 9.8).abs() < 1e-9);
    // H2 says 80 mm but the tool is 75: the tip stays 5 mm high.
    assert!((m[1].to[2] - 15.0).abs() < 1e-9);
    assert!((m[2].to[2] - 10.0).abs() < 1e-9);
    // Bare G43 uses the loaded tool's register.
    let m = moves(&ops_with("T1 M6\nG43\nG0 Z10\n", t));
    assert!((m[0].to[2] - 9.8).abs() < 1e-9);
}

#[test]
fn work_offsets_g53_and_g28() {
    let m = moves(&ops(
        "G10 L2 P2 X100 Y50 Z-20\nG55 G0 X1 Y2 Z3\nG53 G0 Z0\nG0 Z5\nG91 G28 Z0\nG90\nG28 X0 Y0\n",
    ));
    assert!(close(m[0].to, [101.0, 52.0, -17.0]));
    assert!(
        close(m[1].to, [101.0, 52.0, 0.0]),
        "G53 is machine coordinates"
    );
    assert!(close(m[2].to, [101.0, 52.0, -15.0]), "G53 is not modal");
    assert!(
        close(m[3].to, [101.0, 52.0, 100.0]),
        "G91 G28 Z0: Z straight home"
    );
    // G28 X0 Y0 in G55: via program (0, 0) = machine (100, 50), then X and Y home; Z stays.
    assert!(close(m[4].to, [100.0, 50.0, 100.0]));
    assert!(close(m[5].to, [0.0, 0.0, 100.0]));
    let m = moves(&ops("G0 X5 Y5 Z5\nG10 L20 P1 X0 Y0\nG0 X1\n"));
    assert!(
        close(m[1].to, [6.0, 5.0, 5.0]),
        "L20 makes the current point the origin"
    );
}

#[test]
fn dwell_in_ms_or_seconds() {
    let o = ops("G4 P500\nG4 X2\n");
    assert!(o.contains(&Op::Dwell {
        line: 1,
        seconds: 0.5
    }));
    assert!(o.contains(&Op::Dwell {
        line: 2,
        seconds: 2.0
    }));
}

/// A 20 mm square traced counter-clockwise with G41 (tool outside on the left... of travel).
const SQUARE: &str = "T1 M6\nG0 X-10 Y-10 Z1\nG1 Z-1 F100\nG41 D1 G1 X0 Y0\nX20\nY20\nX0\nY0\nG40 G1 X-10 Y-10\nM30\n";

#[test]
fn cutter_comp_offsets_a_square_by_the_radius() {
    let m = moves(&ops(SQUARE));
    let r = 5.0;
    // CCW around the square with the tool on the left is inside: the corners are intersections
    // of the lines offset by r, e.g. (20 - r, r).
    let comp: Vec<&Move> = m.iter().filter(|m| m.comp_radius_mm.is_some()).collect();
    assert!(comp.iter().all(|m| m.comp_radius_mm == Some(r)));
    let corners: Vec<Vec3> = comp.iter().map(|m| m.to).collect();
    for c in [
        [20.0 - r, r, -1.0],
        [20.0 - r, 20.0 - r, -1.0],
        [r, 20.0 - r, -1.0],
    ] {
        assert!(
            corners.iter().any(|p| close(*p, c)),
            "missing corner {c:?} in {corners:?}"
        );
    }
    // Every compensated point between start-up (lines 4, 5) and the piece that G40 (line 9)
    // ends at its own offset end (line 8) lies r inside the square's edges.
    for p in comp
        .iter()
        .filter(|m| (6..=7).contains(&m.line))
        .map(|m| m.to)
    {
        let inside = [p[0] - 0.0, 20.0 - p[0], p[1] - 0.0, 20.0 - p[1]];
        let nearest = inside.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!((nearest - r).abs() < 1e-9, "{p:?}");
    }
    // After G40 the tool returns to the programmed point.
    assert!(close(m.last().unwrap().to, [-10.0, -10.0, -1.0]));
    assert!(m.last().unwrap().comp_radius_mm.is_none());
}

#[test]
fn outside_contour_rolls_round_corners() {
    // Clockwise with G41 puts the tool outside: corners become arcs of radius r round them.
    let text = "T1 M6\nG0 X-10 Y-10 Z1\nG1 Z-1 F100\nG41 D1 G1 X0 Y0\nY20\nX20\nY0\nX0\nG40 G1 X-10 Y-10\n";
    let m = moves(&ops(text));
    let near_corner: Vec<&Move> = m
        .iter()
        .filter(|m| {
            m.comp_radius_mm.is_some() && (m.to[0] - 20.0).hypot(m.to[1] - 20.0) < 5.0 + 1e-6
        })
        .collect();
    assert!(near_corner.len() > 3);
    assert!(near_corner
        .iter()
        .all(|m| ((m.to[0] - 20.0).hypot(m.to[1] - 20.0) - 5.0).abs() < 1e-9));
}

#[test]
fn g10_l13_wear_changes_a_later_g41_offset() {
    let text = "T1 M6\nG10 L13 P1 R-0.5\nG0 X-10 Y-10 Z1\nG1 Z-1 F100\nG41 D1 G1 X0 Y0\nX20\nY20\nX0\nY0\nG40 G1 X-10 Y-10\n";
    let o = ops(text);
    assert!(o.contains(&Op::ToolOffset {
        line: 2,
        register: 1,
        kind: OffsetKind::RadiusWear,
        value_mm: -0.5
    }));
    let m = moves(&o);
    assert!(
        m.iter().any(|m| close(m.to, [15.5, 4.5, -1.0])),
        "corner moved by the wear"
    );
    assert!(m.iter().filter_map(|m| m.comp_radius_mm).all(|r| r == 4.5));
    // Incremental G10 adds to the register.
    let p = parse("t", "G10 L13 P1 R-0.5\nG91 G10 L13 P1 R-0.25\n").unwrap();
    let mut it = Interpreter::new(&p, tools(), InterpConfig::default());
    for op in it.by_ref() {
        op.unwrap();
    }
    assert_eq!(it.tool_table().register(1).radius_wear_mm, -0.75);
}

#[test]
fn zero_radius_compensation_is_an_error() {
    let e = error("T9 M6\nG0 X0 Y0\nG41 D9 G1 X10 F100\n");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("D9"), "{e}");
}

#[test]
fn live_offset_changes_reach_later_blocks() {
    let p = parse("t", "T1 M6\nG43 H1 G0 Z10\nG0 Z10.5\nG0 Z11\n").unwrap();
    let mut it = Interpreter::new(&p, tools(), InterpConfig::default());
    let mut zs = Vec::new();
    while let Some(op) = it.next() {
        if let Op::Move(m) = op.unwrap() {
            zs.push(m.to[2]);
            it.tool_table_mut()
                .set(1, OffsetKind::LengthWear, -0.1 * zs.len() as f64);
        }
    }
    assert!((zs[0] - 10.0).abs() < 1e-9);
    assert!((zs[1] - 10.4).abs() < 1e-9);
    assert!((zs[2] - 10.8).abs() < 1e-9);
}

#[test]
fn linuxcnc_parameters_and_subroutines() {
    let text = "#100=2\n#<depth> = -1.5\no10 sub\nG1 X[#1*#100] Y#2 Z#<depth> F100\no10 endsub\n\
                o10 call [3] [4]\n#1=0\no20 while [#1 LT 3]\nG0 X#1\n#1=[#1+1]\no20 endwhile\n\
                o30 if [#1 EQ 3]\nG0 Y99\no30 else\nG0 Y-99\no30 endif\n";
    let m = moves(&ops(text));
    assert!(close(m[0].to, [6.0, 4.0, -1.5]));
    let xs: Vec<f64> = m[1..4].iter().map(|m| m.to[0]).collect();
    assert_eq!(xs, vec![0.0, 1.0, 2.0]);
    assert_eq!(m.last().unwrap().to[1], 99.0);
    let e = error("o5 call [1]\n");
    assert_eq!((e.line, e.column), (1, Some(1)));
}

#[test]
fn block_delete_switch() {
    let p = parse("t", "/G0 X5\nG0 Y5\n").unwrap();
    let cfg = InterpConfig {
        block_delete: true,
        ..InterpConfig::default()
    };
    let m: Vec<Op> = Interpreter::new(&p, tools(), cfg)
        .map(Result::unwrap)
        .collect();
    assert_eq!(moves(&m).len(), 1);
    assert_eq!(moves(&ops("/G0 X5\nG0 Y5\n")).len(), 2);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parser_returns_ok_or_err(text in "\\PC{0,200}") {
            let _ = parse("p", &text);
        }

        #[test]
        fn gcode_like_text_parses_and_runs_without_panic(
            text in "([GMXYZIJKRFSTDHPQL#\\[\\]()%/;. +\\-*0-9\\n]|o1 sub|o1 call){0,120}"
        ) {
            if let Ok(p) = parse("p", &text) {
                for op in Interpreter::new(&p, tools(), InterpConfig::default()).take(10_000) {
                    if op.is_err() {
                        break;
                    }
                }
            }
        }
    }
}
