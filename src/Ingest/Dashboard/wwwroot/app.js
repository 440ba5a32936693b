// Ingest dashboard. Every piece of log content is attacker-controlled: it reaches the page only through
// textContent, attributes set with setAttribute, or Chart.js labels (drawn on a canvas) — never as HTML.
// Views are addressed by the URL fragment (#crash/<id>, #group/<fingerprint>, #dump/<id>, #incident/<id>,
// #crashes?service=…), so every one of them can be linked and reloaded.
"use strict";

const TOKEN_KEY = "ingest.apiToken";
// How often a list view checks for documents stored since it was drawn.
const POLL_MS = 5000;
// LogRecord.MaxLinesPerMessage: a stored event's position is offset × this + line index.
const LINES_PER_MESSAGE = 1048576;
const CATEGORIES = ["nil_pointer_dereference", "index_out_of_range", "slice_bounds_out_of_range", "nil_map_assignment",
  "integer_divide_by_zero", "type_assertion", "closed_channel", "negative_waitgroup", "unlock_of_unlocked_mutex", "custom_panic",
  "deadlock", "concurrent_map_access", "stack_overflow", "out_of_memory", "unexpected_signal", "cgo", "unsafe_pointer",
  "test_timeout", "data_race", "logged_error", "other"];
// How far a cycle's stored time may stray from its gctrace offset and still be the stream's own clock
// (a shipper's timestamp, taken as the line was written, is off by milliseconds; arrival after a burst by much more).
const STAMP_TOLERANCE_MS = 250;
const RANGES = { "15m": 15 * 60000, "1h": 3600000, "24h": 24 * 3600000 };

async function request(path) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(path, { headers });
  if (response.status === 401) {
    const entered = window.prompt("API token (Serve:ApiToken)");
    if (entered) {
      sessionStorage.setItem(TOKEN_KEY, entered);
      return request(path);
    }
  }
  return response;
}

