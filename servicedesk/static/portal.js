// The customer portal. Plain modern JavaScript, no framework and no third-party code: every piece of
// data comes from /portal/* with the signed-in customer's token; nothing is written into the page as
// HTML (text nodes only), so what a customer or an agent typed can never run as script.

const TEXT = {
  zh: {
    portal: "客户服务", welcome: "欢迎使用客户服务门户", username: "用户名", password: "密码", sign_in: "登录",
    sign_out: "退出", bad_login: "用户名或密码错误", customers_only: "此门户供客户使用，员工请使用调度台。",
    my_orders: "我的工单", open_only: "仅看未完成", no_orders: "暂无工单", back: "返回",
    download_report: "下载服务报告 (PDF)", timeline: "进度", photos: "照片与附件", add_photo: "添加照片",
    comments: "留言", comment: "留言", send: "发送", new_request: "报修", asset: "设备", site: "地点",
    title: "标题（可选）", description: "问题描述", maybe_helps: "这些文章也许能帮到您",
    preferred_time: "希望上门时间（可选）", from: "从", to: "到", submit: "提交", help: "知识库",
    search: "搜索", nothing_found: "没有找到相关文章", did_it_help: "这篇文章有帮助吗？", yes: "有帮助",
    no: "没有", surveys: "服务评价", no_surveys: "暂无待评价的服务", tab_orders: "工单", tab_request: "报修",
    tab_help: "帮助", tab_surveys: "评价", no_asset: "（不指定设备）", eta: "预计到达", engineer: "工程师",
    submitted: "已提交，工单号", linked: "已关联到现有工单", triage: "已收到，客服将尽快处理",
    thanks: "感谢您的反馈", thanks_article: "感谢反馈", uploaded: "已上传", window_order: "结束时间须晚于开始时间",
    comment_placeholder: "补充信息或询问进度…", your_comment: "您的评价（可选）", send_answer: "提交评价",
    warranty: "保修期内", contract: "服务合同", not_covered: "不在保修或合同范围内", you: "我",
    agent: "客服", system: "系统", created: "创建于", failed: "操作失败",
    kind_csat: "满意度", kind_nps: "推荐意愿", kind_ces: "省心程度", low_csat: "很不满意", high_csat: "非常满意",
    low_nps: "不可能", high_nps: "非常可能", low_ces: "很费劲", high_ces: "非常容易",
    status_new: "已受理", status_scheduled: "已排期", status_dispatched: "已派工", status_in_progress: "处理中",
    status_on_hold: "暂停", status_needs_revisit: "需再次上门", status_completed: "已完成", status_closed: "已关闭",
    status_cancelled: "已取消", link_unknown: "此评价链接无效",
    care_title: "需要您留意", care_runs_out: "{name}预计{date}左右用完", care_ran_out: "{name}预计已于{date}左右用完",
    request_replacement: "申请更换", requested: "已申请", replace_title: "更换{name}",
    replace_description: "系统预计 {serial} 的{name}将于{date}左右用完，请安排更换。",
    replace_description_past: "系统预计 {serial} 的{name}已于{date}左右用完，请安排更换。",
  },
  en: {
    portal: "Portal", welcome: "Welcome to the customer portal", username: "Username",
    password: "Password", sign_in: "Sign in", sign_out: "Sign out", bad_login: "Wrong username or password",
    customers_only: "This portal is for customers; staff use the dispatch console.", my_orders: "My work orders",
    open_only: "Open only", no_orders: "No work orders yet", back: "Back", download_report: "Download service report (PDF)",
    timeline: "Progress", photos: "Photos and files", add_photo: "Add a photo", comments: "Messages",
    comment: "Message", send: "Send", new_request: "New request", asset: "Equipment", site: "Site",
    title: "Title (optional)", description: "What is the problem?", maybe_helps: "These articles may help",
    preferred_time: "Preferred visit time (optional)", from: "From", to: "To", submit: "Submit", help: "Help articles",
    search: "Search", nothing_found: "No matching articles", did_it_help: "Did this help?", yes: "Yes", no: "No",
    surveys: "Surveys", no_surveys: "No surveys waiting", tab_orders: "Orders", tab_request: "Request",
    tab_help: "Help", tab_surveys: "Surveys", no_asset: "(no particular equipment)", eta: "Expected arrival",
    engineer: "Engineer", submitted: "Submitted, reference", linked: "Added to an open work order",
    triage: "Received; our service desk will get back to you", thanks: "Thank you for your feedback",
    thanks_article: "Thanks for the feedback", uploaded: "Uploaded", window_order: "The end must be after the start",
    comment_placeholder: "More details, or ask about progress…", your_comment: "Your comment (optional)",
    send_answer: "Send answer", warranty: "Under warranty", contract: "Service contract",
    not_covered: "Not under warranty or contract", you: "Me", agent: "Service desk", system: "System",
    created: "Created", failed: "That did not work",
    kind_csat: "Satisfaction", kind_nps: "Recommendation", kind_ces: "Effort", low_csat: "Very unhappy",
    high_csat: "Very happy", low_nps: "Not at all likely", high_nps: "Extremely likely", low_ces: "Very hard",
    high_ces: "Very easy",
    status_new: "Received", status_scheduled: "Scheduled", status_dispatched: "Engineer assigned",
    status_in_progress: "In progress", status_on_hold: "On hold", status_needs_revisit: "Needs another visit",
    status_completed: "Completed", status_closed: "Closed", status_cancelled: "Cancelled",
    link_unknown: "This survey link is not valid",
    care_title: "Needs your attention", care_runs_out: "The {name} runs out around {date}",
    care_ran_out: "The {name} has probably run out (around {date})",
    request_replacement: "Request a replacement", requested: "Requested", replace_title: "Replace the {name}",
    replace_description: "The {name} of {serial} is expected to run out around {date}. Please arrange a replacement.",
    replace_description_past: "The {name} of {serial} has probably run out (around {date}). Please arrange a replacement.",
  },
};
// The survey question in the reader's language (the API's question carries both).
const QUESTION = {
  zh: { csat: "您对本次服务满意吗？", nps: "您向同事推荐我们的可能性有多大？", ces: "解决您的问题有多容易？" },
  en: {
    csat: "How satisfied are you with this service?", nps: "How likely are you to recommend us to a colleague?",
    ces: "How easy was it to get your issue resolved?",
  },
};

