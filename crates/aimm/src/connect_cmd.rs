//! `aimm connect`: read machines over their open interfaces into the store: MTConnect agents
//! (`crate::mtconnect_cmd`) and Sparkplug B over MQTT, optionally closing the feed loop across the
//! broker.

use crate::keys_cmd::load_or_create_signer;
use crate::mqtt_args::MqttAuthArgs;
use crate::output::{print_json, table};
use crate::part::{open_store, RecordArgs};
use aimm_connect::sparkplug::{run_host, HostConfig, HostReport, RemoteLoops};
use aimm_ledger::read_signer;
use aimm_loops::feed::{FeedLoop, FeedParams, FeedReport, FeedRunOptions, Setpoint};
use aimm_store::evidence::checkpoint_now;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum ConnectCommand {
    Mtconnect(crate::mtconnect_cmd::ConnectMtconnectArgs),
    Mqtt(Box<MqttArgs>),
}

/// Ingest Sparkplug B data from an MQTT broker into the store, as a Sparkplug host.
///
/// Follows every edge node of the group: births (metric names and aliases), data, deaths; asks
/// an edge node to rebirth when data cannot be placed. Samples are sealed into segments every
/// --seal-window-s and each message is acknowledged to the broker only once its samples are
/// committed, so a broker or host restart loses nothing acknowledged (the broker must allow
/// that many unacknowledged messages in flight: mosquitto `max_inflight_messages 0`). Garbage
/// payloads are logged with their topic and skipped.
///
/// With --feed-setpoint the spindle-load adaptive feed loop rides along: each device's load
/// drives its own loop, whose override goes back by DCMD; when data stops (broker gone) the
/// loop falls back to 100 %.
///
/// Commands (the loop's DCMDs, rebirth requests) are signed with --command-key, an ed25519 key
/// whose name is this host's id (`aimm keys new --name plant-host`); edge nodes are given its
/// .vkey and take commands from no one else. Over TLS (mqtts://) the broker's certificate is
/// checked against --mqtt-ca; the password comes from a file or AIMM_MQTT_PASSWORD, never
/// from the command line.
///
/// Examples:
///   aimm connect mqtt mqtt://127.0.0.1:1883 --db plant.db --group plant
///   aimm connect mqtt mqtt://127.0.0.1:1883 --db plant.db --feed-setpoint 70 --exit-on-death \
///     --command-key plant-host.key
///   aimm connect mqtt mqtts://broker.plant:8883 --mqtt-ca plant-ca.pem --mqtt-username aimm \
///     --mqtt-password-file /etc/aimm/mqtt.pass --db plant.db
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct MqttArgs {
    /// Broker URL, mqtt://HOST:PORT or mqtts://HOST:PORT (TLS).
    url: String,
    #[command(flatten)]
    auth: MqttAuthArgs,
    /// Private ed25519 key (`aimm keys new`) that signs this host's commands; its name is the
    /// host id edge nodes check. Without it commands go unsigned, and only edge nodes started
    /// with --insecure-commands take them.
    #[arg(long, env = "AIMM_COMMAND_KEY")]
    command_key: Option<std::path::PathBuf>,
    /// Sparkplug group id to follow.
    #[arg(long, default_value = "aimm")]
    group: String,
    /// MQTT client id: the broker keeps this host's session (and unacknowledged data) under it.
    #[arg(long)]
    client_id: Option<String>,
    #[command(flatten)]
    record: RecordArgs,
    /// Seal (and acknowledge) at least this often, s.
    #[arg(long, default_value_t = 1.0)]
    seal_window_s: f64,
    /// Stop once every edge node seen born has sent its death certificate (and none came back
    /// within 5 s).
    #[arg(long)]
    exit_on_death: bool,
    /// Stop after this many seconds.
    #[arg(long)]
    duration_s: Option<f64>,
    /// Close the adaptive feed loop across the broker at this spindle-load setpoint, %.
    #[arg(long)]
    feed_setpoint: Option<f64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: ConnectCommand) -> Result<()> {
    match cmd {
        ConnectCommand::Mtconnect(args) => crate::mtconnect_cmd::connect(args),
        ConnectCommand::Mqtt(args) => mqtt(*args),
    }
}

