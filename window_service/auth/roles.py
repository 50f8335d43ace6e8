"""Roles of people and kinds of devices. Access is denied unless an endpoint names the role."""

from __future__ import annotations

from typing import Final

ADMIN: Final = "admin"
INSPECTOR: Final = "inspector"  # 效能办
HEAD: Final = "head"  # 部门负责人
STAFF: Final = "staff"  # 窗口工作人员
#: 特邀廉政监督员: an outsider invited by the hall. Sees the public figures and rectification
#: progress, submits observations (the feedback channel ``supervisor``) and votes in the
#: democratic evaluation (民主测评); nothing else of the hall's.
SUPERVISOR: Final = "supervisor"
USER_ROLES: Final = (ADMIN, INSPECTOR, HEAD, STAFF, SUPERVISOR)
#: 区域效能办 (市/省效能办): bound to a region, not a hall; sees the region's halls, read-only.
REGION_INSPECTOR: Final = "region_inspector"

KIOSK: Final = "kiosk"  # 取号机
DISPLAY: Final = "display"  # 显示屏
EVALUATOR: Final = "evaluator"  # 评价器
DEVICE_KINDS: Final = (KIOSK, DISPLAY, EVALUATOR)

ROLE_LABELS: Final = {
    ADMIN: "管理员",
    INSPECTOR: "效能办督查员",
    HEAD: "部门负责人",
    STAFF: "窗口工作人员",
    SUPERVISOR: "特邀廉政监督员",
    REGION_INSPECTOR: "区域效能办督查员",
}
