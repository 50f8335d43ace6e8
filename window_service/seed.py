"""Seed data: the demo hall (示范县政务服务中心), exactly as the contract's table describes it."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .auth.models import User, UserDepartment
from .auth.passwords import hash_password, verify_password
from .auth.principal import hash_device_key
from .auth.roles import ADMIN, EVALUATOR, HEAD, INSPECTOR, KIOSK, STAFF
from .chain import snapshot
from .db import Database, utcnow
from .halls.models import Department, Device, Hall, Service, Window, WindowService
from .transaction import Actor, Tx

DEMO_CODE = "demo"
DEMO_NAME = "示范县政务服务中心"

# (code, name) of departments
DEPARTMENTS = [
    ("gongan", "县公安局"),
    ("ziranziyuan", "县自然资源局"),
    ("shichang", "县市场监管局"),
    ("renshe", "县人社局"),
    ("shuiwu", "县税务局"),
]
# prefix, code, name, department code, legal_days, promised_days, fees, materials
SERVICES = [
    ("A", "hukou", "户籍业务", "gongan", 20, 5, "免费", "居民身份证、户口簿"),
    (
        "B",
        "budongchan",
        "不动产登记",
        "ziranziyuan",
        30,
        5,
        "按规定收取登记费",
        "不动产权证书、身份证明、申请书",
    ),
    ("C", "qiye", "企业开办", "shichang", 15, 1, "免费", "申请书、章程、身份证明、住所证明"),
    ("D", "shebao", "社保医保", "renshe", 20, 3, "免费", "居民身份证、社保卡"),
    ("E", "shuiwu", "税务办理", "shuiwu", 0, 0, "免费", "居民身份证或营业执照"),
]
# window number → service codes
WINDOWS = {
    1: ["hukou"],
    2: ["hukou"],
    3: ["budongchan"],
    4: ["budongchan"],
    5: ["qiye"],
    6: ["shebao"],
    7: ["shuiwu"],
    8: ["hukou", "budongchan", "qiye", "shebao", "shuiwu"],
}
STAFF_NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]


@dataclass
class DemoCredentials:
    passwords: dict[str, str] = field(default_factory=dict)
    kiosk_key: str = ""
    #: window number → key of its evaluator pad (评价器), derived from the kiosk key
    pad_keys: dict[int, str] = field(default_factory=dict)
    created: bool = False


def pad_key(kiosk_key: str, window_number: int) -> str:
    """The demo evaluator pad's key of a window: derived from the kiosk key, so one secret
    (``--device-key``) sets up every demo device, yet no pad key reveals the kiosk's."""
    digest = hashlib.sha256(f"{kiosk_key}-pad{window_number}".encode()).hexdigest()
    return f"pad{window_number}-{digest[:24]}"


def usernames() -> list[str]:
    return ["admin", "office", "head", *[f"w{n}" for n in WINDOWS]]


def _credentials_file(var_dir: Path) -> Path:
    return var_dir / "demo_credentials.json"


def load_saved(var_dir: Path) -> dict[str, object]:
    path = _credentials_file(var_dir)
    if path.exists():
        try:
            data = json.loads(path.read_text())
            if isinstance(data, dict):
                return data
        except ValueError:
            pass
    return {}


def save(var_dir: Path, creds: DemoCredentials) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    path = _credentials_file(var_dir)
    path.write_text(json.dumps({"password": creds.passwords, "kiosk_key": creds.kiosk_key}))
    path.chmod(0o600)


async def _create(tx: Tx, session: AsyncSession, timezone: str) -> Hall:
    hall = Hall(
        code=DEMO_CODE, name=DEMO_NAME, timezone=timezone, notice="请留意叫号，过号请重新取号。"
    )
    session.add(hall)
    await session.flush()
    assert hall.id is not None
    tx.hall_id = hall.id
    tx.audit("hall.create", hall)
    departments = {}
    for code, name in DEPARTMENTS:
        dept = Department(hall_id=hall.id, code=code, name=name)
        session.add(dept)
        departments[code] = dept
    await session.flush()
    for dept in departments.values():
        tx.audit("department.create", dept)
    services = {}
    for order, (prefix, code, name, dept_code, legal, promised, fees, materials) in enumerate(
        SERVICES
    ):
        service = Service(
            hall_id=hall.id,
            department_id=departments[dept_code].id,  # type: ignore[arg-type]
            code=code,
            name=name,
            prefix=prefix,
            legal_days=legal,
            promised_days=promised,
            fees=fees,
            materials=materials,
            guide=f"{name}：请携带{materials}到对应窗口办理。",
            sort_order=order,
        )
        session.add(service)
        services[code] = service
    await session.flush()
    for service in services.values():
        tx.audit("service.create", service)
    for number, codes in WINDOWS.items():
        window = Window(hall_id=hall.id, number=number, name="综合窗口" if number == 8 else "")
        session.add(window)
        await session.flush()
        for position, code in enumerate(codes):
            session.add(
                WindowService(window_id=window.id, service_id=services[code].id, position=position)  # type: ignore[arg-type]
            )
        tx.audit("window.create", window)
    await session.flush()
    return hall


