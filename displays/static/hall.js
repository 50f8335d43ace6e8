/* 大厅综合屏 (hall display): calls, windows, waiting counts, notice, clock, voice.
 *
 * State comes only from the hall's event stream (stream.js): a snapshot replaces it, events
 * change it. window.hallDisplay exposes the state and the announcement queue for operators
 * and tests (window.hallDisplay.announcements: texts of every queued announcement).
 *
 * Pointed at a zone (区域, /display/{hall}?zone=一楼A区), it shows and announces only the calls
 * to that zone's windows, those windows, and the queues they serve (the snapshot gives each
 * window's zone and prefixes).
 */
import { el, t } from "/static/dom.js";
import { HallStream, HallTime } from "./stream.js";
import { Announcer } from "./voice.js";
import { startBoardStrip } from "./board-strip.js";

var body = document.body;
var hall = body.dataset.hall;
var params = new URLSearchParams(location.search);
var zone = body.dataset.zone || params.get("zone") || "";
var RECENT = 7; // the latest call and six before it
var QUEUES_PER_PAGE = 16; // more queues than this take turns (pages of the waiting band)
var QUEUE_COLUMNS = 8;
var QUEUE_TURN_MS = 10000;
var waitPage = 0;
var FRESH_CALL_MS = 120000; // replayed calls older than this are shown, not announced
var STATUS = {
  open: t("空闲"),
  paused: t("暂停中"),
  closed: t("已关闭"),
};
var TICKET_STATUS = { called: t("请到窗口"), serving: t("正在办理") };

var state = {
  hall: { code: hall, name: body.dataset.hallName || "", notice: "" },
  windows: {}, // number → {number, name, status, current}
  recent: [], // newest first
  waiting: {}, // prefix → count
  zonePrefixes: null, // with ?zone=: the prefixes the zone's windows serve
  services: [], // from /api/v1/halls/{hall}/services
  day: null, // the hall's date shown, "2026-11-26"
  offsetMinutes: 480, // hall time zone, from the snapshot
  serverSkewMs: 0, // server clock − browser clock
};

var announcer = new Announcer(params.get("voice") || "auto");
// a small corner badge while the browser keeps sound off (no dimming: the hall reads on)
var voiceBadge = document.getElementById("voice-enable");

function showVoiceBadge() {
  if (announcer.locked && announcer.mode !== "off") voiceBadge.hidden = false;
}

announcer.onlock = showVoiceBadge;
voiceBadge.addEventListener("click", function () {
  announcer.unlock();
  voiceBadge.hidden = true;
});
showVoiceBadge();

/* ---------- rendering ---------- */

function hallTimeText(iso) {
  if (!iso) return "";
  var ms = Date.parse(iso);
  if (isNaN(ms)) return "";
  var p = HallTime.parts(ms, state.offsetMinutes);
  return HallTime.pad2(p.hour) + ":" + HallTime.pad2(p.minute);
}

function renderLatest() {
  var box = document.getElementById("latest-call");
  box.textContent = "";
  var call = state.recent[0];
  if (!call) {
    box.appendChild(el("div", "hd-latest-idle", t("欢迎光临，请取号等候")));
    return;
  }
  // the zone is named (on a line of its own, so the call never gets wider) when the
  // call's text names it: a hall of several zones
  if (call.zone && call.text && call.text.indexOf(call.zone) >= 0) {
    box.appendChild(el("div", "hd-latest-zone", t("请到 %(zone)s", { zone: call.zone })));
  }
  box.appendChild(el("div", "hd-latest-ticket", call.ticket));
  var line = el("div", "hd-latest-text");
  // "请到 [7] 号窗口办理" / "Please go to window [7]": the number stands out in either order
  var sentence = t("请到 %(n)s 号窗口办理").split("%(n)s");
  line.appendChild(document.createTextNode(sentence[0]));
  line.appendChild(el("span", "hd-latest-window", String(call.window)));
  line.appendChild(document.createTextNode(sentence[1] || ""));
  box.appendChild(line);
  if (call.recall) box.appendChild(el("div", "hd-tag", t("重呼")));
  box.classList.remove("flash");
  void box.offsetWidth; // restart the animation
  box.classList.add("flash");
}

