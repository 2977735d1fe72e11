// The operator's desk (坐席): live triage and knowledge-base answers as the operator types, the
// caller's history by phone, and 当场答复 / 派单 / 转办. Every value goes in with textContent.
"use strict";
import { $, el, fill, time } from "./dom.js";

const DEBOUNCE_MS = 300;
let chosen = null; // the knowledge-base entry whose answer the operator adopted
let triageSeq = 0;
let historySeq = 0;

function debounce(fn) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, DEBOUNCE_MS); };
}

function options(select, items, first) {
  const rows = first ? [el("option", { value: "", text: first })] : [];
  fill(select, rows.concat(items.map((item) => el("option", { value: item.code, text: item.name }))));
}

const nameOf = (item) => (item ? item.name : "—");

function renderTriage(answer) {
  const t = answer.triage;
  const lead = t.lead ? nameOf(t.lead) + (t.lead_suggested ? "（建议）" : "") : "—";
  const rows = [
    ["类别", nameOf(t.category)],
    ["诉求类型", nameOf(t.appeal_type)],
    ["紧急程度", nameOf(t.urgency)],
    ["属地", t.town ? t.town.name : (t.town_candidates.length ? "可能：" + t.town_candidates.map(nameOf).join("、") : "未定属地")],
    ["主办单位", lead],
    ["协办单位", t.co.length ? t.co.map(nameOf).join("、") : "—"],
    ["分拣建议", nameOf(t.disposition) + (t.transfer_to ? "：" + t.transfer_to.name : "")],
    ["置信度", (t.confidence * 100).toFixed(0) + "%"],
  ];
  fill($("#triage"), rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  fill($("#explanation"), t.explanation.concat(t.suggestion).map((line) => el("li", { text: line })));
  renderKb(answer.kb, answer.kb_available);
}

function renderKb(matches, available) {
  if (!matches.length) {
    fill($("#kb"), [el("li", { class: "empty", text: available ? "知识库中没有匹配的答复" : "知识库未接入" })]);
    return;
  }
  fill($("#kb"), matches.map((m) => el("li", { class: "kb-item" + (m.current ? "" : " stale") },
    el("h4", {},
      el("span", { text: m.title }),
      m.current ? null : el("span", { class: "badge stale", text: "已过期" }),
      el("button", { type: "button", class: "adopt", text: "采用此答复", onclick: () => adopt(m) })),
    el("p", { class: "kb-answer", text: m.answer }),
    el("p", { class: "kb-meta", text: "政策依据：" + m.source }),
    el("p", { class: "kb-meta", text: "匹配原因：" + (m.why.length ? m.why.join("、") : "—") + (m.unit_name ? " · " + m.unit_name : "") }),
  )));
}

function adopt(match) {
  $("#answer").value = match.answer;
  chosen = { entry_id: match.entry_id, source: match.source };
  $("#answer-source").textContent = "采用知识库：" + match.title + "（" + match.source + "）";
}

async function triage() {
  const text = $("#text").value;
  if (!text.trim()) { fill($("#triage"), []); fill($("#explanation"), []); fill($("#kb"), []); $("#triage-state").textContent = ""; return; }
  const seq = ++triageSeq;
  $("#triage-state").textContent = "分拣中…";
  const response = await fetch("/api/desk/triage", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text, address: $("#address").value, channel: $("#channel").value }),
  }).catch(() => null);
  if (seq !== triageSeq) return; // a newer text is being triaged
  if (!response || !response.ok) {
    const answer = response ? await response.json().catch(() => ({})) : {};
    $("#triage-state").textContent = answer.error || "分拣暂不可用";
    return;
  }
  renderTriage(await response.json());
  $("#triage-state").textContent = "已更新";
}

async function history() {
  const phone = $("#phone").value.trim();
  const seq = ++historySeq;
  const summary = $("#history-summary");
  if (phone.length < 5) { fill($("#history tbody"), []); $("#repeat").hidden = true; summary.textContent = "输入来电号码后显示"; return; }
  const response = await fetch("/api/desk/history?phone=" + encodeURIComponent(phone)).catch(() => null);
  if (seq !== historySeq) return;
  const answer = response ? await response.json().catch(() => ({})) : {};
  if (!response || !response.ok) { summary.textContent = answer.error || "查询失败"; return; }
  $("#repeat").hidden = !answer.repeat_call;
  summary.textContent = answer.tickets.length
    ? `共 ${answer.tickets.length} 件` + (answer.last_satisfaction ? `，最近评价：${answer.last_satisfaction.name}` : "")
    : "该号码没有历史工单";
  fill($("#history tbody"), answer.tickets.map((t) => el("tr", {},
    el("td", { text: t.ticket_id }), el("td", { text: time(t.received_at) }), el("td", { text: nameOf(t.category) }),
    el("td", { text: nameOf(t.status) }), el("td", { text: t.last_callback ? t.last_callback.name : "—" }))));
}

