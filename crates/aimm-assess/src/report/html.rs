//! The report as one self-contained HTML page for a buyer: the level at the top, the loops
//! missing, each loop's criteria as a table (pass, FAIL or not measured, with why and the
//! ledger leaves each rests on, index and hash), then the plots as inline SVG drawn here. No
//! script, no external URL: the page prints to PDF and reads offline. Every SVG series carries
//! its exact numbers (`data-series`, `data-points`) so a check can compare the drawing with
//! `report.json`.

use super::{Cite, Plot, PlotKind, Report, Series};
use crate::assessment::Judged;
use crate::bundle_evidence::EvidenceSource;
use std::fmt::Write;

/// Plot area size in SVG user units.
const W: f64 = 760.0;
const H: f64 = 300.0;
/// Margins around the plot area: left (tick labels), right, top, bottom (tick and axis labels).
const ML: f64 = 70.0;
const MR: f64 = 16.0;
const MT: f64 = 12.0;
const MB: f64 = 44.0;
/// Series colours, in order (colour-blind safe, Okabe–Ito).
const COLOURS: [&str; 6] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
];

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
.level{font-size:1.6em;margin:.3em 0}.level strong{font-size:1.4em}
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.3em .4em;vertical-align:top;text-align:left}
th{background:#f0f0f0}
tr.pass td.result{background:#d9f2d9;font-weight:bold}
tr.fail td.result{background:#f8d0d0;font-weight:bold;color:#900}
tr.unmeasured td.result{background:#eee;color:#555}
.cite{display:inline-block;font-family:monospace;font-size:.75em;margin-right:1.5em;word-break:break-all}
tr.evidence td{border-top:none;background:#fafafa}
.muted{color:#666}code{font-size:.9em}
figure{margin:1em 0;page-break-inside:avoid}figcaption{font-size:.85em;color:#444}
.legend span{margin-right:1.2em;font-size:.85em}.legend i{display:inline-block;width:1em;height:.6em;margin-right:.3em}
svg{max-width:100%;height:auto}
svg text{font-family:system-ui,sans-serif;font-size:11px}
";

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The report as an HTML page.
pub fn render(r: &Report) -> String {
    let a = &r.assessment;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>AIMM assessment report</title><style>{CSS}</style></head><body>\n\
         <h1>AIMM assessment report</h1>\n<p class=\"level\">Level reached: <strong>L{}</strong></p>\n\
         <p class=\"muted\">Judged by {} on {} ledger records; written by {} ({}).</p>\n",
        a.level,
        esc(&a.catalog),
        r.source.ledger_size,
        esc(&r.generated_by),
        esc(&r.format)
    );
    h.push_str("<h2>Result</h2>\n");
    if a.missing.is_empty() {
        h.push_str("<p>Every closed loop of L3 reaches L3.</p>\n");
    } else {
        let _ = writeln!(
            h,
            "<p>Closed loops below L3 (missing): <strong>{}</strong>.</p>",
            a.missing
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    h.push_str("<table><tr><th>loop</th><th>level</th><th>passed</th><th>FAIL</th><th>not measured</th></tr>\n");
    for l in &a.loops {
        let count = |p: Option<bool>| l.criteria.iter().filter(|j| j.passed == p).count();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>L{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            l.loop_kind.name(),
            l.level,
            count(Some(true)),
            count(Some(false)),
            count(None)
        );
    }
    h.push_str("</table>\n<p class=\"muted\">A criterion not measured does not pass: a level is claimed only on what was measured.</p>\n");

    h.push_str("<h2>Evidence assessed</h2>\n<table>\n");
    let s = &r.source;
    let (kind, location, signature) = match &s.evidence {
        EvidenceSource::Store { location, .. } => (
            "store",
            location.clone(),
            "read from the store directly (its operator is trusted)".to_string(),
        ),
        EvidenceSource::Bundle { path, key, .. } if s.evidence.integrity_only() => (
            "evidence bundle",
            path.display().to_string(),
            format!("INTEGRITY ONLY: verified with the bundle's own key {key}, not who signed it"),
        ),
        EvidenceSource::Bundle { path, key, .. } => (
            "evidence bundle",
            path.display().to_string(),
            format!("verified with the key the assessor pinned: {key}"),
        ),
    };
    let rows = [
        ("source", kind.to_string()),
        ("location", location),
        ("ledger records", s.ledger_size.to_string()),
        ("ledger root (SHA-256)", s.ledger_root.clone()),
        ("ledger signature", signature),
        ("machines", a.machines.describe()),
    ];
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><th>{k}</th><td><code>{}</code></td></tr>", esc(&v));
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Criteria by loop</h2>\n");
    for l in &a.loops {
        let _ = writeln!(h, "<h3>{} loop: L{}</h3>", esc(l.loop_kind.name()), l.level);
        criteria_table(&mut h, r, &l.criteria);
    }
    h.push_str("<h2>Cell-wide criteria</h2>\n");
    criteria_table(&mut h, r, &a.cell);

    h.push_str("<h2>Plots</h2>\n");
    for p in &r.plots {
        plot(&mut h, p);
    }

    h.push_str(
        "<h2>How to verify this report</h2>\n<p>Every leaf cited above is a record of the \
         assessed ledger: its index and its RFC 6962 leaf hash. With the ledger's bundle and the \
         assessor's verifier key, <code>aimm verify-report DIR --key ASSESSOR.vkey --bundle \
         BUNDLE</code> checks the assessor's signature over every report file, that the bundle's \
         signed checkpoint has the size and root above, and that assessing the bundle again gives \
         this assessment.</p>\n</body></html>\n",
    );
    h
}

fn cite_html(c: &Cite) -> String {
    format!(
        "<span class=\"cite\" data-leaf=\"{}\" data-hash=\"{}\">#{} {}</span>",
        c.leaf_index, c.leaf_hash, c.leaf_index, c.leaf_hash
    )
}

fn criteria_table(h: &mut String, r: &Report, criteria: &[Judged]) {
    if criteria.is_empty() {
        h.push_str("<p>No criterion.</p>\n");
        return;
    }
    h.push_str(
        "<table><tr><th>criterion</th><th>asks</th><th>result</th><th>measured</th>\
         <th>threshold</th><th>why</th></tr>\n",
    );
    for j in criteria {
        let (class, result) = match j.passed {
            Some(true) => ("pass", "pass"),
            Some(false) => ("fail", "FAIL"),
            None => ("unmeasured", "not measured"),
        };
        let mut why = esc(&j.reason);
        for (leaf, what) in j.failures.iter().take(3) {
            let _ = write!(why, "<br>leaf {leaf}: {}", esc(what));
        }
        if j.failures.len() > 3 {
            let _ = write!(why, "<br>… {} more in report.json", j.failures.len() - 3);
        }
        let cites: String = r
            .cites
            .get(&j.id)
            .map(|cs| cs.iter().map(cite_html).collect())
            .unwrap_or_default();
        // The evidence gets a row of its own: full leaf hashes need the table's width.
        let _ = writeln!(
            h,
            "<tr class=\"{class}\" data-criterion=\"{}\"><td>{} (L{})</td><td>{}</td>\
             <td class=\"result\">{result}</td><td>{}</td><td>{}</td><td>{why}</td></tr>\
             <tr class=\"evidence\"><td colspan=\"6\">machines: {}<br>evidence (leaf, hash): {}</td></tr>",
            esc(&j.id),
            esc(&j.id),
            j.level,
            esc(&j.text),
            j.measured.map_or("-".into(), |v| format!("{v:.3}")),
            esc(&j.threshold.to_string()),
            esc(&j.provenance.describe()),
            if cites.is_empty() {
                "<span class=\"muted\">none</span>".to_string()
            } else {
                cites
            }
        );
    }
    h.push_str("</table>\n");
}

fn plot(h: &mut String, p: &Plot) {
    let _ = writeln!(
        h,
        "<figure data-plot=\"{}\"><h3>{}</h3>",
        esc(&p.id),
        esc(&p.title)
    );
    match p.kind {
        PlotKind::Graph if !p.nodes.is_empty() => graph_svg(h, p),
        PlotKind::Lines | PlotKind::Histogram if !p.series.is_empty() => xy_svg(h, p),
        _ => h.push_str("<p class=\"muted\">Nothing to plot.</p>\n"),
    }
    if !p.series.is_empty() {
        h.push_str("<div class=\"legend\">");
        for (k, s) in p.series.iter().enumerate() {
            let _ = write!(
                h,
                "<span><i style=\"background:{}\"></i>{}</span>",
                COLOURS[k % COLOURS.len()],
                esc(&s.name)
            );
        }
        h.push_str("</div>\n");
    }
    let _ = write!(h, "<figcaption>{}", esc(&p.note));
    if !p.cites.is_empty() {
        h.push_str("<br>Data from leaves: ");
        for c in &p.cites {
            h.push_str(&cite_html(c));
        }
    }
    h.push_str("</figcaption></figure>\n");
}

/// Step of about a fifth of `span`: 1, 2 or 5 times a power of ten.
fn nice_step(span: f64) -> f64 {
    let raw = (span / 5.0).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    mag * if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    }
}

/// The finite (min, max) of `values`, widened when empty of span.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

/// Tick label: at most 4 significant digits, no trailing zeros.
fn tick(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).clamp(0.0, 6.0) as usize;
    format!("{v:.decimals$}")
}

/// `x,y x,y …`, each number as Rust prints it (the shortest text that reads back exactly).
fn points_attr(s: &Series) -> String {
    s.x.iter()
        .zip(&s.y)
        .map(|(x, y)| format!("{x},{y}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn xy_svg(h: &mut String, p: &Plot) {
    let histogram = p.kind == PlotKind::Histogram;
    let (x0, x1) = range(p.series.iter().flat_map(|s| s.x.iter().copied()));
    let (mut y0, mut y1) = range(p.series.iter().flat_map(|s| s.y.iter().copied()));
    if histogram {
        y0 = 0.0;
        y1 = y1.max(1.0);
    } else {
        // A little room, so a line along its extreme is not hidden by the frame.
        let pad = (y1 - y0) * 0.05;
        (y0, y1) = (y0 - pad, y1 + pad);
    }
    // Bars are as wide as the spacing of their centres.
    let bar = if histogram {
        p.series
            .iter()
            .filter(|s| s.x.len() > 1)
            .map(|s| (s.x[1] - s.x[0]).abs())
            .fold(f64::INFINITY, f64::min)
    } else {
        0.0
    };
    let bar = if bar.is_finite() { bar } else { 1.0 };
    let (x0, x1) = if histogram {
        (x0 - bar / 2.0, x1 + bar / 2.0)
    } else {
        (x0, x1)
    };
    let px = |x: f64| ML + (x - x0) / (x1 - x0) * (W - ML - MR);
    let py = |y: f64| MT + (y1 - y) / (y1 - y0) * (H - MT - MB);
    let _ = writeln!(
        h,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\">"
    );
    let _ = writeln!(
        h,
        "<rect x=\"{ML}\" y=\"{MT}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        W - ML - MR,
        H - MT - MB
    );
    for (lo, hi, horizontal) in [(x0, x1, true), (y0, y1, false)] {
        let step = nice_step(hi - lo);
        let mut v = (lo / step).ceil() * step;
        while v <= hi + step * 1e-9 {
            // Rounding leaves -0.0000001 where 0 is meant; it would read "-0.0".
            let label = tick(if v.abs() < step * 1e-6 { 0.0 } else { v }, step);
            if horizontal {
                let x = px(v);
                let _ = writeln!(
                    h,
                    "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>\
                     <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
                    H - MB,
                    H - MB + 4.0,
                    H - MB + 16.0
                );
            } else {
                let y = py(v);
                let _ = writeln!(
                    h,
                    "<line x1=\"{ML}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
                     <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
                    W - MR,
                    ML - 4.0,
                    y + 4.0
                );
            }
            v += step;
        }
    }
    let _ = writeln!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(14,{:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        (ML + W - MR) / 2.0,
        H - 6.0,
        esc(&p.x_label),
        (MT + H - MB) / 2.0,
        esc(&p.y_label)
    );
    let n = p.series.len() as f64;
    for (k, s) in p.series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let data = format!(
            "data-series=\"{}\" data-points=\"{}\"",
            esc(&s.name),
            points_attr(s)
        );
        if histogram {
            let _ = writeln!(h, "<g {data} fill=\"{colour}\">");
            // Series side by side within a bin.
            let w = (px(x0 + bar) - px(x0)) / n;
            for (x, y) in s.x.iter().zip(&s.y) {
                let left = px(x - bar / 2.0) + w * k as f64;
                let _ = writeln!(
                    h,
                    "<rect x=\"{left:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\"/>",
                    py(*y),
                    (w - 1.0).max(0.5),
                    py(y0) - py(*y)
                );
            }
            h.push_str("</g>\n");
        } else {
            let pts: Vec<String> =
                s.x.iter()
                    .zip(&s.y)
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .map(|(x, y)| format!("{:.2},{:.2}", px(*x), py(*y)))
                    .collect();
            let _ = writeln!(
                h,
                "<polyline {data} points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.3\"/>",
                pts.join(" ")
            );
            if s.x.len() <= 100 {
                for p in &pts {
                    let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                    let _ = write!(
                        h,
                        "<circle cx=\"{x}\" cy=\"{y}\" r=\"2\" fill=\"{colour}\"/>"
                    );
                }
                h.push('\n');
            }
        }
    }
    h.push_str("</svg>\n");
}

/// Node box size and the gaps between columns (one per layer) and rows.
const NODE_W: f64 = 170.0;
const NODE_H: f64 = 34.0;
const COL_GAP: f64 = 60.0;
const ROW_GAP: f64 = 8.0;

fn graph_svg(h: &mut String, p: &Plot) {
    let lo = p.nodes.iter().map(|n| n.layer).min().unwrap_or(0);
    let hi = p.nodes.iter().map(|n| n.layer).max().unwrap_or(0);
    let mut rows = vec![0usize; (hi - lo + 1) as usize];
    let mut at = std::collections::BTreeMap::new();
    for n in &p.nodes {
        let col = (n.layer - lo) as usize;
        let x = 10.0 + col as f64 * (NODE_W + COL_GAP);
        let y = 10.0 + rows[col] as f64 * (NODE_H + ROW_GAP);
        rows[col] += 1;
        at.insert(n.leaf_index, (x, y));
    }
    let width = 20.0 + rows.len() as f64 * (NODE_W + COL_GAP) - COL_GAP;
    let height = 20.0 + *rows.iter().max().unwrap_or(&1) as f64 * (NODE_H + ROW_GAP);
    let nodes_attr: Vec<String> = p.nodes.iter().map(|n| n.leaf_index.to_string()).collect();
    let edges_attr: Vec<String> = p
        .edges
        .iter()
        .map(|e| format!("{}>{}", e.from, e.to))
        .collect();
    let _ = writeln!(
        h,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" data-nodes=\"{}\" data-edges=\"{}\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" \
         markerHeight=\"6\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#777\"/></marker></defs>",
        nodes_attr.join(" "),
        edges_attr.join(" ")
    );
    for e in &p.edges {
        if let (Some(&(fx, fy)), Some(&(tx, ty))) = (at.get(&e.from), at.get(&e.to)) {
            // From the citing record's left edge to the cited one's right edge.
            let _ = writeln!(
                h,
                "<line x1=\"{fx:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#999\" \
                 marker-end=\"url(#arrow)\"/>",
                fy + NODE_H / 2.0,
                tx + NODE_W,
                ty + NODE_H / 2.0
            );
        }
    }
    for n in &p.nodes {
        let (x, y) = at[&n.leaf_index];
        let fill = match n.layer {
            0 => "#fde3c8",
            l if l > 0 => "#d9f2d9",
            _ => "#e6eef8",
        };
        let _ = writeln!(
            h,
            "<g data-leaf=\"{}\" data-hash=\"{}\" data-kind=\"{}\"><title>leaf {} {}</title>\
             <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"4\" fill=\"{fill}\" stroke=\"#777\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">#{} {}</text><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            n.leaf_index,
            n.leaf_hash,
            esc(&n.kind),
            n.leaf_index,
            n.leaf_hash,
            x + 4.0,
            y + 14.0,
            n.leaf_index,
            esc(&n.kind),
            x + 4.0,
            y + 28.0,
            esc(&n.label)
        );
    }
    h.push_str("</svg>\n");
}
