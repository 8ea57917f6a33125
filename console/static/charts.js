// Charts drawn as plain SVG: a line chart (time series, an optional limit and forecast) and horizontal
// bars. Each has a text alternative (aria-label) and a <title> per point for hover and screen readers.
import { el } from "./util.js";

function niceTicks(min, max, count = 4) {
  if (min === max) { min -= 1; max += 1; }
  const span = max - min;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/**
 * points: [{x: Date|number, y: number|null, label?}], options: {width, height, format(y), xLabel(x),
 * limit, forecast: [{x, y, label?}], label, color, yMin}, and for a forecast with its uncertainty:
 * band: [{x, low, high}] (a shaded range), forecastDots (a dot with its title per forecast point),
 * forecastClass (styles the forecast line and dots), series: [{points, class, title}] (another dotted line, e.g. last year), marks:
 * [{x, y, label, class}] (hollow dots, e.g. a week so far), divider: {x, label} (a vertical line, e.g.
 * "this week"), xTicks: [x…] (where to label the x axis; default: every few points).
 */
export function lineChart(points, options = {}) {
  const width = options.width || 560, height = options.height || 220;
  const pad = { l: 64, r: 16, t: 14, b: 30 };
  const svg = el("svg:svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": options.label || "" });
  const real = points.filter((p) => p.y !== null && p.y !== undefined && !Number.isNaN(p.y));
  const extra = [...(options.forecast || [])];
  const band = options.band || [];
  const series = (options.series || []).map((s) => ({ ...s, points: s.points.filter((p) => p.y !== null && p.y !== undefined) }));
  const marks = options.marks || [];
  const others = [...band, ...series.flatMap((s) => s.points), ...marks];
  const xs = [...points, ...extra, ...others, ...(options.xTicks || []).map((x) => ({ x }))].map((p) => +p.x);
  const ys = [...real, ...extra, ...series.flatMap((s) => s.points), ...marks].map((p) => p.y);
  for (const b of band) ys.push(b.low, b.high);
  if (options.limit !== undefined && options.limit !== null) ys.push(options.limit);
  if (options.yMin !== undefined) ys.push(options.yMin);
  if (!xs.length || !ys.length || (!real.length && !extra.length)) {
    svg.append(el("svg:text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "muted" }, "—"));
    return svg;
  }
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const ticks = niceTicks(Math.min(...ys), Math.max(...ys));
  const [y0, y1] = [ticks[0], ticks[ticks.length - 1]];
  const X = (x) => pad.l + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y) => height - pad.b - ((y - y0) / (y1 - y0 || 1)) * (height - pad.t - pad.b);
  const fmt = options.format || ((v) => String(v));
  const axisFmt = options.axisFormat || fmt;
  for (const v of ticks) {
    svg.append(el("svg:line", { class: "gridline", x1: pad.l, x2: width - pad.r, y1: Y(v), y2: Y(v) }));
    svg.append(el("svg:text", { class: "tick", x: pad.l - 6, y: Y(v) + 4, "text-anchor": "end" }, axisFmt(v)));
  }
  const xLabel = options.xLabel || ((x) => String(x));
  if (options.xTicks) {
    for (const x of options.xTicks) svg.append(el("svg:text", { class: "tick", x: X(+x), y: height - 10, "text-anchor": "middle" }, xLabel(x)));
  } else {
    const labelEvery = Math.max(1, Math.ceil(points.length / 8));
    points.forEach((p, i) => {
      if (i % labelEvery === 0) svg.append(el("svg:text", { class: "tick", x: X(+p.x), y: height - 10, "text-anchor": "middle" }, xLabel(p.x)));
    });
  }
  if (band.length) {
    const upper = band.map((b) => `${X(+b.x).toFixed(1)},${Y(b.high).toFixed(1)}`);
    const lower = [...band].reverse().map((b) => `${X(+b.x).toFixed(1)},${Y(b.low).toFixed(1)}`);
    svg.append(el("svg:polygon", { class: "band", points: [...upper, ...lower].join(" ") },
      el("svg:title", {}, options.bandLabel || "")));
  }
  if (options.divider) {
    const x = X(+options.divider.x);
    svg.append(el("svg:line", { class: "divider", x1: x, x2: x, y1: pad.t, y2: height - pad.b }));
    if (options.divider.label) svg.append(el("svg:text", { class: "divider-label", x: x + 4, y: pad.t + 10 }, options.divider.label));
  }
  for (const s of series) {
    const path = s.points.map((p, i) => `${i ? "L" : "M"}${X(+p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join("");
    if (path) svg.append(el("svg:path", { class: `series ${s.class || ""}`, d: path }));
    for (const p of s.points) {
      svg.append(el("svg:circle", { class: `series-dot ${s.class || ""}`, cx: X(+p.x), cy: Y(p.y), r: 3 },
        el("svg:title", {}, `${s.title ? s.title + " " : ""}${p.label || xLabel(p.x)}: ${fmt(p.y)}`)));
    }
  }
  if (options.limit !== undefined && options.limit !== null) {
    svg.append(el("svg:line", { class: "limit", x1: pad.l, x2: width - pad.r, y1: Y(options.limit), y2: Y(options.limit) }));
    svg.append(el("svg:text", { class: "limit-label", x: width - pad.r - 4, y: Y(options.limit) - 4, "text-anchor": "end" }, options.limitLabel || fmt(options.limit)));
  }
  // Gaps (null) break the line rather than pretending a value.
  let d = "", pen = false;
  for (const p of points) {
    if (p.y === null || p.y === undefined) { pen = false; continue; }
    d += `${pen ? "L" : "M"}${X(+p.x).toFixed(1)},${Y(p.y).toFixed(1)}`;
    pen = true;
  }
  if (d) svg.append(el("svg:path", { class: "line", d, stroke: options.color || "var(--blue)" }));
  if (extra.length) {
    const last = real[real.length - 1];
    const path = [last, ...extra].filter(Boolean).map((p, i) => `${i ? "L" : "M"}${X(+p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join("");
    svg.append(el("svg:path", { class: `forecast ${options.forecastClass || ""}`, d: path }));
    if (options.forecastDots) {
      for (const p of extra) {
        svg.append(el("svg:circle", { class: `forecast-dot ${options.forecastClass || ""}`, cx: X(+p.x), cy: Y(p.y), r: 3.5 },
          el("svg:title", {}, `${p.label || xLabel(p.x)}: ${fmt(p.y)}`)));
      }
    }
  }
  for (const m of marks) {
    svg.append(el("svg:circle", { class: `mark ${m.class || ""}`, cx: X(+m.x), cy: Y(m.y), r: 4.5 },
      el("svg:title", {}, m.label || `${xLabel(m.x)}: ${fmt(m.y)}`)));
  }
  if (real.length <= 60) {
    for (const p of real) {
      svg.append(el("svg:circle", { class: "dot", cx: X(+p.x), cy: Y(p.y), r: 3, fill: options.color || "var(--blue)" },
        el("svg:title", {}, `${p.label || xLabel(p.x)}: ${fmt(p.y)}`)));
    }
  }
  return svg;
}

/** items: [{label, value, note?}], horizontal bars, sorted as given. */
export function barChart(items, options = {}) {
  const width = options.width || 560, row = 22, labelW = options.labelWidth || 120;
  const height = Math.max(row * items.length + 10, 40);
  const svg = el("svg:svg", { class: "chart bars", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": options.label || "" });
  const values = items.map((i) => i.value).filter((v) => v !== null && v !== undefined);
  const max = options.max ?? Math.max(...values, 0);
  const fmt = options.format || ((v) => String(v));
  items.forEach((item, i) => {
    const y = 5 + i * row;
    svg.append(el("svg:text", { class: "tick", x: labelW - 6, y: y + 14, "text-anchor": "end" }, item.label));
    if (item.value === null || item.value === undefined) {
      svg.append(el("svg:text", { class: "tick", x: labelW + 4, y: y + 14 }, "—"));
      return;
    }
    const w = max > 0 ? (item.value / max) * (width - labelW - 70) : 0;
    svg.append(el("svg:rect", { class: "bar", x: labelW, y: y + 3, width: Math.max(1, w), height: row - 8, fill: options.color || "var(--blue)" },
      el("svg:title", {}, `${item.label}: ${fmt(item.value)}${item.note ? " · " + item.note : ""}`)));
    svg.append(el("svg:text", { class: "tick value", x: labelW + w + 6, y: y + 14 }, fmt(item.value)));
  });
  return svg;
}
