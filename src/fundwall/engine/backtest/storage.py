"""Backtest results kept for the console: one JSON file per pack version and region.

`<data_dir>/backtests/<pack_version>-<region>.json` holds the `Backtest.to_dict()` object plus
`saved_at`; saving the same pack on the same region again replaces the file. Characters
other than letters, digits, `.`, `_` and `-` become `_` in the file name (pack versions carry
a `:`, which some file systems refuse); the exact names stay inside the file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from fundwall.clock import Clock
from fundwall.domain.errors import InvalidInput, NotFound
from fundwall.engine.backtest.result import FORMAT, SAVED_AT, Backtest

FOLDER: Final = "backtests"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class StoredBacktest:
    """One stored result, as the console lists it."""

    pack_version: str
    region: str
    source: str | None
    saved_at: datetime
    path: Path


def backtest_path(data_dir: Path, pack_version: str, region: str) -> Path:
    """Where the result of `pack_version` on `region` is kept."""
    name = f"{_UNSAFE.sub('_', pack_version)}-{_UNSAFE.sub('_', region)}.json"
    return data_dir / FOLDER / name


def save_backtest(result: Backtest, data_dir: Path, clock: Clock) -> Path:
    """Write the result (replacing an earlier one of the same pack and region) and return
    its path. The file appears complete or not at all."""
    if result.pack_version is None:
        raise InvalidInput("the decisions name no pack version to file the result under")
    path = backtest_path(data_dir, result.pack_version, result.region.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {**result.to_dict(), SAVED_AT: clock.now().isoformat()}
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False
    ) as out:
        json.dump(body, out, ensure_ascii=False, indent=2)
        out.write("\n")
    os.replace(out.name, path)
    return path


def _read(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"{path} cannot be read as a backtest result: {error}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise InvalidInput(f"{path} is not a {FORMAT} result")
    return body


def _entry(path: Path, body: dict[str, Any]) -> StoredBacktest:
    try:
        return StoredBacktest(
            pack_version=str(body["pack_version"]),
            region=str(body["region"]["name"]),
            source=body["region"]["source"],
            saved_at=datetime.fromisoformat(body[SAVED_AT]),
            path=path,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"{path} lacks a field of a stored result: {error}") from None


def list_backtests(data_dir: Path) -> list[StoredBacktest]:
    """Every stored result, by pack version then region."""
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return []
    entries = [_entry(path, _read(path)) for path in folder.glob("*.json")]
    return sorted(entries, key=lambda e: (e.pack_version, e.region))


def load_backtest(data_dir: Path, pack_version: str, region: str) -> dict[str, Any]:
    """The stored result of `pack_version` on `region` (the JSON object with `saved_at`)."""
    path = backtest_path(data_dir, pack_version, region)
    if not path.is_file():
        raise NotFound("backtest", f"{pack_version} on {region}")
    body = _read(path)
    entry = _entry(path, body)
    if (entry.pack_version, entry.region) != (pack_version, region):
        # Two names that differ only in characters replaced by `_` share a file name.
        raise NotFound("backtest", f"{pack_version} on {region}")
    return body
