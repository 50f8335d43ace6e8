/* 大厅配置: send each form to the admin API as JSON (through app.js's api()), then reload. */
import { apiMessage, t } from "./dom.js";
import { api, flash, showError } from "./app.js";

function value(field) {
  var raw = field.value.trim();
  var type = field.getAttribute("data-type");
  if (type === "int") return raw === "" ? null : Number(raw);
  if (type === "list") return raw === "" ? [] : raw.split(/[,，、\s]+/).filter(Boolean);
  return raw;
}

function showKey(key) {
  var box = document.getElementById("device-key");
  document.getElementById("device-key-value").textContent = key;
  box.hidden = false;
  box.scrollIntoView();
}

var done = document.getElementById("device-key-done");
if (done) done.addEventListener("click", function () { location.reload(); });

/* After a save the page reloads to show the result; the success message is carried over
   the reload (sessionStorage), so it stays in view long enough to be read. */
var SAVED = "admin-saved";
function after(result, what) {
  if (result && result.key) { showKey(result.key); return; }
  var text = what ? t("%(what)s：已保存", { what: what }) : t("已保存");
  flash(text, "ok");
  try { sessionStorage.setItem(SAVED, text); } catch (e) { /* private mode: no carry-over */ }
  setTimeout(function () { location.reload(); }, 600);
}
try {
  var saved = sessionStorage.getItem(SAVED);
  if (saved) { sessionStorage.removeItem(SAVED); flash(saved, "ok"); }
} catch (e) { /* no sessionStorage */ }

function sectionTitle(node) {
  var section = node.closest("section");
  var h = section && section.querySelector("h2");
  return h ? h.textContent.trim() : "";
}

/* 所办事项, 分管部门: checkboxes; for a window's services the order they are ticked in is
   the priority order. */
function picked(fieldset) {
  return (fieldset.dataset.order || "").split(" ").filter(Boolean);
}
function setPicked(fieldset, codes) {
  fieldset.dataset.order = codes.join(" ");
  fieldset.querySelectorAll("input[type=checkbox]").forEach(function (box) {
    var at = codes.indexOf(box.value);
    box.checked = at >= 0;
    box.closest("label").querySelector(".pick-order").textContent = at >= 0 ? String(at + 1) : "";
  });
}
document.querySelectorAll("fieldset[data-picks]").forEach(function (fieldset) {
  fieldset.addEventListener("change", function (ev) {
    var codes = picked(fieldset).filter(function (c) { return c !== ev.target.value; });
    if (ev.target.checked) codes.push(ev.target.value);
    setPicked(fieldset, codes);
  });
  // The edit form starts from the chosen window's current services.
  var form = fieldset.form || fieldset.closest("form");
  var field = fieldset.dataset.picks;
  var which = form && form.querySelector("select[data-path-param]");
  if (which && which.querySelector("option[data-" + field + "]")) {
    var load = function () {
      var option = which.options[which.selectedIndex];
      setPicked(fieldset, (option && option.dataset[field] || "").split(" ").filter(Boolean));
    };
    which.addEventListener("change", load);
    load();
  }
});

document.querySelectorAll("form.admin-form").forEach(function (form) {
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var omitEmpty = form.hasAttribute("data-omit-empty");
    var nulls = (form.getAttribute("data-nulls") || "").split(" ");
    var path = form.getAttribute("data-path");
    var body = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name) return;
      if (field.hasAttribute("data-path-param")) {
        path = path.replace("{" + field.name + "}", encodeURIComponent(field.value));
        return;
      }
      var v = value(field);
      var empty = v === "" || v === null || (Array.isArray(v) && v.length === 0 && omitEmpty);
      if (empty && nulls.indexOf(field.name) >= 0) { body[field.name] = null; return; }
      if (empty && (omitEmpty || v === null)) return;
      body[field.name] = v;
    });
    form.querySelectorAll("fieldset[data-picks]").forEach(function (fieldset) {
      var codes = picked(fieldset);
      if (codes.length || !omitEmpty) body[fieldset.dataset.picks] = codes;
    });
    try {
      after(await api(form.getAttribute("data-method"), path, body), sectionTitle(form));
    } catch (err) { showError(err); }
  });
});

document.querySelectorAll("button.admin-action").forEach(function (button) {
  button.addEventListener("click", async function () {
    var body = JSON.parse(button.getAttribute("data-body") || "{}");
    var ask = button.getAttribute("data-reason");
    if (ask) {
      var reason = window.prompt(ask);
      if (reason === null || !reason.trim()) return;
      body.reason = reason.trim();
    }
    try {
      after(await api(button.getAttribute("data-method"), button.getAttribute("data-path"), body), sectionTitle(button));
    } catch (err) { showError(err); }
  });
});

/* 导入配置表: check the workbook (dry run), show every error in a table, then confirm. */
var setupForm = document.getElementById("setup-form");
if (setupForm) {
  var confirmButton = document.getElementById("setup-confirm");
  var result = document.getElementById("setup-result");
  var errors = document.getElementById("setup-errors");
  var passwords = document.getElementById("setup-passwords");
  var KINDS = [["department", t("部门")], ["service", t("事项")], ["window", t("窗口")], ["user", t("人员")]];

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function row(table, cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (text) {
      var td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    });
    table.querySelector("tbody").appendChild(tr);
  }

  function clear() {
    result.textContent = "";
    errors.hidden = true;
    passwords.hidden = true;
    errors.querySelector("tbody").textContent = "";
    passwords.querySelector("tbody").textContent = "";
  }

  function summary(data) {
    return KINDS.map(function (kind) {
      return t("%(kind)s：新增 %(c)s，修改 %(u)s，停用 %(o)s", {
        kind: kind[1], c: data.created[kind[0]], u: data.updated[kind[0]], o: data.switched_off[kind[0]],
      });
    }).join("；");
  }

  async function send(dryRun) {
    var file = setupForm.elements.file.files[0];
    if (!file) return;
    var body = new FormData();
    body.append("file", file);
    clear();
    confirmButton.hidden = true;
    var response, data = null;
    try {
      response = await fetch(setupForm.getAttribute("data-path") + "?dry_run=" + dryRun, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf() },
      });
      data = await response.json();
    } catch (e) {
      showError({ message: t("网络连接失败，请检查网络后重试") });
      return;
    }
    if (!response.ok) {
      var err = (data && data.error) || {};
      var problems = err.details || [];
      if (err.code === "invalid_workbook" && problems.length) {
        result.textContent = t("发现 %(n)s 处错误，未写入任何内容。请修改工作簿后重新检查。", { n: problems.length });
        problems.forEach(function (p) {
          row(errors, [p.sheet, t("第%(n)s行", { n: p.row }), p.column, apiMessage(p.message)]);
        });
        errors.hidden = false;
      } else {
        showError({ message: err.message ? apiMessage(err.message) : t("请求失败"), status: response.status });
      }
      return;
    }
    if (dryRun) {
      result.textContent = data.changes
        ? t("检查通过，导入将会：") + summary(data)
        : t("检查通过，与当前配置相同，没有变化。");
      confirmButton.hidden = !data.changes;
      return;
    }
    result.textContent = t("已导入：") + summary(data);
    var names = Object.keys(data.passwords || {});
    names.forEach(function (name) { row(passwords, [name, data.passwords[name]]); });
    passwords.hidden = names.length === 0;
    flash(t("已保存"), "ok");
  }

  setupForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    send(true);
  });
  confirmButton.addEventListener("click", function () { send(false); });
  setupForm.elements.file.addEventListener("change", function () {
    clear();
    confirmButton.hidden = true;
  });
}
