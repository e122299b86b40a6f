"""`fundwall phones` over a loaded tiny region: every binding checked, a member's recycled
numbers listed, one published to the shared risk list for that member only, and once."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from fundwall.cli import app
from fundwall.domain.errors import FundwallError
from fundwall.region import read_table

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if isinstance(result.exception, FundwallError):  # what `main` prints, exit code 2
        return 2, str(result.exception)
    return result.exit_code, result.output


def test_a_recycled_number_is_published_by_the_member_holding_it(
    tiny: Path, configured_store: str
) -> None:
    assert _run("load", str(tiny), "--no-transactions")[0] == 0
    code, said = _run("phones", "recheck")
    assert code == 0 and re.search(r"[1-9]\d* recycled", said), said
    banks = sorted(set(read_table(tiny, "accounts")["bank"].to_pylist()))
    found: dict[str, str] = {}
    for bank in banks:
        code, table = _run("phones", "recycled", "--member", bank, "--days", "3660")
        assert code == 0, table
        if ids := re.findall(r"│ (\d+)\s+│ 1\d\d\*\*\*\*\d{4}", table):
            found[bank] = ids[0]
    assert found, "the tiny region plants recycled numbers"
    holder, binding = next(iter(found.items()))
    other = next(bank for bank in banks if bank not in found)
    assert _run("share", "key", "rotate")[0] == 0
    code, said = _run("phones", "publish", "recycled_phone", binding, "--member", other)
    assert code == 2 and "not found" in said
    code, said = _run("phones", "publish", "recycled_phone", binding, "--member", holder)
    assert code == 0 and re.search(rf"published entry \d+ for {holder} \(key v1\)", said), said
    code, said = _run("phones", "publish", "recycled_phone", binding, "--member", holder)
    assert code == 2 and "already lists it as recycled_phone" in said
    code, said = _run("phones", "publish", "stolen_phone", binding, "--member", holder)
    assert code == 2 and "finding" in said and "recycled_phone" in said
