// The map: sites, engineers' last known positions and their routes for the day as lines, in plain SVG
// (Web Mercator, so an optional tile layer lines up). No tile server is needed; one can be configured
// (FIELDOPS_CONSOLE_TILES, e.g. a company's own tile server) and switched on here.
import { t } from "./i18n.js";
import { $, el, hhmm, state } from "./util.js";

const TILE = 256;
let tilesOn = localStorage.getItem("fieldops.tiles") === "on";

const mercator = ([lat, lon]) => {
  const s = Math.sin((lat * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
};

export function renderMap(config) {
  const b = state.board;
  const svg = $("#map");
  const points = [...b.queue.map((j) => j.point), ...b.visits.map((v) => v.job.point), ...b.engineers.map((e) => e.last || e.home)];
  $("#map-tiles").hidden = !config.tiles;
  $("#map-tiles input").checked = tilesOn;
  if (!points.length) { svg.replaceChildren(); return; }
  const box = svg.getBoundingClientRect();
  const w = box.width || 900, h = box.height || 600, pad = 36;
  const world = points.map(mercator);
  const [minX, maxX] = [Math.min(...world.map((p) => p[0])), Math.max(...world.map((p) => p[0]))];
  const [minY, maxY] = [Math.min(...world.map((p) => p[1])), Math.max(...world.map((p) => p[1]))];
  const scale = Math.min((w - 2 * pad) / Math.max(maxX - minX, 1e-7), (h - 2 * pad) / Math.max(maxY - minY, 1e-7));
  const ox = pad + ((w - 2 * pad) - (maxX - minX) * scale) / 2, oy = pad + ((h - 2 * pad) - (maxY - minY) * scale) / 2;
  const project = (p) => { const [x, y] = mercator(p); return [ox + (x - minX) * scale, oy + (y - minY) * scale]; };
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  const layers = { tiles: el("svg:g", { class: "tiles" }), routes: el("svg:g"), sites: el("svg:g"), people: el("svg:g") };
  if (config.tiles && tilesOn) {
    // The zoom whose tiles are about the size they are drawn at.
    const z = Math.max(0, Math.min(19, Math.round(Math.log2(scale / TILE))));
    const n = 2 ** z, size = (scale / n);
    const [tx0, tx1] = [Math.floor((minX - ox / scale) * n), Math.floor((minX + (w - ox) / scale) * n)];
    const [ty0, ty1] = [Math.floor((minY - oy / scale) * n), Math.floor((minY + (h - oy) / scale) * n)];
    for (let tx = tx0; tx <= tx1 && tx - tx0 < 20; tx++) {
      for (let ty = ty0; ty <= ty1 && ty - ty0 < 20; ty++) {
        const href = config.tiles.replace("{z}", z).replace("{x}", ((tx % n) + n) % n).replace("{y}", ty);
        layers.tiles.append(el("svg:image", { href, x: ox + (tx / n - minX) * scale, y: oy + (ty / n - minY) * scale, width: size + 0.5, height: size + 0.5 }));
      }
    }
  }
  const byEngineer = new Map();
  for (const v of b.visits) {
    if (!byEngineer.has(v.engineer_id)) byEngineer.set(v.engineer_id, []);
    byEngineer.get(v.engineer_id).push(v);
  }
  b.engineers.forEach((engineer, i) => {
    const stops = byEngineer.get(engineer.id) || [];
    const hue = (i * 137) % 360;
    const colour = `hsl(${hue} 65% 32%)`;
    if (stops.length) {
      const path = [engineer.home, ...stops.map((v) => v.job.point), engineer.home].map(project);
      layers.routes.append(el("svg:polyline", { class: "route", "data-engineer": engineer.id, points: path.map((p) => p.map((c) => c.toFixed(1)).join(",")).join(" "), stroke: colour },
        el("svg:title", {}, `${engineer.name}: ${stops.map((v) => `${hhmm(v.start)} ${v.job.site}`).join(" → ")}`)));
    }
    const [x, y] = project(engineer.last || engineer.home);
    layers.people.append(el("svg:g", { class: "engineer", "data-engineer": engineer.id },
      el("svg:title", {}, `${engineer.name}${engineer.last_seen_at ? " · " + hhmm(engineer.last_seen_at) : ""}`),
      el("svg:circle", { cx: x, cy: y, r: 7, fill: colour }),
      el("svg:text", { x: x + 9, y: y + 4 }, engineer.name)));
  });
  for (const v of b.visits) {
    const [x, y] = project(v.job.point);
    layers.sites.append(el("svg:a", { href: `#wo/${v.job.work_order_id}` }, el("svg:circle", { class: `site status-${v.status}`, cx: x, cy: y, r: 5 }),
      el("svg:title", {}, `${v.job.reference} ${v.job.title}\n${v.job.site} · ${hhmm(v.start)}`)));
  }
  for (const j of b.queue) {
    const [x, y] = project(j.point);
    layers.sites.append(el("svg:a", { href: `#wo/${j.work_order_id}` }, el("svg:rect", { class: "site queued", x: x - 5, y: y - 5, width: 10, height: 10 }),
      el("svg:title", {}, `${j.reference} ${j.title}\n${j.site} · ${t("queue")}`)));
  }
  // A scale bar: Web Mercator stretches by 1/cos(latitude), so a kilometre here is this many pixels.
  const midLat = Math.atan(Math.sinh(Math.PI * (1 - 2 * (minY + maxY) / 2))) * 180 / Math.PI;
  const pxPerKm = scale / (40075 * Math.cos((midLat * Math.PI) / 180));
  const km = [1, 2, 5, 10, 20, 50, 100, 200].find((k) => k * pxPerKm >= 80) || 500;
  const bar = el("svg:g", { class: "scale", transform: `translate(${w - 24 - km * pxPerKm},${h - 20})` },
    el("svg:line", { x1: 0, x2: km * pxPerKm, y1: 0, y2: 0 }), el("svg:line", { x1: 0, x2: 0, y1: -5, y2: 0 }),
    el("svg:line", { x1: km * pxPerKm, x2: km * pxPerKm, y1: -5, y2: 0 }),
    el("svg:text", { x: km * pxPerKm / 2, y: -6, "text-anchor": "middle" }, `${km} ${t("km")}`));
  const key = el("svg:g", { class: "map-legend", transform: "translate(14,16)" },
    el("svg:rect", { x: -6, y: -12, width: 150, height: 78, rx: 6 }),
    el("svg:circle", { cx: 4, cy: 0, r: 6, fill: "#374151" }), el("svg:text", { x: 16, y: 4 }, t("engineers")),
    el("svg:circle", { class: "site", cx: 4, cy: 18, r: 5 }), el("svg:text", { x: 16, y: 22 }, t("work_orders")),
    el("svg:rect", { class: "site queued", x: -1, y: 31, width: 10, height: 10 }), el("svg:text", { x: 16, y: 40 }, t("queue")),
    el("svg:line", { x1: -2, x2: 10, y1: 54, y2: 54, stroke: "#374151", "stroke-width": 2.5 }), el("svg:text", { x: 16, y: 58 }, t("route")));
  svg.replaceChildren(layers.tiles, layers.routes, layers.sites, layers.people, bar, key);
}

export function wireMap(config) {
  $("#map-tiles input").addEventListener("change", (e) => {
    tilesOn = e.target.checked;
    localStorage.setItem("fieldops.tiles", tilesOn ? "on" : "off");
    renderMap(config);
  });
}
