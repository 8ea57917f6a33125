// Optimise the territory's day: the optimizer's proposal as a diff a dispatcher can judge (moves, travel
// saved, lateness before and after, what stays unassigned and why), then accept or discard it.
import { t } from "./i18n.js";
import { $, api, el, fill, hhmm, ref, state, toast } from "./util.js";

let current = null;
let onDone = async () => {};

export function onPlanChange(f) { onDone = f; }

const nameOf = (id) => state.board.engineers.find((e) => e.id === Number(id))?.name || `#${id}`;

function tile(label, value, note = null, good = null) {
  return el("div", { class: `tile${good === true ? " good" : good === false ? " bad" : ""}` },
    el("div", { class: "tile-label" }, label), el("div", { class: "tile-value" }, value),
    note ? el("div", { class: "tile-note" }, note) : null);
}

function changes(diff) {
  const rows = [];
  for (const m of diff.moved) {
    rows.push([ref(m.work_order_id), t("moves"), `${nameOf(m.from_engineer_id)} ${hhmm(m.from_start)} → ${nameOf(m.to_engineer_id)} ${hhmm(m.to_start)}`]);
  }
  for (const wo of diff.added) {
    const engineer = Object.entries(diff.gains).find(([, list]) => list.includes(wo))?.[0];
    const stop = current.plan.routes.flatMap((r) => r.stops).find((s) => s.work_order_id === wo);
    rows.push([ref(wo), t("added"), `→ ${nameOf(engineer)} ${stop ? hhmm(stop.start) : ""}`]);
  }
  for (const r of diff.retimed) rows.push([ref(r.work_order_id), t("retimed"), `${nameOf(r.engineer_id)} ${hhmm(r.from_start)} → ${hhmm(r.to_start)}`]);
  for (const wo of diff.withdrawn) rows.push([ref(wo), t("withdrawn"), ""]);
  return rows;
}

// Before and after for each engineer the proposal touches: two thin timelines, what arrives in green,
// what leaves in red, the rest as it was. A picture of the diff the table below spells out.
function timelines(p) {
  const d = p.diff;
  const touched = [...new Set([...Object.keys(d.gains), ...Object.keys(d.loses), ...d.retimed.map((r) => String(r.engineer_id))])].map(Number);
  if (!touched.length) return null;
  const dayStart = Date.parse(state.board.day_start);
  const W = 820, L = 120, H0 = 6, H1 = 22, ROW = 16;
  const x = (iso) => L + ((Date.parse(iso) - dayStart) / 60000 - H0 * 60) * ((W - L - 10) / ((H1 - H0) * 60));
  const gained = new Set(Object.values(d.gains).flat());
  const lost = new Set(Object.values(d.loses).flat());
  const retimed = new Set(d.retimed.map((r) => r.work_order_id));
  const after = new Map(p.plan.routes.map((r) => [r.engineer_id, r.stops]));
  const rows = touched.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  const svg = el("svg:svg", { class: "diff-lines", viewBox: `0 0 ${W} ${rows.length * (2 * ROW + 10) + 18}`, role: "img", "aria-label": t("proposal") });
  for (let h = H0; h < H1; h += 2) {
    const hx = L + (h - H0) * 60 * ((W - L - 10) / ((H1 - H0) * 60));
    svg.append(el("svg:text", { class: "tick", x: hx, y: 10 }, `${String(h).padStart(2, "0")}`));
  }
  rows.forEach((id, i) => {
    const y = 16 + i * (2 * ROW + 10);
    svg.append(el("svg:text", { class: "name", x: 0, y: y + ROW + 4 }, nameOf(id)));
    svg.append(el("svg:text", { class: "tick", x: L - 4, y: y + 11, "text-anchor": "end" }, t("before")));
    svg.append(el("svg:text", { class: "tick", x: L - 4, y: y + ROW + 11, "text-anchor": "end" }, t("after")));
    for (const v of state.board.visits.filter((v) => v.engineer_id === id && v.start && v.end)) {
      const wo = v.job.work_order_id;
      svg.append(el("svg:rect", { class: lost.has(wo) ? "out" : retimed.has(wo) ? "retimed" : "same", x: x(v.start), y, width: Math.max(3, x(v.end) - x(v.start)), height: ROW - 3 },
        el("svg:title", {}, `${ref(wo)} ${hhmm(v.start)}`)));
    }
    for (const s of after.get(id) || []) {
      const wo = s.work_order_id;
      svg.append(el("svg:rect", { class: gained.has(wo) ? "in" : retimed.has(wo) ? "retimed" : "same", x: x(s.start), y: y + ROW, width: Math.max(3, x(s.end) - x(s.start)), height: ROW - 3 },
        el("svg:title", {}, `${ref(wo)} ${hhmm(s.start)}`)));
    }
  });
  return svg;
}

