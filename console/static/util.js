// Small shared pieces: the signed-in state, DOM building, the API client (problem+json aware), toasts and
// formatting in the territory's time zone.
import { t, locale } from "./i18n.js";

export const state = {
  token: sessionStorage.getItem("fieldops.token"),
  me: null,
  board: null,
  territoryId: null,
  live: null,
  listeners: new Set(),
};

const SVG = "http://www.w3.org/2000/svg";

/** el("div", {class: "x"}, child…) — a tag "svg:rect" makes an SVG element. Text children are escaped. */
export function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** Replace a node's children, leaving out the absent ones (null, undefined, false). */
export function fill(root, ...children) {
  root.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = body;
  }
}

export async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const init = { ...options, headers };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  delete init.json;
  const response = await fetch(path, init);
  if (response.status === 401 && state.token) {
    for (const f of state.listeners) f("signed_out");
    throw new Problem(401, { detail: "signed out" });
  }
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Problem(response.status, body);
  return body;
}

/** An image or PDF behind the bearer token, as an object URL (an <img src> cannot send the header). */
export async function blobUrl(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) throw new Problem(response.status, null);
  return URL.createObjectURL(await response.blob());
}

export function toast(message, bad = false) {
  const node = el("div", { class: bad ? "toast bad" : "toast", role: bad ? "alert" : "status" }, message);
  $("#toasts").append(node);
  setTimeout(() => node.remove(), bad ? 9000 : 5000);
}

export function zone() {
  return state.board?.timezone || "Asia/Shanghai";
}

// Building an Intl formatter costs far more than using one: the board formats thousands of times.
const formatters = new Map();
function formatter(kind, options) {
  const key = `${kind}|${locale()}|${zone()}`;
  if (!formatters.has(key)) formatters.set(key, new Intl.DateTimeFormat(locale(), { ...options, hour12: false, timeZone: zone() }));
  return formatters.get(key);
}

export function hhmm(iso) {
  if (!iso) return "";
  return formatter("hhmm", { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

export function dateTime(iso) {
  if (!iso) return "";
  return formatter("dt", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

/** A time on the board's day as 10:30; on another day with its date, so nobody misreads a deadline. */
export function when(iso) {
  if (!iso || !state.board) return hhmm(iso);
  const t = Date.parse(iso);
  return t >= Date.parse(state.board.day_start) && t < Date.parse(state.board.day_end) ? hhmm(iso) : dateTime(iso);
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** Text and attribute values for markup built as a string (the board: one parse instead of 20,000 calls). */
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

export function minutes(m) {
  if (m === null || m === undefined) return "—";
  if (m < 90) return `${Math.round(m)} ${t("unit_minutes")}`;
  return `${(m / 60).toFixed(1)} ${t("hours")}`;
}

/** The optimizer's reason codes in the reader's language; the API's own words follow as detail. */
export function reasonText(message) {
  const code = /\b(no_qualified_engineer|no_capacity|window_unreachable|part_unavailable)\b/.exec(message || "")?.[1];
  return code ? `${t(`reason_${code}`)} — ${message}` : message;
}

/** Short minutes for chart axes: 45m, 6h, 2d. */
export function shortMinutes(m) {
  if (m < 90) return `${Math.round(m)}${t("unit_minutes")}`;
  if (m < 48 * 60) return `${Math.round(m / 6) / 10}${t("hours")}`;
  return `${Math.round(m / 144) / 10}${t("days")}`;
}

export const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 1000) / 10}%`);
export const ref = (id) => `WO-${String(id).padStart(7, "0")}`;

export function chip(kind, value, label = value) {
  return el("span", { class: `chip ${kind}-${value}` }, label);
}

export function section(titleKey, ...children) {
  return el("section", { class: "panel" }, el("h3", {}, t(titleKey)), ...children);
}

export function table(head, rows) {
  return el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))));
}
