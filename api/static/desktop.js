// The agent desktop: the agent's live document (GET /v1/agents/{id}/live, then pushes on
// /v1/stream/agent/{id}) drives a state bar, the ringing offer with its screen pop, call
// controls and the wrap-up form; every button is one command of the HTTP API, and every
// rejection is shown with its reason. A supervisor or admin opens it for an agent with
// ?agent=ID. Forms are built once and only refilled when the contact changes, so a push
// never clobbers what the agent is typing. The screen pop (GET /v1/customers/screen-pop)
// shows the caller's profile or "unknown caller", the last contacts and the open tickets;
// a ticket can be created for the contact in hand, and knowledge base results are rated
// ("this helped") for it. The call controls follow the live document's phase and role of
// the contact (the agent with the caller, the consulted agent, a conference member), never
// what this page's buttons did, so a reload or a second page shows the same controls.
import { $, ApiError, api, command, fmtDate, fmtDuration, h, notify, signIn, stream } from "/static/ccx.js";

const ACTIVE = ["connected", "held", "consulting", "conference"];
const me = await signIn(["agent", "supervisor", "admin"], "the agent desktop");
const agentId = new URLSearchParams(location.search).get("agent") || me.agent_id || "";
const enc = encodeURIComponent;
const base = `/v1/agents/${enc(agentId)}`;

let doc = null;
let stateSince = 0, stateKey = "";
let popFor = "", wrapFor = "";
let dispositions = null; // null: not readable with this token -> free text

// ---- rendering ----

let lastError = "";

function render(next) {
  if (next.error) { // the stream names a problem (e.g. the agent is not defined yet)
    const text = typeof next.error === "string" ? next.error : JSON.stringify(next.error);
    if (text !== lastError) notify("Agent unavailable", text, "error");
    lastError = text;
    return;
  }
  lastError = "";
  doc = next;
  const key = `${doc.state}/${doc.reason || ""}`;
  if (key !== stateKey || (doc.since && doc.since !== stateSince)) {
    stateKey = key;
    stateSince = doc.since || Date.now(); // the server's "since" when it gives one
  }
  $("#agent-name").textContent = `${doc.name || ""} (${doc.agent_id})`;
  const st = $("#state");
  st.dataset.state = doc.state;
  st.textContent = doc.state.replace("_", " ");
  $("#state-reason").textContent = doc.reason ? `(${doc.reason})` : "";
  $("#time-in-state").dataset.since = String(stateSince);
  for (const [id, on] of [["#btn-ready", doc.state === "available"], ["#btn-not-ready", doc.state === "not_ready"],
                          ["#btn-logout", doc.state === "logged_out"]]) $(id).classList.toggle("current", on);

  const contacts = doc.contacts || [];
  const offer = contacts.find(c => c.phase === "offered");
  const call = contacts.find(c => ACTIVE.includes(c.phase));
  const wrap = contacts.find(c => c.phase === "wrap_up");
  renderOffer(offer);
  renderCall(call);
  renderWrapUp(wrap);
  $("#idle").hidden = Boolean(offer || call || wrap);
  const shown = offer || call || wrap;
  if (shown && shown.contact_id !== popFor) screenPop(shown);
  if (!shown) { $("#screen-pop").hidden = true; popFor = ""; }
  tick();
}

function renderOffer(c) {
  const el = $("#offer");
  el.hidden = !c;
  if (!c) return;
  el.dataset.contact = c.contact_id;
  el.dataset.role = c.role;
  $("#offer-title").textContent = c.role === "consulted" ? `Consult from ${c.with_caller}` : "Incoming call";
  el.dataset.since = String(c.since || Date.now());
  $("#offer-ani").textContent = c.ani || "unknown number";
  $("#offer-queue").textContent = `queue ${c.queue_id} · ${c.contact_id}`;
}

/** The call controls the agent has on `c`, by the server's phase and role: the agent with the
 * caller holds, resumes, transfers, consults and hangs up, and while consulting completes the
 * transfer, conferences or cancels; a consulted agent only talks; every conference member may
 * leave (hanging up stays with the agent who has the caller). */
function controlsFor(c) {
  const caller = c.role === "caller";
  const handling = caller && (c.phase === "connected" || c.phase === "held");
  const consulting = caller && c.phase === "consulting";
  return {
    "#btn-hold": caller && c.phase === "connected", "#btn-resume": caller && c.phase === "held",
    "#btn-hangup": caller, "#btn-transfer": handling, "#btn-consult": handling,
    "#btn-complete-transfer": consulting, "#btn-conference": consulting, "#btn-cancel-consult": consulting,
    "#btn-leave": c.phase === "conference",
  };
}

