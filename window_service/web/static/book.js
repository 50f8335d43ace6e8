/* The citizen's booking pages (templates/appointments/): book a slot, change or cancel it, or
 * take a remote ticket (网上取号). Uses app.js (api, t, showError, flash). */
import { $, t } from "./dom.js";
import { api, flash, showError } from "./app.js";

var init = JSON.parse(document.getElementById("book-init").textContent || "{}");
var hall = init.hall;
var chosen = null;
var asked = 0; // only the latest slot list is shown

function serviceCode() {
  return init.mode === "manage" ? init.service : $("book-service").value;
}

async function loadSlots() {
  var box = $("slots");
  if (!box) return;
  chosen = null;
  var mine = ++asked;
  var day = $("book-day").value;
  if (!day) {
    box.textContent = "";
    $("slots-empty").hidden = false;
    return;
  }
  var list;
  try {
    list = await api(
      "GET",
      "/api/v1/halls/" + encodeURIComponent(hall) + "/services/" + encodeURIComponent(serviceCode()) +
        "/slots?date=" + encodeURIComponent(day)
    );
  } catch (err) {
    if (mine === asked) showError(err);
    return;
  }
  if (mine !== asked) return;
  box.textContent = "";
  var open = list.filter(function (s) { return s.available > 0; });
  $("slots-empty").hidden = open.length > 0;
  list.forEach(function (s) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "slot";
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", "false");
    b.dataset.start = s.start;
    b.disabled = s.available <= 0;
    b.textContent = s.start;
    var small = document.createElement("small");
    small.textContent = s.available > 0 ? t("余 %(n)s", { n: s.available }) : t("已满");
    b.appendChild(small);
    b.addEventListener("click", function () {
      chosen = s.start;
      Array.prototype.forEach.call(box.querySelectorAll(".slot"), function (o) {
        o.setAttribute("aria-checked", o === b ? "true" : "false");
      });
    });
    box.appendChild(b);
  });
}

function manageLink(token) {
  return "/book/manage/" + encodeURIComponent(token);
}

var form = $("book-form");
if (form) {
  $("book-service").addEventListener("change", loadSlots);
  $("book-day").addEventListener("change", loadSlots);
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var name = $("book-name").value.trim();
    var phone = $("book-phone").value.trim();
    if (!chosen) return flash(t("请选择预约时段"), "error");
    if (!name) return flash(t("请填写姓名"), "error");
    if (!/^1[3-9]\d{9}$/.test(phone)) return flash(t("请填写正确的11位手机号码"), "error");
    $("book-submit").disabled = true;
    try {
      var booked = await api("POST", "/api/v1/halls/" + encodeURIComponent(hall) + "/appointments", {
        service: serviceCode(),
        date: $("book-day").value,
        start: chosen,
        name: name,
        phone: phone,
      });
      location.assign(manageLink(booked.manage_token));
    } catch (err) {
      showError(err);
      $("book-submit").disabled = false;
      loadSlots();
    }
  });
  loadSlots();
}

if (init.mode === "manage" && $("change-card")) {
  $("book-day").addEventListener("change", loadSlots);
  $("change-submit").addEventListener("click", async function () {
    if (!chosen) return flash(t("请选择预约时段"), "error");
    try {
      var moved = await api("POST", "/api/v1/appointments/" + encodeURIComponent(init.token) + "/change", {
        date: $("book-day").value,
        start: chosen,
      });
      location.assign(manageLink(moved.manage_token));
    } catch (err) {
      showError(err);
      loadSlots();
    }
  });
  $("cancel-submit").addEventListener("click", async function () {
    if (!window.confirm(t("确定取消本次预约吗？"))) return;
    try {
      await api("POST", "/api/v1/appointments/" + encodeURIComponent(init.token) + "/cancel");
      location.reload();
    } catch (err) {
      showError(err);
    }
  });
  loadSlots();
}

if (init.mode === "arrive") {
  (async function () {
    var token = null;
    try {
      token = localStorage.getItem("window_service.remote." + hall);
    } catch (e) {
      token = null;
    }
    if (!token) {
      $("arrive-status").hidden = true;
      $("arrive-none").hidden = false;
      return;
    }
    try {
      await api("POST", "/api/v1/track/" + encodeURIComponent(token) + "/check-in", { poster: init.poster });
      location.assign("/t/" + encodeURIComponent(token));
    } catch (err) {
      $("arrive-status").textContent = err.message;
    }
  })();
}

var remote = $("remote-form");
if (remote) {
  remote.addEventListener("submit", async function (event) {
    event.preventDefault();
    var phone = $("book-phone").value.trim();
    if (!/^1[3-9]\d{9}$/.test(phone)) return flash(t("请填写正确的11位手机号码"), "error");
    try {
      var ticket = await api("POST", "/api/v1/halls/" + encodeURIComponent(hall) + "/remote-tickets", {
        service: $("book-service").value,
        phone: phone,
      });
      try {
        localStorage.setItem("window_service.remote." + hall, ticket.track_token);
      } catch (e) {
        /* private mode: the tracking page still works */
      }
      location.assign("/t/" + encodeURIComponent(ticket.track_token));
    } catch (err) {
      showError(err);
    }
  });
}
