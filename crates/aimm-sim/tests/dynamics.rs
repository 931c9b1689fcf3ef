//! Machine dynamics: the motion planner keeps every axis within its rate, acceleration and jerk,
//! slows for corners, looks ahead over short collinear blocks, follows override changes and feed
//! hold with its acceleration, and changes only the timing, never the path; so a higher
//! override shortens a program of short segments far less than a long straight cut.

use aimm_model::{MachineSpec, Material, ToolSpec};
use aimm_sim::gcode::{parse, Move, Op, Vec3};
use aimm_sim::planner::Planner;
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, SimError, Simulator};

/// Tick of the traces, s (the simulator's default 500 Hz).
const DT: f64 = 0.002;

/// Feed moves through `points` at `feed` mm/min (rapids when `rapid`).
fn polyline(points: &[Vec3], feed: f64, rapid: bool) -> Vec<Move> {
    points
        .windows(2)
        .enumerate()
        .map(|(i, w)| Move {
            line: i as u32 + 1,
            from: w[0],
            to: w[1],
            rapid,
            feed_mm_per_min: feed,
            comp_radius_mm: None,
        })
        .collect()
}

/// A 0.5 mm zig-zag in XY: `n` segments of 0.71 mm with 90° corners.
fn zigzag(n: usize) -> Vec<Vec3> {
    (0..=n)
        .map(|i| [0.5 * i as f64, if i % 2 == 0 { 0.0 } else { 0.5 }, 0.0])
        .collect()
}

/// What a planner run gave: the tool position at the end of every tick, and the end point of
/// every block as the tool left it, with its line.
struct Trace {
    ticks: Vec<Vec3>,
    block_ends: Vec<(u32, Vec3)>,
}

/// Drives a planner for the default VMC through `moves` tick by tick as the engine does, at
/// `override_pct`; `each_tick` may change the override or hold before each tick.
fn trace(moves: &[Move], mut each_tick: impl FnMut(usize, &mut f64, &mut bool)) -> Trace {
    let mut planner = Planner::new(&MachineSpec::vmc("m")).unwrap();
    let mut ops = moves.iter().cloned().map(Op::Move);
    let mut fill = |p: &mut Planner| {
        while p.wants_more() {
            match ops.next() {
                Some(op) => p.offer(op),
                None => p.end_of_program(),
            }
        }
    };
    fill(&mut planner);
    let (mut ovr, mut hold) = (100.0, false);
    let mut out = Trace {
        ticks: vec![moves[0].from],
        block_ends: Vec::new(),
    };
    let mut pos = moves[0].from;
    while !planner.is_empty() {
        each_tick(out.ticks.len(), &mut ovr, &mut hold);
        let mut left = DT;
        while left > 1e-12 && !planner.is_empty() {
            fill(&mut planner);
            let mut rest = planner.plan(&mut left, ovr, hold);
            while let Some(piece) = planner.travel(&mut rest) {
                pos = piece.pos;
                if piece.finished {
                    out.block_ends.push((piece.mv.line, piece.pos));
                    fill(&mut planner);
                }
            }
        }
        out.ticks.push(pos);
        assert!(out.ticks.len() < 10_000_000, "the planner never finishes");
    }
    out
}

/// Per-tick differences of a series of vectors, divided by the tick.
fn rate(series: &[Vec3]) -> Vec<Vec3> {
    series
        .windows(2)
        .map(|w| std::array::from_fn(|a| (w[1][a] - w[0][a]) / DT))
        .collect()
}

fn norm(v: Vec3) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// Program time of `text` in air (no tool, above the stock) at `override_pct`, s.
fn cycle_time_s(text: &str, override_pct: f64) -> f64 {
    let program = parse("dyn.nc", text).unwrap();
    let mut c = SimConfig::new(MachineSpec::vmc("m"), Material::SteelC45, 1);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut c).unwrap();
    let mut sim = Simulator::new(&program, tools, c).unwrap();
    sim.set_feed_override(override_pct);
    let r = sim.run().unwrap();
    r.cycle_time_s
}

