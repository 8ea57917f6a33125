// One work order: its facts and SLA, the timeline of its visits, the alarm evidence that raised it (with the
// telemetry chart), what the engineer left behind (checklist, notes, parts, photos, signature, settlement)
// and the audit trail.
import { alarmChart } from "./alarms.js";
import { t } from "./i18n.js";
import { api, blobUrl, chip, dateTime, el, fill, section, state, table, toast } from "./util.js";

const STEPS = [["assigned_at", "assigned"], ["accepted_at", "accepted"], ["en_route_at", "en_route"], ["on_site_at", "on_site"], ["work_done_at", "work_done"], ["signed_off_at", "signed"]];

const engineerName = (id) => state.board?.engineers.find((e) => e.id === id)?.name || `#${id}`;

function timeline(wo, visits) {
  const events = [{ at: wo.created_at, what: t("created"), who: wo.created_by || wo.source }];
  for (const v of visits) {
    for (const [field, key] of STEPS) if (v[field]) events.push({ at: v[field], what: t(key), who: engineerName(v.engineer_id), off: field === "on_site_at" && v.off_site });
    if (["cancelled", "declined"].includes(v.status)) events.push({ at: null, what: t(v.status), who: engineerName(v.engineer_id), note: v.ended_reason });
  }
  events.sort((a, b) => (a.at && b.at ? Date.parse(a.at) - Date.parse(b.at) : 0));
  return el("ol", { class: "timeline" }, events.map((e) => el("li", { class: e.off ? "off" : "" },
    el("time", { datetime: e.at || "" }, e.at ? dateTime(e.at) : "—"), el("strong", {}, e.what), ` · ${e.who}`,
    e.off ? el("span", { class: "warn" }, ` · ${t("off_site")}`) : null, e.note ? el("span", { class: "muted" }, ` · ${e.note}`) : null)));
}

function photos(record) {
  if (!record.photos.length) return el("p", { class: "muted" }, t("nothing"));
  const strip = el("div", { class: "photos" });
  for (const p of record.photos) {
    const img = el("img", { alt: `${p.category}${p.caption ? ": " + p.caption : ""}`, width: 160, height: 120, loading: "lazy" });
    blobUrl(p.thumbnail_path).then((url) => { img.src = url; }).catch(() => img.replaceWith(el("span", { class: "muted" }, p.category)));
    strip.append(el("figure", {}, img, el("figcaption", {}, `${p.category}${p.caption ? " · " + p.caption : ""}`)));
  }
  return strip;
}

function strokes(list) {
  // Drawn strokes: [[[x, y], …], …] in the signing pad's coordinates.
  const pts = list.flat();
  if (!pts.length) return null;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
  const w = Math.max(...xs) - x0 || 1, h = Math.max(...ys) - y0 || 1;
  return el("svg:svg", { class: "signature", viewBox: `${x0 - 4} ${y0 - 4} ${w + 8} ${h + 8}`, role: "img", "aria-label": t("signature") },
    list.map((s) => el("svg:polyline", { points: s.map((p) => p.join(",")).join(" ") })));
}

function signOff(v) {
  const img = v.signature_path ? el("img", { class: "signature", alt: `${t("signature")} ${v.signer_name || ""}` }) : null;
  if (img) blobUrl(v.signature_path).then((url) => { img.src = url; }).catch(() => img.remove());
  return el("div", { class: "signoff" },
    el("p", {}, `${t("resolution")}: ${v.resolution_code || "—"}${v.resolution_notes ? " · " + v.resolution_notes : ""}`),
    el("p", {}, `${t("signer")}: ${v.signer_name || v.customer_absent_reason || "—"} · ${v.signed_at ? dateTime(v.signed_at) : ""}`),
    v.rating ? el("p", {}, `${t("rating")}: ${"★".repeat(v.rating)}${"☆".repeat(5 - v.rating)}${v.rating_comment ? " · " + v.rating_comment : ""}`) : null,
    img || (v.signature_strokes ? strokes(v.signature_strokes) : null));
}

