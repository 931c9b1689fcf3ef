//! The tick engine and the steady-state process physics agree: a straight side cut run in the
//! engine with a process truth gives an operation summary whose power, torque and stability
//! ratio are those of `process::true_measurement` for the same geometry and parameters.

use aimm_model::{CutParams, MachineSpec, OperationGeometry, OperationRole, ToolSpec};
use aimm_sim::gcode::parse;
use aimm_sim::power::PowerModel;
use aimm_sim::process::{benchmark_cases, true_measurement};
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, Simulator};

/// A 120 mm straight side cut along the Y = 40 face of a 100 × 40 block: `ap` deep, `ae` wide,
/// with a 10 mm 4-flute end mill at `rpm` and `feed`.
fn side_cut(ap: f64, ae: f64, rpm: f64, feed: f64) -> String {
    let y = 40.0 - ae + 5.0;
    format!(
        "(STOCK X0 Y0 X100 Y40 Z0)\nG21 G90 G17\nT1 M6\nS{rpm:.1} M3\nG0 X-10 Y{y} Z5\n\
         G0 Z-{ap}\nG1 X110 F{feed:.1}\nG0 Z5\nM30\n"
    )
}

#[test]
fn the_engine_summary_agrees_with_the_steady_state_physics() {
    for (case_index, seed, params) in [
        (
            0,
            3,
            CutParams {
                fz_mm: 0.05,
                vc_m_per_min: 150.0,
            },
        ),
        (
            0,
            11,
            CutParams {
                fz_mm: 0.08,
                vc_m_per_min: 90.0,
            },
        ),
        (
            4,
            5,
            CutParams {
                fz_mm: 0.05,
                vc_m_per_min: 45.0,
            },
        ),
    ] {
        let case = &benchmark_cases()[case_index];
        let truth = case.draw_truth(seed);
        let (ap, ae) = (case.geometry.ap_mm, case.geometry.ae_mm);
        let rpm = params.spindle_rpm(10.0);
        let feed = params.feed_mm_per_min(10.0, 4);
        let program = parse("side.nc", &side_cut(ap, ae, rpm, feed)).unwrap();
        let mut cfg = SimConfig::new(MachineSpec::vmc("test"), case.material, seed);
        cfg.process_truth = Some(truth);
        cfg.corner_radius_mm = case.geometry.corner_radius_mm;
        let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut cfg).unwrap();
        let mut sim = Simulator::new(&program, tools, cfg).unwrap();
        let result = sim.run().unwrap();
        assert_eq!(result.operations.len(), 1);
        let op = &result.operations[0];
        assert_eq!(op.tool, 1);
        // The program's rounding of S and F.
        let params = CutParams::from_words(
            (rpm * 10.0).round() / 10.0,
            (feed * 10.0).round() / 10.0,
            10.0,
            4,
        );
        let geometry = OperationGeometry {
            role: OperationRole::Roughing,
            cut_length_mm: op.cut_length_mm,
            ..case.geometry.clone()
        };
        let want = true_measurement(&truth, &geometry, params, &PowerModel::default());
        let got = op.measurement();
        println!(
            "{}: engine {got:?}\n   process {want:?}\n   {op:?}",
            case.name
        );
        let close = |a: f64, b: f64, tol: f64| (a / b - 1.0).abs() < tol;
        assert!((op.mean_ap_mm / ap - 1.0).abs() < 0.02, "{op:?}");
        assert!((op.mean_ae_mm / ae - 1.0).abs() < 0.05, "{op:?}");
        assert!(close(got.spindle_power_kw, want.spindle_power_kw, 0.04));
        assert!(close(got.spindle_torque_nm, want.spindle_torque_nm, 0.04));
        assert!(close(got.stability_ratio, want.stability_ratio, 0.05));
        assert!(close(got.roughness_ra_um, want.roughness_ra_um, 0.01));
        assert!(close(got.wall_error_mm, want.wall_error_mm, 0.05));
        // Life used over the cutting time of the engine's run (the same formula).
        let life_want = want.tool_life_used * (op.cutting_time_s / 60.0)
            / (geometry.cut_length_mm / params.feed_mm_per_min(10.0, 4));
        assert!(
            close(got.tool_life_used, life_want, 0.05),
            "{} vs {life_want}",
            got.tool_life_used
        );
        let chatter = result.warnings.iter().any(|w| w.contains("chatters"));
        assert_eq!(chatter, got.stability_ratio >= 1.0, "{:?}", result.warnings);
    }
}

#[test]
fn a_cut_past_the_stability_limit_warns_of_chatter_naming_the_line() {
    let case = &benchmark_cases()[0];
    let truth = case.ranges.middle();
    let params = CutParams {
        fz_mm: 0.05,
        vc_m_per_min: 200.0,
    };
    let (rpm, feed) = (params.spindle_rpm(10.0), params.feed_mm_per_min(10.0, 4));
    let program = parse("deep.nc", &side_cut(12.0, 2.0, rpm, feed)).unwrap();
    let mut cfg = SimConfig::new(MachineSpec::vmc("test"), case.material, 1);
    cfg.process_truth = Some(truth);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut cfg).unwrap();
    let result = Simulator::new(&program, tools, cfg).unwrap().run().unwrap();
    let op = &result.operations[0];
    assert!(op.peak_stability_ratio >= 1.0, "{op:?}");
    let chatter: Vec<&String> = result
        .warnings
        .iter()
        .filter(|w| w.contains("chatters"))
        .collect();
    // One warning, on the G1 block (line 7).
    assert_eq!(chatter.len(), 1, "{:?}", result.warnings);
    assert!(chatter[0].starts_with("line 7: T1 chatters"), "{chatter:?}");
}

#[test]
fn without_a_truth_the_engine_cuts_with_the_material_constants_and_nominal_dynamics() {
    let program = parse("side.nc", &side_cut(3.0, 2.0, 4775.0, 955.0)).unwrap();
    let mut cfg = SimConfig::new(MachineSpec::vmc("test"), aimm_model::Material::SteelC45, 1);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut cfg).unwrap();
    let result = Simulator::new(&program, tools, cfg).unwrap().run().unwrap();
    let op = &result.operations[0];
    let truth = aimm_sim::process::ProcessTruth::nominal(aimm_model::Material::SteelC45, 10.0);
    let geometry = OperationGeometry {
        role: OperationRole::Roughing,
        tool_diameter_mm: 10.0,
        teeth: 4,
        corner_radius_mm: 0.0,
        ap_mm: 3.0,
        ae_mm: 2.0,
        cut_length_mm: op.cut_length_mm,
        fixed_time_s: 0.0,
    };
    let want = true_measurement(
        &truth,
        &geometry,
        CutParams::from_words(4775.0, 955.0, 10.0, 4),
        &PowerModel::default(),
    );
    assert!((op.peak_spindle_power_kw / want.spindle_power_kw - 1.0).abs() < 0.04);
    assert!((op.peak_stability_ratio / want.stability_ratio - 1.0).abs() < 0.05);
    assert_eq!(result.tools.len(), result.operations.len());
}
