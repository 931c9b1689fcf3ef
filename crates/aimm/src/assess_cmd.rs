//! `aimm assess`: the AIMM levels L1–L5, how aimm judges them (the criteria catalog), and an
//! assessment of a cell's evidence by them: a live store, or an exported bundle verified offline
//! first; and the import of a non-aimm controller's recordings as a bundle to assess.

use crate::keys_cmd::load_or_create_signer;
use crate::mqtt_args::MqttAuthArgs;
use crate::output::{print_json, table};
use crate::part::open_store;
use aimm_assess::assessment::{assess, Assessment, Judged};
use aimm_assess::bundle_evidence::{self, EvidenceSource};
use aimm_assess::catalog::{Catalog, Criterion, MEASURES};
use aimm_assess::import::{import, ImportSummary, Recording};
use aimm_assess::live::{run_live, Stimulus, DROPOUT_AT_S, DROPOUT_S};
use aimm_assess::live_sparkplug::{run_live_sparkplug, ConnectedStimuli};
use aimm_assess::measure::LedgerView;
use aimm_assess::signals::{Blobs, DirBlobs, Signals, StoreBlobs};
use aimm_connect::signal_csv::parse_signal_csv;
use aimm_connect::sparkplug::HostConfig;
use aimm_ledger::keys::read_verifier;
use aimm_ledger::read_signer;
use aimm_loops::feed::FeedParams;
use aimm_store::{redact_url, Store};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The AIMM levels L1–L5: judge a cell's evidence by the criteria catalog.
///
/// Judges the evidence of a live store (`--db`) or of an exported bundle (`--bundle`, verified
/// offline first: a bundle that fails any check, or is signed by another key than `--key`, is
/// refused) by the catalog: each criterion's measurement, computed from the ledger's records,
/// the citations between them and the sensor samples they attest, against its threshold; the
/// level each loop and the cell reach, and the loops missing. A criterion this aimm cannot
/// measure yet is listed as not measured and does not pass. Without `--key` a bundle is checked
/// with its own key, which proves it intact but not who signed it, and the output says so.
/// Exit 0 whenever the assessment ran, whatever level it found.
///
/// Examples:
///   aimm demo && aimm assess --db aimm.db
///   aimm assess --db aimm.db --json | jq .level
///   aimm assess --bundle aimm-bundle --key plant.vkey     # offline, signer pinned
///   aimm assess --bundle aimm-bundle                      # integrity only
///   aimm assess --db aimm.db --live                       # apply the stimuli, then judge
///   aimm assess --db plant.db --live --mqtt mqtt://127.0.0.1:1883 --group plant \
///       --command-key assessor-host.key                   # ... on machines over Sparkplug
///   aimm assess --bundle aimm-bundle --key plant.vkey --report report --sign assessor.key --pdf
///   aimm verify-report report --key assessor.vkey --bundle aimm-bundle --bundle-key plant.vkey
///   aimm assess import --shdr okuma.shdr --devices Devices.xml --out okuma-bundle \
///       --key importer.key && aimm assess --bundle okuma-bundle --key importer.vkey
///   aimm assess catalog --level 3
#[derive(clap::Args)]
#[command(
    verbatim_doc_comment,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct AssessArgs {
    #[command(subcommand)]
    command: Option<AssessCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Subcommand)]
pub enum AssessCommand {
    /// The criteria catalog: per level L1–L5, what each criterion asks, the evidence it needs,
    /// the measurement that judges it with its threshold, and whether the draft standard
    /// published it or aimm interprets it.
    #[command(after_help = "Examples:\n  aimm assess catalog --level 3\n  \
aimm assess catalog --measures              # what aimm measures, with units\n  \
aimm assess catalog --file my-criteria.toml  # check a replacement catalog")]
    Catalog(CatalogArgs),
    Import(ImportArgs),
    /// The same as `aimm assess --db …` (the earlier form).
    #[command(hide = true)]
    Run(RunArgs),
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("evidence").required(true).args(["db", "bundle"])))]
pub struct RunArgs {
    /// Store to judge: a SQLite file, or a PostgreSQL URL
    /// (postgres://user:password@host:5432/database).
    #[arg(long)]
    db: Option<String>,
    /// Bundle folder (`aimm export`, `aimm assess import`) to verify and judge offline.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// The verifier key (file or text) the bundle must be signed with, e.g. the plant's .vkey;
    /// without it the bundle's own key is used, which proves integrity only.
    #[arg(long, requires = "bundle")]
    key: Option<String>,
    /// Apply the conformance stimuli first, on a simulated machine (live-1) recorded into --db:
    /// a load step, a stale load signal, a worn tool and an energy event, each judged from the
    /// signals it recorded and kept as a validation_report; then judge the store. With --mqtt,
    /// on the machines of a Sparkplug group instead.
    #[arg(long, requires = "db")]
    live: bool,
    #[command(flatten)]
    connected: Box<LiveMqttArgs>,
    /// Seed of the stimuli's simulated runs (with --live).
    #[arg(long, default_value_t = 1, requires = "live")]
    seed: u64,
    /// A catalog file to judge by instead of the built-in one.
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    report: crate::report_cmd::ReportArgs,
}

