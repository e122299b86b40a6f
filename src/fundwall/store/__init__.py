"""Persistence: tables, the unit of work, migrations and the hash-chained audit log.

SQLite by default (`sqlite:///<data_dir>/fundwall.db`), PostgreSQL by setting
`FUNDWALL_DATABASE_URL=postgresql+psycopg://user@host/db`. Run `fundwall db upgrade` to
create or upgrade the schema (`fundwall.store.migrate`).
"""

from fundwall.store.audit import AuditActor, AuditLog, AuditRecord
from fundwall.store.audit_chain import ChainBreak, ChainReport, verify_chain
from fundwall.store.audit_seal import AuditSeal
from fundwall.store.database import DatabaseUnavailableError, display_url, open_database
from fundwall.store.uow import UnitOfWork

__all__ = [
    "AuditActor",
    "AuditLog",
    "AuditRecord",
    "AuditSeal",
    "ChainBreak",
    "ChainReport",
    "DatabaseUnavailableError",
    "UnitOfWork",
    "display_url",
    "open_database",
    "verify_chain",
]
