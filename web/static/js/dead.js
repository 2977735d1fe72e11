// The dead-letter panel: messages an agent could not process, set aside on dead.letters.
"use strict";

import { $, el, fill } from "./dom.js";

const AGENTS = {
  take_in_appeals: "诉求受理",
  handle_ticket_commands: "工单指令处理",
  take_in_unit_actions: "承办单位操作受理",
  fan_out_work_orders: "工单派发",
  record_ticket_events: "工单入库",
  record_rejections: "拒收记录入库",
  record_dead_letters: "死信入库",
  index_ticket_clocks: "时限跟踪",
  signal_clusters: "多人反映识别",
  detect_clusters: "多人反映合并",
};
const REASONS = {
  undecodable: "无法解析",
  contract_violation: "不符合接口规范",
  unfoldable: "与工单记录不衔接",
  unstorable: "数据库无法保存",
  too_large: "超过消息大小上限",
  processing_error: "处理出错",
};

export async function loadDeadLetters() {
  const response = await fetch("/api/room/dead-letters").catch(() => null);
  if (!response || !response.ok) return;
  const { total, letters } = await response.json();
  $("#dead-count").textContent = String(total);
  $("#dead-count").classList.toggle("alarm", total > 0);
  fill(
    $("#dead-letters"),
    letters.map((d) =>
      el(
        "li",
        { class: "warning", title: d.error },
        el("time", { text: new Date(d.dead_at).toLocaleTimeString("zh-CN", { hour12: false }) }),
        ` ${AGENTS[d.agent] || d.agent} · ${REASONS[d.reason] || d.reason} · ${d.source.topic} #${d.source.offset}`,
      ),
    ),
  );
}

export function watchDeadLetters(everyMs = 15000) {
  loadDeadLetters();
  setInterval(loadDeadLetters, everyMs);
}
