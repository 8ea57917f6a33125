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
  svg.replaceChildren(layers.tiles, layers.routes, layers.sites, layers.people);
}

export function wireMap(config) {
  $("#map-tiles input").addEventListener("change", (e) => {
    tilesOn = e.target.checked;
    localStorage.setItem("fieldops.tiles", tilesOn ? "on" : "off");
    renderMap(config);
  });
}
