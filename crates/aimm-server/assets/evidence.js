// aimm evidence pages: NC program versions and diffs, the schedule Gantt with tariff and cell
// power, the ledger browser with a record's proof and lineage graph, and the assessment. Loaded
// after app.js, whose helpers (api, el, link, utc, num, timePlot) and PAGES map it uses; the
// pages register their kinds into PAGES before DOMContentLoaded dispatches on them. Plots drawn
// as SVG register {data: [...series]} in window.AIMM_PLOTS like the uPlot ones, so tests read
// what is drawn either way.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const q = (k) => new URLSearchParams(location.search).get(k);
const statusOf = (v) => (v.released_by != null ? "released" : v.rejected_by != null ? "rejected" : "not released");

// ---- NC programs ----------------------------------------------------------------------------

async function programsPage() {
  const programs = await api("/api/programs");
  const box = document.getElementById("programs");
  if (!programs.length) box.append(el("p", { class: "note" }, "No nc_program records in the ledger."));
  for (const p of programs) {
    const rows = p.versions.slice().reverse().map((v) => el("tr", { "data-version": v.version },
      el("td", { class: "num" }, "v" + v.version),
      el("td", { class: "num" }, v.parent_version == null ? "–" : "v" + v.parent_version),
      el("td", {}, v.what_changed), el("td", {}, v.why),
      el("td", { class: v.released_by != null ? "ok" : v.rejected_by != null ? "error" : "" }, statusOf(v),
        v.released_by != null ? el("span", {}, " ", link("/ledger/" + v.released_by, "#" + v.released_by)) : "",
        v.rejected_by != null ? el("span", {}, " ", link("/ledger/" + v.rejected_by, "#" + v.rejected_by)) : ""),
      el("td", {}, link("/ledger/" + v.leaf, "#" + v.leaf), " ", el("small", {}, utc(v.t_ns)))));
    box.append(el("section", { class: "program", "data-program": p.name },
      el("h2", {}, link("/programs/" + encodeURIComponent(p.name), p.name), " ",
        el("small", { class: "note" }, `${p.versions.length} versions` + (p.released_to ? `; last released to ${p.released_to}` : ""))),
      el("table", { class: "data" },
        el("thead", {}, el("tr", {}, ...["Version", "Parent", "What changed", "Why", "Status", "Record"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...rows))));
  }
}

async function programPage() {
  const name = window.AIMM.page.name;
  const programs = await api("/api/programs");
  const p = programs.find((x) => x.name === name);
  if (!p) throw new Error(`no NC program '${name}' in the ledger`);
  const tbody = document.querySelector("#versions tbody");
  for (const v of p.versions.slice().reverse()) {
    tbody.append(el("tr", { "data-version": v.version },
      el("td", { class: "num" }, "v" + v.version),
      el("td", { class: "num" }, v.parent_version == null ? "–" : "v" + v.parent_version),
      el("td", {}, v.what_changed), el("td", {}, v.why), el("td", {}, statusOf(v)),
      el("td", {}, link("/ledger/" + v.leaf, "#" + v.leaf), " ", el("small", {}, "sha256 " + v.sha256.slice(0, 12) + "…"))));
  }
  const from = document.getElementById("diff-from"), to = document.getElementById("diff-to");
  for (const v of p.versions) {
    from.append(el("option", { value: v.version }, "v" + v.version));
    to.append(el("option", { value: v.version }, "v" + v.version));
  }
  async function show(f, t) {
    const qs = new URLSearchParams();
    if (f) qs.set("from", f);
    if (t) qs.set("to", t);
    const d = await api(`/api/programs/${encodeURIComponent(name)}/diff?${qs}`);
    from.value = d.from.version;
    to.value = d.to.version;
    document.getElementById("diff-summary").textContent =
      `v${d.from.version} → v${d.to.version}: ${d.added} lines added, ${d.removed} removed` +
      (d.to.what_changed ? ` — v${d.to.version}: ${d.to.what_changed} (${d.to.why})` : "");
    const box = document.getElementById("diff");
    box.replaceChildren();
    if (!d.hunks.length) box.append(el("p", { class: "note" }, "The texts are identical."));
    for (const h of d.hunks) {
      const pre = el("pre", { class: "code" });
      pre.append(el("div", { class: "hunk" }, h.header));
      for (const l of h.lines) {
        const mark = l.op === "added" ? "+" : l.op === "removed" ? "-" : " ";
        pre.append(el("div", { class: l.op === "added" ? "add" : l.op === "removed" ? "del" : "ctx" },
          `${String(l.old_line ?? "").padStart(4)} ${String(l.new_line ?? "").padStart(4)} ${mark} ${l.text}`));
      }
      box.append(pre);
    }
    history.replaceState(null, "", `?from=${d.from.version}&to=${d.to.version}`);
  }
  document.getElementById("diff-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    show(from.value, to.value).catch((e) => (document.getElementById("diff-summary").textContent = e.message));
  });
  await show(q("from"), q("to"));
}

// ---- Schedule -------------------------------------------------------------------------------

const JOB_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

function drawGantt(box, s) {
  const width = Math.max(600, box.clientWidth || 900), left = 90, right = 20, top = 10, row = 34, axis = 30;
  const height = top + row * s.machines.length + axis;
  const t0 = s.epoch_ns, t1 = Math.max(s.end_ns, t0 + 1e9);
  const x = (ns) => left + ((ns - t0) / (t1 - t0)) * (width - left - right);
  const g = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, id: "gantt-svg" });
  const prices = s.tariff.map((b) => b.price_per_kwh);
  const lo = Math.min(...prices), hi = Math.max(...prices);
  for (const b of s.tariff) {
    const a = hi > lo ? (b.price_per_kwh - lo) / (hi - lo) : 0;
    g.append(svg("rect", { x: x(b.start_ns), y: top, width: Math.max(0, x(b.end_ns) - x(b.start_ns)), height: row * s.machines.length,
      fill: `rgba(168, 98, 0, ${0.06 + 0.22 * a})`, class: "band" }, svg("title", {}, `${utc(b.start_ns)} – ${utc(b.end_ns)}: ${b.price_per_kwh} per kWh`)));
    if (x(b.end_ns) - x(b.start_ns) > 40) g.append(svg("text", { x: x(b.start_ns) + 3, y: height - 4, fill: "#a86200" }, String(b.price_per_kwh)));
  }
  const jobs = [...new Set(s.operations.map((o) => o.job))];
  s.machines.forEach((m, i) => {
    g.append(svg("text", { x: 4, y: top + row * i + row / 2 + 4 }, m));
    g.append(svg("line", { x1: left, x2: width - right, y1: top + row * (i + 1), y2: top + row * (i + 1), stroke: "#d8dde3" }));
  });
  for (const o of s.operations) {
    const i = s.machines.indexOf(o.machine);
    const colour = JOB_COLOURS[jobs.indexOf(o.job) % JOB_COLOURS.length];
    const w = Math.max(1, x(o.end_ns) - x(o.start_ns));
    const r = svg("g", { class: "op", "data-job": o.job, "data-machine": o.machine },
      svg("rect", { x: x(o.start_ns), y: top + row * i + 5, width: w, height: row - 10, fill: colour, stroke: "#333", "stroke-width": 0.5 }),
      svg("title", {}, `${o.job} op ${o.op} on ${o.machine}: ${o.start_s}–${o.end_s} s (${utc(o.start_ns)} – ${utc(o.end_ns)})`));
    if (w > 36) r.append(svg("text", { x: x(o.start_ns) + 3, y: top + row * i + row / 2 + 4, fill: "#fff" }, `${o.job}/${o.op}`));
    g.append(r);
  }
  // Time axis: a few ticks in s from the plan's start.
  const span = (t1 - t0) / 1e9, step = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400].find((v) => span / v <= 10) || 28800;
  for (let t = 0; t <= span; t += step) {
    const xx = x(t0 + t * 1e9);
    g.append(svg("line", { x1: xx, x2: xx, y1: top, y2: top + row * s.machines.length + 4, stroke: "#aab" }));
    g.append(svg("text", { x: xx + 2, y: top + row * s.machines.length + 14 }, t + " s"));
  }
  box.replaceChildren(g);
  window.AIMM_PLOTS["gantt"] = {
    kind: "gantt",
    data: [s.operations.map((o) => o.start_ns), s.operations.map((o) => o.end_ns), s.operations.map((o) => s.machines.indexOf(o.machine))],
    operations: s.operations, tariff: s.tariff,
  };
}