function render(p) {
  const d = p.diff;
  const saved = d.travel_km.before - d.travel_km.after;
  const later = d.lateness_minutes.after - d.lateness_minutes.before;
  const list = changes(d);
  fill($("#optimise-body"), 
    el("p", { class: "muted" }, `${p.solver_status} · ${p.solve_seconds.toFixed(1)} ${t("seconds")}`),
    el("div", { class: "tiles" },
      tile(t("added"), String(d.added.length)),
      tile(t("moves"), String(d.moved.length)),
      tile(t("retimed"), String(d.retimed.length)),
      tile(t("travel"), `${d.travel_km.after.toFixed(1)} ${t("km")}`, `${t("before")} ${d.travel_km.before.toFixed(1)} · ${t("saved")} ${saved.toFixed(1)}`, saved > 0.05 ? true : saved < -0.05 ? false : null),
      tile(t("lateness"), `${Math.round(d.lateness_minutes.after)} ${t("unit_minutes")}`, `${t("before")} ${Math.round(d.lateness_minutes.before)}`, later < -0.5 ? true : later > 0.5 ? false : null),
      tile(t("unassigned"), String(d.unassigned.length), null, d.unassigned.length ? false : null)),
    timelines(p),
    list.length
      ? el("table", { class: "grid", id: "optimise-changes" }, el("thead", {}, el("tr", {}, [t("work_order"), t("change"), ""].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, list.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))))
      : el("p", {}, t("no_changes")),
    d.unassigned.length
      ? el("div", {}, el("h3", {}, t("unassigned")), el("ul", { class: "reasons" },
        d.unassigned.map((u) => el("li", {}, el("strong", {}, u.reference), ` — ${t(`reason_${u.reason}`)}: ${u.detail}`))))
      : null);
  $("#optimise-accept").disabled = false;
  $("#optimise-discard").disabled = false;
}

export async function optimise() {
  const dialog = $("#optimise");
  $("#optimise-accept").disabled = true;
  $("#optimise-discard").disabled = true;
  fill($("#optimise-body"), el("p", { class: "busy", role: "status" }, t("optimising")));
  current = null;
  if (!dialog.open) dialog.showModal();
  try {
    current = await api("/dispatch/optimisations", {
      method: "POST",
      json: {
        territory_id: state.board.territory_id, day: state.board.day, time_limit_seconds: Number($("#optimise-seconds").value) || 5,
        // Bound how many planned visits may change engineer (blank: no bound), for a calmer day.
        max_moved: $("#optimise-max-moved").value === "" ? null : Number($("#optimise-max-moved").value),
      },
    });
    render(current);
  } catch (error) {
    fill($("#optimise-body"), el("p", { class: "error", role: "alert" }, error.message));
  }
}

async function decide(verb) {
  if (!current) return;
  try {
    await api(`/dispatch/optimisations/${current.id}/${verb}`, { method: "POST", json: verb === "commit" ? { release: false } : undefined });
    toast(t(verb === "commit" ? "accepted_plan" : "discarded"));
    $("#optimise").close();
  } catch (error) {
    // e.g. 412: the plan changed while the dispatcher was reading; say so and keep the dialog.
    toast(`${t("refused")}: ${error.message}`, true);
  }
  current = null;
  await onDone();
}

export function wireOptimise() {
  $("#optimise-run").addEventListener("click", optimise);
  $("#optimise-again").addEventListener("click", optimise);
  $("#optimise-accept").addEventListener("click", () => decide("commit"));
  $("#optimise-discard").addEventListener("click", () => decide("discard"));
  $("#optimise-close").addEventListener("click", () => { if (current) decide("discard"); else $("#optimise").close(); });
}
