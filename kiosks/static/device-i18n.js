/* t("中文原文", {name: value}) for the device pages (kiosk, pad): the same catalogue as the web
 * pages (window_service/web/locale, embedded by the page as #i18n-catalog; empty in Chinese),
 * with "%(name)s" placeholders, like static/app.js's t(). */
(function () {
  "use strict";
  var node = document.getElementById("i18n-catalog");
  var catalog = {};
  try {
    catalog = node ? JSON.parse(node.textContent || "{}") : {};
  } catch (err) {
    catalog = {};
  }
  window.t = function (text, values) {
    var out = Object.prototype.hasOwnProperty.call(catalog, text) ? catalog[text] : text;
    if (values) {
      out = out.replace(/%\((\w+)\)s/g, function (_, k) {
        return values[k] == null ? "" : String(values[k]);
      });
    }
    return out;
  };
  // The API's refusals are bilingual for integrators ("不在取号时间 (outside issuing hours)"):
  // a Chinese device page shows the Chinese part only.
  window.t.apiMessage = function (message) {
    var text = String(message || "");
    if (!/^zh/.test(document.documentElement.lang || "zh")) return text;
    return text.replace(/\s*[(（][^()（）]*[A-Za-z][^()（）]*[)）]\s*$/, "") || text;
  };
})();
