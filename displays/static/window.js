/* 窗口屏 (window-top display): this window's current number and status, nothing else. */
(function () {
  "use strict";

  var body = document.body;
  var hall = body.dataset.hall;
  var number = parseInt(body.dataset.window, 10);
  var state = { status: "open", current: null, offsetMinutes: 480, skew: 0 };

  function render() {
    var statusBox = document.getElementById("wd-status");
    var ticketBox = document.getElementById("wd-ticket");
    body.classList.remove("status-open", "status-paused", "status-closed", "ticket-called", "ticket-serving");
    body.classList.add("status-" + state.status);
    var current = state.current;
    if (current) body.classList.add("ticket-" + current.status);
    ticketBox.textContent = current ? current.ticket : "";
    if (state.status === "paused") statusBox.textContent = "暂停服务 (window paused)";
    else if (state.status === "closed") statusBox.textContent = "暂停办理 (closed)";
    else if (!current) statusBox.textContent = "欢迎光临 (welcome)";
    else if (current.status === "called") statusBox.textContent = "请 " + current.ticket + " 号到本窗口办理";
    else statusBox.textContent = "正在办理 (serving)";
  }

  function tick() {
    var p = window.HallTime.parts(Date.now() + state.skew, state.offsetMinutes);
    document.getElementById("clock-time").textContent =
      window.HallTime.pad2(p.hour) + ":" + window.HallTime.pad2(p.minute);
  }

  var stream = new window.HallStream(hall, {
    snapshot: function (msg) {
      if (msg.now) {
        state.offsetMinutes = window.HallTime.offsetMinutes(msg.now);
        var server = Date.parse(msg.now);
        if (!isNaN(server)) state.skew = server - Date.now();
      }
      var mine = (msg.windows || []).filter(function (w) {
        return w.number === number;
      })[0];
      state.status = mine ? mine.status : "open";
      state.current = mine && mine.current ? mine.current : null;
      render();
    },
    event: function (msg) {
      if (msg.type === "call") {
        if (msg.window === number) {
          state.current = { ticket: msg.ticket, service: msg.service, status: "called" };
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
      render();
    },
    status: function (connected) {
      document.getElementById("reconnecting").hidden = connected;
    },
  });
  window.windowDisplay = { state: state, stream: stream };
  render();
  tick();
  setInterval(tick, 10000);
  stream.start();
})();
