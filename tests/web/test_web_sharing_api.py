"""The sharing hub's `/v1/share` routes over HTTP with members' API keys, on the console
tests' region and the entries of tests/web/share_records.py: no route shows a member another
member's reporter, reference or note; hostile files are refused naming what is wrong, never a
500; a publication's work runs off the event loop, so the engine's calls go on meanwhile."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fundwall.auth import Actor
from fundwall.members import create_api_key
from fundwall.sharing.model import MATCH_MAX_ROWS

from .conftest import Console, open_client
from .share_records import (
    FIRST_NOTE,
    FIRST_REFERENCE,
    SECOND_DEVICE,
    SECOND_NOTE,
    SECOND_REFERENCE,
    SharedEntries,
    share_entries,
)

PARQUET = "application/vnd.apache.parquet"


@pytest.fixture
def shared(console: Console) -> SharedEntries:
    console.app.state.share_event_seconds = 0  # the event stream answers what it has, and ends
    return share_entries(console)


@pytest.fixture
def keys(console: Console) -> dict[str, dict[str, str]]:
    """Each demo bank's API key, as its system's headers."""
    banks = (console.region.first_bank, console.region.second_bank)
    with console.uow() as uow:
        return {
            bank: {"authorization": f"Bearer {create_api_key(uow, Actor.operator('t'), bank)[1]}"}
            for bank in banks
        }


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_no_api_route_shows_a_member_anothers_reporter_reference_or_note(
    console: Console, shared: SharedEntries, keys: dict[str, dict[str, str]]
) -> None:
    first, second = console.region.first_bank, console.region.second_bank
    client = open_client(console.app)
    mine = keys[first]
    upload = f"kind,key,ref\ndevice,{SECOND_DEVICE},C1\nid_hash,{shared.id_hash},C2\n"
    table = pa.table({"kind": ["device", "id_hash"], "key": [SECOND_DEVICE, shared.id_hash]})
    seen: dict[str, httpx.Response] = {
        "entry": client.get(f"/v1/share/entries/{shared.second_device}", headers=mine),
        "query": client.get(
            "/v1/share/query", params={"kind": "device", "key": SECOND_DEVICE}, headers=mine
        ),
        "match csv": client.post(
            "/v1/share/match",
            content=upload.encode(),
            headers={**mine, "content-type": "text/csv"},
        ),
        "match parquet": client.post(
            "/v1/share/match", content=_parquet(table), headers={**mine, "content-type": PARQUET}
        ),
        "feed": client.get("/v1/share/feed", headers=mine),
        "events": client.get("/v1/share/events", headers=mine),
        "rekey": client.get("/v1/share/rekey", headers=mine),
        "keys": client.get("/v1/share/keys", headers=mine),
    }
    for where, answer in seen.items():
        assert answer.status_code == 200, (where, answer.text)
        text = answer.text if where != "match parquet" else str(_hits(answer).to_pylist())
        for secret in (SECOND_REFERENCE, SECOND_NOTE, f'"reporting_member":"{second}"'):
            assert secret not in text, (where, secret)
    theirs = seen["entry"].json()
    assert (theirs["own"], theirs["reporting_member"], theirs["reference"]) == (False, None, None)
    hits = _hits(seen["match parquet"])
    assert "reporting_member" not in hits.column_names and hits["own"].to_pylist() == [
        False, True,
    ]  # fmt: skip
    # Its own entries it reads whole, on the same routes.
    feed = seen["feed"].text
    assert FIRST_REFERENCE in feed and FIRST_NOTE in feed and SECOND_DEVICE in feed
    own = client.get(f"/v1/share/entries/{shared.first_account}", headers=mine).json()
    assert (own["own"], own["reporting_member"], own["note"]) == (True, first, FIRST_NOTE)


def _hits(answer: httpx.Response) -> pa.Table:
    return pq.read_table(io.BytesIO(answer.content))


def test_hostile_files_are_refused_naming_what_is_wrong_never_a_500(
    console: Console, shared: SharedEntries, keys: dict[str, dict[str, str]]
) -> None:
    client = open_client(console.app)
    headers = {**keys[console.region.first_bank], "content-type": PARQUET}
    rows = MATCH_MAX_ROWS + 1
    same = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int8)), [shared.id_hash])
    kinds = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int8)), ["id_hash"])
    timed = pa.table(
        {"kind": ["device"], "key": ["dev-9"], "category": ["mule"],
         "evidence": ["member_verified"], "valid_until": pa.array([20], pa.int64())}
    )  # fmt: skip
    hostile: list[tuple[str, bytes, dict[str, Any]]] = [
        ("/v1/share/match", _parquet(pa.table({"kind": kinds, "key": same})), {"field": "file"}),
        (
            "/v1/share/match",
            _parquet(pa.table({"kind": [["id_hash"]], "key": [shared.id_hash]})),
            {"field": "kind"},
        ),
        (
            "/v1/share/match",
            _parquet(pa.table({"kind": ["id_hash"], "key": pa.array([b"\xff"], pa.binary())})),
            {"field": "key", "record": "row 0"},
        ),
        ("/v1/share/entries/file", _parquet(timed), {"field": "valid_until", "record": "row 0"}),
    ]
    for path, body, named in hostile:
        answer = client.post(path, content=body, headers=headers)
        assert answer.status_code == 422, (path, named, answer.text)
        problem = answer.json()
        assert {key: problem[key] for key in named} == named, problem
    ragged = b"kind,key\ndevice,dev-1\ndevice,dev-2,extra\n"
    answer = client.post(
        "/v1/share/match", content=ragged, headers={**headers, "content-type": "text/csv"}
    )
    assert (answer.status_code, answer.json()["record"]) == (422, "line 3")


def test_a_publication_is_worked_off_the_event_loop(
    console: Console, keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a member's publication is being read and written, another call is answered."""
    import fundwall.api.sharing as routes

    answered = threading.Event()
    real = routes.entries_of

    def slow_entries_of(*args: Any, **kwargs: Any) -> Any:
        answered.wait(timeout=30)  # on the event loop, this would hold up the other call
        return real(*args, **kwargs)

    monkeypatch.setattr(routes, "entries_of", slow_entries_of)
    headers = keys[console.region.first_bank]
    entry = {"kind": "device", "key": "dev-slow", "category": "mule", "evidence": "member_verified"}
    finished: dict[str, float] = {}

    async def calls() -> None:
        transport = httpx.ASGITransport(app=console.app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:

            async def publish() -> None:
                answer = await http.post("/v1/share/entries", json={"entries": [entry]},
                                         headers=headers)  # fmt: skip
                assert answer.status_code == 201, answer.text
                finished["publish"] = time.monotonic()

            async def read() -> None:
                await asyncio.sleep(0.2)
                answer = await http.get("/v1/share/keys", headers=headers)
                assert answer.status_code == 200
                finished["read"] = time.monotonic()
                answered.set()

            await asyncio.gather(publish(), read())

    asyncio.run(calls())
    assert finished["read"] < finished["publish"]
