"""HTTP endpoints of the set-up workbook (大厅配置导入): the template, a hall's export, the import."""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from ..api.endpoint import ApiRequest, ApiRouter
from ..api.errors import conflict, invalid
from ..api.scope import HALL
from ..api.uploads import read_upload
from ..halls.lookup import own_hall
from ..queue.issuing import forget_hall
from . import setup, setup_apply
from .routing import ADMIN_ONLY
from .schemas import (
    SetupCounts,
    SetupImportOut,
    SetupImportQuery,
)
from .workbook_write import write_workbook

router = ApiRouter("admin")


# -- set-up workbook (大厅配置导入) ---------------------------------------------------------------
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _counts(counter: Counter[str]) -> SetupCounts:
    return SetupCounts(
        department=counter["department"],
        service=counter["service"],
        window=counter["window"],
        user=counter["user"],
    )


@router.route("GET", "/setup/template", roles=ADMIN_ONLY, response=None)
async def setup_template(api: ApiRequest) -> Response:
    """导入模板: the set-up workbook's four sheets, with one example row each (.xlsx)."""
    return _xlsx(write_workbook(), "大厅配置导入模板.xlsx")


@router.route("GET", "/halls/{hall}/setup/export", roles=ADMIN_ONLY, response=None, scope=HALL)
async def setup_export(api: ApiRequest) -> Response:
    """导出配置: the hall's configuration as a set-up workbook (.xlsx; no passwords)."""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        data = write_workbook(await setup.export_setup(session, hall))
    return _xlsx(data, f"{hall.code}-配置.xlsx")


@router.route(
    "POST",
    "/halls/{hall}/setup/import",
    roles=ADMIN_ONLY,
    response=SetupImportOut,
    extra_statuses=(413, 415),
    scope=HALL,
)
async def setup_import(api: ApiRequest[None, SetupImportQuery]) -> SetupImportOut:
    """导入配置: a set-up workbook (multipart field ``file``), checked whole before anything
    is written. ``dry_run=true`` only reports. Errors: 422 ``invalid_workbook`` with every
    problem in ``details`` (``sheet``, ``row``, ``column``, ``message``)."""
    data = await read_upload(
        api, "file", what="文件", missing="请选择要导入的工作簿（字段 file）(field file required)"
    )
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        assert hall.id is not None
        tx = api.tx(session, hall.id)
        try:
            summary = await setup.import_workbook(tx, hall, data, dry_run=api.query.dry_run)
        except setup_apply.SetupRefused as refused:
            raise invalid(
                "invalid_workbook",
                f"工作簿有 {len(refused.problems)} 处错误，未写入任何内容 "
                "(the workbook has errors; nothing was written)",
                details=[
                    {"sheet": p.sheet, "row": p.row, "column": p.column, "message": p.message}
                    for p in refused.problems
                ],
            ) from refused
        except IntegrityError as exc:
            await session.rollback()
            raise conflict(
                "duplicate", "与已有配置重复，请刷新后重试 (duplicate; reload and retry)"
            ) from exc
    if not api.query.dry_run and summary.changes:
        forget_hall(api.request, hall.code)
    return SetupImportOut(
        dry_run=api.query.dry_run,
        created=_counts(summary.created),
        updated=_counts(summary.updated),
        switched_off=_counts(summary.switched_off),
        changes=summary.changes,
        passwords=summary.passwords,
    )
