/* 取号机 start screen: the services, grouped when there are many, the service guide and the
 * elderly-friendly mode (适老模式). kiosk.js takes the ticket (KioskMenu.onTake).
 *
 * At most two taps to a ticket: with few services each is a button of its own (one tap); with
 * many, the first tap opens a department (or, in a very large hall, a zone) and the second
 * takes the ticket. The green channel sits above the services, so it is always on the first
 * screen. 适老模式 makes every button bigger, shows fewer per screen and speaks the prompts
 * (speechSynthesis, when the browser has it).
 */
import { $, el, t } from "/static/dom.js";

var FLAT_MAX = 8; // up to this many services: one button each, no grouping
var FLAT_MAX_ELDER = 6;
var DEPARTMENTS_MAX = 24; // more departments than this: group by zone instead
var zones = {};
try {
  zones = JSON.parse(document.getElementById("kiosk-zones").textContent || "{}");
} catch (err) {
  zones = {};
}

var menu = {
  services: [],
  loaded: false, // the hall's list has come at least once
  open: null, // the key of the open group, or null
  elder: false,
  mode: "flat", // "flat" | "groups" | "group"
  page: 0,
  pages: 1,
  onTake: function () {},
};

function zonesOf(s) {
  return zones[s.code] || [];
}

function speak(text) {
  if (!menu.elder || !text || !window.speechSynthesis || !window.SpeechSynthesisUtterance) return;
  try {
    window.speechSynthesis.cancel();
    var u = new window.SpeechSynthesisUtterance(text);
    u.lang = document.documentElement.lang || "zh-CN";
    u.rate = 0.85;
    window.speechSynthesis.speak(u);
  } catch (err) {
    /* no voice on this kiosk: the screen says it all */
  }
}

/* ---------- grouping ---------- */

function groups() {
  var byDept = [];
  var seen = {};
  menu.services.forEach(function (s) {
    var key = s.department_name || s.department || "";
    if (!seen[key]) {
      seen[key] = { key: key, name: key, services: [], zones: [] };
      byDept.push(seen[key]);
    }
    seen[key].services.push(s);
    zonesOf(s).forEach(function (z) {
      if (seen[key].zones.indexOf(z) < 0) seen[key].zones.push(z);
    });
  });
  if (byDept.length <= DEPARTMENTS_MAX) return byDept;
  var byZone = [];
  var zoneSeen = {};
  menu.services.forEach(function (s) {
    var z = zonesOf(s)[0] || t("其他");
    if (!zoneSeen[z]) {
      zoneSeen[z] = { key: "zone:" + z, name: z, services: [], zones: [z] };
      byZone.push(zoneSeen[z]);
    }
    zoneSeen[z].services.push(s);
  });
  return byZone;
}

function waitingOf(list) {
  return list.reduce(function (n, s) {
    // a group's own queues (``waiting`` also counts what shared windows call first)
    return n + (s.queue_waiting != null ? s.queue_waiting : s.waiting || 0);
  }, 0);
}

/* ---------- buttons ---------- */

function serviceButton(s) {
  var button = el("button", "k-service");
  button.type = "button";
  button.dataset.service = s.code;
  button.appendChild(el("span", "k-service-prefix", s.prefix));
  button.appendChild(el("span", "k-service-name", s.name));
  var where = [s.department_name || s.department || ""].concat(zonesOf(s)).filter(Boolean).join(" · ");
  button.appendChild(el("span", "k-service-dept", where));
  var info = t("等候 %(n)s 人", { n: s.waiting });
  if (s.estimated_wait_minutes == null) info += " · " + t("暂无窗口办理");
  else if (s.waiting > 0 && s.estimated_wait_minutes > 0) info += " · " + t("约 %(m)s 分钟", { m: s.estimated_wait_minutes });
  button.appendChild(el("span", "k-service-wait", info));
  button.addEventListener("click", function () {
    menu.onTake(s.code);
  });
  var item = el("div", "k-service-item");
  item.appendChild(button);
  if (hasGuide(s)) {
    var open = el("button", "k-guide-open", t("指南"));
    open.type = "button";
    open.dataset.guide = s.code;
    open.setAttribute("aria-label", t("办事指南：%(name)s", { name: s.name }));
    open.addEventListener("click", function () {
      showGuide(s);
    });
    item.appendChild(open);
  }
  return item;
}

function groupButton(g) {
  var button = el("button", "k-group");
  button.type = "button";
  button.dataset.group = g.key;
  button.appendChild(el("span", "k-group-name", g.name));
  if (g.zones.length && g.key.indexOf("zone:") !== 0) button.appendChild(el("span", "k-group-zone", g.zones.join("、")));
  var info = t("%(n)s项事项", { n: g.services.length });
  var waiting = waitingOf(g.services);
  if (waiting) info += " · " + t("等候 %(n)s 人", { n: waiting });
  button.appendChild(el("span", "k-group-info", info));
  button.addEventListener("click", function () {
    openGroup(g.key);
  });
  return button;
}