fn mqtt(args: MqttArgs) -> Result<()> {
    let path = args
        .record
        .db
        .as_ref()
        .context("--db FILE or postgres://… (or AIMM_DB): where to store the ingested data")?;
    if !(args.seal_window_s > 0.0 && args.seal_window_s.is_finite()) {
        bail!("--seal-window-s {}: must be > 0", args.seal_window_s);
    }
    let mut config = HostConfig::new(&args.url, &args.group);
    config.auth = args.auth.auth()?;
    config.command_key = match &args.command_key {
        Some(file) => {
            Some(read_signer(file).with_context(|| format!("--command-key {}", file.display()))?)
        }
        None => {
            if args.feed_setpoint.is_some() {
                tracing::warn!("no --command-key: the loop's commands go unsigned, and edge nodes refuse them unless started with --insecure-commands");
            }
            None
        }
    };
    if let Some(id) = &args.client_id {
        config.client_id = id.clone();
    }
    config.seal_window = Duration::from_secs_f64(args.seal_window_s);
    config.exit_on_death = args.exit_on_death;
    config.duration = args.duration_s.map(Duration::from_secs_f64);
    let signer = load_or_create_signer(&args.record.key)?;
    let mut store = open_store(path)?;
    let stop = AtomicBool::new(false);
    let (report, loops) = match args.feed_setpoint {
        Some(sp) => {
            let params = FeedParams::default();
            if !(sp > 0.0 && sp < params.alarm_load_pct) {
                bail!(
                    "--feed-setpoint {sp}: must be above 0 and below the alarm load {} %",
                    params.alarm_load_pct
                );
            }
            let mut options = FeedRunOptions::new(params, Setpoint::Fixed(sp));
            // The network is the actuation delay.
            options.actuation_delay_ms = 0.0;
            FeedLoop::new(options.clone())?;
            let silence = Duration::from_secs_f64(params.stale_timeout_ms * 1e-3);
            let mut feed = RemoteLoops::new(silence, move || {
                FeedLoop::new(options.clone()).expect("options checked above")
            });
            let report = run_host(config, &mut *store, &mut feed, &stop)?;
            let reports = feed.loops().map(|(m, l)| (m.to_string(), l.report()));
            (report, reports.collect())
        }
        None => (
            run_host(config, &mut *store, &mut (), &stop)?,
            BTreeMap::new(),
        ),
    };
    checkpoint_now(&mut *store, &signer)?;
    if args.json {
        return print_json(&serde_json::json!({ "ingest": report, "feed_loops": loops }));
    }
    print_report(&report, &loops, path);
    Ok(())
}

fn print_report(r: &HostReport, loops: &BTreeMap<String, FeedReport>, db: &str) {
    let mut t = table(&["sparkplug ingest", ""]);
    t.add_row(vec!["messages".into(), r.messages.to_string()]);
    t.add_row(vec![
        "births / deaths".into(),
        format!(
            "{} node, {} device / {} node",
            r.node_births, r.device_births, r.node_deaths
        ),
    ]);
    t.add_row(vec![
        "stored".into(),
        format!(
            "{} samples in {} segments, {} events → {db}",
            r.samples_stored, r.segments, r.events_stored
        ),
    ]);
    t.add_row(vec![
        "duplicates dropped".into(),
        r.duplicates_dropped.to_string(),
    ]);
    t.add_row(vec![
        "seq gaps / rebirths requested".into(),
        format!("{} / {}", r.seq_gaps, r.rebirths_requested),
    ]);
    t.add_row(vec![
        "connection losses".into(),
        r.connection_losses.to_string(),
    ]);
    t.add_row(vec!["rejected messages".into(), r.rejected.to_string()]);
    for (machine, l) in loops {
        t.add_row(vec![
            format!("feed loop {machine}"),
            format!(
                "override {:.0}–{:.0} %, {} events",
                l.min_override_pct,
                l.max_override_pct,
                l.events.len()
            ),
        ]);
    }
    println!("{t}");
    for rej in &r.rejections {
        println!("rejected {}: {}", rej.topic, rej.error);
    }
}
