"""A hall's set-up as rows (大厅配置): the four sheets and their headers, one row type per sheet,
and the problems found in them, with their place (``工作表 第N行 列名: 说明``).

``workbook.py`` reads and writes them as a spreadsheet, ``setup.py`` checks and applies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

DEPARTMENTS = "部门"


SERVICES = "事项"


WINDOWS = "窗口"


PEOPLE = "人员"


#: Each sheet's header cells, exactly and in this order.
HEADERS: dict[str, tuple[str, ...]] = {
    DEPARTMENTS: ("编码", "名称"),
    SERVICES: (
        "编码",
        "名称",
        "部门编码",
        "号段",
        "法定时限",
        "承诺时限",
        "等候目标(分钟)",
        "收费标准",
        "申请材料",
        "设定依据",
    ),
    WINDOWS: ("窗口号", "名称", "区域", "事项编码"),
    PEOPLE: ("用户名", "姓名", "工号", "角色", "窗口号", "部门编码", "密码"),
}


MATERIALS_SEPARATOR = "；"


@dataclass(frozen=True)
class Problem:
    """One error of the file, at its sheet, row (as the spreadsheet numbers it) and column."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.sheet} 第{self.row}行 {self.column}: {self.message}"


@dataclass
class DepartmentRow:
    row: int
    code: str
    name: str


@dataclass
class ServiceRow:
    row: int
    code: str
    name: str
    department: str
    prefix: str
    legal_days: int
    promised_days: int
    wait_target_minutes: int
    fees: str
    materials: list[str]
    legal_basis: str


@dataclass
class WindowRow:
    row: int
    number: int
    name: str
    zone: str
    services: list[str]


@dataclass
class PersonRow:
    row: int
    username: str
    display_name: str
    staff_no: str
    role: str
    window: int | None
    departments: list[str]
    password: str


@dataclass
class HallSetup:
    """What a workbook says a hall consists of."""

    departments: list[DepartmentRow] = field(default_factory=list)
    services: list[ServiceRow] = field(default_factory=list)
    windows: list[WindowRow] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)


def split_materials(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[；;]", value) if part.strip()]


def join_materials(materials: Iterable[str]) -> str:
    return MATERIALS_SEPARATOR.join(materials)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    order = {name: index for index, name in enumerate(HEADERS)}
    return sorted(problems, key=lambda p: (order.get(p.sheet, -1), p.row))
