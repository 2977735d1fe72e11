// The wall screen: queues per unit and per town, today's figures, alerts, whistles,
// clusters and repeat callers, the worst units.
"use strict";
import { el, $, fill, unitName, townName, categoryName, percent, time, badge, QUEUE, ALERT } from "./dom.js";
import { tick } from "./clock.js";

const COLUMNS = ["awaiting_sign", "in_progress", "at_risk", "overdue", "awaiting_callback"];

function countCell(count, queue, filter) {
  const cls = "num q-" + queue + (count > 0 ? " some" : "");
  const link = el("a", { href: "#/tickets?" + new URLSearchParams({ ...filter, status: queue }), text: count });
  return el("td", { class: cls }, link);
}

function queueTable(rows, keyName, nameOf, filterKey) {
  return rows.map((row) =>
    el("tr", { dataset: { [keyName]: row.key || "none" } },
      el("th", { scope: "row", text: nameOf(row.key) }),
      COLUMNS.map((q) => countCell(row.counts[q], q, { [filterKey]: row.key })),
    ),
  );
}

function tiles(board) {
  const r = board.rates;
  const items = [
    ["在办工单", board.open_total, ""],
    ["今日受理", r.received, ""],
    ["今日派单", r.dispatched, ""],
    ["今日即办", r.answered, ""],
    ["今日办结", r.completed, ""],
    ["办结率", percent(r.completion_rate), ""],
    ["按期办结率", percent(r.on_time_rate), ""],
    ["满意率", percent(r.satisfaction_rate), ""],
    ["人工待派", board.manual_total, board.manual_total ? "alert" : ""],
    ["退单待审", board.returned_total, board.returned_total ? "warn" : ""],
    ["延期待批", board.extensions_pending, ""],
  ];
  return items.map(([label, value, cls]) =>
    el("div", { class: "tile " + cls }, el("div", { class: "tile-value", text: value }), el("div", { class: "tile-label", text: label })),
  );
}

function alertRow(alert) {
  return el("li", { class: "alert sev-" + alert.severity, dataset: { alert: alert.alert_id } },
    el("time", { text: time(alert.raised_at) }),
    badge(ALERT[alert.kind] || alert.kind, "kind-" + alert.kind),
    alert.ticket_id ? el("a", { href: "#/ticket/" + encodeURIComponent(alert.ticket_id), text: alert.ticket_id }) : null,
    el("span", { class: "msg", text: alert.message }),
  );
}

function whistleRow(w) {
  return el("li", { class: "whistle", dataset: { ticket: w.ticket_id } },
    el("div", { class: "whistle-head" },
      badge("吹哨", "kind-whistle"),
      el("a", { href: "#/ticket/" + encodeURIComponent(w.ticket_id), text: w.ticket_id }),
      el("span", { text: " " + townName(w.town) + " · " + w.reason })),
    el("div", { class: "whistle-units" },
      w.units.map((u) => el("span", { class: "wunit" + (u.reported ? " done" : "") + (u.late ? " late" : "") },
        unitName(u.unit) + (u.reported ? " ✓已报到" : " "),
        !u.reported && u.due_at ? el("span", { class: "countdown", dataset: { due: u.due_at } }) : null,
      )),
    ),
  );
}

function clusterRow(c) {
  const first = c.ticket_ids[0];
  return el("li", {},
    badge(c.merged ? "已合并" : "多人反映", "kind-cluster"),
    el("b", { text: c.size + " 件 " }),
    el("span", { text: townName(c.town) + " · " + categoryName(c.category) + " " }),
    el("a", { href: "#/tickets?" + new URLSearchParams({ town: c.town, category: c.category }), text: "查看" }),
    first ? el("span", { class: "muted", text: " 最近 " + time(c.last_received_at) }) : null,
  );
}

function repeatRow(r) {
  return el("li", {},
    badge("重复来电", "kind-repeat"),
    el("b", { text: r.phone_masked + " " }),
    el("span", { text: r.count + " 次 · " + r.categories.map(categoryName).join("、") + " " }),
    el("a", { href: "#/ticket/" + encodeURIComponent(r.ticket_ids[0]), text: r.ticket_ids[0] }),
  );
}

function worstRow(s, i) {
  return el("tr", {},
    el("td", { class: "rank", text: i + 1 }),
    el("th", { scope: "row", text: unitName(s.unit) }),
    el("td", { class: "num q-overdue" + (s.overdue ? " some" : ""), text: s.overdue }),
    el("td", { class: "num q-at_risk" + (s.at_risk ? " some" : ""), text: s.at_risk }),
    el("td", { class: "num", text: s.open }),
    el("td", { class: "num", text: percent(s.on_time_rate) }),
  );
}

function empty(text) {
  return el("li", { class: "empty", text });
}

export function renderBoard(board) {
  fill($("#tiles"), tiles(board));
  fill($("#queues tbody"), queueTable(board.units, "unit", unitName, "unit"));
  fill($("#towns tbody"), queueTable(board.towns, "town", townName, "town"));
  fill($("#alerts"), board.alerts.length ? board.alerts.map(alertRow) : [empty("暂无告警")]);
  fill($("#whistles"), board.whistles.length ? board.whistles.map(whistleRow) : [empty("没有等待报到的吹哨")]);
  fill($("#clusters"), [...board.clusters.map(clusterRow), ...board.repeat_callers.map(repeatRow)]);
  if (!board.clusters.length && !board.repeat_callers.length) fill($("#clusters"), [empty("暂无多人反映或重复来电")]);
  fill($("#worst tbody"), board.worst_units.map(worstRow));
  $("#alert-count").textContent = board.alerts.length;
  $("#whistle-count").textContent = board.whistles.length;
  tick($("#wall"));
}

export { COLUMNS, QUEUE };