async function api(path) {
  const response = await request(path);
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

/** The document, or null when the API answers 404 (a deep link to something that is gone). */
async function apiOrNull(path) {
  const response = await request(path);
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

async function apiText(path) {
  const response = await request(path);
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.text();
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

/** The fragment of a view: ids keep their colons readable, anything else is percent-encoded. */
function href(view, id) { return "#" + view + "/" + encodeURIComponent(id).replace(/%3A/g, ":"); }

function link(text, view, id) { return el("a", text, { href: href(view, id) }); }

/** Where an incident's event is: crashes and dumps have views of their own. */
function eventLink(e) {
  const text = e.kind + ": " + e.summary;
  if (e.id.startsWith("crash:")) return link(text, "crash", e.id);
  if (e.id.startsWith("goroutine_dump:")) return link(text, "dump", e.id);
  return el("span", text);
}

/** A message saying what to send to see something here. */
function empty(container, text, command) {
  clear(container);
  const box = el("div", null, { class: "empty" });
  box.appendChild(el("p", text));
  if (command) box.appendChild(el("pre", command));
  container.appendChild(box);
}

function goroutines(n) { return n + (n === 1 ? " goroutine" : " goroutines"); }

function host(doc) { return doc.host || doc.pod || doc.source || ""; }

function frameList(frames, highlight, mark, title) {
  const ol = el("ol", null, { class: "frames" });
  for (const f of frames || []) {
    const li = el("li", f.function + "  " + f.file + ":" + f.line);
    const marked = highlight && f.function === highlight.function && f.line === highlight.line && f.file === highlight.file;
    li.className = (marked ? mark + " " : "") + (f.in_app ? "in-app" : "");
    if (marked) li.setAttribute("title", title);
    ol.appendChild(li);
  }
  return ol;
}

function rawText(text) {
  const d = el("details");
  d.appendChild(el("summary", "raw text"));
  d.appendChild(el("pre", text, { class: "raw" }));
  return d;
}

// --- "N new since you looked" -------------------------------------------------------------------

// The list on screen and what it showed. The poller asks only for documents from the newest one shown on (a
// page of at most POLL_LIMIT) and counts those the view would show but did not.
const POLL_LIMIT = 100;
let watched = null;

function watch(path, query, docs, accept) {
  const newest = docs.reduce((max, d) => Math.max(max, Date.parse(d["@timestamp"])), -Infinity);
  const since = new URLSearchParams(query);
  if (newest > -Infinity) since.set("since", new Date(newest).toISOString());
  since.set("limit", String(POLL_LIMIT));
  watched = { url: path + "?" + since, seen: new Set(docs.map(d => d.id)), accept: accept || (() => true) };
  document.getElementById("new-items").hidden = true;
}

async function poll() {
  if (!watched || document.hidden) return;
  const current = watched;
  let docs;
  try { docs = await api(current.url); } catch { return; }
  if (current !== watched) return;
  const fresh = docs.filter(d => !current.seen.has(d.id) && current.accept(d)).length;
  const button = document.getElementById("new-items");
  button.textContent = (fresh === POLL_LIMIT ? fresh + "+" : fresh) + " new since you looked — show";
  button.hidden = fresh === 0;
}

// --- find: crash groups and crashes ---------------------------------------------------------------

function localInput(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

/** The time range of the filters: a preset ending now, or the custom from/to (ISO 8601 in the URL). */
function timeRange(params) {
  const now = Date.now();
  if (params.get("range") === "custom") {
    const from = Date.parse(params.get("from") || "");
    const to = Date.parse(params.get("to") || "");
    return { from: Number.isNaN(from) ? now - RANGES["24h"] : from, to: Number.isNaN(to) ? now : to };
  }
  return { from: now - (RANGES[params.get("range")] || RANGES["24h"]), to: now };
}

function sparkline(times, range) {
  const canvas = el("canvas", null, { width: 120, height: 24, class: "spark" });
  const buckets = new Array(24).fill(0);
  const width = Math.max(1, range.to - range.from);
  for (const t of times) {
    const i = Math.floor((t - range.from) / width * 24);
    if (i >= 0 && i < 24) buckets[i]++;
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

function setUpFilters() {
  const category = document.getElementById("f-category");
  for (const c of CATEGORIES) category.appendChild(el("option", c, { value: c }));
  const apply = () => {
    const params = new URLSearchParams();
    for (const input of document.querySelectorAll("#find [data-param]")) {
      let value = input.value.trim();
      if ((input.id === "f-from" || input.id === "f-to") && value) {
        if (document.getElementById("f-range").value !== "custom") continue;
        value = new Date(value).toISOString();
      }
      if (value) params.set(input.getAttribute("data-param"), value);
    }
    location.hash = "crashes" + (params.toString() ? "?" + params : "");
  };
  document.getElementById("f-apply").addEventListener("click", apply);
  document.getElementById("find").addEventListener("keydown", e => { if (e.key === "Enter") apply(); });
  document.getElementById("f-range").addEventListener("change", showCustomRange);
}

function showCustomRange() {
  const custom = document.getElementById("f-range").value === "custom";
  for (const label of document.querySelectorAll("#find .custom")) label.hidden = !custom;
}

function contains(value, needle) { return String(value || "").toLowerCase().includes(needle.toLowerCase()); }

function matches(doc, params, range) {
  const e = doc.event, t = Date.parse(doc["@timestamp"]);
  if (t < range.from || t > range.to) return false;
  if (params.get("host") && !contains(host(doc), params.get("host"))) return false;
  if (params.get("category") && e.category !== params.get("category")) return false;
  if (params.get("fingerprint") && !String(e.fingerprint || "").startsWith(params.get("fingerprint"))) return false;
  if (params.get("q") && !contains(e.message, params.get("q")) && !contains(e.log_message, params.get("q"))) return false;
  return true;
}

async function showCrashes(_, params) {
  for (const input of document.querySelectorAll("#find [data-param]")) {
    const value = params.get(input.getAttribute("data-param")) || "";
    input.value = input.type === "datetime-local" ? localInput(value) : value;
  }
  if (!params.get("range")) document.getElementById("f-range").value = "24h";
  showCustomRange();
  const range = timeRange(params);
  // The store filters by time and service; host, category, fingerprint and text are filtered here, over the
  // newest 1000 crashes of the range.
  const query = new URLSearchParams({ since: new Date(range.from).toISOString() });
  if (params.get("service")) query.set("service", params.get("service"));
  const [groups, crashes] = await Promise.all([api("/api/v1/crash-groups?limit=1000&since=" + encodeURIComponent(query.get("since"))), api("/api/v1/crashes?limit=1000&" + query)]);
  const found = crashes.filter(c => matches(c, params, range));
  const times = new Map();
  for (const c of found) {
    const fp = c.event.fingerprint;
    if (!times.has(fp)) times.set(fp, []);
    times.get(fp).push(Date.parse(c["@timestamp"]));
  }
  const groupBody = document.querySelector("#crash-groups tbody");
  clear(groupBody);
  const shown = groups.filter(g => times.has(g.fingerprint));
  for (const g of shown) {
    const t = times.get(g.fingerprint);
    const tr = row([link(new Date(Math.max(...t)).toISOString(), "group", g.fingerprint), t.length, g.count, sparkline(t, range), g.category, g.message,
      (g.services || []).join(", "), (g.hosts || []).join(", ")]);
    tr.className = "group";
    tr.addEventListener("click", e => { if (!(e.target instanceof HTMLAnchorElement)) location.hash = href("group", g.fingerprint); });
    groupBody.appendChild(tr);
  }
  const crashBody = document.querySelector("#crashes tbody");
  clear(crashBody);
  for (const c of found) {
    const e = c.event;
    crashBody.appendChild(row([link(c["@timestamp"], "crash", c.id), c.service, host(c), e.category, e.message, link(String(e.fingerprint).slice(0, 12), "group", e.fingerprint)]));
  }
  const emptyBox = document.getElementById("crashes-empty");
  clear(emptyBox);
  if (found.length === 0) {
    if ([...params.keys()].some(k => k !== "range")) empty(emptyBox, "No crash matches these filters in this range. Widen the range or clear the filters.");
    else empty(emptyBox, "No crashes in this range. Send a Go service's output to the logs topic, for example a panic:",
      "kcat -P -b BROKER -t logs -K '|' <<< 'pod-1|panic: boom'\ningest replay --bootstrap BROKER --topic logs service.log");
  }
  // A preset range keeps moving with the clock: crashes after the page was drawn are in it.
  const later = params.get("range") === "custom" ? range : { from: range.from, to: Infinity };
  watch("/api/v1/crashes", query, crashes, c => matches(c, params, later));
  status(shown.length + " crash groups, " + found.length + " crashes");
}

function crashDetail(container, doc) {
  const e = doc.event;
  container.appendChild(el("h3", e.category + ": " + e.message));
  container.appendChild(el("p", "service " + (doc.service || "-") + ", host " + (host(doc) || "-") + ", " + doc["@timestamp"]));
  const fp = el("p", "fingerprint ");
  fp.appendChild(link(e.fingerprint, "group", e.fingerprint));
  container.appendChild(fp);
  if (e.root_cause) container.appendChild(el("p", "root cause: " + e.root_cause.function + " (" + e.root_cause.file + ":" + e.root_cause.line + ")", { class: "root" }));
  if (e.crashing_goroutine) {
    container.appendChild(el("h4", "goroutine " + e.crashing_goroutine.id + " [" + e.crashing_goroutine.state + "]"));
    container.appendChild(frameList(e.crashing_goroutine.frames, e.root_cause, "root-cause", "root cause: first frame of the service's own code"));
  }
  if ((e.findings || []).length > 0) container.appendChild(findingList(e.findings));
  if ((e.buckets || []).length > 0) container.appendChild(bucketsByWaitSite(e.buckets));
  if (e.raw_text) container.appendChild(rawText(e.raw_text));
}

async function showCrash(id) {
  const container = document.getElementById("crash-detail");
  clear(container);
  const doc = await apiOrNull("/api/v1/crashes/" + encodeURIComponent(id));
  if (!doc) { empty(container, "No crash " + id + " in the store (it may have expired)."); return; }
  crashDetail(container, doc);
  status("crash " + id);
}

async function showGroup(fingerprint) {
  const container = document.getElementById("group-detail");
  clear(container);
  const since = new Date(Date.now() - 30 * 24 * 3600000).toISOString();
  const [groups, crashes] = await Promise.all([api("/api/v1/crash-groups?limit=1000&since=" + encodeURIComponent(since)), api("/api/v1/crashes?limit=1000&since=" + encodeURIComponent(since))]);
  const g = groups.find(x => x.fingerprint === fingerprint);
  if (!g) { empty(container, "No crash group with fingerprint " + fingerprint + " in the last 30 days."); return; }
  container.appendChild(el("h2", "Crash group " + g.fingerprint));
  container.appendChild(el("p", g.count + " crashes, first " + g.first_seen + ", last " + g.last_seen + "; services " + (g.services || []).join(", ") + "; hosts " + (g.hosts || []).join(", ")));
  const table = el("table", null, { id: "group-crashes" });
  table.appendChild(row(["time", "service", "host", "message"]));
  for (const c of crashes.filter(x => x.event.fingerprint === fingerprint)) table.appendChild(row([link(c["@timestamp"], "crash", c.id), c.service, host(c), c.event.message]));
  container.appendChild(table);
  container.appendChild(el("h3", "Latest crash"));
  const latest = await apiOrNull("/api/v1/crashes/" + encodeURIComponent(g.latest_id));
  if (latest) crashDetail(container, latest);
  status("group " + fingerprint);
}

// --- goroutine dumps ------------------------------------------------------------------------------

function statesText(states) {
  return Object.entries(states || {}).sort((a, b) => b[1] - a[1]).map(([s, n]) => n + " " + s).join(", ");
}

async function showDumps() {
  const dumps = await api("/api/v1/goroutine-dumps?limit=50");
  const body = document.querySelector("#dumps tbody");
  clear(body);
  for (const d of dumps) {
    const e = d.event;
    const findings = el("span");
    for (const f of e.findings || []) findings.appendChild(el("span", f.kind, { class: "finding-tag finding-" + f.kind }));
    body.appendChild(row([link(d["@timestamp"], "dump", d.id), d.service, host(d), e.goroutine_count, statesText(e.states), findings]));
  }
  const emptyBox = document.getElementById("dumps-empty");
  clear(emptyBox);
  if (dumps.length === 0) {
    empty(emptyBox, "No goroutine dumps yet. Send one to the logs topic: SIGQUIT a Go service whose stderr is shipped, or fetch its goroutine profile:",
      "kill -QUIT <pid>\ncurl -s 'http://service:6060/debug/pprof/goroutine?debug=2' | ingest replay --bootstrap BROKER --topic logs -");
  }
  watch("/api/v1/goroutine-dumps", "", dumps);
  status(dumps.length + " goroutine dumps");
}

function site(s) { return s ? s.function + " (" + s.file + ":" + s.line + ")" : "unknown site"; }

function findingList(findings) {
  const box = el("div", null, { class: "findings" });
  for (const f of findings) {
    const item = el("div", null, { class: "finding finding-" + f.kind });
    item.appendChild(el("strong", f.kind.replaceAll("_", " ")));
    item.appendChild(el("p", f.summary));
    if (f.wait_site) item.appendChild(el("p", "wait site: " + site(f.wait_site)));
    if (f.suspected_holder) {
      const h = f.suspected_holder;
      item.appendChild(el("p", "suspected holder: goroutine " + h.id + " [" + h.state + "] in " + h.function + (h.reason ? " — " + h.reason : ""), { class: "holder" }));
    }
    if ((f.sample_ids || []).length > 0) item.appendChild(el("p", goroutines(f.goroutine_count) + ", e.g. " + f.sample_ids.slice(0, 10).join(", ")));
    box.appendChild(item);
  }
  return box;
}

/** Buckets under the wait site in the service's code they share, largest first; each opens to its stack. */
function bucketsByWaitSite(buckets) {
  const sites = new Map();
  for (const b of buckets) {
    const key = b.wait_site ? b.wait_site.function + "\n" + b.wait_site.file + "\n" + b.wait_site.line : "";
    if (!sites.has(key)) sites.set(key, { site: b.wait_site, count: 0, buckets: [] });
    const s = sites.get(key);
    s.count += b.count;
    s.buckets.push(b);
  }
  const box = el("div", null, { class: "wait-sites" });
  for (const s of [...sites.values()].sort((a, b) => b.count - a.count)) {
    const group = el("div", null, { class: "wait-site" });
    group.appendChild(el("h4", goroutines(s.count) + " at " + site(s.site)));
    for (const b of s.buckets) {
      const d = el("details", null, { class: "bucket" });
      let text = b.count + " × [" + b.state + "] " + (b.top_function || "");
      if (b.created_by) text += " · created by " + b.created_by;
      if (b.max_wait_minutes) text += " · waiting " + (b.min_wait_minutes === b.max_wait_minutes ? b.max_wait_minutes : b.min_wait_minutes + "–" + b.max_wait_minutes) + " min";
      d.appendChild(el("summary", text));
      if ((b.ids || []).length > 0) d.appendChild(el("p", "goroutines " + b.ids.slice(0, 20).join(", ") + (b.ids.length > 20 ? " …" : "")));
      d.appendChild(frameList(b.frames, b.wait_site, "wait-site", "wait site: first frame of the service's own code"));
      group.appendChild(d);
    }
    box.appendChild(group);
  }
  return box;
}

async function showDump(id) {
  const container = document.getElementById("dump-detail");
  clear(container);
  const doc = await apiOrNull("/api/v1/goroutine-dumps/" + encodeURIComponent(id));
  if (!doc) { empty(container, "No goroutine dump " + id + " in the store (it may have expired)."); return; }
  const e = doc.event;
  container.appendChild(el("h2", "Goroutine dump: " + goroutines(e.goroutine_count) + (e.signal ? " (" + e.signal + ")" : "") + (e.repeats > 1 ? ", seen " + e.repeats + " times in a row" : "")));
  container.appendChild(el("p", "service " + (doc.service || "-") + ", host " + (host(doc) || "-") + ", " + doc["@timestamp"] + (e.truncated ? ", truncated" : "")));
  const states = el("ul", null, { class: "states" });
  for (const [s, n] of Object.entries(e.states || {}).sort((a, b) => b[1] - a[1])) states.appendChild(el("li", n + " " + s));
  container.appendChild(states);
  if ((e.findings || []).length > 0) container.appendChild(findingList(e.findings));
  container.appendChild(bucketsByWaitSite(e.buckets || []));
  if (e.raw_text) container.appendChild(rawText(e.raw_text));
  status("dump " + id);
}

// --- leak suspects --------------------------------------------------------------------------------

const leakCharts = [];

/** The dump a snapshot was: snapshot_lines are stored positions, and a dump's id is built from its position. */
function snapshotDumpId(doc, position) {
  return "goroutine_dump:" + doc.topic + ":" + doc.partition + ":" + Math.floor(position / LINES_PER_MESSAGE) + ":" + position % LINES_PER_MESSAGE;
}

async function showLeaks() {
  const leaks = await api("/api/v1/leak-suspects?limit=100");
  const root = document.getElementById("leaks");
  for (const c of leakCharts.splice(0)) c.destroy();
  clear(root);
  for (const doc of leaks) {
    const e = doc.event;
    const box = el("div", null, { class: "leak" });
    box.appendChild(el("h3", "created by " + e.created_by));
    box.appendChild(el("p", "top function " + e.top_function + "; service " + (doc.service || "-") + ", host " + (host(doc) || "-") + "; +" + e.growth_per_snapshot + " goroutines per dump"));
    const canvas = el("canvas", null, { width: 360, height: 120, class: "leak-chart", "data-counts": e.counts.join(",") });
    const chartBox = el("div", null, { class: "leak-chart-box" });
    chartBox.appendChild(canvas);
    box.appendChild(chartBox);
    const dumps = el("ol", null, { class: "snapshots" });
    (e.snapshot_lines || []).forEach((p, i) => {
      const li = el("li");
      li.appendChild(link("dump " + (i + 1) + ": " + goroutines(e.counts[i]), "dump", snapshotDumpId(doc, p)));
      dumps.appendChild(li);
    });
    box.appendChild(dumps);
    root.appendChild(box);
    leakCharts.push(new Chart(canvas, {
      type: "line",
      data: { labels: e.counts.map((_, i) => "dump " + (i + 1)), datasets: [{ label: "goroutines", data: e.counts, borderColor: "#b00020", pointRadius: 3 }] },
      options: { animation: false, responsive: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
    }));
  }
  if (leaks.length === 0) {
    empty(root, "No leak suspects. They appear when successive goroutine dumps of one process show a creation site growing: send two or more dumps of the same process some time apart.",
      "curl -s 'http://service:6060/debug/pprof/goroutine?debug=2'   # now, and again in a few minutes, into the logs topic");
  }
  watch("/api/v1/leak-suspects", "", leaks);
  status(leaks.length + " leak suspects");
}

// --- GC -------------------------------------------------------------------------------------------

let gcChart = null;

/**
 * The cycles of one instance on their own timeline. gctrace prints no time of day, only "@Ns" since the process
 * started, so a cycle's stored time is the stream's (a CRI or envelope time, a producer's message time) or, for a
 * replayed or backfilled trace without one, its arrival, where whole runs pile up. Within a run of the process
 * (cycle numbers and offsets rising), stored times that keep within STAMP_TOLERANCE_MS of the offsets are the
 * stream's and are used; otherwise each cycle is placed at the run's first stored time plus its offset from the
 * run's first cycle.
 */
function timeline(cycles) {
  const runs = [];
  let run = null;
  for (const c of cycles) {
    const e = c.event;
    if (!run || e.num <= run.last.event.num || e.at_seconds < run.last.event.at_seconds) runs.push(run = { cycles: [] });
    run.cycles.push(c);
    run.last = c;
  }
  let offsets = 0;
  const points = [];
  for (const r of runs) {
    const first = r.cycles[0];
    const anchor = Date.parse(first["@timestamp"]);
    const byOffset = c => anchor + (c.event.at_seconds - first.event.at_seconds) * 1000;
    const useStamps = r.cycles.every(c => Math.abs(Date.parse(c["@timestamp"]) - byOffset(c)) <= STAMP_TOLERANCE_MS);
    if (!useStamps) offsets++;
    for (const c of r.cycles) {
      const x = useStamps ? Date.parse(c["@timestamp"]) : byOffset(c);
      points.push({ x, y: c.event.pause_ms, anomalies: c.event.anomalies || [], num: c.event.num });
    }
  }
  return { points, clock: offsets === 0 ? "stream timestamps" : offsets === runs.length ? "gctrace @ offsets from the first cycle" : "stream timestamps and gctrace @ offsets" };
}

async function showGc(_, params) {
  const select = document.getElementById("gc-service");
  const services = await api("/api/v1/gc/services");
  const emptyBox = document.getElementById("gc-empty");
  clear(emptyBox);
  if (select.options.length !== services.length) {
    clear(select);
    for (const s of services) select.appendChild(el("option", s, { value: s }));
  }
  if (services.length === 0) {
    if (gcChart) { gcChart.destroy(); gcChart = null; }
    empty(emptyBox, "No GC cycles yet. Run the service with gctrace on and ship its stderr to the logs topic:", "GODEBUG=gctrace=1 ./service 2>&1 | …");
    status("no GC cycles yet");
    return;
  }
  const service = services.includes(params.get("service")) ? params.get("service") : services[0];
  select.value = service;
  // The newest cycles whatever their stored time: a backfilled trace is days old.
  const cycles = (await api("/api/v1/events/gc?limit=1000&service=" + encodeURIComponent(service))).reverse();
  const byInstance = new Map();
  for (const c of cycles) {
    const key = host(c);
    if (!byInstance.has(key)) byInstance.set(key, []);
    byInstance.get(key).push(c);
  }
  const clocks = document.getElementById("gc-clocks");
  clear(clocks);
  const datasets = [];
  const anomalies = [];
  const colours = ["#0b4fa3", "#2a8f4f", "#8a5a00", "#6b3fa0"];
  let all = [];
  for (const [instance, list] of byInstance) {
    // Stream order, not stored-time order: a burst shares one millisecond.
    const t = timeline(list.sort((a, b) => a.partition - b.partition || a.event.offset - b.event.offset || a.event.line_index - b.event.line_index));
    clocks.appendChild(el("li", instance + ": " + t.points.length + " cycles on " + t.clock, { "data-instance": instance, "data-clock": t.clock }));
    datasets.push({ label: instance + " pause (ms)", data: t.points.map(p => ({ x: p.x, y: p.y })), borderColor: colours[datasets.length % colours.length], pointRadius: 0, borderWidth: 1 });
    for (const p of t.points) for (const a of p.anomalies) anomalies.push({ instance, p, a });
    all = all.concat(t.points);
  }
  datasets.push({ label: "anomalies", data: anomalies.map(x => ({ x: x.p.x, y: x.p.y })), showLine: false, pointRadius: 5, pointBackgroundColor: "#b00020", borderColor: "#b00020" });
  const xs = all.map(p => p.x);
  const span = xs.length ? Math.max(...xs) - Math.min(...xs) : 0;
  // Milliseconds matter when a whole trace lasts seconds.
  const tick = v => new Date(v).toISOString().slice(0, span < 60000 ? 23 : 19).replace("T", " ");
  const config = {
    type: "line",
    data: { datasets },
    options: { animation: false, parsing: false, scales: { x: { type: "linear", ticks: { callback: tick } }, y: { title: { display: true, text: "ms" } } } },
  };
  if (gcChart) gcChart.destroy();
  const canvas = document.getElementById("gc-chart");
  gcChart = new Chart(canvas, config);
  canvas.setAttribute("data-points", String(all.length));
  canvas.setAttribute("data-span-ms", String(Math.round(span)));
  const body = document.querySelector("#gc-anomalies tbody");
  clear(body);
  for (const x of anomalies) body.appendChild(row([new Date(x.p.x).toISOString(), x.instance, x.p.num, x.a.kind, x.a.reason]));
  if (anomalies.length === 0) body.appendChild(row(["no anomalies in these cycles"]));
  status(service + ": " + all.length + " cycles");
}

// --- incidents ------------------------------------------------------------------------------------

function incidentBox(doc, titled) {
  const i = doc.event;
  const box = el("div", null, { class: "incident" });
  const title = "root cause: " + i.root_cause.service + " " + i.root_cause.kind + " — " + i.root_cause.summary;
  const h = el(titled ? "h2" : "h3");
  if (titled) h.textContent = title; else h.appendChild(link(title, "incident", doc.id));
  box.appendChild(h);
  box.appendChild(el("p", "path: " + i.path.map(p => p.service + (p.recovered ? " (recovered)" : "")).join(" → ")));
  const table = el("table");
  table.appendChild(row(["time (RFC 3339)", "HLC", "node", "service", "event"]));
  for (const e of i.events) {
    const tr = row([e.time, e.hlc, e.node, e.service, eventLink(e)]);
    if (e.clock_skew) tr.lastChild.appendChild(el("span", "clock skew", { class: "flag" }));
    if (e.late) tr.lastChild.appendChild(el("span", "late", { class: "flag" }));
    table.appendChild(tr);
  }
  box.appendChild(table);
  return box;
}

async function showIncidents() {
  const incidents = await api("/api/v1/incidents?limit=100");
  const root = document.getElementById("incidents");
  clear(root);
  for (const doc of incidents) root.appendChild(incidentBox(doc, false));
  if (incidents.length === 0) {
    empty(root, "No incidents yet. An incident forms from a crash, a blocking goroutine finding or a GC anomaly (Correlation:Enabled); OpenTelemetry spans on the spans topic link failures across services.",
      "kcat -P -b BROKER -t logs -K '|' <<< 'pod-1|panic: boom'");
  }
  watch("/api/v1/incidents", "", incidents);
  status(incidents.length + " incidents");
}

// Elements Markdig generates for the draft; anything else is unwrapped to its text.
const MARKDOWN_TAGS = new Set(["H1", "H2", "H3", "H4", "H5", "H6", "P", "UL", "OL", "LI", "TABLE", "THEAD", "TBODY", "TR", "TH", "TD",
  "CODE", "PRE", "STRONG", "EM", "A", "BR", "HR", "BLOCKQUOTE", "DEL"]);

function safeHref(value) {
  try {
    const url = new URL(value, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch { return null; }
}

/** Copies the rendered draft element by element: only known tags, only http(s) links, text as text nodes. */
function importMarkdown(from, into) {
  for (const child of from.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) { into.appendChild(document.createTextNode(child.data)); continue; }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    if (!MARKDOWN_TAGS.has(child.tagName)) { importMarkdown(child, into); continue; }
    const copy = document.createElement(child.tagName.toLowerCase());
    if (child.tagName === "A") {
      const target = safeHref(child.getAttribute("href") || "");
      if (target) copy.setAttribute("href", target);
    }
    importMarkdown(child, copy);
    into.appendChild(copy);
  }
}

let postmortemUrl = null;

async function showIncident(id, params) {
  const detail = document.getElementById("incident-detail");
  const article = document.getElementById("postmortem");
  clear(detail);
  clear(article);
  const doc = await apiOrNull("/api/v1/incidents/" + encodeURIComponent(id));
  document.getElementById("postmortem-box").hidden = !doc;
  if (!doc) { empty(detail, "No incident " + id + " in the store."); return; }
  detail.appendChild(incidentBox(doc, true));
  const lang = params.get("lang") === "zh" ? "zh" : "en";
  for (const l of ["en", "zh"]) {
    const a = document.getElementById("pm-" + l);
    a.setAttribute("href", href("incident", id) + "?lang=" + l);
    a.classList.toggle("active", l === lang);
  }
  const base = "/api/v1/incidents/" + encodeURIComponent(id) + "/postmortem";
  const [html, markdown] = await Promise.all([apiText(base + ".html?lang=" + lang), apiText(base + "?lang=" + lang)]);
  // A parsed document is inert (no scripts run, nothing loads); its nodes are copied, never inserted as HTML.
  importMarkdown(new DOMParser().parseFromString(html, "text/html").body, article);
  article.setAttribute("lang", lang);
  if (postmortemUrl) URL.revokeObjectURL(postmortemUrl);
  postmortemUrl = URL.createObjectURL(new Blob([markdown], { type: "text/markdown;charset=utf-8" }));
  const download = document.getElementById("pm-download");
  download.setAttribute("href", postmortemUrl);
  download.setAttribute("download", "postmortem-" + id.replace(/[^A-Za-z0-9._-]+/g, "_") + "-" + lang + ".md");
  status("incident " + id);
}

// --- dependency graph -----------------------------------------------------------------------------

async function showGraph() {
  const body = document.querySelector("#graph-edges tbody");
  const svg = document.getElementById("graph-svg");
  const emptyBox = document.getElementById("graph-empty");
  clear(body);
  clear(svg);
  clear(emptyBox);
  const doc = await apiOrNull("/api/v1/dependency-graph");
  const edges = doc ? doc.event.edges : [];
  if (edges.length === 0) {
    empty(emptyBox, "No dependency graph yet: send OpenTelemetry spans with parents to the spans topic (the Collector's Kafka exporter, otlp_spans).");
    status("no dependency graph yet");
    return;
  }
  for (const e of edges) body.appendChild(row([e.caller, e.callee, e.calls, e.errors, e.crashes_propagated]));
  // A layered drawing: callers left of callees.
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

// Fragment name → the section it shows, the nav entry it belongs to, and how to draw it (id, query parameters).
const views = {
  crashes: { nav: "crashes", show: showCrashes },
  group: { nav: "crashes", show: showGroup },
  crash: { nav: "crashes", show: showCrash },
  dumps: { nav: "dumps", show: showDumps },
  dump: { nav: "dumps", show: showDump },
  leaks: { nav: "leaks", show: showLeaks },
  gc: { nav: "gc", show: showGc },
  incidents: { nav: "incidents", show: showIncidents },
  incident: { nav: "incidents", show: showIncident },
  graph: { nav: "graph", show: showGraph },
};

function parseHash() {
  const hash = location.hash.slice(1);
  const q = hash.indexOf("?");
  const path = q < 0 ? hash : hash.slice(0, q);
  const slash = path.indexOf("/");
  const name = slash < 0 ? path : path.slice(0, slash);
  let id = null;
  if (slash >= 0) { try { id = decodeURIComponent(path.slice(slash + 1)); } catch { id = path.slice(slash + 1); } }
  const known = views[name] && (id === null) === !["group", "crash", "dump", "incident"].includes(name);
  return known ? { name, id, params: new URLSearchParams(q < 0 ? "" : hash.slice(q + 1)) } : { name: "crashes", id: null, params: new URLSearchParams() };
}

let routing = 0;

async function route() {
  const seq = ++routing;
  const { name, id, params } = parseHash();
  watched = null;
  document.getElementById("new-items").hidden = true;
  document.body.removeAttribute("data-ready");
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== "view-" + name;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("data-view") === views[name].nav);
  try {
    await views[name].show(id, params);
    if (seq === routing) document.body.setAttribute("data-ready", name);
  } catch (err) {
    if (seq !== routing) return;
    status(String(err.message || err));
    document.body.setAttribute("data-ready", "error");
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => {
  setUpFilters();
  document.getElementById("gc-service").addEventListener("change", e => { location.hash = "gc?service=" + encodeURIComponent(e.target.value); });
  document.getElementById("new-items").addEventListener("click", route);
  setInterval(poll, POLL_MS);
  route();
});
