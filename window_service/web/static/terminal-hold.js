/* 窗口叫号终端: 挂起 (hold) and 恢复办理 (resume), and 转移 to a named window or colleague.
 *
 * F10 holds the current ticket (the citizen fetches a copy; the window may call others); with
 * no current ticket it resumes the oldest held one. The held list (GET /api/v1/windows/{id}/held)
 * has a resume button per ticket. The transfer dialog (F8, static/terminal.js) gets a second list:
 * the other windows serving the ticket's service and the colleagues on duty there
 * (GET /api/v1/windows/{id}/transfer-targets), numbered after the services.
 * Uses Terminal (state, run) of terminal.js and the "terminal:state" event. */
import { $, t } from "./dom.js";
import { api, flash } from "./app.js";
import { Terminal } from "./terminal.js";

var holdButton = $("hold-button");
if (holdButton) start();

function start() {
  var held = [];
  var targets = null;
  var targetsAt = 0;
  var TARGETS_MAX_AGE_MS = 20000;

  function state() { return Terminal.state; }
  function windowPath(what) { return "/api/v1/windows/" + state().window.id + "/" + what; }

  /* ---------- held tickets ---------- */

  var heldTimer = null;
  function scheduleHeld() {
    if (heldTimer) clearTimeout(heldTimer);
    heldTimer = setTimeout(function () { heldTimer = null; loadHeld(); }, 150);
  }
  async function loadHeld() {
    try {
      held = (await api("GET", windowPath("held"))) || [];
    } catch (err) {
      return; // the waiting list shows connection problems
    }
    renderHeld();
  }

  function renderHeld() {
    var list = $("held");
    var free = !state().current;
    list.textContent = "";
    held.forEach(function (tk) {
      var li = document.createElement("li");
      li.className = "queue-item held-item";
      li.dataset.number = tk.number;
      var num = document.createElement("strong");
      num.className = "q-number";
      num.textContent = tk.number;
      var svc = document.createElement("span");
      svc.className = "q-service";
      svc.textContent = tk.service_name;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-ok";
      b.dataset.resume = String(tk.id);
      b.textContent = t("恢复办理");
      b.disabled = !free;
      b.title = free ? "" : t("请先办结、挂起或回队当前号票");
      b.addEventListener("click", function () { resume(tk); });
      li.append(num, svc, b);
      list.appendChild(li);
    });
    $("held-count").textContent = String(held.length);
    $("held-empty").hidden = held.length > 0;
    renderButton();
  }

  function renderButton() {
    var cur = state().current;
    var label = $("hold-label");
    if (cur) {
      label.textContent = t("挂起");
      holdButton.disabled = false;
    } else if (held.length) {
      label.textContent = t("恢复 %(n)s", { n: held[0].number });
      holdButton.disabled = false;
    } else {
      label.textContent = t("挂起");
      holdButton.disabled = true;
    }
  }

  function hold() {
    var cur = state().current;
    return Terminal.run(async function () {
      var tk = await api("POST", "/api/v1/tickets/" + cur.id + "/hold");
      flash(t("%(n)s 已挂起，可先叫下一位", { n: tk.number }), "info");
    });
  }
  function resume(tk) {
    return Terminal.run(async function () {
      var back = await api("POST", "/api/v1/tickets/" + tk.id + "/resume");
      flash(t("已恢复办理 %(n)s", { n: back.number }), "ok");
    });
  }

  holdButton.addEventListener("click", function () {
    if (state().current) hold();
    else if (held.length) resume(held[0]);
  });

  /* ---------- transfer to a window or colleague ---------- */

  async function loadTargets(force) {
    if (!force && targets && Date.now() - targetsAt < TARGETS_MAX_AGE_MS) return targets;
    try {
      targets = (await api("GET", windowPath("transfer-targets"))).windows;
      targetsAt = Date.now();
    } catch (err) {
      targets = targets || [];
    }
    return targets;
  }

  function choice(text, n, onPick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn";
    if (n <= 9) {
      var k = document.createElement("kbd");
      k.textContent = String(n);
      b.append(k, " ");
    }
    b.append(text);
    b.addEventListener("click", onPick);
    return b;
  }

  function renderTargets(cur) {
    var box = $("transfer-windows");
    box.textContent = "";
    // numbered after the services terminal.js lists (every active service but the ticket's)
    var n = state().all_services.filter(function (s) { return s.code !== cur.service; }).length;
    var windows = (targets || []).filter(function (w) { return w.services.indexOf(cur.service) >= 0; });
    windows.forEach(function (w) {
      n += 1;
      var name = t("%(n)s号窗口", { n: w.number }) + (w.name ? " · " + w.name : "");
      var b = choice(name, n, function () { transfer(cur, { window: w.number }, name); });
      b.dataset.window = String(w.number);
      box.appendChild(b);
    });
    windows.forEach(function (w) {
      if (!w.staff) return;
      n += 1;
      var name = t("同事 %(name)s（%(n)s号窗口）", { name: w.staff_name, n: w.number });
      var b = choice(name, n, function () { transfer(cur, { staff: w.staff }, w.staff_name); });
      b.dataset.staff = w.staff;
      box.appendChild(b);
    });
    $("transfer-windows-empty").hidden = windows.length > 0;
  }

  function transfer(cur, body, name) {
    document.querySelectorAll("dialog[open]").forEach(function (d) { d.close(); });
    return Terminal.run(async function () {
      var tk = await api("POST", "/api/v1/tickets/" + cur.id + "/transfer", body);
      flash(tk.number + " " + t("已转移到") + " " + name, "ok");
    });
  }

  // terminal.js opens the dialog on the same click (F8 clicks the button too)
  document.querySelector('[data-action="transfer"]').addEventListener("click", async function () {
    var cur = state().current;
    if (!cur) return;
    if (targets) renderTargets(cur);
    await loadTargets(false);
    if (state().current && state().current.id === cur.id) renderTargets(cur);
  });

  document.addEventListener("terminal:state", function () {
    renderButton();
    scheduleHeld();
  });
  loadHeld();
  loadTargets(true);
}
