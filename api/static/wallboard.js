// The wallboard: one tile per queue from the /v1/stream/wallboard pushes — waiting, longest
// wait (ticking locally between pushes), a service-level gauge coloured by the target, agents
// by state, and today's charts per interval (volume; service level). Marks itself stale when
// no push arrived for more than 2 s. Stable hooks for tests: [data-queue] tiles holding
// [data-metric] values.
import { $, fmtClock, fmtDuration, fmtPct, signIn, stream } from "/static/ccx.js";

const STATES = ["available", "reserved", "handling", "wrap_up", "not_ready"];
const STALE_MS = 2000;
const DEFAULT_SL_TARGET = 0.8;
const NS = "http://www.w3.org/2000/svg";
const esc = s => String(s ?? "").replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
const css = v => getComputedStyle(document.documentElement).getPropertyValue(v).trim();

let lastPush = 0;
const waitingSince = new Map(); // queue id -> {base: longest wait in s at the push, at: local ms}

/** The service-level colour: green at or above target, amber within 10 points, red below. */
export function slColour(v, target) {
  if (v == null) return css("--dim");
  return v >= target ? css("--ok") : v >= target - 0.1 ? css("--warn") : css("--bad");
}

function gauge(v, target) {
  const r = 34, len = Math.PI * r, frac = v == null ? 0 : Math.max(0, Math.min(1, v));
  const col = slColour(v, target);
  const tx = 46 - r * Math.cos(Math.PI * target), ty = 50 - r * Math.sin(Math.PI * target);
  return `<svg width="92" height="62" viewBox="0 0 92 62" role="img" aria-label="service level"
      data-metric="service_level" data-value="${v ?? ""}" data-target="${target}" data-colour="${col}">
    <path d="M12 50 A34 34 0 0 1 80 50" fill="none" stroke="${css("--inset")}" stroke-width="10"/>
    <path d="M12 50 A34 34 0 0 1 80 50" fill="none" stroke="${col}" stroke-width="10" stroke-dasharray="${len * frac} ${len}"/>
    <line x1="${46 - (r - 7) * Math.cos(Math.PI * target)}" y1="${50 - (r - 7) * Math.sin(Math.PI * target)}"
          x2="${tx + (tx - 46) * 0.22}" y2="${ty + (ty - 50) * 0.22}" stroke="${css("--ink")}" stroke-width="1.5"/>
    <text x="46" y="47" text-anchor="middle" style="fill:${col};font-size:17px;font-weight:600">${fmtPct(v)}</text>
    <text x="46" y="61" text-anchor="middle">SL (target ${fmtPct(target)})</text></svg>`;
}

const hhmm = ms => new Date(ms).toISOString().slice(11, 16);

function volumeChart(series) {
  const W = 400, H = 96, left = 22, bottom = 14, top = 4;
  if (!series.length) return `<svg width="${W}" height="24" data-chart="volume"><text x="0" y="14">no intervals yet today</text></svg>`;
  const max = Math.max(1, ...series.map(s => Math.max(s.offered || 0, s.answered || 0, s.abandoned || 0)));
  const slot = (W - left) / series.length, bw = Math.max(1, Math.min(5, slot / 3 - 1));
  const y = v => H - bottom - (v / max) * (H - bottom - top);
  let bars = "";
  series.forEach((s, i) => {
    const x = left + i * slot;
    [["offered", "#4b5d73"], ["answered", css("--reserved")], ["abandoned", css("--bad")]].forEach(([k, col], j) => {
      const v = s[k] || 0;
      bars += `<rect x="${x + j * (bw + 1)}" y="${y(v)}" width="${bw}" height="${H - bottom - y(v)}" fill="${col}"><title>${hhmm(s.interval_start)} ${k} ${v}</title></rect>`;
    });
  });
  return `<svg width="${W}" height="${H}" data-chart="volume" data-points="${series.length}" role="img" aria-label="offered, answered and abandoned per interval today">
    ${bars}<text x="0" y="10">${max}</text><text x="0" y="${H - bottom}">0</text>
    <text x="${left}" y="${H - 2}">${hhmm(series[0].interval_start)}</text>
    <text x="${W}" y="${H - 2}" text-anchor="end">${hhmm(series[series.length - 1].interval_start)} · offered · <tspan style="fill:${css("--reserved")}">answered</tspan> · <tspan style="fill:${css("--bad")}">abandoned</tspan></text></svg>`;
}

