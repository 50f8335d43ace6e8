"""Personal data (个人信息保护法): citizens' names and phones never enter the audit record and are
erased after the retention period, with `audit verify` still passing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from tests.support.cases import accept, at, client_for, clocked_app
from tests.support.ratings import rate, serve
from window_service.audit.verify import verify_command
from window_service.cases.models import Case
from window_service.clock import FixedClock
from window_service.feedback.models import Feedback
from window_service.ledger import AuditRecord
from window_service.privacy.service import cutoff
from window_service.privacy.watch import erase_personal_data


async def test_names_and_phones_are_erased_after_three_years_and_the_chain_holds(
    db_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(at(2026, 11, 26))
    async with clocked_app(db_url, tmp_path, clock) as app, client_for(app) as c:
        decided, w1 = await accept(c, name="李四喜")
        done = await c.post(f"/api/v1/cases/{decided['receipt_no']}/complete", headers=w1)
        assert done.status_code == 200, done.text
        still_open, _ = await accept(c, service="budongchan", window=3, name="王五福")
        ticket = await serve(c, "qiye", 5)
        rated = await rate(c, ticket["track_token"], 1, tags=["态度"], contact="13900139000")
        assert rated.status_code == 201, rated.text

        core = app.state.core
        async with core.db.read() as session:
            records = [
                str(r.after) + str(r.before)
                for r in (await session.execute(select(AuditRecord))).scalars()
            ]
        # The audit record never held them, so erasing them later rewrites no history.
        assert not any("李四喜" in r or "13800138000" in r or "13900139000" in r for r in records)

        clock.set(at(2029, 11, 25))  # not yet three years
        await erase_personal_data(core)
        async with core.db.read() as session:
            case = (
                await session.execute(select(Case).where(Case.receipt_no == decided["receipt_no"]))
            ).scalar_one()
            assert case.applicant_name == "李四喜"

        clock.set(at(2029, 11, 28))
        await erase_personal_data(core)
        async with core.db.read() as session:
            cases = {c.receipt_no: c for c in (await session.execute(select(Case))).scalars()}
            feedback = list((await session.execute(select(Feedback))).scalars())
        gone = cases[decided["receipt_no"]]
        assert (gone.applicant_name, gone.applicant_phone) == ("", "")
        kept = cases[still_open["receipt_no"]]  # an open case keeps its applicant
        assert (kept.applicant_name, kept.applicant_phone) == ("王五福", "13800138000")
        assert all(f.contact == "" for f in feedback)

        detail = await c.get(f"/api/v1/cases/{decided['receipt_no']}", headers=w1)
        assert detail.status_code == 200 and detail.json()["applicant_name"] == ""
        await erase_personal_data(core)  # nothing left to do: no new record
    assert await verify_command(db_url) == 0


def test_the_cutoff_is_at_least_the_retention() -> None:
    now = at(2029, 3, 1)
    assert (now - cutoff(now, 3)).days >= 3 * 365 + 1
