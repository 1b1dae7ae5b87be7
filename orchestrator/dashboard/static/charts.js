// Metric charts with Plotly.js (loaded on first use, from the plotly package's own copy):
// x by step or wall time, exponential smoothing as TensorBoard does it, linear or log y.
import { el } from "./common.js";

let loading = null;

export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = el("script", { src: "/static/vendor/plotly.min.js" });
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error("could not load /static/vendor/plotly.min.js"));
      document.head.append(script);
    });
  }
  return loading;
}

// Debiased exponential moving average: weight 0 is the raw series, 0.99 very smooth.
export function smooth(values, weight) {
  if (!weight) return values;
  let last = 0;
  return values.map((value, i) => {
    last = last * weight + (1 - weight) * value;
    return last / (1 - weight ** (i + 1));
  });
}

export function chartControls(options, onChange) {
  const axis = el("select", { id: "x-axis", onchange: () => { options.x = axis.value; onChange(); } },
    el("option", { value: "step" }, "x: step"),
    el("option", { value: "wall" }, "x: wall time"),
    el("option", { value: "relative" }, "x: seconds since start"));
  axis.value = options.x;
  const smoothing = el("input", {
    id: "smoothing", type: "range", min: "0", max: "0.99", step: "0.01", value: options.smoothing,
    oninput: () => { options.smoothing = Number(smoothing.value); label.textContent = smoothing.value; onChange(); },
  });
  const label = el("span", { class: "mono" }, String(options.smoothing));
  const log = el("input", {
    id: "log-scale", type: "checkbox",
    onchange: () => { options.log = log.checked; onChange(); },
  });
  log.checked = options.log;
  return el("div", { class: "controls" }, axis,
    el("label", {}, "smoothing ", smoothing, " ", label),
    el("label", {}, log, " log scale"));
}

// points: [[step, epoch seconds, value], ...]
function xs(points, mode) {
  if (mode === "step") return points.map((p) => p[0]);
  if (mode === "wall") return points.map((p) => new Date(p[1] * 1000));
  const start = points.length ? points[0][1] : 0;
  return points.map((p) => p[1] - start);
}

export const COLORS = ["#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#0a7ea4",
  "#cf4a00", "#6e7781", "#bf3989", "#116329"];

export function traces(series, options, label = "", color = COLORS[0]) {
  const x = xs(series, options.x);
  const y = series.map((p) => p[2]);
  const found = [];
  if (options.smoothing > 0) {
    found.push({ x, y, mode: "lines", name: plain(`${label} raw`.trim()), opacity: 0.25,
      showlegend: false, hoverinfo: "skip", line: { width: 1, color } });
  }
  found.push({ x, y: smooth(y, options.smoothing), mode: series.length > 1 ? "lines" : "lines+markers",
    name: plain(label || "value"), line: { width: 2, color } });
  return found;
}

// Plotly reads titles and trace names as a subset of HTML; metric and job names are text.
export function plain(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function purgeOnClose(scope, container) {
  scope.onClose(() => {
    if (window.Plotly) container.querySelectorAll(".chart").forEach((node) => window.Plotly.purge(node));
  });
}

// The chart of one metric in a container, made the first time it is asked for.
export function chartFor(container, metric) {
  let node = container.querySelector(`[data-metric="${CSS.escape(metric)}"]`);
  if (!node) {
    node = el("div", { class: "chart", "data-metric": metric });
    container.append(node);
  }
  return node;
}

export async function draw(node, metric, data, options) {
  const Plotly = await loadPlotly();
  if (!node.isConnected) return; // the view went while Plotly loaded
  const layout = {
    title: { text: plain(metric), font: { size: 13 } },
    margin: { l: 50, r: 12, t: 34, b: data.length > 1 ? 70 : 40 },
    xaxis: { title: { text: options.x === "step" ? "step" : options.x === "wall" ? "" : "seconds" } },
    yaxis: { type: options.log ? "log" : "linear" },
    legend: { orientation: "h", y: -0.32 },
    showlegend: data.length > 1,
  };
  await Plotly.react(node, data, layout, { displaylogo: false, responsive: true });
}
