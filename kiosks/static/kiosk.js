/* 取号机 (touch kiosk): choose a service (and a green-channel reason), get a printed ticket.
 *
 * One ticket per intention, whatever happens: the first tap creates an idempotency key and
 * keeps it (with the service and priority) in sessionStorage until the ticket is printed.
 * A double tap is ignored while a request is on its way; a retry after a network error and a
 * reload of the page reuse the same key, so the server hands back the same ticket (200)
 * instead of a new one. After printing the key is forgotten.
 *
 * The device key (X-Device-Key) is set up once by an administrator with ?key=… and kept in
 * localStorage; it is removed from the address bar at once.
 */
(function () {
  "use strict";

  var body = document.body;
  var hall = body.dataset.hall;
  var KEY_STORE = "window_service.kiosk.key." + hall;
  var PENDING_STORE = "window_service.kiosk.pending." + hall;
  var PRINTER_STORE = "window_service.kiosk.printer." + hall;
  var BACK_TO_START_MS = 8000;
  var GREEN_RESET_MS = 60000;
  var RETRIES = [1000, 2000, 4000];
  var PRIORITY_LABELS = {
    elderly: "70岁以上老人",
    disabled: "残疾人",
    pregnant: "孕妇",
    military: "军人",
    appointment: "预约",
  };

  var params = new URLSearchParams(location.search);
  var printMode = params.get("print") === "0" ? "none" : "browser";

  /* ---------- set-up: device key and optional printer agent from the address ---------- */
  (function setup() {
    var changed = false;
    if (params.has("key")) {
      var key = (params.get("key") || "").trim();
      if (key) localStorage.setItem(KEY_STORE, key);
      params.delete("key");
      changed = true;
    }
    if (params.has("printer")) {
      var printer = (params.get("printer") || "").trim();
      if (/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(printer)) {
        localStorage.setItem(PRINTER_STORE, printer.replace(/\/$/, ""));
      } else if (printer === "" || printer === "off") {
        localStorage.removeItem(PRINTER_STORE);
      }
      params.delete("printer");
      changed = true;
    }
    // #key=… works too and never reaches the server's access log
    var hash = /^#key=([^&]+)/.exec(location.hash);
    if (hash) {
      localStorage.setItem(KEY_STORE, decodeURIComponent(hash[1]).trim());
      changed = true;
    }
    if (changed) {
      var rest = params.toString();
      history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
    }
  })();

  var deviceKey = localStorage.getItem(KEY_STORE);
  var printerAgent = localStorage.getItem(PRINTER_STORE);

  var state = {
    services: [],
    priority: null,
    busy: false,
    ticket: null,
    tickets: [], // every ticket shown (for operators and tests)
    requests: 0,
  };
  var timers = { back: null, green: null, refresh: null };

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function show(screen) {
    ["setup", "start", "busy", "error", "ticket", "checkin"].forEach(function (name) {
      $("screen-" + name).hidden = name !== screen;
    });
    body.dataset.screen = screen;
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // works on plain http too (unlike crypto.randomUUID)
    return (
      "kiosk-" +
      Array.prototype.map
        .call(bytes, function (b) {
          return (b < 16 ? "0" : "") + b.toString(16);
        })
        .join("")
    );
  }

  function loadPending() {
    try {
      var raw = sessionStorage.getItem(PENDING_STORE);
      var pending = raw ? JSON.parse(raw) : null;
      if (pending && pending.key && pending.service) return pending;
    } catch (err) {
      /* unreadable: forget it */
    }
    sessionStorage.removeItem(PENDING_STORE);
    return null;
  }

  function savePending(pending) {
    sessionStorage.setItem(PENDING_STORE, JSON.stringify(pending));
  }

  function clearPending() {
    sessionStorage.removeItem(PENDING_STORE);
  }

  /* ---------- start screen ---------- */

  function renderServices() {
    var box = $("services");
    box.textContent = "";
    state.services.forEach(function (s) {
      var button = el("button", "k-service");
      button.type = "button";
      button.dataset.service = s.code;
      button.appendChild(el("span", "k-service-prefix", s.prefix));
      button.appendChild(el("span", "k-service-name", s.name));
      button.appendChild(el("span", "k-service-dept", s.department_name || s.department || ""));
      var info = "等候 " + s.waiting + " 人";
      if (s.waiting > 0 && s.estimated_wait_minutes > 0) info += " · 约 " + s.estimated_wait_minutes + " 分钟";
      button.appendChild(el("span", "k-service-wait", info));
      button.addEventListener("click", function () {
        take(s.code);
      });
      var item = el("div", "k-service-item");
      item.appendChild(button);
      if (hasGuide(s)) {
        var open = el("button", "k-guide-open", "指南");
        open.type = "button";
        open.dataset.guide = s.code;
        open.setAttribute("aria-label", "办事指南：" + s.name);
        open.addEventListener("click", function () {
          showGuide(s);
        });
        item.appendChild(open);
      }
      box.appendChild(item);
    });
    if (!state.services.length) box.appendChild(el("p", "k-hint", "暂无可办理的事项"));
  }

  /* ---------- service guide (办事指南): fees, materials, legal basis, time limits ---------- */

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
    guideRow(list, "办理部门", s.department_name || s.department);
    guideRow(list, "法定时限", s.legal_days + " 个工作日");
    guideRow(list, "承诺时限", s.promised_days ? s.promised_days + " 个工作日" : "即办");
    guideRow(list, "收费标准", s.fees);
    if (s.materials && s.materials.length) {
      list.appendChild(el("dt", null, "申请材料"));
      var dd = el("dd");
      var ol = el("ol", "k-guide-materials");
      s.materials.forEach(function (m) {
        ol.appendChild(el("li", null, m));
      });
      dd.appendChild(ol);
      list.appendChild(dd);
    }
    guideRow(list, "设定依据", s.legal_basis);
    $("guide-take").onclick = function () {
      box.hidden = true;
      take(s.code);
    };
    box.hidden = false;
    clearTimeout(timers.guide);
    timers.guide = setTimeout(function () {
      box.hidden = true;
    }, 60000);
  }

  $("guide-close").addEventListener("click", function () {
    $("guide").hidden = true;
  });

  function loadServices() {
    return fetch("/api/v1/halls/" + encodeURIComponent(hall) + "/services", {
      headers: { Accept: "application/json" },
    })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (list) {
        if (Array.isArray(list)) {
          state.services = list;
          renderServices();
        }
      })
      .catch(function () {
        /* keep the last list; refreshed again soon */
      });
  }

  function setPriority(priority) {
    state.priority = state.priority === priority ? null : priority;
    Array.prototype.forEach.call($("green-options").querySelectorAll("button"), function (b) {
      b.classList.toggle("selected", b.dataset.priority === state.priority);
      b.setAttribute("aria-pressed", b.dataset.priority === state.priority ? "true" : "false");
    });
    var note = $("green-note");
    note.hidden = !state.priority;
    note.textContent = state.priority
      ? "绿色通道：" + PRIORITY_LABELS[state.priority] + "。请选择事项，到窗口时请出示相关证件。"
      : "";
    clearTimeout(timers.green);
    if (state.priority) {
      timers.green = setTimeout(function () {
        if (state.priority) setPriority(state.priority);
      }, GREEN_RESET_MS);
    }
  }

  Array.prototype.forEach.call($("green-options").querySelectorAll("button"), function (b) {
    b.addEventListener("click", function () {
      setPriority(b.dataset.priority);
    });
  });

  function toStart() {
    clearTimeout(timers.back);
    state.ticket = null;
    if (state.priority) setPriority(state.priority);
    show("start");
    loadServices();
  }

  /* ---------- taking a ticket ---------- */

  function take(service) {
    if (state.busy) return; // a double tap while the first is on its way
    var pending = loadPending();
    if (!pending || pending.service !== service || pending.priority !== state.priority) {
      pending = { key: randomKey(), service: service, priority: state.priority, at: Date.now() };
      savePending(pending);
    }
    submit(pending);
  }

  function submit(pending) {
    state.busy = true;
    show("busy");
    $("busy-text").textContent = "正在取号，请稍候…";
    attempt(pending, 0);
  }

  function attempt(pending, tries) {
    state.requests += 1;
    fetch("/api/v1/halls/" + encodeURIComponent(hall) + "/tickets", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-Device-Key": deviceKey,
      },
      body: JSON.stringify({
        service: pending.service,
        priority: pending.priority || null,
        idempotency_key: pending.key,
      }),
    })
      .then(function (r) {
        return r
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            return { status: r.status, data: data };
          });
      })
      .then(
        function (res) {
          if (res.status === 200 || res.status === 201) {
            state.busy = false;
            showTicket(res.data, pending);
            return;
          }
          if (res.status >= 500 && tries < RETRIES.length) {
            retryLater(pending, tries);
            return;
          }
          state.busy = false;
          var message = res.data && res.data.error ? res.data.error.message : "取号失败 (HTTP " + res.status + ")";
          if (res.status === 401) {
            localStorage.removeItem(KEY_STORE);
            deviceKey = null;
            clearPending();
            showSetup("设备密钥无效，请管理员重新设置本机 (" + message + ")");
            return;
          }
          if (res.status >= 500) {
            showError("系统繁忙，请稍后重试", message, true);
            return;
          }
          clearPending(); // refused: no ticket was made with this key
          showError("无法取号", message, false);
        },
        function () {
          // network error: the ticket may or may not exist; the same key finds out
          if (tries < RETRIES.length) retryLater(pending, tries);
          else {
            state.busy = false;
            showError("网络异常", "请点击“重试”，不会重复取号 (retrying will not take a second ticket)", true);
          }
        }
      );
  }

  function retryLater(pending, tries) {
    $("busy-text").textContent = "网络异常，正在重试…";
    setTimeout(function () {
      attempt(pending, tries + 1);
    }, RETRIES[tries]);
  }

  function showError(title, detail, canRetry) {
    $("error-text").textContent = title;
    $("error-detail").textContent = detail || "";
    $("error-retry").hidden = !canRetry;
    show("error");
  }

  $("error-retry").addEventListener("click", function () {
    var pending = loadPending();
    if (pending && !state.busy) submit(pending);
    else toStart();
  });
  $("error-back").addEventListener("click", function () {
    clearPending();
    toStart();
  });

  /* ---------- the ticket ---------- */

  function hallTime(iso) {
    // "2026-11-26T10:03:00+08:00" is already hall time: read its fields as written
    var m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(iso || "");
    if (!m) return "";
    return m[1] + "年" + parseInt(m[2], 10) + "月" + parseInt(m[3], 10) + "日 " + m[4] + ":" + m[5];
  }

  function loadQr(url) {
    var box = $("t-qr");
    box.textContent = "";
    if (!url) return Promise.resolve(false);
    return fetch("/qr.svg?data=" + encodeURIComponent(url))
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.text();
      })
      .then(function (svg) {
        var doc = new DOMParser().parseFromString(svg, "image/svg+xml");
        var node = doc.documentElement;
        if (node && node.nodeName.toLowerCase() === "svg") {
          node.setAttribute("role", "img");
          node.setAttribute("aria-label", "二维码 QR");
          box.appendChild(document.importNode(node, true));
          return true;
        }
        return false;
      })
      .catch(function () {
        box.appendChild(el("div", "t-qr-missing", url));
        return false;
      });
  }

  function showTicket(ticket, pending) {
    state.ticket = ticket;
    state.tickets.push(ticket);
    $("t-service").textContent = ticket.service_name || ticket.service;
    $("t-number").textContent = ticket.number;
    var green = $("t-green");
    green.hidden = !ticket.priority;
    green.textContent = !ticket.priority
      ? ""
      : ticket.priority === "appointment"
        ? "预约 · 优先叫号"
        : "绿色通道 · " + (PRIORITY_LABELS[ticket.priority] || ticket.priority);
    $("t-ahead").textContent = "您前面还有 " + ticket.ahead + " 人等候";
    $("t-wait").textContent =
      ticket.ahead > 0 && ticket.estimated_wait_minutes > 0
        ? "预计等候约 " + ticket.estimated_wait_minutes + " 分钟"
        : "请留意叫号";
    $("t-time").textContent = "取号时间：" + hallTime(ticket.queued_at);
    show("ticket");
    loadQr(ticket.track_url).then(function () {
      print(ticket, pending);
    });
  }

  function print(ticket, pending) {
    var done = function () {
      clearPending(); // printed: a reload now starts afresh
      clearTimeout(timers.back);
      timers.back = setTimeout(toStart, BACK_TO_START_MS);
    };
    if (printerAgent) {
      fetch(printerAgent + "/print", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ hall_name: body.dataset.hallName, ticket: ticket }),
      })
        .then(function (r) {
          if (!r.ok) throw new Error(r.status);
        })
        .catch(function () {
          window.print(); // the agent is down: fall back to the browser's printer
        })
        .then(done);
      return;
    }
    if (printMode === "browser") {
      try {
        window.print(); // kiosk Chromium runs with --kiosk-printing: prints without a dialog
      } catch (err) {
        /* printing unavailable: the ticket stays on screen */
      }
    }
    done();
  }

  /* ---------- check-in: an appointment's code (预约签到) or a remote ticket (网上取号签到) ---------- */

  function checkInPath(text) {
    var code = text.replace(/\s+/g, "");
    var digits = code.match(/^(?:.*\D)?(\d{8})$/); // a scanned code may carry a prefix
    if (digits) return "/appointments/" + digits[1] + "/check-in";
    var token = code.match(/\/t\/([A-Za-z0-9_-]{8,64})$/); // the phone's tracking QR
    return "/remote-tickets/" + encodeURIComponent(token ? token[1] : code.toUpperCase()) + "/check-in";
  }

  $("checkin-open").addEventListener("click", function () {
    clearTimeout(timers.back);
    $("checkin-code").value = "";
    $("checkin-error").hidden = true;
    show("checkin");
    $("checkin-code").focus();
    timers.back = setTimeout(toStart, BACK_TO_START_MS * 8);
  });
  $("checkin-back").addEventListener("click", toStart);
  $("checkin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = $("checkin-code").value.trim();
    if (!text || state.busy) return;
    state.busy = true;
    fetch("/api/v1/halls/" + encodeURIComponent(hall) + checkInPath(text), {
      method: "POST",
      headers: { Accept: "application/json", "X-Device-Key": deviceKey },
    })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (data) {
          return { status: r.status, data: data };
        });
      })
      .then(
        function (res) {
          state.busy = false;
          if (res.status === 200 || res.status === 201) {
            showTicket(res.data, null);
            return;
          }
          var message = res.data && res.data.error ? res.data.error.message : "签到失败 (HTTP " + res.status + ")";
          $("checkin-error").textContent = message;
          $("checkin-error").hidden = false;
        },
        function () {
          state.busy = false;
          $("checkin-error").textContent = "网络异常，请重试";
          $("checkin-error").hidden = false;
        }
      );
  });

  $("ticket-done").addEventListener("click", function () {
    clearPending();
    toStart();
  });

  function showSetup(detail) {
    if (detail) $("setup-detail").textContent = detail;
    show("setup");
  }

  function tick() {
    // hall time, whatever the kiosk's own time zone
    var offset = parseInt(body.dataset.tzOffset || "480", 10);
    var d = new Date(Date.now() + offset * 60000);
    var p2 = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    $("k-clock").textContent = p2(d.getUTCHours()) + ":" + p2(d.getUTCMinutes());
  }

  window.kiosk = {
    state: state,
    get pending() {
      return loadPending();
    },
  };

  tick();
  setInterval(tick, 15000);
  if (!deviceKey) {
    showSetup();
    return;
  }
  var resumed = loadPending();
  if (resumed) {
    // reloaded before the ticket was printed: fetch the same ticket again, never a new one
    state.priority = resumed.priority || null;
    submit(resumed);
    loadServices();
  } else {
    toStart();
  }
  timers.refresh = setInterval(function () {
    if (body.dataset.screen === "start") loadServices();
  }, 30000);
})();
