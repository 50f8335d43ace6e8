/* 取号机 (touch kiosk): choose a service (and a green-channel reason), get a printed ticket.
 *
 * One ticket per intention, whatever happens: the first tap creates an idempotency key and
 * keeps it (with the service and priority) in sessionStorage until the ticket is printed.
 * A double tap is ignored while a request is on its way; a retry after a network error and a
 * reload of the page reuse the same key, so the server hands back the same ticket (200)
 * instead of a new one. After printing the key is forgotten.
 *
 * The device key (X-Device-Key) is set up once by an administrator with ?key=… and kept in
 * localStorage; it is removed from the address bar at once.
 */
import { $, apiMessage, t } from "/static/dom.js";
import { KioskMenu as menu } from "./kiosk-menu.js";
import { KioskTicket } from "./kiosk-ticket.js";

var body = document.body;
var hall = body.dataset.hall;
var KEY_STORE = "window_service.kiosk.key." + hall;
var PENDING_STORE = "window_service.kiosk.pending." + hall;
var PRINTER_STORE = "window_service.kiosk.printer." + hall;
var BACK_TO_START_MS = 8000;
var GREEN_RESET_MS = 60000;
var RETRIES = [1000, 2000, 4000]; // then every RETRY_MAX_MS, until the network is back
var REFRESH_MS = 30000;
var OFFLINE_REFRESH_MS = 5000; // while the network is away
var RETRY_MAX_MS = 8000; // taking a ticket: retried by itself, backing off to this
var PRIORITY_LABELS = {
  elderly: t("70岁以上老人"),
  disabled: t("残疾人"),
  pregnant: t("孕妇"),
  military: t("军人"),
  appointment: t("预约"),
};

var params = new URLSearchParams(location.search);
var printMode = params.get("print") === "0" ? "none" : "browser";

/* ---------- set-up: device key and optional printer agent from the address ---------- */
(function setup() {
  var changed = false;
  if (params.has("key")) {
    var key = (params.get("key") || "").trim();
    if (key) localStorage.setItem(KEY_STORE, key);
    params.delete("key");
    changed = true;
  }
  if (params.has("printer")) {
    var printer = (params.get("printer") || "").trim();
    if (/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(printer)) {
      localStorage.setItem(PRINTER_STORE, printer.replace(/\/$/, ""));
    } else if (printer === "" || printer === "off") {
      localStorage.removeItem(PRINTER_STORE);
    }
    params.delete("printer");
    changed = true;
  }
  // #key=… works too and never reaches the server's access log
  var hash = /^#key=([^&]+)/.exec(location.hash);
  if (hash) {
    localStorage.setItem(KEY_STORE, decodeURIComponent(hash[1]).trim());
    changed = true;
  }
  if (changed) {
    var rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }
})();

var deviceKey = localStorage.getItem(KEY_STORE);
var printerAgent = localStorage.getItem(PRINTER_STORE);

var state = {
  services: [],
  priority: null,
  busy: false,
  ticket: null,
  tickets: [], // every ticket shown (for operators and tests)
  requests: 0,
};
var timers = { back: null, green: null, refresh: null, retry: null };

function show(screen) {
  ["setup", "start", "busy", "error", "ticket", "checkin"].forEach(function (name) {
    $("screen-" + name).hidden = name !== screen;
  });
  body.dataset.screen = screen;
}

function randomKey() {
  var bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes); // works on plain http too (unlike crypto.randomUUID)
  return (
    "kiosk-" +
    Array.prototype.map
      .call(bytes, function (b) {
        return (b < 16 ? "0" : "") + b.toString(16);
      })
      .join("")
  );
}

function loadPending() {
  try {
    var raw = sessionStorage.getItem(PENDING_STORE);
    var pending = raw ? JSON.parse(raw) : null;
    if (pending && pending.key && pending.service) return pending;
  } catch (err) {
    /* unreadable: forget it */
  }
  sessionStorage.removeItem(PENDING_STORE);
  return null;
}

function savePending(pending) {
  sessionStorage.setItem(PENDING_STORE, JSON.stringify(pending));
}

