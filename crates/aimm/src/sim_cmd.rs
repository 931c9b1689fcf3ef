//! `aimm sim`: one program on the simulated mill.

use crate::keys_cmd::load_or_create_signer;
use crate::mqtt_args::MqttAuthArgs;
use crate::output::{print_json, table};
use crate::part::{open_store, parse_material, parse_tool, read_program, ToolKindArg};
use crate::part::{HardnessArgs, RecordArgs};
use aimm_connect::run_unrecorded;
use aimm_connect::simulator::part::{record_part_with, register_program, PartSpec};
use aimm_connect::simulator::RecordOptions;
use aimm_connect::sparkplug::{
    run_sim_edge, CommandTrust, EdgeConfig, EdgeNode, EdgeStats, SimEdgeOptions, SimEdgeReport,
};
use aimm_ledger::read_verifier;
use aimm_model::{MachineId, MachineSpec};
use aimm_sim::gcode::OffsetKind;
use aimm_sim::setup::{prepare, tool_at_start};
use aimm_sim::{PartResult, SimConfig, Simulator};
use aimm_store::evidence::checkpoint_now;
use aimm_store::redact_url;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// Run one NC program on the simulated mill and print the part result.
///
/// The result: cycle time, energy, spindle load, overloads, dimensional error of the reference
/// feature, tool wear. The program is Fanuc-style G-code as CAM post-processors write it. Tools described in its
/// comments (e.g. `(T1 D=10. CR=0. - FLAT END MILL)`) are used as described; any other T number
/// gets the `--tool` default. A program that cuts before any `T… M6` runs with a tool loaded
/// at the start, named in a warning (stderr and the result's warnings): the T number selected
/// by then, else a tool its comments describe without a number (e.g. `(D26)`), else the
/// `--tool` default. A `(STOCK X0 Y0 X100 Y60 Z0)` comment sets the blank; without it
/// the blank is the footprint of the cutting moves below Z0. --skin and --hard-spot make parts
/// of the blank cut harder (a casting skin, inclusions).
///
/// Examples:
///   aimm sim examples/bracket_c45.nc
///   aimm sim examples/cover_al6061.nc --material al-6061 --db aimm.db --json
///   aimm sim part.nc --initial-wear 0.2 --radius-wear-offset -0.035
///   aimm sim examples/casting_skin_gg25.nc --material gg-25 --skin 2:1.4:2.5
///
/// With --mqtt the simulated mill runs in real time as a Sparkplug B edge node on a broker:
/// one device per machine publishing its signals as DDATA, taking feed-override and feed-hold
/// writes by DCMD (e.g. from `aimm connect mqtt --feed-setpoint`). It takes commands only
/// signed by the host whose verifier key --command-key names, each once and fresh; the rest
/// are refused, logged and, with --db, recorded in that store's ledger (`command_refused`):
///   aimm sim examples/steps_c45.nc --mqtt mqtt://127.0.0.1:1883 --group plant --edge cell-1 \
///     --command-key plant-host.vkey --db edge.db
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SimArgs {
    /// NC program file (.nc, .ngc, .tap …).
    program: PathBuf,
    /// Workpiece material: steel-c45, al-6061, ti-6al-4v, ss-316l or gg-25.
    #[arg(long, default_value = "steel-c45")]
    material: String,
    /// Default tool for T numbers the program does not describe: DIAMETERxFLUTES, mm.
    #[arg(long, default_value = "10x4")]
    tool: String,
    /// Geometry of the default tool.
    #[arg(long, value_enum, default_value = "flat")]
    tool_kind: ToolKindArg,
    /// Seed of the sensor noise: the same seed gives bit-identical samples.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    record: RecordArgs,
    /// Machine id to record under.
    #[arg(long, default_value = "mill-1")]
    machine: String,
    /// Feed-rate override for the whole run, % (0–200).
    #[arg(long, default_value_t = 100.0)]
    feed_override: f64,
    /// Flank wear VB the tools start with, mm (0 = new tools).
    #[arg(long, default_value_t = 0.0)]
    initial_wear: f64,
    /// Radius wear offset written into every D register before the run, mm (negative = tool
    /// smaller than nominal).
    #[arg(long, allow_hyphen_values = true)]
    radius_wear_offset: Option<f64>,
    #[command(flatten)]
    hardness: HardnessArgs,
    /// Rate of spindle load, power and force samples, Hz.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Run as a Sparkplug B edge node on this MQTT broker (mqtt://HOST:PORT or mqtts://…)
    /// instead of recording the part: in real time, publishing and taking commands (--db then
    /// holds the commands refused and the feed holds taken).
    #[arg(long)]
    mqtt: Option<String>,
    #[command(flatten)]
    edge: EdgeArgs,
    /// With --db: record in real time (one simulated second per second, starting now on the
    /// wall clock), sealing a segment every 0.25 s, so that the part can be watched live in
    /// `aimm web`.
    #[arg(long, requires = "db")]
    live: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// How the simulator appears as a Sparkplug edge node (with --mqtt).
#[derive(clap::Args)]
pub struct EdgeArgs {
    /// Sparkplug group id.
    #[arg(long, default_value = "aimm")]
    group: String,
    /// Edge node id (the MQTT client id is GROUP:EDGE); the machine is its device.
    #[arg(long, default_value = "sim-edge")]
    edge: String,
    /// Simulated seconds per wall-clock second; 0 runs as fast as it can.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Simulator ticks (2 ms at 500 Hz) per DDATA message.
    #[arg(long, default_value_t = 1)]
    ticks_per_message: u32,
    /// Seconds to wait at the end for a lost broker to take the last data.
    #[arg(long, default_value_t = 30.0)]
    finish_timeout_s: f64,
    #[command(flatten)]
    auth: MqttAuthArgs,
    /// Verifier key (.vkey) of the one host whose signed commands this node takes; the host id
    /// is the key's name.
    #[arg(long, env = "AIMM_COMMAND_KEY")]
    command_key: Option<String>,
    /// Take any command on the node's topics, signed or not: only on a closed network where
    /// everyone who can publish may command the machine.
    #[arg(long, conflicts_with = "command_key")]
    insecure_commands: bool,
    /// Commands sent longer ago than this (or this far ahead: clocks apart) are refused as
    /// expired, ms: a command held up in the network must not act on a machine that has moved
    /// on.
    #[arg(long, default_value_t = 1000)]
    max_command_age_ms: u64,
}

pub fn run(args: SimArgs) -> Result<()> {
    let material = parse_material(&args.material)?;
    let default_tool = parse_tool(&args.tool, args.tool_kind)?;
    if !(0.0..=200.0).contains(&args.feed_override) {
        anyhow::bail!("--feed-override {}: must be 0–200 %", args.feed_override);
    }
    if !(0.0..=1.0).contains(&args.initial_wear) {
        anyhow::bail!("--initial-wear {}: must be 0–1 mm", args.initial_wear);
    }
    let (program, text) = read_program(&args.program)?;
    let mut config = SimConfig::new(MachineSpec::vmc(&args.machine), material, args.seed);
    config.fast_rate_hz = args.rate;
    config.slow_rate_hz = config.slow_rate_hz.min(args.rate);
    config.hardness = args.hardness.hardness();
    if args.live {
        // Watched live: the machine's clock is the wall clock, so a plot's delay is real.
        config.start_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos() as i64;
    }
    let hardness = config.hardness.clone();
    let mut tools = prepare(&program, &default_tool, &mut config).map_err(anyhow::Error::msg)?;
    let start_tool = tool_at_start(&program, &mut tools, &config, &default_tool)?;
    let numbers: Vec<u32> = tools.tools().map(|t| t.number).collect();
    if let Some(offset) = args.radius_wear_offset {
        for &n in &numbers {
            tools.set(n, OffsetKind::RadiusWear, offset);
        }
    }
    let machine = config.machine.clone();
    let mut sim = Simulator::new(&program, tools, config)?;
    for &n in &numbers {
        sim.set_tool_wear_vb_mm(n, args.initial_wear);
    }
    if let Some(start) = &start_tool {
        let mut note = start.note();
        if start.is_default {
            note.push_str("; --tool and --tool-kind set the default tool");
        }
        eprintln!(
            "warning: {}: line {}: {note}",
            args.program.display(),
            start.line
        );
        sim.load_tool_at_start(start.number, start.line, note)?;
    }
    sim.set_feed_override(args.feed_override);

    let lines = text.lines().count() as u64;
    let bar = ProgressBar::new(lines).with_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] line {pos}/{len}")
            .expect("valid template"),
    );
    bar.set_message(format!("simulating {}", args.program.display()));
    let mut show = |sim: &Simulator<'_>| bar.set_position(sim.line() as u64);

    if let Some(url) = &args.mqtt {
        let result = run_edge(
            &mut sim,
            url,
            &args.edge,
            &args.record,
            &machine.id,
            &mut show,
        );
        bar.finish_and_clear();
        let (result, edge_report, stats) = result?;
        if args.json {
            let mut value = serde_json::to_value(&result)?;
            value["sparkplug"] = serde_json::json!({ "device": edge_report, "edge": stats });
            return print_json(&value);
        }
        print_result(&result);
        println!(
            "published as {}/{}/{}: {} births, {} DDATA, {} updates acknowledged, {} commands applied, {} connection losses",
            args.edge.group,
            args.edge.edge,
            machine.id,
            stats.births,
            stats.data_messages,
            stats.updates_acknowledged,
            edge_report.override_commands + edge_report.hold_commands,
            stats.connection_losses
        );
        return Ok(());
    }
    let (result, stored) = match &args.record.db {
        Some(path) => {
            let signer = load_or_create_signer(&args.record.key)?;
            let mut store = open_store(path)?;
            let name = args.program.display().to_string();
            let t_start = sim.time_ns();
            let (stored, _) = register_program(
                &mut *store,
                &machine,
                (&name, &text),
                "run with aimm sim",
                t_start,
            )?;
            let part = PartSpec {
                machine: &machine,
                program: stored.id,
                material,
                seed: args.seed,
                params_json: serde_json::json!({
                    "feed_override_pct": args.feed_override,
                    "initial_wear_mm": args.initial_wear,
                    "radius_wear_offset_mm": args.radius_wear_offset,
                    "rate_hz": args.rate,
                    "stock_hardness": hardness,
                }),
            };
            let options = if args.live {
                RecordOptions {
                    segment_window_s: 0.25,
                    pace: Some(1.0),
                }
            } else {
                RecordOptions::default()
            };
            let recorded = record_part_with(&mut sim, &mut *store, &part, options, &mut show)?;
            checkpoint_now(&mut *store, &signer)?;
            (
                recorded.result,
                Some((recorded.run, recorded.segments.len())),
            )
        }
        None => (run_unrecorded(&mut sim, &mut show)?, None),
    };
    bar.finish_and_clear();
    if args.json {
        let mut value = serde_json::to_value(&result)?;
        if let Some((run, segments)) = stored {
            value["run"] = serde_json::json!(run.0);
            value["segments"] = serde_json::json!(segments);
        }
        return print_json(&value);
    }
    print_result(&result);
    if let (Some((run, segments)), Some(location)) = (stored, &args.record.db) {
        println!(
            "stored as run {run} in {} ({segments} segments)",
            redact_url(location)
        );
    }
    Ok(())
}

