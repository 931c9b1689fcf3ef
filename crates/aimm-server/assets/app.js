// aimm dashboard script: every page is a server-rendered shell; this fills it from the JSON API
// and draws plots with uPlot. Each plot is registered in window.AIMM_PLOTS (id -> uPlot) so that
// tests and users can read exactly what is drawn.
"use strict";
window.AIMM_PLOTS = {};

async function api(path, options) {
  const r = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
  const body = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) {
    const msg = (body && body.error) || r.statusText;
    throw Object.assign(new Error(msg), { status: r.status });
  }
  return body;
}

function post(path, body) {
  return api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

const pct = (x) => (x == null ? "–" : (100 * x).toFixed(1) + " %");
const num = (x, d) => (x == null ? "–" : Number(x).toFixed(d == null ? 1 : d));
const utc = (ns) => (ns == null ? "–" : new Date(Number(ns) / 1e6).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"));
const link = (href, text) => el("a", { href }, text);

// A time plot: series [{label, stroke, values, dash}], x in ns; registered under `id`.
function timePlot(id, container, t_ns, series, opts) {
  const width = Math.max(400, container.clientWidth || 900);
  const x = t_ns.map((t) => Number(t) / 1e9);
  const plot = new uPlot(Object.assign({
    width, height: 260,
    scales: { x: { time: true } },
    series: [{}].concat(series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5, dash: s.dash, scale: s.scale || "y", points: { show: false } }))),
    axes: [{}, { scale: "y" }].concat(series.some((s) => s.scale === "y2") ? [{ scale: "y2", side: 1 }] : []),
  }, opts || {}), [x].concat(series.map((s) => s.values)), container);
  window.AIMM_PLOTS[id] = plot;
  return plot;
}

function logout() {
  api("/api/session", { method: "DELETE" }).finally(() => (location.href = "/login"));
}

function loginPage() {
  const form = document.getElementById("login");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = document.getElementById("token").value.trim();
    try {
      await post("/api/session", { token });
      const next = new URLSearchParams(location.search).get("next") || "/";
      location.href = next.startsWith("/") && !next.startsWith("//") ? next : "/";
    } catch (e) {
      document.getElementById("login-error").textContent = e.message;
    }
  });
}

// Live updates: one EventSource per page; handlers by event name.
function live(query, handlers) {
  const src = new EventSource("/api/live" + (query ? "?" + query : ""));
  for (const [name, fn] of Object.entries(handlers)) src.addEventListener(name, (ev) => fn(JSON.parse(ev.data)));
  return src;
}

async function overviewPage() {
  const machines = await api("/api/machines");
  const tbody = document.querySelector("#machines tbody");
  for (const m of machines) {
    tbody.append(el("tr", { "data-machine": m.id },
      el("td", {}, link("/machines/" + encodeURIComponent(m.id), m.id), " ", el("small", {}, m.model)),
      el("td", {}, m.state, m.last_t_ns ? el("div", {}, el("small", {}, utc(m.last_t_ns))) : ""),
      el("td", { class: "num" }, m.oee.parts),
      el("td", { class: "num" }, pct(m.oee.availability)),
      el("td", { class: "num" }, pct(m.oee.performance)),
      el("td", { class: "num" }, pct(m.oee.quality)),
      el("td", { class: "num" }, pct(m.oee.oee)),
      el("td", {}, ...m.loops.map((l) => el("div", {}, el("b", {}, l.loop), ` ${l.actions} actions; last `, link("/ledger/" + l.last_leaf, "#" + l.last_leaf), ": " + l.last_summary.slice(0, 80))))));
  }
  const withOee = machines.filter((m) => m.oee.parts > 0);
  if (withOee.length) {
    const bars = uPlot.paths.bars({ size: [0.18, 40] });
    const names = withOee.map((m) => m.id);
    const plot = new uPlot({
      width: Math.max(400, document.getElementById("oee-plot").clientWidth || 900), height: 220,
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ values: (u, ticks) => ticks.map((i) => names[i] || "") }, { label: "%" }],
      series: [{}].concat(["availability", "performance", "quality", "oee"].map((k, i) => ({
        label: k, fill: ["#7aa6d6", "#9bc79b", "#e2b36b", "#0b5fad"][i], stroke: "#333", paths: bars, points: { show: false } }))),
    }, [names.map((_, i) => i)].concat(["availability", "performance", "quality", "oee"].map((k) => withOee.map((m) => m.oee[k] == null ? null : 100 * m.oee[k]))),
    document.getElementById("oee-plot"));
    window.AIMM_PLOTS["oee"] = plot;
  }
  const feed = document.getElementById("feed");
  const page = await api("/api/ledger?type=control_action&limit=15");
  const line = (r) => el("li", {}, link("/ledger/" + r.leaf, "#" + r.leaf), " ", utc(r.t_ns), " ", r.summary.slice(0, 140));
  for (const r of page.records) feed.append(line(r));
  live("", { record: (r) => { if (r.type === "control_action") { feed.prepend(line(r)); while (feed.children.length > 30) feed.lastChild.remove(); } } });
}

// Pages register here by kind (window.AIMM.page.kind).
const PAGES = { overview: overviewPage };

document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", logout);
  if (document.getElementById("login")) return loginPage();
  const kind = window.AIMM && window.AIMM.page && window.AIMM.page.kind;
  const run = PAGES[kind];
  if (run) run().catch((e) => {
    const main = document.querySelector("main");
    main.prepend(el("p", { class: "error", id: "page-error" }, "Could not load: " + e.message));
  });
});
window.AIMM_PAGES = PAGES;
