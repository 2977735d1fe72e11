// Live countdowns: any element with data-due (and data-warn) counts down once a second,
// corrected by the server's clock (each board carries the server's time).
"use strict";

let skewMs = 0;

export function syncServerTime(iso) {
  if (iso) skewMs = new Date(iso).getTime() - Date.now();
}

export function serverNow() {
  return Date.now() + skewMs;
}

export function duration(ms) {
  const s = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d > 0) return `${d}天${h}时${m}分`;
  if (h > 0) return `${h}时${String(m).padStart(2, "0")}分`;
  return `${m}分${String(sec).padStart(2, "0")}秒`;
}

export function tick(root = document) {
  const now = serverNow();
  for (const node of root.querySelectorAll("[data-due]")) {
    const due = new Date(node.dataset.due).getTime();
    const warn = node.dataset.warn ? new Date(node.dataset.warn).getTime() : due;
    const left = due - now;
    node.textContent = left >= 0 ? "剩 " + duration(left) : "超 " + duration(left);
    node.classList.toggle("late", left < 0);
    node.classList.toggle("warn", left >= 0 && now >= warn);
  }
}

export function startTicking() {
  setInterval(() => tick(), 1000);
}
