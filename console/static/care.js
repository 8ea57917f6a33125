// Proactive care for the dispatcher, over automation's /care API: the service-volume forecast per territory
// (history, 8 weeks ahead with the 80 % band and expected hours, and how it did in its backtest against
// last year's figure), customers by churn risk with the reasons (each linking to the 360° view), and the
// consumables running out soon with their notices. The 360° view borrows churnPanel and runOutPanel.
import { lineChart } from "./charts.js";
import { lang, locale, t, tf } from "./i18n.js";
import { api, dateTime, el, fill, state } from "./util.js";

const prefs = { territory: null, levels: "medium_up", mine: false, within: 30 };
const LEVELS = { medium_up: ["high", "medium"], high: ["high"], all: [] };

const number = (v, digits = 0) => (v === null || v === undefined ? "—"
  : new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(v));
const isoDay = (d) => d.toISOString().slice(0, 10);
const weekDate = (iso) => new Date(`${iso}T00:00:00Z`);
const mmdd = (d) => isoDay(d).slice(5);
/** A date in the board's time zone: 2026-12-04. */
const localDay = (iso) => new Intl.DateTimeFormat("en-CA", { timeZone: state.board?.timezone || "Asia/Shanghai" }).format(new Date(iso));

export async function renderCare(root) {
  fill(root, el("p", { class: "busy" }, t("loading")));
  const [forecasts, status] = await Promise.all([api("/care/forecast"), api("/care/status").catch(() => ({ ran: false }))]);
  const churnBody = el("div", { id: "churn-body" }, el("p", { class: "busy" }, t("loading")));
  const runOutBody = el("div", { id: "runout-body" }, el("p", { class: "busy" }, t("loading")));
  fill(root,
    el("header", { class: "page-head" }, el("h2", {}, t("care_title")),
      el("span", { class: "muted", id: "care-status" }, statusText(status, forecasts))),
    forecastSection(forecasts),
    el("section", { class: "panel", id: "churn", "aria-labelledby": "churn-title" },
      el("div", { class: "panel-head" }, el("h3", { id: "churn-title" }, t("churn")), churnFilters(churnBody)),
      el("p", { class: "note" }, t("churn_note")), churnBody),
    el("section", { class: "panel", id: "runouts", "aria-labelledby": "runouts-title" },
      el("div", { class: "panel-head" }, el("h3", { id: "runouts-title" }, t("running_out")), withinFilter(runOutBody)),
      el("p", { class: "note" }, t("running_out_note")), runOutBody));
  await Promise.all([loadChurn(churnBody), loadRunOuts(runOutBody)]);
}

/** When the figures were made: the worker's last pass, or (a pass run by hand) the forecasts' own time. */
function statusText(status, forecasts) {
  const at = status.ran ? status.last_finished_at : forecasts.map((f) => f.computed_at).sort().pop();
  return at ? tf("care_updated", { at: dateTime(at) }) : t("care_not_run");
}

// ------------------------------------------------------------------ (a) the forecast

function forecastSection(forecasts) {
  const body = el("div", { id: "forecast-body" });
  const section = el("section", { class: "panel", id: "forecast", "aria-labelledby": "forecast-title" },
    el("div", { class: "panel-head" }, el("h3", { id: "forecast-title" }, t("forecast"))), el("p", { class: "note" }, t("forecast_note")), body);
  if (!forecasts.length) {
    fill(body, el("p", { class: "muted" }, t("care_not_run")));
    return section;
  }
  const wanted = prefs.territory ?? state.territoryId;
  let current = forecasts.find((f) => f.territory_id === wanted) || forecasts[0];
  if (forecasts.length > 1) {
    const select = el("select", { id: "forecast-territory", "aria-label": t("territory") },
      forecasts.map((f) => el("option", { value: f.territory_id, selected: f === current }, f.territory)));
    select.addEventListener("change", () => {
      prefs.territory = Number(select.value);
      current = forecasts.find((f) => f.territory_id === prefs.territory);
      fill(body, forecastBody(current));
    });
    section.querySelector(".panel-head").append(el("label", { class: "field" }, t("territory"), " ", select));
  }
  fill(body, forecastBody(current));
  return section;
}

