/* 民主测评 (office): adds panel members (showing a personal ballot link once), opens and
 * closes rounds. */
import { $, t } from "./dom.js";
import { api, showError } from "./app.js";

var members = $("member-form");
if (members) {
  members.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {
      year: Number(members.dataset.year),
      name: members.name.value,
      category: members.category.value,
      affiliation: members.affiliation.value,
    };
    if (members.username.value.trim()) body.username = members.username.value.trim();
    api("POST", "/api/v1/halls/" + members.dataset.hall + "/evaluation/members", body).then(function (m) {
      if (m.ballot_url) {
        var url = window.location.origin + m.ballot_url;
        $("member-link-url").textContent = url;
        $("member-link-url").href = url;
        $("member-link").hidden = false;
        members.reset();
      } else {
        window.location.reload();
      }
    }, showError);
  });
}

var rounds = $("round-form");
if (rounds) {
  rounds.addEventListener("submit", function (event) {
    event.preventDefault();
    api("POST", "/api/v1/halls/" + rounds.dataset.hall + "/evaluation/rounds", { period: rounds.period.value })
      .then(function () { window.location.reload(); }, showError);
  });
}

document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-close]");
  if (!button) return;
  if (!window.confirm(t("结束后不能再投票，排名将公布并通报。确定结束吗？"))) return;
  api("POST", "/api/v1/evaluation/rounds/" + button.dataset.close + "/close")
    .then(function () { window.location.reload(); }, showError);
});
