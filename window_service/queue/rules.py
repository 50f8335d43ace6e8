"""The words of the ticket life cycle, in one place."""

from __future__ import annotations

from typing import Final

WAITING: Final = "waiting"
CALLED: Final = "called"
SERVING: Final = "serving"
DONE: Final = "done"
NO_SHOW: Final = "no_show"
CANCELLED: Final = "cancelled"
EXPIRED: Final = "expired"
#: 网上取号 not yet checked in: keeps its queue time, is not called until it waits.
REMOTE: Final = "remote"
#: 挂起: set aside at its window (the citizen fetches a copy); the window may call others and
#: resumes it later. It keeps ``window_id``; ``started_at`` says whether it resumes serving.
HELD: Final = "held"
AT_WINDOW: Final = (CALLED, SERVING)

STATUS_LABELS: Final = {
    WAITING: "等候中",
    CALLED: "已叫号",
    SERVING: "办理中",
    DONE: "已办结",
    NO_SHOW: "过号",
    CANCELLED: "已取消",
    EXPIRED: "已过期",
    REMOTE: "未签到",
    HELD: "挂起",
}

#: Outcomes of a finished service (办理结果).
OUTCOMES: Final = {
    "completed": "办结",
    "accepted": "受理",
    "correction": "补正",
    "rejected": "不予受理",
    "consulted": "咨询",
}

#: Green-channel reasons (绿色通道); their tickets are called first.
PRIORITIES: Final = {
    "elderly": "70岁以上老人",
    "disabled": "残疾人",
    "pregnant": "孕妇",
    "military": "军人",
}

#: An appointment (预约) checked in on time: not a reason the kiosk offers, but called like
#: the green channel.
APPOINTMENT: Final = "appointment"
#: Every priority a ticket may carry; each is green (called first).
GREEN_PRIORITIES: Final = {**PRIORITIES, APPOINTMENT: "预约"}


def call_text(number: str, window_number: int, zone: str = "") -> str:
    """What the hall says for a call; ``zone`` (区域) is said when the hall has several:
    "请A001号到一楼A区3号窗口办理"."""
    return f"请{number}号到{zone}{window_number}号窗口办理"
