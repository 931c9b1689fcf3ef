//! The workpiece materials against each other, hardness variation in the stock, and the example
//! parts whose engagement varies along the path (inputs of the feed loop's validation).

use aimm_model::{
    HardSpot, HardnessFactor, MachineSpec, Material, SignalKind, Skin, SpotShape, StockHardness,
    ToolSpec,
};
use aimm_sim::gcode::parse;
use aimm_sim::materials::MaterialConstants;
use aimm_sim::setup::prepare;
use aimm_sim::{PartResult, SimConfig, Simulator};

/// Machine state code of cutting (`aimm_model::MachineState::Cutting`).
const CUTTING: f64 = 4.0;

/// One tick of cutting: line, x (mm), spindle load (%), cutting force (N).
#[derive(Clone, Copy, Debug)]
struct Tick {
    line: u32,
    x_mm: f64,
    load_pct: f64,
    force_n: f64,
}

/// Runs `text` in `material` with `hardness`; returns the result and every tick that cut.
fn run(text: &str, material: Material, hardness: StockHardness) -> (PartResult, Vec<Tick>) {
    let program = parse("test.nc", text).unwrap();
    let mut config = SimConfig::new(MachineSpec::vmc("test"), material, 11);
    config.hardness = hardness;
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
    let mut sim = Simulator::new(&program, tools, config).unwrap();
    let mut ticks = Vec::new();
    while sim.step().unwrap() {
        if sim.latest(SignalKind::MachineState) == CUTTING {
            ticks.push(Tick {
                line: sim.line(),
                x_mm: sim.latest(SignalKind::PositionXMm),
                load_pct: sim.latest(SignalKind::SpindleLoadPct),
                force_n: sim.latest(SignalKind::CuttingForceN),
            });
        }
        sim.recording().drain();
    }
    (sim.result(), ticks)
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    assert!(n > 0, "no samples to average");
    sum / f64::from(n)
}

/// A full-width slot 80 mm long, `depth` deep, at y = 20 in a 100 × 40 block: default 10 mm
/// 4-flute tool at 2000 rev/min (63 m/min, within every material's carbide range) and
/// fz = 0.04 mm.
fn slot(depth: f64) -> String {
    format!(
        "(STOCK X0 Y0 X100 Y40 Z0)\nG21 G90 G17\nT1 M6\nS2000 M3\nG0 X10 Y20 Z5\n\
         G1 Z-{depth} F100\nG1 X90 F320\nG0 Z5\nM30\n"
    )
}

#[test]
fn the_same_cut_orders_the_materials_as_their_constants_imply() {
    // Full slot: h_m = 2·fz/π with fz = 320 / (2000 · 4) = 0.04 mm.
    let chip_mm = 2.0 * 0.04 / std::f64::consts::PI;
    let mut measured = Vec::new();
    for material in Material::ALL {
        let (r, ticks) = run(&slot(3.0), material, StockHardness::default());
        let force = mean(
            ticks
                .iter()
                .filter(|t| t.line == 7 && (30.0..80.0).contains(&t.x_mm))
                .map(|t| t.force_n),
        );
        assert!(force.is_finite() && force > 50.0, "{material}: {force} N");
        assert!(r.max_spindle_load_pct.is_finite() && r.energy_kwh.is_finite());
        let m = MaterialConstants::of(material);
        let kc = m.kc11_n_per_mm2 * chip_mm.powf(-m.mc);
        measured.push((material, force, kc));
    }
    // Same section and speed: force ∝ kc, so the ratio to C45 is the ratio of kc (tool wear
    // over a 15 s slot and the sensor noise stay within 3 %).
    let (_, f_ref, kc_ref) = measured[0];
    for &(material, force, kc) in &measured {
        let (got, want) = (force / f_ref, kc / kc_ref);
        assert!(
            (got / want - 1.0).abs() < 0.03,
            "{material}: force ratio {got:.3}, kc ratio {want:.3}"
        );
    }
    // At this chip: 316L > C45 > Ti-6Al-4V > GG-25 > Al 6061.
    let mut order = measured.clone();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let names: Vec<Material> = order.iter().map(|m| m.0).collect();
    assert_eq!(
        names,
        [
            Material::Stainless316L,
            Material::SteelC45,
            Material::Ti6Al4V,
            Material::GreyCastIronGG25,
            Material::Aluminium6061
        ]
    );
}

