"""The unit of work: one transaction, its audit records, and the clock of the service.

    with UnitOfWork(engine, clock=clock) as uow:
        account = uow.session.get(AccountRow, number)
        ...                                            # change rows
        uow.audit.record(actor, "stop_payment", f"account:{masked}", {"amount_fen": 100})
        uow.commit()

Nothing is written unless `commit()` is called: leaving the block without it, or with an
exception, rolls back the change and its audit records together.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fundwall.clock import Clock, SystemClock
from fundwall.config import get_settings
from fundwall.crypto import Keyring
from fundwall.domain.errors import Conflict
from fundwall.store.audit import AuditLog
from fundwall.store.audit_seal import AuditSeal


class UnitOfWork:
    """A session, its audit log and a clock; commit explicitly, roll back on any way out."""

    def __init__(
        self,
        database: Engine,
        *,
        clock: Clock | None = None,
        audit_seal: AuditSeal | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        """`audit_seal`: the audit key and checkpoint file; `keyring`: the personal-data keys
        that writers sharing this transaction encrypt with (the SMS outbox); both default to
        the deployment's."""
        self._sessions = sessionmaker(database, expire_on_commit=False)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._audit_seal = audit_seal
        self._keyring = keyring
        self._session: Session | None = None
        self._audit: AuditLog | None = None

    def __enter__(self) -> Self:
        if self._session is not None:
            raise Conflict("this unit of work is already in use; open a new one")
        self._session = self._sessions()
        self._audit = AuditLog(self._session, self.clock, self._audit_seal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session, self._audit = self._session, None, None
        if session is not None:
            session.rollback()
            session.close()

    @property
    def session(self) -> Session:
        """The SQLAlchemy session; only inside the `with` block."""
        if self._session is None:
            raise Conflict("the unit of work is not open: use it in a `with` block")
        return self._session

    @property
    def audit(self) -> AuditLog:
        """The audit log, writing in this unit's transaction."""
        if self._audit is None:
            raise Conflict("the unit of work is not open: use it in a `with` block")
        return self._audit

    @property
    def keyring(self) -> Keyring:
        """The personal-data keys of this unit's writers: the one given, else the
        deployment's (`Keyring.from_settings(get_settings())`), read when first asked for."""
        if self._keyring is None:
            self._keyring = Keyring.from_settings(get_settings())
        return self._keyring

    def commit(self) -> None:
        """Write the change and its audit records at once."""
        self.session.commit()

    def rollback(self) -> None:
        """Drop everything since the last commit."""
        self.session.rollback()
