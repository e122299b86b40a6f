"""`/v1/share`: the risk-information sharing hub (风险信息共享) for members' systems.

A member's system (its API key) publishes entries (JSON, or a CSV or Parquet file of many,
all or nothing), retracts its own, queries one identifier, bulk-matches a file of its
customers' identifiers (the answer is a file of hits in the same format), follows the feed
of new and retracted entries with a cursor (`GET /v1/share/feed?after=CURSOR`) or as
server-sent events (`GET /v1/share/events`, which the console reads with its session).
Resident IDs, credit codes and phones travel only as shared hashes (`vN:<hex>`, made with
`fundwall share hash`). The routes translate; rights, what each member sees of another's
entries, and the audit records are the use cases' (`fundwall.sharing`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from fundwall.api.bodies import JSON_TYPES, parse_json, read_body
from fundwall.api.problems import problem_responses
from fundwall.api.routes import KEYED, security_doc
from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import ApiActor, UnitOfWorkDep, access_config, presented_key_actor
from fundwall.auth.roles import Permission
from fundwall.engine.controls.model import Evidence, ListKind, RiskCategory
from fundwall.sharing.files import (
    ENTRY_COLUMNS,
    ENTRY_REQUIRED,
    IDENTIFIER_COLUMNS,
    IDENTIFIER_REQUIRED,
    read_file,
    write_table,
)
from fundwall.sharing.index import RiskIndex
from fundwall.sharing.keys import sharing_key_versions
from fundwall.sharing.matching import match_identifiers
from fundwall.sharing.model import (
    FEED_PAGE,
    MATCH_MAX_ROWS,
    PUBLISH_MAX_ROWS,
    EntryStatus,
    EntryView,
    EventKind,
    Feed,
    FeedEvent,
    Published,
)
from fundwall.sharing.risk_list import (
    entries_of,
    entries_to_rekey,
    publish_entries,
    query_identifier,
    read_entry,
    retract_entry,
    retract_risk,
    risk_feed,
)
from fundwall.store.uow import UnitOfWork

TAG = "sharing"
PREFIX: Final = "/v1/share"
JSON_BODY_BYTES: Final = 8 * 1024 * 1024
"""A JSON publication: room for JSON_MAX_ENTRIES entries of a few hundred bytes."""
JSON_MAX_ENTRIES: Final = 10_000
FILE_BODY_BYTES: Final = 256 * 1024 * 1024
"""A file to publish or match: 2,000,000 hashed identifiers take about 150 MB as CSV."""
CSV_TYPES: Final = ("text/csv",)
PARQUET_TYPES: Final = ("application/vnd.apache.parquet", "application/octet-stream")
EVENT_POLL_SECONDS: Final = 2.0
EVENT_STREAM_SECONDS: Final = 300.0
"""How long one event stream stays open; the client reconnects with `Last-Event-ID`."""

Short = Annotated[str, StringConstraints(min_length=1, max_length=128)]
EntryId = Annotated[int, Path(ge=1, le=2**62, description="the entry's number")]


class EntryIn(BaseModel):
    """An entry to publish. An account names its `bank`; a resident ID, credit code or phone
    is its shared hash `vN:<64 hex>` (never the raw number)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "account",
                    "key": "6222021234567890128",
                    "bank": "B002",
                    "category": "fraud_account",
                    "evidence": "police_confirmed",
                    "valid_until": "2025-06-01T00:00:00+08:00",
                    "reference": "CASE-2024-17",
                }
            ]
        },
    )

    kind: ListKind
    key: Short
    category: RiskCategory
    evidence: Evidence
    bank: Short | None = None
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    reference: Short | None = Field(None, description="the member's own; only it reads it")
    note: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        None, description="the member's own; no ID or phone number in the clear"
    )
    replaces: int | None = Field(None, ge=1, description="the own entry it re-publishes")


class EntriesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[EntryIn] = Field(min_length=1, max_length=JSON_MAX_ENTRIES)


class RetractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class EntryOut(BaseModel):
    """An entry as the caller may see it: `reporting_member`, `reference`, `note` and
    `retract_reason` are null unless the entry is the caller's own (or the caller the hub)."""

    id: int
    kind: ListKind
    key: str
    bank: str | None
    category: RiskCategory
    evidence: Evidence
    valid_from: datetime
    valid_until: datetime | None
    status: EntryStatus
    retracted_at: datetime | None
    own: bool
    reporting_member: str | None
    reference: str | None
    note: str | None
    retract_reason: str | None

    @classmethod
    def of(cls, view: EntryView) -> EntryOut:
        return cls(**asdict(view))


class PublishedOut(BaseModel):
    entries: int
    ids: list[int]
    replaced: int = Field(description="own entries retracted because these re-publish them")


class EventOut(BaseModel):
    cursor: int
    event: EventKind
    at: datetime
    entry: EntryOut

    @classmethod
    def of(cls, event: FeedEvent) -> EventOut:
        entry = EntryOut.of(event.entry)
        return cls(cursor=event.cursor, event=event.event, at=event.at, entry=entry)


class FeedOut(BaseModel):
    events: list[EventOut]
    cursor: int = Field(description="ask with after=cursor next time")
    more: bool

    @classmethod
    def of(cls, feed: Feed) -> FeedOut:
        return cls(events=[EventOut.of(e) for e in feed.events], cursor=feed.cursor, more=feed.more)


class KeyVersionOut(BaseModel):
    version: int
    created_at: datetime
    retired_at: datetime | None
    current: bool
    entries: int


_ENTRIES: Final = TypeAdapter(EntriesIn)
_RETRACT: Final = TypeAdapter(RetractIn)


def _file_format(request: Request) -> str:
    given = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return "csv" if given in CSV_TYPES else "parquet"


async def _file_body(request: Request) -> tuple[bytes, str]:
    file_format = _file_format(request)
    types = CSV_TYPES if file_format == "csv" else PARQUET_TYPES
    return await read_body(request, FILE_BODY_BYTES, types), file_format


def _file_media(file_format: str) -> str:
    return "text/csv" if file_format == "csv" else PARQUET_TYPES[0]


def _file_doc(description: str) -> dict[str, Any]:
    extra: dict[str, Any] = dict(KEYED)
    extra["requestBody"] = {
        "required": True,
        "description": description,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            PARQUET_TYPES[0]: {"schema": {"type": "string", "format": "binary"}},
        },
    }
    return extra


