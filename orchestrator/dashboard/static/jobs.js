// The jobs list: filters, a search box for Search expressions, sortable columns, pages, and
// a selection to compare; it refreshes itself every few seconds.
import { api, badge, duration, el, errorBox, hashParams, number, time } from "./common.js";

const STATUSES = ["", "InProgress", "Completed", "Failed", "Stopping", "Stopped"];
const SORTABLE = {
  training: { Name: "TrainingJobName", Status: "TrainingJobStatus", Created: "CreationTime",
    Duration: "TrainingTimeInSeconds" },
  processing: { Name: "Name", Status: "Status", Created: "CreationTime" },
};
const selected = new Set();

function state() {
  const p = hashParams();
  return { kind: p.kind || "training", status: p.status || "", name: p.name || "", q: p.q || "",
    sort: p.sort || "CreationTime", order: p.order || "Descending" };
}

function go(next) {
  const query = new URLSearchParams(Object.entries(next).filter(([, v]) => v));
  location.hash = `#/?${query}`;
}

function filters(current) {
  const kind = el("select", { name: "kind" },
    el("option", { value: "training" }, "Training jobs"),
    el("option", { value: "processing" }, "Processing jobs"));
  kind.value = current.kind;
  const status = el("select", { name: "status" },
    STATUSES.map((s) => el("option", { value: s }, s || "any status")));
  status.value = current.status;
  const name = el("input", { name: "name", placeholder: "name contains", value: current.name });
  const q = el("input", {
    type: "search", name: "q", value: current.q, id: "search-box",
    placeholder: 'Search: HyperParameters.lr > 0.01 and Metrics.loss < 0.5, or {"Filters": [...]}',
    disabled: current.kind === "processing",
  });
  const submit = (event) => {
    event.preventDefault();
    const switched = kind.value !== current.kind; // sorts and searches differ by kind
    go({ ...current, kind: kind.value, status: status.value, name: name.value.trim(),
      q: switched || kind.value === "processing" ? "" : q.value.trim(),
      sort: switched ? "" : current.sort, order: switched ? "" : current.order });
  };
  kind.addEventListener("change", submit);
  status.addEventListener("change", submit);
  return el("form", { class: "filters", onsubmit: submit }, kind, status, name, q,
    el("button", { type: "submit", class: "primary" }, "Apply"));
}

const EXAMPLES = [
  ["resnet", "the name contains resnet"],
  ["HyperParameters.lr > 0.01 and Metrics.loss < 0.5", "both (and)"],
  ['Tags.team = vision or Tags.team = "speech team"', "either (or); quotes for spaces"],
  ["Tags.owner exists", "exists, notexists"],
  ["TrainingJobStatus in Failed,Stopped", "in: a comma-separated list"],
  ['{"Filters": [...], "SubExpressions": [...], "Operator": "Or"}', "Search's own JSON, nested"],
];

function searchHelp() {
  return el("details", { class: "muted", id: "search-help" },
    el("summary", {}, "Search syntax"),
    el("table", {}, el("tbody", {}, EXAMPLES.map(([text, means]) =>
      el("tr", {}, el("td", { class: "mono" }, text), el("td", {}, means))))),
    el("p", {}, "Operators: = != > >= < <= ~ (contains) in exists notexists. Properties are ",
      "Search's: TrainingJobName, TrainingJobStatus, HyperParameters.*, Metrics.*, Tags.*, ",
      "ResourceConfig.InstanceType, InputDataConfig.ChannelName and the rest."));
}

function header(current, label) {
  const property = SORTABLE[current.kind][label];
  if (!property) return el("th", {}, label);
  const sorted = current.sort === property;
  const order = sorted && current.order === "Descending" ? "Ascending" : "Descending";
  return el("th", {
    class: `sortable${sorted ? " sorted" : ""}${sorted && current.order === "Ascending" ? " asc" : ""}`,
    onclick: () => go({ ...current, sort: property, order }),
  }, label);
}

function metricsCell(finals) {
  const names = Object.keys(finals).sort();
  return el("td", { class: "metrics-cell" },
    names.slice(0, 4).map((n) => el("div", {}, `${n}=${number(finals[n])}`)),
    names.length > 4 ? el("div", { class: "muted" }, `+${names.length - 4} more`) : "");
}

function row(job, onSelect) {
  const box = el("input", { type: "checkbox", "aria-label": `select ${job.name}`,
    onchange: () => { box.checked ? selected.add(job.name) : selected.delete(job.name); onSelect(); } });
  box.checked = selected.has(job.name);
  return el("tr", { "data-name": job.name },
    el("td", {}, job.kind === "training" ? box : ""),
    el("td", {}, el("a", { href: `#/jobs/${job.kind}/${encodeURIComponent(job.name)}` }, job.name)),
    el("td", {}, badge(job.status)),
    el("td", {}, job.secondaryStatus || ""),
    el("td", {}, job.instanceType ? `${job.instanceType} × ${job.instanceCount}` : ""),
    el("td", { class: "num" }, time(job.created)),
    el("td", { class: "num" }, duration(job.duration)),
    metricsCell(job.finalMetrics),
    el("td", {}, badge(job.warmPool)));
}

export function jobsView(root, scope) {
  const current = state();
  const pages = [""]; // tokens of the pages seen, to go back
  const body = el("tbody");
  const info = el("span", { class: "muted", id: "jobs-total" });
  const problem = el("div");
  const compare = el("button", { class: "primary", id: "compare-button",
    onclick: () => { location.hash = `#/compare?jobs=${[...selected].map(encodeURIComponent).join(",")}`; } });
  const showSelection = () => {
    compare.textContent = `Compare selected (${selected.size})`;
    compare.disabled = selected.size < 1;
  };
  const previous = el("button", { onclick: () => { pages.pop(); load(); } }, "← Newer");
  const next = el("button", {}, "Older →");
  let nextToken = null;
  next.addEventListener("click", () => { if (nextToken) { pages.push(nextToken); load(); } });
  const labels = ["", "Name", "Status", "Secondary status", "Instance", "Created", "Duration",
    "Final metrics", "Warm pool"];
  let asked = 0;
  async function load() {
    const mine = ++asked; // a tick and a click may overlap: only the latest answer is shown
    try {
      const page = await api("jobs", { ...current, next: pages[pages.length - 1] });
      if (mine !== asked) return;
      problem.replaceChildren();
      body.replaceChildren(...page.rows.map((job) => row(job, showSelection)));
      if (!page.rows.length) body.append(el("tr", {}, el("td", { colspan: "9", class: "muted" }, "No jobs match.")));
      nextToken = page.next;
      next.disabled = !nextToken;
      previous.disabled = pages.length < 2;
      info.textContent = page.total === null ? "" : `${page.total} job${page.total === 1 ? "" : "s"}`;
    } catch (error) {
      if (mine === asked) problem.replaceChildren(errorBox(error));
    }
  }
  showSelection();
  root.replaceChildren(
    el("h1", {}, current.kind === "training" ? "Training jobs" : "Processing jobs", info),
    filters(current), current.kind === "training" ? searchHelp() : "", problem,
    el("div", { class: "card" },
      el("table", { id: "jobs-table" },
        el("thead", {}, el("tr", {}, labels.map((l) => header(current, l)))), body),
      el("div", { class: "pager" }, previous, next, el("span", { style: "flex:1" }), compare)));
  scope.every(load, 3000);
  return load();
}
