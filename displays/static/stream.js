/* The hall's event stream, /ws/halls/{hall}/display: the one client of it for every page that
 * listens (hall TV, window-top display, evaluator pad, and through app.js's liveSocket the
 * terminal, the office and the citizen's tracking page).
 *
 * The server's contract: the first message is a snapshot (or, with ?after=SEQ, a replay of
 * every event after SEQ); then live events, each with the hall's seq growing by exactly 1; a
 * heartbeat carrying the last seq at least every 20 s.
 *
 * This client keeps the last seq it applied. When the socket drops (server restart, network)
 * it reconnects by itself with back-off (0.5 s doubling to 5 s, jittered) and ?after=lastSeq,
 * so nothing is missed and nobody has to touch the screen. A gap in seq, or a heartbeat ahead
 * of us, also reconnects (the server then replays); a heartbeat behind us (a restored
 * database) starts over from a snapshot. A snapshot replaces the page's state.
 *
 *   import { HallStream } from "/displays/stream.js";
 *   const stream = new HallStream("demo", {
 *     snapshot(msg) {...}, event(msg) {...}, status(connected) {...}
 *   });
 *   stream.start();   // stream.stop() closes it for good

 */
var WATCHDOG_MS = 45000; // heartbeats come at least every 20 s
var MAX_BACKOFF_MS = 5000;

function HallStream(hall, handlers) {
  this.hall = hall;
  this.handlers = handlers || {};
  this.lastSeq = null;
  this.attempt = 0;
  this.ws = null;
  this.connected = false;
  this.reconnects = 0;
  this.retryTimer = null;
  this.watchdog = null;
  this.stopped = false;
}

HallStream.prototype.url = function () {
  var proto = location.protocol === "https:" ? "wss:" : "ws:";
  var url = proto + "//" + location.host + "/ws/halls/" + encodeURIComponent(this.hall) + "/display";
  if (this.lastSeq !== null) url += "?after=" + this.lastSeq;
  return url;
};

HallStream.prototype.start = function () {
  this.stopped = false;
  this.connect();
};

/* Close for good (a page leaving): no reconnect. */
HallStream.prototype.stop = function () {
  this.stopped = true;
  clearTimeout(this.retryTimer);
  clearTimeout(this.watchdog);
  var ws = this.ws;
  this.ws = null;
  if (ws) {
    try {
      ws.close();
    } catch (err) {
      /* ignore */
    }
  }
};

HallStream.prototype.connect = function () {
  var self = this;
  clearTimeout(this.retryTimer);
  if (this.stopped) return;
  var ws;
  try {
    ws = new WebSocket(this.url());
  } catch (err) {
    this.scheduleRetry();
    return;
  }
  this.ws = ws;
  ws.onopen = function () {
    if (self.ws !== ws) return;
    self.kick();
    self.setConnected(true);
  };
  ws.onmessage = function (ev) {
    if (self.ws !== ws) return;
    self.kick();
    var msg;
    try {
      msg = JSON.parse(ev.data);
    } catch (err) {
      return;
    }
    self.handle(msg);
  };
  ws.onclose = function () {
    if (self.ws !== ws) return;
    self.ws = null;
    clearTimeout(self.watchdog);
    self.setConnected(false);
    self.scheduleRetry();
  };
  ws.onerror = function () {
    try {
      ws.close();
    } catch (err) {
      /* already closing */
    }
  };
};

/* Drop the socket and connect again at once (gap in seq, silent server). */
HallStream.prototype.resync = function () {
  var ws = this.ws;
  this.ws = null;
  clearTimeout(this.watchdog);
  if (ws) {
    try {
      ws.close();
    } catch (err) {
      /* ignore */
    }
  }
  this.setConnected(false);
  this.scheduleRetry(true);
};

HallStream.prototype.scheduleRetry = function (now) {
  var self = this;
  clearTimeout(this.retryTimer);
  if (this.stopped) return;
  var base = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, this.attempt));
  var delay = now ? 0 : Math.round(base / 2 + (Math.random() * base) / 2);
  this.attempt = Math.min(this.attempt + 1, 10);
  this.retryTimer = setTimeout(function () {
    self.reconnects += 1;
    self.connect();
  }, delay);
};

HallStream.prototype.kick = function () {
  var self = this;
  clearTimeout(this.watchdog);
  this.watchdog = setTimeout(function () {
    self.resync();
  }, WATCHDOG_MS);
};

HallStream.prototype.setConnected = function (value) {
  if (this.connected === value) return;
  this.connected = value;
  if (value) this.attempt = 0;
  if (this.handlers.status) this.handlers.status(value);
};

HallStream.prototype.handle = function (msg) {
  if (!msg || typeof msg.type !== "string") return;
  this.setConnected(true);
  if (msg.type === "snapshot") {
    this.lastSeq = typeof msg.seq === "number" ? msg.seq : null;
    if (this.handlers.snapshot) this.handlers.snapshot(msg);
    return;
  }
  if (typeof msg.seq !== "number") return;
  if (msg.type === "heartbeat") {
    if (this.lastSeq === null) return;
    if (msg.seq > this.lastSeq) this.resync(); // we missed something: replay it
    else if (msg.seq < this.lastSeq) {
      // the hall's log is behind us (a restored database): start over from a snapshot
      this.lastSeq = null;
      this.resync();
    }
    return;
  }
  if (this.lastSeq !== null) {
    if (msg.seq <= this.lastSeq) return; // already applied
    if (msg.seq > this.lastSeq + 1) {
      this.resync();
      return;
    }
  }
  this.lastSeq = msg.seq;
  if (this.handlers.event) this.handlers.event(msg);
};

export { HallStream };

/* Small helpers shared by the device pages. */
export const HallTime = {
  /* "+08:00" of an ISO string → minutes east of UTC (hall time zone). */
  offsetMinutes: function (iso) {
    var m = /([+-])(\d\d):?(\d\d)$/.exec(iso || "");
    if (!m) return 480;
    var v = parseInt(m[2], 10) * 60 + parseInt(m[3], 10);
    return m[1] === "-" ? -v : v;
  },
  /* Date parts of a UTC millisecond time shown in the hall's zone. */
  parts: function (ms, offsetMinutes) {
    var d = new Date(ms + offsetMinutes * 60000);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      weekday: "日一二三四五六".charAt(d.getUTCDay()),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
    };
  },
  /* "2026年12月2日 星期三" / "Wednesday, December 2, 2026" (the page's language) */
  dateText: function (p, lang) {
    if (/^zh/.test(lang || "zh")) return p.year + "年" + p.month + "月" + p.day + "日 星期" + p.weekday;
    return new Date(Date.UTC(p.year, p.month - 1, p.day)).toLocaleDateString(lang, {
      weekday: "long", year: "numeric", month: "long", day: "numeric", timeZone: "UTC",
    });
  },
  pad2: function (n) {
    return (n < 10 ? "0" : "") + n;
  },
};
