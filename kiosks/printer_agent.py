"""Ticket printer agent (取号机打印代理): prints kiosk tickets on an ESC/POS thermal printer.

Runs on the kiosk PC next to the browser. The kiosk page, set up once with
``/kiosk/<hall>?printer=http://127.0.0.1:9110``, POSTs each ticket it shows to
``http://127.0.0.1:9110/print`` (``{"hall_name": "…", "ticket": {…the API's ticket…}}``, with the
kiosk's ``"zone"`` (办理地点) and ``"foot"`` (the hall's no-show rule, as on the screen))
instead of opening the browser's print dialog; when the agent does not answer, the page
falls back to the browser's printing. The agent listens on the loopback interface only.

Printers::

    python -m kiosks.printer_agent --device /dev/usb/lp0          # USB printer class device
    python -m kiosks.printer_agent --host 192.168.1.50            # network printer, port 9100
    python -m kiosks.printer_agent --usb 0416:5011                # raw USB (python-escpos)
    python -m kiosks.printer_agent --dry-run tickets.bin          # append ESC/POS bytes to a file

    python -m kiosks.printer_agent --dry-run out.bin --ticket ticket.json   # print one and exit

Chinese text is sent in GB18030 after ``FS &`` (the Chinese character mode of the common
58/80 mm printers); the QR code uses the printer's own ``GS ( k`` QR commands, so it stays
sharp at any resolution. ``--usb`` needs the optional extra: ``pip install -e '.[printer]'``.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ENCODING = "gb18030"
MAX_BODY = 16 * 1024

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"
INIT = ESC + b"@"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
LEFT, CENTER = ESC + b"a\x00", ESC + b"a\x01"
CUT = GS + b"V\x42\x00"  # feed to the cutter, then partial cut

PRIORITY_LABELS = {
    "elderly": "70岁以上老人",
    "disabled": "残疾人",
    "pregnant": "孕妇",
    "military": "军人",
    "appointment": "预约",
}


def size(width: int, height: int) -> bytes:
    """Character size, 1–8 times wide and high (``GS ! n``)."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError("size must be 1..8")
    return GS + b"!" + bytes([((width - 1) << 4) | (height - 1)])


def feed(lines: int) -> bytes:
    return ESC + b"d" + bytes([max(0, min(255, lines))])


