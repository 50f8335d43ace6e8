/* 其他渠道评价登记 (office/rectifications): the office enters a 12345, suggestion-box,
 * supervisor or on-site review rating against a ticket, case, window, staff member or
 * department (POST /api/v1/halls/{hall}/feedback/entries). */
import { $, t } from "/static/dom.js";
import { api, flash, showError } from "/static/app.js";

var form = $("entry-form");
if (form) start();

function start() {
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = form.elements;
    var body = {
      channel: f.channel.value,
      rating: Number(f.rating.value),
      comment: f.comment.value.trim(),
      reference: f.reference.value.trim(),
      contact: f.contact.value.trim(),
    };
    var subject = f.subject.value.trim();
    var kind = f.kind.value;
    if (kind === "window") body.window = Number(subject);
    else if (kind === "ticket") { body.ticket = subject.toUpperCase(); body.day = f.day.value || null; }
    else body[kind] = subject;
    api("POST", "/api/v1/halls/" + form.dataset.hall + "/feedback/entries", body).then(function (fb) {
      flash(fb.rectification ? t("已登记，并已生成整改工单") : t("已登记"), "ok");
      form.reset();
      document.dispatchEvent(new CustomEvent("rectifications-changed"));
    }, showError);
  });
}
