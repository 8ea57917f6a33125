// The dispatcher's console. Plain modern JavaScript modules, no framework and no third-party code, served
// by fieldops itself. Views are addressed in the URL hash (#board, #map, #wo/12, #alarm/3, #kpis,
// #customer/4, #care) so they can be bookmarked and the back button works.
import { renderAlarm, renderAlarms } from "./alarms.js";
import { closeInspector, legend, onBoardChange, renderBoard, renderQueue } from "./board.js";
import { renderCare } from "./care.js";
import { renderCustomer, renderCustomers } from "./customer.js";
import { lang, setLang, t, translate } from "./i18n.js";
import { renderKpis } from "./kpis.js";
import { listen } from "./live.js";
import { renderMap, wireMap } from "./mapview.js";
import { onPlanChange, wireOptimise } from "./optimise.js";
import { $, api, el, ref, state, toast } from "./util.js";
import { renderWorkOrder } from "./workorder.js";

let config = { tiles: null };

// ------------------------------------------------------------------ sign-in

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  $("#login-error").textContent = "";
  try {
    const tokens = await api("/auth/token", { method: "POST", json: { username: form.get("username"), password: form.get("password") } });
    state.token = tokens.access_token;
    const me = await api("/auth/me");
    if (!["admin", "dispatcher"].includes(me.role)) {
      state.token = null;
      $("#login-error").textContent = t("engineers_only_app");
      return;
    }
    sessionStorage.setItem("fieldops.token", state.token);
    await start();
  } catch (error) {
    if (!$("#login-error").textContent) $("#login-error").textContent = error.status === 401 || error.status === 400 ? t("bad_login") : error.message;
  }
}

function signOut() {
  state.token = null;
  sessionStorage.removeItem("fieldops.token");
  state.live?.abort();
  $("#app").hidden = true;
  $("#login").hidden = false;
}

// ------------------------------------------------------------------ the board's data

let loading = null;
async function loadBoard() {
  const day = $("#day").value;
  const territory = $("#territory").value;
  // No day chosen yet: the server answers with today in the territory's time zone.
  const query = new URLSearchParams(day ? { day } : {});
  if (territory) query.set("territory_id", territory);
  const mark = performance.now();
  state.board = await api(`/board?${query}`);
  if (!$("#day").value) $("#day").value = state.board.day;
  state.territoryId = state.board.territory_id;
  fillTerritories();
  renderQueue();
  if (!$("#board-view").hidden) renderBoard();
  if (!$("#map-view").hidden) renderMap(config);
  // First paint of the board, for people and for bench/console (measured after layout).
  // Two frames: the first runs before the browser paints the new board, the second after it has.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    document.body.dataset.boardMs = String(Math.round(performance.now() - mark));
    if (!document.body.dataset.boardPaintedAt) document.body.dataset.boardPaintedAt = String(performance.now());
    // …and when every block of the day is in the page (the rows below the fold come one task later).
    const done = () => {
      if ($("#timeline")?.dataset.complete === "false") { setTimeout(done, 0); return; }
      requestAnimationFrame(() => requestAnimationFrame(() => {
        if (!document.body.dataset.boardCompleteAt) document.body.dataset.boardCompleteAt = String(performance.now());
      }));
    };
    done();
  }));
}

let again = false;
function reload() {
  // One load at a time; a change that arrives during a load gets one more load after it (never lost).
  if (loading) { again = true; return loading; }
  loading = loadBoard().finally(() => {
    loading = null;
    if (again) { again = false; reload(); }
  });
  return loading;
}

function fillTerritories() {
  const select = $("#territory");
  if (select.options.length === state.board.territories.length) { select.value = String(state.board.territory_id ?? ""); return; }
  select.replaceChildren(...state.board.territories.map(([id, name]) => el("option", { value: id }, name)));
  select.value = String(state.board.territory_id ?? "");
}

// ------------------------------------------------------------------ live changes

