// aimm dashboard, machine pages: a machine (load against the feed loop's setpoint, live; the
// state timeline; cycle times), a tool's wear, and the learning loop's proposals. Loaded after
// app.js; uses its helpers (api, post, el, utc, num, link, live) and registers into its PAGES.
// Every plot is registered in window.AIMM_PLOTS so tests read exactly what is drawn.
"use strict";

// A plot of several series over a shared time axis (ns); series: {label, stroke, values, scale,
// dash, points, paths, fill, spanGaps}; bands: uPlot bands between series indices.
function seriesPlot(id, container, t_ns, series, extra) {
  const width = Math.max(400, container.clientWidth || 900);
  const plot = new uPlot(Object.assign({
    width, height: 260,
    scales: { x: { time: true } },
    series: [{}].concat(series.map((s) => ({
      label: s.label, stroke: s.stroke, width: s.width == null ? 1.5 : s.width, dash: s.dash, scale: s.scale || "y",
      points: s.points || { show: false }, paths: s.paths, fill: s.fill, spanGaps: !!s.spanGaps }))),
    axes: [{}, { scale: "y", label: (extra && extra.yLabel) || "" }].concat(series.some((s) => s.scale === "y2") ? [{ scale: "y2", side: 1, grid: { show: false }, label: (extra && extra.y2Label) || "" }] : []),
  }, (extra && extra.opts) || {}), [t_ns.map((t) => Number(t) / 1e9)].concat(series.map((s) => s.values)), container);
  window.AIMM_PLOTS[id] = plot;
  return plot;
}

// The value in force at each of `ts` of a stepwise signal (times `st`, values `sv`, both sorted).
function stepAt(ts, st, sv) {
  const out = new Array(ts.length);
  let j = -1;
  for (let i = 0; i < ts.length; i++) {
    while (j + 1 < st.length && st[j + 1] <= ts[i]) j++;
    out[i] = j >= 0 ? sv[j] : (sv.length ? sv[0] : null);
  }
  return out;
}

