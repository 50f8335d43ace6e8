/* 民主测评表: counts the departments fully rated, sends the ballot once (all departments ×
 * the six dimensions), shows the thanks or the refusal. What is missing is said in the bar
 * at the bottom, beside the button (a banner at the top would cover the page on a phone). */
import { $, t } from "./dom.js";
import { api, showError } from "./app.js";

if ($("ballot-form")) start();

function start() {
  var form = $("ballot-form");
  var depts = Array.prototype.slice.call(form.querySelectorAll(".ballot-dept"));

  function complete(fieldset) {
    var rows = fieldset.querySelectorAll(".ballot-row");
    return fieldset.querySelectorAll("input:checked").length === rows.length;
  }

  function count() {
    var done = depts.filter(complete).length;
    $("ballot-done").textContent = String(done);
    if (done === depts.length) $("ballot-missing").textContent = "";
    depts.forEach(function (d) { d.classList.toggle("is-done", complete(d)); });
    return done;
  }

  form.addEventListener("change", count);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var missing = depts.filter(function (d) { return !complete(d); });
    if (missing.length) {
      $("ballot-missing").textContent = t("还有 %(n)s 个部门未评完，请逐项选择", { n: missing.length });
      missing[0].scrollIntoView({ block: "start" });
      return;
    }
    var marks = {};
    depts.forEach(function (d) {
      var given = {};
      d.querySelectorAll("input:checked").forEach(function (input) {
        given[input.name.split(".").pop()] = Number(input.value);
      });
      marks[d.dataset.code] = given;
    });
    $("ballot-submit").disabled = true;
    api("POST", form.dataset.endpoint, { marks: marks }).then(function () {
      form.hidden = true;
      $("ballot-state").hidden = false;
      $("ballot-state").dataset.state = "voted";
      window.scrollTo(0, 0);
    }, function (err) {
      $("ballot-submit").disabled = false;
      showError(err);
    });
  });
  count();
}
