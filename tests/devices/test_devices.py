"""Hall devices' server side: device pages, the public QR image, the evaluator pad endpoint."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.client import KIOSK, issue, login
from tests.support.dbs import KIOSK_KEY
from window_service.seed import pad_key


def pad(number: int) -> dict[str, str]:
    return {"X-Device-Key": pad_key(KIOSK_KEY, number)}


async def window_ids(client: httpx.AsyncClient) -> dict[int, int]:
    response = await client.get("/api/v1/halls/demo/windows")
    return {w["number"]: w["id"] for w in response.json()}


async def serve_and_finish(
    client: httpx.AsyncClient, staff: dict[str, str], window_id: int
) -> dict[str, Any]:
    called = await client.post(f"/api/v1/windows/{window_id}/call-next", headers=staff)
    assert called.status_code == 200, called.text
    ticket_id = called.json()["id"]
    assert (
        await client.post(f"/api/v1/tickets/{ticket_id}/start", headers=staff)
    ).status_code == 200
    done = await client.post(
        f"/api/v1/tickets/{ticket_id}/finish", json={"outcome": "completed"}, headers=staff
    )
    assert done.status_code == 200, done.text
    data: dict[str, Any] = done.json()
    return data


async def test_device_pages_are_served_with_the_hall(client: httpx.AsyncClient) -> None:
    for path in ("/kiosk/demo", "/display/demo", "/display/demo/window/3", "/pad/demo/1"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "示范县政务服务中心" in response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]
    assert 'data-window="3"' in (await client.get("/display/demo/window/3")).text
    for path in ("/kiosk/nohall", "/display/demo/window/99", "/pad/demo/42", "/display/%3Cx%3E"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "<x>" not in response.text
    # scripts, styles and voice clips are static files, revalidated on every load (the page
    # modules import one another by plain URLs: no mix of old and new after an upgrade)
    for path in (
        "/displays/hall.js",
        "/displays/voice/chime.wav",
        "/kiosks/kiosk.js",
        "/kiosks/pad.css",
        "/static/dom.js",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-cache", path
        if path.endswith(".js"):
            assert "javascript" in response.headers["content-type"], path


async def test_qr_svg_only_for_this_servers_ticket_links(client: httpx.AsyncClient) -> None:
    ticket = await issue(client, "hukou")
    assert ticket["track_url"].startswith("http://hall.test/t/")
    response = await client.get("/qr.svg", params={"data": ticket["track_url"]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith("<svg") and "<path" in response.text
    lookup = await client.get("/qr.svg", params={"data": "http://hall.test/lookup?receipt_no=1"})
    assert lookup.status_code == 200
    for bad in (
        "https://evil.example/t/abcdefghijkl",
        "http://hall.test/admin",
        "javascript:alert(1)",
        "http://hall.test/t/abc",  # not a token
        "http://hall.test/t/" + "a" * 600,
        "",
    ):
        refused = await client.get("/qr.svg", params={"data": bad})
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["code"] == "invalid_qr_data"


async def test_pad_shows_its_windows_last_finished_ticket(client: httpx.AsyncClient) -> None:
    ids = await window_ids(client)
    url = f"/api/v1/windows/{ids[1]}/last-finished"
    # An idle pad (nothing finished today) gets a normal answer with no ticket.
    nothing = await client.get(url, headers=pad(1))
    assert nothing.status_code == 200, nothing.text
    assert nothing.json()["ticket"] is None and nothing.json()["window"] == 1
    assert nothing.json()["rating_seconds"] == 60

    first = await issue(client, "hukou")
    await issue(client, "hukou")
    w1 = await login(client, "w1")
    await serve_and_finish(client, w1, ids[1])

    response = await client.get(url, headers=pad(1))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["ticket"]["number"] == first["number"] == "A001"
    assert data["ticket"]["status"] == "done"
    assert data["ticket"]["track_url"] == first["track_url"]
    assert data["window"] == 1
    assert data["staff"]["username"] == "w1" and data["staff"]["display_name"] == "张伟"
    assert data["rating_seconds"] == 60
    # the window's staff member may look too, but never gets the citizen's rating link
    mine = (await client.get(url, headers=w1)).json()["ticket"]
    assert mine["number"] == "A001"
    assert mine["track_token"] is None and mine["track_url"] is None
    assert first["track_token"] not in (await client.get(url, headers=w1)).text

    # the next finished ticket replaces it
    await serve_and_finish(client, w1, ids[1])
    assert (await client.get(url, headers=pad(1))).json()["ticket"]["number"] == "A002"


async def test_pad_endpoint_only_for_that_windows_pad_and_staff(client: httpx.AsyncClient) -> None:
    ids = await window_ids(client)
    url = f"/api/v1/windows/{ids[1]}/last-finished"
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers={"X-Device-Key": "nope-" + "x" * 20})).status_code == 401
    assert (await client.get(url, headers=pad(2))).status_code == 403  # another window's pad
    assert (await client.get(url, headers=KIOSK)).status_code == 403  # a kiosk
    assert (await client.get(url, headers=await login(client, "w2"))).status_code == 403
    assert (await client.get(url, headers=await login(client, "office"))).status_code == 403
    assert (
        await client.get("/api/v1/windows/99999/last-finished", headers=pad(1))
    ).status_code == 404