/// Prints a part result as a two-column table.
pub fn print_result(r: &PartResult) {
    let mut t = table(&["part result", ""]);
    t.add_row(vec!["program".into(), r.program.clone()]);
    t.add_row(vec![
        "machine / material".into(),
        format!("{} / {}", r.machine, r.material),
    ]);
    t.add_row(vec![
        "cycle time".into(),
        format!("{:.1} s", r.cycle_time_s),
    ]);
    t.add_row(vec![
        "cutting time".into(),
        format!("{:.1} s", r.cutting_time_s),
    ]);
    t.add_row(vec!["energy".into(), format!("{:.4} kWh", r.energy_kwh)]);
    t.add_row(vec![
        "max spindle load".into(),
        format!("{:.1} %", r.max_spindle_load_pct),
    ]);
    t.add_row(vec![
        "overload events".into(),
        r.overload_events.to_string(),
    ]);
    t.add_row(vec![
        "material removed".into(),
        format!("{:.2} cm³", r.removed_cm3),
    ]);
    let feature = match &r.reference_feature {
        Some(f) => format!(
            "{:+.4} mm mean, {:.4} mm max over {:.0} mm of wall: {} (±{} mm)",
            f.mean_error_mm,
            f.max_abs_error_mm,
            f.length_mm,
            if f.in_tolerance {
                "in tolerance"
            } else {
                "OUT OF TOLERANCE"
            },
            f.tolerance_mm
        ),
        None => "none (no side-cutting moves)".into(),
    };
    t.add_row(vec!["reference feature".into(), feature]);
    for w in &r.tools {
        t.add_row(vec![
            format!("T{} wear", w.tool),
            format!(
                "VB {:.4} mm after {:.1} s cutting",
                w.vb_mm, w.cutting_time_s
            ),
        ]);
    }
    t.add_row(vec!["samples".into(), r.samples.to_string()]);
    println!("{t}");
    if !r.warnings.is_empty() {
        println!("{} warning(s), run continued:", r.warnings.len());
        for w in &r.warnings {
            println!("  {w}");
        }
    }
}