async function schedulePage() {
  const list = await api("/api/schedules");
  const pick = document.getElementById("schedule-pick");
  if (!list.length) {
    document.getElementById("schedule-summary").textContent = "No schedule records in the ledger.";
    return;
  }
  for (const s of list) {
    const trig = (s.trigger && s.trigger.kind) || "?";
    pick.append(el("option", { value: s.leaf }, `${s.cell} v${s.version} (${trig}) — leaf ${s.leaf}, ${utc(s.t_ns)}`));
  }
  async function show(leaf) {
    const s = await api("/api/schedules/" + leaf);
    pick.value = String(leaf);
    const fmt = (o) => Object.entries(o || {}).map(([k, v]) => v && typeof v === "object" ? `${k}: (${fmt(v)})` : `${k} ${typeof v === "number" ? num(v, 2) : JSON.stringify(v)}`).join("; ");
    const obj = "objectives: " + fmt(s.objectives);
    const sum = document.getElementById("schedule-summary");
    sum.replaceChildren(link("/ledger/" + s.leaf, `${s.cell} schedule v${s.version}`),
      ` after ${JSON.stringify(s.trigger)}; ${s.operations.length} operations on ${s.machines.length} machines from ${utc(s.epoch_ns)}; `,
      `cap ${num(s.cap_kw, 1)} kW; realised peak ${s.power.peak_kw == null ? "– (no power recorded)" : num(s.power.peak_kw, 2) + " kW"}`,
      el("br"), el("small", {}, obj));
    drawGantt(document.getElementById("gantt"), s);
    const box = document.getElementById("power-plot");
    box.replaceChildren();
    if (!s.power.t_ns.length) {
      box.append(el("p", { class: "note" }, `No ${s.power.signal} recorded over this plan.`));
      window.AIMM_PLOTS["power"] = { data: [[], [], []] };
      return;
    }
    timePlot("power", box, s.power.t_ns, [
      { label: `cell ${s.power.signal} (Σ ${s.power.machines.join(", ")}) kW`, stroke: "#0b5fad", values: s.power.kw },
      { label: "cap kW", stroke: "#b3261e", dash: [6, 4], values: s.power.t_ns.map(() => s.cap_kw) },
    ]);
  }
  pick.addEventListener("change", () => show(pick.value).then(() => history.replaceState(null, "", "?leaf=" + pick.value)));
  await show(q("leaf") || list[0].leaf);
}

