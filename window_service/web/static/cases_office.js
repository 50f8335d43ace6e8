/* 办件时限监督: office.* events from the hall's websocket are listed in the feed, and the
 * dashboard body is re-rendered by the server (?partial=1). Their payloads reach inspectors and
 * admins, and heads for their own departments; an event of another department arrives as
 * {type, seq} only: it refreshes the dashboard but adds no feed line. */
import { t } from "./dom.js";
import { liveSocket } from "./app.js";

var box = document.getElementById("cases-live");
if (box) start();

function start() {
  var hall = box.getAttribute("data-hall");
  var feed = document.getElementById("feed");
  var conn = document.getElementById("conn");
  var timer = null;
  var LIVE = {
    "office.case_warning": true, "office.case": true, "office.case_breach": true,
    "office.wait_breach": true, "office.service_breach": true, "office.calendar": true,
    "office.consultation": true, "snapshot": true
  };

  var CASE_ACTIONS = {
    accepted: t("受理办件"), correction: t("补正告知（暂停计时）"), resumed: t("材料补齐，恢复计时"),
    completed: t("办结"), rejected: t("不予受理"), extended: t("延期")
  };

  function describe(msg) {
    if (Object.keys(msg).length <= 2) return null; // {type, seq}: not this reader's payload
    switch (msg.type) {
      case "office.case_warning":
        return (msg.level === "red" ? t("红牌：办件已超期") : t("黄牌预警：办件即将到期")) +
          " " + (msg.receipt_no || "") + " " + (msg.service_name || "") +
          (msg.window ? " · " + t("%(n)s号窗口", { n: msg.window }) : "");
      case "office.case_breach":
        return t("违反一次性告知：同一办件第二次补正告知") + " " + (msg.receipt_no || "");
      case "office.wait_breach":
        return t("等候超时") + " " + msg.ticket + " " +
          t("已等候 %(m)s 分钟（承诺 %(n)s 分钟）", { m: msg.waited_minutes, n: msg.target_minutes });
      case "office.service_breach":
        return t("办理超时") + " " + msg.ticket + " " +
          t("已办理 %(m)s 分钟（承诺 %(n)s 分钟）", { m: msg.served_minutes, n: msg.target_minutes });
      case "office.case":
        if (!msg.receipt_no) return null;
        return (CASE_ACTIONS[msg.action] || msg.action) + " " + msg.receipt_no;
      default:
        return null;
    }
  }

  function add(text, level) {
    var empty = document.getElementById("feed-empty");
    if (empty) empty.remove();
    var li = document.createElement("li");
    var time = new Date();
    li.textContent = ("0" + time.getHours()).slice(-2) + ":" + ("0" + time.getMinutes()).slice(-2) + " " + text;
    if (level) li.className = "row-" + level;
    feed.insertBefore(li, feed.firstChild);
    while (feed.children.length > 50) feed.removeChild(feed.lastChild);
  }

  async function reload() {
    timer = null;
    try {
      var response = await fetch("/office/cases?partial=1", { credentials: "same-origin", cache: "no-store" });
      if (response.ok) box.innerHTML = await response.text();
    } catch (e) { /* next event or reconnect tries again */ }
  }

  function schedule() { if (!timer) timer = setTimeout(reload, 400); }

  liveSocket("/ws/halls/" + encodeURIComponent(hall) + "/display", {
    onMessage: function (msg) {
      var text = describe(msg);
      if (text) {
        var level = msg.level || (msg.type === "office.case_breach" ? "red" : "");
        if (!level && msg.type !== "office.case") level = "yellow";
        add(text, level);
      }
      if (LIVE[msg.type]) schedule();
    },
    onState: function (s) {
      conn.className = "conn conn-" + s;
      conn.textContent = s === "open" ? t("实时连接正常") : t("正在重新连接…");
      if (s === "open") schedule();
    }
  });
  // Warnings depend on the clock: re-read every minute even without events.
  setInterval(function () { if (!document.hidden) schedule(); }, 60000);
}