function clearPending() {
  sessionStorage.removeItem(PENDING_STORE);
}

/* ---------- start screen (the menu itself: kiosk-menu.js) ---------- */
menu.state.onTake = function (code) {
  take(code);
};

// The network is back (or was never gone): the banner goes, the list is fresh again.
function online(ok) {
  $("k-offline").hidden = ok;
  clearTimeout(timers.refresh);
  timers.refresh = setTimeout(function () {
    if (body.dataset.screen === "start") loadServices();
    else online(ok);
  }, ok ? REFRESH_MS : OFFLINE_REFRESH_MS);
}

function loadServices() {
  return fetch("/api/v1/halls/" + encodeURIComponent(hall) + "/services", {
    headers: { Accept: "application/json" },
  })
    .then(function (r) {
      return r.ok ? r.json() : null;
    })
    .then(function (list) {
      if (Array.isArray(list)) {
        state.services = list;
        menu.setServices(list);
      }
      online(Array.isArray(list));
    })
    .catch(function () {
      online(false); // keep the last list; asked again soon, by itself
    });
}

function setPriority(priority) {
  state.priority = state.priority === priority ? null : priority;
  Array.prototype.forEach.call($("green-options").querySelectorAll("button"), function (b) {
    b.classList.toggle("selected", b.dataset.priority === state.priority);
    b.setAttribute("aria-pressed", b.dataset.priority === state.priority ? "true" : "false");
  });
  var note = $("green-note");
  note.classList.toggle("chosen", !!state.priority);
  note.textContent = state.priority
    ? t("绿色通道：%(who)s。请选择事项，到窗口时请出示相关证件。", { who: PRIORITY_LABELS[state.priority] })
    : t("符合条件的请先点选，再选择事项，优先叫号");
  if (state.priority) menu.speak(note.textContent);
  clearTimeout(timers.green);
  if (state.priority) {
    timers.green = setTimeout(function () {
      if (state.priority) setPriority(state.priority);
    }, GREEN_RESET_MS);
  }
}

Array.prototype.forEach.call($("green-options").querySelectorAll("button"), function (b) {
  b.addEventListener("click", function () {
    setPriority(b.dataset.priority);
  });
});

function toStart() {
  clearTimeout(timers.back);
  state.ticket = null;
  if (state.priority) setPriority(state.priority);
  menu.reset();
  show("start");
  loadServices();
}

/* ---------- taking a ticket ---------- */

function take(service) {
  if (state.busy) return; // a double tap while the first is on its way
  var pending = loadPending();
  if (!pending || pending.service !== service || pending.priority !== state.priority) {
    pending = { key: randomKey(), service: service, priority: state.priority, at: Date.now() };
    savePending(pending);
  }
  submit(pending);
}

function submit(pending) {
  state.busy = true;
  show("busy");
  $("busy-text").textContent = t("正在取号，请稍候…");
  $("busy-detail").textContent = "";
  $("busy-cancel").hidden = true;
  attempt(pending, 0);
}

function attempt(pending, tries) {
  state.requests += 1;
  fetch("/api/v1/halls/" + encodeURIComponent(hall) + "/tickets", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-Device-Key": deviceKey,
    },
    body: JSON.stringify({
      service: pending.service,
      priority: pending.priority || null,
      idempotency_key: pending.key,
    }),
  })
    .then(function (r) {
      return r
        .json()
        .catch(function () {
          return null;
        })
        .then(function (data) {
          return { status: r.status, data: data };
        });
    })
    .then(
      function (res) {
        if (res.status === 200 || res.status === 201) {
          state.busy = false;
          showTicket(res.data, pending);
          return;
        }
        if (res.status >= 500) {
          retryLater(pending, tries); // 系统繁忙: asked again by itself, with the same key
          return;
        }
        state.busy = false;
        var message = res.data && res.data.error ? apiMessage(res.data.error.message) : t("取号失败") + "（" + res.status + "）";
        if (res.status === 401) {
          localStorage.removeItem(KEY_STORE);
          deviceKey = null;
          clearPending();
          showSetup(t("设备密钥无效，请管理员重新设置本机"));
          return;
        }
        clearPending(); // refused: no ticket was made with this key
        showError(t("无法取号"), message, false);
      },
      function () {
        // network error: the ticket may or may not exist; the same key finds out
        retryLater(pending, tries);
      }
    );
}

