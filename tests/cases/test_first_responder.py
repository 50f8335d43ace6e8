"""首问负责制: the first responder stays on record through transfers; matters left without an
outcome count against them."""

from __future__ import annotations

from pathlib import Path

from tests.support.cases import call, client_for, clocked_app, serving
from tests.support.client import issue, login
from window_service.clock import FixedClock


async def test_chain_keeps_the_first_responder_across_transfers(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        ticket, w1 = await serving(c, "hukou", 1)
        # "不归我管": w1 transfers the citizen to 不动产登记.
        r = await c.post(
            f"/api/v1/tickets/{ticket['id']}/transfer", json={"service": "budongchan"}, headers=w1
        )
        assert r.status_code == 200, r.text
        w3 = await login(c, "w3")
        called = await call(c, 3, w3)
        assert called["number"] == ticket["number"]
        assert (
            await c.post(f"/api/v1/tickets/{ticket['id']}/start", headers=w3)
        ).status_code == 200
        r = await c.post(
            f"/api/v1/tickets/{ticket['id']}/case",
            json={"applicant_name": "王五", "applicant_phone": "13900000000"},
            headers=w3,
        )
        assert r.status_code == 201
        case = r.json()
        assert case["first_responder"] == "w1"
        assert case["chain"]["first_responder"]["username"] == "w1"
        chain = (await c.get(f"/api/v1/tickets/{ticket['id']}/chain", headers=w3)).json()
        assert chain["ticket"] == ticket["number"]
        assert chain["first_responder"]["username"] == "w1"
        assert [s["username"] for s in chain["touched"]] == ["w1", "w3"]
        actions = [s["action"] for s in chain["steps"]]
        assert actions.index("transferred") < actions.index("case_accepted")
        office = await login(c, "office")
        assert (
            await c.get(f"/api/v1/tickets/{ticket['id']}/chain", headers=office)
        ).status_code == 200
        assert (await c.get(f"/api/v1/tickets/{ticket['id']}/chain")).status_code == 401


async def _called(c, w1):  # type: ignore[no-untyped-def]
    ticket = await issue(c, "hukou")
    await call(c, 1, w1)
    return ticket


async def test_matters_without_outcome_count_against_the_first_responder(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        w1 = await login(c, "w1")
        # Called, then cancelled by the window: counts.
        t = await _called(c, w1)
        assert (await c.post(f"/api/v1/tickets/{t['id']}/cancel", headers=w1)).status_code == 200
        # The citizen did not come: does not count.
        t = await _called(c, w1)
        assert (await c.post(f"/api/v1/tickets/{t['id']}/no-show", headers=w1)).status_code == 200
        # Finished as 咨询 without any record: counts.
        t = await _called(c, w1)
        await c.post(f"/api/v1/tickets/{t['id']}/start", headers=w1)
        r = await c.post(
            f"/api/v1/tickets/{t['id']}/finish", json={"outcome": "consulted"}, headers=w1
        )
        assert r.status_code == 200
        # Finished as 咨询 with a consultation registered (and referred): an outcome.
        t = await _called(c, w1)
        await c.post(f"/api/v1/tickets/{t['id']}/start", headers=w1)
        r = await c.post(
            "/api/v1/consultations",
            json={
                "service": "hukou",
                "summary": "询问新生儿落户所需材料",
                "referred_to": "县卫健局（出生医学证明）",
                "ticket": t["id"],
            },
            headers=w1,
        )
        assert r.status_code == 201, r.text
        assert r.json()["first_responder"] == "w1" and r.json()["ticket"] == t["number"]
        await c.post(f"/api/v1/tickets/{t['id']}/finish", json={"outcome": "consulted"}, headers=w1)
        # Completed: an outcome.
        t = await _called(c, w1)
        await c.post(f"/api/v1/tickets/{t['id']}/start", headers=w1)
        await c.post(f"/api/v1/tickets/{t['id']}/finish", json={"outcome": "completed"}, headers=w1)
        # A walk-up consultation without a ticket (咨询登记) at window 2.
        w2 = await login(c, "w2")
        r = await c.post(
            "/api/v1/consultations",
            json={"service": "hukou", "summary": "咨询身份证补办", "citizen_name": "赵六"},
            headers=w2,
        )
        assert r.status_code == 201 and r.json()["ticket"] is None
        bad = await c.post("/api/v1/consultations", json={"service": "hukou"}, headers=w2)
        assert bad.status_code == 422
        unknown = await c.post(
            "/api/v1/consultations", json={"service": "nope", "summary": "x"}, headers=w2
        )
        assert unknown.status_code == 404

        office = await login(c, "office")
        assert (
            await c.get("/api/v1/accountability/first-responders", headers=w1)
        ).status_code == 403
        r = await c.get("/api/v1/accountability/first-responders", headers=office)
        assert r.status_code == 200, r.text
        rows = {row["username"]: row for row in r.json()["rows"]}
        assert rows["w1"]["tickets"] == 5
        assert rows["w1"]["unresolved"] == 2
        assert sorted(m["reason"] for m in rows["w1"]["matters"]) == [
            "cancelled",
            "consulted_without_record",
        ]
        assert rows["w2"]["consultations"] == 1 and rows["w2"]["unresolved"] == 0
        figures = await c.get(
            "/api/v1/accountability/figures", params={"by": "staff"}, headers=office
        )
        by_staff = {row["key"]: row for row in figures.json()["rows"]}
        assert by_staff["w1"]["first_responder_failures"] == 2
