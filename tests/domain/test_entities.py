"""Institutions, parties, accounts and devices: valid values and the field each error names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from fundwall.domain.accounts import (
    Account,
    AccountClass,
    AccountStatus,
    OpeningChannel,
    RiskTier,
)
from fundwall.domain.devices import Device, DeviceKind, FaceCheck, LoginEvent
from fundwall.domain.errors import InvalidInput
from fundwall.domain.identity import (
    CreditCode,
    MobilePhone,
    ResidentId,
    credit_code_check_char,
    resident_id_check_char,
)
from fundwall.domain.institutions import Institution, InstitutionKind
from fundwall.domain.parties import Party, PartyKind, mask_name

BEIJING = timezone(timedelta(hours=8))
OPENED = datetime(2024, 3, 1, 9, 30, tzinfo=BEIJING)
PERSON_ID = ResidentId("35020319900101123" + resident_id_check_char("35020319900101123"))
FIRM_CODE = CreditCode("91110108551385082Q")
PHONE = MobilePhone.parse("13812345678")


def field_of(build: Any, **changes: object) -> str | None:
    with pytest.raises(InvalidInput) as caught:
        build(**changes)
    return caught.value.field


def institution(**changes: object) -> Institution:
    values: dict[str, object] = {
        "code": "XMBANK01",
        "name_zh": "厦门示例银行",
        "name_en": "Xiamen Example Bank",
        "kind": InstitutionKind.BANK,
        "region": "350200",
    }
    return Institution(**(values | changes))  # type: ignore[arg-type]


def test_institution() -> None:
    bank = institution(kind="Bank", name_zh=" 厦门示例银行 ")
    assert bank.kind is InstitutionKind.BANK
    assert bank.name_zh == "厦门示例银行"
    assert bank.kind.holds_accounts
    assert not InstitutionKind.POLICE_UNIT.holds_accounts
    assert institution(kind=InstitutionKind.HUB, region="100000").region == "100000"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "BANK 1"}, "code"),
        ({"code": "B" * 65}, "code"),
        ({"name_zh": "  "}, "name_zh"),
        ({"name_en": "x" * 101}, "name_en"),
        ({"name_en": "bad\nname"}, "name_en"),
        ({"kind": "credit_union"}, "kind"),
        ({"region": "3502"}, "region"),
    ],
)
def test_institution_errors_name_the_field(change: dict[str, object], field: str) -> None:
    assert field_of(institution, **change) == field


def party(**changes: object) -> Party:
    values: dict[str, object] = {
        "party_id": "P-0001",
        "kind": PartyKind.PERSON,
        "name": "张三丰",
        "id_number": PERSON_ID,
        "phone": PHONE,
        "home_region": "350203",
    }
    return Party(**(values | changes))  # type: ignore[arg-type]


def test_person_and_firm() -> None:
    assert party().id_number == PERSON_ID
    firm = party(kind="firm", name="小米科技有限责任公司", id_number=FIRM_CODE, phone=None)
    assert firm.kind is PartyKind.FIRM
    assert firm.shown_name == "小米科技有限责任公司"


def test_party_repr_masks_personal_data() -> None:
    shown = repr(party())
    assert "张**" in shown
    assert "张三丰" not in shown
    assert PERSON_ID.number not in shown
    assert PHONE.number not in shown
    assert mask_name("李四") == "李*"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"party_id": "P 1"}, "party_id"),
        ({"kind": "company"}, "kind"),
        ({"name": ""}, "name"),
        ({"id_number": FIRM_CODE}, "id_number"),
        ({"id_number": PERSON_ID.number}, "id_number"),
        ({"phone": "13812345678"}, "phone"),
        ({"home_region": "990000"}, "home_region"),
    ],
)
def test_party_errors_name_the_field(change: dict[str, object], field: str) -> None:
    assert field_of(party, **change) == field


def test_firm_needs_a_credit_code() -> None:
    with pytest.raises(InvalidInput, match="a firm is identified by a CreditCode, got ResidentId"):
        party(kind=PartyKind.FIRM)


def account(**changes: object) -> Account:
    values: dict[str, object] = {
        "account_no": "6222021234561234",
        "institution_code": "XMBANK01",
        "party_id": "P-0001",
        "account_class": AccountClass.CLASS_II,
        "status": AccountStatus.NORMAL,
        "risk_tier": RiskTier.LOW,
        "opened_at": OPENED,
        "opening_channel": OpeningChannel.MOBILE,
        "bound_account": "6222020000000001",
    }
    return Account(**(values | changes))  # type: ignore[arg-type]


def test_account_is_normalised() -> None:
    opened = account(account_class="II", status="FROZEN_partial")
    assert opened.account_class is AccountClass.CLASS_II
    assert opened.status is AccountStatus.FROZEN_PARTIAL
    assert opened.opened_at == OPENED
    assert opened.opened_at.tzinfo is UTC
    assert account(account_class=AccountClass.CLASS_I, bound_account=None).bound_account is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account_no": ""}, "account_no"),
        ({"institution_code": None}, "institution_code"),
        ({"party_id": 7}, "party_id"),
        ({"account_class": "IV"}, "account_class"),
        ({"status": "suspended"}, "status"),
        ({"risk_tier": "extreme"}, "risk_tier"),
        ({"opened_at": datetime(2024, 3, 1)}, "opened_at"),
        ({"opened_at": "2024-03-01T09:30:00+08:00"}, "opened_at"),
        ({"opening_channel": "kiosk"}, "opening_channel"),
        ({"bound_account": "6222021234561234"}, "bound_account"),
        ({"account_class": AccountClass.CLASS_I}, "bound_account"),
        ({"account_class": AccountClass.CORPORATE}, "bound_account"),
    ],
)
def test_account_errors_name_the_field(change: dict[str, object], field: str) -> None:
    assert field_of(account, **change) == field


def test_unknown_value_lists_the_allowed_ones() -> None:
    with pytest.raises(InvalidInput, match="expected one of low, medium, high"):
        account(risk_tier="extreme")


@pytest.mark.parametrize(
    ("status", "receive", "pay_out", "non_counter"),
    [
        (AccountStatus.NORMAL, True, True, True),
        (AccountStatus.NON_COUNTER_SUSPENDED, True, True, False),
        (AccountStatus.STOP_PAID, True, False, False),
        (AccountStatus.FROZEN_FULL, True, False, False),
        (AccountStatus.FROZEN_PARTIAL, True, True, True),
        (AccountStatus.CLOSED, False, False, False),
        (AccountStatus.DORMANT, True, False, False),
    ],
)
def test_what_each_status_allows(
    status: AccountStatus, receive: bool, pay_out: bool, non_counter: bool
) -> None:
    assert (status.can_receive, status.can_pay_out, status.allows_non_counter) == (
        receive,
        pay_out,
        non_counter,
    )
    assert status.is_restricted is (status != AccountStatus.NORMAL)


def test_class_and_channel_predicates() -> None:
    assert AccountClass.CLASS_III.is_personal and not AccountClass.CORPORATE.is_personal
    assert [c.value for c in AccountClass if c.may_be_bound] == ["II", "III"]
    assert {c for c in OpeningChannel if c.is_face_to_face} == {
        OpeningChannel.COUNTER,
        OpeningChannel.AGENT,
    }


def test_account_is_frozen() -> None:
    opened = account()
    with pytest.raises(AttributeError):
        opened.status = AccountStatus.CLOSED  # type: ignore[misc]
    assert replace(opened, status=AccountStatus.CLOSED).status is AccountStatus.CLOSED


def test_device_and_login() -> None:
    device = Device("IMEI:861234567890123", "mobile", OPENED)  # type: ignore[arg-type]
    assert device.kind is DeviceKind.MOBILE
    login = LoginEvent(
        event_id="L1",
        account_no="6222021234561234",
        ts=OPENED,
        device_id=device.device_id,
        ip="2001:DB8:0:0::1",
        city="厦门",
        face_check="mismatch",  # type: ignore[arg-type]
    )
    assert login.ip == "2001:db8::1"
    assert login.face_check is FaceCheck.MISMATCH
    assert login.ts.tzinfo is UTC


def login(**changes: object) -> LoginEvent:
    values: dict[str, object] = {
        "event_id": "L1",
        "account_no": "A1",
        "ts": OPENED,
        "device_id": None,
        "ip": None,
        "city": None,
        "face_check": FaceCheck.NOT_DONE,
    }
    return LoginEvent(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_id": ""}, "event_id"),
        ({"account_no": "A 1"}, "account_no"),
        ({"ts": datetime(2024, 1, 1)}, "ts"),
        ({"device_id": "has space"}, "device_id"),
        ({"device_id": "x" * 129}, "device_id"),
        ({"ip": "300.1.1.1"}, "ip"),
        ({"city": ""}, "city"),
        ({"face_check": "ok"}, "face_check"),
    ],
)
def test_login_errors_name_the_field(change: dict[str, object], field: str) -> None:
    assert field_of(login, **change) == field


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", DeviceKind.ATM, OPENED), "device_id"),
        (("D1", "watch", OPENED), "kind"),
        (("D1", DeviceKind.ATM, datetime(2024, 1, 1)), "first_seen"),
    ],
)
def test_device_errors_name_the_field(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Device(*args)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_credit_code_fixture_is_valid() -> None:
    assert credit_code_check_char(FIRM_CODE.number[:-1]) == FIRM_CODE.number[-1]