// ---- Ledger ---------------------------------------------------------------------------------

async function ledgerPage() {
  const type = document.getElementById("ledger-type"), before = document.getElementById("ledger-before");
  for (const t of window.AIMM.page.types) type.append(el("option", { value: t }, t));
  type.value = q("type") || "";
  before.value = q("before") || "";
  const limit = 50;
  let last = null;
  async function show() {
    const qs = new URLSearchParams({ limit });
    if (type.value) qs.set("type", type.value);
    if (before.value !== "") qs.set("before", before.value);
    const page = await api("/api/ledger?" + qs);
    last = page;
    history.replaceState(null, "", "?" + qs);
    document.getElementById("ledger-size").textContent = `${page.size} leaves in the ledger; ${page.records.length} shown` +
      (page.records.length ? `, leaves ${page.records[page.records.length - 1].leaf}–${page.records[0].leaf}` : "");
    const tbody = document.querySelector("#ledger-records tbody");
    tbody.replaceChildren(...page.records.map((r) => el("tr", { "data-leaf": r.leaf },
      el("td", { class: "num" }, link("/ledger/" + r.leaf, "#" + r.leaf)), el("td", {}, r.type), el("td", {}, utc(r.t_ns)),
      el("td", {}, r.summary.length > 180 ? r.summary.slice(0, 180) + "…" : r.summary),
      el("td", {}, ...r.cites.slice(0, 8).flatMap((c) => [link("/ledger/" + c, "#" + c), " "]), r.cites.length > 8 ? `+${r.cites.length - 8}` : ""))));
    document.getElementById("ledger-older").disabled = !page.records.length || page.records[page.records.length - 1].leaf === 0;
    document.getElementById("ledger-newer").disabled = before.value === "";
  }
  document.getElementById("ledger-filter").addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
  type.addEventListener("change", () => { before.value = ""; pages.length = 0; show(); });
  // Paging back remembers where each page started, so "newer" returns exactly to it.
  const pages = [];
  document.getElementById("ledger-older").addEventListener("click", () => {
    if (!last || !last.records.length) return;
    pages.push(before.value);
    before.value = last.records[last.records.length - 1].leaf;
    show();
  });
  document.getElementById("ledger-newer").addEventListener("click", () => {
    if (pages.length) before.value = pages.pop();
    else if (last && last.records.length) {
      const b = last.records[0].leaf + 1 + limit;
      before.value = b >= last.size ? "" : b;
    } else before.value = "";
    show();
  });
  await show();
}