async def seed_demo(
    db: Database,
    *,
    timezone: str,
    var_dir: Path,
    password: str | None = None,
    device_key: str | None = None,
) -> DemoCredentials:
    """Create the demo hall if it is missing; (re)set its passwords and kiosk key; return them.

    Without ``password``/``device_key`` the ones saved at the last run are reused, or new ones
    are generated, so running it twice changes nothing.
    """
    saved = load_saved(var_dir)
    saved_passwords = saved.get("password") if isinstance(saved.get("password"), dict) else {}
    assert isinstance(saved_passwords, dict)
    creds = DemoCredentials()
    async with db.write() as session:
        hall = (
            await session.execute(select(Hall).where(Hall.code == DEMO_CODE))  # type: ignore[arg-type]
        ).scalar_one_or_none()
        tx = Tx(session, 0, utcnow(), Actor.system())
        if hall is None:
            hall = await _create(tx, session, timezone)
            creds.created = True
        assert hall.id is not None
        tx.hall_id = hall.id
        windows = {
            w.number: w
            for w in (
                await session.execute(select(Window).where(Window.hall_id == hall.id))  # type: ignore[arg-type]
            ).scalars()
        }
        departments = list(
            (
                await session.execute(select(Department).where(Department.hall_id == hall.id))  # type: ignore[arg-type]
            ).scalars()
        )
        for index, username in enumerate(usernames()):
            pw = password or str(saved_passwords.get(username) or "") or secrets.token_urlsafe(9)
            creds.passwords[username] = pw
            user = (
                await session.execute(select(User).where(User.username == username))  # type: ignore[arg-type]
            ).scalar_one_or_none()
            role = {"admin": ADMIN, "office": INSPECTOR, "head": HEAD}.get(username, STAFF)
            window = windows.get(int(username[1:])) if role == STAFF else None
            if user is None:
                user = User(
                    hall_id=hall.id,
                    username=username,
                    role=role,
                    window_id=window.id if window else None,
                    display_name=(
                        STAFF_NAMES[int(username[1:]) - 1]
                        if role == STAFF
                        else {
                            "admin": "系统管理员",
                            "office": "效能办督查员",
                            "head": "部门负责人",
                        }[username]
                    ),
                    staff_no=f"GH{1000 + index}",
                    password_hash=hash_password(pw),
                )
                session.add(user)
                await session.flush()
                tx.audit("user.add", user)
                if role == HEAD:
                    for dept in departments:
                        session.add(UserDepartment(user_id=user.id, department_id=dept.id))  # type: ignore[arg-type]
            elif not verify_password(pw, user.password_hash):
                user.password_hash = hash_password(pw)
                user.token_version += 1
                tx.audit("user.password", user)
        key = device_key or str(saved.get("kiosk_key") or "") or secrets.token_urlsafe(24)
        creds.kiosk_key = key
        kiosk = (
            (
                await session.execute(
                    select(Device).where(Device.hall_id == hall.id, Device.kind == KIOSK)  # type: ignore[arg-type]
                )
            )
            .scalars()
            .first()
        )
        if kiosk is None:
            kiosk = Device(
                hall_id=hall.id, kind=KIOSK, name="大厅取号机1", key_hash=hash_device_key(key)
            )
            session.add(kiosk)
            await session.flush()
            tx.audit("device.add", kiosk)
        elif kiosk.key_hash != hash_device_key(key):
            kiosk.key_hash = hash_device_key(key)
            tx.audit("device.key", kiosk)
        await _seed_pads(tx, session, hall.id, windows, key, creds)
        await tx.commit()
    save(var_dir, creds)
    return creds


async def _seed_pads(
    tx: Tx,
    session: AsyncSession,
    hall_id: int,
    windows: dict[int, Window],
    kiosk_key: str,
    creds: DemoCredentials,
) -> None:
    """One evaluator pad (评价器) per demo window, bound to it (Device.window_id)."""
    pads = {
        d.window_id: d
        for d in (
            await session.execute(
                select(Device).where(Device.hall_id == hall_id, Device.kind == EVALUATOR)  # type: ignore[arg-type]
            )
        ).scalars()
    }
    for number, window in sorted(windows.items()):
        key = pad_key(kiosk_key, number)
        creds.pad_keys[number] = key
        pad = pads.get(window.id)
        if pad is None:
            pad = Device(
                hall_id=hall_id,
                kind=EVALUATOR,
                name=f"{number}号窗口评价器",
                key_hash=hash_device_key(key),
                window_id=window.id,
            )
            session.add(pad)
            await session.flush()
            tx.audit("device.add", pad)
        elif pad.key_hash != hash_device_key(key):
            before = snapshot(pad)
            pad.key_hash = hash_device_key(key)
            tx.audit("device.key", pad, before=before)
