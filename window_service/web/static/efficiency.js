/* 效能告诫 (office/warnings): propose for the quarter, issue or decline with a reason. */
import { $, t } from "/static/dom.js";
import { api } from "/static/app.js";

var message = $("warnings-message");
var propose = $("warnings-propose");

function failed(err) {
  message.className = "message error";
  message.textContent = err.message;
}

if (propose) {
  propose.addEventListener("click", function () {
    propose.disabled = true;
    api("POST", "/api/v1/halls/" + propose.dataset.hall + "/warnings/propose", {
      period: propose.dataset.period,
    })
      .then(function (rows) {
        message.className = "message";
        message.textContent = t("新提出或更新告诫建议 %(n)s 条", { n: rows.length });
        window.setTimeout(function () { window.location.reload(); }, 600);
      })
      .catch(function (err) {
        propose.disabled = false;
        failed(err);
      });
  });
}

document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-decide]");
  if (!button) return;
  var row = button.closest("tr");
  var reason = row.querySelector(".warning-reason").value.trim();
  if (!reason) {
    failed(new Error(t("请填写理由")));
    return;
  }
  button.disabled = true;
  api("POST", "/api/v1/warnings/" + row.dataset.id + "/" + button.dataset.decide, { reason: reason })
    .then(function () { window.location.reload(); })
    .catch(function (err) {
      button.disabled = false;
      failed(err);
    });
});
