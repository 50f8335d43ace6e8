/* 星级公示条: a compact strip of the published stars for the hall display (between calls).
 *
 * Include on a display page after its own scripts:
 *     <div id="board-strip" data-board-strip></div>
 *     <script src="/displays/board-strip.js"></script>
 * The hall comes from the element's data-hall or <body data-hall>. The strip reads the public
 * GET /api/v1/halls/{hall}/board every 5 minutes and pages through the staff with published
 * stars (a few at a time, every 8 s). Nothing is shown before a month has been published.
 * A page may pause it while a call is announced: window.boardStrip.pause(ms).
 */
(function () {
  "use strict";
  var box = document.querySelector("[data-board-strip]");
  if (!box) return;
  var hall = box.dataset.hall || document.body.dataset.hall;
  if (!hall) return;
  var PAGE = 4;
  var REFRESH_MS = 5 * 60 * 1000;
  var TURN_MS = 8000;
  var people = [];
  var period = "";
  var page = 0;
  var pausedUntil = 0;

  var style = document.createElement("style");
  style.textContent =
    ".board-strip{display:flex;gap:3vw;align-items:center;justify-content:center;padding:.6vh 2vw;" +
    "background:#0f1e36;color:#f4f6fa;font-size:2.6vh;white-space:nowrap;overflow:hidden}" +
    ".board-strip .bs-title{color:#ffd666;font-weight:700}" +
    ".board-strip .bs-stars{color:#ffcc33;letter-spacing:.1em;margin-left:.5em}" +
    ".board-strip .bs-off{color:#3d5175}";
  document.head.appendChild(style);
  box.classList.add("board-strip");
  box.hidden = true;

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }

  function render() {
    if (!people.length) { box.hidden = true; return; }
    if (Date.now() < pausedUntil) return;
    var start = (page * PAGE) % people.length;
    var shown = people.slice(start, start + PAGE);
    box.textContent = "";
    box.appendChild(el("span", "bs-title", period + "星级评定"));
    shown.forEach(function (p) {
      var item = el("span", "bs-item", p.name + (p.window ? "（" + p.window + "号窗口）" : ""));
      var stars = el("span", "bs-stars", "★".repeat(p.stars));
      stars.appendChild(el("span", "bs-off", "★".repeat(5 - p.stars)));
      item.appendChild(stars);
      box.appendChild(item);
    });
    box.hidden = false;
    page += 1;
  }

  function load() {
    fetch("/api/v1/halls/" + encodeURIComponent(hall) + "/board", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        period = data.period_label || "";
        people = data.staff
          .filter(function (p) { return p.stars; })
          .sort(function (a, b) { return (b.score || 0) - (a.score || 0); });
        render();
      })
      .catch(function () { /* keep the last strip */ });
  }

  window.boardStrip = {
    pause: function (ms) { pausedUntil = Date.now() + (ms || 15000); },
    reload: load,
  };
  load();
  setInterval(load, REFRESH_MS);
  setInterval(render, TURN_MS);
})();
