/* 窗口叫号终端: today's bookings (预约) for the window's services, from the current slot on,
 * names and phones masked. Re-read after a terminal refresh (at most every 15 s) and once a minute. */
import { t } from "./dom.js";
import { api } from "./app.js";
import { Terminal } from "./terminal.js";

var list = document.getElementById("booked");
if (list) start();

function start() {
  var STATUS = { booked: t("待签到"), checked_in: t("已签到") };
  var busy = false;
  var last = 0;
  var MIN_GAP_MS = 15000; // a busy hall refreshes the terminal often; bookings change slowly

  async function load(force) {
    var state = Terminal.state;
    if (busy || !state || !state.window) return;
    if (force !== true && Date.now() - last < MIN_GAP_MS) return;
    busy = true;
    last = Date.now();
    try {
      var rows = await api("GET", "/api/v1/windows/" + state.window.id + "/appointments");
      list.textContent = "";
      rows.forEach(function (row) {
        var li = document.createElement("li");
        li.className = "queue-item booked-item";
        li.dataset.status = row.status;
        li.textContent =
          row.start + "–" + row.end + "  " + row.name + "  " + row.phone + "  " +
          (STATUS[row.status] || row.status) + (row.ticket ? " · " + row.ticket : "");
        list.appendChild(li);
      });
      document.getElementById("booked-count").textContent = String(rows.length);
      document.getElementById("booked-empty").hidden = rows.length > 0;
    } catch (err) {
      /* the waiting list shows connection problems; this list just keeps its last state */
    } finally {
      busy = false;
    }
  }

  document.addEventListener("terminal:state", load);
  setInterval(function () { load(true); }, 60000);
  load(true);
}