let reloadTimer = null;
function onLive(change) {
  const wo = change.type.startsWith("visit") ? change.data.work_order_id : change.subject_id;
  if (change.type === "work_order.created") {
    toast(`${t(change.data.source === "telemetry" ? "new_iot_work" : "new_work")}: ${change.data.reference || ref(wo)}`);
  } else if (["visit.on_site", "visit.signed_off", "visit.checked_in_off_site"].includes(change.type)) {
    const who = state.board?.engineers.find((e) => e.id === change.data.engineer_id)?.name;
    const key = { "visit.on_site": "checked_in", "visit.signed_off": "signed_off", "visit.checked_in_off_site": "off_site" }[change.type];
    toast(`${t(key)}: ${ref(wo)}${who ? " · " + who : ""}`, change.type === "visit.checked_in_off_site");
  }
  // Many changes arrive together after a plan is committed: one reload for the lot.
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => { if (["board", "map"].includes(currentView)) reload(); }, 250);
}

// ------------------------------------------------------------------ views

let currentView = "board";

async function route() {
  const [view, arg] = (location.hash.slice(1) || "board").split("/");
  currentView = view;
  closeInspector();
  for (const tab of document.querySelectorAll("nav .tab")) {
    const on = tab.dataset.view === view || (tab.dataset.view === "alarms" && view === "alarm") || (tab.dataset.view === "customers" && view === "customer");
    if (on) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
  }
  const planning = view === "board" || view === "map";
  $("#planning").hidden = !planning;
  $("#page").hidden = planning;
  $("#board-view").hidden = view !== "board";
  $("#map-view").hidden = view !== "map";
  if (planning) {
    if (!state.board) await reload();
    else if (view === "board") renderBoard(); else renderMap(config);
    return;
  }
  const page = $("#page");
  try {
    if (view === "wo") await renderWorkOrder(page, Number(arg));
    else if (view === "alarms") await renderAlarms(page, arg || "open");
    else if (view === "alarm") await renderAlarm(page, Number(arg));
    else if (view === "kpis") await renderKpis(page);
    else if (view === "care") await renderCare(page);
    else if (view === "customers") await renderCustomers(page);
    else if (view === "customer") await renderCustomer(page, Number(arg));
    page.querySelector("h2")?.setAttribute("tabindex", "-1");
    page.querySelector("h2")?.focus({ preventScroll: true });
  } catch (error) {
    page.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
}

async function start() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  const asked = new URLSearchParams(location.search);
  if (!$("#day").value && asked.get("day")) $("#day").value = asked.get("day");
  if (asked.get("territory_id")) $("#territory").replaceChildren(el("option", { value: asked.get("territory_id") }, asked.get("territory_id")));
  $("#board-legend").replaceChildren(legend());
  // Who I am and the board travel together: the first paint waits for one round trip, not two.
  const [me] = await Promise.all([api("/auth/me"), reload()]);
  state.me = me;
  $("#who").textContent = me.name;
  await route();
  listen(onLive);
}

document.addEventListener("DOMContentLoaded", async () => {
  translate();
  // The tile setting matters only to the map: fetched beside everything else, never waited for.
  fetch("/console/config").then((r) => r.json()).then((c) => { Object.assign(config, c); }).catch(() => {});
  state.listeners.add(() => signOut());
  onBoardChange(reload);
  onPlanChange(reload);
  wireOptimise();
  wireMap(config);
  $("#login-form").addEventListener("submit", signIn);
  $("#logout").addEventListener("click", signOut);
  $("#day").addEventListener("change", reload);
  $("#territory").addEventListener("change", reload);
  $("#queue-filter").addEventListener("input", () => renderQueue());
  $("#login-lang").addEventListener("click", () => setLang(lang.current === "zh" ? "en" : "zh"));
  $("#lang").addEventListener("click", () => {
    setLang(lang.current === "zh" ? "en" : "zh");
    $("#board-legend").replaceChildren(legend());
    if (state.board) { renderQueue(); route(); }
  });
  window.addEventListener("hashchange", () => { if (state.token) route(); });
  let resizeTimer = null;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => { if (state.board && currentView === "board") renderBoard(); }, 150); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeInspector(); });
  if (state.token) start().catch(signOut); else $("#login").hidden = false;
});
