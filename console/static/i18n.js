// Interface text in Chinese and English. The locale comes from the browser and is switchable; the choice
// is remembered on this computer. Data (names, titles) is shown as entered.

const TEXT = {
  zh: {
    console: "调度台", username: "用户名", password: "密码", sign_in: "登录", sign_out: "退出",
    board: "排班板", map: "地图", alarms: "告警", kpis: "指标", customers: "客户", day: "日期",
    territory: "区域", queue: "待派工单", assign: "派工", engineer: "工程师", start: "开始", cancel: "取消",
    live: "实时", offline: "连接中断，重连中…", engineers_only_app: "工程师请使用手机应用。",
    assigned: "已派工", moved: "已调整", refused: "未能派工", new_work: "新工单", new_iot_work: "新物联网工单",
    checked_in: "已到达现场", signed_off: "已签字完成", bad_login: "用户名或密码错误", due: "响应期限",
    resolve_due: "解决期限", pinned: "已锁定", pin: "锁定", unpin: "解锁", open: "打开", move: "调整",
    unassign: "撤回派工", close: "关闭", optimise: "智能排班", optimising: "正在优化…",
    proposal: "排班方案", accept: "采用方案", discard: "放弃", accepted_plan: "已采用方案",
    discarded: "已放弃方案", moves: "改派", added: "新派", retimed: "改时间", withdrawn: "撤回",
    travel: "路程", lateness: "迟到", before: "优化前", after: "优化后", saved: "节省",
    unassigned: "未能安排", reason: "原因", seconds: "秒", time_limit: "计算时间",
    no_changes: "方案与当前计划相同。", shift: "班次", break: "休息", status: "状态", sla: "SLA",
    priority: "优先级", site: "站点", customer: "客户", asset: "设备", source: "来源", kind: "类型",
    timeline: "时间线", audit: "操作记录", photos: "照片", parts: "备件", signature: "签字",
    settlement: "结算", checklist: "检查表", notes: "备注", evidence: "告警证据", report: "服务报告",
    created: "创建", accepted: "已接单", en_route: "出发", on_site: "到达现场", work_done: "完工",
    signed: "客户签字", cancelled: "已取消", declined: "已拒绝", none: "无", back: "返回",
    acknowledge: "确认", clear: "清除", clear_reason: "清除原因", severity: "严重度", count: "次数",
    first_seen: "首次", last_seen: "最近", type: "类型", state: "状态", active: "活动",
    acknowledged: "已确认", cleared: "已清除", limit: "限值", predicted: "预计超限", work_order: "工单",
    from: "从", to: "到", bucket: "粒度", by_day: "按天", by_week: "按周", group_by: "分组",
    all: "全部", by_territory: "按区域", by_engineer: "按工程师", first_response: "首次响应",
    mttr: "平均修复时间", ftf: "一次修复率", sla_attainment: "SLA 达成率", utilisation: "工程师利用率",
    travel_share: "路程占比", csat: "客户满意度", minutes: "分钟", hours: "小时", refresh: "刷新",
    search: "搜索", sites: "站点", assets: "设备", open_orders: "未完成工单", past_orders: "历史工单",
    warranty: "保修", contract: "合同", risk: "风险提示", surveys: "满意度", spend: "费用",
    vip: "VIP", waiting_triage: "待分拣", keyboard_hint: "Enter 派工 · 拖动到工程师行",
    legend: "图例", late: "计划超出SLA", off_site: "未在现场签到", rating: "评分", signer: "签字人",
    total: "合计", customer_pays: "客户支付", covered: "保修/合同覆盖", resolution: "处理结果",
    nothing: "暂无", loading: "加载中…", day_off: "休息日", jobs: "单", quantity: "数量",
    reason_required: "请填写原因", unassign_reason: "调度撤回", engineers: "工程师", work_orders: "工单",
    until: "至", at_risk: "将超时", breached: "已超时", ok: "正常", unit_minutes: "分", km: "公里",
    show_all: "显示全部", p_of: "共", tiles: "底图", period: "期间", ratings: "评分数",
    repairs: "修复数", responses: "响应数", ftf_short: "一次修复", drop_here: "放到此处", change: "变更", unpinned: "已解锁", route: "当日路线", open_alarms: "未清除", days: "天", max_moved: "最多改派", no_limit: "不限", reason_no_qualified_engineer: "没有具备技能的工程师",
    reason_no_capacity: "工程师当天已排满", reason_window_unreachable: "无法在约定时间窗内到达",
    reason_part_unavailable: "备件不足", sev_info: "提示", sev_warning: "警告",
    sev_minor: "次要", sev_major: "重要", sev_critical: "严重",
    new: "新建", scheduled: "已排期", dispatched: "已派发", in_progress: "处理中", completed: "已完成",
    closed: "已关闭", on_hold: "挂起", needs_revisit: "需再次上门", work_order_status: "工单状态",
    care: "关怀", care_title: "主动关怀", care_updated: "关怀任务计算于 {at}", care_not_run: "关怀任务尚未运行",
    forecast: "服务量预测", forecast_note: "每周新增工单（不含已取消），未来 8 周及 80% 区间，供安排工程师参考。",
    this_week: "本周", next_week: "下周", next_8_weeks: "未来 8 周", wo_unit: "单", so_far: "本周已有 {n} 单", so_far_short: "本周至今",
    band_80: "80% 区间", expected: "预计工单", expected_hours: "预计工时", last_year: "去年同周", last_year_long: "去年同周", week: "周",
    actual: "实际", forecast_line: "预测", up_to_hours: "最多约 {h} 小时", about_hours: "约 {h} 小时",
    bt_title: "预测有多准？", bt_intro: "回测：从最近 {origins} 周的每一周出发，提前 1–{horizon} 周预测，共 {points} 次。",
    bt_model: "本预测平均每周偏差 {mae} 单（{mape}）。", bt_naive: "若直接沿用去年同周的数字，平均偏差 {mae} 单（{mape}）。",
    bt_better: "本预测的误差比“去年同周”小 {pct}，可据此安排工程师。",
    bt_worse: "本预测并不比“去年同周”更准（误差大 {pct}），排班时请同时参考去年同期。",
    bt_none: "暂无回测：{why}。", bt_short: "仅有 {have} 周历史，回测至少需要 {need} 周",
    method: "方法", method_harmonic: "谐波回归：线性趋势 + {k} 组年周期（52.18 周）傅里叶项",
    method_recent: "近 8 周平均（历史不足一年）", mase_note: "MASE {model}，去年同周 {naive}（低于 1 即优于去年同周）",
    churn: "流失风险", churn_note: "按服务信号打分（评分下降、差评、NPS、返修、SLA 违约、工单激增），每条原因注明分值。",
    level_high: "高", level_medium: "中", level_low: "低", risk_medium_up: "中高风险", risk_high: "高风险",
    mine_only: "只看我负责的客户", account_owner: "客户经理", reasons: "原因", score: "风险分",
    no_churn: "没有符合条件的客户", points: "分",
    running_out: "耗材即将用完", running_out_note: "按用量计数或更换周期预测的用完日期；提醒在用完前若干天发给客户经理（任务）和/或客户（门户）。",
    within_days: "范围", next_n_days: "{n} 天内", run_out: "预计用完", consumable: "耗材", basis: "依据", notice: "提醒",
    ran_out_ago: "已过 {n} 天", in_days: "{n} 天后", today: "今天", used_of: "已用 {used} / {capacity} {unit}",
    per_day: "每天 {rate} {unit}", every_days: "每 {n} 天更换", since_replaced: "自 {d} 更换起", since_installed: "自 {d} 安装起",
    notice_portal: "客户门户", notice_task: "客户经理任务", notice_raised: "{d} 发出", notice_later: "用完前 {n} 天提醒",
    none_running_out: "这段时间内没有耗材用完", churn_risk: "流失风险", consumables: "耗材",
  },
  en: {
    console: "Dispatch console", username: "Username", password: "Password", sign_in: "Sign in",
    sign_out: "Sign out", board: "Board", map: "Map", alarms: "Alarms", kpis: "KPIs", customers: "Customers",
    day: "Day", territory: "Territory", queue: "Unassigned", assign: "Assign", engineer: "Engineer",
    start: "Start", cancel: "Cancel", live: "live", offline: "connection lost, retrying…",
    engineers_only_app: "Engineers use the mobile app.", assigned: "Assigned", moved: "Moved",
    refused: "Not done", new_work: "New work order", new_iot_work: "New IoT work order",
    checked_in: "Checked in", signed_off: "Signed off", bad_login: "Wrong username or password",
    due: "respond by", resolve_due: "resolve by", pinned: "pinned", pin: "Pin", unpin: "Unpin",
    open: "Open", move: "Move", unassign: "Unassign", close: "Close", optimise: "Optimise",
    optimising: "Optimising…", proposal: "Proposed plan", accept: "Accept plan", discard: "Discard",
    accepted_plan: "Plan accepted", discarded: "Proposal discarded", moves: "Moved", added: "Added",
    retimed: "Retimed", withdrawn: "Withdrawn", travel: "Travel", lateness: "Lateness", before: "before",
    after: "after", saved: "saved", unassigned: "Left unassigned", reason: "Reason", seconds: "s",
    time_limit: "Time limit", no_changes: "The proposal is the current plan.", shift: "Shift",
    break: "Break", status: "Status", sla: "SLA", priority: "Priority", site: "Site", customer: "Customer",
    asset: "Asset", source: "Source", kind: "Kind", timeline: "Timeline", audit: "Audit trail",
    photos: "Photos", parts: "Parts", signature: "Signature", settlement: "Settlement",
    checklist: "Checklist", notes: "Notes", evidence: "Alarm evidence", report: "Service report",
    created: "Created", accepted: "Accepted", en_route: "En route", on_site: "On site",
    work_done: "Work done", signed: "Signed off", cancelled: "Cancelled", declined: "Declined",
    none: "none", back: "Back", acknowledge: "Acknowledge", clear: "Clear", clear_reason: "Why cleared",
    severity: "Severity", count: "Count", first_seen: "First seen", last_seen: "Last seen", type: "Type",
    state: "State", active: "Active", acknowledged: "Acknowledged", cleared: "Cleared", limit: "Limit",
    predicted: "Predicted to reach limit", work_order: "Work order", from: "From", to: "To",
    bucket: "By", by_day: "day", by_week: "week", group_by: "Group", all: "All",
    by_territory: "by territory", by_engineer: "by engineer", first_response: "First response",
    mttr: "Mean time to repair", ftf: "First-time fix", sla_attainment: "SLA attainment",
    utilisation: "Engineer utilisation", travel_share: "Travel share", csat: "CSAT", minutes: "min",
    hours: "h", refresh: "Refresh", search: "Search", sites: "Sites", assets: "Assets",
    open_orders: "Open work orders", past_orders: "Past work orders", warranty: "Warranty",
    contract: "Contract", risk: "Risk flags", surveys: "Satisfaction", spend: "Spend", vip: "VIP",
    waiting_triage: "waiting in triage", keyboard_hint: "Enter to assign · drag onto an engineer",
    legend: "Legend", late: "plan misses SLA", off_site: "checked in off site", rating: "Rating",
    signer: "Signed by", total: "Total", customer_pays: "Customer pays", covered: "Covered",
    resolution: "Resolution", nothing: "Nothing yet", loading: "Loading…", day_off: "day off", jobs: "jobs",
    quantity: "Qty", reason_required: "Give a reason", unassign_reason: "withdrawn by dispatcher",
    engineers: "Engineers", work_orders: "Work orders", until: "until", at_risk: "at risk",
    breached: "breached", ok: "ok", unit_minutes: "min", km: "km", show_all: "Show all", p_of: "of",
    tiles: "Tiles", period: "Period", ratings: "ratings", repairs: "repairs", responses: "responses",
    ftf_short: "first-time fix", drop_here: "Drop here", change: "Change", unpinned: "unpinned", route: "route of the day", open_alarms: "Open", days: "d", max_moved: "At most moved", no_limit: "no limit", reason_no_qualified_engineer: "no qualified engineer",
    reason_no_capacity: "the day is full", reason_window_unreachable: "the time window cannot be reached",
    reason_part_unavailable: "parts unavailable", sev_info: "info",
    sev_warning: "warning", sev_minor: "minor", sev_major: "major", sev_critical: "critical",
    new: "New", scheduled: "Scheduled", dispatched: "Dispatched", in_progress: "In progress",
    completed: "Completed", closed: "Closed", on_hold: "On hold", needs_revisit: "Needs revisit",
    work_order_status: "Status",
    care: "Care", care_title: "Proactive care", care_updated: "computed by the care pass at {at}",
    care_not_run: "the care pass has not run yet", forecast: "Service-volume forecast",
    forecast_note: "New work orders per week (cancelled ones left out), 8 weeks ahead with an 80 % range, to plan engineers on.",
    this_week: "This week", next_week: "Next week", next_8_weeks: "Next 8 weeks", wo_unit: "jobs",
    so_far: "{n} so far this week", so_far_short: "so far this week", band_80: "80 % range", expected: "Jobs", expected_hours: "Hours",
    last_year: "Last year", last_year_long: "Same week last year", week: "Week", actual: "Actual", forecast_line: "Forecast",
    up_to_hours: "up to about {h} h", about_hours: "about {h} h", bt_title: "How good is it?",
    bt_intro: "Backtest: forecasts made from each of the last {origins} weeks, 1–{horizon} weeks ahead ({points} forecasts).",
    bt_model: "This forecast was off by {mae} jobs a week on average ({mape}).",
    bt_naive: "Taking the same week last year would have been off by {mae} ({mape}).",
    bt_better: "The forecast's error is {pct} smaller than last year's figure: plan engineers on it.",
    bt_worse: "The forecast is no better than last year's figure (its error is {pct} larger): weigh both when planning.",
    bt_none: "No backtest yet: {why}.", bt_short: "{have} weeks of history, a backtest needs {need}",
    method: "Method", method_harmonic: "harmonic regression: linear trend + {k} Fourier pair(s) of the 52.18-week year",
    method_recent: "mean of the last 8 weeks (less than a year of history)",
    mase_note: "MASE {model} against {naive} for the same week last year (below 1: better than last year's figure)",
    churn: "Churn risk", churn_note: "Scored from service signals (falling or low ratings, NPS, repeat work, SLA breaches, ticket spikes); each reason gives its points.",
    level_high: "high", level_medium: "medium", level_low: "low", risk_medium_up: "Medium and high", risk_high: "High",
    mine_only: "Only my accounts", account_owner: "Account owner", reasons: "Reasons", score: "Risk",
    no_churn: "No customers match", points: "pts",
    running_out: "Consumables running out", running_out_note: "Run-out dates predicted from usage counters or replacement cycles; the notice goes out some days before, to the account owner (a task) and/or the customer (portal).",
    within_days: "Within", next_n_days: "{n} days", run_out: "Runs out", consumable: "Consumable", basis: "How we know",
    notice: "Notice", ran_out_ago: "{n} d ago", in_days: "in {n} d", today: "today", used_of: "{used} of {capacity} {unit} used",
    per_day: "{rate} {unit}/day", every_days: "every {n} days", since_replaced: "since replaced {d}", since_installed: "since installed {d}",
    notice_portal: "customer portal", notice_task: "owner's task", notice_raised: "raised {d}", notice_later: "notice {n} d before",
    none_running_out: "Nothing runs out in this period", churn_risk: "Churn risk", consumables: "Consumables",
  },
};

const stored = localStorage.getItem("fieldops.lang");
export const lang = { current: stored || (navigator.language.toLowerCase().startsWith("zh") ? "zh" : "en") };

export function t(key) {
  return TEXT[lang.current][key] ?? TEXT.en[key] ?? key;
}

/** A text with {placeholders} filled in: tf("so_far", { n: 3 }). */
export function tf(key, values = {}) {
  return t(key).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function setLang(code) {
  lang.current = code;
  localStorage.setItem("fieldops.lang", code);
  translate();
}

/** Static text in the page: every element with data-t gets its text, data-t-label its aria-label. */
export function translate() {
  document.documentElement.lang = lang.current === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  for (const node of document.querySelectorAll("[data-t-label]")) node.setAttribute("aria-label", t(node.dataset.tLabel));
  for (const node of document.querySelectorAll("[data-t-placeholder]")) node.setAttribute("placeholder", t(node.dataset.tPlaceholder));
  document.title = `fieldops · ${t("console")}`;
  for (const button of document.querySelectorAll("#lang, #login-lang")) button.textContent = lang.current === "zh" ? "English" : "中文";
}

export const locale = () => (lang.current === "zh" ? "zh-CN" : "en-GB");
