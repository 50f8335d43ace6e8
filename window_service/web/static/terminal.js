/* 窗口叫号终端: the staff member's window, its current ticket and its waiting list, live.
 *
 * Extension point (cases area, templates/terminal_case_actions.html), import { Terminal }
 * from "./terminal.js":
 *   Terminal.state          -> {hall, window, current, recall_limit, ...} (GET /terminal/state)
 *   Terminal.refresh()      -> re-read the state and the waiting list now
 *   document "terminal:state" event, detail = the new state, after every refresh
 *   Terminal.run(fn)        -> runs an async action with the busy state and shows its
 *                                    ApiError (409 …) in Chinese, then refreshes
 *   Terminal.shortcut("F6", button) -> bind another function key to a button
 */
import { $, t } from "./dom.js";
import { api, flash, fmtTime, liveSocket, showError } from "./app.js";

var initial = JSON.parse(document.getElementById("terminal-state").textContent);
var state = initial;
var queue = [];
var busy = false;

var WINDOW_STATUS = { open: t("服务中"), paused: t("暂停中"), closed: t("已关闭") };
var STATUS = {
  waiting: t("等候中"), called: t("已叫号"), serving: t("办理中"), done: t("已办结"),
  no_show: t("过号"), cancelled: t("已取消"), expired: t("已过期")
};
var PRIORITY = {
  elderly: t("70岁以上老人"), disabled: t("残疾人"), pregnant: t("孕妇"), military: t("军人"),
  appointment: t("预约")
};
function button(action) { return document.querySelector('[data-action="' + action + '"]'); }

/* ---------- rendering ---------- */

function render() {
  var w = state.window;
  var cur = state.current;
  $("window-number").textContent = w.number;
  var ws = $("window-status");
  ws.textContent = WINDOW_STATUS[w.status] || w.status;
  ws.className = "badge badge-" + w.status;
  ws.dataset.status = w.status;
  document.body.classList.toggle("is-paused", w.status !== "open");
  $("pause-label").textContent = w.status === "open" ? t("暂停服务") : t("恢复服务");

  var box = $("current");
  box.dataset.status = cur ? cur.status : "none";
  $("current-number").textContent = cur ? cur.number : "—";
  $("current-status").textContent = cur ? (STATUS[cur.status] || cur.status_label) : "";
  $("current-status").hidden = !cur;
  $("current-service").textContent = cur ? cur.service_name : "";
  var pr = $("current-priority");
  pr.hidden = !(cur && cur.priority);
  pr.textContent = cur && cur.priority ? t("绿色通道") + " · " + (PRIORITY[cur.priority] || cur.priority) : "";
  var times = [];
  if (cur && cur.called_at) times.push(t("叫号于") + " " + fmtTime(cur.called_at));
  if (cur && cur.started_at) times.push(t("开始于") + " " + fmtTime(cur.started_at));
  $("current-called").textContent = times.join(" · ");
  var recalls = cur ? cur.recalls + "/" + state.recall_limit : "";
  $("current-recalls").textContent = cur && cur.status === "called" ? t("已重呼") + " " + recalls : "";
  $("recall-count").textContent = cur && cur.status === "called" ? "(" + recalls + ")" : "";
  $("current-empty").hidden = !!cur;

  if (noShowArmed !== null && !(cur && cur.id === noShowArmed && cur.status === "called")) disarmNoShow();
  var s = cur ? cur.status : null;
  var enabled = {
    call: !cur && w.status === "open",
    recall: s === "called", // past the limit the server says why (409)
    start: s === "called",
    finish: s === "serving",
    "no-show": s === "called",
    "return": s === "called",
    transfer: !!cur,
    pause: true
  };
  Object.keys(enabled).forEach(function (a) {
    var b = button(a);
    if (b) b.disabled = busy || !enabled[a];
  });

  var list = $("queue");
  list.textContent = "";
  queue.forEach(function (tk, i) {
    var li = document.createElement("li");
    li.className = "queue-item" + (tk.priority ? " is-green" : "");
    li.dataset.number = tk.number;
    var pos = document.createElement("span");
    pos.className = "q-pos";
    pos.textContent = String(i + 1);
    var num = document.createElement("strong");
    num.className = "q-number";
    num.textContent = tk.number;
    var svc = document.createElement("span");
    svc.className = "q-service";
    svc.textContent = tk.service_name;
    var extra = document.createElement("span");
    extra.className = "q-extra";
    var waited = minutesSince(tk.queued_at);
    var target = targets[tk.service] || 20;
    extra.textContent = (tk.priority ? t("绿色通道") + " · " + (PRIORITY[tk.priority] || "") + " · " : "") +
      t("取号") + " " + fmtTime(tk.queued_at) + " · " + t("已等 %(n)s 分钟", { n: waited });
    if (waited > target) {
      li.classList.add("is-late");
      li.title = t("已超过等候时限 %(n)s 分钟", { n: target });
    }
    li.append(pos, num, svc, extra);
    list.appendChild(li);
  });
  $("queue-count").textContent = String(queue.length);
  $("queue-empty").hidden = queue.length > 0;
  document.dispatchEvent(new CustomEvent("terminal:state", { detail: state }));
}

