// ccx pages' shared module: the bearer token (from `#token=` or this tab's sessionStorage),
// the sign-in form checked against GET /v1/me, a fetch wrapper that shows every rejection
// (401/403/409/422/504) in the visible message area, a WebSocket helper that reconnects,
// and small DOM and formatting helpers. No dependencies, no build step.

const TOKEN_KEY = "ccx.token";

/** The token of this tab: a `#token=...` fragment wins (and is moved out of the address bar). */
export function token() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

/** An element: h("button", {class: "good", onclick: f}, "Answer"). Text children are never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** Seconds as 42s / 3:07 / 1:02:09. */
export function fmtDuration(s) {
  if (s == null || Number.isNaN(s)) return "–";
  s = Math.max(0, Math.floor(s));
  if (s < 60) return `${s}s`;
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

export const fmtPct = v => (v == null ? "–" : `${Math.round(v * 100)}%`);
export const fmtClock = ms => (ms ? new Date(ms).toISOString().slice(11, 19) + " UTC" : "–");
export const fmtDate = ms => (ms ? new Date(ms).toISOString().slice(0, 16).replace("T", " ") : "–");

// ---- the message area ----

function messageArea() {
  let area = document.getElementById("messages");
  if (!area) {
    area = h("div", { id: "messages", role: "status", "aria-live": "polite" });
    document.body.append(area);
  }
  return area;
}

/** Shows a message (kind "error", "ok" or "info"); errors stay until closed, others fade after 6 s. */
export function notify(title, text = "", kind = "info", data = {}) {
  const close = h("button", { title: "dismiss", "aria-label": "dismiss" }, "×");
  const msg = h("div", { class: "msg", dataset: { kind, ...data } }, h("b", {}, title), text);
  msg.append(close);
  close.addEventListener("click", () => msg.remove());
  const area = messageArea();
  area.append(msg);
  while (area.children.length > 6) area.firstElementChild.remove();
  if (kind !== "error") setTimeout(() => msg.remove(), 6000);
  return msg;
}

/** What a rejection says, in one line: "agent_not_ready: agent 'a1' is ...", "body.reason: field required". */
export function reasonOf(status, detail) {
  if (detail == null) return `HTTP ${status}`;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map(d => `${(d.loc || []).filter(p => p !== "body").join(".") || "request"}: ${d.msg}`).join("; ");
  }
  if (detail.reason) return detail.code ? `${detail.code}: ${detail.reason}` : detail.reason;
  return JSON.stringify(detail);
}

const TITLES = { 401: "Not signed in", 403: "Not allowed", 404: "Not found", 409: "Rejected",
  422: "Invalid input", 503: "Unavailable", 504: "No answer in time" };

export class ApiError extends Error {
  constructor(status, detail) {
    super(reasonOf(status, detail));
    this.status = status;
    this.detail = detail;
    this.code = detail && typeof detail === "object" && !Array.isArray(detail) ? detail.code || "" : "";
  }
}

/**
 * Calls the API with this tab's token. Resolves to the JSON answer; on a 4xx/5xx shows the
 * reason in the message area (unless quiet) and rejects with an ApiError.
 */
export async function api(method, path, body, { quiet = false } = {}) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    if (!quiet) notify(`${method} ${path}`, `the server did not answer: ${e.message}`, "error", { status: "0" });
    throw new ApiError(0, `the server did not answer: ${e.message}`);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  if (!res.ok) {
    const err = new ApiError(res.status, json && typeof json === "object" && "detail" in json ? json.detail : json);
    if (!quiet) {
      notify(`${TITLES[res.status] || "Failed"} (${res.status})`, err.message, "error",
             { status: String(res.status), code: err.code });
    }
    throw err;
  }
  return json;
}

/** A command: POSTs (or PUTs) and shows the events it produced; resolves to the answer or null if rejected. */
export async function command(method, path, body, label = "") {
  try {
    const out = await api(method, path, body);
    const events = (out && out.events) || [];
    notify(label || `${method} ${path}`, events.length ? events.map(e => e.type).join(", ") : "done", "ok",
           { status: "200" });
    return out;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return null;
  }
}

// ---- signing in ----

/**
 * Who this tab is (GET /v1/me). Without a token, or when the token is refused, shows the
 * sign-in form until a token of one of `roles` is given. A server without /v1/me (404)
 * serves pages without sign-in: resolves to {role: "anonymous"}.
 */
export async function signIn(roles, pageName) {
  for (let error = ""; ; ) {
    if (token() && !error) {
      try {
        const me = await api("GET", "/v1/me", undefined, { quiet: true });
        if (!roles.includes(me.role)) {
          error = `${pageName} is for ${roles.join(", ")}; this token is a ${me.role}'s.`;
        } else {
          showWho(me);
          return me;
        }
      } catch (e) {
        if (e.status === 404) return { role: "anonymous", subject: "", agent_id: "", teams: [] };
        error = e.status === 401 ? `token refused: ${e.message}` : e.message;
      }
    }
    const given = await askToken(pageName, error);
    sessionStorage.setItem(TOKEN_KEY, given);
    error = "";
  }
}

function askToken(pageName, error) {
  return new Promise(resolve => {
    document.getElementById("login")?.remove();
    const input = h("input", { id: "login-token", type: "password", autocomplete: "off", required: true,
                               placeholder: "token from `ccx tokens issue`" });
    const form = h("form", {},
      h("h2", {}, `Sign in to ${pageName}`),
      h("label", {}, "Token", input),
      h("div", { class: "error", id: "login-error", role: "alert" }, error),
      h("button", { class: "primary", type: "submit", id: "login-submit" }, "Sign in"));
    form.addEventListener("submit", ev => {
      ev.preventDefault();
      document.getElementById("login").remove();
      resolve(input.value.trim());
    });
    document.body.append(h("div", { id: "login" }, form));
    input.focus();
  });
}

function showWho(me) {
  const who = document.getElementById("who");
  if (!who) return;
  who.replaceChildren(`${me.subject || me.agent_id || "?"} · ${me.role}${me.tenant ? " · " + me.tenant : ""} `,
    h("button", { id: "sign-out", onclick: signOut, title: "forget this tab's token" }, "sign out"));
}

// ---- live streams ----

/**
 * Opens a WebSocket to `path` (the token as `?token=`), calls onMessage with every parsed
 * push, and reconnects after a drop (1 s, growing to 5 s). onState("open"|"closed") reports
 * the connection; a refused token (close code 4401/4403) is shown and not retried
 * ("refused"). Returns {close()}.
 */
export function stream(path, onMessage, onState = () => {}) {
  let ws = null, stopped = false, delay = 1000;
  const open = () => {
    const url = new URL(path, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (token()) url.searchParams.set("token", token());
    ws = new WebSocket(url);
    ws.onopen = () => { delay = 1000; onState("open"); };
    ws.onmessage = e => { try { onMessage(JSON.parse(e.data)); } catch (err) { console.error(err); } };
    ws.onclose = ev => {
      if (ev.code === 4401 || ev.code === 4403) { // the token was refused: retrying cannot help
        onState("refused", ev);
        notify(ev.code === 4401 ? "Not signed in (401)" : "Not allowed (403)", ev.reason || path, "error",
               { status: String(ev.code - 4000) });
        return;
      }
      onState("closed", ev);
      if (!stopped) { setTimeout(open, delay); delay = Math.min(5000, delay * 2); }
    };
  };
  open();
  return { close() { stopped = true; ws && ws.close(); } };
}
