"""What the console's routes need beyond access control, kept on the app's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from fundwall.config import CaseSettings, PolicySettings
from fundwall.crypto import Keyring
from fundwall.monitoring.overview import OverviewCache
from fundwall.phones.registry import TelecomRegistry
from fundwall.rulepacks.library import PackLibrary
from fundwall.sharing.index import RiskIndex


@dataclass(frozen=True)
class ConsoleConfig:
    keyring: Keyring
    library: PackLibrary
    demo_notice: str | None
    """Shown on the sign-in page in the demo: the demo users and their password."""
    form_max_bytes: int
    """The largest form body a console route reads (`security.form_max_bytes`)."""
    keys_dir: Path = field(kw_only=True)
    """The key files' directory: the regional sharing keys a phone finding is hashed with
    before it is published to the shared risk list."""
    telecom_registry: TelecomRegistry = field(kw_only=True)
    """The telecom registry a phone re-check asks (`phones.registry`)."""
    recycled_days: int = field(kw_only=True)
    """How far back a number given up counts as recently recycled (`phones.recycled_days`)."""
    policy: PolicySettings = field(kw_only=True)
    """The policy's figures: a risk tier's measures, simplified opening's thresholds."""
    data_dir: Path | None = None
    """Where the engine keeps stored backtests (`<data_dir>/backtests`)."""
    poll_seconds: int = 5
    """How often the overview refreshes itself."""
    overviews: OverviewCache = field(default_factory=OverviewCache)
    """The overview's tallies, folded forward on each refresh."""
    cases: CaseSettings = field(default_factory=CaseSettings)
    """Case work: deadlines and what an evidence file may be."""
    risk_index: RiskIndex = field(default_factory=RiskIndex)
    """The shared risk list in memory for bulk matches, the API's and the console's (one per
    process)."""

    @property
    def upload_max_bytes(self) -> int:
        """The largest upload form: an evidence file of the largest size, and the form."""
        return self.cases.evidence_max_bytes + self.form_max_bytes


def console_config(request: Request) -> ConsoleConfig:
    config: ConsoleConfig = request.app.state.fundwall_console
    return config


ConsoleDep = Annotated[ConsoleConfig, Depends(console_config)]