function settlement(s) {
  return el("div", {},
    table([t("kind"), "", t("quantity"), "", t("total"), t("covered")],
      s.lines.map((l) => [l.kind, l.description, l.quantity, l.unit_price, l.amount, l.covered_by || ""])),
    el("p", { class: "totals" }, `${t("total")} ${s.currency} ${(Number(s.labour_amount) + Number(s.parts_amount)).toFixed(2)} · ${t("covered")} ${s.covered_amount} · `,
      el("strong", {}, `${t("customer_pays")} ${s.currency} ${s.customer_amount}`)));
}

function checklist(c) {
  if (!c.items.length) return el("p", { class: "muted" }, t("nothing"));
  const zh = document.documentElement.lang.startsWith("zh");
  return table(["", ""], c.items.map((i) => [(zh && i.label_zh) || i.label, i.answer === null ? "—" : String(i.answer)]));
}

export async function renderWorkOrder(root, id) {
  fill(root, el("p", { class: "busy" }, t("loading")));
  const [wo, visits, audit, record, alarms] = await Promise.all([
    api(`/work-orders/${id}`), api(`/work-orders/${id}/visits`), api(`/work-orders/${id}/audit`),
    api(`/work-orders/${id}/record`), api(`/alarms?work_order_id=${id}&limit=10`).catch(() => ({ items: [] })),
  ]);
  const [customer, site] = await Promise.all([api(`/customers/${wo.customer_id}`), api(`/sites/${wo.site_id}`)]);
  const signed = record.visits.filter((v) => v.signed_at || v.resolution_code);
  const settled = record.visits.filter((v) => v.settlement);
  const report = el("button", { type: "button", onclick: async () => {
    try { window.open(await blobUrl(record.report_path), "_blank"); } catch (error) { toast(error.message, true); }
  } }, t("report"));
  fill(root, 
    el("header", { class: "page-head" },
      el("h2", {}, `${wo.reference} · ${wo.title}`),
      el("div", { class: "chips" }, chip("status", wo.status, t(wo.status)), chip("prio", wo.priority),
        wo.sla.state ? chip("sla", wo.sla.state, `SLA ${t(wo.sla.state)}`) : null, wo.source === "telemetry" ? el("span", { class: "chip iot" }, "IoT") : null),
      report),
    el("dl", { class: "facts wide" },
      el("dt", {}, t("customer")), el("dd", {}, el("a", { href: `#customer/${customer.id}` }, customer.name)),
      el("dt", {}, t("site")), el("dd", {}, `${site.name} · ${site.address || ""}`),
      el("dt", {}, t("kind")), el("dd", {}, `${wo.kind} · ${wo.source}`),
      el("dt", {}, t("due")), el("dd", {}, wo.sla.respond_by ? dateTime(wo.sla.respond_by) : "—"),
      el("dt", {}, t("resolve_due")), el("dd", {}, wo.sla.resolve_by ? dateTime(wo.sla.resolve_by) : "—")),
    wo.description ? el("p", { class: "description" }, wo.description) : null,
    el("div", { class: "columns" },
      el("div", {},
        section("timeline", timeline(wo, visits)),
        alarms.items.length ? section("evidence", ...alarms.items.map((a) => el("div", {}, el("p", {}, el("a", { href: `#alarm/${a.id}` }, `${a.alarm_type}`), ` · ${a.message}`), alarmChart(a)))) : null,
        section("checklist", checklist(record.checklist)),
        section("notes", record.notes.length ? el("ul", {}, record.notes.map((n) => el("li", {}, `${dateTime(n.written_at)} ${n.author}: ${n.text}`))) : el("p", { class: "muted" }, t("nothing")))),
      el("div", {},
        section("photos", photos(record)),
        section("parts", record.parts_used.length ? table(["SKU", t("quantity")], record.parts_used.map((p) => [p.sku, String(p.quantity)])) : el("p", { class: "muted" }, t("nothing"))),
        section("signature", signed.length ? signed.map(signOff) : el("p", { class: "muted" }, t("nothing"))),
        section("settlement", settled.length ? settled.map((v) => settlement(v.settlement)) : el("p", { class: "muted" }, t("nothing"))))),
    section("audit", table([t("created"), "", t("status"), "", t("reason")],
      audit.map((a) => [dateTime(a.at), a.actor || "", a.action, a.from_state || a.to_state ? `${a.from_state || ""} → ${a.to_state || ""}` : "", a.reason || ""]))));
}
