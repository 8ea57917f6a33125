// KPIs a person would rather look at than read: a tile per figure for the period, its course by day or
// week, and the same figure per territory or engineer as bars.
import { barChart, lineChart } from "./charts.js";
import { t } from "./i18n.js";
import { $, api, el, fill, minutes, pct, shortMinutes, state } from "./util.js";

const METRICS = [
  ["first_response_minutes", "first_response", minutes, "var(--blue)"],
  ["mttr_minutes", "mttr", minutes, "var(--violet)"],
  ["first_time_fix_rate", "ftf", pct, "var(--green)"],
  ["sla_attainment", "sla_attainment", pct, "var(--teal)"],
  ["utilisation", "utilisation", pct, "var(--amber)"],
  ["travel_share", "travel_share", pct, "var(--grey)"],
  ["csat", "csat", pct, "var(--rose)"],
];

const iso = (d) => d.toISOString().slice(0, 10);
let focus = "sla_attainment";

function defaults() {
  const end = new Date(`${state.board?.day || iso(new Date())}T00:00:00Z`);
  const start = new Date(end.getTime() - 27 * 86400000);
  return { from: iso(start), to: iso(end), bucket: "day", group_by: "engineer" };
}

function form(q) {
  const territory = el("select", { name: "territory_id" }, el("option", { value: "" }, t("all")),
    (state.board?.territories || []).map(([id, name]) => el("option", { value: id, selected: String(q.territory_id) === String(id) }, name)));
  const f = el("form", { id: "kpi-form", class: "filters" },
    el("label", {}, t("from"), " ", el("input", { type: "date", name: "from", value: q.from, required: true })),
    el("label", {}, t("to"), " ", el("input", { type: "date", name: "to", value: q.to, required: true })),
    el("label", {}, t("bucket"), " ", el("select", { name: "bucket" },
      ["day", "week"].map((b) => el("option", { value: b, selected: q.bucket === b }, t(`by_${b}`))))),
    el("label", {}, t("group_by"), " ", el("select", { name: "group_by" },
      [["engineer", "by_engineer"], ["territory", "by_territory"]].map(([v, k]) => el("option", { value: v, selected: q.group_by === v }, t(k))))),
    el("label", {}, t("territory"), " ", territory),
    el("button", { type: "submit", class: "primary" }, t("refresh")));
  return f;
}

export async function renderKpis(root, params = null) {
  const q = { ...defaults(), ...(params || {}) };
  const f = form(q);
  const body = el("div", { id: "kpi-body" }, el("p", { class: "busy" }, t("loading")));
  fill(root, el("header", { class: "page-head" }, el("h2", {}, t("kpis"))), f, body);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(f));
    renderKpis(root, data);
  });
  const search = new URLSearchParams({ from: q.from, to: q.to, bucket: q.bucket, group_by: q.group_by });
  if (q.territory_id) search.set("territory_id", q.territory_id);
  let k;
  try {
    k = await api(`/kpis?${search}`);
  } catch (error) {
    fill(body, el("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  const fmtDay = (x) => new Date(x).toISOString().slice(5, 10);
  const tiles = el("div", { class: "tiles kpi-tiles" }, METRICS.map(([key, label, fmt]) => el("button", {
    type: "button", class: `tile${focus === key ? " focus" : ""}`, "data-kpi": key, "aria-pressed": String(focus === key),
    onclick: () => { focus = key; renderKpis(root, q); },
  }, el("span", { class: "tile-label" }, t(label)), el("span", { class: "tile-value" }, fmt(k.totals[key])),
  el("span", { class: "tile-note" }, key === "csat" && k.totals.csat_mean ? `★ ${k.totals.csat_mean} · ${k.totals.counts.ratings} ${t("ratings")}`
    : key === "mttr_minutes" || key === "first_time_fix_rate" ? `${k.totals.counts.repairs} ${t("repairs")}`
      : key === "first_response_minutes" ? `${k.totals.counts.responses} ${t("responses")}`
        : key === "sla_attainment" ? `${k.totals.counts.sla_due} ${t("work_orders")}` : ""))));
  const charts = el("div", { class: "chart-grid" }, METRICS.map(([key, label, fmt, colour]) => el("figure", { class: `panel${focus === key ? " focus" : ""}` },
    el("figcaption", {}, t(label)),
    lineChart(k.series.map((s) => ({ x: new Date(s.start), y: s[key], label: s.start })), {
      width: 420, height: 170, format: fmt, axisFormat: fmt === minutes ? shortMinutes : fmt, xLabel: (x) => fmtDay(x), color: colour, yMin: 0,
      label: `${t(label)} ${k.from}–${k.to}`,
    }))));
  const [, focusLabel, focusFmt, focusColour] = METRICS.find((m) => m[0] === focus);
  const groups = k.groups.filter((g) => g[focus] !== null).sort((a, b) => (b[focus] ?? 0) - (a[focus] ?? 0)).slice(0, 30);
  fill(body, tiles,
    el("section", { class: "panel" }, el("h3", {}, `${t(focusLabel)} · ${t(q.group_by === "territory" ? "by_territory" : "by_engineer")}`),
      groups.length ? barChart(groups.map((g) => ({ label: g.name, value: g[focus] })), { width: 900, labelWidth: 140, format: focusFmt, color: focusColour, max: focusFmt === pct ? 1 : undefined, label: t(focusLabel) })
        : el("p", { class: "muted" }, t("nothing"))),
    charts);
}