const LANG_KEY = "fieldops.portal.lang";
const TOKEN_KEY = "fieldops.portal.token";

const state = {
  lang: localStorage.getItem(LANG_KEY) || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en"),
  token: sessionStorage.getItem(TOKEN_KEY),
  view: "orders",
  order: null,          // the work order on screen
  article: null,        // the article on screen, and where "back" goes
  articleBack: "help",
  assets: [],
  sites: [],
  prefill: null,        // a request prefilled from a care notice
};

const $ = (sel) => document.querySelector(sel);
const t = (key) => TEXT[state.lang][key] ?? TEXT.en[key] ?? key;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function when(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(state.lang === "zh" ? "zh-CN" : "en-GB", {
    dateStyle: "medium", timeStyle: "short",
  }).format(new Date(iso));
}

function statusText(status) { return t(`status_${status}`); }

const locale = () => (state.lang === "zh" ? "zh-CN" : "en-GB");

/** A template's {placeholders} filled with text or nodes, as a list of nodes (never parsed as HTML). */
function phrase(key, values) {
  return t(key).split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const value = /^\{\w+\}$/.test(part) ? values[part.slice(1, -1)] : part;
    return value instanceof Node ? value : document.createTextNode(String(value ?? ""));
  });
}
const phraseText = (key, values) => phrase(key, values).map((n) => n.textContent).join("");

/** The server's "now" as seen from an answer carrying an instant and the days left until it (the server's
 *  clock decides what is due, not this phone's). */
function serverNow(iso, daysLeft) {
  return daysLeft === null || daysLeft === undefined ? new Date() : new Date(Date.parse(iso) - daysLeft * 86_400_000);
}