#[test]
fn a_hard_spot_raises_the_load_where_it_is_and_only_there() {
    let spot = StockHardness {
        skin: None,
        hard_spots: vec![HardSpot {
            shape: SpotShape::Cylinder {
                centre_mm: [50.0, 20.0],
                radius_mm: 5.0,
                z_min_mm: -10.0,
                z_max_mm: 0.0,
            },
            factor: HardnessFactor { kc: 2.0, wear: 1.0 },
        }],
    };
    let (plain_result, plain) = run(&slot(3.0), Material::SteelC45, StockHardness::default());
    let (hard_result, hard) = run(&slot(3.0), Material::SteelC45, spot);
    assert_eq!(plain.len(), hard.len(), "the same path at the same feed");
    // The tool (radius 5) meets the spot (radius 5 at x = 50) between x = 40 and x = 60, and
    // the window of the last cuts trails it by under 1 mm.
    for (p, h) in plain.iter().zip(&hard) {
        if (h.x_mm - 50.0).abs() > 11.0 {
            assert_eq!(
                p.load_pct, h.load_pct,
                "away from the spot at x = {}",
                h.x_mm
            );
        }
    }
    let near = |ticks: &[Tick]| {
        mean(
            ticks
                .iter()
                .filter(|t| t.line == 7 && (t.x_mm - 50.0).abs() < 2.0)
                .map(|t| t.load_pct),
        )
    };
    let (p, h) = (near(&plain), near(&hard));
    assert!(h > 1.3 * p, "over the spot: {h:.1} % against {p:.1} %");
    assert_eq!(plain_result.removed_cm3, hard_result.removed_cm3);
}

#[test]
fn a_casting_skin_raises_the_load_of_the_passes_through_it_only() {
    let text = std::fs::read_to_string("../../examples/casting_skin_gg25.nc").unwrap();
    // Lines from the second side pass on cut only clean iron.
    let second = 1 + text
        .lines()
        .position(|l| l.starts_with("(SIDE PASS 2"))
        .unwrap() as u32;
    let first = 1 + text
        .lines()
        .position(|l| l.starts_with("(SIDE PASS 1"))
        .unwrap() as u32;
    let skin = StockHardness {
        skin: Some(Skin {
            thickness_mm: 2.0,
            factor: HardnessFactor { kc: 1.4, wear: 2.5 },
        }),
        hard_spots: vec![],
    };
    let (plain_result, plain) = run(&text, Material::GreyCastIronGG25, StockHardness::default());
    let (skin_result, with_skin) = run(&text, Material::GreyCastIronGG25, skin);
    let pass = |ticks: &[Tick], lines: std::ops::Range<u32>| {
        mean(
            ticks
                .iter()
                .filter(|t| lines.contains(&t.line))
                .map(|t| t.load_pct),
        )
    };
    let face = 0..first;
    let side1 = first..second;
    let side2 = second..u32::MAX;
    for (what, lines, least) in [("face pass", face, 1.15), ("side pass 1", side1, 1.1)] {
        let (p, s) = (pass(&plain, lines.clone()), pass(&with_skin, lines));
        assert!(
            s > least * p,
            "{what}: {s:.1} % with skin, {p:.1} % without"
        );
    }
    // Clean iron: only the tool's extra wear from the skin (≈ 1 % more kc) remains.
    let (p, s) = (pass(&plain, side2.clone()), pass(&with_skin, side2));
    assert!(
        (s / p - 1.0).abs() < 0.03,
        "side pass 2: {s:.1} % against {p:.1} %"
    );
    assert!(skin_result.tools[0].vb_mm > 1.3 * plain_result.tools[0].vb_mm);
}

/// The example parts for the feed loop: file, material, stock hardness.
fn varying_parts() -> Vec<(&'static str, Material, StockHardness)> {
    let skin = StockHardness {
        skin: Some(Skin {
            thickness_mm: 2.0,
            factor: HardnessFactor { kc: 1.4, wear: 2.5 },
        }),
        hard_spots: vec![],
    };
    vec![
        (
            "pocket_corners_c45.nc",
            Material::SteelC45,
            StockHardness::default(),
        ),
        (
            "profile_stock_al6061.nc",
            Material::Aluminium6061,
            StockHardness::default(),
        ),
        ("casting_skin_gg25.nc", Material::GreyCastIronGG25, skin),
        (
            "pocket_316l.nc",
            Material::Stainless316L,
            StockHardness::default(),
        ),
    ]
}

#[test]
fn each_varying_engagement_part_cuts_with_a_load_that_varies_along_its_path() {
    for (file, material, hardness) in varying_parts() {
        let text = std::fs::read_to_string(format!("../../examples/{file}")).unwrap();
        let (r, ticks) = run(&text, material, hardness);
        assert!(r.warnings.is_empty(), "{file}: {:?}", r.warnings);
        assert!(r.removed_cm3 > 20.0, "{file}: {} cm³", r.removed_cm3);
        assert_eq!(r.overload_events, 0, "{file}");
        // Heaviest section substantial, yet below the 120 % overload threshold.
        assert!(
            (60.0..100.0).contains(&r.max_spindle_load_pct),
            "{file}: max load {:.1} %",
            r.max_spindle_load_pct
        );
        assert!(
            (20.0..90.0).contains(&r.cycle_time_s),
            "{file}: {} s",
            r.cycle_time_s
        );
        let mut loads: Vec<f64> = ticks.iter().map(|t| t.load_pct).collect();
        loads.sort_by(f64::total_cmp);
        let quantile = |q: f64| loads[((loads.len() - 1) as f64 * q) as usize];
        let (p10, p90) = (quantile(0.1), quantile(0.9));
        assert!(
            p90 > 2.0 * p10,
            "{file}: engaged load p10 {p10:.1} %, p90 {p90:.1} %: too even for the feed loop"
        );
    }
}