function drawLineage(box, g) {
  const cols = new Map();
  for (const n of g.nodes) { if (!cols.has(n.depth)) cols.set(n.depth, []); cols.get(n.depth).push(n); }
  // A depth with many records (a schedule cites hundreds of segments) wraps into several
  // columns of at most PER rows, so the graph stays about as tall as a screen.
  const colW = 260, rowH = 46, pad = 14, nodeW = 220, nodeH = 36, PER = 16;
  const pos = new Map();
  let col = 0, maxRows = 1;
  for (const d of [...cols.keys()].sort((a, b) => a - b)) {
    const ns = cols.get(d);
    ns.forEach((n, i) => pos.set(n.leaf, { x: pad + (col + Math.floor(i / PER)) * colW, y: pad + (i % PER) * rowH }));
    col += Math.ceil(ns.length / PER);
    maxRows = Math.max(maxRows, Math.min(PER, ns.length));
  }
  const width = pad * 2 + colW * col, height = pad * 2 + rowH * maxRows + 40;
  const s = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, id: "lineage-svg" });
  s.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#5b6570" }))));
  for (const [a, b] of g.edges) {
    const p = pos.get(a), r = pos.get(b);
    if (!p || !r) continue;
    const x1 = p.x + nodeW, y1 = p.y + nodeH / 2, x2 = r.x, y2 = r.y + nodeH / 2;
    const back = x2 <= x1;
    const d = back ? `M ${p.x + nodeW / 2} ${p.y + nodeH} C ${p.x + nodeW / 2} ${p.y + nodeH + 30}, ${r.x + nodeW / 2} ${r.y + nodeH + 30}, ${r.x + nodeW / 2} ${r.y + nodeH}`
      : `M ${x1} ${y1} C ${x1 + 20} ${y1}, ${x2 - 20} ${y2}, ${x2} ${y2}`;
    s.append(svg("path", { d, fill: "none", stroke: "#8a949e", "marker-end": "url(#arrow)", class: "edge", "data-from": a, "data-to": b }));
  }
  for (const n of g.nodes) {
    const p = pos.get(n.leaf);
    const a = svg("a", { href: "/ledger/" + n.leaf, class: "node", "data-leaf": n.leaf },
      svg("rect", { x: p.x, y: p.y, width: nodeW, height: nodeH, rx: 4, fill: n.leaf === g.root ? "#dbe9f7" : "#fff", stroke: "#0b5fad" }),
      svg("text", { x: p.x + 6, y: p.y + 14, "font-weight": 600 }, `#${n.leaf} ${n.type}`),
      svg("text", { x: p.x + 6, y: p.y + 29 }, n.summary.length > 38 ? n.summary.slice(0, 37) + "…" : n.summary),
      svg("title", {}, `#${n.leaf} ${n.type} (depth ${n.depth}): ${n.summary}`));
    s.append(a);
  }
  box.replaceChildren(s);
  if (g.not_followed.length) box.append(el("p", { class: "note" }, `${g.not_followed.length} further records cited beyond this depth: `,
    ...g.not_followed.slice(0, 20).flatMap((l) => [link("/ledger/" + l, "#" + l), " "])));
  window.AIMM_PLOTS["lineage"] = {
    kind: "graph",
    data: [g.nodes.map((n) => n.leaf), g.nodes.map((n) => n.depth)],
    nodes: g.nodes, edges: g.edges,
  };
}