function render() {
  var box = $("services");
  box.textContent = "";
  var limit = menu.elder ? FLAT_MAX_ELDER : FLAT_MAX;
  var all = groups();
  var open = menu.open && all.filter(function (g) { return g.key === menu.open; })[0];
  if (menu.open && !open) menu.open = null;
  var hint = $("menu-hint");
  if (menu.services.length <= limit) {
    menu.mode = "flat";
    menu.services.forEach(function (s) {
      box.appendChild(serviceButton(s));
    });
    hint.textContent = t("请选择您要办理的事项");
  } else if (open) {
    menu.mode = "group";
    open.services.forEach(function (s) {
      box.appendChild(serviceButton(s));
    });
    hint.textContent = open.name + (open.zones.length && open.key.indexOf("zone:") !== 0 ? " · " + open.zones.join("、") : "");
  } else {
    menu.mode = "groups";
    all.forEach(function (g) {
      box.appendChild(groupButton(g));
    });
    hint.textContent = all.length && all[0].key.indexOf("zone:") === 0
      ? t("请选择办事区域") : t("请选择办事部门");
  }
  box.dataset.mode = menu.mode;
  box.dataset.count = String(box.children.length);
  $("menu-back").hidden = menu.mode !== "group";
  // Before the list first comes, the menu is empty rather than saying there is nothing to do.
  if (!menu.services.length && menu.loaded) box.appendChild(el("p", "k-hint", t("暂无可办理的事项")));
  paginate();
}

/* ---------- pages: only when even the groups do not fit (e.g. 适老模式 in a big hall) ---------- */

function paginate() {
  var box = $("services");
  var items = Array.prototype.slice.call(box.children);
  items.forEach(function (n) {
    n.hidden = false;
  });
  box.scrollTop = 0;
  var pager = $("pager");
  pager.hidden = box.scrollHeight <= box.clientHeight + 1;
  if (pager.hidden) {
    menu.pages = 1;
    return;
  }
  var bottom = box.getBoundingClientRect().bottom + 1;
  var cols = Math.max(1, getComputedStyle(box).gridTemplateColumns.split(" ").length);
  var fit = 0;
  while (fit < items.length && items[fit].getBoundingClientRect().bottom <= bottom) fit += 1;
  fit = Math.max(cols, fit - (fit % cols));
  menu.pages = Math.ceil(items.length / fit);
  pager.hidden = menu.pages < 2;
  menu.page = Math.min(menu.page, menu.pages - 1);
  items.forEach(function (n, i) {
    n.hidden = Math.floor(i / fit) !== menu.page;
  });
  $("page-info").textContent = t("第%(n)s/%(total)s页", { n: menu.page + 1, total: menu.pages });
  $("page-prev").disabled = menu.page === 0;
  $("page-next").disabled = menu.page >= menu.pages - 1;
}

function turn(delta) {
  menu.page = Math.max(0, Math.min(menu.pages - 1, menu.page + delta));
  paginate();
  speak($("page-info").textContent);
}

$("page-prev").addEventListener("click", function () {
  turn(-1);
});
$("page-next").addEventListener("click", function () {
  turn(1);
});

function openGroup(key) {
  menu.open = key;
  menu.page = 0;
  render();
  speak($("menu-hint").textContent + "，" + t("请选择事项"));
}

$("menu-back").addEventListener("click", function () {
  menu.open = null;
  menu.page = 0;
  render();
  speak($("menu-hint").textContent);
});

/* ---------- 适老模式 ---------- */

function setElder(on) {
  menu.elder = !!on;
  menu.page = 0;
  document.body.classList.toggle("elder", menu.elder);
  $("elder-toggle").setAttribute("aria-pressed", String(menu.elder));
  render();
  if (menu.elder) speak(t("已开启适老模式。") + $("menu-hint").textContent);
}

$("elder-toggle").addEventListener("click", function () {
  setElder(!menu.elder);
});

/* ---------- service guide (办事指南): fees, materials, legal basis, time limits ---------- */

var guideTimer = null;

function hasGuide(s) {
  return !!(s.fees || (s.materials && s.materials.length) || s.legal_basis);
}

function guideRow(list, label, value) {
  if (!value) return;
  list.appendChild(el("dt", null, label));
  list.appendChild(el("dd", null, value));
}

function showGuide(s) {
  var box = $("guide");
  $("guide-title").textContent = s.name;
  var list = $("guide-body");
  list.textContent = "";
  guideRow(list, t("办理部门"), s.department_name || s.department);
  guideRow(list, t("办理地点"), zonesOf(s).join("、"));
  guideRow(list, t("法定时限"), t("%(n)s 个工作日", { n: s.legal_days }));
  guideRow(list, t("承诺时限"), s.promised_days ? t("%(n)s 个工作日", { n: s.promised_days }) : t("即办"));
  guideRow(list, t("收费标准"), s.fees);
  if (s.materials && s.materials.length) {
    list.appendChild(el("dt", null, t("申请材料")));
    var dd = el("dd");
    var ol = el("ol", "k-guide-materials");
    s.materials.forEach(function (m) {
      ol.appendChild(el("li", null, m));
    });
    dd.appendChild(ol);
    list.appendChild(dd);
  }
  guideRow(list, t("设定依据"), s.legal_basis);
  $("guide-take").onclick = function () {
    box.hidden = true;
    menu.onTake(s.code);
  };
  box.hidden = false;
  clearTimeout(guideTimer);
  guideTimer = setTimeout(function () {
    box.hidden = true;
  }, 60000);
}

$("guide-close").addEventListener("click", function () {
  $("guide").hidden = true;
});

export const KioskMenu = {
  state: menu,
  zonesOf: zonesOf,
  speak: speak,
  setServices: function (list) {
    menu.services = list;
    menu.loaded = true;
    render();
  },
  /** Back to the top of the menu for the next citizen (and out of 适老模式). */
  reset: function () {
    $("guide").hidden = true;
    menu.open = null;
    menu.page = 0;
    if (menu.elder) setElder(false);
    else render();
  },
};
