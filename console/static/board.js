// The board: a timeline row per engineer (shift, break, visits with travel gaps, status colours, SLA marks,
// pins) and the unassigned queue by SLA urgency. Work is assigned or moved through POST /dispatch/moves —
// the same rules as every other way in — by dragging, or from the keyboard.
import { t } from "./i18n.js";
import { $, api, chip, el, esc, fill, hhmm, reasonText, state, toast, when } from "./util.js";

const HOURS = [6, 22]; // the visible part of the day, local time: widened to the day's earliest and latest work
const DEFAULT_HOURS = [6, 22];
const ROW = 34;
const LABEL = 170;
const AXIS = 26;
const QUEUE_PAGE = 200;
const MOVABLE = new Set(["assigned", "accepted"]);

let px = 1.2; // pixels per minute, fitted to the screen
let queueShown = QUEUE_PAGE;
let onChange = async () => {};
export const openInspector = { job: null, visit: null };

export function onBoardChange(f) { onChange = f; }

const minutesInto = (iso) => (Date.parse(iso) - Date.parse(state.board.day_start)) / 60000;
const xOf = (m) => LABEL + (m - HOURS[0] * 60) * px;

function fitScale() {
  const width = ($("#board").clientWidth || 1100) - LABEL - 30;
  px = Math.min(3, Math.max(0.6, width / ((HOURS[1] - HOURS[0]) * 60)));
}

function slaLabel(sla) {
  return sla && sla !== "ok" ? t(sla) : null;
}

// ------------------------------------------------------------------ the queue

function jobCard(job) {
  const item = el("li", {
    class: "job", draggable: "true", tabindex: "0", "data-wo": job.work_order_id, "data-sla": job.sla,
    "data-priority": job.priority, "aria-label": `${job.reference} ${job.priority} ${job.title} ${job.site}`,
    "aria-describedby": "queue-hint",
  },
  el("div", { class: "ref" }, el("span", {}, job.reference), " ", chip("prio", job.priority),
    job.source === "telemetry" ? el("span", { class: "chip iot" }, "IoT") : null,
    slaLabel(job.sla) ? chip("sla", job.sla, slaLabel(job.sla)) : null),
  el("div", { class: "title" }, job.title),
  el("div", { class: "meta" }, `${job.site} · ${job.customer}`),
  job.due ? el("div", { class: "meta due" }, `${job.due === job.respond_by ? t("due") : t("resolve_due")} ${when(job.due)}`) : null);
  item.addEventListener("dragstart", (e) => {
    e.dataTransfer.setData("text/plain", String(job.work_order_id));
    e.dataTransfer.effectAllowed = "move";
    item.classList.add("dragging");
  });
  item.addEventListener("dragend", () => item.classList.remove("dragging"));
  item.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openAssign(job); }
  });
  item.addEventListener("click", () => inspectJob(job));
  return item;
}

export function renderQueue() {
  const filter = ($("#queue-filter")?.value || "").trim().toLowerCase();
  const jobs = state.board.queue.filter((j) => !filter || `${j.reference} ${j.title} ${j.site} ${j.customer}`.toLowerCase().includes(filter));
  // A long queue is drawn a page at a time: the first screen paints fast, the rest on request.
  const shown = jobs.slice(0, queueShown);
  const list = $("#queue");
  list.replaceChildren(...shown.map(jobCard));
  if (jobs.length > shown.length) {
    list.append(el("li", { class: "more" }, el("button", {
      type: "button", onclick: () => { queueShown = Infinity; renderQueue(); },
    }, `${t("show_all")} (${jobs.length})`)));
  }
  $("#queue-count").textContent = `(${state.board.queue.length})`;
}

// ------------------------------------------------------------------ the timeline

function shorten(text, width) {
  const room = Math.floor((width - 8) / 6.5);
  if (room <= 1) return "";
  return text.length > room ? `${text.slice(0, room - 1)}…` : text;
}

const attrs = (o) => Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== false)
  .map(([k, v]) => ` ${k}="${esc(v)}"`).join("");

