// The game's web client: speaks docs/game-protocol.md (version 1) to ws://<this host>/ws.
//
// One socket at a time. Requests carry an id and get a `reply`; pushes (`ticket`,
// `room`, `match_over`, `state`) update the page. When the socket drops, the page
// says "reconnecting" and opens the next gateway of `welcome.gateways`, resuming
// the session with its token and seat token: within the grace period the player
// keeps its ticket and room.
"use strict";

const $ = (id) => document.getElementById(id);
const GRID = 20; // cells per side (examples/game/rooms.py), more if a position lies beyond
const KEYS = {
  ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0],
  w: [0, -1], s: [0, 1], a: [-1, 0], d: [1, 0],
};
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"];

const session = {
  socket: null,
  url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
  gateways: [], // from `welcome` (or a `reconnect` push): where to go next
  failures: 0, // connection attempts since the last `welcome`
  stopped: false, // moved elsewhere: no more reconnecting
  nextId: 1,
  pending: new Map(), // request id -> {resolve, reject}
  username: null,
  token: null,
  seat: null, // this connection's seat token, for `resume`
  ticket: null, // the id of our open ticket
  settled: new Set(), // ticket ids whose outcome we have shown
  results: new Set(), // rooms whose result we have shown
  room: null, // {id, seat, joined, tick, epoch, state}
  seq: 0,
};

// ---- the connection ----

function connect(url) {
  session.url = url;
  const socket = new WebSocket(url);
  session.socket = socket;
  socket.onopen = () => send({ type: "hello", v: 1 });
  socket.onmessage = (event) => receive(JSON.parse(event.data));
  socket.onclose = () => { if (socket === session.socket) dropped(); };
}

function dropped() {
  session.socket = null;
  for (const { reject } of session.pending.values()) reject(new Error("disconnected"));
  session.pending.clear();
  if (session.room) session.room.joined = false;
  if (session.stopped) return;
  session.failures += 1;
  showConnection("reconnecting…", "down");
  if (session.failures === 1) log("connection lost: reconnecting");
  const delay = Math.min(2000, 100 * 2 ** (session.failures - 1));
  setTimeout(() => connect(nextGateway()), delay);
}

function nextGateway() {
  const list = session.gateways;
  if (list.length === 0) return session.url;
  return list[(list.indexOf(session.url) + 1) % list.length];
}

function send(message) {
  if (session.socket && session.socket.readyState === WebSocket.OPEN) {
    session.socket.send(JSON.stringify(message));
  }
}

function request(type, fields = {}) {
  const id = session.nextId++;
  return new Promise((resolve, reject) => {
    if (!session.socket || session.socket.readyState !== WebSocket.OPEN) {
      reject(new Error("not connected"));
      return;
    }
    session.pending.set(id, { resolve, reject });
    send({ type, id, ...fields });
  });
}

const handlers = {
  welcome(message) {
    session.failures = 0;
    session.gateways = message.gateways || [];
    $("node").textContent = message.node;
    showConnection("connected", "");
    log(`connected to ${message.node} (${session.url})`);
    if (session.token) resume();
  },
  reply(message) {
    const waiting = session.pending.get(message.id);
    if (!waiting) return;
    session.pending.delete(message.id);
    if (message.ok) waiting.resolve(message);
    else waiting.reject(new Error(`${message.error}: ${message.message || ""}`));
  },
  ticket: showTicket,
  room: showRoom,
  match_over: showResult,
  state: applyState,
  moved() {
    session.stopped = true;
    showConnection("logged in elsewhere: this page is closed", "stopped");
  },
  reconnect(message) {
    if (message.gateways.length > 0) {
      session.gateways = message.gateways;
      session.url = ""; // so nextGateway() picks the first of them
    }
    log("gateway draining: moving to another");
  },
  error(message) {
    log(`error ${message.error}: ${message.message || ""}`);
  },
};

function receive(message) {
  const handle = handlers[message.type];
  if (handle) handle(message);
  else log(`ignored a message of type ${message.type}`);
}

