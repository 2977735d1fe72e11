// The manual-dispatch queue: the router's suggestion and why, dispatched in one click.
"use strict";
import { el, fill, unitName, townName, categoryName, reference, time, badge, URGENCY } from "./dom.js";

const submitted = new Map(); // ticket id → version sent, so a re-render keeps the button's state

function options(map, selected, blank) {
  const list = blank ? [el("option", { value: "", text: blank })] : [];
  for (const [code, name] of Object.entries(map)) {
    list.push(el("option", { value: code, text: name, selected: code === selected }));
  }
  return list;
}

async function dispatch(item, form, button, note) {
  const co = [...form.querySelectorAll("input[name=co]:checked")].map((box) => box.value);
  const body = {
    lead: form.lead.value,
    co: co.filter((unit) => unit !== form.lead.value),
    category: form.category.value || null,
    town: form.town.value || null,
    version: item.version,
  };
  button.disabled = true;
  note.textContent = "提交中…";
  try {
    const response = await fetch("/api/room/tickets/" + encodeURIComponent(item.ticket_id) + "/dispatch", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (response.status === 202) {
      submitted.set(item.ticket_id, item.version);
      note.textContent = "已派单至 " + unitName(body.lead) + "，等待工单确认…";
    } else {
      button.disabled = false;
      note.textContent = "未能派单：" + (answer.error || response.status);
    }
  } catch (err) {
    button.disabled = false;
    note.textContent = "网络中断，请重试";
  }
}

function card(item, brief) {
  const ref = reference();
  const lead = item.suggested_lead || "";
  const co = new Set(item.suggested_co || []);
  const note = el("span", { class: "dispatch-note" });
  const sent = submitted.get(item.ticket_id) === item.version;
  const button = el("button", { type: "submit", class: "dispatch", text: "一键派单", disabled: sent || !lead });
  if (sent) note.textContent = "已派单，等待工单确认…";
  const coBoxes = [...co].map((unit) =>
    el("label", { class: "chip" }, el("input", { type: "checkbox", name: "co", value: unit, checked: true }), unitName(unit)),
  );
  const form = el("form", { class: "dispatch-form" },
    el("label", {}, "牵头 ", el("select", { name: "lead", required: true }, options(ref.units, lead, "请选择承办单位"))),
    el("label", {}, "属地 ", el("select", { name: "town" }, options(ref.towns, item.town || item.town_candidates[0] || "", "不指定"))),
    el("label", {}, "分类 ", el("select", { name: "category" }, options(ref.categories, item.category, null))),
    coBoxes.length ? el("span", { class: "co" }, "协办 ", coBoxes) : null,
    button, note,
  );
  form.addEventListener("change", () => { button.disabled = !form.lead.value; });
  form.addEventListener("submit", (event) => { event.preventDefault(); dispatch(item, form, button, note); });
  return el("li", { class: "manual-card urgency-" + item.urgency, dataset: { ticket: item.ticket_id } },
    el("div", { class: "manual-head" },
      badge(URGENCY[item.urgency] || item.urgency, "urg-" + item.urgency),
      el("a", { href: "#/ticket/" + encodeURIComponent(item.ticket_id), text: item.ticket_id }),
      el("time", { text: time(item.received_at) }),
      el("span", { class: "muted", text: categoryName(item.category) + " · " + townName(item.town) })),
    el("p", { class: "citizen-text", text: item.text }),
    el("div", { class: "suggestion" },
      el("b", { text: "路由建议：" }),
      el("span", { text: lead ? unitName(lead) + (co.size ? "（协办 " + [...co].map(unitName).join("、") + "）" : "") : "无把握，请人工判断" }),
      el("span", { class: "muted", text: " 置信度 " + Math.round(item.confidence * 100) + "%" })),
    el("ul", { class: "explanation" },
      item.reason ? el("li", { text: "转人工原因：" + item.reason }) : null,
      lines(item, brief).map((line) => el("li", { text: line })),
      item.town_candidates.length > 1 ? el("li", { text: "可能属地：" + item.town_candidates.map(townName).join("、") }) : null),
    form,
  );
}

function lines(item, brief) {
  const all = [...item.explanation, ...item.suggestion];
  // The wall shows the gist (what was recognised, where it may be, the route suggested); the desk all.
  return brief ? all.filter((line) => /^(分类|属地|按分类|候选属地)/.test(line)).slice(0, 4) : all;
}

export function renderManual(container, board, limit) {
  const items = limit ? board.manual.slice(0, limit) : board.manual;
  // Keep a form the operator is editing: only rebuild when the queue itself changed.
  const signature = items.map((i) => i.ticket_id + ":" + i.version).join(",");
  if (container.dataset.signature === signature) return;
  container.dataset.signature = signature;
  fill(container, items.length ? items.map((item) => card(item, Boolean(limit))) : [el("li", { class: "empty", text: "人工派单队列为空" })]);
}
