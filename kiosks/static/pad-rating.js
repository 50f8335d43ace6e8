/* 好差评 on the evaluator pad (评价器): five equal buttons with the official labels, one tap
 * to rate with a short confirmation (optional tags), a thank-you, and refusals in Chinese. pad.js (the devices area) fills
 * #pad-rating's data-track-token and fires "pad:finished" / "pad:idle" (see pad.html).
 *
 * The pad posts POST /api/v1/track/{token}/feedback with its own device key: the window's
 * evaluator pad is the citizen's rating device; any other device or staff login is refused.
 */
import { apiMessage, el, t } from "/static/dom.js";

var body = document.body;
var KEY_STORE = "window_service.pad.key." + body.dataset.hall + "." + body.dataset.window;
var CONFIRM_SECONDS = 5; // the short confirmation before a rating is sent by itself
var BAD_SECONDS = 10; // 不满意 / 非常不满意: time to tick what went wrong
var TAG_SECONDS = 8; // after touching a tag, at least this long again
var LEVELS = [
  [5, "非常满意"], [4, "满意"], [3, "基本满意"], [2, "不满意"], [1, "非常不满意"],
];
var box = document.getElementById("pad-rating");
if (box) start();

function start() {
  var current = null; // { token, rating, tags:Set }

  function request(method, path, payload) {
    var headers = { Accept: "application/json", "X-Device-Key": localStorage.getItem(KEY_STORE) || "" };
    var init = { method: method, headers: headers, cache: "no-store", credentials: "omit" };
    if (payload) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    return fetch(path, init).then(
      function (r) {
        return r.json().catch(function () { return null; }).then(function (data) {
          if (!r.ok) {
            var msg = data && data.error ? apiMessage(data.error.message) : t("评价提交失败，请稍后再试");
            throw new Error(msg);
          }
          return data;
        });
      },
      function () { throw new Error(t("网络连接失败，请稍后再试")); }
    );
  }

  function clear() {
    if (current && current.stop) current.stop();
    current = null;
    box.textContent = "";
  }

  function message(cls, text, note) {
    box.textContent = "";
    var wrap = el("div", "pr");
    wrap.appendChild(el("p", cls, text));
    if (note) wrap.appendChild(el("p", "pr-note", note));
    box.appendChild(wrap);
  }

  // One tap rates: the chosen level shows a short confirmation that submits by itself after
  // a few seconds (sooner with 提交评价), so a slip of the finger can still be changed (重新选择).
  // Tags are optional; touching one gives a little more time.
  function render(state) {
    box.textContent = "";
    var wrap = el("div", "pr");
    wrap.appendChild(el("p", "pr-title", t("请您对本次服务进行评价，点一下即可")));
    var levels = el("div", "pr-levels");
    levels.setAttribute("role", "radiogroup");
    LEVELS.forEach(function (lv) {
      var b = el("button", "pr-level");
      b.type = "button";
      b.dataset.rating = String(lv[0]);
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", "false");
      b.setAttribute("aria-label", t(lv[1]));
      b.appendChild(el("span", "pr-face", "★".repeat(lv[0])));
      b.appendChild(el("span", "pr-label", t(lv[1])));
      levels.appendChild(b);
    });
    wrap.appendChild(levels);
    var confirm = el("div", "pr-confirm");
    confirm.hidden = true;
    var chosen = el("p", "pr-chosen");
    var tags = el("div", "pr-tags");
    state.tags.forEach(function (tag) {
      var b = el("button", "pr-tag", t(tag));
      b.type = "button";
      b.dataset.tag = tag;
      b.setAttribute("aria-pressed", "false");
      tags.appendChild(b);
    });
    var actions = el("div", "pr-actions");
    var submit = el("button", "pr-submit", t("提交评价"));
    submit.type = "button";
    var undo = el("button", "pr-undo", t("重新选择"));
    undo.type = "button";
    actions.appendChild(submit);
    actions.appendChild(undo);
    var countdown = el("span", "pr-countdown");
    actions.appendChild(countdown);
    [chosen, tags, actions].forEach(function (n) { confirm.appendChild(n); });
    wrap.appendChild(confirm);
    var error = el("p", "pr-error");
    error.hidden = true;
    error.setAttribute("role", "alert");
    wrap.appendChild(error);
    box.appendChild(wrap);

    var timer = null;
    var left = 0;
    function stop() {
      clearInterval(timer);
      timer = null;
    }
    function tick() {
      countdown.textContent = t("%(n)s秒后自动提交", { n: left });
      if (left <= 0) send();
      left -= 1;
    }
    function wait(seconds) {
      stop();
      left = Math.max(left, seconds);
      tick();
      timer = setInterval(tick, 1000);
    }
    function send() {
      stop();
      if (!current || !current.rating || current.sending) return;
      var mine = current;
      mine.sending = true;
      submit.disabled = true;
      request("POST", "/api/v1/track/" + encodeURIComponent(mine.token) + "/feedback", {
        rating: mine.rating,
        tags: Array.from(mine.tags),
        comment: "",
      }).then(
        function (result) {
          if (current !== mine) return;
          message("pr-thanks", t("感谢您的评价！"), t("您的评价：%(label)s", { label: t(result.label) }));
          document.dispatchEvent(new CustomEvent("pad:rated", { detail: result }));
        },
        function (err) {
          if (current !== mine) return;
          mine.sending = false;
          error.textContent = err.message;
          error.hidden = false;
          submit.disabled = false;
        }
      );
    }
    current.stop = stop;

    levels.addEventListener("click", function (ev) {
      var b = ev.target.closest(".pr-level");
      if (!b || current.sending) return;
      current.rating = Number(b.dataset.rating);
      Array.prototype.forEach.call(levels.children, function (x) {
        x.setAttribute("aria-checked", String(x === b));
      });
      var label = t(LEVELS[5 - current.rating][1]);
      chosen.textContent = t("您的评价：%(label)s", { label: label });
      confirm.classList.toggle("pr-bad", current.rating <= 2);
      confirm.hidden = false;
      error.hidden = true;
      left = 0;
      wait(current.rating <= 2 ? BAD_SECONDS : CONFIRM_SECONDS);
    });
    tags.addEventListener("click", function (ev) {
      var b = ev.target.closest(".pr-tag");
      if (!b || current.sending) return;
      var on = b.getAttribute("aria-pressed") !== "true";
      b.setAttribute("aria-pressed", String(on));
      if (on) current.tags.add(b.dataset.tag);
      else current.tags.delete(b.dataset.tag);
      wait(TAG_SECONDS);
    });
    submit.addEventListener("click", send);
    undo.addEventListener("click", function () {
      stop();
      current.rating = null;
      confirm.hidden = true;
      Array.prototype.forEach.call(levels.children, function (x) {
        x.setAttribute("aria-checked", "false");
      });
    });
  }

  function start(token) {
    if (current && current.stop) current.stop();
    if (!token) { clear(); return; }
    current = { token: token, rating: null, tags: new Set() };
    var mine = current;
    request("GET", "/api/v1/track/" + encodeURIComponent(token) + "/feedback").then(
      function (state) {
        if (current !== mine) return;
        if (state.can_rate) render(state);
        else if (state.feedback) message("pr-thanks", t("本次服务已评价，感谢您的参与！"), t("您的评价：%(label)s", { label: t(state.feedback.label) }));
        else message("pr-error", apiMessage(state.message));
      },
      function (err) {
        if (current === mine) message("pr-error", err.message);
      }
    );
  }

  document.addEventListener("pad:finished", function () { start(box.dataset.trackToken); });
  document.addEventListener("pad:idle", clear);
  if (!box.hidden && box.dataset.trackToken) start(box.dataset.trackToken);
}