async function resume() {
  try {
    const reply = await request("resume", { token: session.token, seat: session.seat });
    session.seat = reply.seat;
    log(`resumed after ${reply.gap_s} s`);
    applyState(reply.state, { rejoin: true });
  } catch (error) {
    if (error.message.startsWith("unavailable")) {
      setTimeout(resume, 500);
    } else if (!error.message.startsWith("disconnected")) {
      session.token = null;
      session.stopped = error.message.startsWith("bad_seat");
      showConnection(`session lost (${error.message}): log in again`, "stopped");
    }
  }
}

// ---- account and matchmaking ----

async function register() {
  const fields = { username: $("username").value, password: $("password").value };
  if ($("level").value !== "") fields.level = Number($("level").value);
  const reply = await request("register", fields);
  log(`registered ${reply.username} with rating ${reply.rating}`);
}

async function login() {
  const username = $("username").value;
  const reply = await request("login", { username, password: $("password").value });
  Object.assign(session, { username, token: reply.token, seat: reply.seat, stopped: false });
  $("player").textContent = username;
  log(`logged in as ${username}`);
  applyState(reply.state, { rejoin: true });
}

function requireLogin() {
  if (!session.token) throw new Error("log in first");
}

async function queue() {
  requireLogin();
  const ticket = `${session.username}-${Date.now()}`;
  const fields = { ticket, mode: $("mode").value, region: $("region").value };
  const member = $("party").value.trim();
  if (member) fields.party = [member];
  await request("queue", fields);
  $("result").textContent = "";
  if (session.settled.has(ticket)) return; // its outcome came first
  session.ticket = ticket;
  $("ticket").textContent = `${ticket}: waiting (${fields.mode}, ${fields.region})`;
}

// A push is sent at most once (one sent as its node is lost can be lost): while a
// ticket waits, ask the session for its state every 10 s and take what we missed.
const SYNC_EVERY_MS = 10000;

async function syncWhileWaiting() {
  if (!session.ticket || !session.token || !session.socket) return;
  if (session.socket.readyState !== WebSocket.OPEN) return;
  try {
    const reply = await request("sync", {});
    applyState(reply.state);
  } catch (error) {
    log(`sync: ${error.message}`);
  }
}

async function cancel() {
  requireLogin();
  if (!session.ticket) throw new Error("no ticket to cancel");
  await request("cancel", { ticket: session.ticket });
}

async function joinParty() {
  requireLogin();
  const leader = $("leader").value.trim();
  await request("party_join", { leader });
  log(`will queue on ${leader}'s next ticket`);
}

function applyState(state, { rejoin = false } = {}) {
  if (!state) return;
  if (state.rating !== undefined) $("rating").textContent = state.rating;
  if (state.last_outcome) showTicket(state.last_outcome);
  if (state.last_match) showResult(state.last_match);
  if (state.ticket && state.ticket.status === "waiting") {
    const { ticket, mode, region } = state.ticket;
    session.ticket = ticket;
    $("ticket").textContent = `${ticket}: waiting (${mode}, ${region})`;
  }
  const known = session.room && session.room.id === state.room;
  if (state.room && state.seat && (rejoin || !known)) joinRoom(state.room, state.seat);
}

function showTicket(outcome) {
  if (session.settled.has(outcome.ticket)) return; // each outcome is shown once
  session.settled.add(outcome.ticket);
  if (session.ticket === outcome.ticket) session.ticket = null;
  let text = `${outcome.ticket}: ${outcome.status}`;
  if (outcome.status === "matched") {
    text += ` with ${outcome.players.join(", ")} (stage ${outcome.stage},` +
      ` waited ${outcome.waited_s.toFixed(1)} s, spread ${outcome.spread})`;
    joinRoom(outcome.room, outcome.seat);
  } else if (outcome.why) {
    text += ` (${outcome.why})`;
  }
  $("ticket").textContent = text;
  log(`ticket ${text}`);
}

// ---- the room ----

async function joinRoom(id, seat) {
  if (!session.room || session.room.id !== id) {
    session.room = { id, seat, joined: false, tick: -1, epoch: -1 };
    $("result").textContent = "";
  }
  if (session.room.joined) return;
  session.room.joined = true;
  try {
    const reply = await request("join_room", { room: id, seat });
    showRoom({ room: id, ...reply.room });
  } catch (error) {
    session.room.joined = false;
    log(`join_room: ${error.message}`);
  }
}