/// `--live` on machines connected over Sparkplug B.
#[derive(clap::Args)]
pub struct LiveMqttArgs {
    /// Broker (mqtt://HOST:PORT or mqtts://HOST:PORT) of the machines to apply the stimuli to:
    /// the assessor becomes the Sparkplug host of --group, closes the feed loop across the
    /// broker on each device, judges the load steps of the part the machine runs (run one with
    /// a step in engagement, e.g. examples/steps_c45.nc), withholds the load from the loop for
    /// --blind-s (stale signal) once, at least --blind-at-s after the first reading, the
    /// machine's override is below the loop's fallback, and stops when the edge nodes die (or
    /// after --duration-s). A worn tool cannot be applied over the bus and is reported as not
    /// applied. The samples are stored in --db as `aimm connect mqtt` stores them.
    #[arg(long, requires = "live")]
    mqtt: Option<String>,
    #[command(flatten)]
    auth: MqttAuthArgs,
    /// Sparkplug group id of the machines.
    #[arg(long, default_value = "aimm", requires = "mqtt")]
    group: String,
    /// Private ed25519 key that signs the loop's commands (edge nodes check its name).
    #[arg(long, env = "AIMM_COMMAND_KEY", requires = "mqtt")]
    command_key: Option<PathBuf>,
    /// The feed loop's spindle-load setpoint, %.
    #[arg(long, default_value_t = 80.0, requires = "mqtt")]
    feed_setpoint: f64,
    /// Earliest time the load is withheld from the loop, s after a device's first reading.
    #[arg(long, default_value_t = DROPOUT_AT_S, requires = "mqtt")]
    blind_at_s: f64,
    /// For how long, s.
    #[arg(long, default_value_t = DROPOUT_S, requires = "mqtt")]
    blind_s: f64,
    /// Stop after this many seconds even if edge nodes are still alive.
    #[arg(long, requires = "mqtt")]
    duration_s: Option<f64>,
}

impl LiveMqttArgs {
    /// Runs the stimuli on the group's machines into `store`.
    fn run(&self, url: &str, store: &mut dyn Store, catalog: &Catalog) -> Result<Vec<Stimulus>> {
        for (flag, v) in [
            ("--blind-at-s", self.blind_at_s),
            ("--blind-s", self.blind_s),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                bail!("{flag} {v}: must be a positive number of seconds");
            }
        }
        let mut config = HostConfig::new(url, &self.group);
        config.auth = self.auth.auth()?;
        config.command_key = match &self.command_key {
            Some(file) => Some(
                read_signer(file).with_context(|| format!("--command-key {}", file.display()))?,
            ),
            None => {
                tracing::warn!("no --command-key: the loop's commands go unsigned, and edge nodes refuse them unless started with --insecure-commands");
                None
            }
        };
        config.exit_on_death = true;
        config.duration = self.duration_s.map(std::time::Duration::from_secs_f64);
        let stimuli = ConnectedStimuli {
            setpoint_pct: self.feed_setpoint,
            blind_at_s: self.blind_at_s,
            blind_s: self.blind_s,
        };
        let stop = AtomicBool::new(false);
        let (report, stimuli) = run_live_sparkplug(
            store,
            config,
            &FeedParams::default(),
            &stimuli,
            catalog.feed_latency_budget_ms(),
            &stop,
        )?;
        tracing::info!(
            samples = report.samples_stored,
            devices = report.device_births,
            "live stimuli over Sparkplug applied"
        );
        Ok(stimuli)
    }
}

