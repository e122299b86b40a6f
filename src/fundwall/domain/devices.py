"""Devices and logins: what Art. 18 of the Anti-Telecom and Online Fraud Law lets banks keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from fundwall.domain._fields import (
    aware_utc,
    device_id,
    member,
    optional_device_id,
    optional_ip_address,
    optional_text,
    reference,
    set_field,
)

CITY_MAX: Final = 64


class DeviceKind(StrEnum):
    MOBILE = "mobile"
    TABLET = "tablet"
    DESKTOP = "desktop"
    ATM = "atm"
    POS = "pos"
    OTHER = "other"


class FaceCheck(StrEnum):
    """Outcome of face recognition (人脸识别) at login."""

    PASSED = "passed"
    FAILED = "failed"
    """No usable face: too dark, no liveness, the customer gave up."""
    MISMATCH = "mismatch"
    """A face was seen and it is not the account holder's."""
    NOT_DONE = "not_done"


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    kind: DeviceKind
    first_seen: datetime

    def __post_init__(self) -> None:
        set_field(self, "device_id", device_id(self.device_id, "device_id"))
        set_field(self, "kind", member(DeviceKind, self.kind, "kind"))
        set_field(self, "first_seen", aware_utc(self.first_seen, "first_seen"))


@dataclass(frozen=True, slots=True)
class LoginEvent:
    """A login to an account's mobile or online banking; `ts` is aware and stored in UTC."""

    event_id: str
    account_no: str
    ts: datetime
    device_id: str | None
    ip: str | None
    city: str | None
    face_check: FaceCheck

    def __post_init__(self) -> None:
        set_field(self, "event_id", reference(self.event_id, "event_id"))
        set_field(self, "account_no", reference(self.account_no, "account_no"))
        set_field(self, "ts", aware_utc(self.ts, "ts"))
        set_field(self, "device_id", optional_device_id(self.device_id, "device_id"))
        set_field(self, "ip", optional_ip_address(self.ip, "ip"))
        set_field(self, "city", optional_text(self.city, "city", max_len=CITY_MAX))
        set_field(self, "face_check", member(FaceCheck, self.face_check, "face_check"))
