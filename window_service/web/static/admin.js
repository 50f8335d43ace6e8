/* 大厅配置: send each form to the admin API as JSON (through app.js's api()), then reload. */
(function () {
  "use strict";

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

  function after(result) {
    if (result && result.key) { showKey(result.key); return; }
    flash(t("已保存"), "ok");
    setTimeout(function () { location.reload(); }, 800);
  }

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
      try {
        after(await api(form.getAttribute("data-method"), path, body));
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
        after(await api(button.getAttribute("data-method"), button.getAttribute("data-path"), body));
      } catch (err) { showError(err); }
    });
  });
})();
