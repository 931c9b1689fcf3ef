//! Physics sanity of the simulator on whole programs: power against feed and depth, feed
//! override against cutting time, wear growth, wear against part size and its compensation,
//! and determinism of the sensor noise.

use aimm_model::{HardnessFactor, MachineSpec, Material, SignalKind, ToolSpec};
use aimm_sim::gcode::{parse, Program};
use aimm_sim::setup::prepare;
use aimm_sim::{PartResult, SimConfig, Simulator};

/// A 60 mm straight slot `depth` deep at `feed` in a 100 × 40 steel block, 10 mm 4-flute tool.
fn slot(feed: f64, depth: f64, rpm: f64) -> String {
    format!(
        "(STOCK X0 Y0 X100 Y40 Z0)\nG21 G90 G17\nT1 M6\nS{rpm} M3\nG0 X10 Y20 Z5\n\
         G1 Z-{depth} F100\nG1 X70 F{feed}\nG0 Z5\nM30\n"
    )
}

/// A simulator for `program` on a default machine, tools and stock from the program.
fn simulator(program: &Program, material: Material, seed: u64) -> Simulator<'_> {
    let mut c = SimConfig::new(MachineSpec::vmc("test"), material, seed);
    let tools = prepare(program, &ToolSpec::default_end_mill(0), &mut c).unwrap();
    Simulator::new(program, tools, c).unwrap()
}

/// Runs `text` and returns the result, the mean spindle power while cutting with the tool
/// between X20 and X60 (steady state of the slot), and while the spindle turns in air.
fn run(text: &str, material: Material, override_pct: f64) -> (PartResult, f64, f64) {
    let program = parse("test.nc", text).unwrap();
    let mut sim = simulator(&program, material, 7);
    sim.set_feed_override(override_pct);
    let (mut cut, mut air) = ((0.0, 0u32), (0.0, 0u32));
    while sim.step().unwrap() {
        let power = sim.latest(SignalKind::SpindlePowerKw);
        let x = sim.latest(SignalKind::PositionXMm);
        match sim.latest(SignalKind::MachineState) {
            4.0 if (20.0..60.0).contains(&x) => cut = (cut.0 + power, cut.1 + 1),
            3.0 => air = (air.0 + power, air.1 + 1),
            _ => {}
        }
        sim.recording().drain();
    }
    let mean = |(sum, n): (f64, u32)| sum / f64::from(n.max(1));
    (sim.result(), mean(cut), mean(air))
}

#[test]
fn power_grows_with_feed_and_with_depth() {
    let (_, base, air) = run(&slot(600.0, 3.0, 5000.0), Material::SteelC45, 100.0);
    let (_, faster, _) = run(&slot(1200.0, 3.0, 5000.0), Material::SteelC45, 100.0);
    let (_, deeper, _) = run(&slot(600.0, 6.0, 5000.0), Material::SteelC45, 100.0);
    assert!(
        base - air > 0.5,
        "a 3 mm steel slot must draw real power: {base} vs {air} kW in air"
    );
    // Cutting power alone: depth ×2 doubles it; feed ×2 less than doubles it (thicker chips
    // need less specific force: 2^(1−mc) = 1.82 for C45).
    let (p_base, p_faster, p_deeper) = (base - air, faster - air, deeper - air);
    assert!(
        (1.85..2.15).contains(&(p_deeper / p_base)),
        "depth ×2: {p_base} → {p_deeper} kW"
    );
    assert!(
        (1.65..1.98).contains(&(p_faster / p_base)),
        "feed ×2: {p_base} → {p_faster} kW"
    );
}

#[test]
fn halving_feed_override_lengthens_cutting_time() {
    let text = std::fs::read_to_string("../../examples/bracket_c45.nc").unwrap();
    let (full, _, _) = run(&text, Material::SteelC45, 100.0);
    let (half, _, _) = run(&text, Material::SteelC45, 50.0);
    let ratio = half.cutting_time_s / full.cutting_time_s;
    assert!((1.8..2.2).contains(&ratio), "cutting time ×{ratio}");
    assert!(half.cycle_time_s > full.cycle_time_s);
    // Slower feed, thinner chips, lower peak load.
    assert!(half.max_spindle_load_pct < full.max_spindle_load_pct);
}

