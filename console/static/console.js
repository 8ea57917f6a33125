// The dispatcher's console. Plain modern JavaScript, no framework and no third-party code: it reads
// /board, writes through the same API as everything else, and listens to /live for changes.

const TEXT = {
  zh: {
    console: "调度台", username: "用户名", password: "密码", sign_in: "登录", sign_out: "退出",
    board: "排班板", map: "地图", day: "日期", queue: "待派工单", assign: "派工", engineer: "工程师",
    start: "开始", cancel: "取消", live: "实时", offline: "连接中断，重连中…", engineers_only_app:
      "工程师请使用手机应用。", assigned: "已派工", refused: "未能派工", new_work: "新工单",
    checked_in: "已到达", signed_off: "已签字完成", bad_login: "用户名或密码错误",
  },
  en: {
    console: "Dispatch console", username: "Username", password: "Password", sign_in: "Sign in",
    sign_out: "Sign out", board: "Board", map: "Map", day: "Day", queue: "Unassigned", assign: "Assign",
    engineer: "Engineer", start: "Start", cancel: "Cancel", live: "live", offline: "connection lost, retrying…",
    engineers_only_app: "Engineers use the mobile app.", assigned: "Assigned", refused: "Not assigned",
    new_work: "New work order", checked_in: "Checked in", signed_off: "Signed off",
    bad_login: "Wrong username or password", due: "respond by", pinned: "pinned",
  },
};

const HOURS = [6, 22];        // the visible part of the day, local time
const PX_PER_MIN = 1.2;
const ROW = 30;
const LABEL = 150;
const AXIS = 24;

const state = {
  lang: localStorage.getItem("fieldops.lang") || (navigator.language.startsWith("zh") ? "zh" : "en"),
  token: sessionStorage.getItem("fieldops.token"),
  board: null,
  picked: null,
  live: null,
};

const $ = (sel) => document.querySelector(sel);
const t = (key) => TEXT[state.lang][key] || key;
const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function translate() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("#lang").textContent = state.lang === "zh" ? "EN" : "中文";
}

function toast(message, bad = false) {
  const node = el("div", { class: bad ? "toast bad" : "toast" }, message);
  $("#toasts").append(node);
  setTimeout(() => node.remove(), bad ? 8000 : 4000);
}

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    signOut();
    throw new Error("signed out");
  }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(body?.detail || response.statusText);
    error.problem = body;
    throw error;
  }
  return body;
}

// ------------------------------------------------------------------ sign-in

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  $("#login-error").textContent = "";
  try {
    const tokens = await api("/auth/token", {
      method: "POST", json: { username: form.get("username"), password: form.get("password") },
    });
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
    if (!$("#login-error").textContent) $("#login-error").textContent = error.problem ? t("bad_login") : error.message;
  }
}

function signOut() {
  state.token = null;
  sessionStorage.removeItem("fieldops.token");
  state.live?.abort();
  $("#app").hidden = true;
  $("#login").hidden = false;
}

// ------------------------------------------------------------------ the board

const minutesInto = (iso) => (Date.parse(iso) - Date.parse(state.board.day_start)) / 60000;
const xOf = (minutes) => LABEL + (minutes - HOURS[0] * 60) * PX_PER_MIN;

function localTime(iso) {
  return new Intl.DateTimeFormat(state.lang === "zh" ? "zh-CN" : "en-GB", {
    hour: "2-digit", minute: "2-digit", timeZone: state.board.timezone,
  }).format(new Date(iso));
}

async function loadBoard() {
  const day = $("#day").value;
  state.board = await api(`/board?day=${day}`);
  renderQueue();
  renderBoard();
  if (!$("#map-view").hidden) renderMap();
}

function renderQueue() {
  const list = $("#queue");
  list.replaceChildren(...state.board.queue.map((job) => {
    const item = el("li", {
      class: "job", draggable: "true", tabindex: "0", "data-wo": job.work_order_id, "data-sla": job.sla,
      "aria-label": `${job.reference} ${job.title}`,
    },
    el("div", { class: "ref" }, `${job.reference} · ${job.priority}`),
    el("div", {}, job.title),
    el("div", { class: "meta" }, `${job.site}${job.respond_by ? " · " + t("due") + " " + localTime(job.respond_by) : ""}${job.sla && job.sla !== "ok" ? " · " + job.sla : ""}`));
    item.addEventListener("dragstart", (e) => {
      e.dataTransfer.setData("text/plain", String(job.work_order_id));
      e.dataTransfer.effectAllowed = "move";
    });
    item.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openAssign(job); } });
    item.addEventListener("dblclick", () => openAssign(job));
    return item;
  }));
  $("#queue-count").textContent = `(${state.board.queue.length})`;
}