/// Runs the simulator as device `machine` of a Sparkplug edge node on `url`; the node's
/// ledger records go to `record`'s store, if any.
fn run_edge(
    sim: &mut Simulator<'_>,
    url: &str,
    args: &EdgeArgs,
    record: &RecordArgs,
    machine: &MachineId,
    progress: &mut dyn FnMut(&Simulator<'_>),
) -> Result<(PartResult, SimEdgeReport, EdgeStats)> {
    if !(args.speed >= 0.0 && args.speed.is_finite()) || args.ticks_per_message == 0 {
        anyhow::bail!("--speed must be ≥ 0 and --ticks-per-message ≥ 1");
    }
    let trust = match (&args.command_key, args.insecure_commands) {
        (Some(key), _) => CommandTrust::Host(Box::new(
            read_verifier(key).with_context(|| format!("--command-key {key}"))?,
        )),
        (None, true) => CommandTrust::Insecure,
        (None, false) => anyhow::bail!(
            "an edge node needs --command-key HOST.vkey, the verifier key of the host whose \
             commands it takes (or --insecure-commands on a network where anyone who can \
             publish may command the machine)"
        ),
    };
    // Opened first: a store that cannot be written must not show up only after the part.
    let ledger = match &record.db {
        Some(path) => Some((open_store(path)?, load_or_create_signer(&record.key)?)),
        None => {
            tracing::warn!("no --db: refused commands are logged, not recorded in a ledger");
            None
        }
    };
    let mut config = EdgeConfig::new(url, &args.group, &args.edge, vec![machine.clone()], trust);
    config.auth = args.auth.auth()?;
    config.simulated = true;
    config.max_command_age_ms = args.max_command_age_ms;
    config.finish_timeout = std::time::Duration::from_secs_f64(args.finish_timeout_s.max(0.0));
    let edge = EdgeNode::start(config)?;
    let options = SimEdgeOptions {
        speed: args.speed,
        ticks_per_message: args.ticks_per_message,
        ..SimEdgeOptions::default()
    };
    let outcome = run_sim_edge(sim, &edge, options, progress);
    let (stats, evidence) = edge.finish()?;
    if let Some((mut store, signer)) = ledger {
        if !evidence.is_empty() {
            store.append_records(&evidence)?;
        }
        checkpoint_now(&mut *store, &signer)?;
    }
    let (result, report) = outcome?;
    if stats.updates_unsent > 0 {
        anyhow::bail!(
            "broker {url}: {} samples and events never acknowledged",
            stats.updates_unsent
        );
    }
    Ok((result, report, stats))
}
