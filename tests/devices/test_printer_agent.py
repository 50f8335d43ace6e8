"""The ticket printer agent's ESC/POS output (dry run) and its local endpoint."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from kiosks import printer_agent

TICKET = {
    "id": 7,
    "number": "A012",
    "service": "hukou",
    "service_name": "户籍业务",
    "status": "waiting",
    "priority": "elderly",
    "queued_at": "2026-11-26T10:03:00+08:00",
    "ahead": 3,
    "estimated_wait_minutes": 24,
    "window": None,
    "track_url": "http://hall.example/t/AbCdEfGh12345678",
}


def test_dry_run_writes_a_chinese_ticket_with_qr_and_cut(tmp_path: Path) -> None:
    ticket_file = tmp_path / "ticket.json"
    ticket_file.write_text(
        json.dumps({"hall_name": "示范县政务服务中心", "ticket": TICKET}), encoding="utf-8"
    )
    out = tmp_path / "out.bin"
    assert printer_agent.main(["--dry-run", str(out), "--ticket", str(ticket_file)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"\x1b@\x1c&")  # initialise, Chinese character mode
    for line in (
        "示范县政务服务中心",
        "户籍业务",
        "您前面还有 3 人等候",
        "预计等候约 24 分钟",
        "绿色通道 · 70岁以上老人",
        "取号时间：2026年11月26日 10:03",
    ):
        assert line.encode("gb18030") in data, line
    # the number, huge: GS ! with 5× width and height, then the number
    assert b"\x1d!\x44A012\n" in data
    # the QR code: stored with GS ( k … 1 P 0 <url>, then printed
    url = TICKET["track_url"].encode()
    store = b"\x1d(k" + bytes([(len(url) + 3) % 256, (len(url) + 3) // 256]) + b"1P0" + url
    assert store in data
    assert b"\x1d(k\x03\x001Q0" in data
    assert data.endswith(b"\x1dVB\x00")  # feed and cut
    # a second ticket is appended (a roll of tickets)
    assert printer_agent.main(["--dry-run", str(out), "--ticket", str(ticket_file)]) == 0
    assert out.read_bytes() == data * 2


def test_refuses_what_is_not_a_ticket() -> None:
    with pytest.raises(ValueError):
        printer_agent.render_ticket({**TICKET, "number": "<b>"}, "大厅")
    no_wait = printer_agent.render_ticket(
        {**TICKET, "ahead": 0, "priority": None, "track_url": None}, "大厅"
    )
    assert "请留意叫号".encode("gb18030") in no_wait and b"\x1d(k" not in no_wait
    # Nobody on duty at a window serving it: no estimate, and the ticket says so.
    unknown = printer_agent.render_ticket({**TICKET, "estimated_wait_minutes": None}, "大厅")
    assert "暂无窗口办理，请留意叫号".encode("gb18030") in unknown
    assert "预计等候".encode("gb18030") not in unknown


def test_kiosk_page_posts_to_the_agent(tmp_path: Path) -> None:
    out = tmp_path / "printed.bin"
    agent = printer_agent.Agent(printer_agent.file_sink(out), allow_origin="http://hall.example")
    server = printer_agent.make_server(agent, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        preflight = httpx.options(f"{base}/print", headers={"Origin": "http://hall.example"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "http://hall.example"
        assert preflight.headers["access-control-allow-private-network"] == "true"
        ok = httpx.post(f"{base}/print", json={"hall_name": "示范县政务服务中心", "ticket": TICKET})
        assert ok.status_code == 200 and ok.json() == {"status": "printed"}
        bad = httpx.post(f"{base}/print", json={"ticket": {"number": "x"}})
        assert bad.status_code == 422
        assert httpx.get(f"{base}/healthz").json()["printed"] == 1
    finally:
        server.shutdown()
        server.server_close()
    assert b"A012" in out.read_bytes()
