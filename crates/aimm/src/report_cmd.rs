//! The assessment report on the command line: `aimm assess --db STORE | --bundle DIR … --report DIR [--sign KEY]
//! [--pdf]` writes it (the report itself is built in `aimm_assess::report`; the PDF is printed
//! by headless Chromium), and `aimm verify-report DIR --key ASSESSOR.vkey [--bundle BUNDLE]`
//! checks the assessor's signature, every file, and against the bundle that the report assessed
//! exactly that ledger and that assessing it again gives the same assessment.

use crate::output::{print_json, table};
use aimm_assess::assessment::{assess, Assessment};
use aimm_assess::bundle_evidence::{self, EvidenceSource};
use aimm_assess::catalog::Catalog;
use aimm_assess::measure::LedgerView;
use aimm_assess::report::sign::{self, Verification, FILES, SIG_FILE};
use aimm_assess::report::{html, Report, Source};
use aimm_assess::signals::{DirBlobs, Signals};
use aimm_ledger::{read_signer, read_verifier, Checkpoint};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The report options of `aimm assess`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Also write the assessment report into DIR (created if missing; report files already
    /// there are replaced): report.json (the assessment, what was assessed, the leaf hash of
    /// every leaf a criterion rests on, and the plot data) and report.html (self-contained:
    /// no script, no external link; prints to PDF).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Sign the report with the assessor's private key (`aimm keys new --name assessor`):
    /// writes DIR/report.sig, a signed note listing the SHA-256 of every report file and the
    /// assessed ledger's size and root. Check it with `aimm verify-report`.
    #[arg(long, value_name = "KEY", requires = "report")]
    pub sign: Option<PathBuf>,
    /// Also print report.html to DIR/report.pdf with headless Chromium (Debian package
    /// `chromium`, found in PATH).
    #[arg(long, requires = "report")]
    pub pdf: bool,
}

/// Writes the report of `assessment` (made on `view` and its `signals`, from `source`) as
/// `args` ask; nothing without `--report`.
pub fn write_report(
    args: &ReportArgs,
    assessment: &Assessment,
    view: &LedgerView,
    signals: Option<&Signals>,
    source: &EvidenceSource,
) -> Result<()> {
    let Some(dir) = &args.report else {
        return Ok(());
    };
    // Read the key first: a wrong path should fail before anything is written.
    let signer = args
        .sign
        .as_deref()
        .map(|p| read_signer(p).with_context(|| format!("--sign {}", p.display())))
        .transpose()?;
    std::fs::create_dir_all(dir).with_context(|| format!("--report {}", dir.display()))?;
    // Files of an earlier report in DIR would be listed (or refused) by the signature as if
    // they were this report's.
    for name in FILES.iter().chain([&SIG_FILE]) {
        let path = dir.join(name);
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("removing the earlier {}", path.display()))?;
        }
    }
    let source = Source::new(source.clone(), view);
    let report = Report::new(assessment.clone(), view, signals, source);
    let json_path = dir.join(FILES[0]);
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", json_path.display()))?;
    let html_path = dir.join(FILES[1]);
    std::fs::write(&html_path, html::render(&report))
        .with_context(|| format!("writing {}", html_path.display()))?;
    if args.pdf {
        print_pdf(&html_path, &dir.join(FILES[2]))?;
    }
    if let Some(signer) = signer {
        sign::sign(
            dir,
            report.source.ledger_size,
            &report.source.ledger_root,
            &signer,
        )?;
    }
    eprintln!(
        "report written to {} (report.json, report.html{}{})",
        dir.display(),
        if args.pdf { ", report.pdf" } else { "" },
        if args.sign.is_some() {
            ", report.sig"
        } else {
            ""
        }
    );
    Ok(())
}

/// The `chromium` executable in PATH.
fn chromium() -> Result<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
        .context(
            "--pdf needs headless Chromium, and no `chromium` is in PATH: install Debian's \
             `chromium` package (apt-get install chromium, or scripts/services/chromium.sh)",
        )
}

