// Capacity: what the scheduler may hand out, what is held and by whom, who waits; per node
// on a Swarm.
import { api, bytes, el, errorBox, number, table } from "./common.js";

function meter(label, held, total, format) {
  const share = total > 0 ? Math.min(100, (100 * held) / total) : 0;
  return el("div", { class: "card" }, el("h2", {}, label),
    el("div", { class: "bar" }, el("span", { style: `width:${share}%` })),
    el("p", {}, `${format(held)} held of ${format(total)} · ${format(Math.max(0, total - held))} free`));
}

function shares(rows, empty, id) {
  if (!rows.length) return el("p", { class: "muted" }, empty);
  return table(["Job", "CPUs", "Memory", "GPUs"], rows.map((s) => el("tr", {},
    el("td", {}, s.warmPool ? `warm pool of ${s.job}` : el("a", { href: `#/jobs/${s.kind}/${encodeURIComponent(s.job)}` }, s.job)),
    el("td", { class: "num" }, number(s.cpus)), el("td", { class: "num" }, bytes(s.memoryBytes)),
    el("td", { class: "mono" }, s.gpuIds.length ? s.gpuIds.join(", ") : s.gpus || ""))), { id });
}

function render(root, c) {
  const cpus = (n) => `${number(n)} CPUs`;
  const parts = [
    el("h1", {}, "Capacity"),
    el("div", { class: "grid" },
      meter("CPUs", c.cpus.held, c.cpus.total, cpus),
      meter("Memory", c.memoryBytes.held, c.memoryBytes.total, bytes),
      el("div", { class: "card", id: "gpu-card" }, el("h2", {}, `GPUs (${c.gpus.length})`),
        c.gpus.length ? table(["GPU", "Held by"], c.gpus.map((g) =>
          el("tr", {}, el("td", { class: "mono" }, g.uuid), el("td", {}, g.heldBy || "free"))))
          : el("p", { class: "muted" }, "No GPU here."))),
    el("p", { class: "muted" }, `CPUs may be overcommitted: the host has ${number(c.cpus.host)}; ` +
      "ORCHESTRATOR_CPU_OVERCOMMIT sets the ratio."),
  ];
  if (c.nodes.length) {
    parts.push(el("section", { class: "card" }, el("h2", {}, "Nodes"),
      table(["Node", "CPUs held / total", "Memory held / total", "GPUs"], c.nodes.map((n) => el("tr", {},
        el("td", {}, n.name), el("td", { class: "num" }, `${number(n.heldCpus)} / ${number(n.cpus)}`),
        el("td", { class: "num" }, `${bytes(n.heldMemoryBytes)} / ${bytes(n.memoryBytes)}`),
        el("td", { class: "num" }, n.gpus))), { id: "nodes" })));
  }
  parts.push(
    el("section", { class: "card" }, el("h2", {}, "Running (and warm pools)"),
      shares(c.running, "Nothing holds capacity.", "running")),
    el("section", { class: "card" }, el("h2", {}, "Waiting"),
      shares(c.waiting, "Nothing waits.", "waiting"),
      c.pending.map((p) => el("p", { class: "muted" }, `${p.job}: ${p.message}`))));
  root.replaceChildren(...parts);
}

export async function capacityView(root, scope) {
  const load = async () => {
    try { render(root, await api("capacity")); } catch (error) { root.replaceChildren(el("h1", {}, "Capacity"), errorBox(error)); }
  };
  scope.every(load, 3000);
  await load();
}
