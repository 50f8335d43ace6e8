"""暗访: scoring sheets, visits, notices below the threshold, evidence photos, visit plans."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.client import login
from tests.support.ratings import add_head, rate, serve, window_ids
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.audit.verify import verify_command
from window_service.clock import FixedClock
from window_service.inspections.plan import plan_visits

FULL = {
    "on_duty": 20,
    "attitude": 20,
    "appearance": 10,
    "one_time_notice": 15,
    "efficiency": 15,
    "fees": 10,
    "integrity": 10,
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A PNG of one red pixel; with a larger ``width``/``height`` only its header claims it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + _chunk(b"IEND", b"")
    )


def camera_jpeg() -> bytes:
    """A small JPEG as a phone takes it: with EXIF (a GPS position, an orientation)."""
    from PIL import Image

    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to view
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPS info
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=80)
    return out.getvalue()


@pytest.fixture
async def hall(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(db_url, tmp_path, max_upload_bytes=4096)
    app = create_app(settings, clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
        yield c
    await app.state.core.db.dispose()


async def visit(hall: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    ids = await window_ids(hall)
    payload = {
        "window": ids[1],
        "staff": "w1",
        "visited_at": "2026-11-26T09:30:00+08:00",
        "template": "standard",
        "scores": dict(FULL),
        "notes": "",
        **body,
    }
    return await hall.post("/api/v1/inspections", json=payload, headers=headers)


async def test_default_sheet_is_the_county_sheet(hall: httpx.AsyncClient) -> None:
    office = await login(hall, "office")
    response = await hall.get("/api/v1/inspection-templates", headers=office)
    assert response.status_code == 200
    sheet = response.json()[0]
    assert sheet["code"] == "standard"
    assert [(i["name"], i["max_points"]) for i in sheet["items"]] == [
        ("在岗在位", 20),
        ("服务态度", 20),
        ("仪容仪表", 10),
        ("一次性告知", 15),
        ("办事效率", 15),
        ("收费规范", 10),
        ("廉洁自律", 10),
    ]
    assert sheet["max_total"] == 100
    assert (
        await hall.get("/api/v1/inspection-templates", headers=await login(hall, "w1"))
    ).status_code == 403
    assert (await hall.get("/api/v1/inspection-templates")).status_code == 401


async def test_record_a_visit_and_refusals(hall: httpx.AsyncClient) -> None:
    office = await login(hall, "office")
    ok = await visit(hall, office, scores={**FULL, "appearance": 8}, notes="工作牌未佩戴")
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["total"] == 98 and body["passed"] is True and body["notice"] is None
    assert body["staff"] == "w1" and body["window_number"] == 1 and body["department"] == "gongan"

    over = await visit(hall, office, scores={**FULL, "fees": 11})
    assert over.status_code == 422 and over.json()["error"]["code"] == "score_out_of_range"
    unknown = await visit(hall, office, scores={**FULL, "smile": 5})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_item"
    missing = {k: v for k, v in FULL.items() if k != "fees"}
    assert (await visit(hall, office, scores=missing)).json()["error"]["code"] == "missing_item"
    assert (await visit(hall, office, scores={**FULL, "fees": -1})).status_code == 422
    nan = await hall.post(
        "/api/v1/inspections",
        content=b'{"window": 1, "visited_at": "2026-11-26T09:00:00+08:00", "scores": {"fees": NaN}}',
        headers={**office, "Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    assert (await visit(hall, office, window=999999)).status_code == 404
    assert (await visit(hall, office, staff="nobody")).status_code == 422
    assert (await visit(hall, office, template="nope")).status_code == 422
    assert (await visit(hall, office, visited_at="2026-12-25T09:00:00+08:00")).status_code == 422
    # Window staff and heads cannot record visits.
    assert (await visit(hall, await login(hall, "w1"))).status_code == 403
    assert (await visit(hall, await login(hall, "head"))).status_code == 403
    listed = (await hall.get("/api/v1/inspections", headers=office)).json()
    assert len(listed) == 1  # nothing half-stored by the refusals


async def test_low_score_issues_a_notice_with_a_working_day_deadline(
    hall: httpx.AsyncClient, db_url: str
) -> None:
    office = await login(hall, "office")
    response = await visit(
        hall, office, scores={**FULL, "on_duty": 5, "attitude": 10}, notes="离岗20分钟"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["total"] == 75 and body["passed"] is False
    notice = body["notice"]
    assert notice["number"] == "效督〔2026〕1号"
    assert notice["department"] == "gongan"
    assert notice["due"] == "2026-12-03"  # 5 working days after Thursday 26 Nov
    assert "低于80分" in notice["text"]
    # The department head gets a rectification with the notice's deadline.
    head = await login(hall, "head")
    rects = (await hall.get("/api/v1/rectifications", headers=head)).json()
    assert [(r["kind"], r["window"], r["due"], r["ticket"]) for r in rects] == [
        ("inspection", 1, "2026-12-03", None)
    ]
    notices = (await hall.get("/api/v1/inspection-notices", headers=head)).json()
    assert [n["number"] for n in notices] == ["效督〔2026〕1号"]
    # A head of another department does not see it.
    await add_head(db_url, "head_tax", "shuiwu")
    other = await login(hall, "head_tax")
    assert (await hall.get("/api/v1/inspection-notices", headers=other)).json() == []
    assert (
        await hall.get(f"/api/v1/inspection-notices/{notice['id']}", headers=other)
    ).status_code == 403
    # Fixing an inspection rectification closes it (no citizen to call back).
    rect_id = rects[0]["id"]
    await hall.post(
        f"/api/v1/rectifications/{rect_id}/verify",
        json={"finding": "属实", "substantiated": True},
        headers=head,
    )
    fixed = await hall.post(
        f"/api/v1/rectifications/{rect_id}/fix",
        json={"measures": "通报批评，落实AB岗"},
        headers=head,
    )
    assert fixed.json()["status"] == "closed"
    second = await visit(hall, office, scores={**FULL, "integrity": 0, "fees": 0, "appearance": 5})
    assert second.json()["notice"]["number"] == "效督〔2026〕2号"
    assert await verify_command(db_url) == 0


async def test_editing_a_sheet_versions_it(hall: httpx.AsyncClient) -> None:
    office = await login(hall, "office")
    first = (await visit(hall, office)).json()
    assert first["template_version"] == 1
    items = [
        {"code": "on_duty", "name": "在岗在位", "max_points": 30, "description": "离岗扣10分"},
        {"code": "attitude", "name": "服务态度", "max_points": 70},
    ]
    edited = await hall.put(
        "/api/v1/inspection-templates/standard",
        json={"name": "简化暗访表", "items": items},
        headers=office,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    assert (
        await hall.put(
            "/api/v1/inspection-templates/standard",
            json={"name": "x", "items": items},
            headers=await login(hall, "w1"),
        )
    ).status_code == 403
    dup = [items[0], items[0]]
    assert (
        await hall.put(
            "/api/v1/inspection-templates/standard",
            json={"name": "x", "items": dup},
            headers=office,
        )
    ).status_code == 422
    second = await visit(hall, office, scores={"on_duty": 30, "attitude": 60})
    assert second.status_code == 201, second.text
    assert second.json()["template_version"] == 2 and second.json()["total"] == 90
    # The old visit keeps its sheet (version 1, seven items).
    old = (await hall.get(f"/api/v1/inspections/{first['id']}", headers=office)).json()
    assert old["template_version"] == 1 and len(old["scores"]) == 7
    versions = (
        await hall.get("/api/v1/inspection-templates/standard/versions", headers=office)
    ).json()
    assert [v["version"] for v in versions] == [1, 2]


async def test_evidence_photos(hall: httpx.AsyncClient) -> None:
    office = await login(hall, "office")
    inspection = (await visit(hall, office)).json()
    url = f"/api/v1/inspections/{inspection['id']}/photos"
    png = tiny_png()
    ok = await hall.post(url, files={"photo": ("x.png", png, "image/png")}, headers=office)
    assert ok.status_code == 201, ok.text
    assert ok.json()["content_type"] == "image/png"
    # Type is checked by content, not by name or declared type.
    fake = await hall.post(
        url, files={"photo": ("x.jpg", b"<html>not an image</html>", "image/jpeg")}, headers=office
    )
    assert fake.status_code == 415
    big = await hall.post(
        url, files={"photo": ("big.png", png + b"\0" * 5000, "image/png")}, headers=office
    )
    assert big.status_code == 413
    assert (
        await hall.post(url, files={"other": ("x.png", png, "image/png")}, headers=office)
    ).status_code == 422
    assert (
        await hall.post(
            url, files={"photo": ("x.png", png, "image/png")}, headers=await login(hall, "w1")
        )
    ).status_code == 403
    photo_url = ok.json()["url"]
    served = await hall.get(photo_url, headers=office)
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG")
    assert served.headers["content-type"] == "image/png"
    assert ok.json()["size"] == len(served.content)
    assert (await hall.get(photo_url, headers=await login(hall, "head"))).status_code == 403
    assert (await hall.get(photo_url)).status_code == 401
    listed = (await hall.get(f"/api/v1/inspections/{inspection['id']}", headers=office)).json()
    assert [p["url"] for p in listed["photos"]] == [photo_url]


async def upload(
    hall: httpx.AsyncClient, office: dict[str, str], data: bytes, name: str = "x.png"
) -> httpx.Response:
    inspection = (await visit(hall, office)).json()
    return await hall.post(
        f"/api/v1/inspections/{inspection['id']}/photos",
        files={"photo": (name, data, "image/png")},
        headers=office,
    )


async def test_uploads_are_decoded_and_re_encoded(hall: httpx.AsyncClient) -> None:
    from PIL import Image

    office = await login(hall, "office")
    # A PNG signature followed by a web page is not a picture.
    html = b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"
    refused = await upload(hall, office, html)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_image"
    # Headers claiming 100000×100000 (Pillow's own limit) or 8000×6000 (48 MP, over the
    # hall's 40 MP) are refused before anything is decoded.
    for width, height in ((100_000, 100_000), (8000, 6000)):
        bomb = await upload(hall, office, tiny_png(width, height))
        assert bomb.status_code == 422, (width, bomb.text)
        assert bomb.json()["error"]["code"] == "invalid_image"
    # A real JPEG is stored as a new JPEG: upright, without its EXIF (no GPS position).
    jpeg = camera_jpeg()
    stored = await upload(hall, office, jpeg, "camera.jpg")
    assert stored.status_code == 201, stored.text
    assert stored.json()["content_type"] == "image/jpeg"
    served = (await hall.get(stored.json()["url"], headers=office)).content
    assert served != jpeg and served.startswith(b"\xff\xd8\xff")
    image = Image.open(io.BytesIO(served))
    assert image.format == "JPEG" and image.size == (30, 40)  # rotated as the camera said
    assert not image.getexif() and "exif" not in image.info
    # A real PNG with text metadata is stored as a new PNG without it.
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", "<script>alert(1)</script>")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 255)).save(out, format="PNG", pnginfo=meta)
    png = await upload(hall, office, out.getvalue())
    assert png.status_code == 201, png.text
    served = (await hall.get(png.json()["url"], headers=office)).content
    assert b"script" not in served and Image.open(io.BytesIO(served)).size == (8, 8)


async def test_swapped_photo_is_refused_and_reported(
    db_url: str, tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(db_url, tmp_path)
    app = create_app(settings, clock=clock, run_housekeeping=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as hall:
            office = await login(hall, "office")
            ok = await upload(hall, office, camera_jpeg(), "camera.jpg")
            assert ok.status_code == 201
            url = ok.json()["url"]
            assert (await hall.get(url, headers=office)).status_code == 200
            assert await verify_command(db_url, var_dir=tmp_path) == 0
            # Someone swaps the file on disk (a different picture, same name).
            [stored] = (tmp_path / "uploads" / "inspections").iterdir()
            original = stored.read_bytes()
            stored.write_bytes(tiny_png())
            assert (
                hashlib.sha256(stored.read_bytes()).hexdigest()
                != hashlib.sha256(original).hexdigest()
            )
            refused = await hall.get(url, headers=office)
            assert refused.status_code == 409
            assert refused.json()["error"]["code"] == "evidence_altered"
            capsys.readouterr()
            assert await verify_command(db_url, var_dir=tmp_path) == 1
            err = capsys.readouterr().err
            assert "inspection_photo" in err and "swapped" in err, err
            stored.unlink()
            assert await verify_command(db_url, var_dir=tmp_path) == 1
            assert "missing" in capsys.readouterr().err
    finally:
        await app.state.core.db.dispose()


def test_plan_is_reproducible_and_weighted() -> None:
    days = [date(2026, 11, 30) + __import__("datetime").timedelta(days=i) for i in range(5)]
    weights = {str(i): 1.0 for i in range(1, 9)}
    weights["3"] = 9.0
    assert plan_visits(42, weights, days, 3) == plan_visits(42, weights, days, 3)
    assert plan_visits(42, weights, days, 3) != plan_visits(43, weights, days, 3)
    first_picks: Counter[int] = Counter()
    for seed in range(2000):
        picks = plan_visits(seed, weights, days, 2)
        first_picks.update(v["window_id"] for v in picks)
    others = [first_picks[i] for i in range(1, 9) if i != 3]
    assert first_picks[3] > 2 * max(others)
    # Every visit is on one of the week's days, within office hours.
    for v in plan_visits(7, weights, days, 8):
        assert v["day"] in {d.isoformat() for d in days}
        assert "09:00" <= v["time"] <= "16:45"
    # Eight visits to eight windows: each window once before any repeats.
    assert sorted(v["window_id"] for v in plan_visits(7, weights, days, 8)) == list(range(1, 9))


async def test_visit_plan_api(hall: httpx.AsyncClient) -> None:
    office = await login(hall, "office")
    for _ in range(3):  # window 3 collects bad ratings
        ticket = await serve(hall, "budongchan", 3)
        assert (await rate(hall, ticket["track_token"], 1)).status_code == 201
    body = {"week_start": "2026-11-30", "visits": 4, "seed": 12345}
    made = await hall.post("/api/v1/halls/demo/visit-plans", json=body, headers=office)
    assert made.status_code == 201, made.text
    plan = made.json()
    assert plan["seed"] == 12345 and len(plan["plan"]) == 4
    ids = await window_ids(hall)
    assert plan["weights"][str(ids[3])]["bad_ratings"] == 3
    assert plan["weights"][str(ids[3])]["weight"] > plan["weights"][str(ids[1])]["weight"]
    again = (await hall.post("/api/v1/halls/demo/visit-plans", json=body, headers=office)).json()
    assert again["plan"] == plan["plan"]  # same seed, same weights: same plan
    random_seed = (
        await hall.post(
            "/api/v1/halls/demo/visit-plans", json={"week_start": "2026-11-30"}, headers=office
        )
    ).json()
    assert isinstance(random_seed["seed"], int)
    stored = (await hall.get(f"/api/v1/visit-plans/{plan['id']}", headers=office)).json()
    assert stored["plan"] == plan["plan"]
    assert (
        await hall.post(
            "/api/v1/halls/demo/visit-plans", json={"week_start": "2026-12-01"}, headers=office
        )
    ).status_code == 422
    # Only inspectors see plans.
    for who in ("w1", "head", "admin"):
        headers = await login(hall, who)
        assert (
            await hall.get("/api/v1/halls/demo/visit-plans", headers=headers)
        ).status_code == 403
        assert (
            await hall.post("/api/v1/halls/demo/visit-plans", json=body, headers=headers)
        ).status_code == 403
    assert (await hall.get("/api/v1/halls/demo/visit-plans")).status_code == 401