/// Wear of T1 sampled once per simulated second over a long slotting program.
fn wear_curve(rpm: f64) -> Vec<f64> {
    // Same feed per tooth at both speeds: only the cutting speed differs.
    let feed = rpm * 4.0 * 0.05;
    let mut text = String::from("(STOCK X0 Y0 X400 Y400 Z0)\nG21 G90\nT1 M6\n");
    text += &format!("S{rpm} M3\nG0 X10 Y10 Z5\nG1 Z-3 F100\n");
    for i in 0..20 {
        let y = 10.0 + 9.0 * f64::from(i);
        text += &format!("G1 X390 Y{y} F{feed}\nG1 Y{} \nG1 X10\n", y + 4.5);
    }
    text += "G0 Z5\nM30\n";
    let program = parse("wear.nc", &text).unwrap();
    let mut sim = simulator(&program, Material::SteelC45, 1);
    let mut curve = Vec::new();
    while sim.step().unwrap() {
        if sim.elapsed_s().fract() < 0.002 {
            curve.push(sim.tool_wear_vb_mm(1));
        }
        sim.recording().drain();
    }
    curve
}

#[test]
fn wear_grows_monotonically_and_faster_at_higher_speed() {
    let slow = wear_curve(4000.0);
    let fast = wear_curve(7000.0);
    assert!(
        slow.windows(2).all(|w| w[1] >= w[0]),
        "wear never decreases"
    );
    assert!(*slow.last().unwrap() > 0.0);
    // Compare wear after the same cutting distance: the faster run is done sooner, so compare
    // wear per metre of cut: final wear, same path.
    assert!(
        fast.last().unwrap() > slow.last().unwrap(),
        "same path at 7000 vs 4000 rev/min: VB {} vs {}",
        fast.last().unwrap(),
        slow.last().unwrap()
    );
}

#[test]
fn worn_tool_cuts_off_size_and_the_matching_offset_restores_it() {
    let text = std::fs::read_to_string("../../examples/bracket_c45.nc").unwrap();
    let program = parse("bracket.nc", &text).unwrap();
    let run_with = |vb: f64, offset: f64| {
        let mut sim = simulator(&program, Material::SteelC45, 3);
        sim.set_radius_wear_offset(1, offset);
        sim.set_tool_wear_vb_mm(1, vb);
        let r = sim.run().unwrap();
        (r.reference_feature.unwrap(), sim.tool_wear_vb_mm(1))
    };
    let (new_tool, _) = run_with(0.0, 0.0);
    assert!(new_tool.in_tolerance, "{new_tool:?}");
    let (worn, vb_end) = run_with(0.25, 0.0);
    assert!(
        !worn.in_tolerance,
        "a VB 0.25 mm tool must cut off-size: {worn:?}"
    );
    assert!(worn.mean_error_mm > 0.03, "walls stand proud: {worn:?}");
    // Offset by the radial wear the tool has at the finishing pass (between start and end VB).
    let radial = |vb: f64| vb * 10f64.to_radians().tan();
    let offset = -(radial(0.25) + radial(vb_end)) / 2.0;
    let (compensated, _) = run_with(0.25, offset);
    assert!(compensated.in_tolerance, "offset {offset}: {compensated:?}");
    assert!(compensated.mean_error_mm.abs() < worn.mean_error_mm.abs() / 4.0);
}