/// G-code of feed moves through `points` at `feed`, 5 mm above the stock.
fn gcode(points: &[Vec3], feed: f64) -> String {
    let mut text = format!("G21 G90 G17\nG0 X{} Y{} Z5\n", points[0][0], points[0][1]);
    for p in &points[1..] {
        text += &format!("G1 X{:.4} Y{:.4} F{feed}\n", p[0], p[1]);
    }
    text + "M30\n"
}

#[test]
fn override_shortens_short_segments_far_less_than_a_long_straight_cut() {
    let straight = gcode(&[[0.0, 0.0, 0.0], [400.0, 0.0, 0.0]], 1500.0);
    let zig = gcode(&zigzag(400), 1500.0);
    // Two turns of a 5 mm radius circle: 0.45 mm chords.
    let arc = "G21 G90 G17\nG0 X5 Y0 Z5\nG3 X5 Y0 I-5 J0 F4000\nG3 X5 Y0 I-5 J0\nM30\n";
    let shortening = |text: &str, start: Vec3| {
        // The rapid approach from home takes the same time at any override.
        let approach = cycle_time_s(&gcode(&[start], 1500.0), 100.0);
        1.0 - (cycle_time_s(text, 150.0) - approach) / (cycle_time_s(text, 100.0) - approach)
    };
    // Infinite acceleration would give 1 − 1/1.5 = 33.3 % for all three. Measured: 33.2 %,
    // 0 % (the zig-zag's 90° corners hold it below 1500 mm/min at any override) and 6.8 % (the
    // chords' corners cap the arc near 4000 mm/min).
    let long_cut = shortening(&straight, [0.0; 3]);
    assert!(
        (0.33..0.334).contains(&long_cut),
        "400 mm straight at 150 %: {:.1} % shorter",
        100.0 * long_cut
    );
    let zig = shortening(&zig, [0.0; 3]);
    assert!(
        zig < 0.05,
        "0.5 mm zig-zag at 150 %: {:.1} % shorter",
        100.0 * zig
    );
    let arc = shortening(arc, [5.0, 0.0, 0.0]);
    assert!(
        (0.0..0.1).contains(&arc),
        "R5 arc at 150 %: {:.1} % shorter",
        100.0 * arc
    );
}