/** Who else is on the call, in words: "consulting desk02", "consult with desk01", ... */
function partiesOf(c) {
  if (c.phase === "consulting") {
    return c.role === "consulted" ? `consult with ${c.with_caller}` : `consulting ${c.consult_to}`;
  }
  if (c.phase === "conference") {
    const others = (c.conference || []).filter(a => a !== agentId);
    return others.length ? `conference with ${others.join(", ")}` : "conference";
  }
  return "";
}

function renderCall(c) {
  const el = $("#call");
  el.hidden = !c;
  if (!c) return;
  el.dataset.contact = c.contact_id;
  el.dataset.phase = c.phase;
  el.dataset.role = c.role;
  el.dataset.since = String(c.since || Date.now());
  el.dataset.consulting = String(c.phase === "consulting");
  el.dataset.conference = String(c.phase === "conference");
  $("#call-contact").textContent = c.contact_id;
  $("#call-queue").textContent = `queue ${c.queue_id}`;
  $("#call-ani").textContent = c.ani || "unknown number";
  const ph = $("#call-phase");
  ph.textContent = c.phase;
  ph.dataset.state = c.phase === "held" || (c.phase === "consulting" && c.role === "caller") ? "wrap_up" : "handling";
  $("#call-with").textContent = partiesOf(c);
  const controls = controlsFor(c);
  for (const [id, on] of Object.entries(controls)) {
    $(id).disabled = !on;
    $(id).hidden = !on;
  }
  for (const row of el.querySelectorAll(".controls")) {
    row.hidden = [...row.querySelectorAll("button")].every(b => b.hidden); // no control left in the row
  }
}

function renderWrapUp(c) {
  const el = $("#wrapup");
  el.hidden = !c;
  if (!c) { wrapFor = ""; return; }
  el.dataset.contact = c.contact_id;
  $("#wrapup-since").textContent = `${c.contact_id} · queue ${c.queue_id}`;
  if (wrapFor === c.contact_id) return;
  wrapFor = c.contact_id;
  $("#wrapup-contact").value = c.contact_id;
  $("#notes").value = "";
  fillDispositions(c.queue_id);
}

function fillDispositions(queueId) {
  const usable = (dispositions || []).filter(d => !d.queues || !d.queues.length || d.queues.includes(queueId));
  const select = $("#disposition"), text = $("#disposition-text");
  select.replaceChildren(...usable.map(d => h("option", { value: d.code }, d.name ? `${d.name} (${d.code})` : d.code)));
  select.hidden = !usable.length;
  text.hidden = Boolean(usable.length);
  text.required = !usable.length;
}

async function screenPop(c) {
  popFor = c.contact_id;
  const el = $("#screen-pop");
  el.hidden = false;
  el.dataset.contact = c.contact_id;
  el.dataset.loaded = "false";
  $("#pop-number").textContent = c.ani || "no number";
  let pop = { customer: null, contacts: [], open_tickets: [] }, failed = "";
  if (c.ani) {
    try { pop = await api("GET", `/v1/customers/screen-pop?ani=${enc(c.ani)}`, undefined, { quiet: true }); }
    catch (e) { failed = e.message; }
  }
  if (popFor !== c.contact_id) return; // a newer contact arrived meanwhile
  const cust = pop.customer;
  const unknown = $("#pop-unknown");
  unknown.hidden = Boolean(cust);
  unknown.textContent = failed ? `caller lookup failed: ${failed}` : "unknown caller";
  unknown.classList.toggle("error", Boolean(failed));
  $("#pop-known").hidden = !cust;
  el.dataset.known = failed ? "error" : cust ? "true" : "false";
  el.dataset.customer = cust ? cust.customer_id : "";
  if (cust) {
    $("#pop-name").textContent = cust.name || cust.customer_id;
    $("#pop-vip").hidden = !cust.vip;
    $("#pop-language").textContent = cust.language || "–";
    $("#pop-segment").textContent = cust.segment || "";
  }
  $("#pop-contacts tbody").replaceChildren(...(pop.contacts || []).map(x =>
    h("tr", { dataset: { contact: x.contact_id } }, h("td", {}, fmtDate(x.arrived_at)), h("td", {}, x.queue_id || "–"),
      h("td", {}, x.outcome || "–"), h("td", {}, x.disposition || "–"))));
  renderTickets(pop.open_tickets || []);
  if (failed) $("#pop-tickets-none").textContent = "open tickets unknown: the lookup failed";
  resetTicketForm(c.contact_id, cust ? cust.customer_id : "");
  $("#ticket-customer").placeholder = failed ? "lookup failed: the customer's id, if known" : "none: unknown caller";
  el.dataset.loaded = "true";
}