def qr(data: str, module: int = 6) -> bytes:
    """A QR code (model 2, error correction M) with the printer's own QR commands."""
    payload = data.encode("ascii")
    if len(payload) > 7000:
        raise ValueError("QR data too long")

    def command(fn: bytes, body: bytes) -> bytes:
        length = len(body) + 2
        return GS + b"(k" + bytes([length % 256, length // 256]) + b"1" + fn + body

    return (
        command(b"A", b"2\x00")  # model 2
        + command(b"C", bytes([module]))  # module size in dots
        + command(b"E", b"1")  # error correction level M
        + command(b"P", b"0" + payload)  # store the data
        + command(b"Q", b"0")  # print it
    )


def text(line: str) -> bytes:
    return line.encode(ENCODING, errors="replace") + b"\n"


def hall_time(iso: str) -> str:
    """``2026-11-26T10:03:00+08:00`` (already hall time) → ``2026年11月26日 10:03``."""
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)", iso or "")
    if not m:
        return ""
    year, month, day, hour, minute = m.groups()
    return f"{year}年{int(month)}月{int(day)}日 {hour}:{minute}"


#: The ticket's last line when the kiosk sends none (an older kiosk page).
DEFAULT_FOOT = "请留意叫号。过号后请重新取号"


def render_ticket(
    ticket: dict[str, Any], hall_name: str, *, zone: str = "", foot: str = DEFAULT_FOOT
) -> bytes:
    """The ESC/POS bytes of one ticket, laid out like the kiosk's 80 mm print page."""
    number = str(ticket.get("number") or "")
    if not re.fullmatch(r"[A-Z]{1,2}\d{1,4}", number):
        raise ValueError("not a ticket number")
    ahead = int(ticket.get("ahead") or 0)
    # None: no window with staff on duty serves the ticket now (no estimate can be given).
    estimate = ticket.get("estimated_wait_minutes")
    minutes = int(estimate or 0)
    out = [INIT, CHINESE_ON, CENTER]
    out += [BOLD_ON, size(1, 2), text(hall_name[:40]), size(1, 1), BOLD_OFF]
    out += [text("-" * 32)]
    out += [size(2, 2), text(str(ticket.get("service_name") or ticket.get("service") or "")[:12])]
    out += [BOLD_ON, size(5, 5), text(number), size(1, 1), BOLD_OFF]
    priority = ticket.get("priority")
    if priority:
        out += [
            BOLD_ON,
            text("绿色通道 · " + PRIORITY_LABELS.get(str(priority), str(priority))),
            BOLD_OFF,
        ]
    out += [size(1, 2), text(f"您前面还有 {ahead} 人等候"), size(1, 1)]
    if estimate is None and "estimated_wait_minutes" in ticket:
        out += [text("暂无窗口办理，请留意叫号")]
    else:
        out += [text(f"预计等候约 {minutes} 分钟" if ahead and minutes else "请留意叫号")]
    if zone:
        out += [BOLD_ON, text(zone[:40]), BOLD_OFF]
    url = str(ticket.get("track_url") or "")
    if url:
        out += [feed(1), qr(url), text("扫码查看排队进度，办结后评价服务")]
    out += [text("取号时间：" + hall_time(str(ticket.get("queued_at") or "")))]
    out += [text("-" * 32), text(foot[:80]), CHINESE_OFF, LEFT, feed(3), CUT]
    return b"".join(out)


# ---------- where the bytes go ----------

Sink = Callable[[bytes], None]


def file_sink(path: Path) -> Sink:
    """A file (``--dry-run``, appended) or a printer device such as /dev/usb/lp0."""
    lock = threading.Lock()

    def write(data: bytes) -> None:
        with lock, open(path, "ab") as f:
            f.write(data)

    return write


def network_sink(host: str, port: int) -> Sink:
    def write(data: bytes) -> None:
        with socket.create_connection((host, port), timeout=10) as conn:
            conn.sendall(data)

    return write


def usb_sink(vid_pid: str) -> Sink:
    try:
        from escpos.printer import Usb  # type: ignore[import-not-found]
    except ImportError as exc:  # pragma: no cover - optional extra
        raise SystemExit("需要 python-escpos: pip install -e '.[printer]'") from exc
    vid, _, pid = vid_pid.partition(":")
    printer = Usb(int(vid, 16), int(pid, 16))

    def write(data: bytes) -> None:
        printer._raw(data)

    return write


# ---------- the local HTTP endpoint the kiosk page posts to ----------


@dataclass
class Agent:
    sink: Sink
    allow_origin: str = "*"
    printed: int = 0

    def print_request(self, payload: Any) -> None:
        if not isinstance(payload, dict) or not isinstance(payload.get("ticket"), dict):
            raise ValueError("expected {hall_name, ticket}")
        hall_name = str(payload.get("hall_name") or "")
        self.sink(
            render_ticket(
                payload["ticket"],
                hall_name,
                zone=str(payload.get("zone") or ""),
                foot=str(payload.get("foot") or DEFAULT_FOOT),
            )
        )
        self.printed += 1


def make_handler(agent: Agent) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "window-service-printer/1"

        def _cors(self) -> None:
            self.send_header("Access-Control-Allow-Origin", agent.allow_origin)
            self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            # Chrome's Private Network Access: a hall server page calling the kiosk's loopback
            self.send_header("Access-Control-Allow-Private-Network", "true")
            self.send_header("Vary", "Origin")

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self._cors()
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_OPTIONS(self) -> None:
            self.send_response(204)
            self._cors()
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._json(200, {"status": "ok", "printed": agent.printed})
            else:
                self._json(404, {"error": {"code": "not_found", "message": "没有这个地址"}})

        def do_POST(self) -> None:
            if self.path != "/print":
                self._json(404, {"error": {"code": "not_found", "message": "没有这个地址"}})
                return
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY:
                self._json(413, {"error": {"code": "payload_too_large", "message": "请求体过大"}})
                return
            try:
                agent.print_request(json.loads(self.rfile.read(int(length))))
            except (ValueError, TypeError) as exc:
                self._json(
                    422, {"error": {"code": "invalid_ticket", "message": f"号票无效 ({exc})"}}
                )
                return
            except OSError as exc:
                self._json(
                    503, {"error": {"code": "printer_error", "message": f"打印机故障 ({exc})"}}
                )
                return
            self._json(200, {"status": "printed"})

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write("printer-agent: " + (format % args) + "\n")

    return Handler


def make_server(agent: Agent, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(agent))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="printer_agent", description="取号机打印代理 (ESC/POS ticket printer agent)"
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dry-run", type=Path, metavar="FILE", help="append ESC/POS bytes to FILE")
    where.add_argument("--device", type=Path, help="printer device file, e.g. /dev/usb/lp0")
    where.add_argument("--host", help="network printer (raw TCP)")
    where.add_argument("--usb", metavar="VID:PID", help="USB printer via python-escpos")
    parser.add_argument("--printer-port", type=int, default=9100)
    parser.add_argument("--port", type=int, default=9110, help="local port the kiosk posts to")
    parser.add_argument("--allow-origin", default="*", help="the hall server's origin")
    parser.add_argument("--ticket", type=Path, help="print this ticket JSON once and exit")
    parser.add_argument("--hall-name", default="", help="hall name for --ticket")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.dry_run:
        sink = file_sink(args.dry_run)
    elif args.device:
        sink = file_sink(args.device)
    elif args.host:
        sink = network_sink(args.host, args.printer_port)
    else:
        sink = usb_sink(args.usb)
    agent = Agent(sink, allow_origin=args.allow_origin)
    if args.ticket:
        data = json.loads(args.ticket.read_text(encoding="utf-8"))
        ticket = data.get("ticket", data) if isinstance(data, dict) else data
        hall_name = args.hall_name or (data.get("hall_name", "") if isinstance(data, dict) else "")
        agent.print_request({"hall_name": hall_name, "ticket": ticket})
        print("已打印 (printed)", ticket.get("number"))
        return 0
    server = make_server(agent, args.port)
    print(f"打印代理已启动 (listening) http://127.0.0.1:{args.port}/print", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
