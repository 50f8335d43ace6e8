"""The statistics as CSV (UTF-8 with BOM, so Excel shows the Chinese) and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from .figures import Stats
from .service import BY_LABELS


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


COLUMNS: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("分组 key", lambda r: r["key"]),
    ("名称 name", lambda r: r["label"]),
    ("取号数 tickets", lambda r: r["tickets"]),
    ("办结数 served", lambda r: r["served"]),
    ("过号数 no-shows", lambda r: r["no_shows"]),
    ("过号率% no-show rate", lambda r: _pct(r["no_show_rate"])),
    ("取消 cancelled", lambda r: r["cancelled"]),
    ("过期 expired", lambda r: r["expired"]),
    ("绿色通道占比% green share", lambda r: _pct(r["green_share"])),
    ("平均等候(分) wait mean", lambda r: r["wait_minutes"]["mean"]),
    ("等候中位数(分) wait median", lambda r: r["wait_minutes"]["median"]),
    ("等候P90(分) wait p90", lambda r: r["wait_minutes"]["p90"]),
    ("超时等候 wait over target", lambda r: r["wait_breaches"]),
    ("挂起次数 holds", lambda r: r["holds"]),
    ("平均办理(分) service mean", lambda r: r["service_minutes"]["mean"]),
    ("办理中位数(分) service median", lambda r: r["service_minutes"]["median"]),
    ("办理P90(分) service p90", lambda r: r["service_minutes"]["p90"]),
    ("评价数 ratings", lambda r: r["ratings"]),
    ("满意度 satisfaction (0-100)", lambda r: r["satisfaction"]),
    ("差评数 bad ratings", lambda r: r["bad_ratings"]),
    ("差评率% bad rate", lambda r: _pct(r["bad_rate"])),
    ("办件数 cases", lambda r: r["cases"]),
    ("按时办结 on time", lambda r: r["cases_on_time"]),
    ("超期 overdue", lambda r: r["cases_overdue"]),
    ("按时办结率% on-time rate", lambda r: _pct(r["case_on_time_rate"])),
    ("一次性告知违规 notice breaches", lambda r: r["notice_breaches"]),
    ("首问负责违规 first-responder breaches", lambda r: r["responder_breaches"]),
    ("效能告诫 warnings", lambda r: r["warnings"]),
]


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @) is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def table(stats: Stats) -> list[list[Any]]:
    data = stats.as_dict()
    rows = [[name for name, _ in COLUMNS]]
    for row in [*data["rows"], data["total"]]:
        rows.append([_cell(get(row)) for _, get in COLUMNS])
    return rows


def filename(stats: Stats, ext: str) -> str:
    return f"stats-{stats.hall}-{stats.period.code}-{stats.by}.{ext}"


def to_csv(stats: Stats) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{stats.period.label} 按{BY_LABELS[stats.by]}统计", stats.hall])
    for row in table(stats):
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(stats: Stats) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"按{BY_LABELS[stats.by]}"
    sheet.append([f"{stats.period.label} 按{BY_LABELS[stats.by]}统计 ({stats.hall})"])
    sheet["A1"].font = Font(bold=True, size=13)
    for row in table(stats):
        sheet.append(row)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    data = stats.as_dict()
    hours = book.create_sheet("按小时")
    hours.append(["时段 hour", "取号数 tickets", "平均等候(分) mean wait"])
    for h in data["hours"]:
        hours.append([f"{h['hour']:02d}:00", h["tickets"], h["mean_wait"]])
    days = book.create_sheet("按日")
    days.append(
        ["日期 day", "取号数 tickets", "办结 served", "过号 no-shows", "平均等候(分) mean wait"]
    )
    for d in data["days"]:
        days.append([d["day"], d["tickets"], d["served"], d["no_shows"], d["mean_wait"]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
