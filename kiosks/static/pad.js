/* 评价器 (evaluator pad) at one window: after the window finishes a ticket, show the ticket,
 * the window and staff member, and the ticket's rating QR code.
 *
 * It follows the hall's event stream (stream.js); a "ticket" event with status "done" for
 * this window makes it ask GET /api/v1/windows/{id}/last-finished with its device key
 * (an evaluator device bound to this window; its answer has "ticket": null while the window
 * has finished nothing today). The rating buttons are a separate script
 * (kiosks/static/pad-rating.js) that fills #pad-rating; see the comment in pad.html.
 *
 * The finished ticket and its rating stay for the answer's rating_seconds (default 60 s)
 * after the finish even when the window calls the next citizen at once, so a window cannot
 * take the rating away by calling; after that a call returns the pad to its idle screen.
 */
import { $, t } from "/static/dom.js";
import { HallStream } from "/displays/stream.js";

var body = document.body;
var hall = body.dataset.hall;
var number = parseInt(body.dataset.window, 10);
var windowId = parseInt(body.dataset.windowId, 10);
var KEY_STORE = "window_service.pad.key." + hall + "." + number;
var SHOW_MS = 90000; // the finished ticket stays this long (or until the next call)
var RATING_S = 60; // at least this long even after the next call (from the server's answer)
var RECENT_S = 120; // on start-up, show a ticket finished at most this long ago

var params = new URLSearchParams(location.search);
var hashKey = /^#key=([^&]+)/.exec(location.hash); // never reaches the server's log
if (params.has("key") || hashKey) {
  var k = hashKey ? decodeURIComponent(hashKey[1]).trim() : (params.get("key") || "").trim();
  if (k) localStorage.setItem(KEY_STORE, k);
  params.delete("key");
  var rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
}
var deviceKey = localStorage.getItem(KEY_STORE);
var state = { finished: null, shown: [], staff: null, onDuty: null, ratingUntil: 0 };
var idleTimer = null;

function show(screen) {
  ["setup", "idle", "finished"].forEach(function (name) {
    $("pad-" + name).hidden = name !== screen;
  });
  body.dataset.screen = screen;
}

function staffText(staff) {
  if (!staff) return "";
  var text = t("工作人员：%(name)s", { name: staff.display_name || staff.username });
  return staff.staff_no ? text + t("（工号 %(no)s）", { no: staff.staff_no }) : text;
}

// The idle screen shows who is on duty as halls post them: photo, name and 工号.
function showDuty(staff) {
  $("pad-duty").hidden = !staff;
  if (!staff) return;
  $("pad-duty-name").textContent = staff.display_name || staff.username;
  $("pad-duty-no").textContent = staff.staff_no ? t("工号：%(no)s", { no: staff.staff_no }) : "";
  var photo = $("pad-duty-photo");
  photo.textContent = "";
  if (staff.photo_url && staff.photo_url.charAt(0) === "/") {
    var img = document.createElement("img");
    img.alt = "";
    img.src = staff.photo_url; // this server's own photo (the page's CSP allows no other)
    photo.appendChild(img);
  } else {
    photo.textContent = (staff.display_name || staff.username || "?").charAt(0);
  }
}

function toIdle() {
  clearTimeout(idleTimer);
  var rating = $("pad-rating");
  if (state.finished) {
    delete rating.dataset.ticket;
    delete rating.dataset.trackToken;
    delete rating.dataset.trackUrl;
    rating.hidden = true;
    state.finished = null;
    document.dispatchEvent(new CustomEvent("pad:idle"));
  }
  showDuty(state.onDuty);
  show("idle");
}

function loadQr(url) {
  var box = $("pad-qr");
  box.textContent = "";
  return fetch("/qr.svg?data=" + encodeURIComponent(url))
    .then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    })
    .then(function (svg) {
      var node = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
      if (node && node.nodeName.toLowerCase() === "svg") box.appendChild(document.importNode(node, true));
    })
    .catch(function () {
      box.textContent = url;
    });
}

function showFinished(data) {
  state.finished = data;
  state.staff = data.staff;
  var hold = typeof data.rating_seconds === "number" ? data.rating_seconds : RATING_S;
  state.ratingUntil = Date.now() + Math.max(0, hold - (data.seconds_since_finished || 0)) * 1000;
  state.shown.push(data.ticket.number);
  $("pad-ticket").textContent = data.ticket.number;
  $("pad-staff").textContent =
    t("%(n)s号窗口", { n: data.window }) + (data.window_name ? "（" + data.window_name + "）" : "") + " · " + staffText(data.staff);
  var rating = $("pad-rating");
  rating.dataset.ticket = data.ticket.number;
  rating.dataset.trackToken = data.ticket.track_token || "";
  rating.dataset.trackUrl = data.ticket.track_url || "";
  rating.hidden = false;
  show("finished");
  loadQr(data.ticket.track_url);
  document.dispatchEvent(new CustomEvent("pad:finished", { detail: data }));
  clearTimeout(idleTimer);
  idleTimer = setTimeout(toIdle, Math.max(SHOW_MS, state.ratingUntil - Date.now()));
}

function nextCalled() {
  // The next citizen is on the way: back to idle, but not before the rating time is over.
  var left = state.ratingUntil - Date.now();
  if (left <= 0) {
    toIdle();
    return;
  }
  clearTimeout(idleTimer);
  idleTimer = setTimeout(toIdle, left);
}

// mode: "start" (show a ticket finished just now, else idle), "done" (show the finished
// ticket) or "duty" (only who is on duty, for the idle screen).
function fetchFinished(mode) {
  var onlyRecent = mode === "start";
  return fetch("/api/v1/windows/" + windowId + "/last-finished", {
    headers: { Accept: "application/json", "X-Device-Key": deviceKey },
  })
    .then(function (r) {
      return r.json().then(function (data) {
        return { status: r.status, data: data };
      });
    })
    .then(function (res) {
      if (res.status === 200) {
        if (res.data.staff) state.staff = res.data.staff;
        state.onDuty = res.data.on_duty || null;
        if (!state.finished) showDuty(state.onDuty);
        if (mode === "duty") return;
        if (!res.data.ticket) {
          if (onlyRecent) toIdle(); // nothing finished today: a normal answer
        } else if (!onlyRecent || res.data.seconds_since_finished <= RECENT_S) showFinished(res.data);
        else toIdle();
      } else if (res.status === 401 || res.status === 403) {
        if (res.status === 401) localStorage.removeItem(KEY_STORE);
        $("pad-setup-detail").textContent =
          res.status === 401 ? t("评价器密钥无效，请管理员重新设置。") : t("此评价器未绑定本窗口。");
        show("setup");
      } else if (onlyRecent) {
        toIdle();
      }
    })
    .catch(function () {
      if (onlyRecent) toIdle();
    });
}

window.evaluatorPad = { state: state };

if (!deviceKey) {
  show("setup");
} else {
  toIdle();
  fetchFinished("start");

  var stream = new HallStream(hall, {
    snapshot: function () {},
    event: function (msg) {
      if (msg.window !== number) return;
      if (msg.type === "ticket" && msg.status === "done") fetchFinished("done");
      else if (msg.type === "call" && state.finished) nextCalled();
      else if (msg.type === "call") fetchFinished("duty"); // who is on duty may have changed
    },
    status: function (connected) {
      $("reconnecting").hidden = connected;
    },
  });
  window.evaluatorPad.stream = stream;
  stream.start();
}