/** A day such as "12月4日" or "4 Dec" (with the year when it is not this year). */
function day(iso, now = new Date()) {
  const at = new Date(iso);
  const options = { month: "short", day: "numeric" };
  if (at.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return new Intl.DateTimeFormat(locale(), options).format(at);
}

/** Calendar days from today to that instant, here ("tomorrow", "3 天前"). */
function daysAway(iso, now = new Date()) {
  const midnight = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((midnight(new Date(iso)) - midnight(now)) / 86_400_000);
  return { days, text: new Intl.RelativeTimeFormat(locale(), { numeric: "auto" }).format(days, "day") };
}

function toast(message, bad = false) {
  const node = el("div", { class: bad ? "toast bad" : "toast" }, message);
  $("#toasts").append(node);
  setTimeout(() => node.remove(), bad ? 8000 : 4000);
}

// ------------------------------------------------------------------ talking to the server

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const init = { method: options.method || "GET", headers };
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  } else if (options.form) {
    init.body = options.form;
  }
  const response = await fetch(path, init);
  if (response.status === 401 && state.token) {
    signOut();
    throw new Error(t("bad_login"));
  }
  if (options.raw) {
    if (!response.ok) throw new Error(response.statusText);
    return response;
  }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(body?.detail || response.statusText);
    error.problem = body;
    throw error;
  }
  return body;
}

async function download(path, filename) {
  const response = await api(path, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// ------------------------------------------------------------------ language

function translate() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("#lang").textContent = state.lang === "zh" ? "EN" : "中文";
  $("#comment-body").placeholder = t("comment_placeholder");
  $("#kb-q").placeholder = t("search");
}

async function switchLanguage() {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem(LANG_KEY, state.lang);
  translate();
  const link = location.hash.match(LINK);
  if (link && !$("#linked").hidden) await linkedSurvey(link[1]);
  else if (!$("#app").hidden) await show(state.view, { keep: true });
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
    if (me.role !== "customer") {
      state.token = null;
      $("#login-error").textContent = t("customers_only");
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, state.token);
    await start(me);
  } catch (error) {
    state.token = null;
    if (!$("#login-error").textContent) $("#login-error").textContent = error.problem ? t("bad_login") : error.message;
  }
}

function signOut() {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("#app").hidden = true;
  $("#tabs").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  $("#login").hidden = false;
}

async function start(me) {
  me = me || (await api("/auth/me"));
  $("#who").textContent = me.name;
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#tabs").hidden = false;
  $("#logout").hidden = false;
  [state.assets, state.sites] = await Promise.all([api("/portal/assets"), api("/portal/sites")]);
  await show("orders");
}

// ------------------------------------------------------------------ views

const VIEWS = ["orders", "order", "request", "help", "article", "surveys"];
const TAB_OF = { orders: "orders", order: "orders", request: "request", help: "help", article: "help", surveys: "surveys" };

async function show(view, { keep = false } = {}) {
  state.view = view;
  for (const name of VIEWS) $(`#view-${name}`).hidden = name !== view;
  for (const tab of document.querySelectorAll("#tabs button")) {
    tab.setAttribute("aria-pressed", String(tab.dataset.go === TAB_OF[view]));
  }
  document.body.dataset.view = view;
  try {
    if (view === "orders") await Promise.all([loadOrders(), loadCare()]);
    if (view === "order" && state.order) await loadOrder(state.order);
    if (view === "request") fillRequestForm(keep);
    if (view === "help") await searchArticles($("#kb-q").value);
    if (view === "article" && state.article) await loadArticle(state.article.id, false);
    if (view === "surveys") await loadSurveys();
    else refreshSurveyCount();
  } catch (error) {
    toast(`${t("failed")}: ${error.message}`, true);
  }
  if (!keep) window.scrollTo(0, 0);
}

// ---- my work orders

async function loadOrders() {
  const orders = await api(`/portal/work-orders?open_only=${$("#open-only").checked}`);
  const list = $("#orders");
  list.replaceChildren(
    ...orders.map((wo) =>
      el("li", {},
        el("button", { type: "button", class: "order", "data-wo": wo.id, onclick: () => openOrder(wo.id) },
          el("span", { class: "ref" }, wo.reference),
          el("span", { class: `status s-${wo.status}` }, statusText(wo.status)),
          el("strong", { class: "name" }, wo.title),
          el("span", { class: "muted small" }, `${t("created")} ${when(wo.created_at)}`),
        ),
      ),
    ),
  );
  $("#orders-empty").hidden = orders.length > 0;
}

