"""Simplified opening (简易开户), measured in a child process of its own: one decision, p99.

The child loads the region's institutions, people, accounts and telecom registry (no
transactions) into a fresh SQLite store, makes sharing key v1 and lists a tenth of the
applicants' phones as card dealers'. Then `decisions` of the region's own people apply at
the first bank, one at a time, as its onboarding system would call `decide_onboarding`: the
identity checked, the phone asked of the local registry, the shared list, the punishment
list and the applicant's accounts across the region read, the decision and its audit record
committed (no account opened, so the same store serves every decision). Each decision is
timed whole (`onboarding_p99_ms`). The baseline, in the same run and store, is the floor
any recorded decision pays: one audit record written and committed
(`onboarding_vs_commit`, the decision's p99 ÷ that floor's p99).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Final

from fundwall.bench.child import run_python

LISTED_SHARE: Final = 10

_CHILD: Final = (
    "import sys; from pathlib import Path; from fundwall.bench.onboarding import child; "
    "child(Path(sys.argv[1]), int(sys.argv[2]))"
)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def child(region: Path, decisions: int) -> None:
    """The child's work: print one JSON object of its figures."""
    from fundwall import bootstrap
    from fundwall.accounts.onboarding import Applicant, Application, decide_onboarding
    from fundwall.auth.actor import Actor, ActorKind
    from fundwall.auth.roles import Role
    from fundwall.config import load_settings
    from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
    from fundwall.phones.local import LocalRegistry
    from fundwall.region import read_table
    from fundwall.sharing.keys import accepted_sharing_keys, rotate_sharing_key
    from fundwall.sharing.model import NewEntry
    from fundwall.sharing.risk_list import publish_entries
    from fundwall.sim.load import load_region
    from fundwall.store.migrate import upgrade

    parties = read_table(region, "parties").to_pylist()
    people = [p for p in parties if p["kind"] == "person" and p["phone"]][:decisions]
    bank = read_table(region, "accounts")["bank"][0].as_py()
    member = Actor(ActorKind.API_KEY, "bench", Role.MEMBER_SYSTEM, bank)
    with tempfile.TemporaryDirectory(prefix="fundwall-bench-onboarding-") as scratch:
        folder = Path(scratch)
        url = f"sqlite:///{folder / 'hub.db'}"
        upgrade(url)
        settings = load_settings(config_file=None, data_dir=folder, database_url=url)
        with bootstrap.opened(settings, operator="bench", check_schema=False) as hub:
            load_region(region, hub.database, hub.keyring, transactions=False)
            with hub.unit_of_work() as uow:
                rotate_sharing_key(uow, hub.operator, settings.keys_dir)
                keys = accepted_sharing_keys(uow, hub.operator, settings.keys_dir)
                dealers = [
                    NewEntry(ListKind.PHONE_HASH, keys.hash("phone", p["phone"]),
                             RiskCategory.CARD_DEALER, Evidence.MEMBER_SUSPECTED)
                    for p in people[::LISTED_SHARE]
                ]  # fmt: skip
                publish_entries(uow, hub.operator, dealers, member=bank)
            registry = LocalRegistry(hub.database, hub.keyring, hub.clock)
            policy = settings.policy
            timings: list[float] = []
            outcomes: dict[str, int] = {}
            for person in people:
                application = Application(
                    Applicant.FLEXIBLE_WORKER, person["id_number"], person["name"],
                    person["phone"],
                )  # fmt: skip
                began = time.perf_counter()
                with hub.unit_of_work() as uow:
                    decision = decide_onboarding(
                        uow, member, application, hub.keyring, registry, policy, keys
                    )
                timings.append(time.perf_counter() - began)
                outcomes[decision.outcome.value] = outcomes.get(decision.outcome.value, 0) + 1
            floor: list[float] = []
            for n in range(len(people)):
                began = time.perf_counter()
                with hub.unit_of_work() as uow:
                    uow.audit.record(member, "bench_floor", "bench", {"n": n})
                    uow.commit()
                floor.append(time.perf_counter() - began)
    figures = {
        "decisions": len(timings),
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": _p(timings, 0.99) * 1000,
        "floor_p99_ms": _p(floor, 0.99) * 1000,
        "outcomes": outcomes,
        "people": len(parties),
        "load_average_1m": os.getloadavg()[0],
    }
    print(json.dumps(figures))


def measure_onboarding(region: Path, *, decisions: int, timeout: float) -> dict[str, object]:
    """Decide `decisions` simplified openings in a child process; see the module docstring."""
    run = run_python(_CHILD, str(region), str(decisions), timeout=timeout)
    figures = json.loads(run.output.strip().splitlines()[-1])
    p99 = float(figures["p99_ms"])
    return {
        "onboarding_p99_ms": round(p99, 2),
        "onboarding_p50_ms": round(float(figures["p50_ms"]), 2),
        "onboarding_commit_p99_ms": round(float(figures["floor_p99_ms"]), 2),
        "onboarding_vs_commit": round(p99 / float(figures["floor_p99_ms"]), 1),
        "onboarding_decisions": int(figures["decisions"]),
        "onboarding_outcomes": figures["outcomes"],
        "onboarding_region_people": int(figures["people"]),
        "onboarding_load_average_1m": round(float(figures["load_average_1m"]), 2),
    }
