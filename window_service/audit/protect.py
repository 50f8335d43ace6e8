"""On PostgreSQL the database itself refuses to change or remove audit records.

A trigger rejects every UPDATE and DELETE on ``audit_record`` and ``audit_anchor``, and
TRUNCATE of either table, whoever asks, so a careless script or a compromised application
account cannot rewrite history quietly; only the table owner disabling the trigger first
could, and ``window-service audit verify`` still catches what was changed then.

It is installed by ``window_service.migrate.upgrade`` after Alembic has run (idempotently, on
every ``migrate``/``serve``), rather than by a migration file, so a database whose trigger was
dropped gets it back at the next start. SQLite has no such protection
(it is a single file the operator owns anyway); verify is the check there.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

GUARDED_TABLES = ("audit_record", "audit_anchor")

FUNCTION = """
CREATE OR REPLACE FUNCTION window_service_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '审计记录只能追加 (% on % is not allowed: the audit record is append-only)',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def statements() -> list[str]:
    out = [FUNCTION]
    for table in GUARDED_TABLES:
        out += [
            f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION window_service_audit_append_only()",
            f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION window_service_audit_append_only()",
        ]
    return out


#: Held while migrating or installing the guard, so processes started together (serve
#: --workers N, several hosts) take turns instead of failing with "tuple concurrently updated".
MIGRATION_LOCK = 7_243_001


def install(connection: Connection) -> None:
    """Create (or refresh) the guard; a no-op on SQLite."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    for sql in statements():
        connection.execute(text(sql))
