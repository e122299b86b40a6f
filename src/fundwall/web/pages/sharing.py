"""The risk-information sharing hub (风险信息共享) on the console: the list as the actor may see
it, an entry's page with its history and retraction, publishing one entry, querying one
identifier, bulk-matching a file, the live feed, and the hub's page (counts, key versions,
members' publishing).

What each party sees of an entry is the use cases' (`EntryView`: another member's entries
without reporter, reference or note). The pages also show another member's account numbers
masked, as the console shows every other member's customer: a member reads a number whole
in its own query and match results, and its systems in the feed (`/v1/share`). The live
feed is the API's event stream (`feed_event_stream`) with each event written as the table
row the page shows, which static/app.js puts at the top of the table.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import replace
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from starlette.responses import RedirectResponse, Response

from fundwall.api.sharing import FILE_BODY_BYTES, feed_event_stream
from fundwall.auth.actor import Actor
from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.auth.sessions import ActiveSession
from fundwall.domain.errors import Conflict, FundwallError, InvalidInput, PermissionDenied
from fundwall.engine.controls.model import ListKind, RiskCategory
from fundwall.ingest.errors import InvalidRecords
from fundwall.sharing.files import (
    IDENTIFIER_COLUMNS,
    IDENTIFIER_REQUIRED,
    format_of,
    read_file,
    write_table,
)
from fundwall.sharing.keys import sharing_key_versions
from fundwall.sharing.listing import (
    entry_history,
    latest_risk_events,
    publishing_members,
    risk_entries,
)
from fundwall.sharing.matching import match_identifiers
from fundwall.sharing.model import (
    MATCH_MAX_ROWS,
    EntryFilter,
    EntryHistory,
    EntryStatus,
    FeedEvent,
    ListCount,
    NewEntry,
)
from fundwall.sharing.risk_list import (
    entry_of,
    publish_entries,
    query_identifier,
    resume_publishing,
    retract_entry,
    retract_risk,
    risk_list_counts,
    suspend_publishing,
)
from fundwall.store.uow import UnitOfWork
from fundwall.web.forms import FilesDep, FormDep, csrf_protected, takes_upload_of
from fundwall.web.params import Params
from fundwall.web.render import page, rendered
from fundwall.web.state import ConsoleDep

router = APIRouter(include_in_schema=False)
CSRF = [Depends(csrf_protected)]
EntryId = Annotated[int, PathParam(ge=1, le=2**62)]
ENTRY_FIELDS: Final = ("kind", "key", "bank", "category", "evidence", "reference", "note")
FEED_SHOWN: Final = 50
"""Events the feed page opens with; as many are kept while new ones come in."""
SHOWN_HITS: Final = 500
"""Hits a match shows on its page; the file holds them all."""
ATTACHED_BYTES: Final = 2 * 1024 * 1024
"""A hits file up to this size comes with the page (a data: link); a larger one is asked
for as a download."""
FILE_MEDIA: Final = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}

Problems = list[tuple[str | None, str | None, str]]
"""Why an input was refused: (record, field, reason) each, as share_macros.html shows them."""


def problems_of(error: FundwallError) -> Problems:
    """Each located error of `error` (several for a file with bad rows)."""
    if isinstance(error, InvalidRecords):
        return [(e.record, e.field, e.reason) for e in error.errors]
    if isinstance(error, InvalidInput):
        return [(error.record, error.field, error.reason)]
    return [(None, None, error.message())]


def _status(error: FundwallError) -> HTTPStatus:
    if isinstance(error, Conflict):
        return HTTPStatus.CONFLICT
    if isinstance(error, PermissionDenied):
        return HTTPStatus.FORBIDDEN
    return HTTPStatus.UNPROCESSABLE_ENTITY


@router.get("/share")
def list_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """The list, newest first. A member may narrow it to its own entries; the hub to one
    reporting member's."""
    params = Params(request.query_params)
    if actor.member is not None:
        reporter = actor.member if request.query_params.get("own") == "on" else None
    else:
        reporter = params.text("member")
    wanted = EntryFilter(
        params.choice("kind", ListKind),
        params.choice("category", RiskCategory),
        params.choice("status", EntryStatus),
        reporter,
        params.page(),
    )
    return page(
        request,
        "share_list.html",
        {
            "results": risk_entries(uow, actor, wanted),
            "problems": params.problems,
            "form": request.query_params,
        },
        session=session,
    )