function renderBoard() {
  const b = state.board;
  const width = xOf(HOURS[1] * 60) + 10;
  const height = AXIS + b.engineers.length * ROW;
  const svg = el("svg:svg", { width, height, role: "grid", "aria-label": t("board") });
  const axis = el("svg:g");
  for (let h = HOURS[0]; h <= HOURS[1]; h++) {
    const x = xOf(h * 60);
    axis.append(el("svg:line", { class: "hour", x1: x, x2: x, y1: AXIS - 6, y2: height }));
    axis.append(el("svg:text", { x: x + 2, y: 14 }, `${String(h).padStart(2, "0")}:00`));
  }
  svg.append(axis);
  const rowOf = new Map();
  b.engineers.forEach((engineer, i) => {
    const y = AXIS + i * ROW;
    rowOf.set(engineer.id, y);
    svg.append(el("svg:rect", { class: "row", x: 0, y, width, height: ROW, "data-engineer": engineer.id, role: "row" }));
    svg.append(el("svg:text", { x: 6, y: y + 19 }, engineer.name));
  });
  let previous = null;
  for (const visit of b.visits) {
    const y = rowOf.get(visit.engineer_id);
    if (y === undefined || !visit.start) continue;
    const start = minutesInto(visit.start);
    const end = visit.end ? minutesInto(visit.end) : start + visit.job.estimated_minutes;
    if (previous && previous.engineer_id === visit.engineer_id && previous.end) {
      // The gap before a visit: travel and waiting, drawn as a dashed line.
      svg.append(el("svg:line", { class: "travel", x1: xOf(minutesInto(previous.end)), x2: xOf(start), y1: y + ROW / 2, y2: y + ROW / 2 }));
    }
    previous = visit;
    const block = el("svg:g", {
      class: "block", "data-visit": visit.visit_id, "data-wo": visit.job.work_order_id, "data-status": visit.status,
      "data-sla": visit.job.sla, role: "gridcell", tabindex: "0",
      "aria-label": `${visit.job.reference} ${visit.status} ${localTime(visit.start)}`,
    },
    el("svg:title", {}, `${visit.job.reference} ${visit.job.title}\n${visit.job.site}\n${localTime(visit.start)}–${visit.end ? localTime(visit.end) : ""} · ${visit.status}${visit.pinned ? " · " + t("pinned") : ""}`),
    el("svg:rect", { x: xOf(start), y: y + 3, width: Math.max(4, (end - start) * PX_PER_MIN), height: ROW - 6 }),
    el("svg:text", { x: xOf(start) + 3, y: y + 19 }, `${visit.pinned ? "▲ " : ""}${visit.job.reference.slice(-4)}`));
    svg.append(block);
  }
  const now = minutesInto(b.now);
  if (now > HOURS[0] * 60 && now < HOURS[1] * 60) {
    svg.append(el("svg:line", { class: "now", x1: xOf(now), x2: xOf(now), y1: AXIS - 6, y2: height }));
  }
  svg.addEventListener("dragover", (e) => {
    e.preventDefault();
    highlightRow(svg, e);
  });
  svg.addEventListener("dragleave", () => highlightRow(svg, null));
  svg.addEventListener("drop", (e) => {
    e.preventDefault();
    highlightRow(svg, null);
    const wo = Number(e.dataTransfer.getData("text/plain"));
    const target = dropTarget(svg, e);
    if (wo && target) assign(wo, target.engineer, target.minutes);
  });
  $("#board").replaceChildren(svg);
}

function dropTarget(svg, event) {
  const box = svg.getBoundingClientRect();
  const y = event.clientY - box.top;
  const x = event.clientX - box.left;
  const index = Math.floor((y - AXIS) / ROW);
  const engineer = state.board.engineers[index];
  if (!engineer || x < LABEL) return null;
  // Snap to the quarter hour.
  const minutes = Math.round((HOURS[0] * 60 + (x - LABEL) / PX_PER_MIN) / 15) * 15;
  return { engineer: engineer.id, minutes };
}

function highlightRow(svg, event) {
  svg.querySelector(".row.drop")?.classList.remove("drop");
  const target = event && dropTarget(svg, event);
  if (target) svg.querySelector(`.row[data-engineer="${target.engineer}"]`)?.classList.add("drop");
}

async function assign(woId, engineerId, minutes) {
  const job = state.board.queue.find((j) => j.work_order_id === woId);
  const start = new Date(Date.parse(state.board.day_start) + minutes * 60000);
  const end = new Date(start.getTime() + (job?.estimated_minutes || 60) * 60000);
  try {
    await api(`/work-orders/${woId}/visits`, {
      method: "POST",
      json: { engineer_id: engineerId, planned_start: start.toISOString(), planned_end: end.toISOString() },
    });
    const engineer = state.board.engineers.find((e) => e.id === engineerId);
    toast(`${t("assigned")}: ${job ? job.reference : woId} → ${engineer?.name} ${localTime(start.toISOString())}`);
    await loadBoard();
  } catch (error) {
    toast(`${t("refused")}: ${error.message}`, true);
  }
}

function openAssign(job) {
  const dialog = $("#assign");
  const form = $("#assign-form");
  $("#assign-job").textContent = `${job.reference} · ${job.title}`;
  form.engineer.replaceChildren(...state.board.engineers.map((e) => el("option", { value: e.id }, e.name)));
  form.start.value = "09:00";
  dialog.onclose = () => {
    if (dialog.returnValue !== "ok") return;
    const [h, m] = form.start.value.split(":").map(Number);
    assign(job.work_order_id, Number(form.engineer.value), h * 60 + m);
  };
  dialog.showModal();
}

