/* 星级公示条: a compact strip of the published stars for the hall display (between calls).
 *
 * The hall display (hall.js) starts it in its <div id="board-strip" data-board-strip>:
 *     import { startBoardStrip } from "./board-strip.js";
 *     const strip = startBoardStrip(box, hall, onDisplay);   // onDisplay(person): shown here?
 * The strip reads the public GET /api/v1/halls/{hall}/board every 5 minutes and pages through
 * the staff with published stars (a few at a time, every 8 s). Nothing is shown before a month
 * has been published. The display pauses it while a call is announced: strip.pause(ms).
 * Its look is in display.css (the pages' CSP allows no inline <style>). The stars are drawn
 * as ★ (earned) and ☆ (not earned), so the verdict reads right even without colours; staff
 * whose month has no stars (too little evidence) are not shown.
 */
import { el, t } from "/static/dom.js";

/* The strip in `box` for `hall`; `onDisplay(person)`, when given, keeps the staff this display
 * shows. Returns { pause(ms), reload(), turn(), people }. */
export function startBoardStrip(box, hall, onDisplay) {
  var PAGE = 4;
  var REFRESH_MS = 5 * 60 * 1000;
  var TURN_MS = 8000;
  var people = [];
  var period = "";
  var page = 0;
  var pausedUntil = 0;

  box.classList.add("board-strip");
  box.hidden = true;

  /* A zone's display (hall.js with ?zone=) shows the staff of that zone's windows only. */
  function here() {
    return onDisplay ? people.filter(onDisplay) : people;
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

  var strip = {
    pause: function (ms) { pausedUntil = Date.now() + (ms || 15000); },
    reload: load,
    /* the next few staff now (operators and tests) */
    turn: function () { pausedUntil = 0; render(); },
    get people() { return people; },
  };
  load();
  setInterval(load, REFRESH_MS);
  setInterval(render, TURN_MS);
  return strip;
}