def new_entry(form: Mapping[str, str]) -> NewEntry:
    """The publish form's entry; InvalidInput naming the first bad field. Its validity is
    typed in Beijing time (a date, or a date and time); an end date alone means the end of
    that day."""
    params = Params(form)
    valid_from = params.moment("valid_from")
    valid_until = params.moment("valid_until", end_of_day=True)
    if params.problems:
        raise params.problems[0].error()
    typed = {name: form.get(name) for name in ENTRY_FIELDS}
    return entry_of({**typed, "valid_from": valid_from, "valid_until": valid_until})


def _publish_page(
    request: Request,
    session: ActiveSession,
    uow: UnitOfWork,
    typed: Mapping[str, str],
    problems: Problems,
    status_code: int = HTTPStatus.OK,
) -> Response:
    versions = sharing_key_versions(uow, session.actor)
    return page(
        request,
        "share_publish.html",
        {
            "values": {name: value for name, value in typed.items() if name != "csrf_token"},
            "problems": problems,
            "key_version": next((v.version for v in versions if v.current), None),
        },
        session=session,
        status_code=status_code,
    )


@router.get("/share/new")
def publish_form(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    actor.require(Permission.PUBLISH_RISK)
    return _publish_page(request, session, uow, request.query_params, [])


@router.post("/share", dependencies=CSRF)
def publish(
    request: Request, actor: ConsoleActor, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    """Publish the form's entry and show it; a refusal (a bad field, or the member's
    publishing suspended by the hub) comes back as the form with the reason."""
    actor.require(Permission.PUBLISH_RISK)
    try:
        published = publish_entries(uow, actor, [new_entry(form)], locate=lambda _: "")
    except (InvalidInput, PermissionDenied) as refused:
        uow.rollback()
        return _publish_page(
            request, session, uow, form, problems_of(refused), status_code=_status(refused)
        )
    return RedirectResponse(f"/share/{published.ids[0]}", status_code=HTTPStatus.SEE_OTHER)


@router.get("/share/query")
def query_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """The form, and once an identifier is given the entries in force on it (audited)."""
    actor.require(Permission.QUERY_RISK_LIST)
    form = request.query_params
    found = None
    problems: Problems = []
    status = HTTPStatus.OK
    if form.get("key", "").strip():
        params = Params(form)
        kind = params.choice("kind", ListKind)
        key = params.text("key", 128) or ""
        bank = params.text("bank")
        try:
            if params.problems:
                raise params.problems[0].error()
            if kind is None:
                raise InvalidInput("choose the kind of identifier", "kind")
            found = query_identifier(uow, actor, kind, key, bank=bank)
        except InvalidInput as refused:
            problems, status = problems_of(refused), HTTPStatus.UNPROCESSABLE_ENTITY
    return page(
        request,
        "share_query.html",
        {"form": form, "found": found, "problems": problems},
        session=session,
        status_code=status,
    )


def _match_page(
    request: Request, session: ActiveSession, status_code: int = HTTPStatus.OK, **context: Any
) -> Response:
    limits = {"max_rows": MATCH_MAX_ROWS, "max_megabytes": FILE_BODY_BYTES // (1024 * 1024)}
    shown = {"problems": [], "hits": None, **limits, **context}
    return page(request, "share_match.html", shown, session=session, status_code=status_code)


@router.get("/share/match")
def match_form(request: Request, actor: ConsoleActor, session: SessionDep) -> Response:
    actor.require(Permission.QUERY_RISK_LIST)
    return _match_page(request, session)


@router.post("/share/match", dependencies=[Depends(takes_upload_of(FILE_BODY_BYTES)), *CSRF])
def match(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    files: FilesDep,
    uow: UnitOfWorkDep,
    config: ConsoleDep,
) -> Response:
    """Match the uploaded file as the API does (`POST /v1/share/match`, the same limits):
    the hits on a page with the hits file attached, or the file alone; a bad file comes back
    as the form naming its rows and fields."""
    sent = files.get("file")
    try:
        if sent is None or not sent.content:
            raise InvalidInput("choose a CSV or Parquet file of identifiers", "file")
        try:
            file_format = format_of(Path(sent.filename))
        except InvalidInput as unnamed:
            raise replace(unnamed, field="file") from None
        table = read_file(
            sent.content,
            file_format,
            IDENTIFIER_COLUMNS,
            IDENTIFIER_REQUIRED,
            max_rows=MATCH_MAX_ROWS,
        )
        result = match_identifiers(uow, actor, config.risk_index, table)
    except InvalidInput as refused:
        uow.rollback()
        return _match_page(
            request, session, HTTPStatus.UNPROCESSABLE_ENTITY, problems=problems_of(refused)
        )
    answer = write_table(result.hits, file_format)
    name = f"hits-{Path(sent.filename).stem}.{file_format}"
    if form.get("answer") == "file":
        return Response(
            answer,
            media_type=FILE_MEDIA[file_format],
            headers={"Content-Disposition": f'attachment; filename="{_ascii(name)}"'},
        )
    attached = None
    if len(answer) <= ATTACHED_BYTES:
        encoded = base64.b64encode(answer).decode("ascii")
        attached = f"data:{FILE_MEDIA[file_format]};base64,{encoded}"
    return _match_page(
        request,
        session,
        hits=result.hits.slice(0, SHOWN_HITS).to_pylist(),
        total=result.hits.num_rows,
        identifiers=result.identifiers,
        locate=table.locate,
        download=attached,
        download_name=name,
    )


def _ascii(name: str) -> str:
    """A file name safe in a header: what is not a plain letter, digit, '.', '-' or '_'
    becomes '_' (the member named the file; its name is only a hint)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in ".-_") else "_" for c in name)


@router.get("/share/feed")
def feed_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """The latest changes, newest first; app.js adds new ones from /share/feed/events."""
    feed = latest_risk_events(uow, actor, FEED_SHOWN)
    return page(
        request,
        "share_feed.html",
        {"events": feed.events[::-1], "cursor": feed.cursor, "keep": FEED_SHOWN},
        session=session,
    )


@router.get("/share/feed/events")
async def feed_events(
    request: Request,
    actor: ConsoleActor,
    session: SessionDep,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Response:
    """The feed after cursor `after` as server-sent events, each event's data the page's
    table row for it (the feed page's live updates)."""

    def row(event: FeedEvent) -> bytes:
        return rendered(request, "share_feed_row.html", {"event": event}, session=session).encode()

    return await feed_event_stream(request, actor, after, row)


@router.get("/share/hub")
def hub_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    return _hub_page(request, session, uow, actor)


def _totals(counts: Iterable[ListCount], key: Callable[[ListCount], Hashable]) -> list[Any]:
    """(key, entries shared, entries in force) for each value of `key`, in first-seen order."""
    totals: dict[Hashable, list[int]] = {}
    for count in counts:
        line = totals.setdefault(key(count), [0, 0])
        line[0] += count.entries
        line[1] += count.active
    return [(value, shared, active) for value, (shared, active) in totals.items()]


def _hub_page(
    request: Request,
    session: ActiveSession,
    uow: UnitOfWork,
    actor: Actor,
    *,
    refused_member: str | None = None,
    problems: Problems | None = None,
    status_code: int = HTTPStatus.OK,
) -> Response:
    counts = risk_list_counts(uow, actor)  # newest month first, then member, then category
    per_category = {c: (n, a) for c, n, a in _totals(counts, lambda c: c.category)}
    members = publishing_members(uow, actor)
    return page(
        request,
        "share_hub.html",
        {
            "total": (sum(c.entries for c in counts), sum(c.active for c in counts)),
            "by_category": [(c, *per_category.get(c, (0, 0))) for c in RiskCategory],
            "by_member": sorted(_totals(counts, lambda c: c.member)),
            "by_month": _totals(counts, lambda c: c.month),
            "keys": sharing_key_versions(uow, actor),
            "members": members,
            "names": {m.member: (m.name_zh, m.name_en) for m in members},
            "refused_member": refused_member,
            "problems": problems or [],
        },
        session=session,
        status_code=status_code,
    )


def _change_publishing(
    change: Callable[[UnitOfWork, Actor, str, str], None],
    request: Request,
    member: str,
    session: ActiveSession,
    form: Mapping[str, str],
    uow: UnitOfWork,
) -> Response:
    """Suspend or resume the member's publishing; back to the hub's page, with the refusal
    (no reason given, suspended already) beside the member when there is one."""
    actor = session.actor
    try:
        change(uow, actor, member, form.get("reason", ""))
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        return _hub_page(
            request, session, uow, actor, refused_member=member,
            problems=problems_of(refused), status_code=_status(refused),
        )  # fmt: skip
    return RedirectResponse(f"/share/hub#member-{member}", status_code=HTTPStatus.SEE_OTHER)


@router.post("/share/hub/{member}/suspend", dependencies=CSRF)
def suspend(
    request: Request, member: str, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    return _change_publishing(suspend_publishing, request, member, session, form, uow)


@router.post("/share/hub/{member}/resume", dependencies=CSRF)
def resume(
    request: Request, member: str, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    return _change_publishing(resume_publishing, request, member, session, form, uow)


@router.get("/share/{entry_id}")
def entry_page(
    request: Request, entry_id: EntryId, actor: ConsoleActor, session: SessionDep,
    uow: UnitOfWorkDep,
) -> Response:  # fmt: skip
    return _entry_page(request, session, entry_history(uow, actor, entry_id))


def _entry_page(
    request: Request,
    session: ActiveSession,
    history: EntryHistory,
    problems: Problems | None = None,
    status_code: int = HTTPStatus.OK,
) -> Response:
    return page(
        request,
        "share_entry.html",
        {"history": history, "entry": history.entry, "problems": problems or []},
        session=session,
        status_code=status_code,
    )


def _retract(
    retract: Callable[[UnitOfWork, Actor, int, str], None],
    request: Request,
    entry_id: int,
    session: ActiveSession,
    form: Mapping[str, str],
    uow: UnitOfWork,
) -> Response:
    """Retract the entry, saying why; back to its page, with the refusal (no reason given,
    retracted already) when there is one."""
    actor = session.actor
    try:
        retract(uow, actor, entry_id, form.get("reason", ""))
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        history = entry_history(uow, actor, entry_id)
        return _entry_page(request, session, history, problems_of(refused), _status(refused))
    return RedirectResponse(f"/share/{entry_id}", status_code=HTTPStatus.SEE_OTHER)


@router.post("/share/{entry_id}/retract", dependencies=CSRF)
def retract(
    request: Request, entry_id: EntryId, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    """The reporter retracts one of its own entries; another member's is refused (403)."""
    return _retract(retract_entry, request, entry_id, session, form, uow)


@router.post("/share/{entry_id}/hub-retract", dependencies=CSRF)
def hub_retract(
    request: Request, entry_id: EntryId, session: SessionDep, form: FormDep, uow: UnitOfWorkDep
) -> Response:
    """The hub retracts any entry."""
    return _retract(retract_risk, request, entry_id, session, form, uow)
