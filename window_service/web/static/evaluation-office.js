/* 民主测评 (office): adds panel members (showing a personal ballot link once), takes them off
 * the panel or sends a new link (the old one stops working), opens and closes rounds. */
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
        showLink(m.ballot_url);
        members.reset();
      } else {
        window.location.reload();
      }
    }, showError);
  });
}

function showLink(path) {
  var url = window.location.origin + path;
  $("member-link-url").textContent = url;
  $("member-link-url").href = url;
  $("member-link").hidden = false;
  $("member-link").scrollIntoView({ block: "nearest" });
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
  var relink = event.target.closest && event.target.closest("[data-relink]");
  if (relink) {
    if (!window.confirm(t("重发后原测评链接立即失效。确定重发吗？"))) return;
    api("POST", "/api/v1/evaluation/members/" + relink.dataset.relink + "/ballot-link")
      .then(function (m) { showLink(m.ballot_url); }, showError);
    return;
  }
  var remove = event.target.closest && event.target.closest("[data-remove]");
  if (remove) {
    if (!window.confirm(t("移出后该代表不能再参加测评。确定移出吗？"))) return;
    api("POST", "/api/v1/evaluation/members/" + remove.dataset.remove + "/deactivate")
      .then(function () { window.location.reload(); }, showError);
    return;
  }
  var button = event.target.closest && event.target.closest("[data-close]");
  if (!button) return;
  if (!window.confirm(t("结束后不能再投票，排名将公布并通报。确定结束吗？"))) return;
  api("POST", "/api/v1/evaluation/rounds/" + button.dataset.close + "/close")
    .then(function () { window.location.reload(); }, showError);
});