// A network blip never needs a tap: the kiosk asks again by itself with the same key (so it
// can never make a second ticket), at once when the browser says it is back online.
function retryLater(pending, tries) {
  $("busy-text").textContent = t("网络异常，正在自动重试…");
  $("busy-detail").textContent = t("不会重复取号，请稍候");
  $("busy-cancel").hidden = tries < 1;
  $("k-offline").hidden = false;
  var again = function () {
    window.removeEventListener("online", again);
    clearTimeout(timers.retry);
    if (state.busy && loadPending() && loadPending().key === pending.key) attempt(pending, tries + 1);
  };
  timers.retry = setTimeout(again, tries < RETRIES.length ? RETRIES[tries] : RETRY_MAX_MS);
  window.addEventListener("online", again);
}

$("busy-cancel").addEventListener("click", function () {
  clearTimeout(timers.retry);
  state.busy = false;
  clearPending();
  toStart();
});

function showError(title, detail, canRetry) {
  $("error-text").textContent = title;
  $("error-detail").textContent = detail || "";
  $("error-retry").hidden = !canRetry;
  show("error");
}

$("error-retry").addEventListener("click", function () {
  var pending = loadPending();
  if (pending && !state.busy) submit(pending);
  else toStart();
});
$("error-back").addEventListener("click", function () {
  clearPending();
  toStart();
});

/* ---------- the ticket (drawn and printed by kiosk-ticket.js) ---------- */

function showTicket(ticket, pending) {
  state.ticket = ticket;
  state.tickets.push(ticket);
  $("k-offline").hidden = true;
  KioskTicket.render(ticket, PRIORITY_LABELS, menu.zonesOf({ code: ticket.service }));
  show("ticket");
  menu.speak(t("您的号码是%(number)s。", { number: ticket.number }) + $("t-ahead").textContent);
  KioskTicket.loadQr(ticket.track_url).then(function () {
    print(ticket, pending);
  });
}

function print(ticket, pending) {
  KioskTicket.print(ticket, { agent: printerAgent, mode: printMode }, function () {
    clearPending(); // printed: a reload now starts afresh
    clearTimeout(timers.back);
    timers.back = setTimeout(toStart, BACK_TO_START_MS);
  });
}

$("ticket-done").addEventListener("click", function () {
  clearPending();
  toStart();
});

function showSetup(detail) {
  if (detail) $("setup-detail").textContent = detail;
  show("setup");
}

function tick() {
  // hall time, whatever the kiosk's own time zone
  var offset = parseInt(body.dataset.tzOffset || "480", 10);
  var d = new Date(Date.now() + offset * 60000);
  var p2 = function (n) {
    return (n < 10 ? "0" : "") + n;
  };
  $("k-clock").textContent = p2(d.getUTCHours()) + ":" + p2(d.getUTCMinutes());
}

export const kiosk = {
  state: state,
  get pending() {
    return loadPending();
  },
  // for kiosk-checkin.js
  deviceKey: function () {
    return deviceKey;
  },
  show: show,
  showTicket: showTicket,
  toStart: toStart,
  backLater: function (ms) {
    clearTimeout(timers.back);
    timers.back = setTimeout(toStart, ms);
  },
};

window.kiosk = kiosk; // for operators and tests

tick();
setInterval(tick, 15000);
if (!deviceKey) {
  showSetup();
} else {
  var resumed = loadPending();
  if (resumed) {
    // reloaded before the ticket was printed: fetch the same ticket again, never a new one
    state.priority = resumed.priority || null;
    submit(resumed);
    loadServices();
  } else {
    toStart();
  }
  window.addEventListener("online", function () {
    if (body.dataset.screen === "start") loadServices();
  });
}
