//! The assessment report as an assessor makes it and a buyer checks it: the demo's store
//! assessed with `--report --sign --pdf`, every plot drawn with exactly the JSON's numbers,
//! every criterion citing leaf hashes of the ledger, `aimm verify-report` passing and then
//! failing on any edited file or another key, and the page rendered by headless Chromium (a
//! screenshot, every plot with data laid out and drawn, and the PDF's text holding the page's
//! headings). One demo serves every check:
//! it takes most of the test's time. Chromium and pdftotext must be installed
//! (scripts/services/chromium.sh); without them the test fails.

mod common;

use aimm_ledger::merkle::leaf_hash;
use common::{aimm_in as aimm, json_of};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fails(out: &Output, expect: &str) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "passed, expected a failure: {all}");
    assert!(all.contains(expect), "expected {expect:?} in: {all}");
}

/// A tool the test needs, run; a missing one fails the test saying how to install it.
fn tool(name: &str, args: &[&str]) -> Output {
    let out = Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name}: {e}: install it with scripts/services/chromium.sh (Debian packages chromium, poppler-utils)")
    });
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The (leaf, hash) citations in `html` between `from` and the next criterion row or table end.
fn cites_in(html: &str, from: usize) -> Vec<(u64, String)> {
    let rest = &html[from + 1..];
    let end = [rest.find("data-criterion="), rest.find("</table>")]
        .into_iter()
        .flatten()
        .min()
        .unwrap();
    let row = &rest[..end];
    row.match_indices("data-leaf=\"")
        .map(|(at, m)| {
            let attrs = &row[at + m.len()..];
            let leaf = attrs[..attrs.find('"').unwrap()].parse().unwrap();
            let h = attrs.find("data-hash=\"").unwrap() + "data-hash=\"".len();
            (leaf, attrs[h..h + 64].to_string())
        })
        .collect()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_f64().unwrap())
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn a_signed_report_of_the_demo_matches_its_ledger_renders_and_fails_on_any_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    json_of(&aimm(dir, &["demo", "--parts", "1", "--json"]));
    json_of(&aimm(dir, &["keys", "new", "--name", "assessor", "--json"]));
    json_of(&aimm(dir, &["keys", "new", "--name", "intruder", "--json"]));
    let mut printed = json_of(&aimm(
        dir,
        &[
            "assess",
            "--db",
            "aimm.db",
            "--json",
            "--report",
            "report",
            "--sign",
            "assessor.key",
            "--pdf",
        ],
    ));
    let rep = dir.join("report");
    let report: Value =
        serde_json::from_slice(&std::fs::read(rep.join("report.json")).unwrap()).unwrap();
    // The report holds what `aimm assess --json` printed: the source, then the assessment.
    let source = printed.as_object_mut().unwrap().remove("source").unwrap();
    assert_eq!(report["source"]["evidence"], source);
    assert_eq!(report["assessment"], printed);
    // The bundle the demo exported, assessed offline without a pinned key, is the same ledger,
    // and its report says it proves integrity only.
    json_of(&aimm(
        dir,
        &[
            "assess",
            "--bundle",
            "aimm-bundle",
            "--json",
            "--report",
            "report-bundle",
        ],
    ));
    let of_bundle: Value =
        serde_json::from_slice(&std::fs::read(dir.join("report-bundle/report.json")).unwrap())
            .unwrap();
    assert_eq!(
        of_bundle["source"]["ledger_root"],
        report["source"]["ledger_root"]
    );
    assert_eq!(of_bundle["source"]["evidence"]["integrity_only"], true);
    assert_eq!(of_bundle["assessment"], report["assessment"]);
    let bundle_html = std::fs::read_to_string(dir.join("report-bundle/report.html")).unwrap();
    assert!(bundle_html.contains("INTEGRITY ONLY"));

    // The ledger, from the bundle the demo exported: leaf hash by index.
    let records = std::fs::read(dir.join("aimm-bundle/records")).unwrap();
    let leaves: Vec<String> = records
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let space = l.iter().position(|&b| b == b' ').unwrap();
            hex::encode(leaf_hash(&l[space + 1..]))
        })
        .collect();
    assert_eq!(report["source"]["ledger_size"], leaves.len() as u64);

    let html = std::fs::read_to_string(rep.join("report.html")).unwrap();
    // Every plot's series is drawn with exactly the JSON's numbers.
    let plots = report["plots"].as_array().unwrap();
    let mut drawn = 0;
    for plot in plots {
        for s in plot["series"].as_array().unwrap() {
            let attr = format!(
                "data-series=\"{}\" data-points=\"",
                escape(s["name"].as_str().unwrap())
            );
            let at = html
                .find(&attr)
                .unwrap_or_else(|| panic!("{attr} not in report.html"))
                + attr.len();
            let points: Vec<(f64, f64)> = html[at..at + html[at..].find('"').unwrap()]
                .split(' ')
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            let want: Vec<(f64, f64)> =
                numbers(&s["x"]).into_iter().zip(numbers(&s["y"])).collect();
            assert!(!want.is_empty(), "{} has no data", s["name"]);
            assert_eq!(points, want, "{}", s["name"]);
            drawn += 1;
        }
    }
    let plot = |id: &str| plots.iter().find(|p| p["id"] == id).unwrap();
    // The demo's evidence holds a feed loop, the wear loop and the scheduled cell: the energy
    // plot draws the cell's summed power under the cap the schedule kept.
    assert_eq!(plot("load-step")["series"].as_array().unwrap().len(), 2);
    assert!(plot("wear")["series"].as_array().unwrap().len() >= 3);
    let energy = plot("energy")["series"].as_array().unwrap();
    let named = |prefix: &str| {
        energy
            .iter()
            .find(|s| s["name"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} series in {energy:?}"))
    };
    let cap = named("plant power cap")["y"][0].as_f64().unwrap();
    let cell = numbers(&named("cell power")["y"]);
    assert!(!cell.is_empty());
    assert!(cell.iter().all(|&kw| kw <= cap), "{cell:?} above {cap}");
    assert!(drawn >= 6, "{drawn} series drawn");
    // The lineage graph: its nodes are ledger leaves with their hashes, drawn as in the JSON.
    let lineage = plot("lineage");
    let nodes = lineage["nodes"].as_array().unwrap();
    assert!(nodes.len() > 3);
    for n in nodes {
        let leaf = n["leaf_index"].as_u64().unwrap() as usize;
        assert_eq!(n["leaf_hash"], leaves[leaf]);
        assert!(html.contains(&format!(
            "data-leaf=\"{leaf}\" data-hash=\"{}\"",
            leaves[leaf]
        )));
    }
    let node_list: Vec<String> = nodes.iter().map(|n| n["leaf_index"].to_string()).collect();
    assert!(html.contains(&format!("data-nodes=\"{}\"", node_list.join(" "))));

    // Every criterion row cites its evidence by leaf and hash, as the JSON does, and every hash
    // is the ledger's.
    let mut rows = 0;
    for (id, cites) in report["cites"].as_object().unwrap() {
        let at = html
            .find(&format!("data-criterion=\"{id}\""))
            .unwrap_or_else(|| panic!("no row for {id}"));
        let in_html = cites_in(&html, at);
        let in_json: Vec<(u64, String)> = cites
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["leaf_index"].as_u64().unwrap(),
                    c["leaf_hash"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(in_html, in_json, "{id}");
        for (leaf, hash) in &in_html {
            assert_eq!(hash, &leaves[*leaf as usize], "{id} cites leaf {leaf}");
        }
        rows += 1;
    }
    let criteria: Vec<&Value> = printed["cell"]
        .as_array()
        .unwrap()
        .iter()
        .chain(
            printed["loops"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|l| l["criteria"].as_array().unwrap()),
        )
        .collect();
    assert_eq!(rows, criteria.len());
    for c in &criteria {
        let cited = &report["cites"][c["id"].as_str().unwrap()];
        for leaf in c["evidence"].as_array().unwrap() {
            assert!(
                cited
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["leaf_index"] == *leaf),
                "{} evidence leaf {leaf} not cited",
                c["id"]
            );
        }
    }

    // The signature holds, against the bundle too (the same assessment when run again).
    let ok = aimm(
        dir,
        &[
            "verify-report",
            "report",
            "--key",
            "assessor.vkey",
            "--bundle",
            "aimm-bundle",
            "--bundle-key",
            "aimm-ledger.vkey",
        ],
    );
    assert!(
        ok.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let checks = json_of(&aimm(
        dir,
        &[
            "verify-report",
            "report",
            "--key",
            "assessor.vkey",
            "--bundle",
            "aimm-bundle",
            "--json",
        ],
    ));
    for name in [
        "report.json",
        "report.html",
        "report.pdf",
        "bundle checkpoint",
        "reassessment",
    ] {
        assert!(
            checks["checks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == name && c["passed"] == true),
            "{name}: {checks}"
        );
    }
    // Another key, and any edited file, fail, naming what failed; with --json too.
    fails(
        &aimm(dir, &["verify-report", "report", "--key", "intruder.vkey"]),
        "report.sig",
    );
    for file in ["report.json", "report.html"] {
        let path = rep.join(file);
        let original = std::fs::read(&path).unwrap();
        let mut edited = original.clone();
        let mid = edited.len() / 2;
        edited[mid] ^= 0x01;
        std::fs::write(&path, &edited).unwrap();
        fails(
            &aimm(dir, &["verify-report", "report", "--key", "assessor.vkey"]),
            &format!("{file}: edited after signing"),
        );
        fails(
            &aimm(
                dir,
                &[
                    "verify-report",
                    "report",
                    "--key",
                    "assessor.vkey",
                    "--json",
                ],
            ),
            file,
        );
        std::fs::write(&path, &original).unwrap();
    }
    json_of(&aimm(
        dir,
        &[
            "verify-report",
            "report",
            "--key",
            "assessor.vkey",
            "--json",
        ],
    ));

    // The page renders in headless Chromium.
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let png: PathBuf = artifacts.join("report.png");
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().unwrap();
    tool(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            &format!("--user-data-dir={}", profile.path().display()),
            "--window-size=1200,4000",
            &format!("--screenshot={}", png.display()),
            &format!("file://{}", rep.join("report.html").display()),
        ],
    );
    let image = std::fs::read(&png).unwrap();
    assert!(image.len() > 10_000, "{} bytes", image.len());
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");
    // Every plot with data is laid out with a size and drawn marks: a copy of the page with a
    // script that measures each figure's SVG once rendered writes its findings into the DOM
    // Chromium dumps.
    let probe = rep.join("probe.html");
    std::fs::write(
        &probe,
        html.replace(
            "</body>",
            "<script>window.addEventListener('load', () => { const r = [...document.\
             querySelectorAll('figure[data-plot]')].map(f => { const s = f.querySelector('svg'); \
             const b = s ? s.getBoundingClientRect() : {width: 0, height: 0}; return f.dataset.\
             plot + ':' + Math.round(b.width) + 'x' + Math.round(b.height) + ':' + (s ? s.\
             querySelectorAll('path,polyline,rect,circle,line').length : 0); }); const p = \
             document.createElement('pre'); p.id = 'probe'; p.textContent = r.join(' '); \
             document.body.appendChild(p); });</script></body>",
        ),
    )
    .unwrap();
    let dom = tool(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            &format!("--user-data-dir={}", profile.path().display()),
            "--virtual-time-budget=5000",
            "--dump-dom",
            &format!("file://{}", probe.display()),
        ],
    );
    std::fs::remove_file(&probe).unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let found = &dom[dom.find("<pre id=\"probe\">").expect("the probe ran") + 16..];
    let rendered: Vec<&str> = found[..found.find("</pre>").unwrap()].split(' ').collect();
    assert_eq!(rendered.len(), plots.len(), "{rendered:?}");
    for (plot, seen) in plots.iter().zip(&rendered) {
        let has_data = !plot["series"].as_array().unwrap().is_empty()
            || !plot["nodes"].as_array().unwrap().is_empty();
        let mut parts = seen.split(':');
        assert_eq!(parts.next(), plot["id"].as_str());
        let (size, marks) = (parts.next().unwrap(), parts.next().unwrap());
        let (w, h) = size.split_once('x').unwrap();
        let (w, h, marks): (u32, u32, u32) = (
            w.parse().unwrap(),
            h.parse().unwrap(),
            marks.parse().unwrap(),
        );
        if has_data {
            assert!(w > 100 && h > 50 && marks > 0, "{seen}: not drawn");
        }
    }
    // The PDF holds the page: every section heading is in its text.
    let text = tool(
        "pdftotext",
        &[rep.join("report.pdf").to_str().unwrap(), "-"],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    let headings: Vec<&str> = html
        .match_indices("<h2>")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            &rest[..rest.find("</h2>").unwrap()]
        })
        .collect();
    assert!(headings.len() >= 5, "{headings:?}");
    for h in headings {
        assert!(text.contains(h), "PDF lacks the heading {h:?}");
    }
    std::fs::copy(rep.join("report.pdf"), artifacts.join("report.pdf")).unwrap();

    // Without Chromium in PATH, --pdf says what to install.
    fails(
        &Command::new(env!("CARGO_BIN_EXE_aimm"))
            .current_dir(dir)
            .env("PATH", "")
            .args(["assess", "--db", "aimm.db", "--report", "r2", "--pdf"])
            .output()
            .unwrap(),
        "install Debian's `chromium`",
    );
}
