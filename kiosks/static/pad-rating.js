/* 好差评 on the evaluator pad (评价器): five big buttons with the official labels, optional
 * tags and comment, a thank-you, and refusals in Chinese. pad.js (the devices area) fills
 * #pad-rating's data-track-token and fires "pad:finished" / "pad:idle" (see pad.html).
 *
 * The pad posts POST /api/v1/track/{token}/feedback with its own device key: the window's
 * evaluator pad is the citizen's rating device; any other device or staff login is refused.
 */
(function () {
  "use strict";

  var body = document.body;
  var KEY_STORE = "window_service.pad.key." + body.dataset.hall + "." + body.dataset.window;
  var LEVELS = [
    [5, "非常满意"], [4, "满意"], [3, "基本满意"], [2, "不满意"], [1, "非常不满意"],
  ];
  var box = document.getElementById("pad-rating");
  if (!box) return;
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = "/kiosks/pad-rating.css";
  document.head.appendChild(css);

  var current = null; // { token, rating, tags:Set }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

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
            var msg = data && data.error ? data.error.message : "评价提交失败，请稍后再试 (" + r.status + ")";
            throw new Error(msg);
          }
          return data;
        });
      },
      function () { throw new Error("网络连接失败，请稍后再试 (network error)"); }
    );
  }

  function clear() {
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

  function render(state) {
    box.textContent = "";
    var wrap = el("div", "pr");
    wrap.appendChild(el("p", "pr-title", "请您对本次服务进行评价"));
    var levels = el("div", "pr-levels");
    levels.setAttribute("role", "radiogroup");
    LEVELS.forEach(function (lv) {
      var b = el("button", "pr-level");
      b.type = "button";
      b.dataset.rating = String(lv[0]);
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", "false");
      b.appendChild(el("span", "pr-face", "★".repeat(lv[0])));
      b.appendChild(el("span", "pr-label", lv[1]));
      levels.appendChild(b);
    });
    wrap.appendChild(levels);
    var tags = el("div", "pr-tags");
    tags.hidden = true;
    state.tags.forEach(function (tag) {
      var t = el("button", "pr-tag", tag);
      t.type = "button";
      t.dataset.tag = tag;
      t.setAttribute("aria-pressed", "false");
      tags.appendChild(t);
    });
    wrap.appendChild(tags);
    var comment = el("textarea", "pr-comment");
    comment.rows = 2;
    comment.maxLength = state.comment_max_chars;
    comment.placeholder = "意见建议（选填）";
    comment.hidden = true;
    wrap.appendChild(comment);
    var error = el("p", "pr-error");
    error.hidden = true;
    error.setAttribute("role", "alert");
    wrap.appendChild(error);
    var submit = el("button", "pr-submit", "提交评价");
    submit.type = "button";
    submit.disabled = true;
    wrap.appendChild(submit);
    box.appendChild(wrap);

    levels.addEventListener("click", function (ev) {
      var b = ev.target.closest(".pr-level");
      if (!b) return;
      current.rating = Number(b.dataset.rating);
      Array.prototype.forEach.call(levels.children, function (x) {
        x.setAttribute("aria-checked", String(x === b));
      });
      tags.hidden = false;
      comment.hidden = false;
      submit.disabled = false;
      error.hidden = true;
    });
    tags.addEventListener("click", function (ev) {
      var t = ev.target.closest(".pr-tag");
      if (!t) return;
      var on = t.getAttribute("aria-pressed") !== "true";
      t.setAttribute("aria-pressed", String(on));
      if (on) current.tags.add(t.dataset.tag);
      else current.tags.delete(t.dataset.tag);
    });
    submit.addEventListener("click", function () {
      if (!current || !current.rating) return;
      submit.disabled = true;
      var mine = current;
      request("POST", "/api/v1/track/" + encodeURIComponent(mine.token) + "/feedback", {
        rating: mine.rating,
        tags: Array.from(mine.tags),
        comment: comment.value.trim(),
      }).then(
        function (result) {
          if (current !== mine) return;
          message("pr-thanks", "感谢您的评价！", "您的评价：" + result.label + "。Thank you!");
          document.dispatchEvent(new CustomEvent("pad:rated", { detail: result }));
        },
        function (err) {
          if (current !== mine) return;
          error.textContent = err.message;
          error.hidden = false;
          submit.disabled = false;
        }
      );
    });
  }

  function start(token) {
    if (!token) { clear(); return; }
    current = { token: token, rating: null, tags: new Set() };
    var mine = current;
    request("GET", "/api/v1/track/" + encodeURIComponent(token) + "/feedback").then(
      function (state) {
        if (current !== mine) return;
        if (state.can_rate) render(state);
        else if (state.feedback) message("pr-thanks", "本次服务已评价，感谢您的参与！", "评价：" + state.feedback.label);
        else message("pr-error", state.message);
      },
      function (err) {
        if (current === mine) message("pr-error", err.message);
      }
    );
  }

  document.addEventListener("pad:finished", function () { start(box.dataset.trackToken); });
  document.addEventListener("pad:idle", clear);
  if (!box.hidden && box.dataset.trackToken) start(box.dataset.trackToken);
})();
