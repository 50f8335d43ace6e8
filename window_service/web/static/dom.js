/* The few DOM and i18n helpers every page uses (web pages, kiosk, pad, hall TV, window-top
 * display), an ES module served at /static/dom.js:
 *
 *   import { $, el, t, apiMessage } from "/static/dom.js";
 *
 *   $("id")                          document.getElementById
 *   el("p", "muted", "文字")          a new element: tag, class (or null), text (or null)
 *   apiMessage(msg)                  an API error's half in the page's language
 *   t("%(n)s号窗口", {n: 3})          the page's language from the Babel catalogue
 *                                    (window_service/web/locale) that the page embeds as
 *                                    <script type="application/json" id="i18n-catalog">; the
 *                                    Chinese source text when it is not there (Chinese pages)
 *                                    (`make i18n` extracts the t("…") calls)
 */
function $(id) {
  return document.getElementById(id);
}

function el(tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

var catalog = {};
try {
  var node = $("i18n-catalog");
  catalog = node ? JSON.parse(node.textContent || "{}") : {};
} catch (err) {
  catalog = {};
}

function t(text, values) {
  var out = Object.prototype.hasOwnProperty.call(catalog, text) ? catalog[text] : text;
  if (values) {
    out = out.replace(/%\((\w+)\)s/g, function (_, k) {
      return values[k] == null ? "" : String(values[k]);
    });
  }
  return out;
}

/* API messages are bilingual for integrators, "中文说明 (English text)": a page shows the
   half in its own language (a message without the pair is shown as it is). */
function apiMessage(message) {
  var text = String(message || "");
  var m = /^([\s\S]*?[^\x00-\x7f][\s\S]*?)\s*[(（]([^()（）]*[A-Za-z][^()（）]*)[)）]\s*$/.exec(text);
  if (!m) return text;
  if (!/^en\b/.test(document.documentElement.lang || "")) return m[1];
  return m[2].charAt(0).toUpperCase() + m[2].slice(1);
}

export { $, el, t, apiMessage };
