"""Fixtures of the tracing workflow's tests: the police tests' two-bank world (bank B001
holds A1 and A2, bank B002 holds B1 and B2, ¥10,000 each; police unit PSB1), where the
victim's ¥2,000 paid into B1 (T2) is passed on through B1 → A2, B1 → B2 and B2 → X9."""

from __future__ import annotations

from datetime import timedelta

from auth import world  # tests/auth/world.py
from fundwall.tracing.model import TraceStart
from fundwall.tracing.views import BatchRequest
from police.conftest import BALANCE, OFFICER, OTHER_UNIT, STOP, UNIT, Payer, engine, payer

__all__ = ["BALANCE", "OFFICER", "OTHER_UNIT", "STOP", "UNIT", "Payer", "engine", "payer"]

T2_AT = world.START + timedelta(hours=4)
VICTIM = TraceStart("报案-1", "B1", T2_AT, 200_000, "T2")
"""The victim's payment: T2, A1 → B1, ¥2,000."""


def batch(prefix: str = "厦公止〔2024〕88号", **changes: object) -> BatchRequest:
    fields: dict[str, object] = {
        "document_prefix": prefix,
        "officers": "王警官、李警官",
        "police_case_no": "A3502032024060001",
        "legal_basis": "《中华人民共和国反电信网络诈骗法》第三十二条",
    }
    fields.update(changes)
    return BatchRequest(**fields)  # type: ignore[arg-type]