// ------------------------------------------------------------------ the map (plain SVG, no tiles)

function renderMap() {
  const b = state.board;
  const svg = $("#map");
  const points = [
    ...b.queue.map((j) => j.point), ...b.visits.map((v) => v.job.point),
    ...b.engineers.map((e) => e.last || e.home),
  ];
  if (!points.length) { svg.replaceChildren(); return; }
  const lats = points.map((p) => p[0]), lons = points.map((p) => p[1]);
  const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const { width, height } = svg.getBoundingClientRect();
  const w = width || 900, h = height || 600, pad = 30;
  // Equirectangular, with longitude shrunk by cos(latitude): fine at city scale.
  const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
  const spanX = Math.max((maxLon - minLon) * k, 1e-6), spanY = Math.max(maxLat - minLat, 1e-6);
  const scale = Math.min((w - 2 * pad) / spanX, (h - 2 * pad) / spanY);
  const project = ([lat, lon]) => [pad + (lon - minLon) * k * scale, h - pad - (lat - minLat) * scale];
  const children = [];
  const byEngineer = new Map();
  for (const v of b.visits) {
    if (!byEngineer.has(v.engineer_id)) byEngineer.set(v.engineer_id, []);
    byEngineer.get(v.engineer_id).push(v);
  }
  b.engineers.forEach((engineer, i) => {
    const stops = byEngineer.get(engineer.id) || [];
    const path = [engineer.home, ...stops.map((v) => v.job.point)].map(project);
    const hue = (i * 47) % 360;
    if (path.length > 1) children.push(el("svg:polyline", { class: "route", points: path.map((p) => p.join(",")).join(" "), stroke: `hsl(${hue} 70% 35%)` }));
    const [x, y] = project(engineer.last || engineer.home);
    children.push(el("svg:circle", { class: "engineer", cx: x, cy: y, r: 6 }, el("svg:title", {}, engineer.name)));
  });
  for (const v of b.visits) {
    const [x, y] = project(v.job.point);
    children.push(el("svg:circle", { class: "site", cx: x, cy: y, r: 4 }, el("svg:title", {}, `${v.job.reference} ${v.job.site}`)));
  }
  for (const j of b.queue) {
    const [x, y] = project(j.point);
    children.push(el("svg:circle", { class: "site queued", cx: x, cy: y, r: 4 }, el("svg:title", {}, `${j.reference} ${j.site}`)));
  }
  svg.replaceChildren(...children);
}

// ------------------------------------------------------------------ live changes

const NOTICE = { "work_order.created": "new_work", "visit.on_site": "checked_in", "visit.signed_off": "signed_off" };

async function listen() {
  state.live?.abort();
  const controller = new AbortController();
  state.live = controller;
  let since = null;
  while (!controller.signal.aborted) {
    try {
      const response = await fetch(`/live${since ? `?since=${since}` : ""}`, {
        headers: { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" }, signal: controller.signal,
      });
      if (!response.ok) throw new Error(response.statusText);
      $("#live").textContent = `● ${t("live")}`;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\r\n\r\n")) >= 0 || (cut = buffer.indexOf("\n\n")) >= 0) {
          const chunk = buffer.slice(0, cut);
          buffer = buffer.slice(cut + (buffer.startsWith("\r\n\r\n", cut) ? 4 : 2));
          since = handle(chunk) ?? since;
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      $("#live").textContent = t("offline");
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

let reloadTimer = null;
function handle(chunk) {
  const fields = {};
  for (const line of chunk.split(/\r?\n/)) {
    const at = line.indexOf(":");
    if (at <= 0) continue;
    fields[line.slice(0, at)] = line.slice(at + 1).trimStart();
  }
  if (fields.event === "ready") return fields.data;
  if (fields.event !== "change") return null;
  const change = JSON.parse(fields.data);
  const notice = NOTICE[change.type];
  if (notice) toast(`${t(notice)}: WO-${String(change.type.startsWith("visit") ? change.data.work_order_id : change.subject_id).padStart(7, "0")}`);
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadBoard, 250);
  return fields.id || null;
}

// ------------------------------------------------------------------ start

async function start() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  const me = await api("/auth/me");
  $("#who").textContent = me.name;
  const asked = new URLSearchParams(location.search).get("day");
  if (!$("#day").value) $("#day").value = asked || new Date().toISOString().slice(0, 10);
  await loadBoard();
  listen();
}

function showView(view) {
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-pressed", String(tab.dataset.view === view));
  $("#board-view").hidden = view !== "board";
  $("#map-view").hidden = view !== "map";
  if (view === "map") renderMap();
}

document.addEventListener("DOMContentLoaded", () => {
  translate();
  $("#login-form").addEventListener("submit", signIn);
  $("#logout").addEventListener("click", signOut);
  $("#day").addEventListener("change", loadBoard);
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("fieldops.lang", state.lang);
    translate();
    if (state.board) { renderQueue(); renderBoard(); }
  });
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showView(tab.dataset.view));
  if (state.token) start().catch(signOut); else $("#login").hidden = false;
});
