//! Validation of the feed loop: the cases (each runs one program twice on a machine, at constant
//! programmed feed and with the loop), the verdict on their figures (cycle time, spindle
//! overloads, load tracking) and the `validation_report` ledger record stating it. Running a case
//! on the simulator is `aimm-assess`'s part: this module decides nothing by running anything.

use super::{FeedLoop, FeedParams, FeedReport, FeedRunOptions, Setpoint, LOOP_NAME};
use aimm_ledger::record::{Evidence, Record, ValidationReport};
use aimm_ledger::Citation;
use aimm_model::Material;
use aimm_store::evidence::{append_one, record_program};
use aimm_store::{Store, StoreError};
use serde::Serialize;

/// Bound on the RMS load tracking error in closed-loop control, % of setpoint. The sensor noise
/// alone (σ ≈ 2 % of reading + 0.3 %) sets a floor near 2–3 %; engagement changes along the path
/// add the rest.
pub const RMS_BOUND_PCT: f64 = 12.0;

/// One validation case.
#[derive(Clone, Debug)]
pub struct FeedCase {
    /// The case's name.
    pub name: String,
    /// Program file name, as cited in the evidence.
    pub program: String,
    /// Program text.
    pub text: String,
    /// Workpiece material.
    pub material: Material,
    /// Flank wear the tool starts with, mm: a worn tool keeps wearing during the run.
    pub initial_wear_mm: f64,
    /// Fixed or taught-in setpoint.
    pub setpoint: Setpoint,
}

/// The figures of one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunFigures {
    /// Cycle time, s.
    pub cycle_time_s: f64,
    /// Spindle overload events.
    pub overload_events: u32,
    /// Highest spindle load, %.
    pub max_spindle_load_pct: f64,
    /// Energy used, kWh.
    pub energy_kwh: f64,
}

/// A case's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct CaseOutcome {
    /// The case's name.
    pub name: String,
    /// Program file name.
    pub program: String,
    /// Workpiece material.
    pub material: String,
    /// Flank wear the tool started with, mm.
    pub initial_wear_mm: f64,
    /// The run at constant programmed feed.
    pub constant_feed: RunFigures,
    /// The run with the loop.
    pub adaptive: RunFigures,
    /// Cycle time saved by the loop, % of the constant-feed cycle.
    pub cycle_time_reduction_pct: f64,
    /// What the loop did.
    pub loop_report: FeedReport,
    /// Whether the case passed.
    pub passed: bool,
    /// Why it failed, if it did.
    pub failures: Vec<String>,
}

/// The example parts of `examples/`, with the stepped-depth part and the air-move part, across
/// the three materials, and one with a worn tool that keeps wearing.
pub fn builtin_cases() -> Vec<FeedCase> {
    let case = |name: &str, program: &str, text: &str, material, wear, setpoint| FeedCase {
        name: name.into(),
        program: format!("examples/{program}"),
        text: text.into(),
        material,
        initial_wear_mm: wear,
        setpoint,
    };
    let teach = || Setpoint::Teach(Default::default());
    vec![
        case(
            "bracket, steel",
            "bracket_c45.nc",
            include_str!("../../../../examples/bracket_c45.nc"),
            Material::SteelC45,
            0.0,
            teach(),
        ),
        case(
            "cover, aluminium",
            "cover_al6061.nc",
            include_str!("../../../../examples/cover_al6061.nc"),
            Material::Aluminium6061,
            0.0,
            teach(),
        ),
        case(
            "lug, titanium",
            "lug_ti64.nc",
            include_str!("../../../../examples/lug_ti64.nc"),
            Material::Ti6Al4V,
            0.0,
            teach(),
        ),
        case(
            "stepped depth, steel",
            "steps_c45.nc",
            include_str!("../../../../examples/steps_c45.nc"),
            Material::SteelC45,
            0.0,
            Setpoint::Fixed(80.0),
        ),
        case(
            "air moves, aluminium",
            "pockets_al6061.nc",
            include_str!("../../../../examples/pockets_al6061.nc"),
            Material::Aluminium6061,
            0.0,
            teach(),
        ),
        case(
            "lug, titanium, worn tool",
            "lug_ti64.nc",
            include_str!("../../../../examples/lug_ti64.nc"),
            Material::Ti6Al4V,
            0.2,
            teach(),
        ),
    ]
}