function renderRecent() {
  var list = document.getElementById("recent-calls");
  list.textContent = "";
  state.recent.slice(1, RECENT).forEach(function (call) {
    var li = el("li", call.recall ? "recall" : "");
    li.dataset.ticket = call.ticket;
    li.appendChild(el("span", "hd-recent-ticket", call.ticket));
    li.appendChild(el("span", "hd-recent-arrow", "→"));
    li.appendChild(el("span", "hd-recent-window", t("%(n)s号窗口", { n: call.window })));
    li.appendChild(el("span", "hd-recent-time", hallTimeText(call.at)));
    list.appendChild(li);
  });
}

function renderWindows() {
  var grid = document.getElementById("windows");
  grid.textContent = "";
  var numbers = Object.keys(state.windows).map(Number);
  // a big hall's windows get more of the screen; the calls column stays the largest text
  body.classList.toggle("many-windows", numbers.length > 40);
  fitGrid(grid, numbers.length, 2.1);
  numbers
    .sort(function (a, b) { return a - b; })
    .forEach(function (number) {
      var w = state.windows[number];
      var card = el("div", "hd-window status-" + w.status);
      card.dataset.window = String(number);
      if (w.name) card.title = w.name;
      var head = el("span", "hd-window-number", String(number));
      if (/^zh/.test(document.documentElement.lang)) head.appendChild(el("small", null, "号")); // 7号
      card.appendChild(head);
      var current = w.current;
      card.appendChild(el("div", "hd-window-ticket", current ? current.ticket : "—"));
      var label;
      if (w.status !== "open") label = STATUS[w.status] || w.status;
      else if (current) label = TICKET_STATUS[current.status] || current.status;
      else label = STATUS.open;
      if (current) card.classList.add("ticket-" + current.status);
      card.appendChild(el("div", "hd-window-status", label));
      grid.appendChild(card);
    });
}

function renderWaiting() {
  var box = document.getElementById("waiting");
  box.textContent = "";
  var byPrefix = {};
  state.services.forEach(function (s) { byPrefix[s.prefix] = s; });
  var prefixes = Object.keys(state.waiting);
  state.services.forEach(function (s) { if (prefixes.indexOf(s.prefix) < 0) prefixes.push(s.prefix); });
  if (state.zonePrefixes) {
    prefixes = prefixes.filter(function (p) { return state.zonePrefixes.indexOf(p) >= 0; });
  }
  prefixes.sort();
  var pages = Math.max(1, Math.ceil(prefixes.length / QUEUES_PER_PAGE));
  var per = Math.ceil(prefixes.length / pages);
  waitPage = waitPage % pages;
  var rows = Math.max(1, Math.ceil(per / QUEUE_COLUMNS));
  var cols = Math.max(1, Math.ceil(per / rows));
  box.style.setProperty("--cols", String(cols));
  box.style.setProperty("--rows", String(rows));
  box.style.setProperty("--band", rows === 1 ? "12vh" : "18vh");
  document.getElementById("waiting-page").textContent = pages > 1 ? waitPage + 1 + "/" + pages : "";
  prefixes.slice(waitPage * per, waitPage * per + per).forEach(function (prefix) {
    var s = byPrefix[prefix];
    var count = state.waiting[prefix] !== undefined ? state.waiting[prefix] : s ? s.waiting : 0;
    var chip = el("div", "hd-wait");
    chip.dataset.prefix = prefix;
    chip.appendChild(el("span", "hd-wait-prefix", prefix));
    chip.appendChild(el("span", "hd-wait-name", s ? s.name : ""));
    var waiting = t("等候 %(n)s 人").split("%(n)s");
    var countText = el("span", "hd-wait-count", waiting[0]);
    countText.appendChild(el("b", null, String(count)));
    countText.appendChild(document.createTextNode(waiting[1] || ""));
    chip.appendChild(countText);
    var wait = s && count > 0 && s.estimated_wait_minutes > 0;
    chip.appendChild(el("span", "hd-wait-est", wait ? t("约%(m)s分钟", { m: s.estimated_wait_minutes }) : ""));
    box.appendChild(chip);
  });
}