async function signalOrNull(machine, signal, from, to, points) {
  const q = new URLSearchParams({ points: String(points || 2000) });
  if (from != null) q.set("from_ns", String(from));
  if (to != null) q.set("to_ns", String(to));
  try {
    return await api(`/api/machines/${encodeURIComponent(machine)}/signals/${signal}?${q}`);
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

const base = (p) => String(p || "").split("/").pop();
const toLocalInput = (ns) => { const d = new Date(Number(ns) / 1e6); return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19); };
const fromLocalInput = (s) => (s ? new Date(s).getTime() * 1e6 : null);

// The feed loop's setpoint for `tool` in `run`: a taught one for the run's program and material
// (the latest record), else the machine's fixed or limit setpoint; null when none applies.
function setpointFor(setpoints, run, tool) {
  const taught = (setpoints.learned || []).filter((s) => s.tool === tool && run &&
    base(s.key.split("@")[0]) === base(run.program) && s.key.endsWith("/" + run.material) && typeof s.setpoint_pct === "number");
  if (taught.length) return { pct: taught.sort((a, b) => b.leaf - a.leaf)[0].setpoint_pct, from: "taught, record #" + taught[0].leaf };
  const p = setpoints.params;
  if (p && typeof p.setpoint_pct === "number") return { pct: p.setpoint_pct, from: "fixed/limit, record #" + p.leaf };
  return { pct: null, from: p ? `the loop teaches setpoints in (record #${p.leaf}) and none is recorded for this run` : "no feed-loop parameters recorded for this machine" };
}

const LIVE_WINDOW_NS = 10 * 60 * 1e9; // keep the last 10 minutes when following live

async function machinePage() {
  const P = window.AIMM.page;
  const m = P.machine;
  const runs = await api(`/api/machines/${encodeURIComponent(m)}/runs?limit=1000`);
  const latest = runs.length ? runs[runs.length - 1] : null;
  // Load buffers: signal -> {t, v}.
  const buf = { spindle_load_pct: { t: [], v: [] }, feed_override_commanded_pct: { t: [], v: [] }, tool_number: { t: [], v: [] } };
  let plot = null, following = false, lastSampleNs = null, runShown = latest;
  const loadBox = document.getElementById("load-plot");

  function draw() {
    const L = buf.spindle_load_pct, O = buf.feed_override_commanded_pct, T = buf.tool_number;
    const tools = stepAt(L.t, T.t, T.v);
    const sources = new Set();
    const sp = tools.map((tool) => { const s = setpointFor(P.setpoints, runShown, tool == null ? null : Math.round(tool)); sources.add(s.from); return s.pct; });
    const ov = O.t.length ? stepAt(L.t, O.t, O.v) : L.t.map(() => null);
    document.getElementById("setpoint-source").textContent = "Setpoint: " + [...sources].join("; ") + (O.t.length ? "" : ". No commanded override recorded (the feed loop did not run here).");
    const data = [L.t.map((t) => t / 1e9), L.v, sp, ov];
    if (plot) { plot.setData(data); return; }
    loadBox.innerHTML = "";
    plot = seriesPlot("load", loadBox, L.t, [
      { label: "spindle load %", stroke: "#0b5fad", values: L.v },
      { label: "setpoint %", stroke: "#b3261e", dash: [6, 4], values: sp, paths: uPlot.paths.stepped({ align: 1 }) },
      { label: "commanded override %", stroke: "#1e7b34", scale: "y2", values: ov, paths: uPlot.paths.stepped({ align: 1 }) },
    ], { yLabel: "load %", y2Label: "override %" });
  }

  async function load(from, to) {
    const [L, O, T] = await Promise.all(["spindle_load_pct", "feed_override_commanded_pct", "tool_number"].map((s) => signalOrNull(m, s, from, to, s === "tool_number" ? 5000 : 2000)));
    for (const [k, d] of [["spindle_load_pct", L], ["feed_override_commanded_pct", O], ["tool_number", T]]) {
      buf[k] = d ? { t: d.t_ns.slice(), v: k === "spindle_load_pct" ? d.mean.slice() : d.last.slice() } : { t: [], v: [] };
    }
    if (L && L.t_ns.length) lastSampleNs = L.t_ns[L.t_ns.length - 1];
    draw();
  }

  // Latest run (or the signal's last 10 minutes without runs), then follow live.
  async function showLatest() {
    runShown = latest;
    const from = latest ? latest.t_start_ns : null;
    const to = latest && latest.t_end_ns ? latest.t_end_ns + 1 : null;
    await load(from, to);
    if (from != null) document.getElementById("range-from").value = toLocalInput(from);
    if (to != null) document.getElementById("range-to").value = toLocalInput(to);
    following = true;
    document.getElementById("live-state").textContent = "following live";
  }

  document.getElementById("range").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const from = fromLocalInput(document.getElementById("range-from").value);
    const to = fromLocalInput(document.getElementById("range-to").value);
    following = false;
    document.getElementById("live-state").textContent = "range chosen (not live)";
    runShown = runs.filter((r) => from == null || r.t_start_ns <= (to || Infinity)).filter((r) => from == null || (r.t_end_ns || Infinity) >= from).pop() || latest;
    try { await load(from, to); } catch (e) { document.getElementById("live-state").textContent = e.message; }
  });
  document.getElementById("range-latest").addEventListener("click", () => showLatest());

  await showLatest();
  live("machine=" + encodeURIComponent(m), {
    samples: (s) => {
      const b = buf[s.signal];
      if (!b || !following || !s.t_ns.length) return;
      for (let i = 0; i < s.t_ns.length; i++) { if (!b.t.length || s.t_ns[i] > b.t[b.t.length - 1]) { b.t.push(s.t_ns[i]); b.v.push(s.values[i]); } }
      if (s.signal === "spindle_load_pct") {
        lastSampleNs = Math.max(lastSampleNs || 0, s.t_ns[s.t_ns.length - 1]);
        for (const k of Object.keys(buf)) {
          const cut = buf[k].t.findIndex((t) => t >= lastSampleNs - LIVE_WINDOW_NS);
          // Keep one earlier point of step signals so the value in force at the window's start stays known.
          const keep = k === "spindle_load_pct" ? cut : Math.max(0, cut - 1);
          if (cut > 0) { buf[k].t.splice(0, keep); buf[k].v.splice(0, keep); }
        }
        draw();
      }
    },
    record: (r) => {
      if (r.type === "control_parameter_change") document.getElementById("setpoint-source").append(" (new parameters recorded: reload to use them)");
    },
  });
  const delay = document.getElementById("live-delay");
  const tick = () => { delay.textContent = lastSampleNs == null ? "–" : ((Date.now() * 1e6 - lastSampleNs) / 1e9).toFixed(1) + " s"; delay.dataset.lastSampleNs = lastSampleNs == null ? "" : String(lastSampleNs); };
  tick();
  setInterval(tick, 1000);

  // Machine-state timeline: 1 while a run runs, 0 between; alarms and warnings as points.
  if (runs.length) {
    const events = await api(`/api/machines/${encodeURIComponent(m)}/events?from_ns=${runs[0].t_start_ns}`);
    const alarmKinds = new Set(["spindle_overload", "program_stop", "warning"]);
    const alarms = events.filter((e) => alarmKinds.has(e.kind));
    const pts = [];
    for (const r of runs) {
      pts.push([r.t_start_ns, 1, null]);
      pts.push([r.t_end_ns || Date.now() * 1e6, 0, null]);
    }
    for (const a of alarms) pts.push([a.t_ns, undefined, 1.05]);
    pts.sort((a, b) => a[0] - b[0]);
    const t = pts.map((p) => p[0]);
    const stateV = stepAt(t, pts.filter((p) => p[1] !== undefined).map((p) => p[0]), pts.filter((p) => p[1] !== undefined).map((p) => p[1]));
    const alarmV = pts.map((p) => p[2]);
    seriesPlot("state", document.getElementById("state-timeline"), t, [
      { label: "running (1) / idle (0)", stroke: "#0b5fad", fill: "rgba(11,95,173,0.25)", values: stateV, paths: uPlot.paths.stepped({ align: 1 }) },
      { label: `alarms and warnings (${alarms.length})`, stroke: "#b3261e", width: 0, values: alarmV, points: { show: true, size: 9, fill: "#b3261e" }, paths: () => null },
    ], { opts: { height: 160, scales: { x: { time: true }, y: { range: [0, 1.2] } } } });
    window.AIMM_PLOTS["state"].alarms = alarms;
  } else {
    document.getElementById("state-timeline").textContent = "No runs recorded.";
  }

  // Cycle time: one point per finished run.
  const done = runs.filter((r) => r.cycle_time_s != null);
  if (done.length) {
    seriesPlot("cycle", document.getElementById("cycle-plot"), done.map((r) => r.t_start_ns), [
      { label: "cycle time s", stroke: "#0b5fad", values: done.map((r) => r.cycle_time_s), points: { show: true, size: 6 } },
    ], { yLabel: "s" });
  } else {
    document.getElementById("cycle-plot").textContent = "No finished runs.";
  }
}

