"""The set-up workbook (大厅配置导入表): four sheets a county fills in to set a hall up.

Reading checks what the file alone can tell (sheets and header cells, required cells, numbers,
codes, duplicates and references within the file) and returns every problem found, each with
its place (``工作表 第N行 列名: 说明``); ``setup.py`` checks the rest against the hall and
applies it. ``workbook_write.py`` writes the same format, so an export imports back unchanged.
"""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook

from ..auth.passwords import MIN_PASSWORD_LENGTH
from ..auth.roles import HEAD, STAFF, USER_ROLES
from .setup_rows import (
    DEPARTMENTS,
    HEADERS,
    PEOPLE,
    SERVICES,
    WINDOWS,
    DepartmentRow,
    HallSetup,
    PersonRow,
    Problem,
    ServiceRow,
    WindowRow,
    split_materials,
)

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: Ticket prefixes (号段): one or two capital letters, as the ticket numbers are printed
#: (A001, AB001) and the voice clips spell them.
_PREFIX = re.compile(r"^[A-Z]{1,2}$")
_LIST_SEPARATORS = re.compile(r"[、,，;；\s]+")
MAX_WINDOW_NUMBER = 9999
DEFAULT_WAIT_TARGET = 20
#: More rows than any hall has: a bigger sheet is refused, not read to the end.
MAX_ROWS = 5000


def split_list(value: str) -> list[str]:
    """Codes in one cell, separated by 、 or a comma (or ；/space, which people type too)."""
    return [part for part in _LIST_SEPARATORS.split(value) if part]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Sheet:
    """One sheet's rows as header → text, each with its spreadsheet row number."""

    def __init__(self, name: str, problems: list[Problem]) -> None:
        self.name = name
        self.problems = problems

    def problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(self.name, row, column, message))

    def required(self, row: int, cells: dict[str, str], column: str) -> str | None:
        value = cells[column]
        if not value:
            self.problem(row, column, "不能为空")
            return None
        return value

    def length(self, row: int, cells: dict[str, str], column: str, limit: int) -> str:
        value = cells[column]
        if len(value) > limit:
            self.problem(row, column, f"不能超过 {limit} 个字")
            return value[:limit]
        return value

    def code(self, row: int, cells: dict[str, str], column: str) -> str | None:
        value = self.required(row, cells, column)
        if value is not None and not _CODE.match(value):
            self.problem(row, column, f"编码「{value}」只能由字母、数字、-、_ 组成，最长 32 位")
            return None
        return value

    def whole_number(
        self,
        row: int,
        cells: dict[str, str],
        column: str,
        *,
        minimum: int = 0,
        maximum: int = 10_000,
        default: int | None = None,
    ) -> int | None:
        value = cells[column]
        if not value:
            if default is not None:
                return default
            self.problem(row, column, "不能为空")
            return None
        if not re.fullmatch(r"-?\d+", value):
            self.problem(row, column, f"「{value}」不是整数")
            return None
        number = int(value)
        if number < 0:
            self.problem(row, column, f"不能为负数（{number}）")
            return None
        if number < minimum or number > maximum:
            self.problem(row, column, f"须在 {minimum} 到 {maximum} 之间（{number}）")
            return None
        return number

    def duplicate(self, seen: dict[Any, int], key: Any, row: int, column: str, what: str) -> None:
        if key in seen:
            self.problem(row, column, f"{what}「{key}」与第{seen[key]}行重复")
        else:
            seen[key] = row