/* Columns and rows for n tiles of about `aspect` (width/height) in the grid's room:
 * the count that gives the largest tiles. */
function fitGrid(grid, n, aspect) {
  var width = grid.clientWidth || 1;
  var height = grid.clientHeight || 1;
  var best = { cols: 1, rows: Math.max(1, n), size: 0 };
  for (var cols = 1; cols <= Math.max(1, n); cols++) {
    var rows = Math.ceil(n / cols);
    var size = Math.min(width / cols / aspect, height / rows);
    if (size > best.size) best = { cols: cols, rows: rows, size: size };
  }
  grid.style.setProperty("--cols", String(best.cols));
  grid.style.setProperty("--rows", String(best.rows));
}

function renderNotice() {
  var notice = document.getElementById("notice");
  var text = state.hall.notice || "";
  if (notice.textContent !== text) notice.textContent = text;
  notice.parentNode.hidden = !text;
  document.getElementById("hall-name").textContent = state.hall.name;
}

function renderAll() {
  renderNotice();
  renderLatest();
  renderRecent();
  renderWindows();
  renderWaiting();
}

function tickClock() {
  var p = HallTime.parts(Date.now() + state.serverSkewMs, state.offsetMinutes);
  var pad2 = HallTime.pad2;
  var day = p.year + "-" + p.month + "-" + p.day;
  if (state.day && state.day !== day && stream) {
    // a new business day: yesterday's calls go; a fresh snapshot shows today's hall
    state.recent = [];
    renderLatest();
    renderRecent();
    stream.lastSeq = null;
    stream.resync();
  }
  state.day = day;
  document.getElementById("clock-date").textContent =
    HallTime.dateText(p, document.documentElement.lang);
  document.getElementById("clock-time").textContent =
    pad2(p.hour) + ":" + pad2(p.minute) + ":" + pad2(p.second);
}

/* ---------- state changes ---------- */

/* With ?zone=, windows of other zones are not on this display. */
function shown(number) {
  return !zone || !!state.windows[number];
}

function windowOf(number) {
  if (!state.windows[number]) {
    state.windows[number] = { number: number, name: "", status: "open", current: null };
  }
  return state.windows[number];
}

function onSnapshot(msg) {
  if (msg.hall) {
    state.hall = {
      code: msg.hall.code || hall,
      name: msg.hall.name || state.hall.name,
      notice: msg.hall.notice || "",
    };
  }
  if (msg.now) {
    state.offsetMinutes = HallTime.offsetMinutes(msg.now);
    var server = Date.parse(msg.now);
    if (!isNaN(server)) state.serverSkewMs = server - Date.now();
  }
  state.windows = {};
  state.zonePrefixes = zone ? [] : null;
  (msg.windows || []).forEach(function (w) {
    if (zone && (w.zone || "") !== zone) return;
    if (zone) {
      (w.prefixes || []).forEach(function (p) {
        if (state.zonePrefixes.indexOf(p) < 0) state.zonePrefixes.push(p);
      });
    }
    state.windows[w.number] = {
      number: w.number,
      name: w.name || "",
      status: w.status,
      current: w.current || null,
    };
  });
  state.recent = [];
  (msg.recent_calls || []).forEach(function (c) {
    // newest first; a recalled ticket is listed once, at its latest call
    if (!shown(c.window)) return;
    if (state.recent.some(function (r) { return r.ticket === c.ticket; })) return;
    state.recent.push(c);
  });
  state.recent = state.recent.slice(0, RECENT);
  state.waiting = Object.assign({}, msg.waiting || {});
  renderAll();
}

