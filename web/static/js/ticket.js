// One ticket: its appeal, units and their sub-states, limits counting down, whistles,
// callbacks and the timeline of its events.
"use strict";
import { el, $, fill, unitName, townName, categoryName, time, badge, STATUS, URGENCY, MARK, CLOCK, ASSIGNMENT, ROLE } from "./dom.js";
import { tick } from "./clock.js";

const EVENT = {
  ticket_received: "受理", ticket_dispatched: "派单", ticket_answered_instantly: "即办办结", ticket_transferred: "转办",
  ticket_queued_for_manual_dispatch: "转人工派单", duplicate_received: "重复诉求", command_rejected: "指令被拒",
  order_signed: "签收", order_returned: "退单", return_denied: "退单不予认可", ticket_redispatched: "改派",
  extension_requested: "申请延期", extension_granted: "批准延期", extension_denied: "不予延期", progress_noted: "进展反馈",
  part_reported: "协办反馈", ticket_completed: "办结", callback_recorded: "回访", ticket_reworked: "发回重办",
  demand_judged_unreasonable: "诉求不合理", appeal_merged: "合并诉求", caller_withheld: "声明保密", ticket_closed: "销号",
  limit_at_risk: "预警", limit_overdue: "超期", ticket_supervised: "督办", whistle_blown: "吹哨", unit_reported_in: "报到",
};
const UNIT_KEYS = new Set(["lead", "unit", "suggested_unit", "transfer_to", "co", "units", "co_outstanding"]);
const KEY = {
  by: "派单方式", lead: "牵头", co: "协办", town: "属地", urgency: "紧急程度", category: "分类", kind: "时限", unit: "单位",
  due_at: "到期", operator: "操作人", reason: "原因", reason_code: "原因类别", suggested_unit: "建议单位", note: "说明",
  reply: "答复", outcome: "结果", attempt: "第几次", extra: "申请", requested: "申请", granted: "批准", report: "反馈",
  units: "被叫单位", trigger: "触发", resolution: "销号方式", merged_into: "并入", source_ticket_id: "来源工单",
  command_type: "指令", violation: "类别", actor: "发出者", transfer_to: "转至", channel: "渠道", co_outstanding: "未反馈协办",
  rework_count: "重办次数", role: "角色", score: "相似度", received_at: "时间", source_id: "来源编号",
  answer: "当场答复", entry_id: "知识库条目", source: "政策依据",
};
const HIDDEN = new Set(["clock", "limit_version", "mark_at", "whistle_id", "final", "capped"]);
export const OUTCOME = { satisfied: "满意", basically_satisfied: "基本满意", no_comment: "不作评价", dissatisfied: "不满意", unreachable: "未联系上" };
const TRIGGER = { town: "属地吹哨", co_units: "多部门协同", lacks_power: "属地无执法权", overdue: "超期自动吹哨", cluster: "多人反映" };
const VALUE = { by: { router: "路由自动", person: "人工" }, urgency: URGENCY, outcome: OUTCOME, role: ROLE, kind: CLOCK, trigger: TRIGGER };

function shown(key, value) {
  if (UNIT_KEYS.has(key)) return Array.isArray(value) ? value.map(unitName).join("、") : unitName(value);
  if (key === "town") return townName(value);
  if (key === "category") return categoryName(value);
  if (VALUE[key] && VALUE[key][value]) return VALUE[key][value];
  if (/_at$/.test(key)) return time(value);
  if (Array.isArray(value)) return value.join("、");
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function detail(key, value) {
  if (HIDDEN.has(key) || value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return null;
  return el("span", { class: "detail" }, el("i", { text: (KEY[key] || key) + "：" }), shown(key, value));
}

function clockRow(c) {
  const fired = c.fired.map((m) => badge(MARK[m] || m, "kind-" + m));
  return el("tr", {},
    el("th", { scope: "row", text: (CLOCK[c.kind] || c.kind) + (c.unit ? " · " + unitName(c.unit) : "") }),
    el("td", { text: c.limit + (c.extensions.length ? "（延期 " + c.extensions.join("+") + "）" : "") }),
    el("td", { text: time(c.warn_at) }),
    el("td", { text: time(c.due_at) }),
    el("td", {}, el("span", { class: "countdown", dataset: { due: c.due_at, warn: c.warn_at } })),
    el("td", {}, fired),
  );
}

// 声明保密: from now on units and the public see no caller, whatever triage read.
function confidentialForm(t) {
  if (t.triage && t.triage.caller_withheld) return null;
  const reason = el("input", { name: "reason", maxlength: "500", placeholder: "原因，如：来电人担心被报复" });
  const button = el("button", { type: "submit", text: "声明来电人保密" });
  const note = el("span", { class: "dispatch-note" });
  const form = el("form", { class: "confidential" }, reason, button, note);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) { note.textContent = "请填写原因"; return; }
    button.disabled = true;
    note.textContent = "提交中…";
    try {
      const response = await fetch("/api/room/tickets/" + encodeURIComponent(t.ticket_id) + "/confidential", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ reason: reason.value.trim() }),
      });
      const answer = await response.json();
      note.textContent = response.status === 202 ? "已提交，等待工单确认…" : "未能提交：" + (answer.error || response.status);
      if (response.status !== 202) button.disabled = false;
    } catch (err) {
      button.disabled = false;
      note.textContent = "网络中断，请重试";
    }
  });
  return form;
}

