// Compare: every metric of the chosen jobs overlaid, and their settings, hyperparameters and
// final metrics side by side, rows that differ highlighted.
import { api, el, errorBox, hashParams, number } from "./common.js";
import { COLORS, chartControls, chartFor, draw, purgeOnClose, traces } from "./charts.js";

function section(title, rows, jobs, onlyDiffs) {
  const shown = rows.filter((r) => !onlyDiffs || r.differs);
  return [
    el("tr", {}, el("th", { colspan: String(jobs.length + 1) }, title)),
    ...shown.map((r) => el("tr", { class: r.differs ? "differs" : "", "data-row": r.name },
      el("td", { class: "mono" }, r.name),
      r.values.map((v) => el("td", { class: "mono" }, v === null ? "—" : number(v))))),
  ];
}

function tableCard(found) {
  const onlyDiffs = el("input", { type: "checkbox", id: "only-differences" });
  const body = el("tbody");
  const render = () => body.replaceChildren(
    ...section("Settings", found.table.settings, found.jobs, onlyDiffs.checked),
    ...section("Hyperparameters", found.table.hyperparameters, found.jobs, onlyDiffs.checked),
    ...section("Final metrics", found.table.finalMetrics, found.jobs, onlyDiffs.checked));
  onlyDiffs.addEventListener("change", render);
  render();
  const heads = found.jobs.map((job, i) => el("th", {},
    el("span", { style: `color:${COLORS[i % COLORS.length]}` }, "■ "),
    el("a", { href: `#/jobs/training/${encodeURIComponent(job)}` }, job)));
  return el("section", { class: "card" }, el("h2", {}, "Side by side"),
    el("label", {}, onlyDiffs, " only rows that differ"),
    el("table", { id: "compare-table" }, el("thead", {}, el("tr", {}, el("th", {}, ""), heads)), body));
}

function chartsCard(found, scope) {
  const options = { x: "step", smoothing: 0, log: false };
  const charts = el("div", { class: "charts", id: "compare-charts" });
  const names = [...new Set(found.series.flatMap((s) => Object.keys(s)))].sort();
  const render = () => {
    for (const name of names) {
      const node = chartFor(charts, name);
      const data = found.jobs.flatMap((job, i) => found.series[i][name]
        ? traces(found.series[i][name], options, job, COLORS[i % COLORS.length]) : []);
      draw(node, name, data, options);
    }
  };
  purgeOnClose(scope, charts);
  setTimeout(render);
  return el("section", { class: "card" }, el("h2", {}, "Metrics"), chartControls(options, render),
    names.length ? charts : el("p", { class: "muted" }, "None of these jobs reported metrics."));
}

export async function compareView(root, scope) {
  const chosen = hashParams().jobs || "";
  const input = el("input", { value: chosen, placeholder: "job-a,job-b", id: "compare-jobs", size: "60" });
  const form = el("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault(); location.hash = `#/compare?jobs=${encodeURIComponent(input.value.trim())}`;
  } }, el("label", {}, "Training jobs "), input, el("button", { class: "primary" }, "Compare"));
  root.replaceChildren(el("h1", {}, "Compare"), form);
  if (!chosen) {
    root.append(el("p", { class: "muted" }, "Pick jobs in the list (checkboxes), or name them here."));
    return;
  }
  try {
    const found = await api("compare", { names: chosen });
    root.append(chartsCard(found, scope), tableCard(found));
  } catch (error) {
    root.append(errorBox(error));
  }
}