/// Import a non-aimm controller's recording as an evidence bundle to assess.
///
/// The samples become sensor segments (one `sensor_segment` record per sealed segment, the
/// blobs in the bundle's segments/), and the importer's key signs a checkpoint over them.
/// Nothing else is recorded: override changes are samples of the override signal, not
/// decisions, and a recording's program names carry no program text to version, so no
/// decision, program or model record is made up. The assessment then says what the plant
/// shows: data recorded, and no closed loop.
///
/// --shdr reads an MTConnect SHDR adapter recording through aimm's MTConnect ingest (the data
/// items of --devices mapped onto aimm signals by type, subType and units, as `aimm serve` and
/// `aimm replay --db` map them).
///
/// --csv reads samples in long format, a header row first, columns in any order:
///   t_utc (RFC 3339 UTC) or t_ns (UTC ns since 1970)   the sample's time
///   machine                                             machine id
///   signal    an aimm signal: spindle_load_pct, spindle_power_kw, spindle_speed_rpm,
///             cutting_force_n, feed_programmed_mm_per_min, feed_actual_mm_per_min,
///             feed_override_pct, feed_override_commanded_pct, position_{x,y,z}_mm,
///             tool_number, tool_radius_wear_offset_mm, machine_state, machine_power_kw,
///             machine_energy_kwh
///   value     a finite number in the signal's aimm unit (%, kW, rev/min, N, mm/min, mm, kWh)
///   unit      optional; if present it must be the signal's aimm unit
/// Time must increase strictly within each machine's signal. An unknown column or signal, a
/// wrong unit, a NaN or a time going backwards is an error naming the file, line and column.
/// `aimm data export` writes this format.
///
/// Examples:
///   aimm assess import --shdr okuma.shdr --devices Devices.xml --device OKUMA \
///       --out okuma-bundle --key importer.key
///   aimm assess import --csv mill1.csv --csv mill2.csv --out plant-bundle --key importer.key
///   aimm assess --bundle okuma-bundle --key importer.vkey
#[derive(clap::Args)]
#[command(
    verbatim_doc_comment,
    group(clap::ArgGroup::new("recording").required(true).args(["shdr", "csv"]))
)]
pub struct ImportArgs {
    /// SHDR adapter recording (`timestamp|key|value|…` lines).
    #[arg(long, requires = "devices")]
    shdr: Option<PathBuf>,
    /// MTConnect device file whose data items the SHDR keys name (with --shdr).
    #[arg(long, requires = "shdr")]
    devices: Option<PathBuf>,
    /// Device of --devices the recording belongs to (default: the file's first).
    #[arg(long, requires = "shdr")]
    device: Option<String>,
    /// CSV file(s) of samples (repeatable, or several after one --csv).
    #[arg(long, num_args = 1..)]
    csv: Vec<PathBuf>,
    /// Folder to write the bundle into (must not exist or be empty).
    #[arg(long)]
    out: PathBuf,
    /// The importer's signing key (created if missing, with its .vkey beside it).
    #[arg(long)]
    key: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct CatalogArgs {
    /// A catalog file to use instead of the built-in one (same fields; it is checked: every
    /// measurement known, thresholds in its unit, every level and L3 loop covered).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Only the criteria of this level (1–5).
    #[arg(long)]
    level: Option<u8>,
    /// List the measurements a catalog may name, with their units, instead.
    #[arg(long)]
    measures: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: AssessArgs) -> Result<()> {
    match args.command {
        Some(AssessCommand::Catalog(args)) => catalog(args),
        Some(AssessCommand::Import(args)) => import_recording(args),
        Some(AssessCommand::Run(args)) => run_assessment(args),
        None => run_assessment(args.run),
    }
}

/// The evidence judged: its ledger, where it came from, and where its segment blobs are.
struct Evidence {
    view: LedgerView,
    source: EvidenceSource,
    blobs: Box<dyn Blobs>,
}

/// A store's segment blobs, the store owned so the evidence can outlive the opening.
struct OwnedStoreBlobs(Box<dyn Store>);

impl Blobs for OwnedStoreBlobs {
    fn blob(&self, sha256: &aimm_ledger::merkle::Hash) -> Result<Option<Vec<u8>>, String> {
        StoreBlobs(&*self.0).blob(sha256)
    }
}

impl Evidence {
    /// The store at `location`, which must exist.
    fn store(location: &str) -> Result<Self> {
        // Opening a SQLite path creates the file: an assessment of a store that is not there
        // would judge an empty one instead of saying so.
        if !location.starts_with("postgres") && !Path::new(location).exists() {
            bail!("{location}: no such store (aimm assess judges an existing store, e.g. one `aimm demo` made)");
        }
        let store = open_store(location)?;
        let entries = store.ledger_entries(0, store.ledger_size()?)?;
        let source = EvidenceSource::Store {
            location: redact_url(location),
            records: entries.len() as u64,
        };
        Ok(Evidence {
            view: LedgerView::new(entries),
            source,
            blobs: Box::new(OwnedStoreBlobs(store)),
        })
    }

