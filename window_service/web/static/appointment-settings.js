/* 预约设置: saves the hall's appointment rules and each service's slots through the API. */
import { t } from "./dom.js";
import { api, flash, showError } from "./app.js";

var init = JSON.parse(document.getElementById("settings-init").textContent || "{}");
var base = "/api/v1/halls/" + encodeURIComponent(init.hall);

document.getElementById("policy-form").addEventListener("submit", async function (event) {
  event.preventDefault();
  var form = event.target;
  var body = {};
  Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) {
    body[input.name] = input.type === "number" ? Number(input.value) : input.value;
  });
  try {
    await api("PUT", base + "/appointment-policy", body);
    flash(t("已保存"), "ok");
  } catch (err) {
    showError(err);
  }
});

Array.prototype.forEach.call(document.querySelectorAll(".save-service"), function (button) {
  button.addEventListener("click", async function () {
    var row = button.closest("tr");
    var capacity = row.querySelector('[name="capacity"]').value.trim();
    try {
      var saved = await api("PUT", base + "/services/" + encodeURIComponent(row.dataset.service) + "/appointment-settings", {
        enabled: row.querySelector('[name="enabled"]').checked,
        slot_minutes: Number(row.querySelector('[name="slot_minutes"]').value),
        capacity: capacity === "" ? null : Number(capacity),
      });
      row.querySelector(".bookable").textContent = String(saved.bookable_per_slot);
      flash(t("已保存"), "ok");
    } catch (err) {
      showError(err);
    }
  });
});