impl CaseOutcome {
    /// The outcome of `case` from its runs at constant feed and with the loop (same seed, so the
    /// same noise draws) and what the loop reported: the verdict and the reasons for a failure.
    pub fn judge(
        case: &FeedCase,
        constant: RunFigures,
        adaptive: RunFigures,
        report: FeedReport,
    ) -> Self {
        let reduction = 100.0 * (1.0 - adaptive.cycle_time_s / constant.cycle_time_s);
        let mut failures = Vec::new();
        if adaptive.cycle_time_s >= constant.cycle_time_s {
            failures.push(format!(
                "cycle time {:.1} s not below constant feed's {:.1} s",
                adaptive.cycle_time_s, constant.cycle_time_s
            ));
        }
        if adaptive.overload_events > 0 {
            failures.push(format!(
                "{} spindle overload event(s) with the loop on",
                adaptive.overload_events
            ));
        }
        if report.rms_error_pct > RMS_BOUND_PCT {
            failures.push(format!(
                "RMS tracking error {:.1} % of setpoint above the {RMS_BOUND_PCT} % bound",
                report.rms_error_pct
            ));
        }
        Self {
            name: case.name.clone(),
            program: case.program.clone(),
            material: case.material.to_string(),
            initial_wear_mm: case.initial_wear_mm,
            constant_feed: constant,
            adaptive,
            cycle_time_reduction_pct: reduction,
            loop_report: report,
            passed: failures.is_empty(),
            failures,
        }
    }
}

/// Records a validation: the programs' versions, the loop's parameters as validated (`params`,
/// actuation delay `actuation_delay_ms`), and one `validation_report` with the outcomes citing
/// them. Returns the report's citation.
pub fn record_validation(
    store: &mut dyn Store,
    (params, actuation_delay_ms): (&FeedParams, f64),
    cases: &[FeedCase],
    outcomes: &[CaseOutcome],
    t_ns: i64,
) -> Result<Citation, StoreError> {
    let mut cites = Vec::new();
    for case in cases {
        cites.push(record_program(
            store,
            &case.program,
            &case.text,
            "feed loop validation",
            t_ns,
        )?);
    }
    let mut feed_loop = FeedLoop::new(FeedRunOptions {
        actuation_delay_ms,
        ..FeedRunOptions::new(*params, Setpoint::Teach(Default::default()))
    })
    .expect("validated parameters ran the cases");
    let program = cites[0].clone();
    cites.push(feed_loop.record_parameters(store, t_ns, "validation", "validation", program)?);
    cites.sort_by_key(|c| c.leaf_index);
    cites.dedup_by_key(|c| c.leaf_index);
    append_report(store, t_ns, outcomes, cites)
}

/// Appends the `validation_report` record.
fn append_report(
    store: &mut dyn Store,
    t_ns: i64,
    outcomes: &[CaseOutcome],
    cites: Vec<Citation>,
) -> Result<Citation, StoreError> {
    let passed = outcomes.iter().all(|o| o.passed);
    let figures = outcomes
        .iter()
        .map(|o| {
            let figures = serde_json::json!({
                "cycle_time_constant_s": o.constant_feed.cycle_time_s,
                "cycle_time_adaptive_s": o.adaptive.cycle_time_s,
                "cycle_time_reduction_pct": o.cycle_time_reduction_pct,
                "overloads_constant": o.constant_feed.overload_events,
                "overloads_adaptive": o.adaptive.overload_events,
                "rms_error_pct_of_setpoint": if o.loop_report.rms_error_pct.is_finite() {
                    serde_json::json!(o.loop_report.rms_error_pct)
                } else {
                    serde_json::Value::Null
                },
                "passed": o.passed,
            });
            (o.name.clone(), figures)
        })
        .collect();
    let summary = format!(
        "{} of {} cases passed: with the loop every part must be faster than at constant feed, \
         have no spindle overload, and track its setpoint within {RMS_BOUND_PCT} % RMS",
        outcomes.iter().filter(|o| o.passed).count(),
        outcomes.len()
    );
    let mut cites = cites;
    cites.sort_by_key(|c| c.leaf_index);
    let record = Record::new(
        t_ns,
        Evidence::ValidationReport(ValidationReport {
            loop_name: LOOP_NAME.into(),
            test: "constant feed vs adaptive feed on the example parts".into(),
            passed,
            figures,
            summary,
        }),
        cites,
    );
    append_one(store, &record)
}
