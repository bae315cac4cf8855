// The admin page: the configuration in force (GET /v1/config) as one table per kind, a form
// per kind that PUTs /v1/config/{kind}/{id} and shows the resulting events or the rejection,
// and supervisor actions on the agents table (force ready / not ready / logout, move between
// queues). Fields not on a form are edited as JSON in the form's "more fields" box.
import { $, $$, ApiError, api, h, notify, reasonOf, signIn } from "/static/ccx.js";

const STRATEGIES = ["longest_idle", "fewest_answered", "round_robin", "linear", "random", "weighted_random",
  "ring_all", "best_skill"];

/** Per kind: the id field, the form's fields [name, type, default], the Define* fields edited as JSON, the table's columns. */
const KINDS = {
  queues: { id: "queue_id", title: "Queues",
    fields: [["name", "text", ""], ["strategy", "select", "longest_idle", STRATEGIES], ["sl_threshold_s", "number", 20],
      ["ring_timeout_s", "number", 15], ["wrap_up_s", "number", 60], ["hours", "text", ""]],
    more: ["short_abandon_s", "priority", "priority_aging_s", "required_skills", "max_tier", "relax", "max_waiting",
      "overflow", "sticky_s", "rona_not_ready", "auto_ready"],
    columns: ["queue_id", "name", "strategy", "sl_threshold_s", "ring_timeout_s", "wrap_up_s", "hours"] },
  agents: { id: "agent_id", title: "Agents",
    fields: [["name", "text", ""], ["team", "text", ""], ["queues", "list", []]],
    more: ["memberships", "skills", "capacity"],
    columns: ["agent_id", "name", "team", "queues", "state"] },
  skills: { id: "skill_id", title: "Skills", fields: [["name", "text", ""]], more: [], columns: ["skill_id", "name"] },
  schedules: { id: "schedule_id", title: "Schedules",
    fields: [["name", "text", ""], ["timezone", "text", "UTC"], ["holidays", "list", []]],
    more: ["windows"], columns: ["schedule_id", "name", "timezone", "windows", "holidays"] },
  dispositions: { id: "code", title: "Dispositions", fields: [["name", "text", ""], ["queues", "list", []]],
    more: [], columns: ["code", "name", "queues"] },
};

const me = await signIn(["admin", "supervisor"], "the admin page");
const canConfigure = me.role === "admin" || me.role === "anonymous";
let config = { queues: [], agents: [], skills: [], schedules: [], dispositions: [] };
let live = new Map(); // agent id -> live agent (state, presence, reason)
const enc = encodeURIComponent;

const cell = v => (Array.isArray(v) ? v.map(x => (typeof x === "object" ? JSON.stringify(x) : x)).join(", ")
  : v != null && typeof v === "object" ? JSON.stringify(v) : v ?? "");

function showOutcome(what, status, text) {
  $("#outcome-what").textContent = what;
  const out = $("#outcome");
  out.dataset.status = status;
  out.textContent = text;
}

// ---- sections ----

function section(kind) {
  const k = KINDS[kind];
  const cols = [...k.columns, "actions"];
  const table = h("table", { id: `table-${kind}` },
    h("thead", {}, h("tr", {}, cols.map(c => h("th", {}, c.replaceAll("_", " "))))), h("tbody"));
  const inputs = [h("label", {}, k.id.replace("_", " "), h("input", { name: k.id, required: true, pattern: "[A-Za-z0-9_.:\\-]+",
    title: "letters, digits, _ . : -" }))];
  for (const [name, type, def, options] of k.fields) {
    const input = type === "select"
      ? h("select", { name }, options.map(o => h("option", { value: o, selected: o === def }, o)))
      : h("input", { name, type: type === "number" ? "number" : "text", value: Array.isArray(def) ? def.join(", ") : def,
          placeholder: type === "list" ? "comma separated" : "", required: name === "name" });
    inputs.push(h("label", {}, name.replaceAll("_", " "), input));
  }
  if (k.more.length) {
    inputs.push(h("label", { class: "wide" }, `more fields (JSON object: ${k.more.join(", ")})`,
      h("textarea", { name: "__more", placeholder: "{}" })));
  }
  const form = h("form", { id: `form-${kind}`, class: "stack", dataset: { kind } }, inputs,
    h("button", { class: "primary", type: "submit" }, `Save ${kind.slice(0, -1)}`),
    h("button", { type: "reset" }, "Clear"));
  form.addEventListener("submit", ev => { ev.preventDefault(); save(kind, form); });
  form.hidden = !canConfigure;
  return h("section", { class: "panel kind", id: `kind-${kind}` }, h("h2", {}, k.title, h("small", { id: `count-${kind}` })),
    table, form);
}

function renderTable(kind) {
  const k = KINDS[kind];
  const rows = (config[kind] || []).map(item => {
    const id = item[k.id];
    const tds = k.columns.map(c => {
      if (kind === "agents" && c === "state") {
        const a = live.get(id);
        return h("td", { "data-col": "state" }, a ? `${a.state}${a.reason ? " (" + a.reason + ")" : ""}` : "–");
      }
      return h("td", { "data-col": c, class: Array.isArray(item[c]) ? "list" : "" }, cell(item[c]));
    });
    const actions = h("td", { class: "actions" });
    if (canConfigure) actions.append(h("button", { onclick: () => edit(kind, item), "data-action": "edit" }, "Edit"));
    if (kind === "agents") actions.append(...supervisorActions(item));
    return h("tr", { "data-id": id }, tds, actions);
  });
  $(`#table-${kind} tbody`).replaceChildren(...rows);
  $(`#count-${kind}`).textContent = `${rows.length}`;
}

