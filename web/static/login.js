"use strict";
const form = document.getElementById("login");
const message = document.getElementById("message");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "登录中…";
  const response = await fetch("/api/room/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: form.name.value, secret: form.secret.value }),
  });
  if (response.ok) {
    location.assign("/");
  } else {
    const answer = await response.json().catch(() => ({}));
    message.textContent = answer.error || "登录失败";
    form.secret.select();
  }
});
