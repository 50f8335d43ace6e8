/* 办件详情 actions: 办结, 不予受理 (with a reason), 材料补齐, 延期 (department head, days + reason). */
import { t } from "./dom.js";
import { api, showError } from "./app.js";

var box = document.getElementById("case-detail");
if (box) start();

function start() {
  var no = box.getAttribute("data-receipt");
  var path = "/api/v1/cases/" + encodeURIComponent(no) + "/";

  async function act(action) {
    var body;
    if (action === "reject") {
      var reason = window.prompt(t("请填写不予受理的理由"));
      if (!reason || !reason.trim()) return;
      body = { reason: reason.trim() };
    } else if (action === "extend") {
      var days = Number(window.prompt(t("延期多少个工作日？"), "5"));
      if (!days) return;
      var why = window.prompt(t("请填写延期理由"));
      if (!why || !why.trim()) return;
      body = { days: days, reason: why.trim() };
    } else if (action === "complete") {
      if (!window.confirm(t("确认办结此办件？"))) return;
    }
    try {
      await api("POST", path + action, body);
      location.reload();
    } catch (err) {
      showError(err);
    }
  }

  document.querySelectorAll("[data-case-action]").forEach(function (b) {
    b.addEventListener("click", function () { act(b.getAttribute("data-case-action")); });
  });
}
