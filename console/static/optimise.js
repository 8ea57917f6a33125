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
      json: { territory_id: state.board.territory_id, day: state.board.day, time_limit_seconds: Number($("#optimise-seconds").value) || 5 },
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
