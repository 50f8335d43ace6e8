/* The citizen's tracking page: re-reads /api/v1/track/{token} whenever the hall's events may
 * have changed this ticket (its own call/ticket events at once; others of the hall, throttled).
 *   window.Track.ticket  -> the last GET /api/v1/track/{token} answer
 *   document "track:update" event, detail = that answer (for templates/track_rating.html)
 * Alerts (N ahead, called; sound, vibration, notification): track-alerts.js, told each answer
 * and, when the phone wakes, asking to re-read the ticket and replay the stream.
 */
import { $, t } from "./dom.js";
import { api, fmtMinutes, liveSocket, showError } from "./app.js";
import { check as checkAlerts, watchWake } from "./track-alerts.js";

var init = JSON.parse(document.getElementById("track-init").textContent);
var ticket = null;
var STATUS = {
  waiting: t("等候中"), called: t("已叫号"), serving: t("办理中"), done: t("已办结"),
  no_show: t("过号"), cancelled: t("已取消"), expired: t("已过期"), remote: t("未签到"),
  held: t("挂起")
};
var FINAL = { done: 1, no_show: 1, cancelled: 1, expired: 1 };

// "请到1号窗口（一楼A区）办理": the window and the zone it stands in, one sentence per state
// (English puts "window 1" lower-case inside a sentence, as the catalogue does elsewhere)
function windowSentence(status, n) {
  var zone = (init.zones || {})[String(n)];
  if (status === "held") return t("已挂起，备好材料后请回到%(n)s号窗口", { n: n });
  if (status === "called") {
    return zone ? t("请到%(n)s号窗口（%(zone)s）办理", { n: n, zone: zone }) : t("请到%(n)s号窗口办理", { n: n });
  }
  return zone ? t("正在%(n)s号窗口（%(zone)s）办理", { n: n, zone: zone }) : t("正在%(n)s号窗口办理", { n: n });
}

// While waiting: which windows serve this ticket, and where they are.
function whereText(tk) {
  if (tk.status !== "waiting" && tk.status !== "remote") return ""; // the callout says it
  var list = init.windows || [];
  if (!list.length) return "";
  var zones = [];
  list.forEach(function (n) {
    var z = (init.zones || {})[String(n)];
    if (z && zones.indexOf(z) < 0) zones.push(z);
  });
  var text = t("办理窗口：%(w)s号窗口", { w: list.join("、") });
  return zones.length ? text + t("（%(zone)s）", { zone: zones.join("、") }) : text;
}

function render(tk) {
  var card = $("ticket");
  card.dataset.status = tk.status;
  $("number").textContent = tk.number;
  $("service").textContent = tk.service_name;
  $("status").textContent = STATUS[tk.status] || tk.status_label;
  var callout = $("callout");
  var text = "";
  if ((tk.status === "called" || tk.status === "serving") && tk.window != null) text = windowSentence(tk.status, tk.window);
  else if (tk.status === "done") text = t("已办结，感谢您的耐心等候");
  else if (tk.status === "no_show") text = t("您已过号。") + init.no_show_rule;
  else if (tk.status === "expired") text = t("号票已过期，请重新取号");
  else if (tk.status === "cancelled") text = t("号票已取消");
  else if (tk.status === "remote") {
    // 网上取号: when to come — before the people ahead of it have been served
    text = tk.estimated_wait_minutes == null
      ? t("暂无窗口办理，请到大厅签到后留意叫号")
      : tk.ahead > 0
        ? t("请在%(m)s内到大厅签到，签到后才会叫号", { m: fmtMinutes(tk.estimated_wait_minutes) })
        : t("即将轮到，请尽快到大厅签到，签到后才会叫号");
  }
  callout.textContent = text;
  callout.hidden = !text;
  var where = whereText(tk);
  $("where").textContent = where;
  $("where").hidden = !where;
  var waiting = tk.status === "waiting" || tk.status === "remote";
  $("facts").hidden = !waiting;
  $("ahead").textContent = String(tk.ahead);
  // null: no window with staff on duty serves it now, so no estimate can be given
  var noEstimate = tk.estimated_wait_minutes == null;
  $("estimate").textContent = noEstimate ? t("暂无窗口办理，请留意叫号") : fmtMinutes(tk.estimated_wait_minutes);
  $("estimate").classList.toggle("estimate-note", noEstimate);
  $("rate").hidden = !tk.can_rate;
  // Sound, vibration and the notification: track-alerts.js, once per ticket.
  if (tk.status === "called") {
    document.title = "【" + text + "】 " + tk.number;
  } else if (tk.status !== "called") {
    document.title = tk.number + " · " + (STATUS[tk.status] || "");
  }
  checkAlerts(tk);
  document.dispatchEvent(new CustomEvent("track:update", { detail: tk }));
}

var loading = false;
var again = false;
async function load() {
  if (loading) { again = true; return; }
  loading = true;
  try {
    ticket = await api("GET", "/api/v1/track/" + encodeURIComponent(init.token));
    window.Track.ticket = ticket;
    render(ticket);
  } catch (err) {
    showError(err);
  } finally {
    loading = false;
    if (again) { again = false; load(); }
  }
}

// Other tickets' events change "people ahead"; re-read at most every 3 s for those.
var throttle = null;
function loadSoon() {
  if (throttle) return;
  throttle = setTimeout(function () { throttle = null; load(); }, 3000);
}

function prefixOf(number) { return String(number || "").replace(/\d+$/, ""); }

function onMessage(msg) {
  var mine = ticket ? ticket.number : init.number;
  var service = ticket ? ticket.service : init.service;
  if (msg.type === "snapshot") { load(); return; }
  if ((msg.type === "call" || msg.type === "ticket") && msg.ticket === mine) { load(); return; }
  if (ticket && FINAL[ticket.status] && !ticket.can_rate) return;
  if (msg.type === "call" && (msg.service === service || prefixOf(msg.ticket) === prefixOf(mine))) { loadSoon(); return; }
  if (msg.type === "ticket" || msg.type === "queue") loadSoon();
}

function onState(s) {
  var node = $("conn");
  if (s === "open") {
    node.className = "conn conn-open track-conn";
    node.textContent = t("实时更新中");
    load();
  } else {
    node.className = "conn conn-reconnecting track-conn";
    node.textContent = t("连接中断，正在重连…");
  }
}

var socket = liveSocket("/ws/halls/" + encodeURIComponent(init.hall) + "/display", { onMessage: onMessage, onState: onState });
// After the phone slept: read the ticket again, and have the stream replay from its last seq
// (a socket that looks open may have died while asleep).
function resume() {
  load();
  socket.resume();
}
window.Track = { ticket: null, token: init.token, reload: load };
watchWake(resume);
// Estimates drift with time even when nothing happens.
setInterval(function () { if (!document.hidden) load(); }, 60000);
load();