// ---- proactive care: consumables about to run out, each with a one-tap replacement request

const DONE = new Set(["completed", "closed", "cancelled"]);

async function loadCare() {
  let notices, open;
  try {
    [notices, open] = await Promise.all([api("/portal/care-notices"), api("/portal/work-orders?open_only=true")]);
  } catch {
    $("#care").hidden = true; // a nicety beside the orders: never in their way
    return;
  }
  $("#care").hidden = notices.length === 0;
  $("#care-count").textContent = notices.length > 1 ? `(${notices.length})` : "";
  $("#care-notices").replaceChildren(...notices.map((n) => el("li", {}, careCard(n, open))));
}

function careCard(notice, open) {
  const asset = state.assets.find((a) => a.id === notice.asset_id);
  const now = serverNow(notice.run_out_at, notice.days_left);
  const away = daysAway(notice.run_out_at, now);
  const past = away.days < 0;
  // A request already open for this: one on the same equipment naming the consumable.
  const asked = open.find((wo) => wo.asset_id === notice.asset_id && !DONE.has(wo.status) && wo.title.includes(notice.name));
  return el("article", { class: `notice${past ? " past" : ""}`, "data-notice": notice.id, "data-asset": notice.asset_id },
    el("p", { class: "asset muted small" }, [asset?.name || asset?.model, notice.serial].filter(Boolean).join(" · ")),
    el("p", { class: "what" }, ...phrase(past ? "care_ran_out" : "care_runs_out", {
      name: el("strong", {}, notice.name), date: el("time", { datetime: notice.run_out_at }, day(notice.run_out_at, now)),
    })),
    el("div", { class: "act" },
      el("span", { class: "chip-when" }, away.text),
      asked
        ? el("button", { type: "button", class: "link asked", "data-wo": asked.id, onclick: () => openOrder(asked.id) },
          `${t("requested")} ${asked.reference} · ${statusText(asked.status)}`)
        : el("button", { type: "button", class: "primary", "data-request": notice.id, onclick: () => requestReplacement(notice, past, now) },
          t("request_replacement"))),
  );
}

async function requestReplacement(notice, past, now) {
  const values = { name: notice.name, serial: notice.serial, date: day(notice.run_out_at, now) };
  state.prefill = {
    asset_id: String(notice.asset_id),
    title: `${phraseText("replace_title", values)} · ${notice.serial}`.slice(0, 200),
    description: phraseText(past ? "replace_description_past" : "replace_description", values),
  };
  await show("request");
  $("#description").focus({ preventScroll: true });
}

async function openOrder(id) {
  state.order = id;
  await show("order");
}

async function loadOrder(id) {
  const [wo, comments] = await Promise.all([
    api(`/portal/work-orders/${id}`), api(`/portal/work-orders/${id}/comments`),
  ]);
  $("#view-order").dataset.wo = wo.id;
  $("#order-title").textContent = wo.title;
  $("#order-ref").textContent = wo.reference;
  const status = $("#order-status");
  status.textContent = statusText(wo.status);
  status.className = `status s-${wo.status}`;
  $("#order-desc").textContent = wo.description || "";
  const eta = $("#order-eta");
  eta.hidden = !wo.eta && !wo.engineer;
  eta.replaceChildren(
    el("span", { class: "muted small" }, t("eta")),
    el("strong", { id: "eta-time" }, wo.eta ? when(wo.eta) : "—"),
    wo.engineer ? el("span", {}, `${t("engineer")}: ${wo.engineer}`) : null,
  );
  const report = $("#report");
  report.hidden = !wo.service_report_available;
  report.dataset.path = wo.service_report_path || "";
  report.dataset.filename = `${wo.reference}.pdf`;
  $("#timeline").replaceChildren(
    ...wo.timeline.map((step) =>
      el("li", { class: `s-${step.status}` }, el("strong", {}, statusText(step.status)), el("time", { datetime: step.at }, when(step.at))),
    ),
  );
  $("#files").replaceChildren(
    ...wo.attachments.map((file) =>
      el("li", {},
        el("button", { type: "button", class: "link", onclick: () => download(file.path, file.filename).catch((e) => toast(e.message, true)) },
          file.filename),
        el("span", { class: "muted small" }, ` ${Math.ceil(file.size / 1024)} KB`),
      ),
    ),
  );
  $("#comments").replaceChildren(
    ...comments.map((c) =>
      el("li", { class: c.author_kind === "customer" ? "mine" : "theirs" },
        el("span", { class: "muted small" }, `${c.author_kind === "customer" ? c.author : t(c.author_kind)} · ${when(c.created_at)}`),
        el("p", {}, c.body),
      ),
    ),
  );
}

