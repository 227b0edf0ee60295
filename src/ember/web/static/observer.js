// The ember observer: reads /api/ and the live feed /api/events (server-sent events).
// Plain JavaScript, no build step, nothing fetched from elsewhere.
"use strict";

const state = {
  node: null, control: false, selected: null, members: [],
  history: {},           // node -> [[time, messages], ...] for rates
  closed: new Set(),     // supervision tree nodes the user folded
  actor: null,           // {node, id} shown in the actor panel
};
const HISTORY = 60;
// How long each update took, in ms: shown in the header, and kept (the last 200) in
// window.emberUpdates for whoever measures the page (bench/observability.py does).
const UPDATES = (window.emberUpdates = []);
const COLORS = ["#ff8a3d", "#1a5fb4", "#2e7d32", "#b03a2e", "#7b1fa2", "#00838f"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) return null;
  return response.json();
}

function actorLink(ref, label) {
  const link = el("a", { class: "actor", "data-ref": ref.text, text: label || ref.text });
  link.addEventListener("click", () => showActor(ref.node, ref.id));
  return link;
}

// ---- the cluster ------------------------------------------------------------------

function rate(name) {
  const points = state.history[name] || [];
  if (points.length < 2) return 0;
  const [t0, m0] = points[points.length - 2];
  const [t1, m1] = points[points.length - 1];
  return t1 > t0 ? (m1 - m0) / (t1 - t0) : 0;
}

function timed(kind, started) {
  const ms = performance.now() - started;
  UPDATES.push({ kind, ms });
  if (UPDATES.length > 200) UPDATES.shift();
  document.getElementById("updated").textContent = `${kind} in ${ms.toFixed(0)} ms`;
}

function onCluster(data) {
  const started = performance.now();
  state.node = data.node;
  state.control = data.control;
  state.members = data.members;
  document.getElementById("node").textContent = data.node;
  const control = document.getElementById("control");
  control.textContent = data.control ? "control allowed" : "read-only";
  control.classList.toggle("on", data.control);
  for (const [name, stats] of Object.entries(data.statistics)) {
    if (!stats) continue;
    const points = (state.history[name] = state.history[name] || []);
    points.push([data.time, stats.messages]);
    if (points.length > HISTORY) points.shift();
  }
  drawMembers(data);
  drawRates();
  drawEntities(data.statistics);
  fillNodeSelect(data.members);
  timed("cluster", started);
}

function drawMembers(data) {
  const body = document.querySelector("#members tbody");
  body.replaceChildren();
  for (const member of data.members) {
    const stats = data.statistics[member.name];
    const row = el("tr", { "data-node": member.name },
      el("td", { text: member.name + (member.self ? " (this node)" : "") }),
      el("td", { class: "status-" + member.status, text: member.status }),
      el("td", { text: String(member.incarnation) }),
      el("td", { text: member.phi == null ? "-" : member.phi.toFixed(2) }),
      el("td", { text: stats ? String(stats.actors) : "-" }),
      el("td", { text: stats ? rate(member.name).toFixed(1) : "-" }),
      el("td", { text: stats ? String(stats.crashes) : "-" }),
      el("td", { text: stats ? String(stats.dead_letters) : "-" }));
    body.append(row);
  }
}

