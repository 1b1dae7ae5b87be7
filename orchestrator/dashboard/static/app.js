// The dashboard's router: one view at a time, chosen by the URL's #fragment.
import { ViewScope } from "./common.js";
import { jobsView } from "./jobs.js";
import { jobView } from "./job.js";
import { compareView } from "./compare.js";
import { capacityView } from "./capacity.js";

const ROUTES = [
  [/^#\/jobs\/(training|processing)\/([^?]+)/, "jobs", (root, scope, m) => jobView(root, scope, m[1], decodeURIComponent(m[2]))],
  [/^#\/compare/, "compare", (root, scope) => compareView(root, scope)],
  [/^#\/capacity/, "capacity", (root, scope) => capacityView(root, scope)],
  [/^(#\/?(\?.*)?)?$/, "jobs", (root, scope) => jobsView(root, scope)],
];

let scope = null;

async function show() {
  if (scope) scope.close();
  scope = new ViewScope();
  // Each view draws into a container of its own: an answer that arrives after the user moved
  // on lands in a detached node, never over the next view.
  const root = document.createElement("div");
  document.getElementById("view").replaceChildren(root);
  for (const [pattern, nav, view] of ROUTES) {
    const match = location.hash.match(pattern);
    if (!match) continue;
    document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("current", a.dataset.nav === nav));
    document.body.dataset.view = nav;
    await view(root, scope, match);
    document.body.dataset.ready = location.hash;
    return;
  }
  root.textContent = "No such page.";
}

document.addEventListener("visibilitychange", () => {
  document.getElementById("live").classList.toggle("off", document.hidden);
});
window.addEventListener("hashchange", show);
show();