// A block as markup: the board has thousands, and one string parsed once is far faster than building
// each node by hand. Events are delegated from the timeline (see wireTimeline).
function block(visit, y) {
  // Clipped to the visible hours: a visit planned past midnight (or for days) must not run off the board.
  const rawStart = minutesInto(visit.start);
  const rawEnd = visit.end ? minutesInto(visit.end) : rawStart + visit.job.estimated_minutes;
  const start = Math.min(Math.max(rawStart, HOURS[0] * 60), HOURS[1] * 60 - 6 / px);
  const end = Math.max(Math.min(rawEnd, HOURS[1] * 60), start + 6 / px);
  const x = xOf(start);
  const w = Math.max(6, (end - start) * px);
  const label = `${visit.job.reference.slice(-4)} ${visit.job.title}`;
  const title = [
    `${visit.job.reference} ${visit.job.title}`,
    `${engineerName(visit.engineer_id)} · ${visit.job.site} · ${visit.job.customer}`,
    `${when(visit.start)}–${when(visit.end)} · ${t(visit.status)}`,
    visit.job.sla && visit.job.sla !== "ok" ? `SLA: ${t(visit.job.sla)}` : null,
    visit.late ? `⚠ ${t("late")}` : null,
    visit.pinned ? t("pinned") : null,
    visit.off_site ? t("off_site") : null,
  ].filter(Boolean).join("\n");
  const g = attrs({
    class: `block${MOVABLE.has(visit.status) ? " movable" : ""}`, "data-visit": visit.visit_id,
    "data-wo": visit.job.work_order_id, "data-status": visit.status, "data-sla": visit.job.sla,
    "data-late": visit.late ? "true" : null, "data-pinned": visit.pinned ? "true" : null,
    "data-off-site": visit.off_site ? "true" : null, role: "button", tabindex: "0",
    "aria-label": title.replaceAll("\n", ", "),
  });
  const text = shorten(label, w - (visit.pinned ? 7 : 0) - (visit.late ? 10 : 0));
  return `<g${g}><title>${esc(title)}</title><rect x="${x}" y="${y + 4}" width="${w}" height="${ROW - 8}"/>`
    + `<text x="${x + (visit.pinned ? 11 : 4)}" y="${y + ROW / 2 + 4}">${esc(text)}</text>`
    + (visit.pinned ? `<path class="pin-mark" d="M${x + 2},${y + 4} l7,0 l-7,7 z"/>` : "")
    + (visit.late ? `<path class="late-mark" d="M${x + w - 11},${y + ROW - 9} l5,-10 l5,10 z"/>` : "")
    + "</g>";
}

let visitById = new Map();
let names = new Map();
const engineerName = (id) => names.get(id) || "";

function fitHours(b) {
  let [first, last] = DEFAULT_HOURS;
  for (const v of b.visits) {
    if (!v.start) continue;
    first = Math.min(first, Math.floor(Math.max(0, minutesInto(v.start)) / 60));
    last = Math.max(last, Math.ceil(Math.min(24 * 60, minutesInto(v.end || v.start)) / 60));
  }
  for (const e of b.engineers) {
    if (!e.shift_start) continue;
    first = Math.min(first, Math.floor(Math.max(0, minutesInto(e.shift_start)) / 60));
    last = Math.max(last, Math.ceil(Math.min(24 * 60, minutesInto(e.shift_end)) / 60));
  }
  HOURS[0] = first;
  HOURS[1] = last;
}