/// Prints `html` to `pdf` with headless Chromium.
fn print_pdf(html: &Path, pdf: &Path) -> Result<()> {
    let exe = chromium()?;
    let html = std::path::absolute(html)?;
    let pdf = std::path::absolute(pdf)?;
    // A profile of its own, so a running browser or another print does not interfere.
    let profile = tempfile::tempdir().context("a temporary Chromium profile")?;
    let out = Command::new(&exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    let size = std::fs::metadata(&pdf).map(|m| m.len()).unwrap_or(0);
    if !out.status.success() || size == 0 {
        bail!(
            "{} could not print {} to {} ({}): {}",
            exe.display(),
            html.display(),
            pdf.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// `aimm verify-report`.
#[derive(clap::Args)]
pub struct VerifyReportArgs {
    /// The report directory (report.json, report.html, report.sig, and report.pdf if printed).
    dir: PathBuf,
    /// The assessor's verifier key (file or text) the report must be signed by.
    #[arg(long)]
    key: String,
    /// The evidence bundle the report assessed: it must verify, its signed checkpoint must have
    /// the report's ledger size and root, and assessing it again must give the report's
    /// assessment exactly.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// The ledger's verifier key (file or text) the bundle must be signed by; without it the
    /// bundle's own key is used, which proves its integrity but not who signed it.
    #[arg(long, requires = "bundle")]
    bundle_key: Option<String>,
    /// The catalog file the report was judged by (default: the built-in one).
    #[arg(long, requires = "bundle")]
    catalog: Option<PathBuf>,
    /// Print JSON (the exit status still says whether it verified).
    #[arg(long)]
    json: bool,
}

pub fn verify_report(args: VerifyReportArgs) -> Result<()> {
    let key = read_verifier(&args.key).context("--key")?;
    let mut v = sign::verify(&args.dir, &key);
    if let (Some(bundle), Some(manifest)) = (&args.bundle, v.manifest.clone()) {
        check_bundle(
            &mut v,
            &args,
            bundle,
            manifest.ledger_size,
            &manifest.ledger_root,
        )?;
    }
    if args.json {
        print_json(&v)?;
    } else {
        let mut t = table(&["check", "result", "detail"]);
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(160);
        for c in &v.checks {
            t.add_row(vec![
                c.name.clone(),
                if c.passed { "pass" } else { "FAIL" }.to_string(),
                c.detail.clone(),
            ]);
        }
        println!("{t}");
    }
    if let Some(first) = &v.first_failure {
        bail!("report {} FAILED verification: {first}", args.dir.display());
    }
    if !args.json {
        println!(
            "report {} verified: signed by {}{}",
            args.dir.display(),
            key.name(),
            if args.bundle.is_some() {
                ", assessing the bundle again gives the same assessment"
            } else {
                " (add --bundle to check it against the evidence)"
            }
        );
    }
    Ok(())
}

/// The bundle checks of `aimm verify-report`, added to `v`.
fn check_bundle(
    v: &mut Verification,
    args: &VerifyReportArgs,
    bundle: &Path,
    size: u64,
    root: &str,
) -> Result<()> {
    let bundle_key = args
        .bundle_key
        .as_deref()
        .map(read_verifier)
        .transpose()
        .context("--bundle-key")?;
    // Verified before anything in it is read; refused with its first failure.
    let loaded = match bundle_evidence::load(bundle, bundle_key.as_ref()) {
        Ok(loaded) => loaded,
        Err(e) => {
            v.push("bundle", Err(e.to_string()));
            return Ok(());
        }
    };
    v.push(
        "bundle",
        Ok(format!(
            "{} verified ({} records) with {}",
            bundle.display(),
            loaded.report.records,
            if loaded.source.integrity_only() {
                "its own key: integrity only, pass --bundle-key to prove who signed"
            } else {
                "the pinned ledger key"
            }
        )),
    );
    let checkpoint = bundle_checkpoint(bundle)?;
    v.push(
        "bundle checkpoint",
        if checkpoint.size == size && hex::encode(checkpoint.root) == root {
            Ok(format!("size {size} root {root}, as the report signed"))
        } else {
            Err(format!(
                "the bundle's checkpoint is size {} root {}, the report assessed size {size} root {root}",
                checkpoint.size,
                hex::encode(checkpoint.root)
            ))
        },
    );
    let catalog = match &args.catalog {
        Some(path) => Catalog::load(path)?,
        None => Catalog::builtin(),
    };
    let view = &loaded.view;
    let blobs = DirBlobs::of_bundle(bundle);
    let again = serde_json::to_value(assess(&catalog, view, Some(&Signals::new(view, &blobs))))?;
    let json_path = args.dir.join(FILES[0]);
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&json_path).with_context(|| json_path.display().to_string())?,
    )
    .with_context(|| json_path.display().to_string())?;
    v.push(
        "reassessment",
        if again == report["assessment"] {
            Ok(format!(
                "assessing {} again by {} gives the report's assessment (L{})",
                bundle.display(),
                again["catalog"].as_str().unwrap_or_default(),
                again["level"]
            ))
        } else {
            Err(format!(
                "assessing {} again gives another assessment: {}",
                bundle.display(),
                first_difference(&report["assessment"], &again)
            ))
        },
    );
    Ok(())
}

/// Where two assessments (as JSON) first differ, for a reader.
fn first_difference(reported: &serde_json::Value, again: &serde_json::Value) -> String {
    if reported["catalog"] != again["catalog"] {
        return format!(
            "the report was judged by {}, this run by {} (pass --catalog)",
            reported["catalog"], again["catalog"]
        );
    }
    let criteria = |a: &serde_json::Value| -> Vec<serde_json::Value> {
        let cell = a["cell"].as_array().cloned().unwrap_or_default();
        let loops = a["loops"].as_array().cloned().unwrap_or_default();
        cell.into_iter()
            .chain(
                loops
                    .into_iter()
                    .flat_map(|l| l["criteria"].as_array().cloned().unwrap_or_default()),
            )
            .collect()
    };
    let again_criteria = criteria(again);
    for c in criteria(reported) {
        match again_criteria.iter().find(|d| d["id"] == c["id"]) {
            Some(d) if d != &c => {
                return format!(
                    "criterion {}: the report says {} (measured {}), this run {} (measured {})",
                    c["id"], c["passed"], c["measured"], d["passed"], d["measured"]
                )
            }
            None => return format!("criterion {} is not in this run", c["id"]),
            Some(_) => {}
        }
    }
    format!(
        "level {} / missing {} in the report, level {} / missing {} in this run",
        reported["level"], reported["missing"], again["level"], again["missing"]
    )
}

/// The latest checkpoint of the (verified) bundle at `dir`.
fn bundle_checkpoint(dir: &Path) -> Result<Checkpoint> {
    let path = dir.join("checkpoint");
    let note = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let (text, _) = aimm_ledger::note::split(&note).with_context(|| path.display().to_string())?;
    Checkpoint::parse(text).with_context(|| path.display().to_string())
}
