"""Writing the set-up workbook (大厅配置导入表): a hall's rows as ``workbook.py`` reads them
back unchanged, or the template with one example row per sheet."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from .setup_rows import (
    DEPARTMENTS,
    HEADERS,
    PEOPLE,
    SERVICES,
    WINDOWS,
    HallSetup,
    join_materials,
)

#: One example row per sheet, for the template.
EXAMPLES: dict[str, tuple[Any, ...]] = {
    DEPARTMENTS: ("gongan", "县公安局"),
    SERVICES: (
        "hukou",
        "户籍业务",
        "gongan",
        "A",
        20,
        5,
        20,
        "免费",
        "居民身份证；户口簿",
        "《中华人民共和国户口登记条例》",
    ),
    WINDOWS: (1, "户籍窗口", "一楼A区", "hukou"),
    PEOPLE: ("zhangwei", "张伟", "GH1001", "staff", 1, "", ""),
}


def _sheet_rows(setup: HallSetup) -> dict[str, list[tuple[Any, ...]]]:
    return {
        DEPARTMENTS: [(d.code, d.name) for d in setup.departments],
        SERVICES: [
            (
                s.code,
                s.name,
                s.department,
                s.prefix,
                s.legal_days,
                s.promised_days,
                s.wait_target_minutes,
                s.fees,
                join_materials(s.materials),
                s.legal_basis,
            )
            for s in setup.services
        ],
        WINDOWS: [(w.number, w.name, w.zone, "、".join(w.services)) for w in setup.windows],
        PEOPLE: [
            (
                p.username,
                p.display_name,
                p.staff_no,
                p.role,
                p.window if p.window is not None else "",
                "、".join(p.departments),
                p.password,
            )
            for p in setup.people
        ],
    }


def write_workbook(setup: HallSetup | None = None) -> bytes:
    """The workbook of ``setup``; without it, the template (one example row per sheet)."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    rows = _sheet_rows(setup) if setup is not None else {k: [v] for k, v in EXAMPLES.items()}
    bold = Font(bold=True)
    for name, headers in HEADERS.items():
        sheet = workbook.create_sheet(name)
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = bold
        for values in rows[name]:
            sheet.append(list(values))
        for index, header in enumerate(headers, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = max(10, len(header) * 2 + 4)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
