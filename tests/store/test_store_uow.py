"""The unit of work writes a change and its audit records together, or nothing at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from fundwall.clock import FixedClock
from fundwall.domain.errors import Conflict
from fundwall.store import UnitOfWork
from fundwall.store.tables import AccountRow, AuditHeadRow, AuditRow, InstitutionRow

UowFactory = Callable[[], UnitOfWork]


def counts(uow_factory: UowFactory) -> tuple[int, int, int]:
    with uow_factory() as uow:
        institutions = uow.session.scalar(select(func.count()).select_from(InstitutionRow))
        records = uow.session.scalar(select(func.count()).select_from(AuditRow))
        head = uow.session.scalar(select(AuditHeadRow.seq))
        return (institutions or 0, records or 0, head or 0)


def add_bank(uow: UnitOfWork, code: str) -> None:
    uow.session.add(
        InstitutionRow(
            code=code, name_zh="银行", name_en=f"Bank {code}", kind="bank", region="350200"
        )
    )
    uow.audit.record("user:admin", "add_institution", f"institution:{code}")


def test_commit_writes_the_change_and_its_audit_record(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        add_bank(uow, "B001")
        uow.commit()
    assert counts(uow_factory) == (1, 1, 1)


def test_leaving_without_commit_writes_nothing(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        add_bank(uow, "B001")
    assert counts(uow_factory) == (0, 0, 0)


def test_an_error_rolls_back_the_change_and_its_audit_record(uow_factory: UowFactory) -> None:
    with pytest.raises(RuntimeError, match="half way"), uow_factory() as uow:
        add_bank(uow, "B001")
        uow.session.flush()
        raise RuntimeError("half way")
    assert counts(uow_factory) == (0, 0, 0)


def test_a_failing_write_leaves_nothing_half_written(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        add_bank(uow, "B000")
        uow.commit()
    with pytest.raises(IntegrityError), uow_factory() as uow:
        add_bank(uow, "B001")
        uow.session.add(
            AccountRow(
                account_no="6222020000000001",
                institution_code="B001",
                party_id="no such party",
                account_class="I",
                status="normal",
                risk_tier="low",
                opened_at=uow.clock.now(),
                opening_channel="counter",
            )
        )
        uow.commit()
    assert counts(uow_factory) == (1, 1, 1)
    with uow_factory() as uow:
        assert uow.audit.verify().intact


def test_commit_then_more_work_in_the_same_unit(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        add_bank(uow, "B001")
        uow.commit()
        add_bank(uow, "B002")
        uow.rollback()
        add_bank(uow, "B003")
        uow.commit()
    with uow_factory() as uow:
        codes = uow.session.scalars(select(InstitutionRow.code).order_by(InstitutionRow.code))
        assert codes.all() == ["B001", "B003"]
        assert [r.seq for r in uow.audit.tail(10)] == [1, 2]


def test_audit_time_comes_from_the_injected_clock(
    uow_factory: UowFactory, clock: FixedClock
) -> None:
    later = clock.advance(timedelta(hours=48))
    with uow_factory() as uow:
        assert uow.clock is clock
        record = uow.audit.record("system:expiry", "stop_payment_expired", "stop:S1")
        uow.commit()
    assert record.ts == later


def test_without_a_clock_the_system_clock_is_used(database: Engine) -> None:
    with UnitOfWork(database) as uow:
        before = uow.clock.now()
        record = uow.audit.record("system:test", "ping", "system")
        assert before <= record.ts <= uow.clock.now()
        assert record.ts.utcoffset() == timedelta(0)


def test_session_and_audit_exist_only_inside_the_block(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    with pytest.raises(Conflict, match="not open"):
        _ = uow.session
    with pytest.raises(Conflict, match="not open"):
        _ = uow.audit
    with uow, pytest.raises(Conflict, match="already in use"), uow:
        pass
    with pytest.raises(Conflict, match="not open"):
        uow.commit()
