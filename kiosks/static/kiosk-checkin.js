/* 取号机: check-in of an appointment (预约签到, its 8-digit code) or of a ticket taken online
 * (网上取号签到, its number or the phone's tracking QR). The ticket is shown and printed by
 * kiosk.js (its export kiosk). */
import { $, apiMessage, t } from "/static/dom.js";
import { kiosk } from "./kiosk.js";

var hall = document.body.dataset.hall;

function checkInPath(text) {
  var code = text.replace(/\s+/g, "");
  var digits = code.match(/^(?:.*\D)?(\d{8})$/); // a scanned code may carry a prefix
  if (digits) return "/appointments/" + digits[1] + "/check-in";
  var token = code.match(/\/t\/([A-Za-z0-9_-]{8,64})$/); // the phone's tracking QR
  return "/remote-tickets/" + encodeURIComponent(token ? token[1] : code.toUpperCase()) + "/check-in";
}

$("checkin-open").addEventListener("click", function () {
  $("checkin-code").value = "";
  $("checkin-error").hidden = true;
  kiosk.show("checkin");
  $("checkin-code").focus();
  kiosk.backLater(64000);
});
$("checkin-back").addEventListener("click", kiosk.toStart);
$("checkin-form").addEventListener("submit", function (event) {
  event.preventDefault();
  var text = $("checkin-code").value.trim();
  if (!text || kiosk.state.busy) return;
  kiosk.state.busy = true;
  fetch("/api/v1/halls/" + encodeURIComponent(hall) + checkInPath(text), {
    method: "POST",
    headers: { Accept: "application/json", "X-Device-Key": kiosk.deviceKey() },
  })
    .then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) {
        return { status: r.status, data: data };
      });
    })
    .then(
      function (res) {
        kiosk.state.busy = false;
        if (res.status === 200 || res.status === 201) {
          kiosk.showTicket(res.data, null);
          return;
        }
        var message = res.data && res.data.error ? apiMessage(res.data.error.message) : t("签到失败") + "（" + res.status + "）";
        $("checkin-error").textContent = message;
        $("checkin-error").hidden = false;
      },
      function () {
        kiosk.state.busy = false;
        $("checkin-error").textContent = t("网络异常，请重试");
        $("checkin-error").hidden = false;
      }
    );
});
