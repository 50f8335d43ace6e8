/* 取号机: the ticket on screen (as it will be printed), its QR code, and printing it — on the
 * kiosk's printer agent (kiosks/printer_agent.py) when one is set up, else the browser's. */
import { $, t } from "/static/dom.js";


function hallTime(iso) {
  // "2026-11-26T10:03:00+08:00" is already hall time: read its fields as written
  var m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(iso || "");
  if (!m) return "";
  return t("%(y)s年%(m)s月%(d)s日", { y: m[1], m: parseInt(m[2], 10), d: parseInt(m[3], 10) }) + " " + m[4] + ":" + m[5];
}

function render(ticket, labels, zones) {
  $("t-service").textContent = ticket.service_name || ticket.service;
  $("t-number").textContent = ticket.number;
  var green = $("t-green");
  green.hidden = !ticket.priority;
  green.textContent = !ticket.priority
    ? ""
    : ticket.priority === "appointment"
      ? t("预约 · 优先叫号")
      : t("绿色通道") + " · " + (labels[ticket.priority] || ticket.priority);
  $("t-ahead").textContent = t("您前面还有 %(n)s 人等候", { n: ticket.ahead });
  $("t-wait").textContent =
    ticket.ahead > 0 && ticket.estimated_wait_minutes > 0
      ? t("预计等候约 %(m)s 分钟", { m: ticket.estimated_wait_minutes })
      : t("请留意叫号");
  var where = (zones || []).join("、");
  $("t-zone").textContent = where ? t("办理地点：%(zone)s", { zone: where }) : "";
  $("t-zone").hidden = !where;
  $("t-time").textContent = t("取号时间：") + hallTime(ticket.queued_at);
}

function loadQr(url) {
  var box = $("t-qr");
  box.textContent = "";
  if (!url) return Promise.resolve(false);
  return fetch("/qr.svg?data=" + encodeURIComponent(url))
    .then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    })
    .then(function (svg) {
      var node = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
      if (node && node.nodeName.toLowerCase() === "svg") {
        node.setAttribute("role", "img");
        node.setAttribute("aria-label", t("二维码"));
        box.appendChild(document.importNode(node, true));
        return true;
      }
      return false;
    })
    .catch(function () {
      var missing = document.createElement("div");
      missing.className = "t-qr-missing";
      missing.textContent = url;
      box.appendChild(missing);
      return false;
    });
}

/** Print the ticket shown; ``how`` = {agent: printer agent URL or null, mode: "browser"|"none"}. */
function print(ticket, how, done) {
  if (how.agent) {
    fetch(how.agent + "/print", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        hall_name: document.body.dataset.hallName,
        ticket: ticket,
        zone: $("t-zone").textContent,
        foot: $("t-foot").textContent,
      }),
    })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
      })
      .catch(function () {
        window.print(); // the agent is down: fall back to the browser's printer
      })
      .then(done);
    return;
  }
  if (how.mode === "browser") {
    try {
      window.print(); // kiosk Chromium runs with --kiosk-printing: prints without a dialog
    } catch (err) {
      /* printing unavailable: the ticket stays on screen */
    }
  }
  done();
}

export const KioskTicket = { render: render, loadQr: loadQr, print: print };