function drawRates() {
  const canvas = document.getElementById("rates");
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  const names = Object.keys(state.history).sort();
  const series = names.map((name) => {
    const points = state.history[name];
    const rates = [];
    for (let i = 1; i < points.length; i++) {
      const dt = points[i][0] - points[i - 1][0];
      rates.push(dt > 0 ? (points[i][1] - points[i - 1][1]) / dt : 0);
    }
    return rates;
  });
  const top = Math.max(1, ...series.flat());
  const legend = document.getElementById("rates-legend");
  legend.replaceChildren();
  series.forEach((rates, index) => {
    const color = COLORS[index % COLORS.length];
    context.strokeStyle = color;
    context.beginPath();
    rates.forEach((value, i) => {
      const x = (canvas.width * (i + HISTORY - rates.length)) / HISTORY;
      const y = canvas.height - (canvas.height - 4) * (value / top) - 2;
      if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.stroke();
    legend.append(el("span", { style: "color:" + color, text: names[index] + " " }));
  });
  legend.append(el("span", { text: "(peak " + top.toFixed(0) + "/s)" }));
}

function drawEntities(statistics) {
  const kinds = {};
  for (const [name, stats] of Object.entries(statistics)) {
    for (const [kind, counts] of Object.entries((stats && stats.entities) || {})) {
      (kinds[kind] = kinds[kind] || []).push(name + ": " + counts.active);
    }
  }
  const body = document.querySelector("#entities tbody");
  body.replaceChildren();
  for (const [kind, placement] of Object.entries(kinds).sort()) {
    body.append(el("tr", { "data-kind": kind },
      el("td", { text: kind }), el("td", { text: placement.join(", ") })));
  }
}

function fillNodeSelect(members) {
  const select = document.getElementById("node-select");
  const live = members.filter((m) => m.status !== "down").map((m) => m.name);
  if (select.options.length !== live.length || live.some((n, i) => select.options[i].value !== n)) {
    select.replaceChildren(...live.map((name) => el("option", { value: name, text: name })));
  }
  if (!state.selected || !live.includes(state.selected)) state.selected = state.node;
  select.value = state.selected;
}

// ---- one node: trees and busiest actors -----------------------------------------------

function treeNode(node) {
  const label = [node.id != null ? node.id : node.name || node.class || "?"];
  const line = el("span", {});
  if (node.ref) line.append(actorLink(node.ref, label[0]));
  else line.append(el("span", { text: label[0] }));
  const status = node.status !== "running" ? " " + node.status : "";
  line.append(el("span", { class: node.status, text: status }));
  if (node.class) line.append(el("span", { class: "stopped", text: " " + node.class }));
  if (node.restarts) line.append(el("span", { class: "restarting", text: " restarts " + node.restarts }));
  if (node.kind !== "supervisor") return el("div", { class: "leaf", "data-kind": "worker" }, line);
  const key = node.ref ? node.ref.text : label[0];
  const details = el("details", { "data-kind": "supervisor", "data-ref": key });
  details.open = !state.closed.has(key);
  details.addEventListener("toggle", () => {
    if (details.open) state.closed.delete(key); else state.closed.add(key);
  });
  details.append(el("summary", {}, line));
  for (const child of node.children) details.append(treeNode(child));
  if (node.more > 0) details.append(el("div", { class: "leaf empty", text: "... " + node.more + " more" }));
  return details;
}

async function refreshNode() {
  const name = state.selected;
  if (!name) return;
  const started = performance.now();
  const [trees, busiest] = await Promise.all([
    getJson(`/api/nodes/${encodeURIComponent(name)}/trees`),
    getJson(`/api/nodes/${encodeURIComponent(name)}/busiest?limit=10&by=mailbox`),
  ]);
  const box = document.getElementById("trees");
  box.replaceChildren();
  if (!trees || !trees.length) box.append(el("p", { class: "empty", text: trees ? "none" : "no answer" }));
  else for (const tree of trees) box.append(treeNode(tree));
  const body = document.querySelector("#busiest tbody");
  body.replaceChildren();
  for (const info of busiest || []) {
    body.append(el("tr", {},
      el("td", {}, actorLink(info.ref, info.names.length ? info.names[0] : info.ref.text)),
      el("td", { text: info.actor_class }), el("td", { text: String(info.mailbox) }),
      el("td", { text: String(info.messages) }), el("td", { text: info.status })));
  }
  timed(`node ${name}`, started);
}

// ---- one actor ---------------------------------------------------------------------

async function showActor(node, id) {
  state.actor = { node, id };
  const info = await getJson(`/api/nodes/${encodeURIComponent(node)}/actors/${id}`);
  const box = document.getElementById("actor");
  box.replaceChildren();
  if (!info) {
    box.append(el("p", { class: "empty", id: "actor-gone", text: `${node}#${id} is not alive` }));
    return;
  }
  const list = el("dl", { "data-ref": info.ref.text });
  const refs = (items) => items.map((r) => r.text).join(", ") || "-";
  const rows = [
    ["actor", info.ref.text], ["class", info.actor_class], ["names", info.names.join(", ") || "-"],
    ["status", info.status], ["mailbox", info.mailbox], ["messages", info.messages],
    ["links", refs(info.links)], ["monitors", refs(info.monitors)],
    ["monitored by", refs(info.monitored_by)], ["calls waiting", info.calls_waiting],
    ["timers", info.timers], ["traps exits", info.trap_exits],
  ];
  for (const [key, value] of rows) list.append(el("dt", { text: key }), el("dd", { text: String(value) }));
  box.append(list);
  box.append(el("h3", { text: "state" }),
    el("pre", { id: "actor-state", text: info.state == null ? "(not shown)" : info.state }));
  if (state.control) {
    for (const action of ["stop", "kill"]) {
      const button = el("button", { id: action, text: action });
      button.addEventListener("click", () => control(node, id, action));
      box.append(button);
    }
  }
}

async function control(node, id, action) {
  await fetch(`/api/nodes/${encodeURIComponent(node)}/actors/${id}/${action}`,
    { method: "POST", headers: { "X-Ember-Control": "1" } });
  await showActor(node, id);
  await refreshNode();
}

// ---- the live feed -------------------------------------------------------------------

function onReport(report) {
  const list = document.getElementById("reports");
  const when = new Date(report.time * 1000).toLocaleTimeString();
  const item = el("li", { class: report.level + " " + report.event, "data-event": report.event },
    el("b", { text: `${when} ${report.node} ${report.event} ` }));
  if (report.actor) item.append(actorLink(report.actor, report.name || report.actor.text));
  item.append(el("div", { text: report.reason }));
  list.prepend(item);
  while (list.children.length > 100) list.lastChild.remove();
}

function connect() {
  const connection = document.getElementById("connection");
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => {
    connection.textContent = "live";
    connection.classList.add("live");
  });
  events.addEventListener("error", () => {
    connection.textContent = "reconnecting";
    connection.classList.remove("live");
  });
  events.addEventListener("cluster", (event) => onCluster(JSON.parse(event.data)));
  events.addEventListener("report", (event) => onReport(JSON.parse(event.data)));
}

document.getElementById("node-select").addEventListener("change", (event) => {
  state.selected = event.target.value;
  refreshNode();
});
connect();
setInterval(refreshNode, 2000);
getJson("/api/cluster").then((data) => {
  if (data) { state.node = state.selected = data.node; state.control = data.control; refreshNode(); }
});