async function sendComment(event) {
  event.preventDefault();
  const body = $("#comment-body").value.trim();
  if (!body) return;
  try {
    await api(`/portal/work-orders/${state.order}/comments`, { method: "POST", json: { body } });
    $("#comment-body").value = "";
    await loadOrder(state.order);
  } catch (error) {
    toast(`${t("failed")}: ${error.message}`, true);
  }
}

async function upload(woId, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  return api(`/portal/work-orders/${woId}/attachments`, { method: "POST", form });
}

async function addFile(event) {
  const file = event.target.files[0];
  if (!file) return;
  try {
    await upload(state.order, file);
    toast(t("uploaded"));
    await loadOrder(state.order);
  } catch (error) {
    toast(`${t("failed")}: ${error.message}`, true);
  }
  event.target.value = "";
}

// ---- a new request

function coverageText(asset) {
  if (!asset) return "";
  const cov = asset.coverage || {};
  if (cov.under_warranty) return `${t("warranty")} → ${cov.warranty_ends_on}`;
  if (cov.contract) return `${t("contract")} ${cov.contract.number} · ${cov.contract.tier} → ${cov.contract.ends_on}`;
  return t("not_covered");
}

function fillRequestForm(keep) {
  const assetSelect = $("#asset");
  const chosen = keep ? assetSelect.value : "";
  assetSelect.replaceChildren(
    el("option", { value: "" }, t("no_asset")),
    ...state.assets.map((a) => el("option", { value: a.id }, `${a.name || a.model} · ${a.serial}`)),
  );
  assetSelect.value = chosen;
  const siteSelect = $("#site");
  const site = keep ? siteSelect.value : "";
  siteSelect.replaceChildren(...state.sites.map((s) => el("option", { value: s.id }, s.name)));
  if (site) siteSelect.value = site;
  if (state.prefill) {
    const form = $("#request-form");
    assetSelect.value = state.prefill.asset_id;
    form.elements.title.value = state.prefill.title;
    form.elements.description.value = state.prefill.description;
    state.prefill = null;
  }
  assetChanged();
}

function assetChanged() {
  const asset = state.assets.find((a) => String(a.id) === $("#asset").value);
  $("#coverage").textContent = coverageText(asset);
  // The asset says where it is; a site is asked for only when no equipment is picked.
  $("#site-label").hidden = Boolean(asset) || state.sites.length < 2;
  suggestSoon();
}

let suggestTimer = null;
function suggestSoon() {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(() => suggest().catch(() => {}), 350);
}

async function suggest() {
  const text = $("#description").value.trim();
  const asset = $("#asset").value;
  if (text.length < 2) {
    $("#suggestions").hidden = true;
    return;
  }
  const params = new URLSearchParams({ q: text.slice(0, 200) });
  if (asset) params.set("asset_id", asset);
  const found = await api(`/portal/knowledge/suggest?${params}`);
  $("#suggest-list").replaceChildren(
    ...found.map((a) =>
      el("li", {}, el("button", { type: "button", class: "link", "data-article": a.id, onclick: () => openArticle(a.id, "request", true) }, a.title)),
    ),
  );
  $("#suggestions").hidden = found.length === 0;
}

function localToIso(value) {
  return value ? new Date(value).toISOString() : null;
}