    /// The bundle in `dir`, verified (with `key` when given) before anything in it is read.
    fn bundle(dir: &Path, key: Option<&str>) -> Result<Self> {
        let trusted = key.map(read_verifier).transpose().context("--key")?;
        let loaded = bundle_evidence::load(dir, trusted.as_ref())?;
        Ok(Evidence {
            view: loaded.view,
            source: loaded.source,
            blobs: Box::new(DirBlobs::of_bundle(dir)),
        })
    }
}

/// The assessment as printed with --json: what was judged, then the judgement.
#[derive(Serialize)]
struct Judgement<'a> {
    source: &'a EvidenceSource,
    /// The stimuli applied first (with --live).
    #[serde(skip_serializing_if = "<[Stimulus]>::is_empty")]
    live: &'a [Stimulus],
    #[serde(flatten)]
    assessment: &'a Assessment,
}

fn run_assessment(args: RunArgs) -> Result<()> {
    let catalog = match &args.catalog {
        Some(path) => Catalog::load(path)?,
        None => Catalog::builtin(),
    };
    let stimuli = match (&args.db, args.live) {
        (Some(db), true) => {
            let mut store = open_store(db)?;
            let stimuli = match &args.connected.mqtt {
                Some(url) => args.connected.run(url, &mut *store, &catalog)?,
                None => run_live(&mut *store, &catalog, &FeedParams::default(), args.seed)?,
            };
            if !args.json {
                for s in &stimuli {
                    println!(
                        "live {}: {} — {}{}",
                        s.test,
                        match (s.leaf_index, s.passed) {
                            (None, _) => "not applied",
                            (Some(_), true) => "pass",
                            (Some(_), false) => "FAIL",
                        },
                        s.summary,
                        s.leaf_index
                            .map_or(String::new(), |i| format!(" (ledger leaf {i})"))
                    );
                }
            }
            stimuli
        }
        _ => Vec::new(),
    };
    let evidence = match (&args.db, &args.bundle) {
        (Some(db), _) => Evidence::store(db)?,
        (None, Some(dir)) => Evidence::bundle(dir, args.key.as_deref())?,
        (None, None) => bail!("give --db STORE or --bundle DIR"),
    };
    let signals = Signals::new(&evidence.view, &*evidence.blobs);
    let assessment = assess(&catalog, &evidence.view, Some(&signals));
    let (view, source) = (&evidence.view, &evidence.source);
    crate::report_cmd::write_report(&args.report, &assessment, view, Some(&signals), source)?;
    if args.json {
        print_json(&Judgement {
            source: &evidence.source,
            live: &stimuli,
            assessment: &assessment,
        })?;
    } else {
        print_assessment(&evidence.source, &assessment);
    }
    Ok(())
}

/// One line naming what was judged; for a bundle checked with its own key, plainly that only
/// its integrity is proven.
fn source_line(source: &EvidenceSource) -> String {
    match source {
        EvidenceSource::Store { location, .. } => format!("store {location}"),
        EvidenceSource::Bundle { path, key, .. } if source.integrity_only() => format!(
            "bundle {} (INTEGRITY ONLY: verified with its own key {key}, which proves it intact, \
             not who signed it; give --key with the signer's .vkey to prove that)",
            path.display()
        ),
        EvidenceSource::Bundle { path, key, .. } => format!(
            "bundle {} (verified, signed by the trusted key {key})",
            path.display()
        ),
    }
}