/** Expected hours for a number of jobs: the API gives hours for the expected count, so hours per job follow. */
function hoursFor(week, jobs) {
  return week.expected > 0 ? (week.expected_hours / week.expected) * jobs : null;
}

function forecastBody(f) {
  const weeks = f.weeks;
  const [now, next] = weeks;
  const total = weeks.reduce((sum, w) => sum + w.expected, 0);
  const totalHours = weeks.reduce((sum, w) => sum + w.expected_hours, 0);
  const range = (w) => `${number(w.low)}–${number(w.high)}`;
  const weekName = (w) => `${w.iso_week.slice(5)} · ${mmdd(weekDate(w.week_start))}`;
  const tile = (key, label, value, note) => el("div", { class: "tile", "data-tile": key },
    el("span", { class: "tile-label" }, label), el("span", { class: "tile-value" }, value), el("span", { class: "tile-note" }, note));
  const tiles = el("div", { class: "tiles care-tiles" },
    tile("this_week", `${t("this_week")} ${now.iso_week.slice(5)}`, `≈ ${number(now.expected)} ${t("wo_unit")}`,
      `${t("band_80")} ${range(now)} · ${tf("so_far", { n: now.so_far ?? 0 })}`),
    next ? tile("next_week", `${t("next_week")} ${next.iso_week.slice(5)}`, `≈ ${number(next.expected)} ${t("wo_unit")}`,
      `${t("band_80")} ${range(next)} · ${tf("about_hours", { h: number(next.expected_hours) })}`) : null,
    tile("next_8_weeks", t("next_8_weeks"), `≈ ${number(total)} ${t("wo_unit")}`, tf("about_hours", { h: number(totalHours) })));
  const rows = weeks.map((w, i) => {
    const high = hoursFor(w, w.high);
    return el("tr", { "data-week": w.week_start },
      el("th", { scope: "row" }, weekName(w), i === 0 ? el("div", { class: "muted small" }, t("this_week")) : null),
      el("td", { class: "num" }, number(w.expected, 1), i === 0 && w.so_far !== undefined ? el("div", { class: "muted small" }, tf("so_far", { n: w.so_far })) : null),
      el("td", { class: "num" }, range(w)),
      el("td", { class: "num" }, `${number(w.expected_hours)} h`, high !== null ? el("div", { class: "muted small" }, tf("up_to_hours", { h: number(high) })) : null),
      el("td", { class: "num" }, w.last_year === undefined || w.last_year === null ? "—" : number(w.last_year)));
  });
  const weekTable = el("table", { class: "grid weeks" },
    el("thead", {}, el("tr", {}, [t("week"), t("expected"), t("band_80"), t("expected_hours"), t("last_year")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
  return [tiles, el("div", { class: "forecast-grid" },
    el("figure", { class: "forecast-chart" }, forecastChart(f), legend(f)),
    el("div", {}, weekTable)), backtest(f)];
}

function forecastChart(f) {
  const history = f.history.map((h) => ({ x: weekDate(h.week_start), y: h.count, label: `${h.week_start}` }));
  const ahead = f.weeks.map((w) => ({ x: weekDate(w.week_start), y: w.expected, label: `${w.iso_week} (${w.week_start}) ${t("band_80")} ${number(w.low)}–${number(w.high)}` }));
  const all = [...history, ...ahead];
  const first = f.weeks[0];
  // Label every other week, keeping this week among the labelled ones.
  const at = all.findIndex((p) => +p.x === +weekDate(first.week_start));
  const ticks = all.filter((_, i) => (i - at) % 2 === 0).map((p) => p.x);
  const lastYear = f.weeks.filter((w) => w.last_year !== undefined && w.last_year !== null)
    .map((w) => ({ x: weekDate(w.week_start), y: w.last_year, label: w.iso_week }));
  const summary = `${t("forecast")} · ${f.territory}: ${history.length} ${t("week")} ${t("actual")}, ${f.weeks.length} ${t("week")} ${t("forecast_line")}; `
    + f.weeks.map((w) => `${w.iso_week} ${number(w.expected)} (${number(w.low)}–${number(w.high)})`).join(", ");
  return lineChart(history, {
    width: 560, height: 270, yMin: 0, color: "var(--blue)", forecast: ahead, forecastDots: true, forecastClass: "volume",
    band: f.weeks.map((w) => ({ x: weekDate(w.week_start), low: w.low, high: w.high })), bandLabel: t("band_80"),
    series: lastYear.length ? [{ points: lastYear, class: "last-year", title: t("last_year_long") }] : [],
    marks: first.so_far !== undefined ? [{ x: weekDate(first.week_start), y: first.so_far, class: "so-far", label: tf("so_far", { n: first.so_far }) }] : [],
    divider: { x: weekDate(first.week_start), label: t("this_week") },
    xTicks: ticks, xLabel: (x) => mmdd(x), format: (v) => number(v, 1), axisFormat: (v) => number(v), label: summary,
  });
}

function legend(f) {
  const item = (cls, key) => el("span", { class: "legend-item" }, el("span", { class: `key ${cls}`, "aria-hidden": "true" }), t(key));
  return el("figcaption", { class: "care-legend" },
    item("actual", "actual"), item("forecast", "forecast_line"), item("band", "band_80"),
    f.weeks.some((w) => w.last_year !== undefined && w.last_year !== null) ? item("last-year", "last_year_long") : null,
    f.weeks[0].so_far !== undefined ? item("so-far", "so_far_short") : null);
}

function methodText(method) {
  const k = /(\d+) Fourier/.exec(method)?.[1];
  if (k) return tf("method_harmonic", { k });
  if (method.startsWith("recent mean")) return t("method_recent");
  return method;
}

function backtest(f) {
  const bt = f.backtest || {};
  const box = el("div", { class: "backtest", id: "backtest" }, el("h4", {}, t("bt_title")));
  if (!bt.model || !bt.seasonal_naive) {
    const short = /^(\d+) weeks of history: a backtest needs (\d+)/.exec(bt.why || "");
    const why = short ? tf("bt_short", { have: short[1], need: short[2] }) : (bt.why || "—");
    box.append(el("p", {}, tf("bt_none", { why })));
  } else {
    const m = bt.model, n = bt.seasonal_naive;
    const mape = (e) => (e.mape === null || e.mape === undefined ? "—" : `MAPE ${number(e.mape, 1)} %`);
    const better = m.mae < n.mae;
    const pct = n.mae > 0 && m.mae > 0 ? `${number(Math.abs(1 - m.mae / n.mae) * 100)} %` : "—";
    box.append(
      el("p", {}, tf("bt_intro", { origins: bt.origins, horizon: bt.horizon, points: m.points })),
      el("ul", {},
        el("li", { "data-error": "model" }, tf("bt_model", { mae: number(m.mae, 1), mape: mape(m) })),
        el("li", { "data-error": "seasonal_naive" }, tf("bt_naive", { mae: number(n.mae, 1), mape: mape(n) }))),
      el("p", { class: better ? "verdict good" : "verdict bad", "data-verdict": better ? "better" : "worse" },
        better ? "✓ " : "⚠ ", tf(better ? "bt_better" : "bt_worse", { pct })),
      m.mase !== null && n.mase !== null ? el("p", { class: "muted small" }, tf("mase_note", { model: number(m.mase, 2), naive: number(n.mase, 2) })) : null);
  }
  box.append(el("p", { class: "muted small" }, `${t("method")}: ${methodText(f.method)}`));
  return box;
}

// ------------------------------------------------------------------ (b) churn risk

function churnFilters(body) {
  const buttons = Object.keys(LEVELS).map((key) => el("button", {
    type: "button", "data-levels": key, "aria-pressed": String(prefs.levels === key),
    onclick: () => {
      prefs.levels = key;
      for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.levels === key));
      loadChurn(body);
    },
  }, t({ medium_up: "risk_medium_up", high: "risk_high", all: "all" }[key])));
  const mine = el("input", { type: "checkbox", id: "churn-mine", checked: prefs.mine });
  mine.addEventListener("change", () => { prefs.mine = mine.checked; loadChurn(body); });
  return el("div", { class: "filters tight" },
    el("div", { class: "toggle", role: "group", "aria-label": t("churn") }, buttons),
    el("label", { class: "check" }, mine, " ", t("mine_only")));
}

function levelChip(row) {
  return el("span", { class: `chip risk-${row.level}` }, `${t(`level_${row.level}`)} · ${row.score}`);
}

function scoreBar(row) {
  // SVG geometry rather than a style attribute: the console's CSP allows no inline styles.
  return el("svg:svg", { class: `score-bar risk-${row.level}`, viewBox: "0 0 100 6", preserveAspectRatio: "none", "aria-hidden": "true" },
    el("svg:rect", { class: "track", x: 0, y: 0, width: 100, height: 6, rx: 3 }),
    el("svg:rect", { class: "fill", x: 0, y: 0, width: Math.max(2, Math.min(100, row.score)), height: 6, rx: 3 }));
}

export function reasonList(row) {
  if (!row.reasons.length) return el("span", { class: "muted" }, t("none"));
  return el("ul", { class: "reasons-list" }, row.reasons.map((r) => el("li", { "data-signal": r.signal },
    lang.current === "zh" ? r.reason_zh || r.reason : r.reason, el("span", { class: "pts" }, ` +${r.points} ${t("points")}`))));
}

async function loadChurn(body) {
  const query = new URLSearchParams();
  for (const level of LEVELS[prefs.levels]) query.append("level", level);
  if (prefs.mine) query.set("owner", "me");
  let rows;
  try {
    rows = await api(`/care/churn?${query}`);
  } catch (error) {
    fill(body, el("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  if (!rows.length) { fill(body, el("p", { class: "muted" }, t("no_churn"))); return; }
  fill(body, el("table", { class: "grid churn" },
    el("thead", {}, el("tr", {}, [t("score"), t("customer"), t("account_owner"), t("reasons")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", { "data-customer": r.customer_id, "data-level": r.level },
      el("td", { class: "risk" }, levelChip(r), scoreBar(r)),
      el("td", {}, el("a", { href: `#customer/${r.customer_id}` }, r.customer_name), el("div", { class: "muted small" }, r.customer_code || "")),
      el("td", {}, r.account_owner || "—"),
      el("td", {}, reasonList(r)))))));
}

// ------------------------------------------------------------------ (c) consumables running out

function withinFilter(body) {
  const select = el("select", { id: "runout-within" }, [14, 30, 60, 90].map((n) => el("option", { value: n, selected: n === prefs.within }, tf("next_n_days", { n }))));
  select.addEventListener("change", () => { prefs.within = Number(select.value); loadRunOuts(body); });
  return el("label", { class: "field" }, t("within_days"), " ", select);
}

/** Calendar days in the territory's zone from the server's now (the answer's days_left says where that is). */
function calendarDays(iso, daysLeft) {
  const now = new Date(Date.parse(iso) - daysLeft * 86_400_000).toISOString();
  return Math.round((Date.parse(localDay(iso)) - Date.parse(localDay(now))) / 86_400_000);
}

function whenChip(row) {
  if (!row.run_out_at || row.days_left === null || row.days_left === undefined) return "—";
  const d = calendarDays(row.run_out_at, row.days_left);
  const text = d < 0 ? tf("ran_out_ago", { n: -d }) : d === 0 ? t("today") : tf("in_days", { n: d });
  const cls = d <= 0 ? "late" : d <= (row.lead_days ?? 14) ? "soon" : "later";
  return el("span", { class: `chip when-${cls}` }, text);
}

function basisText(row, unitOf) {
  const b = row.basis || {};
  const unit = unitOf.get(row.consumable_id) || "";
  if (b.method === "usage") {
    return [
      b.used !== undefined ? tf("used_of", { used: number(b.used), capacity: number(b.capacity), unit }) : null,
      b.rate_per_day !== undefined ? tf("per_day", { rate: number(b.rate_per_day, b.rate_per_day < 10 ? 1 : 0), unit }) : null,
    ].filter(Boolean).join(" · ");
  }
  if (b.method === "cycle") {
    const since = b.since ? tf(b.from === "installation" ? "since_installed" : "since_replaced", { d: localDay(b.since) }) : "";
    return [tf("every_days", { n: b.cycle_days }), since].filter(Boolean).join(" · ");
  }
  return b.why || "";
}

export function noticeCell(notice, row) {
  if (!notice) return el("span", { class: "muted" }, tf("notice_later", { n: row.lead_days }));
  return el("span", { class: "notice-cell", "data-notice": notice.id },
    notice.portal ? el("span", { class: "chip notice" }, t("notice_portal")) : null,
    notice.task_id ? el("span", { class: "chip notice" }, t("notice_task")) : null,
    el("span", { class: "muted small" }, ` ${tf("notice_raised", { d: localDay(notice.raised_at).slice(5) })}`));
}

async function loadRunOuts(body) {
  let predicted, notices, consumables;
  try {
    [predicted, notices, consumables] = await Promise.all([
      api(`/care/run-outs?within_days=${prefs.within}&limit=200`), api("/care/notices?limit=500"), api("/care/consumables"),
    ]);
  } catch (error) {
    fill(body, el("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  fill(body, runOutTable(predicted, notices, consumables, true));
}

export function runOutTable(predicted, notices, consumables, withCustomer) {
  if (!predicted.length) return el("p", { class: "muted" }, t("none_running_out"));
  const unitOf = new Map(consumables.map((c) => [c.id, c.unit]));
  const open = new Map(notices.map((n) => [`${n.asset_id}:${n.consumable}`, n]));
  const head = [t("run_out"), withCustomer ? t("customer") : null, t("asset"), t("consumable"), t("basis"), t("notice")].filter(Boolean);
  return el("table", { class: "grid runouts" },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, predicted.map((r) => {
      const notice = open.get(`${r.asset_id}:${r.consumable}`);
      return el("tr", { "data-asset": r.asset_id, "data-consumable": r.consumable, "data-notice": notice ? notice.id : null },
        el("td", { class: "nowrap" }, r.run_out_at ? localDay(r.run_out_at) : "—", " ", whenChip(r)),
        withCustomer ? el("td", {}, el("a", { href: `#customer/${r.customer_id}` }, r.customer)) : null,
        el("td", { class: "nowrap" }, r.serial),
        el("td", {}, r.name),
        el("td", { class: "small" }, basisText(r, unitOf)),
        el("td", {}, noticeCell(notice, r)));
    })));
}

// ------------------------------------------------------------------ on the 360° customer page

/** The customer's churn score and reasons, and what runs out in the next 60 days; null when unknown. */
export async function customerCare(customerId) {
  const [churn, predicted, notices, consumables] = await Promise.all([
    api(`/care/churn?customer_id=${customerId}`),
    api(`/care/run-outs?customer_id=${customerId}&within_days=60`),
    api(`/care/notices?customer_id=${customerId}`),
    api("/care/consumables"),
  ]).catch(() => [[], [], [], []]);
  const score = churn[0];
  return {
    churn: score ? el("section", { class: "panel", id: "customer-churn" },
      el("h3", {}, t("churn_risk"), " ", levelChip(score)), scoreBar(score), reasonList(score)) : null,
    runOuts: predicted.length ? el("section", { class: "panel", id: "customer-runouts" },
      el("h3", {}, t("running_out")), runOutTable(predicted, notices, consumables, false)) : null,
  };
}

