// Ingest dashboard. Every piece of log content is attacker-controlled: it reaches the page only through
// textContent, attributes set with setAttribute, or Chart.js labels (drawn on a canvas) — never as HTML.
"use strict";

const TOKEN_KEY = "ingest.apiToken";

async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(path, { headers });
  if (response.status === 401) {
    const entered = window.prompt("API token (Serve:ApiToken)");
    if (entered) {
      sessionStorage.setItem(TOKEN_KEY, entered);
      return api(path);
    }
  }
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? "" : String(c);
    tr.appendChild(td);
  }
  return tr;
}

function status(text) { document.getElementById("status").textContent = text; }

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

// --- crash groups ---------------------------------------------------------------------------------

function sparkline(times) {
  const canvas = el("canvas", null, { width: 120, height: 24, class: "spark" });
  const buckets = new Array(24).fill(0);
  const now = Date.now();
  for (const t of times) {
    const hoursAgo = Math.floor((now - t) / 3600000);
    if (hoursAgo >= 0 && hoursAgo < 24) buckets[23 - hoursAgo]++;
  }
  const max = Math.max(1, ...buckets);
  const ctx = canvas.getContext("2d");
  ctx.strokeStyle = "#0b4fa3";
  ctx.beginPath();
  buckets.forEach((v, i) => {
    const x = i * (120 / 23), y = 22 - (v / max) * 20;
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
  return canvas;
}

async function showCrashGroups() {
  const [groups, crashes] = await Promise.all([api("/api/v1/crash-groups"), api("/api/v1/crashes?limit=1000")]);
  const times = new Map();
  for (const c of crashes) {
    const fp = c.event.fingerprint;
    if (!times.has(fp)) times.set(fp, []);
    times.get(fp).push(Date.parse(c["@timestamp"]));
  }
  const body = document.querySelector("#crash-groups tbody");
  clear(body);
  for (const g of groups) {
    const tr = row([g.last_seen, g.count, sparkline(times.get(g.fingerprint) || []), g.category, g.message, (g.services || []).join(", "), (g.hosts || []).join(", ")]);
    tr.className = "group";
    tr.addEventListener("click", () => showCrash(g.latest_id));
    body.appendChild(tr);
  }
  status(groups.length + " crash groups");
}

function frameList(frames, rootCause) {
  const ol = el("ol", null, { class: "frames" });
  for (const f of frames || []) {
    const li = el("li", f.function + "  " + f.file + ":" + f.line);
    const isRoot = rootCause && f.function === rootCause.function && f.line === rootCause.line && f.file === rootCause.file;
    li.className = (isRoot ? "root-cause " : "") + (f.in_app ? "in-app" : "");
    if (isRoot) li.setAttribute("title", "root cause: first frame of the service's own code");
    ol.appendChild(li);
  }
  return ol;
}

async function showCrash(id) {
  const doc = await api("/api/v1/crashes/" + encodeURIComponent(id));
  const e = doc.event;
  const detail = document.getElementById("crash-detail");
  clear(detail);
  detail.hidden = false;
  detail.appendChild(el("h3", e.category + ": " + e.message));
  detail.appendChild(el("p", "service " + (doc.service || "-") + ", host " + (doc.host || doc.pod || "-") + ", " + doc["@timestamp"] + ", fingerprint " + e.fingerprint));
  if (e.root_cause) detail.appendChild(el("p", "root cause: " + e.root_cause.function + " (" + e.root_cause.file + ":" + e.root_cause.line + ")", { class: "root" }));
  if (e.crashing_goroutine) {
    detail.appendChild(el("h4", "goroutine " + e.crashing_goroutine.id + " [" + e.crashing_goroutine.state + "]"));
    detail.appendChild(frameList(e.crashing_goroutine.frames, e.root_cause));
  }
  for (const b of e.buckets || []) {
    const d = el("details");
    d.appendChild(el("summary", b.count + " × [" + b.state + "] " + (b.top_function || "")));
    d.appendChild(frameList(b.frames, null));
    detail.appendChild(d);
  }
  if (e.raw_text) {
    const d = el("details");
    d.appendChild(el("summary", "raw text"));
    d.appendChild(el("pre", e.raw_text, { class: "raw" }));
    detail.appendChild(d);
  }
}

// --- GC -------------------------------------------------------------------------------------------

let gcChart = null;

async function showGc() {
  const select = document.getElementById("gc-service");
  const services = await api("/api/v1/gc/services");
  if (select.options.length === 0) {
    for (const s of services) select.appendChild(el("option", s, { value: s }));
    select.addEventListener("change", () => drawGc(select.value));
  }
  if (services.length > 0) await drawGc(select.value || services[0]);
  else status("no GC cycles yet");
}

async function drawGc(service) {
  const from = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
  const cycles = await api("/api/v1/gc/cycles?service=" + encodeURIComponent(service) + "&from=" + encodeURIComponent(from));
  const points = cycles.map(c => ({ x: Date.parse(c["@timestamp"]), y: c.event.pause_ms, anomalies: c.event.anomalies || [], num: c.event.num }));
  const normal = points.map(p => ({ x: p.x, y: p.y }));
  const flagged = points.filter(p => p.anomalies.length > 0).map(p => ({ x: p.x, y: p.y }));
  const config = {
    type: "line",
    data: { datasets: [
      { label: "pause (ms)", data: normal, borderColor: "#0b4fa3", pointRadius: 0, borderWidth: 1 },
      { label: "anomalies", data: flagged, showLine: false, pointRadius: 5, pointBackgroundColor: "#b00020", borderColor: "#b00020" },
    ] },
    options: { animation: false, parsing: false, scales: { x: { type: "linear", ticks: { callback: v => new Date(v).toISOString().slice(11, 19) } }, y: { title: { display: true, text: "ms" } } } },
  };
  if (gcChart) gcChart.destroy();
  gcChart = new Chart(document.getElementById("gc-chart"), config);
  document.getElementById("gc-chart").setAttribute("data-points", String(points.length));
  const body = document.querySelector("#gc-anomalies tbody");
  clear(body);
  for (const p of points) for (const a of p.anomalies) body.appendChild(row([new Date(p.x).toISOString(), p.num, a.kind, a.reason]));
  status(service + ": " + points.length + " cycles");
}

// --- incidents ------------------------------------------------------------------------------------

async function showIncidents() {
  const incidents = await api("/api/v1/incidents");
  const root = document.getElementById("incidents");
  clear(root);
  for (const doc of incidents) {
    const i = doc.event;
    const box = el("div", null, { class: "incident" });
    box.appendChild(el("h3", "root cause: " + i.root_cause.service + " " + i.root_cause.kind + " — " + i.root_cause.summary));
    box.appendChild(el("p", "path: " + i.path.map(p => p.service + (p.recovered ? " (recovered)" : "")).join(" → ")));
    const table = el("table");
    table.appendChild(row(["time (RFC 3339)", "HLC", "node", "service", "event"]));
    for (const e of i.events) {
      const tr = row([e.time, e.hlc, e.node, e.service, e.kind + ": " + e.summary]);
      if (e.clock_skew) tr.lastChild.appendChild(el("span", "clock skew", { class: "flag" }));
      if (e.late) tr.lastChild.appendChild(el("span", "late", { class: "flag" }));
      table.appendChild(tr);
    }
    box.appendChild(table);
    const link = el("a", "postmortem draft", { href: "/api/v1/incidents/" + encodeURIComponent(doc.id) + "/postmortem" });
    box.appendChild(link);
    root.appendChild(box);
  }
  status(incidents.length + " incidents");
}

// --- dependency graph -----------------------------------------------------------------------------

async function showGraph() {
  let doc;
  try { doc = await api("/api/v1/dependency-graph"); } catch { status("no dependency graph yet"); return; }
  const edges = doc.event.edges;
  const body = document.querySelector("#graph-edges tbody");
  clear(body);
  for (const e of edges) body.appendChild(row([e.caller, e.callee, e.calls, e.errors, e.crashes_propagated]));
  // A layered drawing: callers left of callees.
  const svg = document.getElementById("graph-svg");
  clear(svg);
  const ns = "http://www.w3.org/2000/svg";
  const depth = new Map();
  const services = [...new Set(edges.flatMap(e => [e.caller, e.callee]))];
  for (const s of services) depth.set(s, 0);
  for (let k = 0; k < services.length; k++) for (const e of edges) depth.set(e.callee, Math.max(depth.get(e.callee), depth.get(e.caller) + 1));
  const columns = new Map();
  for (const s of services) { const d = depth.get(s); if (!columns.has(d)) columns.set(d, []); columns.get(d).push(s); }
  const pos = new Map();
  for (const [d, list] of columns) list.forEach((s, i) => pos.set(s, { x: 80 + d * 200, y: 60 + i * 80 }));
  for (const e of edges) {
    const a = pos.get(e.caller), b = pos.get(e.callee);
    const line = document.createElementNS(ns, "line");
    for (const [k, v] of Object.entries({ x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: e.crashes_propagated > 0 ? "#b00020" : "#888", "stroke-width": 1 + Math.log10(1 + e.calls) })) line.setAttribute(k, String(v));
    svg.appendChild(line);
  }
  for (const [s, p] of pos) {
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", String(p.x - 30));
    text.setAttribute("y", String(p.y - 8));
    text.textContent = s;
    svg.appendChild(text);
    const dot = document.createElementNS(ns, "circle");
    for (const [k, v] of Object.entries({ cx: p.x, cy: p.y, r: 6, fill: "#1d2b3a" })) dot.setAttribute(k, String(v));
    svg.appendChild(dot);
  }
  status(edges.length + " edges");
}

// --- navigation -----------------------------------------------------------------------------------

const views = { crashes: showCrashGroups, gc: showGc, incidents: showIncidents, graph: showGraph };

async function route() {
  const name = (location.hash || "#crashes").slice(1);
  const view = views[name] ? name : "crashes";
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== "view-" + view;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("data-view") === view);
  try {
    await views[view]();
    document.body.setAttribute("data-ready", view);
  } catch (err) {
    status(String(err.message || err));
    document.body.setAttribute("data-ready", "error");
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
