"""The tamper-evident audit record (审计记录): append-only and hash-chained per hall."""
