"use strict";
// Citizens write these texts: every value goes in through textContent, never innerHTML.
const URGENCY = { normal: "一般", urgent: "紧急", emergency: "特急" };

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
}

function render(data) {
  const queues = document.querySelector("#queues tbody");
  queues.replaceChildren();
  for (const unit of data.units) {
    const manual = (unit.counts.manual || 0) + (unit.counts.received || 0);
    const dispatched = unit.counts.dispatched || 0;
    const row = document.createElement("tr");
    row.dataset.unit = unit.unit;
    cell(row, unit.unit === "hotline" ? "人工派单队列" : unit.name);
    cell(row, String(manual), "num");
    cell(row, String(dispatched), "num");
    cell(row, String(manual + dispatched), "num");
    queues.appendChild(row);
  }
  const recent = document.querySelector("#recent tbody");
  recent.replaceChildren();
  for (const t of data.recent) {
    const row = document.createElement("tr");
    row.dataset.ticket = t.ticket_id;
    cell(row, t.ticket_id);
    cell(row, t.lead_name);
    cell(row, t.category_name);
    cell(row, URGENCY[t.urgency] || t.urgency, t.urgency);
    cell(row, t.text, "text");
    recent.appendChild(row);
  }
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/api/queues");
    render(await response.json());
    status.textContent = "实时 · " + new Date().toLocaleTimeString("zh-CN");
    status.className = "ok";
  } catch (err) {
    status.textContent = "连接中断，重试中…";
    status.className = "down";
  }
}

refresh();
setInterval(refresh, 1000);