function section(title, ...content) {
  return el("section", { class: "panel" }, el("h2", { text: title }), ...content);
}

export function renderTicket(t) {
  const page = $("#ticket-page");
  const head = el("div", { class: "ticket-head" },
    el("h1", { text: "工单 " + t.ticket_id }),
    badge(STATUS[t.status] || t.status, "st-" + t.status),
    badge(URGENCY[t.urgency] || t.urgency, "urg-" + t.urgency),
    t.mark ? badge(MARK[t.mark], "kind-" + t.mark) : null,
    el("span", { class: "muted", text: categoryName(t.category) + " · " + townName(t.town) + " · 受理于 " + time(t.received_at) }));
  const appeal = section("诉求内容",
    el("p", { class: "citizen-text big", text: t.text }),
    el("p", { class: "muted", text: "地址：" + (t.address || "—") + "　来电人：" + (t.caller ? [t.caller.name, t.caller.phone].filter(Boolean).join(" ") || "匿名" : "举报人信息保密") }),
    t.reply ? el("p", {}, el("b", { text: "办理结果：" }), el("span", { class: "citizen-text", text: t.reply })) : null,
    confidentialForm(t));
  const units = section("承办单位",
    el("table", {}, el("tbody", {}, t.assignments.map((a) => el("tr", {},
      el("th", { scope: "row", text: unitName(a.unit) }), el("td", { text: ROLE[a.role] || a.role }),
      el("td", {}, badge(ASSIGNMENT[a.status] || a.status, "as-" + a.status)), el("td", { text: "自 " + time(a.since) }))))),
    t.pending_return ? el("p", { class: "warn", text: "退单待审：" + unitName(t.pending_return.unit) + " — " + t.pending_return.reason }) : null,
    t.pending_extension ? el("p", { class: "warn", text: "延期申请：" + unitName(t.pending_extension.unit) + " 申请 " + t.pending_extension.extra + " — " + t.pending_extension.reason }) : null);
  const clocks = section("时限",
    t.clocks.length
      ? el("table", { class: "clocks" }, el("thead", {}, el("tr", {}, ["时限", "规定", "预警时间", "到期时间", "倒计时", "标记"].map((h) => el("th", { text: h })))),
          el("tbody", {}, t.clocks.map(clockRow)))
      : el("p", { class: "muted", text: "当前没有运行中的时限" }));
  const whistles = section("吹哨报到", t.whistles.length ? el("ul", {}, t.whistles.map((w) => el("li", {},
    el("b", { text: townName(w.town) + " 吹哨（" + time(w.blown_at) + "）：" }), el("span", { text: w.reason + " " }),
    w.units.map((u) => badge(unitName(u) + (w.reported.includes(u) ? " 已报到" : w.late.includes(u) ? " 报到超时" : " 待报到"),
      w.reported.includes(u) ? "as-completed" : w.late.includes(u) ? "kind-overdue" : "kind-at_risk"))))) : el("p", { class: "muted", text: "未吹哨" }));
  const callbacks = section("回访", t.callbacks.length ? el("ul", {}, t.callbacks.map((c) =>
    el("li", { text: (c.citizen === t.intake_key ? "来电人" : "合并市民") + "：" + (OUTCOME[c.outcome] || c.outcome) + "（第 " + c.attempts + " 次" + (c.final ? "，已完成" : "") + "）" }))) : el("p", { class: "muted", text: "尚未回访" }));
  const timeline = section("事件时间线", el("ol", { class: "timeline" }, t.timeline.map((e) => el("li", { class: "ev-" + e.type },
    el("time", { text: time(e.occurred_at) }), badge(EVENT[e.type] || e.type, "ev"),
    Object.entries(e.details).map(([k, v]) => detail(k, v))))));
  fill(page, [head, el("div", { class: "ticket-grid" }, el("div", {}, appeal, units, whistles, callbacks), el("div", {}, clocks, timeline))]);
  tick(page);
}

export async function loadTicket(id) {
  const response = await fetch("/api/room/tickets/" + encodeURIComponent(id));
  if (!response.ok) {
    fill($("#ticket-page"), [el("p", { class: "empty", text: response.status === 404 ? "没有这张工单" : "暂时无法读取工单" })]);
    return;
  }
  renderTicket(await response.json());
}
