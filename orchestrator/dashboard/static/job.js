// One job: status and actions, the timeline, the request, artifacts, metric charts, live logs.
import { act, api, badge, duration, el, errorBox, number, table, time } from "./common.js";
import { chartControls, chartFor, draw, purgeOnClose, traces } from "./charts.js";

const MAX_LOG_LINES = 5000; // the pane keeps the newest; the whole log is in `orchestrator logs`

function facts(pairs) {
  return el("dl", { class: "facts" },
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== "")
      .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function timelineCard(job) {
  const longest = Math.max(1, ...job.timeline.map((t) => t.seconds || 0));
  const rows = job.timeline.map((t) => el("tr", {},
    el("td", {}, badge(t.status)),
    el("td", { class: "num" }, time(t.start)),
    el("td", { class: "num" }, t.end ? time(t.end) : el("span", { class: "muted" }, "now")),
    el("td", { class: "num" }, duration(t.seconds)),
    el("td", {}, el("div", { class: "bar", title: duration(t.seconds) },
      el("span", { style: `width:${Math.max(2, 100 * (t.seconds || 0) / longest)}%` }))),
    el("td", {}, t.message)));
  const title = job.kind === "training" ? "Status timeline"
    : "Steps (the engine's record: DescribeProcessingJob has no transitions)";
  return el("section", { class: "card", id: "timeline" }, el("h2", {}, title),
    table(["Status", "Start", "End", "Duration", "", "Message"], rows));
}

function channelsTable(d) {
  const channels = d.InputDataConfig || (d.ProcessingInputs || []).map((i) => ({
    ChannelName: i.InputName, DataSource: { S3DataSource: i.S3Input || {} } }));
  if (!channels.length) return el("p", { class: "muted" }, "No input channels.");
  return table(["Channel", "S3 URI", "Distribution", "Mode"], channels.map((c) => {
    const s3 = (c.DataSource || {}).S3DataSource || {};
    return el("tr", {}, el("td", {}, c.ChannelName), el("td", { class: "mono" }, s3.S3Uri || ""),
      el("td", {}, s3.S3DataDistributionType || ""), el("td", {}, c.InputMode || s3.S3InputMode || ""));
  }));
}

function requestCard(job) {
  const d = job.describe;
  const resources = d.ResourceConfig || (d.ProcessingResources || {}).ClusterConfig || {};
  const stopping = d.StoppingCondition || {};
  const algorithm = d.AlgorithmSpecification || d.AppSpecification || {};
  const hyper = Object.entries(d.HyperParameters || {}).sort();
  return el("section", { class: "card", id: "request" }, el("h2", {}, "Request"),
    facts([
      ["Image", el("span", { class: "mono" }, algorithm.TrainingImage || algorithm.ImageUri || "")],
      ["Instances", `${resources.InstanceType || ""} × ${resources.InstanceCount || ""}`],
      ["Volume", resources.VolumeSizeInGB ? `${resources.VolumeSizeInGB} GB` : ""],
      ["Max runtime", stopping.MaxRuntimeInSeconds ? duration(stopping.MaxRuntimeInSeconds) : ""],
      ["Max wait", stopping.MaxWaitTimeInSeconds ? duration(stopping.MaxWaitTimeInSeconds) : ""],
      ["Retries", d.RetryStrategy ? `up to ${d.RetryStrategy.MaximumRetryAttempts}` : ""],
      ["Managed spot", d.EnableManagedSpotTraining ? "yes" : ""],
      ["Keep alive", resources.KeepAlivePeriodInSeconds ? `${resources.KeepAlivePeriodInSeconds}s` : ""],
      ["Arguments", (algorithm.ContainerArguments || []).join(" ")],
      ["Exit message", d.ExitMessage || ""],
      ["Failure", d.FailureReason || ""],
    ]),
    job.kind === "training" ? [
      el("h2", { style: "margin-top:12px" }, "Hyperparameters"),
      hyper.length ? table(["Name", "Value"], hyper.map(([k, v]) =>
        el("tr", {}, el("td", { class: "mono" }, k), el("td", { class: "mono" }, v))), { id: "hyperparameters" })
        : el("p", { class: "muted" }, "None."),
    ] : "",
    el("h2", { style: "margin-top:12px" }, "Channels"), channelsTable(d));
}

function resourcesCard(job) {
  const pool = job.describe.WarmPoolStatus;
  const placed = Object.entries(job.placement).map(([h, n]) => `${h} on ${n}`).join(", ");
  return el("section", { class: "card", id: "artifacts" }, el("h2", {}, "Artifacts"),
    job.artifacts.length ? table(["What", "S3 URI"], job.artifacts.map((a) =>
      el("tr", {}, el("td", {}, a.what), el("td", { class: "mono" }, a.uri))))
      : el("p", { class: "muted" }, "None yet."),
    el("h2", { style: "margin-top:12px" }, "Resources held"),
    facts([
      ["Warm pool", pool ? el("span", {}, badge(pool.Status),
        pool.ResourceRetainedBillableTimeInSeconds !== undefined
          ? ` retained ${duration(pool.ResourceRetainedBillableTimeInSeconds)}` : "") : "none"],
      ["GPUs", job.gpus.length ? el("span", { class: "mono", id: "gpus" }, job.gpus.join(", ")) : "none"],
      ["Placement", placed],
      ["Hosts", job.hosts.join(", ")],
    ]));
}

function actions(job, refresh) {
  const problem = el("span");
  const run = (button, route) => async () => {
    button.disabled = true;
    try { await act(route); await refresh(); } catch (error) { problem.replaceChildren(errorBox(error)); button.disabled = false; }
  };
  const base = `${job.kind}-jobs/${encodeURIComponent(job.name)}`;
  const stop = el("button", { class: "danger", id: "stop-button", disabled: !job.canStop }, "Stop");
  stop.addEventListener("click", run(stop, `${base}/stop`));
  const release = el("button", { id: "release-button", disabled: !job.canRelease }, "Release warm pool");
  release.addEventListener("click", run(release, `${base}/release`));
  return [stop, job.kind === "training" ? release : "", problem];
}

function status(job) {
  const d = job.describe;
  const primary = d.TrainingJobStatus || d.ProcessingJobStatus;
  const secondary = d.SecondaryStatus && d.SecondaryStatus !== primary ? d.SecondaryStatus : "";
  return el("span", { id: "job-status" }, badge(primary), " ",
    el("span", { class: "muted", id: "secondary-status" }, secondary));
}

function metricsSection(job, scope) {
  const options = { x: "step", smoothing: 0, log: false };
  const charts = el("div", { class: "charts", id: "charts" });
  const note = el("p", { class: "muted" }, "No metrics reported yet.");
  let latest = {};
  const render = () => {
    const names = Object.keys(latest).sort();
    note.hidden = names.length > 0;
    for (const name of names) {
      draw(chartFor(charts, name), name, traces(latest[name], options, name), options);
    }
  };
  const load = async () => {
    latest = (await api(`training-jobs/${encodeURIComponent(job.name)}/metrics`)).metrics;
    if (scope.alive) render();
  };
  purgeOnClose(scope, charts);
  return { node: el("section", { class: "card" }, el("h2", {}, "Metrics"), chartControls(options, render), note, charts), load };
}

function logsSection(job, scope) {
  const pre = el("pre", { class: "logs", id: "log-lines" });
  const tabs = el("div", { class: "tabs" });
  let host = job.hosts[0];
  let offset = "";
  let ended = false;
  const follow = el("input", { type: "checkbox", checked: true, id: "follow" });
  const base = `${job.kind}-jobs/${encodeURIComponent(job.name)}/logs`;
  let generation = 0;
  let busy = false;
  const load = async () => {
    if (ended || busy) return;
    busy = true;
    const mine = generation;
    try {
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      let page;
      do {
        page = await api(base, { host, offset });
        if (mine !== generation || !scope.alive) return; // another host was picked meanwhile
        pre.append(...page.lines.map(([t, text]) =>
          el("div", { class: "line" }, el("span", { class: "t" }, time(t)), text)));
        while (pre.childElementCount > MAX_LOG_LINES) pre.firstChild.remove();
        offset = page.offset;
      } while (page.more && page.lines.length);
      ended = page.ended;
      if (follow.checked && atBottom) pre.scrollTop = pre.scrollHeight;
    } finally {
      if (mine === generation) busy = false; // a stale load must not free the current one
    }
  };
  const show = (name) => {
    host = name; offset = ""; ended = false; generation += 1; busy = false; pre.replaceChildren();
    tabs.querySelectorAll("button").forEach((b) => b.classList.toggle("current", b.dataset.host === name));
    load();
  };
  tabs.append(...job.hosts.map((h) => el("button", { "data-host": h, onclick: () => show(h) }, h)));
  tabs.firstChild?.classList.add("current");
  scope.every(load, 1000);
  return { node: el("section", { class: "card" }, el("h2", {}, "Logs"),
    el("div", { class: "controls" }, tabs, el("label", {}, follow, " follow")), pre), load };
}

export async function jobView(root, scope, kind, name) {
  let job;
  try { job = await api(`${kind}-jobs/${encodeURIComponent(name)}`); } catch (error) {
    root.replaceChildren(el("h1", {}, name), errorBox(error));
    return;
  }
  const heading = el("h1", {}, name, status(job));
  const top = el("span", { class: "controls" });
  const upper = el("div", { class: "grid" });
  const timelineSlot = el("div");
  const renderTop = () => {
    heading.replaceChildren(name, status(job), ...actions(job, refresh));
    timelineSlot.replaceChildren(timelineCard(job));
    upper.replaceChildren(requestCard(job), resourcesCard(job));
  };
  const metrics = kind === "training" ? metricsSection(job, scope) : null;
  const logs = logsSection(job, scope);
  async function refresh() {
    job = await api(`${kind}-jobs/${encodeURIComponent(name)}`);
    renderTop();
    if (metrics) await metrics.load();
  }
  renderTop();
  root.replaceChildren(heading, top, timelineSlot, upper, el("div", { style: "height:14px" }),
    metrics ? metrics.node : "", logs.node);
  scope.every(async () => { if (!job.ended) await refresh(); }, 2000);
  if (metrics) await metrics.load();
  await logs.load();
}
