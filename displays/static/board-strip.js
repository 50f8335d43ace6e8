/* 星级公示条: a compact strip of the published stars for the hall display (between calls).
 *
 * Include on a display page after its own scripts:
 *     <div id="board-strip" data-board-strip></div>
 *     <script src="/displays/board-strip.js"></script>
 * The hall comes from the element's data-hall or <body data-hall>. The strip reads the public
 * GET /api/v1/halls/{hall}/board every 5 minutes and pages through the staff with published
 * stars (a few at a time, every 8 s). Nothing is shown before a month has been published.
 * A page may pause it while a call is announced: window.boardStrip.pause(ms).
 * Its look is in display.css (the pages' CSP allows no inline <style>). The stars are drawn
 * as ★ (earned) and ☆ (not earned), so the verdict reads right even without colours; staff
 * whose month has no stars (too little evidence) are not shown.
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

  box.classList.add("board-strip");
  box.hidden = true;

  var el = Dom.el;

  /* A zone's display (hall.js with ?zone=) shows the staff of that zone's windows only. */
  function here() {
    var display = window.hallDisplay;
    if (!display || !display.zone) return people;
    return people.filter(function (p) { return p.window && display.state.windows[p.window]; });
  }

  function render() {
    var list = here();
    if (!list.length) { box.hidden = true; return; }
    if (Date.now() < pausedUntil) return;
    var start = (page * PAGE) % list.length;
    var shown = list.slice(start, start + PAGE);
    box.textContent = "";
    box.appendChild(el("span", "bs-title", t("%(period)s星级评定", { period: period })));
    shown.forEach(function (p) {
      var item = el("span", "bs-item", p.name + (p.window ? t("（%(n)s号窗口）", { n: p.window }) : ""));
      item.dataset.username = p.username;
      var stars = el("span", "bs-stars", "★".repeat(p.stars));
      stars.dataset.stars = String(p.stars);
      stars.setAttribute("aria-label", t("%(n)s星", { n: p.stars }));
      stars.appendChild(el("span", "bs-off", "☆".repeat(5 - p.stars)));
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
        period = (/^zh/.test(document.documentElement.lang) ? data.period_label : data.period) || data.period_label || "";
        people = data.staff
          .filter(function (p) { return typeof p.stars === "number" && p.stars >= 1 && p.stars <= 5; })
          .sort(function (a, b) { return (b.score || 0) - (a.score || 0); });
        render();
      })
      .catch(function () { /* keep the last strip */ });
  }

  window.boardStrip = {
    pause: function (ms) { pausedUntil = Date.now() + (ms || 15000); },
    reload: load,
    /* the next few staff now (operators and tests) */
    turn: function () { pausedUntil = 0; render(); },
    get people() { return people; },
  };
  load();
  setInterval(load, REFRESH_MS);
  setInterval(render, TURN_MS);
})();