function renderTickets(tickets) {
  $("#pop-tickets tbody").replaceChildren(...tickets.map(t =>
    h("tr", { dataset: { ticket: t.ticket_id } }, h("td", {}, t.ticket_id), h("td", {}, t.title),
      h("td", {}, t.priority), h("td", {}, t.status))));
  $("#pop-tickets-none").hidden = tickets.length > 0;
  $("#pop-tickets-none").textContent = "no open tickets";
}

// ---- tickets ----

function resetTicketForm(contactId, customerId) {
  $("#ticket-contact").value = contactId;
  $("#ticket-customer").value = customerId;
  for (const id of ["#ticket-title", "#ticket-description", "#ticket-notify-to"]) $(id).value = "";
  const out = $("#ticket-created");
  out.textContent = "";
  out.dataset.ticket = "";
}

/** The open tickets of the customer (or, for an unknown caller, of the contact). */
async function openTickets(customerId, contactId) {
  const q = customerId ? `customer_id=${enc(customerId)}` : `contact_id=${enc(contactId)}`;
  const out = await api("GET", `/v1/tickets?${q}`);
  return (out.tickets || []).filter(t => t.open !== false);
}

async function createTicket() {
  const forContact = popFor;
  const body = {
    title: $("#ticket-title").value.trim(), description: $("#ticket-description").value,
    category: $("#ticket-category").value.trim(), priority: $("#ticket-priority").value,
    department: $("#ticket-department").value.trim(), customer_id: $("#ticket-customer").value.trim(),
    contact_id: $("#ticket-contact").value.trim(), notify_via: $("#ticket-notify-via").value,
    notify_to: $("#ticket-notify-to").value.trim(),
  };
  const button = $("#btn-ticket"), out = $("#ticket-created");
  button.disabled = true;
  try {
    const answer = await command("POST", "/v1/tickets", body, "Create ticket");
    const created = ((answer && answer.events) || []).find(e => e.type === "TicketCreated");
    if (!created) {
      out.textContent = "no ticket created: see the message";
      out.dataset.ticket = "";
      return;
    }
    const id = created.body.ticket_id;
    out.dataset.ticket = id;
    out.textContent = `created ticket ${id}`;
    $("#ticket-title").value = "";
    $("#ticket-description").value = "";
    // The read model follows the decider: ask again briefly until it lists the new ticket.
    for (let i = 0; i < 10 && popFor === forContact; i++) {
      let list;
      try { list = await openTickets(body.customer_id, body.contact_id); } catch { return; }
      if (popFor !== forContact) return;
      renderTickets(list);
      if (list.some(t => t.ticket_id === id)) return;
      await new Promise(r => setTimeout(r, 300));
    }
  } finally {
    button.disabled = false;
  }
}

/** Time in state and on the call keep counting between pushes. */
function tick() {
  const now = Date.now();
  if (stateSince) $("#time-in-state").textContent = fmtDuration((now - stateSince) / 1000);
  for (const [box, out] of [["#call", "#call-since"], ["#offer", "#offer-since"]]) {
    const since = Number($(box).dataset.since || 0);
    if (since && !$(box).hidden) $(out).textContent = fmtDuration((now - since) / 1000);
  }
}

// ---- commands ----

async function refresh() {
  try { render(await api("GET", `${base}/live`, undefined, { quiet: true })); }
  catch (e) { if (e.status && e.status !== 404) notify("Cannot read the agent", e.message, "error"); }
}

async function send(path, body, label) {
  const out = await command("POST", path, body, label);
  await refresh();
  return out;
}

const contactPath = (box, action) => `${base}/contacts/${enc($(box).dataset.contact)}/${action}`;