function showRoom(state) {
  const room = session.room;
  if (!room || room.id !== state.room) return;
  const stale = state.epoch < room.epoch || (state.epoch === room.epoch && state.tick < room.tick);
  if (stale) return;
  Object.assign(room, { tick: state.tick, epoch: state.epoch, state });
  $("room").textContent = state.room;
  $("room-phase").textContent = state.phase;
  $("tick").textContent = state.ends_at_tick ? `${state.tick} / ${state.ends_at_tick}` : state.tick;
  const me = state.players[session.username];
  $("position").textContent = me ? `${me.x},${me.y}` : "–";
  $("scores").textContent = Object.entries(state.players)
    .map(([name, player]) => `${name} ${player.score}`).join(", ");
  draw(state);
}

function showResult(result) {
  if (session.results.has(result.room)) return; // pushed, and repeated in `state`
  session.results.add(result.room);
  const scores = Object.entries(result.scores).map(([name, score]) => `${name} ${score}`);
  const delta = result.delta >= 0 ? `+${result.delta}` : `${result.delta}`;
  const winner = result.winner === null ? "a draw" : `${result.winner} wins`;
  $("result").textContent = `${winner} (${scores.join(", ")}): your rating ${result.rating} (${delta})`;
  $("rating").textContent = result.rating;
  if (session.room && session.room.id === result.room) $("room-phase").textContent = "over";
  log(`match over: ${$("result").textContent}`);
}

function draw(state) {
  const canvas = $("board");
  const context = canvas.getContext("2d");
  const coordinates = Object.values(state.players).flatMap((p) => [p.x, p.y]);
  const cells = Math.max(GRID, ...[...(state.coin || []), ...coordinates].map((c) => c + 1));
  const size = canvas.width / cells;
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.strokeStyle = "#eee";
  for (let i = 0; i <= cells; i++) {
    context.beginPath();
    context.moveTo(i * size, 0); context.lineTo(i * size, canvas.height);
    context.moveTo(0, i * size); context.lineTo(canvas.width, i * size);
    context.stroke();
  }
  if (state.coin) {
    const [x, y] = state.coin;
    context.fillStyle = "#e6b800";
    context.beginPath();
    context.arc((x + 0.5) * size, (y + 0.5) * size, size * 0.35, 0, 2 * Math.PI);
    context.fill();
  }
  context.font = "11px sans-serif";
  context.textAlign = "center";
  Object.keys(state.players).sort().forEach((name, index) => {
    const { x, y } = state.players[name];
    context.fillStyle = COLOURS[index % COLOURS.length];
    context.fillRect(x * size + 1, y * size + 1, size - 2, size - 2);
    if (name === session.username) {
      context.strokeStyle = "#000";
      context.lineWidth = 2;
      context.strokeRect(x * size + 1, y * size + 1, size - 2, size - 2);
      context.lineWidth = 1;
    }
    const half = context.measureText(name).width / 2 + 1; // keep the label on the board
    const centre = Math.min(canvas.width - half, Math.max(half, (x + 0.5) * size));
    context.fillText(name, centre, y > 0 ? y * size - 3 : size + 11);
  });
}

function onKey(event) {
  const move = KEYS[event.key] || KEYS[event.key.toLowerCase()];
  const room = session.room;
  if (!move || !room || !room.state || room.state.phase !== "playing") return;
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
  event.preventDefault();
  session.seq += 1;
  send({ type: "input", room: room.id, seq: session.seq, move });
}

// ---- the page ----

function showConnection(text, className) {
  $("connection").textContent = text;
  $("status").className = className;
}

function log(text) {
  const line = document.createElement("li");
  line.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  const list = $("log");
  list.append(line);
  while (list.children.length > 100) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function button(id, action) {
  $(id).addEventListener("click", (event) => {
    event.preventDefault();
    action().catch((error) => log(`${id}: ${error.message}`));
  });
}

button("register", register);
button("login", login);
button("queue", queue);
button("cancel", cancel);
button("party-join", joinParty);
document.addEventListener("keydown", onKey);
connect(session.url);
setInterval(syncWhileWaiting, SYNC_EVERY_MS);
