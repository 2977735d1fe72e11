// DOM helpers. Citizens write the texts shown here: every value goes in through textContent
// (or an attribute), never through innerHTML.
"use strict";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function fill(container, children) {
  container.replaceChildren(...children);
}

// Reference names: codes from the wire, names for people.
const REF = { units: {}, towns: {}, categories: {}, jurisdiction: "" };
export function setReference(ref) {
  Object.assign(REF, ref);
}
export const unitName = (code) => (code ? REF.units[code] || code : "—");
export const townName = (code) => (code ? REF.towns[code] || code : "未定属地");
export const categoryName = (code) => (code ? REF.categories[code] || code : "—");
export const reference = () => REF;

export const STATUS = {
  received: "已受理", instant: "即办", transferred: "已转办", manual: "待人工派单",
  dispatched: "待签收", signed: "办理中", returned: "退单待审", completed: "待回访",
  dissatisfied: "不满意待处理", closed: "已销号",
};
export const QUEUE = {
  awaiting_sign: "待签收", in_progress: "办理中", at_risk: "即将超期", overdue: "已超期",
  awaiting_callback: "待回访",
};
export const URGENCY = { normal: "一般", urgent: "紧急", emergency: "特急" };
export const MARK = { at_risk: "预警", overdue: "超期", supervise: "督办" };
export const ALERT = {
  ...MARK, command_rejected: "指令被拒", security: "越权", undecodable_command: "无法解析", lag: "消费延迟",
  store_errors: "数据库错误", whistle: "吹哨", report_in: "报到",
};
export const CLOCK = { sign: "签收时限", on_scene: "到场时限", complete: "办结时限", callback: "回访时限", report_in: "报到时限" };
export const ASSIGNMENT = { dispatched: "待签收", signed: "已签收", reported: "已反馈", completed: "已办结", returned: "已退单" };
export const ROLE = { lead: "牵头", co: "协办" };

export function percent(rate) {
  return rate === null || rate === undefined ? "—" : (rate * 100).toFixed(1) + "%";
}

export function time(iso) {
  return iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "—";
}

export function badge(text, cls) {
  return el("span", { class: "badge " + (cls || ""), text });
}
