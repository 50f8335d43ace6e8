/* 好差评 on the citizen's tracking page (/t/{token}); see templates/track_rating.html.
 * Reads GET /api/v1/track/{token}/feedback (levels, tags, whether it can be rated), posts
 * POST /api/v1/track/{token}/feedback, then thanks the citizen below the (now hidden) form.
 */
import { $, t } from "./dom.js";
import { api } from "./app.js";

var init = JSON.parse(document.getElementById("track-init").textContent);
var token = init.token;
var form = document.getElementById("rating-form");
var chosen = null;
var loaded = false;
var sending = false;
var BAD = { 1: true, 2: true };
function tr(text, vars) { return t(text, vars); }

function showError(text) {
  var node = $("rating-error");
  node.textContent = text || "";
  node.hidden = !text;
}

function choose(value) {
  chosen = value;
  Array.prototype.forEach.call(form.querySelectorAll(".rating-level"), function (btn) {
    btn.setAttribute("aria-checked", String(Number(btn.dataset.rating) === value));
  });
  $("rating-tags").hidden = false;
  $("rating-comment-row").hidden = false;
  $("rating-contact-row").hidden = !BAD[value];
  $("rating-tags-legend").textContent = BAD[value]
    ? tr("请告诉我们哪些方面不满意（可多选）")
    : tr("您想评价的方面（可多选）");
  $("rating-submit").disabled = false;
  showError("");
}

function fill(state) {
  var list = $("rating-tag-list");
  list.textContent = "";
  state.tags.forEach(function (tag) {
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.value = tag;
    var span = document.createElement("span");
    span.textContent = tr(tag);
    label.appendChild(box);
    label.appendChild(span);
    list.appendChild(label);
  });
  $("rating-comment").maxLength = state.comment_max_chars;
  if (state.deadline) {
    var d = state.deadline.split("-");
    $("rating-deadline").textContent = tr("请于%(y)s年%(m)s月%(d)s日前评价，每次服务只能评价一次", {
      y: d[0], m: Number(d[1]), d: Number(d[2]),
    });
    $("rating-deadline").hidden = false;
  }
}

function thank(result) {
  var box = document.createElement("section");
  box.className = "rating-thanks";
  box.id = "rating-thanks";
  box.setAttribute("role", "status");
  var title = document.createElement("strong");
  title.textContent = tr("感谢您的评价！");
  var text = document.createElement("p");
  text.textContent = BAD[result.rating]
    ? tr("您的评价（%(label)s）已提交。部门负责人将在规定时限内核实整改并回访。", { label: result.label })
    : tr("您的评价（%(label)s）已提交，欢迎再次光临。", { label: result.label });
  box.appendChild(title);
  box.appendChild(text);
  var section = $("rate");
  section.parentNode.insertBefore(box, section.nextSibling);
  section.hidden = true;
}

async function load() {
  if (loaded) return;
  loaded = true;
  try {
    var state = await api("GET", "/api/v1/track/" + encodeURIComponent(token) + "/feedback");
    fill(state);
    if (!state.can_rate && state.message) showError(state.message);
  } catch (err) {
    loaded = false;
    showError(err.message);
  }
}

form.addEventListener("click", function (ev) {
  var btn = ev.target.closest(".rating-level");
  if (btn) choose(Number(btn.dataset.rating));
});

// A random id of this browser, kept on the phone: bursts of top ratings are judged per
// device and channel, never per network address (the hall's visitors share one Wi-Fi).
function raterDevice() {
  try {
    var id = window.localStorage.getItem("ws-rater-device");
    if (!id) {
      var bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      window.localStorage.setItem("ws-rater-device", id);
    }
    return id;
  } catch (e) { return ""; }
}

form.addEventListener("submit", async function (ev) {
  ev.preventDefault();
  if (!chosen || sending) return;
  sending = true;
  $("rating-submit").disabled = true;
  var tags = Array.prototype.map.call(
    form.querySelectorAll("#rating-tag-list input:checked"), function (b) { return b.value; });
  var body = { rating: chosen, tags: tags, comment: $("rating-comment").value.trim() };
  var contact = $("rating-contact").value.trim();
  if (contact && BAD[chosen]) body.contact = contact;
  var device = raterDevice();
  if (device) body.device = device;
  try {
    var result = await api("POST", "/api/v1/track/" + encodeURIComponent(token) + "/feedback", body);
    thank(result);
  } catch (err) {
    showError(err.message);
    $("rating-submit").disabled = false;
  } finally {
    sending = false;
  }
});

var toldRated = false;
async function tellRated() {
  if (toldRated || $("rating-thanks")) return;
  toldRated = true;
  try {
    var state = await api("GET", "/api/v1/track/" + encodeURIComponent(token) + "/feedback");
    if (!state.feedback || $("rating-thanks")) return;
    var box = document.createElement("p");
    box.className = "rating-thanks";
    box.id = "rating-thanks";
    box.textContent = tr("您已评价本次服务：%(label)s。感谢您的参与！", { label: tr(state.feedback.label) });
    var section = $("rate");
    section.parentNode.insertBefore(box, section.nextSibling);
  } catch (err) { toldRated = false; }
}

// The section is shown by track.js once the ticket can be rated.
document.addEventListener("track:update", function (ev) {
  if (!ev.detail) return;
  if (ev.detail.can_rate) load();
  else if (ev.detail.status === "done") tellRated();
});
if (!$("rate").hidden) load();
