/* 窗口屏 (window-top display): this window's number, its services, the staff member on duty
 * (photo, name, 工号 and published stars, from the public notice-board data) and its current
 * ticket. Calls and status come from the hall's stream (stream.js); the staff member is read
 * again after every call at this window (calling puts a staff member on duty) and every
 * few minutes. */
import { $ as byId, t } from "/static/dom.js";
import { HallStream, HallTime } from "./stream.js";

var body = document.body;
var hall = body.dataset.hall;
var number = parseInt(body.dataset.window, 10);
var STAFF_REFRESH_MS = 3 * 60 * 1000;
var state = {
  status: "open",
  current: null,
  prefixes: [],
  services: [], // from /api/v1/halls/{hall}/services
  staff: null, // {name, staff_no, photo_url, initials, stars}
  published: false, // a month's stars have been published
  offsetMinutes: 480,
  skew: 0,
};

/* Shrink a line's text until it fits (two lines at the end); nothing is cut off. */
function fit(node) {
  node.style.fontSize = "";
  node.style.whiteSpace = "";
  var size = parseFloat(getComputedStyle(node).fontSize);
  var floor = size * 0.55;
  while (node.scrollWidth > node.clientWidth && size > floor) {
    size *= 0.92;
    node.style.fontSize = size + "px";
  }
  if (node.scrollWidth > node.clientWidth) {
    node.style.whiteSpace = "normal";
    node.style.lineHeight = "1.15";
    while (node.scrollHeight > node.clientHeight + 1 && size > 8) {
      size *= 0.92;
      node.style.fontSize = size + "px";
    }
  }
}

function renderCall() {
  var statusBox = byId("wd-status");
  body.classList.remove("status-open", "status-paused", "status-closed", "ticket-called", "ticket-serving");
  body.classList.add("status-" + state.status);
  var current = state.current;
  if (current) body.classList.add("ticket-" + current.status);
  byId("wd-ticket").textContent = current ? current.ticket : "";
  if (state.status === "paused") statusBox.textContent = t("暂停中");
  else if (state.status === "closed") statusBox.textContent = t("暂停办理");
  else if (!current) statusBox.textContent = t("欢迎光临");
  else if (current.status === "called") statusBox.textContent = t("请到本窗口办理");
  else statusBox.textContent = t("正在办理");
  fit(statusBox);
}

function renderServices() {
  var names = state.prefixes.map(function (prefix) {
    var s = state.services.filter(function (x) {
      return x.prefix === prefix;
    })[0];
    return s ? s.name : prefix;
  });
  var box = byId("wd-services");
  box.textContent = names.join("、");
  fit(box);
}

function renderStaff() {
  var staff = state.staff;
  body.classList.toggle("no-staff", !staff);
  if (!staff) return;
  byId("wd-staff-name").textContent = staff.name;
  byId("wd-staff-no").textContent = staff.staff_no ? t("工号 %(no)s", { no: staff.staff_no }) : "";
  var photo = byId("wd-photo");
  // only this server's own pictures (the page's CSP allows no others)
  var url = staff.photo_url && staff.photo_url.charAt(0) === "/" ? staff.photo_url : "";
  photo.hidden = !url;
  if (url && photo.getAttribute("src") !== url) photo.src = url;
  byId("wd-initials").textContent = url ? "" : staff.initials || staff.name.charAt(0);
  var stars = byId("wd-stars");
  stars.textContent = "";
  stars.className = "wd-stars";
  if (typeof staff.stars === "number") {
    stars.dataset.stars = String(staff.stars);
    stars.setAttribute("aria-label", t("%(n)s星", { n: staff.stars }));
    stars.appendChild(document.createTextNode("★".repeat(staff.stars)));
    var off = document.createElement("span");
    off.className = "bs-off";
    off.textContent = "☆".repeat(5 - staff.stars);
    stars.appendChild(off);
  } else {
    stars.dataset.stars = "";
    stars.removeAttribute("aria-label");
    stars.className = "wd-stars none";
    stars.textContent = state.published ? t("星级：暂无评定") : "";
  }
  fit(byId("wd-staff-name"));
}

function getJson(path) {
  return fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" }).then(function (r) {
    return r.ok ? r.json() : null;
  });
}

function loadStaff() {
  getJson("/api/v1/halls/" + encodeURIComponent(hall) + "/board")
    .then(function (board) {
      if (!board) return;
      // this window's staff member, once on duty (calling puts them on duty); an absent
      // colleague is not shown as serving here
      state.staff =
        board.staff.filter(function (p) {
          return p.window === number && p.on_duty;
        })[0] || null;
      state.published = !!board.period;
      renderStaff();
    })
    .catch(function () {
      /* shown again at the next refresh */
    });
}

function loadServices() {
  getJson("/api/v1/halls/" + encodeURIComponent(hall) + "/services")
    .then(function (list) {
      if (!Array.isArray(list)) return;
      state.services = list;
      renderServices();
    })
    .catch(function () {});
}

function tick() {
  var p = HallTime.parts(Date.now() + state.skew, state.offsetMinutes);
  byId("clock-time").textContent = HallTime.pad2(p.hour) + ":" + HallTime.pad2(p.minute);
}

var stream = new HallStream(hall, {
  snapshot: function (msg) {
    if (msg.now) {
      state.offsetMinutes = HallTime.offsetMinutes(msg.now);
      var server = Date.parse(msg.now);
      if (!isNaN(server)) state.skew = server - Date.now();
      tick();
    }
    var mine = (msg.windows || []).filter(function (w) {
      return w.number === number;
    })[0];
    state.status = mine ? mine.status : "open";
    state.current = mine && mine.current ? mine.current : null;
    state.prefixes = mine ? mine.prefixes || [] : [];
    renderCall();
    renderServices();
  },
  event: function (msg) {
    if (msg.type === "call") {
      if (msg.window === number) {
        state.current = { ticket: msg.ticket, service: msg.service, status: "called" };
        loadStaff();
      } else if (state.current && state.current.ticket === msg.ticket) {
        state.current = null;
      }
    } else if (msg.type === "ticket" && msg.window === number) {
      if (state.current && state.current.ticket === msg.ticket) {
        if (msg.status === "called" || msg.status === "serving") state.current.status = msg.status;
        else state.current = null;
      }
    } else if (msg.type === "window" && msg.window === number) {
      state.status = msg.status;
    } else {
      return;
    }
    renderCall();
  },
  status: function (connected) {
    var banner = byId("reconnecting");
    banner.textContent = t("正在重新连接…");
    banner.hidden = connected;
    if (connected) loadServices();
  },
});
window.windowDisplay = { state: state, stream: stream };
renderCall();
tick();
setInterval(tick, 10000);
setInterval(loadStaff, STAFF_REFRESH_MS);
window.addEventListener("resize", function () {
  renderCall();
  renderServices();
  renderStaff();
});
loadStaff();
stream.start();