function supervisorActions(agent) {
  const id = agent.agent_id, path = `/v1/supervisor/agents/${enc(id)}`;
  const queues = h("input", { class: "queues", value: (agent.queues || []).join(","), "aria-label": `queues of ${id}` });
  return [
    h("button", { "data-action": "force-ready", onclick: () => send("POST", `${path}/force-ready`, undefined, `force ${id} ready`) }, "Ready"),
    h("button", { "data-action": "force-not-ready",
      onclick: () => send("POST", `${path}/force-not-ready`, { reason: $("#force-reason").value }, `force ${id} not ready`) }, "Not ready"),
    h("button", { "data-action": "force-logout", onclick: () => send("POST", `${path}/force-logout`, undefined, `log ${id} out`) }, "Log out"),
    queues,
    h("button", { "data-action": "move", onclick: () => send("PUT", `${path}/queues`,
      { queues: queues.value.split(",").map(s => s.trim()).filter(Boolean) }, `move ${id}`) }, "Move"),
  ];
}

function edit(kind, item) {
  const k = KINDS[kind], form = $(`#form-${kind}`);
  form.elements[k.id].value = item[k.id];
  for (const [name, type] of k.fields) {
    const v = item[name];
    form.elements[name].value = type === "list" ? (v || []).join(", ") : v ?? "";
  }
  if (k.more.length) {
    const more = Object.fromEntries(k.more.filter(f => f in item).map(f => [f, item[f]]));
    form.elements.__more.value = JSON.stringify(more, null, 1);
  }
  form.scrollIntoView({ block: "nearest" });
}

// ---- commands ----

/** The Define* body of a form (the id is in the path); throws naming a field that is wrong. */
export function bodyOf(kind, form) {
  const k = KINDS[kind], body = {};
  for (const [name, type] of k.fields) {
    const raw = form.elements[name].value.trim();
    if (type === "number") {
      if (raw === "") continue;
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new Error(`${name}: a whole number, not "${raw}"`);
      body[name] = n;
    } else if (type === "list") body[name] = raw.split(",").map(s => s.trim()).filter(Boolean);
    else body[name] = raw;
  }
  const moreText = k.more.length ? form.elements.__more.value.trim() : "";
  if (moreText) {
    let more;
    try { more = JSON.parse(moreText); } catch (e) { throw new Error(`more fields: not JSON (${e.message})`); }
    if (!more || typeof more !== "object" || Array.isArray(more)) throw new Error("more fields: a JSON object {...}");
    const unknown = Object.keys(more).filter(f => !k.more.includes(f));
    if (unknown.length) throw new Error(`more fields: unknown ${unknown.join(", ")}; known: ${k.more.join(", ")}`);
    Object.assign(body, more);
  }
  return body;
}

async function save(kind, form) {
  const k = KINDS[kind], id = form.elements[k.id].value.trim();
  let body;
  try { body = bodyOf(kind, form); } catch (e) {
    notify("Invalid input", e.message, "error", { status: "form" });
    showOutcome(`${kind} ${id}`, "error", e.message);
    return;
  }
  const ok = await send("PUT", `/v1/config/${kind}/${enc(id)}`, body, `${kind.slice(0, -1)} ${id}`);
  if (ok) await reloadUntil(kind, id);
}

async function send(method, path, body, what) {
  try {
    const out = await api(method, path, body);
    const events = out.events || [];
    showOutcome(what, "ok", events.length ? events.map(e => `${e.type} ${JSON.stringify(e.body)}`).join("\n") : "no change (no events)");
    notify(what, events.map(e => e.type).join(", ") || "no change", "ok", { status: "200" });
    setTimeout(loadLive, 300);
    return out;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    showOutcome(what, "error", `${e.status}: ${reasonOf(e.status, e.detail)}`);
    return null;
  }
}

// ---- loading ----

async function loadConfig() {
  try { config = await api("GET", "/v1/config", undefined, { quiet: true }); }
  catch (e) { notify("Cannot read the configuration", e.message, "error", { status: String(e.status) }); }
  for (const kind of Object.keys(KINDS)) renderTable(kind);
}

/** After a change: read the configuration again until the item shows (the read side follows the log). */
async function reloadUntil(kind, id) {
  for (let i = 0; i < 20; i++) {
    await loadConfig();
    if ((config[kind] || []).some(x => x[KINDS[kind].id] === id)) return;
    await new Promise(r => setTimeout(r, 250));
  }
}

async function loadLive() {
  try {
    const out = await api("GET", "/v1/agents/live", undefined, { quiet: true });
    live = new Map(out.agents.map(a => [a.agent_id, a]));
  } catch { return; }
  for (const tr of $$("#table-agents tbody tr")) {
    const a = live.get(tr.dataset.id), td = tr.querySelector('[data-col="state"]');
    if (td) td.textContent = a ? `${a.state}${a.reason ? " (" + a.reason + ")" : ""}` : "–";
  }
}

$("#kinds").append(...Object.keys(KINDS).map(section));
$("#reload").onclick = () => loadConfig().then(loadLive);
await loadConfig();
await loadLive();
setInterval(loadLive, 2000);