def share_router(index: RiskIndex) -> APIRouter:
    """The sharing routes, bulk-matching over `index` (one per process)."""
    router = APIRouter(prefix=PREFIX, tags=[TAG])

    @router.post(
        "/entries",
        status_code=201,
        summary="Publish entries (JSON, up to 10,000, all or nothing)",
        response_model=PublishedOut,
        responses=problem_responses(401, 403, 413, 415, 422),
        openapi_extra=security_doc(EntriesIn.model_json_schema(), "The entries."),
    )
    async def post_entries(request: Request) -> PublishedOut:
        """Publish the member's entries: in force for every member at once. A bad entry
        refuses all (422 naming `entries[i]` and the field); 403 while the hub suspends the
        member's publishing."""
        actor = presented_key_actor(request)
        body = parse_json(await read_body(request, JSON_BODY_BYTES, JSON_TYPES), _ENTRIES)

        def locate(i: int) -> str:
            return f"entries[{i}]"

        def publish() -> Published:
            records = [entry.model_dump(mode="json") for entry in body.entries]
            entries = entries_of(records, locate)
            with _unit_of_work(request) as uow:
                return publish_entries(uow, actor, entries, locate=locate)

        return PublishedOut(**asdict(await run_in_threadpool(publish)))

    @router.post(
        "/entries/file",
        status_code=201,
        summary="Publish a CSV or Parquet file of entries (all or nothing)",
        response_model=PublishedOut,
        responses=problem_responses(401, 403, 413, 415, 422),
        openapi_extra=_file_doc(
            "Columns kind, key, category, evidence; optional bank, valid_from, valid_until, "
            "reference, note, replaces. At most 1,000,000 rows."
        ),
    )
    async def post_entries_file(request: Request) -> PublishedOut:
        """A bad row refuses the file, naming its line (CSV) or row (Parquet) and field."""
        actor = presented_key_actor(request)
        body, file_format = await _file_body(request)

        def publish() -> Published:
            file = read_file(
                body, file_format, ENTRY_COLUMNS, ENTRY_REQUIRED, max_rows=PUBLISH_MAX_ROWS
            )
            entries = entries_of(file.table.to_pylist(), file.locate)
            with _unit_of_work(request) as uow:
                return publish_entries(uow, actor, entries, locate=file.locate)

        return PublishedOut(**asdict(await run_in_threadpool(publish)))

    @router.get(
        "/entries/{entry_id}",
        summary="One entry, as the caller may see it",
        response_model=EntryOut,
        responses=problem_responses(401, 403, 404, 422),
        openapi_extra=KEYED,
    )
    def get_entry(entry_id: EntryId, actor: ApiActor, uow: UnitOfWorkDep) -> EntryOut:
        return EntryOut.of(read_entry(uow, actor, entry_id))

    @router.post(
        "/entries/{entry_id}/retract",
        status_code=204,
        summary="Retract an entry (the member: its own; the hub: any)",
        responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
        openapi_extra=security_doc(RetractIn.model_json_schema(), "Why."),
    )
    async def post_retract(entry_id: EntryId, request: Request, uow: UnitOfWorkDep) -> Response:
        """The control lifts at once. 403 for another member's entry; 409 if retracted."""
        actor = presented_key_actor(request)
        body = parse_json(await read_body(request, 4096, JSON_TYPES), _RETRACT)
        retract = retract_risk if actor.can(Permission.MANAGE_RISK_LIST) else retract_entry
        retract(uow, actor, entry_id, body.reason)
        return Response(status_code=204)

    @router.get(
        "/query",
        summary="The entries in force on one identifier",
        response_model=list[EntryOut],
        responses=problem_responses(401, 403, 422),
        openapi_extra=KEYED,
    )
    def get_query(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        kind: ListKind,
        key: Annotated[str, Query(min_length=1, max_length=128)],
        bank: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[EntryOut]:
        """An ID, credit code or phone by its shared hash; an account with its bank."""
        return [EntryOut.of(v) for v in query_identifier(uow, actor, kind, key, bank=bank)]

    @router.post(
        "/match",
        summary="Bulk-match a CSV or Parquet file of identifiers; a file of hits back",
        responses={
            200: {
                "description": "The hits, in the request's format: row, ref, kind, key, bank, "
                "entry, category, evidence, valid_from, valid_until, own.",
                "content": {"text/csv": {}, PARQUET_TYPES[0]: {}},
            },
            **problem_responses(401, 403, 413, 415, 422),
        },
        openapi_extra=_file_doc(
            "Columns kind, key; optional bank (accounts) and ref (your own label of the row, "
            "echoed back). At most 2,000,000 rows."
        ),
    )
    async def post_match(request: Request) -> Response:
        """A bad row refuses the file (422 naming line or row and field)."""
        actor = presented_key_actor(request)
        body, file_format = await _file_body(request)

        def match() -> bytes:
            file = read_file(
                body,
                file_format,
                IDENTIFIER_COLUMNS,
                IDENTIFIER_REQUIRED,
                max_rows=MATCH_MAX_ROWS,
            )
            with _unit_of_work(request) as uow:
                result = match_identifiers(uow, actor, index, file)
            return write_table(result.hits, file_format)

        answer = await run_in_threadpool(match)
        return Response(answer, media_type=_file_media(file_format))

    @router.get(
        "/feed",
        summary="New and retracted entries after a cursor",
        response_model=FeedOut,
        responses=problem_responses(401, 403, 422),
        openapi_extra=KEYED,
    )
    def get_feed(
        actor: ApiActor,
        uow: UnitOfWorkDep,
        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=FEED_PAGE)] = FEED_PAGE,
    ) -> FeedOut:
        """Poll with the cursor of the last answer; `more` says to ask again at once."""
        return FeedOut.of(risk_feed(uow, actor, after, limit))

    @router.get(
        "/events",
        summary="New and retracted entries as server-sent events",
        responses={200: {"content": {"text/event-stream": {}}}, **problem_responses(401, 403, 422)},
        openapi_extra=KEYED,
    )
    async def get_events(
        request: Request,
        actor: ApiActor,
        after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    ) -> StreamingResponse:
        """Each event's `id` is its cursor; reconnecting with `Last-Event-ID` resumes after
        it. The stream closes after five minutes (reconnect)."""
        return await feed_event_stream(request, actor, after, _event_json)

    @router.get(
        "/keys",
        summary="The sharing key versions: which is current, which accepted",
        response_model=list[KeyVersionOut],
        responses=problem_responses(401, 403),
        openapi_extra=KEYED,
    )
    def get_keys(actor: ApiActor, uow: UnitOfWorkDep) -> list[KeyVersionOut]:
        return [KeyVersionOut(**asdict(v)) for v in sharing_key_versions(uow, actor)]

    @router.get(
        "/rekey",
        summary="The member's entries under an older key version, to re-publish",
        response_model=list[EntryOut],
        responses=problem_responses(401, 403),
        openapi_extra=KEYED,
    )
    def get_rekey(actor: ApiActor, uow: UnitOfWorkDep) -> list[EntryOut]:
        return [EntryOut.of(v) for v in entries_to_rekey(uow, actor)]

    return router