function onCall(msg) {
  if (!shown(msg.window)) return;
  state.recent = state.recent.filter(function (c) {
    return c.ticket !== msg.ticket; // a recall moves the ticket up, never lists it twice
  });
  state.recent.unshift(msg);
  state.recent = state.recent.slice(0, RECENT);
  // a ticket is at one window only
  Object.keys(state.windows).forEach(function (n) {
    var w = state.windows[n];
    if (w.current && w.current.ticket === msg.ticket) w.current = null;
  });
  windowOf(msg.window).current = { ticket: msg.ticket, service: msg.service, status: "called" };
  renderLatest();
  renderRecent();
  renderWindows();
  var at = Date.parse(msg.at);
  if (isNaN(at) || Date.now() + state.serverSkewMs - at < FRESH_CALL_MS) {
    announcer.announce(msg);
    // the published-stars strip steps aside while a call is on screen
    if (boardStrip) boardStrip.pause(15000);
  }
}

function onTicket(msg) {
  if (msg.window === null || msg.window === undefined || !shown(msg.window)) return;
  var w = windowOf(msg.window);
  if (!w.current || w.current.ticket !== msg.ticket) return;
  if (msg.status === "called" || msg.status === "serving") w.current.status = msg.status;
  else w.current = null; // done, no_show, cancelled, returned to the queue, transferred
  renderWindows();
}

function onEvent(msg) {
  if (msg.type === "call") onCall(msg);
  else if (msg.type === "ticket") onTicket(msg);
  else if (msg.type === "queue") {
    if (msg.change === "expired") loadServices(true);
    Object.assign(state.waiting, msg.waiting || {});
    renderWaiting();
  } else if (msg.type === "window") {
    if (!shown(msg.window)) return;
    windowOf(msg.window).status = msg.status;
    renderWindows();
  } else if (msg.type === "hall" && msg.notice !== undefined) {
    state.hall.notice = msg.notice || "";
    renderNotice();
  }
}

/* Names and estimates of the services (counts come from the stream). */
function loadServices(counts) {
  return fetch("/api/v1/halls/" + encodeURIComponent(hall) + "/services", {
    headers: { Accept: "application/json" },
  })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (list) {
      if (!Array.isArray(list)) return;
      state.services = list;
      if (counts) {
        list.forEach(function (s) { state.waiting[s.prefix] = s.waiting; });
      }
      renderWaiting();
    })
    .catch(function () {
      /* shown again at the next refresh */
    });
}

var stream = new HallStream(hall, {
  snapshot: onSnapshot,
  event: onEvent,
  status: function (connected) {
    var banner = document.getElementById("reconnecting");
    banner.textContent = t("正在重新连接…");
    banner.hidden = connected;
    body.classList.toggle("offline", !connected);
    if (connected) loadServices(false);
  },
});

window.hallDisplay = {
  state: state,
  stream: stream,
  announcer: announcer,
  zone: zone,
  get announcements() {
    return announcer.texts;
  },
  get announcementLog() {
    return announcer.log;
  },
  get lastSeq() {
    return stream.lastSeq;
  },
  get connected() {
    return stream.connected;
  },
};

var banner = document.getElementById("reconnecting");
banner.textContent = t("正在连接…");
banner.hidden = false;
tickClock();
setInterval(tickClock, 1000);
setInterval(function () { loadServices(false); }, 60000);
setInterval(function () {
  waitPage += 1;
  renderWaiting();
}, QUEUE_TURN_MS);
window.addEventListener("resize", renderWindows);
loadServices(false);
stream.start();

// the published-stars strip, of this display's windows only when it shows one zone
var stripBox = document.querySelector("[data-board-strip]");
var boardStrip = stripBox
  ? startBoardStrip(stripBox, stripBox.dataset.hall || hall, function (person) {
      return !zone || (!!person.window && !!state.windows[person.window]);
    })
  : null;
window.boardStrip = boardStrip; // for operators and tests