/* Minutes since an ISO time, by the hall's clock (the PC's own clock may be wrong). */
var clockOffset = 0;
function syncClock() {
  if (state.now) clockOffset = Date.parse(state.now) - Date.now();
}
function minutesSince(iso) {
  return Math.max(0, Math.floor((Date.now() + clockOffset - Date.parse(iso)) / 60000));
}
var targets = {};
function syncTargets() {
  targets = {};
  state.window.services.forEach(function (s) { targets[s.code] = s.wait_target_minutes; });
}

/* ---------- data ---------- */

var refreshTimer = null;
var refreshing = null;
async function refresh() {
  if (refreshing) { scheduleRefresh(); return refreshing; }
  refreshing = (async function () {
    try {
      var results = await Promise.all([
        api("GET", "/terminal/state"),
        api("GET", "/api/v1/windows/" + state.window.id + "/queue")
      ]);
      state = results[0];
      queue = results[1] || [];
      syncClock();
      syncTargets();
      Terminal.state = state;
      render();
    } catch (err) {
      showError(err);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}
function scheduleRefresh() {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, 120);
}

async function run(fn) {
  if (busy) return;
  busy = true;
  render();
  try {
    return await fn();
  } catch (err) {
    showError(err);
  } finally {
    busy = false;
    await refresh();
  }
}

/* ---------- actions ---------- */

function ticketPath(action) { return "/api/v1/tickets/" + state.current.id + "/" + action; }
function windowPath(action) { return "/api/v1/windows/" + state.window.id + "/" + action; }

var actions = {
  call: function () {
    return run(async function () {
      var tk = await api("POST", windowPath("call-next"));
      if (tk === null) flash(t("当前没有等候的号票"), "info");
      else flash(t("已叫号") + " " + tk.number, "ok");
    });
  },
  recall: function () {
    return run(async function () {
      var tk = await api("POST", windowPath("recall"));
      flash(t("已重呼") + " " + tk.number, "ok");
    });
  },
  start: function () { return run(function () { return api("POST", ticketPath("start")); }); },
  finish: function () { openDialog("finish-dialog", state.current.number); },
  /* 过号 sits beside 办结: the first press only arms it, a second press (F5 or a click)
     within a few seconds confirms; anything else, Esc or the timeout disarms it. */
  "no-show": function () {
    if (noShowArmed !== state.current.id) { armNoShow(); return; }
    disarmNoShow();
    return run(async function () {
      var tk = await api("POST", ticketPath("no-show"));
      flash(tk.number + " " + t("已标记过号"), "info");
    });
  },
  "return": function () {
    return run(async function () {
      var tk = await api("POST", ticketPath("return"));
      flash(tk.number + " " + t("已回到队列"), "info");
    });
  },
  transfer: function () {
    var box = $("transfer-services");
    box.textContent = "";
    var n = 0;
    state.all_services.forEach(function (s) {
      if (state.current && s.code === state.current.service) return;
      n += 1;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn";
      b.dataset.service = s.code;
      var k = document.createElement("kbd");
      k.textContent = String(n);
      b.append(k, " " + s.prefix + " · " + s.name);
      b.onclick = function () { doTransfer(s); };
      box.appendChild(b);
    });
    openDialog("transfer-dialog", state.current.number);
  },
  pause: function () {
    var resume = state.window.status !== "open";
    return run(async function () {
      await api("POST", windowPath(resume ? "resume" : "pause"));
      flash(resume ? t("窗口已恢复服务") : t("窗口已暂停服务"), "info");
    });
  }
};

var NO_SHOW_SECONDS = 5;
var noShowArmed = null;
var noShowTimer = null;
function armNoShow() {
  noShowArmed = state.current.id;
  var b = button("no-show");
  b.classList.add("is-armed");
  $("no-show-label").textContent = t("再按 F5 确认过号");
  flash(t("确认将 %(n)s 标记为过号？%(s)s 秒内再按 F5 确认，按 Esc 取消", {
    n: state.current.number, s: NO_SHOW_SECONDS }), "info");
  noShowTimer = setTimeout(disarmNoShow, NO_SHOW_SECONDS * 1000);
}
function disarmNoShow() {
  if (noShowTimer) clearTimeout(noShowTimer);
  noShowTimer = null;
  if (noShowArmed === null) return;
  noShowArmed = null;
  button("no-show").classList.remove("is-armed");
  $("no-show-label").textContent = t("过号");
}

function doFinish(outcome, label) {
  closeDialogs();
  return run(async function () {
    var tk = await api("POST", ticketPath("finish"), { outcome: outcome });
    flash(tk.number + " " + t("已办结") + " · " + label, "ok");
  });
}
function doTransfer(s) {
  closeDialogs();
  return run(async function () {
    var tk = await api("POST", ticketPath("transfer"), { service: s.code });
    flash(tk.number + " " + t("已转移到") + " " + s.name, "ok");
  });
}

document.querySelectorAll("#outcomes [data-outcome]").forEach(function (b) {
  b.addEventListener("click", function () {
    doFinish(b.dataset.outcome, b.textContent.replace(/^\s*\d\s*/, "").trim());
  });
});
document.querySelectorAll("dialog [data-close]").forEach(function (b) {
  b.addEventListener("click", closeDialogs);
});

function openDialog(id, number) {
  if (!state.current) return;
  var d = $(id);
  var label = d.querySelector("h2 span");
  if (label) label.textContent = number;
  d.showModal();
  var first = d.querySelector(".choice-list .btn");
  if (first) first.focus();
}
function openDialogNode() { return document.querySelector("dialog[open]"); }
function closeDialogs() {
  document.querySelectorAll("dialog[open]").forEach(function (d) { d.close(); });
}

document.querySelectorAll("#actions [data-action]").forEach(function (b) {
  b.addEventListener("click", function () {
    var a = b.dataset.action;
    if (a !== "no-show") disarmNoShow();
    if (actions[a]) actions[a]();
  });
});

/* ---------- keyboard ---------- */

var keys = {};
document.querySelectorAll("[data-key]").forEach(function (b) { keys[b.dataset.key] = b; });

document.addEventListener("keydown", function (ev) {
  var dialog = openDialogNode();
  var typing = ev.target && ev.target.closest && ev.target.closest("input, textarea, select, [contenteditable]");
  if (dialog) {
    if (/^[1-9]$/.test(ev.key) && !typing) {
      var choices = dialog.querySelectorAll(".choice-list .btn");
      var c = choices[Number(ev.key) - 1];
      if (c) { ev.preventDefault(); c.click(); }
    }
    if (/^F\d+$/.test(ev.key)) ev.preventDefault();
    return; // Esc closes the dialog natively
  }
  var b = keys[ev.key];
  if (noShowArmed !== null && (!b || b !== button("no-show"))) {
    disarmNoShow();
    if (ev.key === "Escape") { flash(t("已取消过号"), "info"); return; }
  }
  if (!b) return;
  // Function keys belong to the terminal here (F1 help, F5 reload … are not wanted).
  ev.preventDefault();
  if (ev.repeat) return;
  if (b.disabled) {
    flash(t("此操作当前不可用") + ": " + b.textContent.replace(/F\d+/, "").trim(), "info");
    return;
  }
  b.click();
});

/* ---------- live ---------- */

/* Whether a hall event may change this window's state or waiting list. */
function prefixOf(number) { return String(number || "").replace(/\d+$/, ""); }
function concernsUs(msg) {
  var own = state.window.services;
  var number = state.window.number;
  var hasPrefix = function (p) { return own.some(function (s) { return s.prefix === p; }); };
  switch (msg.type) {
    case "snapshot": return true;
    case "window": return msg.window === number;
    case "call": return msg.window === number || own.some(function (s) { return s.code === msg.service; });
    case "ticket": return msg.window === number || hasPrefix(prefixOf(msg.ticket));
    case "queue":
      if (!msg.waiting || !Object.keys(msg.waiting).length) return true;
      return Object.keys(msg.waiting).some(hasPrefix);
    default: return false;
  }
}
function connState(s) {
  var node = $("conn");
  if (s === "open") {
    node.className = "conn conn-open";
    node.textContent = t("实时连接正常");
    scheduleRefresh(); // catch up on anything missed while away
  } else {
    node.className = "conn conn-reconnecting";
    node.textContent = t("连接中断，正在重连…");
  }
  document.body.classList.toggle("is-offline", s !== "open");
}
liveSocket("/ws/halls/" + encodeURIComponent(state.hall.code) + "/display", {
  onMessage: function (msg) { if (concernsUs(msg)) scheduleRefresh(); },
  onState: connState
});

export const Terminal = {
  state: state,
  refresh: refresh,
  run: run,
  shortcut: function (key, b) { keys[key] = b; }
};
syncClock();
syncTargets();
render();
refresh();
// Waiting times grow by themselves.
setInterval(function () { if (!document.hidden) render(); }, 30000);