def _unit_of_work(request: Request) -> UnitOfWork:
    """A unit of work of the request's store, for a route's work on a worker thread: reading
    and publishing a file of a million entries takes seconds, which on the event loop would
    hold up every other call, the engine's decisions among them."""
    config = access_config(request)
    return UnitOfWork(config.database, clock=config.clock, keyring=config.keyring)


def _event_json(event: FeedEvent) -> bytes:
    return orjson.dumps(EventOut.of(event).model_dump(mode="json"))


async def feed_event_stream(
    request: Request, actor: Actor, after: int | None, data: Callable[[FeedEvent], bytes]
) -> StreamingResponse:
    """The feed for `actor` as server-sent events from cursor `after` (else the request's
    `Last-Event-ID`, else the start), each event's data written by `data`: the API's JSON,
    the console's table row. The first read runs before the answer starts, so a refusal is
    an error answer, not a broken stream."""
    last = request.headers.get("last-event-id", "")
    start = after if after is not None else int(last) if last.isdigit() else 0
    config = access_config(request)

    def read(cursor: int) -> Feed:
        with UnitOfWork(config.database, clock=config.clock) as uow:
            return risk_feed(uow, actor, cursor)

    first = await run_in_threadpool(read, start)
    lifetime = getattr(request.app.state, "share_event_seconds", EVENT_STREAM_SECONDS)
    return StreamingResponse(
        _stream(request, first, read, lifetime, data), media_type="text/event-stream"
    )


async def _stream(
    request: Request,
    first: Feed,
    read: Callable[[int], Feed],
    lifetime: float,
    data: Callable[[FeedEvent], bytes],
) -> AsyncIterator[bytes]:
    """The feed as server-sent events from `first` on, polled every EVENT_POLL_SECONDS,
    until the client leaves or `lifetime` seconds pass."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + lifetime
    feed = first
    while True:
        for event in feed.events:
            head = f"id: {event.cursor}\nevent: {event.event.value}\n".encode()
            lines = b"".join(b"data: " + line + b"\n" for line in data(event).split(b"\n"))
            yield head + lines + b"\n"
        if loop.time() >= ends or await request.is_disconnected():
            return
        if not feed.more:
            yield b": waiting\n\n"
            await asyncio.sleep(min(EVENT_POLL_SECONDS, max(0.0, ends - loop.time())))
        feed = await run_in_threadpool(read, feed.cursor)
