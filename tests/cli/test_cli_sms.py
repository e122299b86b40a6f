"""`fundwall sms received` over the configured store, SQLite and PostgreSQL: what the local
gateway delivered to a phone, the latest last, each reading audited with the phone masked; a
malformed number is named, exit 2."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from fundwall.auth import Actor
from fundwall.cli import app
from fundwall.config import get_settings
from fundwall.crypto import Keyring
from fundwall.outreach import LocalGateway, SmsPurpose, dispatch_outbox
from fundwall.outreach.queries import queue_sms
from fundwall.store import UnitOfWork, open_database
from fundwall.store.tables import AuditRow

runner = CliRunner()
PHONE = "13912340001"


@pytest.fixture(autouse=True)
def configured(configured_store: str) -> str:
    return configured_store


def _codes(url: str, *codes: str) -> None:
    database = open_database(url)
    try:
        keyring = Keyring.from_settings(get_settings())
        operator = Actor.operator("test")
        for code in codes:
            with UnitOfWork(database, keyring=keyring) as uow:
                queue_sms(uow, operator, phone=PHONE, template="portal_code",
                          variables={"code": code, "minutes": "5"}, member=None,
                          purpose=SmsPurpose.CODE)  # fmt: skip
                uow.audit.record(operator, "test_queue", "sms")
                uow.commit()
        with UnitOfWork(database, keyring=keyring) as uow:
            dispatch_outbox(uow, LocalGateway())
    finally:
        database.dispose()


def test_the_handset_shows_the_latest_codes_and_the_reading_is_audited(configured: str) -> None:
    _codes(configured, "111111", "222222", "333333")
    shown = runner.invoke(app, ["sms", "received", "139 1234 0001", "--last", "2"])
    assert shown.exit_code == 0, shown.output
    assert "111111" not in shown.output
    assert shown.output.index("222222") < shown.output.index("333333")
    database = open_database(configured)
    try:
        with UnitOfWork(database) as uow:
            action, subject, details = uow.session.execute(
                select(AuditRow.action, AuditRow.subject, AuditRow.details)
                .order_by(AuditRow.seq.desc())
                .limit(1)
            ).one()
    finally:
        database.dispose()
    assert action == "read_local_handset"
    assert subject == "phone:139****0001" and PHONE not in str(details)


def test_a_malformed_number_is_named(configured: str) -> None:
    refused = runner.invoke(app, ["sms", "received", "12345"])
    assert refused.exit_code == 2 and "phone" in refused.output
