// The control room: routes (#/ wall, #/tickets, #/ticket/<id>, #/manual) and the live stream.
"use strict";
import { $, setReference } from "./dom.js";
import { syncServerTime, startTicking } from "./clock.js";
import { renderBoard } from "./board.js";
import { renderManual } from "./dispatch.js";
import { setUpFilters, applyQuery, loadTickets } from "./tickets.js";
import { loadTicket } from "./ticket.js";
import { watchDeadLetters } from "./dead.js";

let route = { name: "wall", id: null };
let lastBoard = null;
let refreshTimer = null;

function parseRoute() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  if (path.startsWith("/ticket/")) return { name: "ticket", id: decodeURIComponent(path.slice(8)) };
  if (path === "/tickets") return { name: "tickets", query: new URLSearchParams(query || "") };
  if (path === "/manual") return { name: "manual" };
  return { name: "wall" };
}

function show(name) {
  for (const view of document.querySelectorAll("[data-view]")) view.hidden = view.dataset.view !== name;
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.nav === name);
}

function navigate() {
  route = parseRoute();
  show(route.name);
  if (route.name === "tickets") { applyQuery(route.query); loadTickets(); }
  if (route.name === "ticket") loadTicket(route.id);
  if (lastBoard) render(lastBoard);
}

function render(board) {
  renderBoard(board);
  renderManual($("#manual-wall"), board, 4);
  if (route.name === "manual") renderManual($("#manual-desk"), board, 0);
  $("#manual-count").textContent = board.manual_total;
}

function ticketsChanged(ids) {
  // Refresh what is on screen at most every half second; PostgreSQL may trail the stream.
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    if (route.name === "tickets") loadTickets();
    if (route.name === "ticket" && ids.includes(route.id)) { loadTicket(route.id); setTimeout(() => loadTicket(route.id), 1000); }
  }, 300);
}

function connect() {
  const status = $("#status");
  const source = new EventSource("/api/stream");
  source.addEventListener("board", (event) => {
    lastBoard = JSON.parse(event.data);
    syncServerTime(lastBoard.at);
    render(lastBoard);
    status.textContent = "实时 · " + new Date(lastBoard.at).toLocaleTimeString("zh-CN", { hour12: false });
    status.className = "ok";
  });
  source.addEventListener("tickets", (event) => ticketsChanged(JSON.parse(event.data)));
  source.addEventListener("error", async () => {
    status.textContent = "连接中断，重连中…";
    status.className = "down";
    const me = await fetch("/api/room/me").catch(() => null);
    if (me && me.status === 401) location.assign("/login");
  });
}

async function start() {
  const [me, ref] = await Promise.all([fetch("/api/room/me"), fetch("/api/room/reference")]);
  if (me.status === 401) { location.assign("/login"); return; }
  const who = await me.json();
  setReference(await ref.json());
  $("#operator").textContent = who.operator + (who.role === "supervisor" ? "（督办）" : "");
  $("#logout").addEventListener("click", async () => { await fetch("/api/room/logout", { method: "POST" }); location.assign("/login"); });
  setUpFilters(loadTickets);
  window.addEventListener("hashchange", navigate);
  navigate();
  startTicking();
  connect();
  watchDeadLetters();
}

start();