/// All samples of a run, in signal order.
fn samples(seed: u64) -> Vec<(SignalKind, Vec<i64>, Vec<u64>)> {
    let text = std::fs::read_to_string("../../examples/lug_ti64.nc").unwrap();
    let program = parse("lug.nc", &text).unwrap();
    let mut sim = simulator(&program, Material::Ti6Al4V, seed);
    let mut out: Vec<(SignalKind, Vec<i64>, Vec<u64>)> = Vec::new();
    let mut collect = |series: Vec<aimm_model::SignalSeries>| {
        for s in series {
            out.push((
                s.signal,
                s.t_ns,
                s.values.iter().map(|v| v.to_bits()).collect(),
            ));
        }
    };
    while sim.step().unwrap() {
        if sim.recording().len() > 50_000 {
            collect(sim.recording().drain().0);
        }
    }
    collect(sim.recording().drain().0);
    out
}

#[test]
fn same_seed_is_bit_identical_and_another_seed_differs() {
    let a = samples(11);
    let b = samples(11);
    let c = samples(12);
    assert!(!a.is_empty());
    assert_eq!(a, b, "same seed, same bits");
    assert_ne!(a, c, "another seed, other noise");
    // Only the noise differs: same signals, same timestamps.
    assert_eq!(
        a.iter().map(|s| (s.0, &s.1)).collect::<Vec<_>>(),
        c.iter().map(|s| (s.0, &s.1)).collect::<Vec<_>>()
    );
}

#[test]
fn every_example_program_runs_and_cuts() {
    for (file, material) in [
        ("bracket_c45.nc", Material::SteelC45),
        ("cover_al6061.nc", Material::Aluminium6061),
        ("lug_ti64.nc", Material::Ti6Al4V),
    ] {
        let text = std::fs::read_to_string(format!("../../examples/{file}")).unwrap();
        let (r, _, _) = run(&text, material, 100.0);
        assert!(r.removed_cm3 > 1.0, "{file}: {r:?}");
        assert!(r.warnings.is_empty(), "{file}: {:?}", r.warnings);
        assert!(
            r.reference_feature.as_ref().is_some_and(|f| f.in_tolerance),
            "{file}: {r:?}"
        );
        assert!(
            r.max_spindle_load_pct > 10.0 && r.energy_kwh > 0.05,
            "{file}: {r:?}"
        );
    }
}

#[test]
fn a_longer_lived_tool_and_a_softer_batch_wear_slower_and_cut_lighter() {
    let text = std::fs::read_to_string("../../examples/bracket_c45.nc").unwrap();
    let program = parse("bracket.nc", &text).unwrap();
    let run_with = |life_factor: f64, batch: HardnessFactor| {
        let mut config = SimConfig::new(MachineSpec::vmc("m"), Material::SteelC45, 3);
        config.batch = batch;
        let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
        let mut sim = Simulator::new(&program, tools, config).unwrap();
        sim.set_tool_life_factor(1, life_factor).unwrap();
        let r = sim.run().unwrap();
        (sim.tool_wear_vb_mm(1), r.max_spindle_load_pct)
    };
    let nominal = HardnessFactor { kc: 1.0, wear: 1.0 };
    let (vb, load) = run_with(1.0, nominal);
    // Twice the life: half the rate at the same wear; less wear also keeps it in the faster
    // break-in phase longer, so a little over half the wear.
    let (vb_long, _) = run_with(2.0, nominal);
    assert!((0.5..0.8).contains(&(vb_long / vb)), "VB {vb} vs {vb_long}");
    let (vb_soft, load_soft) = run_with(
        1.0,
        HardnessFactor {
            kc: 0.9,
            wear: 0.81,
        },
    );
    assert!(
        vb_soft < vb && load_soft < load,
        "VB {vb_soft}, load {load_soft} %"
    );

    let mut config = SimConfig::new(MachineSpec::vmc("m"), Material::SteelC45, 3);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
    let mut sim = Simulator::new(&program, tools, config.clone()).unwrap();
    let err = sim.set_tool_life_factor(1, 0.0).unwrap_err().to_string();
    assert!(err.contains("T1"), "{err}");
    config.batch = HardnessFactor {
        kc: f64::NAN,
        wear: 1.0,
    };
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
    assert!(Simulator::new(&program, tools, config).is_err());
}
