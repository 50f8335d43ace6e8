/* 到号提醒 on the citizen's tracking page: when N are ahead (the hall's alert_ahead, in
 * #track-init) and when the ticket is called — a visible banner, a chime (Web Audio), vibration
 * (navigator.vibrate, once the page has been tapped) and a page notification (Notification API)
 * while the page is open.
 *
 * Browsers play sound and show notifications only after a gesture, hence the 「开启提醒」 button:
 * it unlocks audio and asks for the notification permission. The banner works without it, and
 * so does vibration once the page has been tapped anywhere.
 *
 * Each alert fires once per ticket: what fired is remembered in localStorage under the
 * ticket's token, so a reload, a second tab or a replay after waking never fires it again.
 * When the phone wakes (visibilitychange, pageshow, online), the page re-reads the ticket and
 * the hall stream replays from its last seq (the ``resume`` track.js hands to watchWake): an
 * alert that fell due while the phone slept fires then, once.
 *
 *   check(ticket)      the tracking answer (GET /api/v1/track/{token}): fire what is due
 *   watchWake(resume)  call resume() whenever the phone wakes
 */
import { $, t } from "./dom.js";

var init = JSON.parse(document.getElementById("track-init").textContent);
var N = typeof init.alert_ahead === "number" ? init.alert_ahead : 3;
var KEY = "track-alerts:" + init.token;
var memory = {};
var audio = null;

function fired() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "{}") || {};
  } catch (err) {
    return memory;
  }
}

function remember(kinds) {
  var done = fired();
  kinds.forEach(function (k) { done[k] = 1; memory[k] = 1; });
  try {
    localStorage.setItem(KEY, JSON.stringify(done));
  } catch (err) {
    /* private mode: memory only */
  }
}

// -- sound ---------------------------------------------------------------------------
function unlockAudio() {
  var Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    if (!audio) audio = new Ctx();
    if (audio.state === "suspended") audio.resume();
    tone(0, 0.05, 0.001); // a silent blip inside the gesture unlocks iOS
  } catch (err) {
    audio = null;
  }
}

function tone(at, length, volume) {
  var start = audio.currentTime + at;
  var osc = audio.createOscillator();
  var gain = audio.createGain();
  osc.type = "sine";
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(volume, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
  osc.connect(gain);
  gain.connect(audio.destination);
  osc.start(start);
  osc.stop(start + length + 0.05);
}

function chime(times) {
  if (!audio) return;
  try {
    if (audio.state === "suspended") audio.resume();
    for (var i = 0; i < times; i++) tone(i * 0.45, 0.35, 0.6);
  } catch (err) {
    /* no sound: the banner and the vibration still say it */
  }
}

// -- the alert -----------------------------------------------------------------------
function notify(title, body) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    new Notification(title, { body: body, tag: KEY, lang: document.documentElement.lang });
  } catch (err) {
    /* Android Chrome wants a service worker for this: the banner says it anyway */
  }
}

// Browsers refuse (and complain on the console) to vibrate a page nobody has tapped yet.
function vibrate(pattern) {
  if (!navigator.vibrate) return;
  if (navigator.userActivation && !navigator.userActivation.hasBeenActive) return;
  try { navigator.vibrate(pattern); } catch (err) { /* ignore */ }
}

function show(kind, text) {
  var banner = $("alert");
  banner.dataset.kind = kind;
  banner.textContent = text;
  banner.hidden = false;
}

function goText(tk) {
  var zone = (init.zones || {})[String(tk.window)];
  if (tk.window == null) return t("已叫号");
  return zone ? t("请到%(n)s号窗口（%(zone)s）办理", { n: tk.window, zone: zone }) : t("请到%(n)s号窗口办理", { n: tk.window });
}

function alertDue(tk) {
  var done = fired();
  if (tk.status === "called") {
    if (done.called) return;
    remember(["called", "ahead"]);
    var go = goText(tk);
    show("called", t("轮到您了！") + go);
    chime(3);
    vibrate([400, 200, 400, 200, 400]);
    notify(t("已叫号：%(number)s", { number: tk.number }), go);
    return;
  }
  if (tk.status !== "waiting" && tk.status !== "remote") return;
  if (N <= 0 || done.ahead || done.called || tk.ahead > N) return;
  remember(["ahead"]);
  var text = tk.status === "remote"
    ? t("前面还有%(n)s人，请尽快到大厅签到", { n: tk.ahead })
    : t("前面还有%(n)s人，请到等候区留意叫号", { n: tk.ahead });
  show("ahead", text);
  chime(2);
  vibrate([300, 150, 300]);
  notify(t("快到您了：%(number)s", { number: tk.number }), text);
}

// -- the button ----------------------------------------------------------------------
var button = $("alerts-enable");
button.addEventListener("click", function () {
  unlockAudio();
  var card = $("alerts");
  card.dataset.state = "on";
  button.textContent = t("提醒已开启");
  if ("Notification" in window && Notification.permission === "default") {
    try {
      var asked = Notification.requestPermission(function () {});
      if (asked && asked.then) asked.then(permissionShown, permissionShown);
    } catch (err) {
      permissionShown();
    }
  } else {
    permissionShown();
  }
});

function permissionShown() {
  if ("Notification" in window && Notification.permission === "denied") {
    button.textContent = t("提醒已开启（未允许通知，仅声音和振动）");
  }
}

// Nothing left to alert once the ticket is over (the rating card takes the place).
var OVER = { done: 1, no_show: 1, cancelled: 1, expired: 1 };

function check(tk) {
  $("alerts").hidden = !!OVER[tk.status];
  alertDue(tk);
}

// -- waking up -----------------------------------------------------------------------
function watchWake(resume) {
  function wake() {
    if (document.hidden) return;
    if (audio && audio.state === "suspended") {
      try { audio.resume(); } catch (err) { /* ignore */ }
    }
    resume();
  }
  document.addEventListener("visibilitychange", wake);
  window.addEventListener("pageshow", function (event) { if (event.persisted) wake(); });
  window.addEventListener("online", wake);
}

export { check, watchWake };