fn print_assessment(source: &EvidenceSource, assessment: &Assessment) {
    println!(
        "{}: {} ledger records judged by {}: level L{}{}",
        source_line(source),
        source.records(),
        assessment.catalog,
        assessment.level,
        if assessment.missing.is_empty() {
            String::new()
        } else {
            format!(
                "; loops below L3: {}",
                assessment
                    .missing
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    println!("machines: {}", assessment.machines.describe());
    let mut t = table(&[
        "criterion",
        "loop",
        "result",
        "measured",
        "threshold",
        "why",
    ]);
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(160);
    let rows = assessment.cell.iter().map(|j| ("-", j)).chain(
        assessment
            .loops
            .iter()
            .flat_map(|l| l.criteria.iter().map(move |j| (l.loop_kind.name(), j))),
    );
    let mut rows: Vec<(&str, &Judged)> = rows.collect();
    rows.sort_by(|a, b| (a.1.level, &a.1.id).cmp(&(b.1.level, &b.1.id)));
    for (lp, j) in rows {
        let result = match j.passed {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "not measured",
        };
        let mut why = j.reason.clone();
        if let Some((leaf, first)) = j.failures.first() {
            why.push_str(&format!("; e.g. leaf {leaf}: {first}"));
        }
        t.add_row(vec![
            j.id.clone(),
            lp.to_string(),
            result.to_string(),
            j.measured.map_or("-".into(), |v| format!("{v:.1}")),
            j.threshold.to_string(),
            why,
        ]);
    }
    println!("{t}");
}

fn import_recording(args: ImportArgs) -> Result<()> {
    let read = |path: &Path, what: &str| {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {what} {}", path.display()))
    };
    // Every input is read and checked before a key is made or a bundle written.
    let shdr = match (&args.shdr, &args.devices) {
        (Some(shdr), Some(devices)) => Some((
            shdr.display().to_string(),
            read(shdr, "SHDR recording")?,
            devices.display().to_string(),
            read(devices, "device file")?,
        )),
        _ => None,
    };
    let csv_names = args
        .csv
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut series = Vec::new();
    for path in &args.csv {
        let name = path.display().to_string();
        series.extend(parse_signal_csv(&name, &read(path, "CSV")?)?);
    }
    let recording = match &shdr {
        Some((source, text, file, xml)) => Recording::Shdr {
            source,
            text,
            devices: (file, xml),
            device: args.device.as_deref(),
        },
        None => Recording::Series {
            source: &csv_names,
            series,
        },
    };
    let signer = load_or_create_signer(&args.key)?;
    let summary = import(recording, &signer, &args.out)
        .with_context(|| format!("cannot import into {}", args.out.display()))?;
    if args.json {
        return print_json(&summary);
    }
    print_import(&args, &summary);
    Ok(())
}

fn print_import(args: &ImportArgs, summary: &ImportSummary) {
    if let Some(shdr) = &summary.shdr {
        println!(
            "{} SHDR lines read, {} applied, {} rejected (logged)",
            shdr.lines, shdr.records, shdr.rejected
        );
    }
    println!(
        "imported {} samples in {} segments ({} ledger records) of {} into bundle {}, signed by {}",
        summary.samples,
        summary.segments,
        summary.records,
        summary.signals.join(", "),
        args.out.display(),
        summary.key
    );
    println!(
        "assess it with `aimm assess --bundle {} --key {}`",
        args.out.display(),
        args.key.with_extension("vkey").display()
    );
}

fn catalog(args: CatalogArgs) -> Result<()> {
    if args.measures {
        if args.json {
            return print_json(&MEASURES);
        }
        let mut t = table(&["measure", "unit", "what"]);
        for m in MEASURES {
            t.add_row(vec![m.id, m.unit, m.what]);
        }
        println!("{t}");
        return Ok(());
    }
    let catalog = match &args.file {
        Some(path) => Catalog::load(path)?,
        None => Catalog::builtin(),
    };
    if let Some(level) = args.level.filter(|l| !(1..=5).contains(l)) {
        bail!("--level {level}: the levels are 1–5");
    }
    let criteria: Vec<&Criterion> = catalog
        .criteria
        .iter()
        .filter(|c| args.level.is_none_or(|l| c.level == l))
        .collect();
    if args.json {
        return print_json(&serde_json::json!({
            "catalog": catalog.catalog,
            "version": catalog.version,
            "standard": catalog.standard,
            "criteria": criteria,
        }));
    }
    println!(
        "{} {} ({}): {} criteria",
        catalog.catalog,
        catalog.version,
        catalog.standard,
        criteria.len()
    );
    let mut t = table(&["id", "loop", "measure", "threshold", "source", "criterion"]);
    // The criterion's text wraps rather than running off the screen.
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(160);
    for c in criteria {
        t.add_row(vec![
            c.id.clone(),
            c.loop_kind.map_or("-", |k| k.name()).to_string(),
            c.measure.clone(),
            c.threshold.to_string(),
            format!("{:?}", c.source).to_lowercase(),
            c.text.clone(),
        ]);
    }
    println!("{t}");
    Ok(())
}
