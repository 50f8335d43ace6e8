/* 收费登记 on the window terminal: what was charged for the ticket being served (or the one
 * finished in the last 10 minutes), checked by the server against the service's fee standard;
 * a breach is reported to the efficiency office at once. Uses the "terminal:state" event of
 * terminal.js and api()/t()/flash() from app.js. */
import { $, t } from "./dom.js";
import { api, flash } from "./app.js";
import { Terminal } from "./terminal.js";

var button = $("fee-charge");
if (button) start();

function start() {
  var state = Terminal.state;
  var recent = null; // the ticket served last: its charge is often taken after finishing
  var RECENT_MS = 10 * 60 * 1000;
  var standards = null;
  var target = null;

  function current() {
    var cur = state.current;
    if (cur && cur.status === "serving") return cur;
    return recent && Date.now() - recent.at < RECENT_MS ? recent : null;
  }

  function update(s) {
    state = s || state;
    var cur = state.current;
    if (cur && cur.status === "serving") {
      recent = { id: cur.id, number: cur.number, service: cur.service, at: Date.now() };
    }
    button.disabled = !current();
  }

  async function loadStandards() {
    if (standards) return standards;
    var list = await api("GET", "/api/v1/halls/" + encodeURIComponent(state.hall.code) + "/fees");
    standards = {};
    list.forEach(function (s) { standards[s.service] = s; });
    return standards;
  }

  function cents(text) {
    var m = /^([0-9]{1,7})(?:\.([0-9]{1,2}))?$/.exec(text.trim());
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }

  button.addEventListener("click", async function () {
    target = current();
    if (!target) return;
    var form = $("fee-charge-form");
    form.reset();
    $("fee-charge-ticket").textContent = target.number;
    var std = null;
    try { std = (await loadStandards())[target.service] || null; } catch (e) { std = null; }
    $("fee-charge-standard").textContent = std && std.text ? std.text : t("本事项未设收费标准");
    var list = $("fee-charge-items");
    list.textContent = "";
    ((std && std.items) || []).forEach(function (i) {
      var option = document.createElement("option");
      option.value = i.name;
      list.appendChild(option);
    });
    $("fee-charge-dialog").showModal();
    form.item.focus();
  });

  document.querySelectorAll("[data-fee-close]").forEach(function (b) {
    b.addEventListener("click", function () { $("fee-charge-dialog").close(); });
  });

  $("fee-charge-form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var form = ev.target;
    var amount = cents(form.amount.value);
    if (amount === null || amount < 1) { flash(t("请填写正确的金额（元，最多两位小数）"), "error"); return; }
    if (!target) return;
    var body = {
      item: form.item.value.trim(),
      quantity: parseInt(form.quantity.value, 10) || 1,
      amount_cents: amount,
      receipt_no: form.receipt_no.value.trim()
    };
    $("fee-charge-dialog").close();
    try {
      var c = await api("POST", "/api/v1/tickets/" + target.id + "/charges", body);
      if (c.breach && c.breach !== "no_standard") {
        flash(t("已登记收费，但不符合收费标准，已报效能办") + "：" + t(c.breach_label), "error");
      } else {
        flash(t("已登记收费") + " " + c.amount_yuan + " " + t("元"), "ok");
      }
    } catch (e) {
      flash(e.message || String(e), "error");
    }
  });

  document.addEventListener("terminal:state", function (ev) { update(ev.detail); });
  update(state);
}