function slChart(series, target) {
  const W = 400, H = 70, left = 22, bottom = 12, top = 4;
  const pts = series.map((s, i) => [i, s.service_level]).filter(([, v]) => v != null);
  if (!pts.length) return `<svg width="${W}" height="20" data-chart="sl"><text x="0" y="14">no service level yet today</text></svg>`;
  const slot = (W - left) / series.length;
  const x = i => left + i * slot + slot / 2, y = v => H - bottom - v * (H - bottom - top);
  const line = pts.map(([i, v], k) => `${k ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)}`).join(" ");
  const dots = pts.map(([i, v]) => `<circle cx="${x(i)}" cy="${y(v)}" r="2" fill="${slColour(v, target)}"><title>${hhmm(series[i].interval_start)} SL ${fmtPct(v)}</title></circle>`).join("");
  return `<svg width="${W}" height="${H}" data-chart="sl" data-points="${pts.length}" role="img" aria-label="service level per interval today">
    <line x1="${left}" x2="${W}" y1="${y(target)}" y2="${y(target)}" stroke="${css("--dim")}" stroke-dasharray="3 3"/>
    <path d="${line}" fill="none" stroke="${css("--ok")}" stroke-width="1.5"/>${dots}
    <text x="0" y="10">100%</text><text x="0" y="${H - bottom}">0</text>
    <text x="${W}" y="${H - 1}" text-anchor="end">service level per interval · target ${fmtPct(target)}</text></svg>`;
}

function tile(q, series) {
  const m = q.current || q, agents = q.agents || {};
  // The live queue document has no service-level target yet (processors/live_stats.queue_view
  // gives the threshold, sl_threshold_s, not the goal): 80% until it carries `sl_target`.
  const target = q.sl_target ?? DEFAULT_SL_TARGET;
  const total = STATES.reduce((n, s) => n + (agents[s] || 0), 0) || 1;
  const stack = STATES.map(s => `<div style="width:${((agents[s] || 0) / total) * 100}%;background:${css("--" + s)}" title="${s} ${agents[s] || 0}"></div>`).join("");
  const states = STATES.map(s => `<div style="border-top-color:${css("--" + s)}"><b data-metric="${s}">${agents[s] || 0}</b>${s.replace("_", " ")}</div>`).join("");
  return `<h2>${esc(q.name || q.queue_id)} <small>interval ${q.interval_start ? hhmm(q.interval_start) : ""} UTC · SL ≤ ${q.sl_threshold_s ?? "?"}s</small></h2>
    <div class="row">${gauge(m.service_level, target)}
      <div class="big">
        <div class="kpi ${q.waiting > 0 ? "alert" : ""}"><b data-metric="waiting">${q.waiting}</b><span>waiting</span></div>
        <div class="kpi"><b data-metric="longest_wait">${fmtDuration(q.longest_wait_s)}</b><span>longest wait</span></div>
        <div class="kpi"><b>${agents.available || 0}</b><span>available</span></div>
      </div></div>
    <div class="stack">${stack}</div><div class="states">${states}</div>
    <div class="small">
      <div><b data-metric="offered">${m.offered ?? 0}</b>offered</div><div><b data-metric="answered">${m.answered ?? 0}</b>answered</div>
      <div><b data-metric="abandoned">${m.abandoned ?? 0}</b>abandoned</div><div><b>${m.short_abandoned ?? 0}</b>short abandons</div>
      <div><b>${fmtDuration(m.asa_s)}</b>ASA</div><div><b>${fmtDuration(m.aht_s)}</b>AHT</div>
      <div><b>${fmtPct(m.abandon_rate)}</b>abandon rate</div><div><b>${fmtDuration(m.longest_wait_s)}</b>max wait (interval)</div>
    </div>
    <div class="charts">${volumeChart(series || [])}${slChart(series || [], target)}</div>`;
}

function render(doc) {
  lastPush = Date.now();
  const board = $("#board");
  board.dataset.asOf = doc.as_of;
  $("#empty")?.remove();
  const seen = new Set();
  for (const q of doc.queues) {
    seen.add(q.queue_id);
    let el = board.querySelector(`[data-queue="${CSS.escape(q.queue_id)}"]`);
    if (!el) {
      el = document.createElement("section");
      el.className = "tile";
      el.dataset.queue = q.queue_id;
      board.append(el);
    }
    el.innerHTML = tile(q, (doc.series || {})[q.queue_id]);
    waitingSince.set(q.queue_id, q.waiting > 0 ? { base: q.longest_wait_s || 0, at: lastPush } : null);
  }
  for (const el of board.querySelectorAll("[data-queue]")) if (!seen.has(el.dataset.queue)) el.remove();
  if (!doc.queues.length && !$("#empty")) board.innerHTML = `<div id="empty">no queues defined yet</div>`;
  const st = $("#status");
  st.dataset.stale = "false";
  st.textContent = `tenant ${doc.tenant} · as of ${fmtClock(doc.as_of)}`;
}

/** Between pushes: the longest wait keeps counting, and a silent stream is marked stale. */
function tick() {
  const now = Date.now();
  for (const [qid, w] of waitingSince) {
    if (!w) continue;
    const el = document.querySelector(`[data-queue="${CSS.escape(qid)}"] [data-metric="longest_wait"]`);
    if (el) el.textContent = fmtDuration(w.base + (now - w.at) / 1000);
  }
  const st = $("#status");
  if (lastPush && now - lastPush > STALE_MS && st.dataset.stale !== "true") {
    st.dataset.stale = "true";
    st.textContent = `stale: no update since ${fmtClock(lastPush)} (${st.dataset.state})`;
  }
}

await signIn(["supervisor", "analyst", "admin"], "the wallboard");
stream($("#board").dataset.stream, render, state => { $("#status").dataset.state = state; });
setInterval(tick, 250);