export function renderBoard() {
  const b = state.board;
  fitHours(b);
  fitScale();
  const width = xOf(HOURS[1] * 60) + 10;
  const height = AXIS + Math.max(1, b.engineers.length) * ROW;
  const rows = [], grid = [], items = [];
  for (let h = HOURS[0]; h <= HOURS[1]; h++) {
    const x = xOf(h * 60);
    grid.push(`<line class="hour" x1="${x}" x2="${x}" y1="${AXIS - 4}" y2="${height}"/>`);
    if (h < HOURS[1]) grid.push(`<text class="hour-label" x="${x + 3}" y="16">${String(h).padStart(2, "0")}:00</text>`);
  }
  const byEngineer = new Map();
  visitById = new Map();
  names = new Map(b.engineers.map((e) => [e.id, e.name]));
  for (const v of b.visits) {
    visitById.set(String(v.visit_id), v);
    if (!byEngineer.has(v.engineer_id)) byEngineer.set(v.engineer_id, []);
    byEngineer.get(v.engineer_id).push(v);
  }
  const rowOf = new Map();
  b.engineers.forEach((engineer, i) => {
    const y = AXIS + i * ROW;
    rowOf.set(engineer.id, y);
    const mine = byEngineer.get(engineer.id) || [];
    rows.push(`<rect class="row${i % 2 ? " odd" : ""}" x="0" y="${y}" width="${width}" height="${ROW}" data-engineer="${engineer.id}"/>`);
    if (engineer.shift_start) {
      const s = Math.max(minutesInto(engineer.shift_start), HOURS[0] * 60);
      const e = Math.min(minutesInto(engineer.shift_end), HOURS[1] * 60);
      rows.push(`<rect class="shift" x="${xOf(s)}" y="${y + 2}" width="${Math.max(0, (e - s) * px)}" height="${ROW - 4}"/>`);
    }
    if (engineer.break_start) {
      const s = minutesInto(engineer.break_start);
      const e = minutesInto(engineer.break_end);
      items.push(`<g class="break" data-engineer="${engineer.id}"><title>${esc(`${t("break")} ${hhmm(engineer.break_start)}–${hhmm(engineer.break_end)}`)}</title><rect x="${xOf(s)}" y="${y + 8}" width="${(e - s) * px}" height="${ROW - 16}" fill="url(#hatch)"/></g>`);
    }
    // Planned hours within this day only.
    const dayStart = Date.parse(b.day_start), dayEnd = Date.parse(b.day_end);
    const load = mine.reduce((sum, v) => sum + (v.end && v.start
      ? Math.max(0, Math.min(Date.parse(v.end), dayEnd) - Math.max(Date.parse(v.start), dayStart)) / 60000 : 0), 0);
    rows.push(`<text class="name" x="8" y="${y + 15}">${esc(engineer.name)}</text>`);
    rows.push(`<text class="sub" x="8" y="${y + 28}">${esc(engineer.shift_start ? `${mine.length} ${t("jobs")} · ${(load / 60).toFixed(1)}${t("hours")}` : t("day_off"))}</text>`);
  });
  // The rows on screen are drawn first and painted; the rest follow in the next task, so the first
  // paint does not wait for thousands of blocks nobody can see yet.
  const view = $("#board-view");
  const top = (view?.scrollTop || 0) - AXIS, bottom = top + (view?.clientHeight || 900);
  const later = [];
  // Travel and waiting before each visit: a dashed line from the previous visit's end.
  for (const [engineerId, mine] of byEngineer) {
    const y = rowOf.get(engineerId);
    if (y === undefined) continue;
    const out = y + ROW >= top && y <= bottom + ROW ? items : later;
    let previous = null;
    for (const visit of mine) {
      if (!visit.start) continue;
      const from = Math.max(minutesInto(previous?.end || visit.start), HOURS[0] * 60);
      const to = Math.min(minutesInto(visit.start), HOURS[1] * 60);
      if (previous?.end && from < to) {
        out.push(`<line class="travel" x1="${xOf(from)}" x2="${xOf(to)}" y1="${y + ROW / 2}" y2="${y + ROW / 2}"/>`);
      }
      out.push(block(visit, y));
      previous = visit;
    }
  }
  const now = minutesInto(b.now);
  if (now > HOURS[0] * 60 && now < HOURS[1] * 60) {
    items.push(`<line class="now" x1="${xOf(now)}" x2="${xOf(now)}" y1="${AXIS - 4}" y2="${height}"/>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="${width}" height="${height}" role="group"`
    + ` aria-label="${esc(t("board"))}" data-label-width="${LABEL}" data-px-per-minute="${px}" data-first-hour="${HOURS[0]}"`
    + ` data-axis="${AXIS}" data-row="${ROW}"><defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse"`
    + ` patternTransform="rotate(45)"><rect width="6" height="6" fill="#eef1f5"/><line x1="0" y1="0" x2="0" y2="6"`
    + ` stroke="#9aa5b1" stroke-width="2"/></pattern></defs><g class="rows">${rows.join("")}</g>`
    + `<g class="axis">${grid.join("")}</g><g class="items">${items.join("")}</g></svg>`;
  const host = $("#board");
  host.innerHTML = svg;
  const timeline = host.firstElementChild;
  wireTimeline(timeline);
  const generation = ++renders;
  if (later.length) {
    timeline.dataset.complete = "false";
    setTimeout(() => {
      if (generation !== renders) return; // a newer render took over
      timeline.querySelector(".items").insertAdjacentHTML("beforeend", later.join(""));
      timeline.dataset.complete = "true";
    }, 0);
  } else {
    timeline.dataset.complete = "true";
  }
}

let renders = 0;

function wireTimeline(svg) {
  const visitOf = (target) => visitById.get(target.closest?.(".block")?.dataset.visit);
  svg.addEventListener("keydown", (e) => {
    const visit = visitOf(e.target);
    if (visit && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); inspectVisit(visit); }
  });
  svg.addEventListener("pointerdown", (e) => {
    const visit = visitOf(e.target);
    if (visit) startBlockDrag(e, visit, e.target.closest(".block"));
  });
  svg.addEventListener("dragover", (e) => { e.preventDefault(); highlight(svg, dropTarget(svg, e)); });
  svg.addEventListener("dragleave", () => highlight(svg, null));
  svg.addEventListener("drop", (e) => {
    e.preventDefault();
    highlight(svg, null);
    const wo = Number(e.dataTransfer.getData("text/plain"));
    const target = dropTarget(svg, e);
    if (wo && target) move(wo, target.engineer, target.minutes);
  });
}

function dropTarget(svg, event) {
  const box = svg.getBoundingClientRect();
  const y = event.clientY - box.top;
  const x = event.clientX - box.left;
  const engineer = state.board.engineers[Math.floor((y - AXIS) / ROW)];
  if (!engineer || x < LABEL || y < AXIS) return null;
  // Snap to the quarter hour.
  const minutes = Math.round((HOURS[0] * 60 + (x - LABEL) / px) / 15) * 15;
  return { engineer: engineer.id, minutes };
}

function highlight(svg, target) {
  svg.querySelector(".row.drop")?.classList.remove("drop");
  if (target) svg.querySelector(`.row[data-engineer="${target.engineer}"]`)?.classList.add("drop");
}

// Blocks are SVG (no HTML drag and drop there): moved with pointer events and a ghost.
function startBlockDrag(event, visit, g) {
  if (event.button !== 0) return;
  const svg = g.ownerSVGElement;
  const origin = { x: event.clientX, y: event.clientY };
  let ghost = null;
  const rect = g.querySelector("rect");
  const onMove = (e) => {
    if (!ghost && Math.hypot(e.clientX - origin.x, e.clientY - origin.y) < 5) return;
    if (!MOVABLE.has(visit.status)) return;
    if (!ghost) {
      ghost = rect.cloneNode();
      ghost.setAttribute("class", "ghost");
      svg.append(ghost);
    }
    ghost.setAttribute("x", Number(rect.getAttribute("x")) + e.clientX - origin.x);
    ghost.setAttribute("y", Number(rect.getAttribute("y")) + e.clientY - origin.y);
    highlight(svg, dropTarget(svg, e));
  };
  const onUp = (e) => {
    window.removeEventListener("pointermove", onMove);
    window.removeEventListener("pointerup", onUp);
    highlight(svg, null);
    if (!ghost) { inspectVisit(visit); return; }
    ghost.remove();
    const target = dropTarget(svg, e);
    if (target) {
      const startMinutes = Math.round((minutesInto(visit.start) + (e.clientX - origin.x) / px) / 15) * 15;
      move(visit.job.work_order_id, target.engineer, startMinutes);
    }
  };
  window.addEventListener("pointermove", onMove);
  window.addEventListener("pointerup", onUp);
}

// ------------------------------------------------------------------ actions

const jobOf = (woId) => state.board.queue.find((j) => j.work_order_id === woId)
  || state.board.visits.find((v) => v.job.work_order_id === woId)?.job;

export async function move(woId, engineerId, minutes, pin = true) {
  const job = jobOf(woId);
  const start = new Date(Date.parse(state.board.day_start) + minutes * 60000);
  const engineer = state.board.engineers.find((e) => e.id === engineerId);
  const wasPlanned = state.board.visits.some((v) => v.job.work_order_id === woId);
  try {
    const out = await api("/dispatch/moves", {
      method: "POST", json: { work_order_id: woId, engineer_id: engineerId, start: start.toISOString(), pin },
    });
    toast(`${t(wasPlanned ? "moved" : "assigned")}: ${job ? job.reference : woId} → ${engineer?.name} ${hhmm(out.start)}`);
  } catch (error) {
    // The API says why (skills, shift, window, state): show it as it is.
    toast(`${t("refused")}: ${job ? job.reference + " → " + (engineer?.name || "") + ": " : ""}${reasonText(error.message)}`, true);
  }
  await onChange();
}

export function openAssign(job, visit = null) {
  const dialog = $("#assign");
  const form = $("#assign-form");
  $("#assign-job").textContent = `${job.reference} · ${job.title} · ${job.site}`;
  form.engineer.replaceChildren(...state.board.engineers.map((e) => el("option", { value: e.id }, `${e.name}${e.skills.length ? " · " + e.skills.join(", ") : ""}`)));
  if (visit) form.engineer.value = String(visit.engineer_id);
  form.start.value = visit ? hhmm(visit.start) : "09:00";
  form.pin.checked = true;
  dialog.onclose = () => {
    if (dialog.returnValue !== "ok") return;
    const [h, m] = form.start.value.split(":").map(Number);
    move(job.work_order_id, Number(form.engineer.value), h * 60 + m, form.pin.checked);
  };
  dialog.returnValue = "";
  dialog.showModal();
}

async function setPin(visit, pinned) {
  try {
    if (pinned) {
      await api(`/dispatch/pins/${visit.job.work_order_id}`, { method: "PUT", json: { engineer_id: visit.engineer_id, start: visit.start } });
    } else {
      await api(`/dispatch/pins/${visit.job.work_order_id}`, { method: "DELETE" });
    }
    toast(`${visit.job.reference}: ${t(pinned ? "pinned" : "unpinned")}`);
  } catch (error) {
    toast(`${t("refused")}: ${error.message}`, true);
  }
  closeInspector();
  await onChange();
}

async function unassign(visit) {
  try {
    await api(`/visits/${visit.visit_id}/transitions`, { method: "POST", json: { to: "cancelled", reason: t("unassign_reason") } });
    toast(`${visit.job.reference}: ${t("unassign")}`);
  } catch (error) {
    toast(`${t("refused")}: ${error.message}`, true);
  }
  closeInspector();
  await onChange();
}

// ------------------------------------------------------------------ the inspector (details + actions)

function facts(job) {
  return el("dl", { class: "facts" },
    el("dt", {}, t("priority")), el("dd", {}, chip("prio", job.priority)),
    el("dt", {}, t("sla")), el("dd", {}, job.sla ? chip("sla", job.sla, t(job.sla)) : "—"),
    el("dt", {}, t("due")), el("dd", {}, job.respond_by ? hhmm(job.respond_by) : "—"),
    el("dt", {}, t("resolve_due")), el("dd", {}, job.resolve_by ? hhmm(job.resolve_by) : "—"),
    el("dt", {}, t("site")), el("dd", {}, job.site),
    el("dt", {}, t("customer")), el("dd", {}, el("a", { href: `#customer/${job.customer_id}` }, job.customer)),
    el("dt", {}, t("source")), el("dd", {}, job.source === "telemetry" ? "IoT" : job.source));
}

function showInspector(title, ...body) {
  const panel = $("#inspector");
  fill(panel,
    el("div", { class: "inspector-head" }, el("h2", { id: "inspector-title" }, title),
      el("button", { type: "button", class: "icon", "aria-label": t("close"), onclick: closeInspector }, "×")),
    ...body);
  panel.hidden = false;
  panel.querySelector("button:not(.icon), a")?.focus();
}

export function closeInspector() {
  $("#inspector").hidden = true;
}

function inspectJob(job) {
  showInspector(`${job.reference}`, el("p", { class: "lead" }, job.title), facts(job),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", onclick: () => openAssign(job) }, t("assign")),
      el("a", { class: "button", href: `#wo/${job.work_order_id}` }, t("open"))));
}

