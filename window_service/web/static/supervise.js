/* 监督员工作台: sends an observation (against a window, a staff member by 工号 or a department)
 * and reloads the list. */
import { $ } from "./dom.js";
import { api, showError } from "./app.js";

if ($("observe-form")) start();

function start() {
  var form = $("observe-form");
  function kindChanged() {
    var kind = form.kind.value;
    form.window.closest("label").hidden = kind !== "window";
    form.staff_no.closest("label").hidden = kind !== "staff";
    form.department.closest("label").hidden = kind !== "department";
    form.window.required = kind === "window";
    form.staff_no.required = kind === "staff";
  }
  form.kind.addEventListener("change", kindChanged);
  kindChanged();
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = { rating: Number(form.rating.value), comment: form.comment.value };
    if (form.kind.value === "window") body.window = Number(form.window.value);
    else if (form.kind.value === "staff") body.staff_no = form.staff_no.value.trim();
    else body.department = form.department.value;
    api("POST", "/api/v1/halls/" + form.dataset.hall + "/supervision/observations", body)
      .then(function () { window.location.reload(); }, showError);
  });
}