async function toolPage() {
  const P = window.AIMM.page;
  const w = await api(`/api/machines/${encodeURIComponent(P.machine)}/tools/${P.tool}/wear`);
  document.getElementById("tool-spec").textContent = w.spec.description || `T${w.tool}`;
  const D = w.decisions;
  // Plot the measurements of the loop's series (its decisions' span and the part after the last):
  // a later series on the machine (another tool life, a schedule) would squeeze it to a sliver.
  let M = w.measured, left = 0;
  if (D.length > 1) {
    const step = (D[D.length - 1].t_ns - D[0].t_ns) / (D.length - 1);
    const inSeries = (x) => x.t_ns >= D[0].t_ns - 1.5 * step && x.t_ns <= D[D.length - 1].t_ns + 1.5 * step;
    left = M.filter((x) => !inSeries(x)).length;
    M = M.filter(inSeries);
  }
  const last = D.length ? D[D.length - 1] : null;
  const summary = document.getElementById("tool-summary");
  if (!D.length && !M.length) {
    summary.append(el("p", { class: "note" }, "No wear-loop decisions and no measured wear for this tool."));
    return;
  }
  if (last) {
    summary.append(el("p", {}, `Latest estimate (after part ${last.after_part}, `, link("/ledger/" + last.leaf, "#" + last.leaf),
      `): VB ${num(last.wear_mm, 4)} mm [${num(last.lo_mm, 4)}, ${num(last.hi_mm, 4)}]; remaining useful life ${num(last.remaining_life_s, 0)} s of cutting [${num(last.remaining_life_lo_s, 0)}, ${num(last.remaining_life_hi_s, 0)}]; change planned at VB ${num(last.plan_at_mm, 3)} mm.`));
  }
  const pc = w.planned_change;
  summary.append(el("p", { id: "planned-change", class: pc ? "warn" : "" }, pc
    ? el("span", {}, `Tool change planned before part ${pc.before_part} (remaining life, short end ${num(pc.remaining_life_lo_s, 0)} s): `, link("/ledger/" + pc.leaf, "#" + pc.leaf))
    : "No tool change planned."));
  // One time axis: decisions and measurements (a decision is taken at its part's end).
  const ts = [...new Set(D.map((d) => d.t_ns).concat(M.map((x) => x.t_ns)))].sort((a, b) => a - b);
  const byT = (arr, f) => { const m = new Map(arr.map((x) => [x.t_ns, x])); return ts.map((t) => (m.has(t) ? f(m.get(t)) : null)); };
  if (left) summary.append(el("p", { class: "note", id: "measured-outside" }, `${left} measurement(s) outside the wear loop's series (other runs on the machine) are not plotted.`));
  const wearPlot = seriesPlot("wear", document.getElementById("wear-plot"), ts, [
    { label: "estimate VB mm", stroke: "#0b5fad", values: byT(D, (d) => d.wear_mm), spanGaps: true },
    { label: "interval high", stroke: "rgba(11,95,173,0.4)", values: byT(D, (d) => d.hi_mm), spanGaps: true, width: 1 },
    { label: "interval low", stroke: "rgba(11,95,173,0.4)", values: byT(D, (d) => d.lo_mm), spanGaps: true, width: 1 },
    { label: "measured VB mm", stroke: "#b3261e", values: byT(M, (x) => x.vb_mm), points: { show: true, size: 7, fill: "#b3261e" }, paths: () => null },
    { label: "change planned at", stroke: "#a86200", dash: [6, 4], values: byT(D, (d) => d.plan_at_mm), spanGaps: true },
  ], { yLabel: "VB mm", opts: { bands: [{ series: [2, 3], fill: "rgba(11,95,173,0.15)" }] } });
  wearPlot.decisions = D;
  wearPlot.measured = M;
  wearPlot.measuredAll = w.measured;
  const offs = D.filter((d) => d.decision === "offset");
  if (offs.length) {
    seriesPlot("offsets", document.getElementById("offset-plot"), offs.map((d) => d.t_ns), [
      { label: "offset written mm", stroke: "#1e7b34", values: offs.map((d) => d.offset_mm), paths: uPlot.paths.stepped({ align: 1 }), points: { show: true, size: 5 } },
      { label: "requested mm", stroke: "#5b6570", dash: [4, 4], values: offs.map((d) => d.requested_mm) },
    ], { yLabel: "mm" });
  } else {
    document.getElementById("offset-plot").textContent = "No offsets written.";
  }
  const tbody = document.querySelector("#wear-table tbody");
  for (const d of D.slice().reverse()) {
    tbody.append(el("tr", { "data-leaf": d.leaf, class: d.decision === "tool_change" ? "warn" : "" },
      el("td", {}, link("/ledger/" + d.leaf, "#" + d.leaf)), el("td", { class: "num" }, d.after_part),
      el("td", {}, d.decision === "tool_change" ? `tool change before part ${d.before_part}` : d.decision),
      el("td", { class: "num" }, num(d.wear_mm, 4)), el("td", { class: "num" }, `${num(d.lo_mm, 4)} – ${num(d.hi_mm, 4)}`),
      el("td", { class: "num" }, num(d.offset_mm, 4)), el("td", { class: "num" }, num(d.remaining_life_s, 0))));
  }
}

