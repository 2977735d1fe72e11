// The ticket list, filtered by unit, town, category, status (or queue) and text.
"use strict";
import { el, $, fill, unitName, townName, categoryName, reference, time, badge, STATUS, QUEUE, URGENCY, MARK } from "./dom.js";

function options(select, map, blank) {
  const current = select.value;
  fill(select, [el("option", { value: "", text: blank }), ...Object.entries(map).map(([code, name]) => el("option", { value: code, text: name }))]);
  select.value = current;
}

export function setUpFilters(onChange) {
  const ref = reference();
  const form = $("#filters");
  options(form.unit, ref.units, "全部单位");
  options(form.town, ref.towns, "全部属地");
  options(form.category, ref.categories, "全部分类");
  options(form.status, { ...QUEUE, ...STATUS }, "全部状态");
  let timer = null;
  const changed = () => { clearTimeout(timer); timer = setTimeout(onChange, 200); };
  form.addEventListener("input", changed);
  form.addEventListener("submit", (event) => { event.preventDefault(); onChange(); });
}

export function applyQuery(params) {
  const form = $("#filters");
  for (const name of ["unit", "town", "category", "status", "text"]) form[name].value = params.get(name) || "";
}

function row(t) {
  return el("tr", { dataset: { ticket: t.ticket_id }, class: t.mark ? "mark-" + t.mark : "" },
    el("td", {}, el("a", { href: "#/ticket/" + encodeURIComponent(t.ticket_id), text: t.ticket_id })),
    el("td", { text: time(t.received_at) }),
    el("td", {}, badge(STATUS[t.status] || t.status, "st-" + t.status), t.mark ? badge(MARK[t.mark], "kind-" + t.mark) : null),
    el("td", {}, badge(URGENCY[t.urgency] || t.urgency, "urg-" + t.urgency)),
    el("td", { text: categoryName(t.category) }),
    el("td", { text: townName(t.town) }),
    el("td", { text: t.lead ? unitName(t.lead) + (t.co.length ? " +" + t.co.length : "") : "—" }),
    el("td", { class: "text citizen-text", text: t.text }),
  );
}

export async function loadTickets() {
  const form = $("#filters");
  const params = new URLSearchParams();
  for (const name of ["unit", "town", "category", "status", "text"]) if (form[name].value) params.set(name, form[name].value);
  const response = await fetch("/api/room/tickets?" + params);
  if (!response.ok) return;
  const data = await response.json();
  fill($("#ticket-list tbody"), data.tickets.map(row));
  $("#ticket-count").textContent = data.tickets.length + " 件";
}
