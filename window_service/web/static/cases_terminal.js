/* Case actions of the window terminal: 受理办件 from the ticket being served, 补正告知 (all missing
 * materials at once), 材料补齐 (resume the clock), 咨询登记, and printing receipts and notices.
 * Uses Terminal (terminal.js) and the "terminal:state" event; api()/flash() from app.js. */
import { $, t } from "./dom.js";
import { api, flash } from "./app.js";
import { Terminal } from "./terminal.js";

if ($("case-accept")) start();

function start() {
  var state = Terminal.state;
  var last = null; // the last case handled at this terminal
  try { last = JSON.parse(sessionStorage.getItem("window_service.last_case") || "null"); } catch (e) { last = null; }

  function run(fn) {
    return Terminal.run(fn);
  }

  function fmtDue(value) {
    if (!value) return "";
    if (value.indexOf("T") >= 0) return value.slice(0, 10) + " " + value.slice(11, 16);
    return value;
  }

  function remember(c, noticeUrl) {
    document.dispatchEvent(new CustomEvent("cases:changed"));
    last = { receipt_no: c.receipt_no, check_code: c.check_code, promised_due: c.promised_due,
             provisional: c.provisional, receipt_url: "/cases/" + c.receipt_no + "/receipt",
             notice_url: noticeUrl || null };
    try { sessionStorage.setItem("window_service.last_case", JSON.stringify(last)); } catch (e) { /* private mode */ }
    showLast();
  }

  function showLast() {
    if (!last) { $("case-last").hidden = true; return; }
    $("case-last").hidden = false;
    $("case-last-no").textContent = last.receipt_no;
    $("case-last-code").textContent = last.check_code || "";
    $("case-last-due").textContent = t("承诺办结") + " " + fmtDue(last.promised_due) +
      (last.provisional ? " (" + t("预计") + ")" : "");
    $("case-last-receipt").href = last.receipt_url;
    var n = $("case-last-notice");
    n.hidden = !last.notice_url;
    if (last.notice_url) n.href = last.notice_url;
  }

  var chainFor = null;
  async function showChain(cur) {
    var node = $("case-chain");
    if (!cur) { chainFor = null; node.hidden = true; return; }
    if (chainFor === cur.id) return;
    chainFor = cur.id;
    try {
      var chain = await api("GET", "/api/v1/tickets/" + cur.id + "/chain");
      var moved = chain.steps.some(function (s) { return s.action === "transferred"; });
      if (chainFor !== cur.id) return; // another ticket meanwhile
      if (!moved || !chain.first_responder) { node.hidden = true; return; }
      node.textContent = t("首问责任人") + "：" + (chain.first_responder.name || chain.first_responder.username) +
        " · " + t("经手") + "：" + chain.touched.map(function (s) { return s.name || s.username; }).join(" → ");
      node.hidden = false;
    } catch (e) { node.hidden = true; }
  }

  // The ticket served last: a consultation registered just after finishing still belongs to it.
  var recent = null;
  var RECENT_MS = 10 * 60 * 1000;

  function update(s) {
    state = s || state;
    var cur = state.current;
    if (cur) recent = { id: cur.id, number: cur.number, service: cur.service, at: Date.now() };
    $("case-accept").disabled = !(cur && cur.status === "serving");
    showChain(cur);
  }

  function open(id) {
    var d = $(id);
    d.showModal();
    var first = d.querySelector("input:not([type=hidden]), textarea, select");
    if (first) first.focus();
    return d;
  }

  document.querySelectorAll("[data-case-close]").forEach(function (b) {
    b.addEventListener("click", function () { b.closest("dialog").close(); });
  });

  $("case-accept").addEventListener("click", function () {
    if (!state.current || state.current.status !== "serving") return;
    $("case-accept-form").reset();
    $("case-accept-ticket").textContent = state.current.number;
    open("case-accept-dialog");
  });
  $("case-accept-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target;
    var ticket = state.current;
    if (!ticket) return;
    var body = { applicant_name: form.applicant_name.value.trim(), applicant_phone: form.applicant_phone.value.trim() };
    $("case-accept-dialog").close();
    run(async function () {
      var c = await api("POST", "/api/v1/tickets/" + ticket.id + "/case", body);
      remember(c);
      flash(t("已受理") + " " + c.receipt_no + " · " + t("查询码") + " " + c.check_code, "ok");
      window.open("/cases/" + encodeURIComponent(c.receipt_no) + "/receipt", "_blank", "noopener");
    });
  });

  function withReceipt(dialogId, formId) {
    $(formId).reset();
    if (last) $(formId).receipt_no.value = last.receipt_no;
    open(dialogId);
  }

  $("case-correction").addEventListener("click", function () { withReceipt("case-correction-dialog", "case-correction-form"); });
  $("case-correction-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = ev.target;
    var no = form.receipt_no.value.trim();
    var materials = form.materials.value.split(/\n+/).map(function (s) { return s.trim(); }).filter(Boolean);
    if (!materials.length) { flash(t("请列明缺少的材料"), "error"); return; }
    $("case-correction-dialog").close();
    run(async function () {
      var c = await api("POST", "/api/v1/cases/" + encodeURIComponent(no) + "/correction", { materials: materials });
      var notice = c.notices[c.notices.length - 1];
      remember(c, "/cases/" + encodeURIComponent(no) + "/notices/" + notice.seq);
      if (notice.breach) flash(t("已发出补正告知；这是本办件的第二次告知，已记录为违反一次性告知"), "error");
      else flash(t("已发出补正告知，办件暂停计时"), "ok");
      window.open("/cases/" + encodeURIComponent(no) + "/notices/" + notice.seq, "_blank", "noopener");
    });
  });

  $("case-resume").addEventListener("click", function () { withReceipt("case-resume-dialog", "case-resume-form"); });
  $("case-resume-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var no = ev.target.receipt_no.value.trim();
    $("case-resume-dialog").close();
    run(async function () {
      var c = await api("POST", "/api/v1/cases/" + encodeURIComponent(no) + "/resume");
      remember(c);
      flash(t("材料已补齐，恢复计时；承诺办结") + " " + fmtDue(c.promised_due), "ok");
    });
  });

  var consultTicket = null;
  $("case-consult").addEventListener("click", function () {
    var select = $("case-consult-service");
    select.textContent = "";
    (state.window.services || []).concat(state.all_services || []).forEach(function (s) {
      if (select.querySelector('option[value="' + s.code + '"]')) return;
      var o = document.createElement("option");
      o.value = s.code;
      o.textContent = s.prefix + " · " + s.name;
      select.appendChild(o);
    });
    $("case-consult-form").reset();
    var ticket = state.current || (recent && Date.now() - recent.at < RECENT_MS ? recent : null);
    if (ticket) select.value = ticket.service;
    consultTicket = ticket;
    $("case-consult-ticket").textContent = ticket ? ticket.number : "";
    $("case-consult-link-row").hidden = !ticket;
    open("case-consult-dialog");
  });
  $("case-consult-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target;
    var body = { service: f.service.value, summary: f.summary.value.trim(),
                 citizen_name: f.citizen_name.value.trim(), referred_to: f.referred_to.value.trim() };
    if (consultTicket && f.link.checked) body.ticket = consultTicket.id;
    $("case-consult-dialog").close();
    run(async function () {
      await api("POST", "/api/v1/consultations", body);
      flash(t("咨询已登记"), "ok");
    });
  });

  /* 本窗口在办办件: the window's open cases, soonest deadline first, warnings from the server. */
  async function loadWindowCases() {
    if (document.hidden) return;
    var list;
    try { list = await api("GET", "/api/v1/windows/" + state.window.id + "/cases"); } catch (e) { return; }
    var ul = $("window-cases");
    ul.textContent = "";
    var red = 0, yellow = 0;
    list.forEach(function (c) {
      var li = document.createElement("li");
      if (c.warning) { li.className = "row-" + c.warning; if (c.warning === "red") red++; else yellow++; }
      var a = document.createElement("a");
      a.href = "/cases/" + encodeURIComponent(c.receipt_no);
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = c.receipt_no;
      li.appendChild(a);
      li.appendChild(document.createTextNode(
        " " + c.service_name + " · " + (c.clock_stopped ? t("补正中（暂停计时）") : t("承诺办结") + " " + fmtDue(c.promised_due)) +
        (c.warning_label ? " · " + t(c.warning_label) : "")));
      ul.appendChild(li);
    });
    $("window-cases-count").textContent = String(list.length);
    var warned = [];
    if (red) warned.push(t("红牌") + " " + red);
    if (yellow) warned.push(t("黄牌") + " " + yellow);
    $("window-cases-warned").textContent = warned.join(" · ");
    $("window-cases-warned").className = red ? "badge badge-red" : (yellow ? "badge badge-yellow" : "");
  }
  setInterval(loadWindowCases, 60000);
  document.addEventListener("cases:changed", loadWindowCases);

  document.addEventListener("terminal:state", function (ev) { update(ev.detail); });
  loadWindowCases();
  update(state);
  showLast();
}
