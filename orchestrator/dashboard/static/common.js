// Shared helpers: element building, the JSON API, formatting, and timers bound to a view.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export class ApiError extends Error {}

async function answer(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(body.message || `${response.status} ${response.statusText}`);
  return body;
}

export async function api(route, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const suffix = query.toString() ? `?${query}` : "";
  return answer(await fetch(`/dashboard/api/${route}${suffix}`, { credentials: "same-origin" }));
}

let token = null;

// Actions carry the token the server issued to this page, from this origin only.
export async function act(route) {
  if (token === null) token = (await api("session")).token;
  const response = await fetch(`/dashboard/api/${route}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-Orchestrator-Token": token },
  });
  return answer(response);
}

export function badge(status) {
  return status ? el("span", { class: `badge ${status}` }, status) : "";
}

export function time(epoch) {
  if (epoch === undefined || epoch === null) return "";
  const date = new Date(epoch * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function duration(seconds) {
  if (seconds === undefined || seconds === null) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function bytes(count) {
  const gib = count / 1024 ** 3;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${(count / 1024 ** 2).toFixed(0)} MiB`;
}

export function number(value) {
  if (typeof value !== "number") return value ?? "";
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) {
    return value.toExponential(3);
  }
  return String(Number(value.toPrecision(5)));
}

export function errorBox(error) {
  return el("div", { class: "error", role: "alert" }, error.message || String(error));
}

// A view's timers: every(fn, ms) repeats fn while the view is shown and the tab visible;
// onClose(fn) runs when the view goes (charts are purged so their listeners go too).
export class ViewScope {
  constructor() { this.timers = new Set(); this.closers = []; this.alive = true; }
  every(fn, ms) {
    const schedule = () => {
      const handle = setTimeout(async () => {
        this.timers.delete(handle);
        if (!this.alive) return;
        if (!document.hidden) {
          try { await fn(); } catch (error) { console.warn(error); }
        }
        if (this.alive) schedule();
      }, ms);
      this.timers.add(handle);
    };
    schedule();
  }
  onClose(fn) { this.closers.push(fn); }
  close() {
    this.alive = false;
    this.timers.forEach(clearTimeout);
    this.timers.clear();
    this.closers.forEach((fn) => fn());
  }
}

export function hashParams() {
  const query = location.hash.split("?")[1] || "";
  return Object.fromEntries(new URLSearchParams(query));
}

export function table(headers, rows, attrs = {}) {
  return el("table", attrs,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows));
}
