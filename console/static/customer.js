// The 360° customer view over GET /desk/customers/{id}/overview: sites, assets with warranty and contract,
// open and past work (first-time fix), the assets' open alarms, satisfaction over time, spend, risk flags —
// all in that one answer; beside it, from the care API, the churn score with its reasons and the consumables
// running out.
import { customerCare } from "./care.js";
import { barChart, lineChart } from "./charts.js";
import { t } from "./i18n.js";
import { api, chip, dateTime, el, fill, pct, section, table } from "./util.js";

export async function renderCustomers(root, q = "") {
  const page = await api(`/customers?limit=100${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  const search = el("input", { type: "search", value: q, "aria-label": t("search"), placeholder: t("search") });
  const f = el("form", { class: "filters" }, search, el("button", { type: "submit" }, t("search")));
  f.addEventListener("submit", (e) => { e.preventDefault(); renderCustomers(root, search.value.trim()); });
  fill(root, el("header", { class: "page-head" }, el("h2", {}, t("customers"))), f,
    table(["", t("customer")], page.items.map((c) => [c.code || "", el("a", { href: `#customer/${c.id}` }, c.name)])));
}

export async function renderCustomer(root, id) {
  fill(root, el("p", { class: "busy" }, t("loading")));
  // Its churn risk and consumables running out come from the care API beside the overview.
  const [o, care] = await Promise.all([api(`/desk/customers/${id}/overview`), customerCare(id)]);
  const alarms = o.assets.flatMap((a) => a.open_alarms.map((alarm) => ({ ...alarm, asset: a })));
  const siteName = new Map(o.sites.map((s) => [s.id, s.name]));
  const csat = o.surveys.filter((s) => s.kind === "csat");
  const orders = (list) => table([t("work_order"), "", t("status"), t("priority"), t("created")],
    list.map((w) => [el("a", { href: `#wo/${w.id}` }, w.reference), w.title, t(w.status), chip("prio", w.priority), dateTime(w.created_at)]));
  fill(root, 
    el("header", { class: "page-head" }, el("h2", {}, `${o.customer.name}`), el("div", { class: "chips" },
      o.customer.code ? el("span", { class: "chip" }, o.customer.code) : null, o.vip ? el("span", { class: "chip vip" }, t("vip")) : null)),
    o.risk_flags.length ? el("ul", { class: "flags", "aria-label": t("risk") }, o.risk_flags.map((f) => el("li", {}, `⚠ ${f.text}${f.count ? ` (${f.count})` : ""}`))) : null,
    care.churn,
    el("div", { class: "tiles" },
      el("div", { class: "tile" }, el("div", { class: "tile-label" }, t("open_orders")), el("div", { class: "tile-value" }, String(o.open_work_orders.length))),
      el("div", { class: "tile" }, el("div", { class: "tile-label" }, t("ftf")), el("div", { class: "tile-value" }, pct(o.first_time_fix_rate))),
      el("div", { class: "tile" }, el("div", { class: "tile-label" }, t("alarms")), el("div", { class: "tile-value" }, String(alarms.length))),
      el("div", { class: "tile" }, el("div", { class: "tile-label" }, t("csat")), el("div", { class: "tile-value" }, csat.length && csat[csat.length - 1].average ? `★ ${csat[csat.length - 1].average.toFixed(1)}` : "—")),
      el("div", { class: "tile" }, el("div", { class: "tile-label" }, t("waiting_triage")), el("div", { class: "tile-value" }, String(o.waiting_in_triage)))),
    el("div", { class: "columns" },
      el("div", {},
        section("open_orders", o.open_work_orders.length ? orders(o.open_work_orders) : el("p", { class: "muted" }, t("nothing"))),
        section("past_orders", o.past_work_orders.length ? orders(o.past_work_orders) : el("p", { class: "muted" }, t("nothing"))),
        section("alarms", alarms.length ? table([t("severity"), t("type"), t("asset"), t("created")],
          alarms.map((a) => [chip("sev", a.severity, t(`sev_${a.severity}`)),
            a.link ? el("a", { href: `#alarm/${a.link.split("/").pop()}` }, a.code || a.kind) : (a.code || a.kind),
            `${a.asset.serial} · ${a.asset.model}`, a.raised_at ? dateTime(a.raised_at) : "—"]))
          : el("p", { class: "muted" }, t("nothing")))),
      el("div", {},
        section("sites", el("ul", {}, o.sites.map((s) => el("li", {}, `${s.name} · ${s.address || ""}`)))),
        section("assets", table([t("asset"), t("site"), t("warranty"), t("contract")], o.assets.map((a) => [
          `${a.serial} · ${a.model}`, siteName.get(a.site_id) || "", a.under_warranty ? `✓ ${t("until")} ${a.warranty_ends_on}` : a.warranty_ends_on ? `✗ ${a.warranty_ends_on}` : "—",
          a.contract ? `${a.contract.tier} · ${a.contract.number} · ${t("until")} ${a.contract.ends_on}` : "—"]))),
        care.runOuts,
        section("surveys", csat.length ? lineChart(csat.map((s) => ({ x: new Date(`${s.month}-01T00:00:00Z`), y: s.average ?? null, label: s.month })), {
          width: 420, height: 160, yMin: 1, format: (v) => v.toFixed(1), xLabel: (x) => x.toISOString().slice(0, 7), color: "var(--rose)", label: t("csat"),
        }) : el("p", { class: "muted" }, t("nothing"))),
        section("spend", o.spend.length ? barChart(o.spend.map((m) => ({ label: `${m.month} ${m.currency}`, value: Number(m.customer), note: `${m.jobs}` })), {
          width: 420, labelWidth: 100, format: (v) => v.toFixed(0), color: "var(--teal)", label: t("spend"),
        }) : el("p", { class: "muted" }, t("nothing"))))));
}