async function submitRequest(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  $("#request-error").textContent = "";
  const start = localToIso(form.get("win_start"));
  const end = localToIso(form.get("win_end"));
  if ((start && !end) || (end && !start) || (start && end && end <= start)) {
    $("#request-error").textContent = t("window_order");
    return;
  }
  const body = { description: form.get("description").trim() };
  const title = form.get("title").trim();
  if (title) body.title = title;
  if (form.get("asset")) body.asset_id = Number(form.get("asset"));
  else if (form.get("site")) body.site_id = Number(form.get("site"));
  if (start && end) body.preferred_windows = [{ start, end }];
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const opened = await api("/portal/requests", { method: "POST", json: body });
    const files = [...$("#photos").files];
    if (opened.work_order_id) {
      for (const file of files) await upload(opened.work_order_id, file);
    }
    if (opened.outcome === "created") toast(`${t("submitted")} ${opened.reference}`);
    else if (opened.reference) toast(`${t("linked")} ${opened.reference}`);
    else toast(t("triage"));
    event.target.reset();
    $("#suggestions").hidden = true;
    await show("orders");
  } catch (error) {
    $("#request-error").textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

// ---- knowledge

async function searchArticles(q) {
  const found = await api(`/portal/knowledge?q=${encodeURIComponent(q || "")}`);
  $("#kb-results").replaceChildren(
    ...found.map((a) =>
      el("li", {},
        el("button", { type: "button", class: "link", "data-article": a.id, onclick: () => openArticle(a.id, "help", false) }, a.title),
        el("p", { class: "muted small" }, plain(a.excerpt || "")),
      ),
    ),
  );
  $("#kb-empty").hidden = found.length > 0;
}

function plain(markdown) {
  return markdown.replace(/[#*_`>]/g, "").replace(/\s+/g, " ").trim();
}

// A small Markdown subset rendered as DOM nodes: headings, lists, paragraphs, **bold**.
function inline(text) {
  const parts = text.split(/\*\*(.+?)\*\*/g);
  return parts.map((part, i) => (i % 2 ? el("strong", {}, part) : document.createTextNode(part)));
}

function renderMarkdown(markdown) {
  const out = [];
  let list = null;
  for (const raw of markdown.split(/\r?\n/)) {
    const line = raw.trim();
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    const item = line.match(/^(?:[-*]|\d+[.)])\s+(.*)$/);
    if (item) {
      if (!list) {
        list = el(/^\d/.test(line) ? "ol" : "ul");
        out.push(list);
      }
      list.append(el("li", {}, ...inline(item[1])));
      continue;
    }
    list = null;
    if (!line) continue;
    if (heading) out.push(el(`h${Math.min(6, heading[1].length + 1)}`, {}, ...inline(heading[2])));
    else out.push(el("p", {}, ...inline(line)));
  }
  return out;
}

async function openArticle(id, back, suggested) {
  state.articleBack = back;
  await loadArticle(id, suggested);
  state.view = "article";
  for (const name of VIEWS) $(`#view-${name}`).hidden = name !== "article";
  document.body.dataset.view = "article";
  window.scrollTo(0, 0);
}

async function loadArticle(id, suggested) {
  const article = await api(`/portal/knowledge/${id}${suggested ? "?suggested=true" : ""}`);
  state.article = article;
  $("#view-article").dataset.article = article.id;
  $("#article-title").textContent = article.title;
  $("#article-body").replaceChildren(...renderMarkdown(article.body));
  for (const b of document.querySelectorAll("[data-helpful]")) b.disabled = false;
}

async function articleFeedback(event) {
  const helpful = event.currentTarget.dataset.helpful === "true";
  try {
    await api(`/portal/knowledge/${state.article.id}/feedback`, { method: "POST", json: { helpful } });
    for (const b of document.querySelectorAll("[data-helpful]")) b.disabled = true;
    toast(t("thanks_article"));
  } catch (error) {
    toast(`${t("failed")}: ${error.message}`, true);
  }
}

async function articleBack() {
  if (state.articleBack === "request") {
    // Back to the request being written, as it was left.
    state.view = "request";
    for (const name of VIEWS) $(`#view-${name}`).hidden = name !== "request";
    document.body.dataset.view = "request";
  } else {
    await show("help", { keep: true });
  }
}

// ---- surveys

async function refreshSurveyCount() {
  try {
    const pending = await api("/portal/surveys");
    const badge = $("#survey-count");
    badge.textContent = String(pending.length);
    badge.hidden = pending.length === 0;
  } catch {
    /* the badge is a nicety */
  }
}

async function loadSurveys() {
  const pending = await api("/portal/surveys");
  $("#surveys").replaceChildren(...pending.map((survey) => el("li", {}, surveyCard(survey))));
  $("#surveys-empty").hidden = pending.length > 0;
  const badge = $("#survey-count");
  badge.textContent = String(pending.length);
  badge.hidden = pending.length === 0;
}

function surveyCard(survey, send = (answer) => api(`/portal/surveys/${survey.id}`, { method: "POST", json: answer }), done = loadSurveys) {
  const name = `score-${survey.id ?? "link"}`;
  const scale = [];
  for (let n = survey.min; n <= survey.max; n++) {
    scale.push(el("label", { class: "pick" }, el("input", { type: "radio", name, value: n, required: true }), el("span", {}, String(n))));
  }
  const form = el("form", { class: "survey stack", "data-survey": survey.id ?? "link" },
    el("p", { class: "muted small" }, survey.title ? `${survey.reference} · ${survey.title}` : survey.reference),
    el("strong", {}, QUESTION[state.lang][survey.kind] || survey.question),
    el("fieldset", { class: `scale n${survey.max - survey.min + 1}` },
      el("legend", { class: "sr-only" }, t(`kind_${survey.kind}`)), ...scale),
    el("div", { class: "ends muted small" }, el("span", {}, t(`low_${survey.kind}`)), el("span", {}, t(`high_${survey.kind}`))),
    el("label", {}, el("span", {}, t("your_comment")), el("textarea", { name: "comment", rows: 2, maxlength: 4000 })),
    el("button", { type: "submit", class: "primary" }, t("send_answer")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await send({ score: Number(data.get(name)), comment: String(data.get("comment") || "") });
      toast(t("thanks"));
      await done();
    } catch (error) {
      toast(`${t("failed")}: ${error.message}`, true);
    }
  });
  return form;
}

// ---- a survey from its e-mail link (#/surveys/<token>), answered without signing in

const LINK = /^#\/surveys\/([A-Za-z0-9_.-]{1,200})$/;

async function linkedSurvey(token) {
  $("#linked").hidden = false;
  const note = $("#linked-note");
  const finish = (message) => {
    $("#linked-survey").replaceChildren();
    note.textContent = message;
  };
  try {
    const survey = await api(`/surveys/${token}`);
    const send = (answer) => api(`/surveys/${token}`, { method: "POST", json: answer });
    $("#linked-survey").replaceChildren(surveyCard(survey, send, async () => finish(t("thanks"))));
  } catch (error) {
    finish(error.problem?.status === 404 ? t("link_unknown") : error.message);
  }
}

// ------------------------------------------------------------------ start

function bind() {
  $("#login-form").addEventListener("submit", signIn);
  $("#logout").addEventListener("click", signOut);
  $("#lang").addEventListener("click", () => switchLanguage());
  for (const button of document.querySelectorAll("[data-go]")) {
    button.addEventListener("click", () => show(button.dataset.go));
  }
  $("#open-only").addEventListener("change", () => loadOrders().catch((e) => toast(e.message, true)));
  $("#comment-form").addEventListener("submit", sendComment);
  $("#add-file").addEventListener("change", addFile);
  $("#report").addEventListener("click", (event) => {
    event.preventDefault();
    const link = event.currentTarget;
    download(link.dataset.path, link.dataset.filename).catch((e) => toast(`${t("failed")}: ${e.message}`, true));
  });
  $("#asset").addEventListener("change", assetChanged);
  $("#description").addEventListener("input", suggestSoon);
  $("#request-form").addEventListener("submit", submitRequest);
  $("#kb-form").addEventListener("submit", (event) => {
    event.preventDefault();
    searchArticles($("#kb-q").value).catch((e) => toast(e.message, true));
  });
  $("#article-back").addEventListener("click", articleBack);
  for (const b of document.querySelectorAll("[data-helpful]")) b.addEventListener("click", articleFeedback);
}

bind();
translate();
const link = location.hash.match(LINK);
if (link) linkedSurvey(link[1]);
else if (state.token) start().catch(signOut);
else $("#login").hidden = false;