def _rows(workbook: Any, name: str, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    """The sheet's non-empty rows after its header, or [] (and a problem) when it is missing."""
    headers = HEADERS[name]
    if name not in workbook.sheetnames:
        problems.append(Problem(name, 1, "表头", f"缺少工作表「{name}」"))
        return []
    rows = workbook[name].iter_rows(values_only=True)
    header = [_text(cell) for cell in next(rows, ())]
    missing = [h for h in headers if h not in header]
    if missing:
        for column in missing:
            problems.append(Problem(name, 1, column, f"缺少表头「{column}」"))
        return []
    where = {h: header.index(h) for h in headers}
    out = []
    for number, values in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            problems.append(Problem(name, number, "表头", f"行数过多（最多 {MAX_ROWS} 行）"))
            break
        cells = {
            h: _text(values[index]) if index < len(values) else "" for h, index in where.items()
        }
        if any(cells.values()):
            out.append((number, cells))
    return out


def read_workbook(data: bytes) -> tuple[HallSetup, list[Problem]]:
    """Parse and check a workbook on its own; every problem is returned, none raised."""
    problems: list[Problem] = []
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        return HallSetup(), [Problem("文件", 1, "-", "不是有效的 Excel 工作簿（.xlsx）")]
    try:
        setup = HallSetup()
        _read_departments(setup, _rows(workbook, DEPARTMENTS, problems), problems)
        _read_services(setup, _rows(workbook, SERVICES, problems), problems)
        _read_windows(setup, _rows(workbook, WINDOWS, problems), problems)
        _read_people(setup, _rows(workbook, PEOPLE, problems), problems)
    finally:
        workbook.close()
    _check_references(setup, problems)
    return setup, problems


def _read_departments(
    setup: HallSetup, rows: list[tuple[int, dict[str, str]]], problems: list[Problem]
) -> None:
    sheet = _Sheet(DEPARTMENTS, problems)
    codes: dict[Any, int] = {}
    for row, cells in rows:
        code = sheet.code(row, cells, "编码")
        name = sheet.required(row, cells, "名称")
        if name is not None:
            name = sheet.length(row, cells, "名称", 200)
        if code is not None:
            sheet.duplicate(codes, code, row, "编码", "部门编码")
        if code is not None and name is not None:
            setup.departments.append(DepartmentRow(row, code, name))


def _read_services(
    setup: HallSetup, rows: list[tuple[int, dict[str, str]]], problems: list[Problem]
) -> None:
    sheet = _Sheet(SERVICES, problems)
    codes: dict[Any, int] = {}
    prefixes: dict[Any, int] = {}
    for row, cells in rows:
        code = sheet.code(row, cells, "编码")
        name = sheet.required(row, cells, "名称")
        if name is not None:
            name = sheet.length(row, cells, "名称", 200)
        department = sheet.code(row, cells, "部门编码")
        prefix = sheet.required(row, cells, "号段")
        if prefix is not None and not _PREFIX.match(prefix):
            sheet.problem(row, "号段", f"号段「{prefix}」须为 1 至 2 个大写英文字母")
            prefix = None
        legal = sheet.whole_number(row, cells, "法定时限")
        promised = sheet.whole_number(row, cells, "承诺时限")
        if legal is not None and promised is not None and promised > legal:
            sheet.problem(
                row,
                "承诺时限",
                f"承诺时限（{promised} 个工作日）不得超过法定时限（{legal} 个工作日）",
            )
            promised = None
        wait = sheet.whole_number(
            row, cells, "等候目标(分钟)", minimum=1, maximum=600, default=DEFAULT_WAIT_TARGET
        )
        fees = sheet.length(row, cells, "收费标准", 1000)
        materials = sheet.length(row, cells, "申请材料", 4000)
        basis = sheet.length(row, cells, "设定依据", 2000)
        if code is not None:
            sheet.duplicate(codes, code, row, "编码", "事项编码")
        if prefix is not None:
            sheet.duplicate(prefixes, prefix, row, "号段", "号段")
        values = (code, name, department, prefix, legal, promised, wait)
        if all(v is not None for v in values):
            setup.services.append(
                ServiceRow(
                    row,
                    code,  # type: ignore[arg-type]
                    name,  # type: ignore[arg-type]
                    department,  # type: ignore[arg-type]
                    prefix,  # type: ignore[arg-type]
                    legal,  # type: ignore[arg-type]
                    promised,  # type: ignore[arg-type]
                    wait,  # type: ignore[arg-type]
                    fees,
                    split_materials(materials),
                    basis,
                )
            )


def _read_windows(
    setup: HallSetup, rows: list[tuple[int, dict[str, str]]], problems: list[Problem]
) -> None:
    sheet = _Sheet(WINDOWS, problems)
    numbers: dict[Any, int] = {}
    for row, cells in rows:
        number = sheet.whole_number(row, cells, "窗口号", minimum=1, maximum=MAX_WINDOW_NUMBER)
        name = sheet.length(row, cells, "名称", 100)
        zone = sheet.length(row, cells, "区域", 100)
        codes_text = sheet.required(row, cells, "事项编码")
        codes = split_list(codes_text or "")
        seen: set[str] = set()
        for code in codes:
            if code in seen:
                sheet.problem(row, "事项编码", f"事项「{code}」重复")
            seen.add(code)
        if number is not None:
            sheet.duplicate(numbers, number, row, "窗口号", "窗口号")
        if number is not None and codes_text is not None:
            setup.windows.append(WindowRow(row, number, name, zone, list(dict.fromkeys(codes))))


def _read_people(
    setup: HallSetup, rows: list[tuple[int, dict[str, str]]], problems: list[Problem]
) -> None:
    sheet = _Sheet(PEOPLE, problems)
    names: dict[Any, int] = {}
    for row, cells in rows:
        username = sheet.required(row, cells, "用户名")
        if username is not None and not _USERNAME.match(username):
            sheet.problem(row, "用户名", f"用户名「{username}」只能由字母、数字、.、-、_ 组成")
            username = None
        display_name = sheet.required(row, cells, "姓名")
        if display_name is not None:
            display_name = sheet.length(row, cells, "姓名", 100)
        staff_no = sheet.length(row, cells, "工号", 32)
        role = sheet.required(row, cells, "角色")
        if role is not None and role not in USER_ROLES:
            sheet.problem(row, "角色", f"角色「{role}」无效，应为 {'、'.join(USER_ROLES)} 之一")
            role = None
        window: int | None = None
        if cells["窗口号"]:
            window = sheet.whole_number(row, cells, "窗口号", minimum=1, maximum=MAX_WINDOW_NUMBER)
        departments = split_list(cells["部门编码"])
        if role == STAFF and not cells["窗口号"]:
            sheet.problem(row, "窗口号", "窗口工作人员须填写窗口号")
        if role is not None and role != STAFF and cells["窗口号"]:
            sheet.problem(row, "窗口号", "只有窗口工作人员（staff）填写窗口号")
        if role == HEAD and not departments:
            sheet.problem(row, "部门编码", "部门负责人须填写分管的部门编码")
        if role is not None and role != HEAD and departments:
            sheet.problem(row, "部门编码", "只有部门负责人（head）填写部门编码")
        password = cells["密码"]
        if password and len(password) < MIN_PASSWORD_LENGTH:
            sheet.problem(row, "密码", f"密码至少 {MIN_PASSWORD_LENGTH} 位")
        elif len(password) > 256:
            sheet.problem(row, "密码", "密码过长")
        if username is not None:
            sheet.duplicate(names, username, row, "用户名", "用户名")
        if username is not None and display_name is not None and role is not None:
            setup.people.append(
                PersonRow(
                    row,
                    username,
                    display_name,
                    staff_no,
                    role,
                    window if role == STAFF else None,
                    departments if role == HEAD else [],
                    password,
                )
            )


def _check_references(setup: HallSetup, problems: list[Problem]) -> None:
    departments = {d.code for d in setup.departments}
    services = {s.code for s in setup.services}
    windows = {w.number for w in setup.windows}
    for service in setup.services:
        if service.department not in departments:
            problems.append(
                Problem(
                    SERVICES, service.row, "部门编码", f"部门「{service.department}」不在部门表中"
                )
            )
    for window in setup.windows:
        unknown = [code for code in window.services if code not in services]
        if unknown:
            problems.append(
                Problem(
                    WINDOWS, window.row, "事项编码", f"事项「{'、'.join(unknown)}」不在事项表中"
                )
            )
    for person in setup.people:
        if person.window is not None and person.window not in windows:
            problems.append(
                Problem(PEOPLE, person.row, "窗口号", f"{person.window}号窗口不在窗口表中")
            )
        unknown = [code for code in person.departments if code not in departments]
        if unknown:
            problems.append(
                Problem(PEOPLE, person.row, "部门编码", f"部门「{'、'.join(unknown)}」不在部门表中")
            )