function decision(action) {
  if (action === "answer") {
    const answer = { text: $("#answer").value };
    if (chosen) Object.assign(answer, chosen);
    return { action, answer };
  }
  if (action === "transfer") return { action, transfer_to: $("#transfer-to").value };
  const found = { action };
  for (const [field, id] of [["lead", "#fix-lead"], ["category", "#fix-category"], ["town", "#fix-town"], ["urgency", "#fix-urgency"]]) {
    if ($(id).value) found[field] = $(id).value;
  }
  return found;
}

async function submit(action) {
  const result = $("#result");
  const name = $("#caller-name").value.trim(), phone = $("#phone").value.trim();
  const body = {
    channel: $("#channel").value, address: $("#address").value, text: $("#text").value,
    caller: { name: name || null, phone: phone || null }, decision: decision(action),
  };
  for (const button of document.querySelectorAll("button.act")) button.disabled = true;
  result.className = ""; result.textContent = "提交中…";
  try {
    const response = await fetch("/api/desk/appeals", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (response.status !== 202) { result.className = "error"; result.textContent = answer.message || answer.error || "提交失败"; return; }
    const ticket = answer.ticket_id || await follow(answer.follow_url);
    result.className = "ok";
    result.textContent = { answer: "已当场答复", dispatch: "已派单", transfer: "已转办" }[action]
      + (ticket ? "，工单号 " + ticket : "，受理编号 " + answer.intake_key + "（工单号稍后生成）");
    clearForm();
  } finally {
    for (const button of document.querySelectorAll("button.act")) button.disabled = false;
  }
}

async function follow(url) {
  for (let i = 0; i < 5; i++) {
    const response = await fetch(url).catch(() => null);
    if (response && response.ok) return (await response.json()).ticket_id;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return null;
}

function clearForm() {
  for (const id of ["#phone", "#caller-name", "#address", "#text", "#answer"]) $(id).value = "";
  for (const id of ["#fix-lead", "#fix-category", "#fix-town", "#fix-urgency"]) $(id).value = "";
  $("#channel").value = "phone";
  chosen = null;
  $("#answer-source").textContent = "";
  triageSeq++; historySeq++;
  for (const id of ["#triage", "#explanation", "#kb", "#history tbody"]) fill($(id), []);
  $("#repeat").hidden = true;
  $("#history-summary").textContent = "输入来电号码后显示";
  $("#triage-state").textContent = "";
}

async function start() {
  const [me, ref] = await Promise.all([fetch("/api/desk/me"), fetch("/api/desk/reference")]);
  if (me.status === 401) { location.assign("/login"); return; }
  const who = await me.json();
  const reference = await ref.json();
  $("#operator").textContent = who.operator + (who.role === "operator" ? "（坐席）" : "");
  $("#room-link").hidden = who.role === "operator";
  options($("#channel"), reference.channels);
  $("#channel").value = "phone";
  options($("#fix-lead"), reference.units, "主办单位：按分拣");
  options($("#fix-category"), reference.categories, "类别：按分拣");
  options($("#fix-town"), reference.towns, "属地：按分拣");
  options($("#fix-urgency"), reference.urgencies, "紧急程度：按分拣");
  options($("#transfer-to"), reference.transfer_targets);
  const retriage = debounce(triage);
  for (const id of ["#text", "#address"]) $(id).addEventListener("input", retriage);
  $("#channel").addEventListener("change", retriage);
  $("#phone").addEventListener("input", debounce(history));
  $("#do-answer").addEventListener("click", () => {
    if (!$("#answer").value.trim()) { $("#result").className = "error"; $("#result").textContent = "当场答复须填写答复内容"; return; }
    submit("answer");
  });
  $("#do-dispatch").addEventListener("click", () => submit("dispatch"));
  $("#do-transfer").addEventListener("click", () => submit("transfer"));
  $("#answer").addEventListener("input", () => { if (!$("#answer").value.trim()) { chosen = null; $("#answer-source").textContent = ""; } });
  $("#logout").addEventListener("click", async () => { await fetch("/api/room/logout", { method: "POST" }); location.assign("/login"); });
}

start();