function wire() {
  $("#btn-login").onclick = () => send(`${base}/login`, undefined, "Log in");
  $("#btn-ready").onclick = () => send(`${base}/ready`, undefined, "Ready");
  $("#btn-not-ready").onclick = () =>
    send(`${base}/not-ready`, { reason: $("#not-ready-reason").value }, "Not ready");
  $("#btn-logout").onclick = () => send(`${base}/logout`, undefined, "Log out");
  $("#btn-answer").onclick = () => send(contactPath("#offer", "accept"), undefined, "Answer");
  $("#btn-decline").onclick = () => send(contactPath("#offer", "decline"), undefined, "Decline");
  for (const [id, action, label] of [["#btn-hold", "hold", "Hold"], ["#btn-resume", "resume", "Resume"],
    ["#btn-hangup", "hangup", "Hang up"], ["#btn-complete-transfer", "complete-transfer", "Complete transfer"],
    ["#btn-conference", "conference", "Conference"], ["#btn-cancel-consult", "cancel-consult", "Cancel consult"],
    ["#btn-leave", "leave", "Leave"]]) {
    $(id).onclick = () => send(contactPath("#call", action), undefined, label);
  }
  $("#btn-transfer").onclick = () => {
    const target = $("#transfer-target").value.trim();
    if (!target) return notify("Transfer", "name a queue or an agent to transfer to", "error", { status: "form" });
    return send(contactPath("#call", "transfer"), { [$("#transfer-kind").value]: target }, "Transfer");
  };
  $("#btn-consult").onclick = () => {
    const target = $("#transfer-target").value.trim();
    if (!target) return notify("Consult", "name the agent to consult", "error", { status: "form" });
    return send(contactPath("#call", "consult"), { to_agent: target }, "Consult");
  };
  $("#wrapup-form").onsubmit = ev => {
    ev.preventDefault();
    const next = $("#next-state").value;
    const disposition = $("#disposition").hidden ? $("#disposition-text").value.trim() : $("#disposition").value;
    send(`${base}/contacts/${enc($("#wrapup-contact").value.trim())}/wrap-up`, {
      disposition, notes: $("#notes").value, next_state: next,
      not_ready_reason: next === "not_ready" ? $("#wrapup-reason").value : "",
    }, "Wrap-up");
  };
  $("#next-state").onchange = () => { $("#wrapup-reason").disabled = $("#next-state").value !== "not_ready"; };
  $("#wrapup-reason").disabled = true;
  $("#kb-form").onsubmit = ev => { ev.preventDefault(); searchKb($("#kb-q").value.trim()); };
  $("#ticket-form").onsubmit = ev => { ev.preventDefault(); createTicket(); };
}

// ---- knowledge base ----

/** "the [router] restarts" -> text with <mark>router</mark>, never parsed as HTML. */
function snippet(text) {
  return String(text || "").split(/(\[[^\]]*\])/).map(p => (/^\[.*\]$/.test(p) ? h("mark", {}, p.slice(1, -1)) : p));
}

async function searchKb(q) {
  if (!q) return;
  const list = $("#kb-results");
  list.dataset.query = q;
  try {
    const out = await api("GET", `/v1/kb/search?q=${enc(q)}`);
    list.replaceChildren(...(out.results.length ? out.results.map(r =>
      h("li", { dataset: { article: r.article_id } }, h("b", {}, r.title), h("div", {}, snippet(r.snippet)),
        h("div", { class: "meta" }, `${r.category || ""} ${(r.tags || []).join(", ")} · helped ${r.helped}` +
          ` · not helped ${r.not_helped}`), feedback(r.article_id)))
      : [h("li", { class: "dim" }, `nothing found for "${q}"`)]));
  } catch {
    list.replaceChildren();
  }
}

/** "this helped" / "did not help" for an article, on the contact in hand ("" when none). */
function feedback(articleId) {
  const status = h("span", { class: "feedback", dataset: { result: "" } });
  const rate = async helped => {
    for (const b of buttons) b.disabled = true;
    const contactId = popFor;
    try {
      const out = await api("POST", `/v1/kb/articles/${enc(articleId)}/feedback`, { helped, contact_id: contactId });
      const types = ((out && out.events) || []).map(e => e.type).join(", ") || "done";
      status.dataset.result = helped ? "helped" : "not_helped";
      status.textContent = `${helped ? "helped" : "did not help"}${contactId ? ` on ${contactId}` : ""}: ${types}`;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      status.dataset.result = "error";
      status.textContent = `not recorded: ${e.message}`;
      for (const b of buttons) b.disabled = false;
    }
  };
  const buttons = [
    h("button", { type: "button", dataset: { action: "helped" }, onclick: () => rate(true) }, "this helped"),
    h("button", { type: "button", dataset: { action: "not-helped" }, onclick: () => rate(false) }, "did not help"),
  ];
  return h("div", { class: "row rate" }, ...buttons, status);
}

// ---- start ----

async function loadDispositions() {
  try {
    const cfg = await api("GET", "/v1/config", undefined, { quiet: true });
    dispositions = cfg.dispositions || [];
    $("#transfer-targets").replaceChildren(
      ...(cfg.queues || []).map(q => h("option", { value: q.queue_id }, q.name || q.queue_id)),
      ...(cfg.agents || []).map(a => h("option", { value: a.agent_id }, a.name || a.agent_id)));
  } catch {
    dispositions = null; // this token may not read the configuration: free-text disposition
  }
}

if (!agentId) {
  notify("No agent", "this token names no agent: open the desktop with ?agent=ID", "error", { status: "form" });
} else {
  wire();
  await loadDispositions();
  await refresh();
  stream(`/v1/stream/agent/${enc(agentId)}`, render, (state, ev) => {
    const c = $("#connection");
    c.dataset.state = state;
    c.textContent = { open: "live", closed: "reconnecting…", refused: `live updates refused: ${ev?.reason || ""}` }[state];
  });
  setInterval(tick, 500);
}
