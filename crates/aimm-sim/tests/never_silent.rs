//! Runs that could go wrong silently: a program that cuts with no tool in the spindle is an
//! error naming its line (or, with a start tool loaded, cuts and says so), and titanium at an
//! engraving program's speeds stays finite: the tool fails, with a warning naming the line; and
//! a program that cuts only air says so.

use aimm_model::{MachineSpec, Material, ToolSpec};
use aimm_sim::gcode::parse;
use aimm_sim::setup::{prepare, tool_at_start};
use aimm_sim::{SimConfig, Simulator};

/// A 40 mm slot 1 mm deep with no T word: what jscut and other engraving CAM write.
const NO_TOOL: &str = "G21 G90\nS8000 M3\nG0 X10 Y20 Z5\nG1 Z-1 F100\nG1 X50 F600\nG0 Z5\nM30\n";

#[test]
fn cutting_with_no_tool_is_an_error_naming_the_line() {
    let program = parse("no_tool.nc", NO_TOOL).unwrap();
    let mut config = SimConfig::new(MachineSpec::vmc("m"), Material::SteelC45, 1);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
    let err = Simulator::new(&program, tools, config)
        .unwrap()
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no_tool.nc") && err.contains("line 4"),
        "{err}"
    );
    assert!(err.contains("no tool"), "{err}");
}

#[test]
fn a_start_tool_cuts_and_is_named_in_the_warnings() {
    let program = parse("no_tool.nc", NO_TOOL).unwrap();
    let mut config = SimConfig::new(MachineSpec::vmc("m"), Material::SteelC45, 1);
    let default = ToolSpec::default_end_mill(0);
    let mut tools = prepare(&program, &default, &mut config).unwrap();
    let start = tool_at_start(&program, &mut tools, &config, &default)
        .unwrap()
        .unwrap();
    let mut sim = Simulator::new(&program, tools, config).unwrap();
    sim.load_tool_at_start(start.number, start.line, start.note())
        .unwrap();
    let r = sim.run().unwrap();
    // 40 mm + the plunge of a 10 mm tool, 1 mm deep: about 0.4 cm³.
    assert!(r.removed_cm3 > 0.35, "{r:?}");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("line 4:") && w.contains("T1") && w.contains("default tool")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_program_that_cuts_only_air_says_so() {
    // The same slot, but the tool stops 1 mm above the stock's top.
    let text = NO_TOOL.replace("G1 Z-1", "G1 Z1");
    let program = parse("air.nc", &format!("T1 M6\n{text}")).unwrap();
    let mut config = SimConfig::new(MachineSpec::vmc("m"), Material::SteelC45, 1);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
    let r = Simulator::new(&program, tools, config)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(r.removed_cm3, 0.0);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("removed no material") && w.contains("Z0 mm")),
        "{:?}",
        r.warnings
    );
}

/// A 10 mm tool at 10000 rev/min skimming 0.2 mm along 40 back-and-forth lines.
fn engraving() -> String {
    let mut text = String::from(
        "(T1 D=10. - FLAT END MILL)\nG21 G90\nT1 M6\nS10000 M3\nG0 X0 Y0 Z5\nG1 Z-0.2 F200\n",
    );
    for i in 0..40 {
        let y = i as f64 * 2.0;
        text.push_str(&format!("G1 X80 Y{y} F900\nG1 X0 Y{}\n", y + 1.0));
    }
    text.push_str("G0 Z5\nM30\n");
    text
}

#[test]
fn titanium_at_engraving_speeds_stays_finite_and_names_the_failure() {
    // A 10 mm tool at 10000 rev/min (314 m/min) skimming 0.2 mm: far too fast for Ti-6Al-4V,
    // whose tool life there is under a minute. The wear curve's tertiary term used to run VB,
    // and with it force, load and energy, to infinity.
    let program = parse("engrave.nc", &engraving()).unwrap();
    let mut config = SimConfig::new(MachineSpec::vmc("m"), Material::Ti6Al4V, 1);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
    let r = Simulator::new(&program, tools, config)
        .unwrap()
        .run()
        .unwrap();
    for (name, v) in [
        ("energy", r.energy_kwh),
        ("max load", r.max_spindle_load_pct),
        ("cycle time", r.cycle_time_s),
        ("removed", r.removed_cm3),
    ] {
        assert!(v.is_finite(), "{name} = {v}");
    }
    let t1 = &r.tools[0];
    assert!(t1.vb_mm.is_finite() && t1.vb_mm <= 1.0, "{t1:?}");
    assert!(r.max_spindle_load_pct < 1000.0, "{r:?}");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("line ") && w.contains("T1 failed")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_non_finite_value_is_an_error_naming_the_line() {
    // Without the failure limit the wear integration runs into the singularity: the run must
    // stop with an error naming the block, not report infinities.
    let program = parse("engrave.nc", &engraving()).unwrap();
    let mut config = SimConfig::new(MachineSpec::vmc("m"), Material::Ti6Al4V, 1);
    config.wear.vb_failure_mm = f64::INFINITY;
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
    let err = Simulator::new(&program, tools, config)
        .unwrap()
        .run()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("engrave.nc: line "), "{err}");
    assert!(err.contains("inf") || err.contains("NaN"), "{err}");
}

/// A slot, then `T0 M6` (the spindle emptied, as Fanuc and LinuxCNC programs end), then `tail`.
fn emptied(tail: &str) -> String {
    format!(
        "(STOCK X0 Y0 X60 Y40 Z0)\nG21 G90\nT1 M6\nS8000 M3\nG0 X10 Y20 Z5\nG1 Z-1 F100\n\
         G1 X50 F600\nG0 Z20\nT0 M6\n{tail}M30\n"
    )
}

#[test]
fn t0_empties_the_spindle_and_a_cut_after_it_is_an_error_naming_the_line() {
    let run = |text: &str| {
        let program = parse("t0.nc", text).unwrap();
        let mut config = SimConfig::new(MachineSpec::vmc("m"), Material::Aluminium6061, 1);
        let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
        Simulator::new(&program, tools, config).unwrap().run()
    };
    let done = run(&emptied("")).expect("T0 M6 at the end is no error");
    assert!(done.removed_cm3 > 0.1, "{done:?}");
    let err = run(&emptied("G0 X10 Z5\nG1 Z-1 F100\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 11") && err.contains("no tool"), "{err}");
}