async function recordPage() {
  const leaf = window.AIMM.page.leaf;
  const r = await api("/api/ledger/" + leaf);
  document.getElementById("record-summary").replaceChildren(el("b", {}, r.record.type || ""), " ", r.summary);
  const rows = [
    ["Leaf hash (RFC 6962)", el("code", {}, r.leaf_hash)],
    ["Checkpoint", r.checkpoint_size == null ? "no signed checkpoint covers this leaf yet" : `tree size ${r.checkpoint_size}`],
    ["Signed note", r.checkpoint_note ? el("pre", { class: "code" }, r.checkpoint_note) : "–"],
    ["Inclusion proof", r.inclusion_proof.length ? el("ol", { class: "records" }, ...r.inclusion_proof.map((h) => el("li", {}, h))) : "–"],
  ];
  document.querySelector("#record-proof tbody").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
  document.getElementById("record-json").textContent = JSON.stringify(r.record, null, 2);
  const cited = document.getElementById("cited-by");
  if (!r.cited_by.length) cited.append(el("li", {}, "No record cites this one."));
  for (const c of r.cited_by) cited.append(el("li", {}, link("/ledger/" + c, "#" + c)));
  const depth = document.getElementById("lineage-depth");
  async function lineage() {
    drawLineage(document.getElementById("lineage"), await api(`/api/ledger/${leaf}/lineage?depth=${depth.value}`));
  }
  depth.addEventListener("change", lineage);
  await lineage();
}

// ---- Assessment -----------------------------------------------------------------------------

// A criterion's threshold as the catalog states it, e.g. {op: ">=", value: 90, unit: "%"} → "≥ 90 %".
function threshold(t) {
  if (t == null || typeof t !== "object") return String(t);
  const op = { ">=": "≥", "<=": "≤" }[t.op] || t.op || "";
  return `${op} ${t.value}${t.unit ? " " + t.unit : ""}`;
}

async function assessmentPage() {
  const sum = document.getElementById("assessment-summary");
  let r;
  try {
    r = await api("/api/assessment");
  } catch (e) {
    sum.textContent = e.status === 403 ? "Your role may not run assessments (assessor or engineer may)." : "Could not assess: " + e.message;
    sum.className = "error";
    return;
  }
  const a = r.assessment;
  sum.replaceChildren(el("b", {}, `Level L${a.level}`),
    ` — ${r.source.ledger_size} ledger records judged by ${a.catalog}; root ${r.source.ledger_root.slice(0, 16)}…` +
    (a.missing && a.missing.length ? `; loops below L3: ${a.missing.join(", ")}` : "") + ` (${r.took_ms} ms)`);
  const rows = [];
  for (const j of a.cell || []) rows.push(["–", j]);
  for (const l of a.loops || []) for (const j of l.criteria) rows.push([l.loop || l.loop_kind, j]);
  rows.sort((x, y) => x[1].level - y[1].level || String(x[1].id).localeCompare(String(y[1].id)));
  document.querySelector("#assessment-criteria tbody").replaceChildren(...rows.map(([lp, j]) => {
    const res = j.passed === true ? "pass" : j.passed === false ? "FAIL" : "not measured";
    return el("tr", { "data-criterion": j.id },
      el("td", {}, j.id), el("td", { class: "num" }, "L" + j.level), el("td", {}, lp),
      el("td", { class: j.passed === true ? "ok" : j.passed === false ? "error" : "warn" }, res),
      el("td", { class: "num" }, j.measured == null ? "–" : num(j.measured, 1)),
      el("td", { class: "num" }, threshold(j.threshold)),
      el("td", {}, j.reason, ...(j.failures || []).slice(0, 1).map(([leaf, why]) => el("span", {}, "; e.g. ", link("/ledger/" + leaf, "#" + leaf), ": " + why))));
  }));
  document.getElementById("assessment-report").src = "/assessment/report";
}

Object.assign(PAGES, {
  programs: programsPage,
  program: programPage,
  schedule: schedulePage,
  ledger: ledgerPage,
  record: recordPage,
  assessment: assessmentPage,
});