async function proposalsPage() {
  const result = document.getElementById("proposal-result");
  const tbody = document.querySelector("#proposals tbody");
  const show = (ok, text) => { result.innerHTML = ""; result.append(el("p", { class: ok ? "ok" : "error" }, text)); };
  async function decide(leaf, what, body) {
    try {
      const r = await post(`/api/proposals/${leaf}/${what}`, body);
      show(true, `Proposal ${r.proposal} ${r.status} by ${r.actor} (${r.role}): ledger record #${r.record}.`);
      await fill();
    } catch (e) {
      show(false, `Could not ${what} proposal ${leaf}: ${e.message}` + (e.status ? ` (HTTP ${e.status})` : ""));
    }
  }
  async function fill() {
    const list = await api("/api/proposals");
    tbody.innerHTML = "";
    if (!list.length) tbody.append(el("tr", {}, el("td", { colspan: "7" }, "No proposals.")));
    for (const p of list) {
      const decideCell = el("td", {});
      if (p.status === "pending") {
        const reason = el("input", { class: "reason", "data-leaf": p.leaf, placeholder: "reason to reject", size: "24" });
        decideCell.append(
          el("button", { type: "button", class: "approve", "data-leaf": p.leaf, onclick: () => decide(p.leaf, "approve", {}) }, "Approve" + (p.machine ? " → " + p.machine : "")), " ",
          reason, " ",
          el("button", { type: "button", class: "reject", "data-leaf": p.leaf, onclick: () => decide(p.leaf, "reject", { reason: reason.value }) }, "Reject"));
      } else if (p.decided_by != null) {
        decideCell.append(link("/ledger/" + p.decided_by, "#" + p.decided_by));
      }
      tbody.append(el("tr", { "data-leaf": p.leaf, "data-status": p.status },
        el("td", {}, link("/ledger/" + p.leaf, "#" + p.leaf)), el("td", {}, p.name), el("td", { class: "num" }, "v" + p.version + (p.parent_version ? ` (from v${p.parent_version})` : "")),
        el("td", {}, utc(p.t_ns)), el("td", {}, p.what_changed), el("td", { class: "status " + p.status }, p.status), decideCell));
    }
  }
  await fill();
}

// app.js dispatches by window.AIMM.page.kind once the document is loaded, after this script ran.
Object.assign(window.AIMM_PAGES, { machine: machinePage, tool: toolPage, proposals: proposalsPage });
