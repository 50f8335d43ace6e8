/* 工作日历: turn "2027-02-06~2027-02-14 春节" lines into days and PUT the year. */
import { t } from "./dom.js";
import { api, flash, showError } from "./app.js";

var form = document.getElementById("calendar-form");
if (form) start();

function start() {
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function iso(d) { return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()); }
  function parse(s) {
    var m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
    if (!m) return null;
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  }

  function days(text) {
    var out = [];
    text.split(/\n+/).forEach(function (line) {
      line = line.trim();
      if (!line) return;
      var m = /^(\S+?)(?:\s*[~至]\s*(\S+))?(?:\s+(.*))?$/.exec(line);
      var from = m && parse(m[1]);
      var to = m && m[2] ? parse(m[2]) : from;
      if (!from || !to || to < from) throw new Error(t("无法识别的日期") + "：" + line);
      for (var d = new Date(from); d <= to; d.setUTCDate(d.getUTCDate() + 1)) {
        out.push({ date: iso(d), name: (m[3] || "").trim() });
      }
    });
    return out;
  }

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var body;
    try {
      body = { holidays: days(form.holidays.value), workdays: days(form.workdays.value), note: form.note.value.trim() };
    } catch (e) { flash(e.message, "error"); return; }
    try {
      var r = await api("PUT", "/api/v1/calendar/years/" + encodeURIComponent(form.year.value), body);
      flash(t("已保存；重新计算期限的办件数") + "：" + r.recomputed, "ok");
      setTimeout(function () { location.href = "/office/calendar?year=" + r.year; }, 1200);
    } catch (err) { showError(err); }
  });
}
