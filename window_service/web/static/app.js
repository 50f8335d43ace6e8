/* Shared helpers of the web pages (no libraries; the hall may be offline), an ES module that
 * base.html loads on every web page and page scripts import from:
 *
 *   import { api, flash, showError } from "/static/app.js";   ($, el, t: /static/dom.js)
 *
 *   t("中文原文")                 -> the text in the page's language (catalogue from the server;
 *                                  `make i18n` extracts t("…") calls from static/*.js)
 *   await api("POST", "/api/v1/windows/3/call-next", body?)
 *                                -> parsed JSON (or null for 204); sends the session cookie and
 *                                  the X-CSRF-Token header; on 4xx/5xx throws ApiError whose
 *                                  .message is the contract's message in the page's language
 *                                  (the Chinese half on Chinese pages, the English on English)
 *   flash(text, kind)            -> a banner at the top ("error" | "ok" | "info"); kind "error"
 *                                  stays until dismissed or replaced
 *   showError(err)               -> flash(err.message, "error")
 *   liveSocket(path, {onMessage, onState}) -> the hall's display websocket through the shared
 *                                  stream client (/displays/stream.js: replays after a drop,
 *                                  resyncs on a gap; onState("open"|"reconnecting"))
 *   fmtTime(iso) / fmtMinutes(n) -> Chinese-style time "10:05" / "约 12 分钟"
 */
import { t, apiMessage as pageMessage } from "./dom.js";
import { HallStream } from "/displays/stream.js";


function csrfToken() {
  var meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

function ApiError(status, code, message) {
  this.name = "ApiError";
  this.status = status;
  this.code = code;
  this.message = message;
}
ApiError.prototype = Object.create(Error.prototype);

async function api(method, path, body) {
  var headers = { "Accept": "application/json" };
  var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined && body !== null) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  var response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "network_error", t("网络连接失败，请检查网络后重试"));
  }
  if (response.status === 204) return null;
  var data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) {
    var err = data && data.error ? data.error : {};
    var message = err.message ? pageMessage(err.message) : t("请求失败") + " " + response.status;
    if (response.status === 401) message = t("登录已失效，请重新登录");
    throw new ApiError(response.status, err.code || "error", message);
  }
  return data;
}

var flashTimer = null;
function flash(text, kind) {
  var node = document.getElementById("flash");
  if (!node) return;
  kind = kind || "info";
  node.className = "flash flash-" + kind;
  node.textContent = "";
  var span = document.createElement("span");
  span.textContent = text;
  node.appendChild(span);
  var close = document.createElement("button");
  close.type = "button";
  close.className = "flash-close";
  close.setAttribute("aria-label", t("关闭"));
  close.textContent = "×";
  close.onclick = function () { node.hidden = true; };
  node.appendChild(close);
  node.hidden = false;
  if (flashTimer) clearTimeout(flashTimer);
  if (kind !== "error") flashTimer = setTimeout(function () { node.hidden = true; }, 4000);
}

function showError(err) {
  flash(err && err.message ? err.message : String(err), "error");
  if (err && err.status === 401) {
    setTimeout(function () { location.href = "/login?next=" + encodeURIComponent(location.pathname); }, 1500);
  }
}

/* The hall's display websocket through the one stream client every page uses
 * (/displays/stream.js: snapshot, replay after a drop, resync on a gap in seq or a heartbeat
 * ahead, back-off with jitter). `path` is "/ws/halls/{hall}/display". onMessage gets the
 * snapshot and every event (never a heartbeat); onState "open" | "reconnecting". */
function liveSocket(path, handlers) {
  var match = /^\/ws\/halls\/([^/?]+)\/display/.exec(path);
  var hall = match ? decodeURIComponent(match[1]) : "";
  var stream = new HallStream(hall, {
    snapshot: handlers.onMessage,
    event: handlers.onMessage,
    status: function (connected) {
      if (handlers.onState) handlers.onState(connected ? "open" : "reconnecting");
    }
  });
  stream.start();
  return {
    close: function () { stream.stop(); },
    get lastSeq() { return stream.lastSeq; }
  };
}

function fmtTime(iso) {
  if (!iso) return "";
  var m = /T(\d\d):(\d\d)/.exec(iso);
  return m ? m[1] + ":" + m[2] : iso;
}

function fmtMinutes(n) {
  if (n == null) return "";
  if (n <= 0) return t("即将轮到");
  if (n < 60) return t("约 %(n)s 分钟", { n: n });
  return t("约 %(h)s 小时 %(m)s 分钟", { h: Math.floor(n / 60), m: n % 60 });
}

// Print buttons (data-print): no inline handlers, the pages' CSP allows none.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) window.print();
});

export { api, ApiError, flash, showError, liveSocket, fmtTime, fmtMinutes };