#[test]
fn no_axis_exceeds_its_rate_acceleration_or_corner_step() {
    let spec = MachineSpec::vmc("m");
    // A zig-zag, a fine arc as 0.005 mm chords (R 5 mm), a steep 3D ramp and a long diagonal,
    // programmed far above the machine's feed, at 200 % override.
    let mut points = zigzag(40);
    let (cx, cy, r): (f64, f64, f64) = (25.0, 0.0, 5.0);
    let chord_angle = 2.0 * (2.0 * 0.005 / r).sqrt();
    let steps = (std::f64::consts::PI / chord_angle).ceil() as usize;
    for i in 0..=steps {
        let t = std::f64::consts::PI * (1.0 - i as f64 / steps as f64);
        points.push([cx + r * t.cos(), cy + r * t.sin(), 0.0]);
    }
    points.push([40.0, 10.0, -30.0]);
    points.push([240.0, 160.0, -30.0]);
    let t = trace(&polyline(&points, 50_000.0, false), |_, ovr, _| {
        *ovr = 200.0
    });
    let axes = spec.axes.by_axis();
    let velocity = rate(&t.ticks);
    for (k, v) in velocity.iter().enumerate() {
        for (a, (name, rating)) in axes.iter().enumerate() {
            let max = rating.max_feed_mm_per_min / 60.0;
            assert!(
                v[a].abs() <= max * (1.0 + 1e-6),
                "tick {k}: {name} at {} mm/s",
                v[a]
            );
        }
    }
    for (k, acc) in rate(&velocity).iter().enumerate() {
        for (a, (name, rating)) in axes.iter().enumerate() {
            // The corner step is a velocity step the control allows within one tick.
            let max = rating.accel_m_per_s2 * 1e3 + rating.corner_step_mm_per_min / 60.0 / DT;
            assert!(
                acc[a].abs() <= max * 1.02,
                "tick {k}: {name} at {} mm/s²",
                acc[a]
            );
        }
    }
    // On the long straight diagonal, away from corners, the path limits are the X axis's
    // over |u_x| = 0.8: 3750 mm/s², 62 500 mm/s³. From near rest to 10 m/min, Δv = 167 mm/s
    // is less than a²/j = 225 mm/s, so the jerk limit caps the acceleration at √(Δv·j).
    let straight: Vec<Vec3> = t
        .ticks
        .iter()
        .copied()
        .filter(|p| p[2] == -30.0 && p[0] > 40.0 + 1e-9)
        .collect();
    let acc = rate(&rate(&straight));
    let along: Vec<f64> = acc.iter().map(|a| norm(*a)).collect();
    let accel_max = along.iter().copied().fold(0.0, f64::max);
    let triangle = (166.7_f64 * 62_500.0).sqrt();
    assert!(
        (0.95 * triangle..=1.02 * triangle).contains(&accel_max),
        "peak acceleration along the diagonal {accel_max} mm/s², jerk-limited {triangle}"
    );
    let jerk_max = along
        .windows(2)
        .map(|w| (w[1] - w[0]).abs() / DT)
        .fold(0.0, f64::max);
    assert!(
        jerk_max <= 62_500.0 * 1.1,
        "peak jerk along the diagonal {jerk_max} mm/s³"
    );
}

#[test]
fn a_corner_is_taken_slower_than_a_straight_continuation() {
    let feed = 6000.0;
    let corner = trace(
        &polyline(
            &[[0.0, 0.0, 0.0], [20.0, 0.0, 0.0], [20.0, 20.0, 0.0]],
            feed,
            false,
        ),
        |_, _, _| {},
    );
    let straight = trace(
        &polyline(
            &[[0.0, 0.0, 0.0], [20.0, 0.0, 0.0], [40.0, 0.0, 0.0]],
            feed,
            false,
        ),
        |_, _, _| {},
    );
    let speed_near = |t: &Trace, p: Vec3| {
        t.ticks
            .windows(2)
            .filter(|w| norm(std::array::from_fn(|a| w[1][a] - p[a])) < 0.05)
            .map(|w| norm(std::array::from_fn(|a| w[1][a] - w[0][a])) / DT * 60.0)
            .fold(f64::INFINITY, f64::min)
    };
    let at_corner = speed_near(&corner, [20.0, 0.0, 0.0]);
    let through = speed_near(&straight, [20.0, 0.0, 0.0]);
    // 90°: each axis steps by the whole speed, so the corner step (360 mm/min) bounds it.
    assert!(at_corner <= 400.0, "corner at {at_corner} mm/min");
    assert!(through > 0.99 * feed, "straight on at {through} mm/min");
    assert!(corner.ticks.len() > straight.ticks.len());
    // Both end exactly where programmed, through every block.
    assert_eq!(*corner.ticks.last().unwrap(), [20.0, 20.0, 0.0]);
    assert_eq!(
        corner.block_ends,
        vec![(1, [20.0, 0.0, 0.0]), (2, [20.0, 20.0, 0.0])]
    );
}

#[test]
fn look_ahead_runs_short_collinear_blocks_at_full_speed() {
    let points: Vec<Vec3> = (0..=200).map(|i| [i as f64, 0.0, 0.0]).collect();
    let blocks = trace(&polyline(&points, 3000.0, false), |_, _, _| {});
    let one = trace(
        &polyline(&[points[0], points[200]], 3000.0, false),
        |_, _, _| {},
    );
    assert_eq!(blocks.ticks.len(), one.ticks.len());
    assert_eq!(blocks.block_ends.len(), 200);
    assert!(blocks
        .block_ends
        .iter()
        .zip(&points[1..])
        .all(|((_, end), p)| end == p));
}