function inspectVisit(visit) {
  const engineer = state.board.engineers.find((e) => e.id === visit.engineer_id);
  const movable = MOVABLE.has(visit.status);
  showInspector(`${visit.job.reference}`, el("p", { class: "lead" }, visit.job.title),
    el("p", {}, `${engineer?.name || ""} · ${hhmm(visit.start)}–${hhmm(visit.end)} · ${t(visit.status)}`),
    visit.late ? el("p", { class: "warn" }, `⚠ ${t("late")}`) : null,
    visit.off_site ? el("p", { class: "warn" }, t("off_site")) : null,
    facts(visit.job),
    el("div", { class: "actions" },
      el("a", { class: "button", href: `#wo/${visit.job.work_order_id}` }, t("open")),
      movable ? el("button", { type: "button", onclick: () => openAssign(visit.job, visit) }, t("move")) : null,
      movable ? el("button", { type: "button", "data-action": visit.pinned ? "unpin" : "pin", onclick: () => setPin(visit, !visit.pinned) }, t(visit.pinned ? "unpin" : "pin")) : null,
      movable ? el("button", { type: "button", class: "danger", onclick: () => unassign(visit) }, t("unassign")) : null));
}

export function legend() {
  const swatch = (cls, label) => el("span", { class: "legend-item" }, el("span", { class: `swatch ${cls}` }), label);
  return el("div", { class: "legend", "aria-label": t("legend") },
    swatch("assigned", t("assigned")), swatch("accepted", t("accepted")), swatch("en_route", t("en_route")),
    swatch("on_site", t("on_site")), swatch("done", t("signed")), swatch("at_risk", t("at_risk")),
    swatch("breached", t("breached")), swatch("late", t("late")), swatch("pin", t("pinned")), swatch("break", t("break")));
}
