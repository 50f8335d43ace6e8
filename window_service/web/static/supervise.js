/* 监督员工作台: sends an observation (against a window or a department) and reloads the list. */
import { $ } from "./dom.js";
import { api, showError } from "./app.js";

if ($("observe-form")) start();

function start() {
  var form = $("observe-form");
  function kindChanged() {
    var window = form.kind.value === "window";
    form.window.closest("label").hidden = !window;
    form.department.closest("label").hidden = window;
    form.window.required = window;
  }
  form.kind.addEventListener("change", kindChanged);
  kindChanged();
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = { rating: Number(form.rating.value), comment: form.comment.value };
    if (form.kind.value === "window") body.window = Number(form.window.value);
    else body.department = form.department.value;
    api("POST", "/api/v1/halls/" + form.dataset.hall + "/supervision/observations", body)
      .then(function () { window.location.reload(); }, showError);
  });
}