#[test]
fn override_changes_and_feed_hold_follow_the_acceleration() {
    let points = [[0.0, 0.0, 0.0], [300.0, 0.0, 0.0]];
    // 100 % until tick 500 (1 s, cruising at 3000 mm/min), then 200 %; hold at tick 1000,
    // release at tick 1300.
    let t = trace(&polyline(&points, 3000.0, false), |k, ovr, hold| {
        *ovr = if k < 500 { 100.0 } else { 200.0 };
        *hold = (1000..1300).contains(&k);
    });
    let speed: Vec<f64> = rate(&t.ticks).iter().map(|v| v[0] * 60.0).collect();
    // speed[k] is the tick that ran with the settings of tick k + 1.
    assert!((speed[498] - 3000.0).abs() < 1e-6, "{}", speed[498]);
    let step = 3000.0 * 60.0 * DT; // the most one tick of full acceleration adds, mm/min
    assert!(
        speed[499] > 3000.0 && speed[499] < 3000.0 + step,
        "{}",
        speed[499]
    );
    // 3000 → 6000 mm/min is 50 mm/s, less than a²/j = 180 mm/s: two jerk ramps that never
    // reach full acceleration, 2·√(Δv/j) = 63 ms.
    let settled = speed
        .iter()
        .skip(499)
        .position(|&v| v >= 6000.0 - 1e-6)
        .unwrap();
    assert!(
        (31..=35).contains(&settled),
        "at 6000 mm/min after {settled} ticks"
    );
    // Hold: no stop within a tick; stopped after the braking time (100 mm/s: 2·√(Δv/j) = 89 ms).
    assert!(speed[999] > 6000.0 - step, "{}", speed[999]);
    let stopped = speed.iter().skip(999).position(|&v| v == 0.0).unwrap();
    assert!(
        (40..=60).contains(&stopped),
        "stopped after {stopped} ticks"
    );
    assert!(speed[1050..1299].iter().all(|&v| v == 0.0));
    assert!(speed[1299] > 0.0 && speed[1299] < step);
    assert_eq!(*t.ticks.last().unwrap(), [300.0, 0.0, 0.0]);
}

#[test]
fn dynamics_change_the_timing_not_the_part() {
    let text = std::fs::read_to_string("../../examples/bracket_c45.nc").unwrap();
    let program = parse("bracket_c45.nc", &text).unwrap();
    let removed = |override_pct: f64| {
        let mut c = SimConfig::new(MachineSpec::vmc("m"), Material::SteelC45, 7);
        let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut c).unwrap();
        let mut sim = Simulator::new(&program, tools, c).unwrap();
        sim.set_feed_override(override_pct);
        sim.run().unwrap().removed_cm3
    };
    // 24.687012 cm³ is what the simulator removed before it modelled dynamics (infinite
    // acceleration), at any override; a z-map cell here is 0.25 × 0.25 mm.
    for override_pct in [50.0, 100.0, 150.0] {
        let cm3 = removed(override_pct);
        assert!(
            (cm3 - 24.687012).abs() < 1e-3,
            "{override_pct} %: {cm3} cm³"
        );
    }
}

#[test]
fn a_machine_without_a_usable_rating_is_refused_by_name() {
    let program = parse("dyn.nc", "G1 X10 F100\nM30\n").unwrap();
    let mut spec = MachineSpec::vmc("mill-7");
    spec.axes.z.accel_m_per_s2 = 0.0;
    let c = SimConfig::new(spec, Material::SteelC45, 1);
    let err = Simulator::new(&program, Default::default(), c)
        .err()
        .unwrap();
    assert!(matches!(err, SimError::Rating(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("mill-7") && text.contains("Z acceleration (m/s²) is 0"),
        "{text}"
    );
}
