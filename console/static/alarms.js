// Alarms: the open ones first, each with the telemetry chart that raised it (the evidence series, the limit,
// and for a trend the line to the predicted time it reaches the limit); acknowledge or clear.
import { lineChart } from "./charts.js";
import { t } from "./i18n.js";
import { api, chip, dateTime, el, fill, hhmm, ref, section, table, toast } from "./util.js";

export function alarmChart(alarm, width = 640) {
  const ev = alarm.evidence || {};
  const raw = ev.series || ev.values || [];
  const points = raw.map(([at, y]) => ({ x: new Date(at), y: Number(y) })).filter((p) => !Number.isNaN(+p.x));
  const unit = ev.unit ? ` ${ev.unit}` : "";
  const forecast = [];
  if (ev.predicted_at && ev.limit !== undefined && ev.limit !== null) forecast.push({ x: new Date(ev.predicted_at), y: Number(ev.limit) });
  const spanDays = points.length > 1 ? (points[points.length - 1].x - points[0].x) / 86400000 : 0;
  return el("figure", { class: "alarm-chart" },
    lineChart(points, {
      width, height: 220, limit: ev.limit ?? null, limitLabel: `${t("limit")} ${ev.limit}${unit}`, forecast,
      format: (v) => `${Math.round(v * 100) / 100}`, xLabel: (x) => (spanDays > 2 ? dateTime(x.toISOString()) : hhmm(x.toISOString())),
      label: `${ev.metric || alarm.alarm_type}: ${points.length} points${ev.limit !== undefined ? `, limit ${ev.limit}${unit}` : ""}`,
      color: "var(--blue)",
    }),
    el("figcaption", {}, `${ev.metric || alarm.alarm_type}${unit}`,
      ev.predicted_at ? ` · ${t("predicted")} ${dateTime(ev.predicted_at)}` : "",
      ev.value !== undefined ? ` · ${Math.round(Number(ev.value) * 100) / 100}${unit}` : ""));
}

export async function renderAlarms(root, filter = "open") {
  const states = filter === "open" ? "state=active&state=acknowledged" : `state=${filter}`;
  const page = await api(`/alarms?${states}&limit=200`);
  const tabs = el("div", { class: "segmented", role: "group", "aria-label": t("state") },
    ["open", "active", "acknowledged", "cleared"].map((f) => el("a", { href: `#alarms/${f}`, "aria-current": f === filter ? "page" : null }, f === "open" ? t("open_alarms") : t(f))));
  fill(root, el("header", { class: "page-head" }, el("h2", {}, t("alarms")), tabs),
    page.items.length ? table([t("severity"), t("type"), t("asset"), t("first_seen"), t("last_seen"), t("count"), t("state"), t("work_order")],
      page.items.map((a) => [chip("sev", a.severity, t(`sev_${a.severity}`)), el("a", { href: `#alarm/${a.id}` }, a.alarm_type), `#${a.asset_id}${a.device_id ? " · " + a.device_id : ""}`,
        dateTime(a.first_seen_at), dateTime(a.last_seen_at), String(a.count), t(a.state),
        a.work_order_id ? el("a", { href: `#wo/${a.work_order_id}` }, ref(a.work_order_id)) : "—"]))
      : el("p", { class: "muted" }, t("nothing")));
}

export async function renderAlarm(root, id) {
  const a = await api(`/alarms/${id}`);
  const act = async (verb, body) => {
    try {
      await api(`/alarms/${id}/${verb}`, { method: "POST", json: body, headers: { "If-Match": `"${a.version}"` } });
      await renderAlarm(root, id);
    } catch (error) { toast(error.message, true); }
  };
  const reason = el("input", { id: "clear-reason", "aria-label": t("clear_reason"), placeholder: t("clear_reason") });
  fill(root, 
    el("header", { class: "page-head" }, el("h2", {}, `${a.alarm_type}`), el("div", { class: "chips" }, chip("sev", a.severity, t(`sev_${a.severity}`)), chip("state", a.state, t(a.state)))),
    el("p", { class: "lead" }, a.message),
    el("dl", { class: "facts wide" },
      el("dt", {}, t("asset")), el("dd", {}, `#${a.asset_id}${a.device_id ? " · " + a.device_id : ""}`),
      el("dt", {}, t("first_seen")), el("dd", {}, dateTime(a.first_seen_at)),
      el("dt", {}, t("last_seen")), el("dd", {}, dateTime(a.last_seen_at)),
      el("dt", {}, t("count")), el("dd", {}, String(a.count)),
      el("dt", {}, t("work_order")), el("dd", {}, a.work_order_id ? el("a", { href: `#wo/${a.work_order_id}` }, ref(a.work_order_id)) : "—")),
    section("evidence", alarmChart(a, 820)),
    a.state !== "cleared" ? el("div", { class: "actions" },
      a.state === "active" ? el("button", { type: "button", class: "primary", onclick: () => act("acknowledge") }, t("acknowledge")) : null,
      reason, el("button", { type: "button", onclick: () => act("clear", { reason: reason.value || null }) }, t("clear"))) : null);
}
