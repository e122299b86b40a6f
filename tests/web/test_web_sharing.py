"""The sharing hub's console pages over the console tests' region, with the entries of
tests/web/share_records.py: who may open each page, what a member reads of another member's
entries (never its reporter, reference or note, and its accounts masked), publishing with
errors naming the field, retraction, query and bulk match, the live feed, the hub's page."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable

import httpx
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from fundwall.domain.identity import mask_account

from .conftest import Browser, Console, open_client
from .share_records import (
    FIRST_ACCOUNT,
    FIRST_NOTE,
    FIRST_REFERENCE,
    SECOND_DEVICE,
    SECOND_NOTE,
    SECOND_REFERENCE,
    SharedEntries,
    share_entries,
)

AsUser = Callable[[str], Browser]
NAV = re.compile(r'<nav class="main-nav">(.*?)</nav>', re.S)
DOWNLOAD = re.compile(r'href="data:text/csv;base64,([^"]+)"')


@pytest.fixture
def shared(console: Console) -> SharedEntries:
    console.app.state.share_event_seconds = 0  # the event stream answers what it has, and ends
    return share_entries(console)


def _post(client: Browser, path: str, data: dict[str, str]) -> httpx.Response:
    """A console form as the browser sends it, with the session's CSRF token."""
    answer: httpx.Response = client.post(path, data={"csrf_token": client.csrf, **data})
    return answer


def _entry_status(client: Browser, entry_id: int) -> str:
    found = re.search(r"<h1>.*?badge entry-(\w+)", client.get(f"/share/{entry_id}").text, re.S)
    assert found is not None
    return found.group(1)


def test_each_page_opens_for_its_actors_and_is_refused_to_the_others(
    console: Console, shared: SharedEntries, as_user: AsUser
) -> None:
    analyst, hub = as_user("analyst1"), as_user("supervisor")
    member_pages = ["/share", "/share/new", "/share/query", "/share/match", "/share/feed",
                    f"/share/{shared.second_device}", "/share/feed/events"]  # fmt: skip
    for path in member_pages:
        assert analyst.get(path).status_code == 200, path
    for path in ["/share", "/share/hub", "/share/query", "/share/match", "/share/feed",
                 f"/share/{shared.first_account}"]:  # fmt: skip
        assert hub.get(path).status_code == 200, path
    assert analyst.get("/share/hub").status_code == 403
    assert hub.get("/share/new").status_code == 403  # the hub keeps the list, members publish
    for username in ("police", "auditor"):
        other = as_user(username)
        for path in [*member_pages, "/share/hub"]:
            assert other.get(path).status_code == 403, (username, path)
    stranger = open_client(console.app)
    assert stranger.get("/share").headers["location"].startswith("/login?next=")
    assert stranger.get("/v1/share/events").status_code == 401


def test_the_navigation_shows_each_actor_the_sharing_pages_it_may_use(
    shared: SharedEntries, as_user: AsUser
) -> None:
    def links(username: str) -> set[str]:
        found = NAV.search(as_user(username).get("/share/query").text)
        return set(re.findall(r'href="(/share[^"]*)"', found.group(1))) if found else set()

    assert links("analyst1") == {"/share"}
    assert links("supervisor") == {"/share", "/share/hub"}
    hub_page = as_user("supervisor").get("/share/hub").text
    nav = NAV.search(hub_page)
    assert nav is not None and '<a href="/share/hub" aria-current="page">' in nav.group(1)
    assert '<a href="/share" aria-current' not in nav.group(1)
    police = as_user("police").get("/").text
    assert "/share" not in (NAV.search(police) or re.search("", "")).group(0)  # type: ignore[union-attr]


def test_a_member_never_reads_another_members_reporter_reference_or_note(
    console: Console, shared: SharedEntries, as_user: AsUser
) -> None:
    first, second = console.region.first_bank, console.region.second_bank
    analyst1, analyst2 = as_user("analyst1"), as_user("analyst2")
    upload = f"kind,key,ref\ndevice,{SECOND_DEVICE},C1\nid_hash,{shared.id_hash},C2\n"
    seen_by_first = {
        "list": analyst1.get("/share").text,
        "entry": analyst1.get(f"/share/{shared.second_device}").text,
        "feed": analyst1.get("/share/feed").text,
        "events": analyst1.get("/share/feed/events?after=0").text,
        "query": analyst1.get("/share/query", params={"kind": "device", "key": SECOND_DEVICE}).text,
        "match": analyst1.post(
            "/share/match",
            data={"csrf_token": analyst1.csrf},
            files={"file": ("customers.csv", upload.encode(), "text/csv")},
        ).text,
    }
    for where, text in seen_by_first.items():
        for secret in (SECOND_REFERENCE, SECOND_NOTE, f'<span class="mono">{second}</span>'):
            assert secret not in text, (where, secret)
        assert SECOND_DEVICE in text, where
    assert "system:test" not in seen_by_first["entry"]  # who published it: the hub's to know
    assert FIRST_REFERENCE in seen_by_first["list"] and FIRST_NOTE in seen_by_first["list"]
    assert FIRST_ACCOUNT in seen_by_first["list"]  # its own account, whole
    # The second bank reads its own entry whole, and the first's account masked.
    seen_by_second = analyst2.get("/share").text + analyst2.get("/share/feed/events").text
    assert SECOND_REFERENCE in seen_by_second and SECOND_NOTE in seen_by_second
    assert FIRST_ACCOUNT not in seen_by_second and mask_account(FIRST_ACCOUNT) in seen_by_second
    assert FIRST_REFERENCE not in seen_by_second and FIRST_NOTE not in seen_by_second
    own = analyst2.get(f"/share/{shared.second_device}").text
    assert SECOND_NOTE in own and "system:test" in own  # its own entry's history says who
    assert first not in re.findall(r'<span class="mono">(\w+)</span>', seen_by_second)


def test_every_form_of_the_sharing_pages_needs_the_csrf_token(
    console: Console, shared: SharedEntries, as_user: AsUser
) -> None:
    analyst, hub = as_user("analyst1"), as_user("supervisor")
    bank = console.region.second_bank
    entry = {
        "kind": "device",
        "key": "dev-forged",
        "category": "mule",
        "evidence": "member_verified",
    }
    forged = [
        (analyst, "/share", entry),
        (analyst, f"/share/{shared.first_account}/retract", {"reason": "forged"}),
        (hub, f"/share/{shared.second_device}/hub-retract", {"reason": "forged"}),
        (hub, f"/share/hub/{bank}/suspend", {"reason": "forged"}),
        (hub, f"/share/hub/{bank}/resume", {"reason": "forged"}),
    ]
    for client, path, data in forged:
        for token in ({}, {"csrf_token": "not-the-token"}):
            assert client.post(path, data={**data, **token}).status_code == 403, path
    upload = {"file": ("ids.csv", b"kind,key\ndevice,dev-b2-77\n", "text/csv")}
    assert analyst.post("/share/match", files=upload).status_code == 403
    assert analyst.post("/share/match", files=upload, data={"csrf_token": "x"}).status_code == 403
    assert _entry_status(analyst, shared.first_account) == "active"
    assert _entry_status(analyst, shared.second_device) == "active"
    assert "dev-forged" not in analyst.get("/share").text
    assert "entry-retracted" not in hub.get("/share/hub").text  # nobody suspended


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "id_hash", "key": "350203198001011237"}, "标识", "vN:"),
        ({"kind": "account", "key": "6222029999990025"}, "银行", "name its bank"),
        ({"kind": "device", "key": "dev-1", "bank": "B9"}, "银行", "only an account"),
        ({"kind": "device", "key": "dev 1"}, "标识", "device id"),
        ({"kind": "device", "key": "dev-1", "valid_until": "2024-03-01"}, "失效时间", "after"),
        (
            {
                "kind": "device",
                "key": "dev-1",
                "valid_from": "2024-02-01",
                "valid_until": "2024-03-01",
            },
            "失效时间",
            "expired already",
        ),
        ({"kind": "device", "key": "dev-1", "valid_from": "tomorrow"}, "生效时间", "2024-03-05"),
        ({"kind": "device", "key": "dev-1", "note": "call 13812345678"}, "备注", "phone"),
        ({"kind": "device", "key": "dev-1", "reference": "a b"}, "本机构内部编号", "letters"),
        ({"kind": "ship", "key": "dev-1"}, "类型", "one of"),
        ({"kind": "id_hash", "key": "v7:" + "ab" * 32}, "标识", "version 7"),
    ],
)
def test_a_bad_entry_comes_back_as_the_form_naming_the_field(
    shared: SharedEntries, as_user: AsUser, fields: dict[str, str], field: str, words: str
) -> None:
    analyst = as_user("analyst1")
    typed = {"category": "mule", "evidence": "member_verified", **fields}
    answer = _post(analyst, "/share", typed)
    assert answer.status_code == 422
    problems = re.search(r'<ul class="problems" role="alert">(.*?)</ul>', answer.text, re.S)
    assert problems is not None
    assert f"<strong>{field}</strong>" in problems.group(1) and words in problems.group(1)
    assert f'value="{fields["key"]}"' in answer.text
    assert 'aria-invalid="true"' in answer.text


def test_a_member_publishes_an_entry_and_reads_it_whole(
    shared: SharedEntries, as_user: AsUser
) -> None:
    analyst = as_user("analyst1")
    form = analyst.get("/share/new").text
    assert "fundwall share hash" in form and "当前共享密钥：第1版" in form
    typed = {
        "kind": "id_hash",
        "key": shared.id_hash[:-4] + "0000",
        "category": "at_risk_victim",
        "evidence": "member_suspected",
        "valid_until": "2024-06-30",
        "reference": "VICTIM-3",
        "note": "called twice",
    }
    published = _post(analyst, "/share", typed)
    assert published.status_code == 303
    location = published.headers["location"]
    page = analyst.get(location).text
    assert typed["key"] in page and "VICTIM-3" in page and "called twice" in page
    assert "2024-06-30 23:59" in page or "2024-07-01 00:00" in page  # the end of that day
    assert "潜在受害人" in page and "成员机构怀疑" in page


def test_a_member_retracts_its_own_entry_and_never_anothers(
    shared: SharedEntries, as_user: AsUser
) -> None:
    analyst1, analyst2 = as_user("analyst1"), as_user("analyst2")
    theirs = analyst2.get(f"/share/{shared.first_account}").text
    assert 'id="retract"' not in theirs
    refused = _post(analyst2, f"/share/{shared.first_account}/retract", {"reason": "not ours"})
    assert refused.status_code == 403
    assert (
        _post(
            analyst2, f"/share/{shared.first_account}/hub-retract", {"reason": "not ours"}
        ).status_code
        == 403
    )
    assert _entry_status(analyst1, shared.first_account) == "active"
    own = analyst1.get(f"/share/{shared.first_account}").text
    assert f'action="/share/{shared.first_account}/retract"' in own
    empty = _post(analyst1, f"/share/{shared.first_account}/retract", {"reason": "  "})
    assert empty.status_code == 422 and "<strong>理由</strong>" in empty.text
    done = _post(analyst1, f"/share/{shared.first_account}/retract", {"reason": "cleared"})
    assert done.status_code == 303
    page = analyst1.get(f"/share/{shared.first_account}").text
    assert "已撤销" in page and "cleared" in page and page.count("<li>") >= 2
    assert 'id="retract"' not in page
    again = _post(analyst1, f"/share/{shared.first_account}/retract", {"reason": "again"})
    assert again.status_code == 409
    assert "cleared" not in analyst2.get(f"/share/{shared.first_account}").text


def test_the_hub_retracts_any_entry(shared: SharedEntries, as_user: AsUser) -> None:
    hub = as_user("supervisor")
    page = hub.get(f"/share/{shared.second_device}").text
    assert f'action="/share/{shared.second_device}/hub-retract"' in page
    assert SECOND_REFERENCE in page and SECOND_NOTE in page  # the hub reads everything
    answer = _post(hub, f"/share/{shared.second_device}/hub-retract", {"reason": "wrong"})
    assert answer.status_code == 303
    assert _entry_status(hub, shared.second_device) == "retracted"
    assert (
        _post(
            hub, f"/share/{shared.first_account}/retract", {"reason": "members' door"}
        ).status_code
        == 403
    )


def test_the_list_filters_and_pages_as_asked(
    console: Console, shared: SharedEntries, as_user: AsUser
) -> None:
    analyst2 = as_user("analyst2")
    own = analyst2.get("/share", params={"own": "on"}).text
    assert f'href="/share/{shared.second_device}"' in own
    assert f'href="/share/{shared.first_account}"' not in own
    accounts = analyst2.get("/share", params={"kind": "account"}).text
    assert f'href="/share/{shared.first_account}"' in accounts
    assert f'href="/share/{shared.second_device}"' not in accounts
    none = analyst2.get("/share", params={"status": "retracted"}).text
    assert "名单中没有符合条件的条目" in none
    bad = analyst2.get("/share", params={"kind": "ship", "page": "0"})
    assert bad.status_code == 200 and "<strong>类型</strong>" in bad.text and "页码" in bad.text
    # A member's `member=` is not read: the list is not narrowed to another's entries.
    named = analyst2.get("/share", params={"member": console.region.first_bank}).text
    assert f'href="/share/{shared.second_device}"' in named
    hub = as_user("supervisor").get("/share", params={"member": console.region.first_bank}).text
    assert f'href="/share/{shared.first_account}"' in hub
    assert f'href="/share/{shared.second_device}"' not in hub


def test_a_query_finds_the_entries_in_force_and_a_bad_identifier_is_named(
    console: Console, shared: SharedEntries, as_user: AsUser
) -> None:
    analyst = as_user("analyst2")
    found = analyst.get("/share/query", params={"kind": "id_hash", "key": shared.id_hash})
    assert found.status_code == 200 and f'href="/share/{shared.first_id_hash}"' in found.text
    with console.uow() as uow:
        assert uow.audit.tail(1)[0].action == "query_risk"
    missing = analyst.get("/share/query", params={"kind": "device", "key": "dev-unknown"})
    assert 'id="query-none"' in missing.text
    for params, field in (
        ({"kind": "ip", "key": "10.0.0"}, "标识"),
        ({"kind": "id_hash", "key": "v1:abc"}, "标识"),
        ({"kind": "ship", "key": "x"}, "类型"),
    ):
        bad = analyst.get("/share/query", params=params)
        assert bad.status_code == 422 and f"<strong>{field}</strong>" in bad.text, params


def _match(client: Browser, name: str, content: bytes, answer: str = "page") -> httpx.Response:
    sent: httpx.Response = client.post(
        "/share/match",
        data={"csrf_token": client.csrf, "answer": answer},
        files={"file": (name, content, "application/octet-stream")},
    )
    return sent


def test_a_bulk_match_shows_the_hits_and_gives_the_hits_file(
    console: Console, shared: SharedEntries, as_user: AsUser
) -> None:
    analyst, hub = as_user("analyst2"), as_user("supervisor")
    rows = (f"kind,key,bank,ref\nid_hash,{shared.id_hash},,C-1\n"
            f"account,{FIRST_ACCOUNT},{console.region.first_bank},C-2\n"
            "account,6222020000000000,B9,C-3\n")  # fmt: skip
    answer = _match(analyst, "customers.csv", rows.encode())
    page = answer.text
    assert answer.status_code == 200
    assert "3个标识中命中2条" in page and "第2行" in page and "第3行" in page
    assert f'href="/share/{shared.first_id_hash}"' in page and "涉诈账户" in page
    assert FIRST_REFERENCE not in page and FIRST_NOTE not in page
    encoded = DOWNLOAD.search(page)
    assert encoded is not None and 'download="hits-customers.csv"' in page
    hits = pa_csv.read_csv(io.BytesIO(base64.b64decode(encoded.group(1))))
    assert hits.column("ref").to_pylist() == ["C-1", "C-2"]
    assert "reporting_member" not in hits.column_names
    with console.uow() as uow:
        assert uow.audit.tail(1)[0].details["hits"] == 2
    as_file = _match(analyst, "customers.csv", rows.encode(), answer="file")
    assert as_file.headers["content-type"].startswith("text/csv")
    assert 'filename="hits-customers.csv"' in as_file.headers["content-disposition"]
    assert pa_csv.read_csv(io.BytesIO(as_file.content)).num_rows == 2
    parquet = io.BytesIO()
    pq.write_table(pa.table({"kind": ["device"], "key": [SECOND_DEVICE]}), parquet)
    by_hub = _match(hub, "devices.parquet", parquet.getvalue()).text
    assert "1个标识中命中1条" in by_hub and console.region.second_bank in by_hub
    assert "data:application/vnd.apache.parquet;base64," in by_hub


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("ids.csv", b"kind,key\ndevice,dev-1\nship,dev-2\n", ["第3行", "<strong>kind</strong>"]),
        ("ids.csv", b"kind,key\nid_hash,v1:abc\n", ["第2行", "<strong>key</strong>", "vN:"]),
        ("ids.csv", b"kind,number\ndevice,dev-1\n", ["number"]),
        ("ids.txt", b"kind,key\ndevice,dev-1\n", ["<strong>文件</strong>", ".csv"]),
        ("ids.parquet", b"not parquet at all", ["<strong>文件</strong>", "Parquet"]),
        ("ids.csv", b"", ["<strong>文件</strong>"]),
    ],
)
def test_a_bad_file_is_refused_naming_its_row_and_field(
    shared: SharedEntries, as_user: AsUser, name: str, content: bytes, words: list[str]
) -> None:
    answer = _match(as_user("analyst1"), name, content)
    assert answer.status_code == 422
    problems = re.search(r'<ul class="problems" role="alert">(.*?)</ul>', answer.text, re.S)
    assert problems is not None
    for word in words:
        assert word in problems.group(1), (word, problems.group(1))


def test_a_match_without_a_file_is_refused(shared: SharedEntries, as_user: AsUser) -> None:
    analyst = as_user("analyst1")
    answer = _post(analyst, "/share/match", {"answer": "page"})
    assert answer.status_code == 422 and "<strong>文件</strong>" in answer.text
    cut = b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nkind'
    broken = analyst.post(
        "/share/match",
        content=cut,
        headers={"content-type": "multipart/form-data; boundary=B", "X-CSRF-Token": analyst.csrf},
    )
    assert broken.status_code == 400 and "multipart" in broken.text


def test_a_large_file_is_matched_whole(
    console: Console, shared: SharedEntries, as_user: AsUser
) -> None:
    """A file of 100,000 hashed identifiers (9 MB) goes through the upload form and the
    match in one piece: the hits are the rows that name listed identifiers."""
    lines = [f"id_hash,v1:{n:064x},R{n}" for n in range(100_000)]
    lines[77_777] = f"id_hash,{shared.id_hash},HIT"
    upload = ("kind,key,ref\n" + "\n".join(lines) + "\n").encode()
    page = _match(as_user("analyst2"), "customers.csv", upload).text
    assert "100,000个标识中命中1条" in page and "第77779行" in page and ">HIT<" in page


def test_the_feed_page_opens_on_the_latest_changes_and_follows_the_event_stream(
    console: Console, shared: SharedEntries, as_user: AsUser
) -> None:
    analyst = as_user("analyst1")
    page = analyst.get("/share/feed").text
    cursors = [int(c) for c in re.findall(r'data-cursor="(\d+)"', page)]
    assert cursors == sorted(cursors, reverse=True) and len(cursors) == 3  # newest first
    assert f'data-event-source="/share/feed/events?after={cursors[0]}"' in page
    stream = analyst.get("/share/feed/events", params={"after": cursors[1]})
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert re.findall(r"^id: (\d+)$", stream.text, re.M) == [str(cursors[0])]
    assert "event: published\ndata: <tr" in stream.text
    resumed = analyst.get("/share/feed/events", headers={"Last-Event-ID": str(cursors[2])})
    assert re.findall(r"^id: (\d+)$", resumed.text, re.M) == [str(c) for c in cursors[1::-1]]
    assert analyst.get("/share/feed/events", params={"after": -1}).status_code == 400
    # The same stream as the API's, read with the session: JSON, as the member may see it.
    api = analyst.get("/v1/share/events", params={"after": cursors[2]}).text
    events = [
        json.loads(line[len("data: ") :]) for line in api.splitlines() if line.startswith("data: ")
    ]
    assert [e["cursor"] for e in events] == cursors[1::-1]
    second = next(e["entry"] for e in events if e["entry"]["id"] == shared.second_device)
    assert (second["reference"], second["note"], second["reporting_member"]) == (None, None, None)


def test_the_hub_counts_the_list_and_suspends_a_members_publishing(
    console: Console, shared: SharedEntries, as_user: AsUser
) -> None:
    first = console.region.first_bank
    hub, analyst = as_user("supervisor"), as_user("analyst1")
    page = hub.get("/share/hub").text
    assert "已共享3条" in page and "生效中3条" in page
    by_member = re.search(r'id="by-member">(.*?)</section>', page, re.S)
    assert by_member is not None
    assert re.search(
        rf'<span class="bank">{first}</span></td><td class="num">2<', by_member.group(1)
    )
    assert "2024-03" in page and "v1" in page and "当前版本" in page
    assert f'action="/share/hub/{first}/suspend"' in page
    empty = _post(hub, f"/share/hub/{first}/suspend", {"reason": ""})
    assert empty.status_code == 422 and "<strong>理由</strong>" in empty.text
    suspended = _post(hub, f"/share/hub/{first}/suspend", {"reason": "too many errors"})
    assert suspended.status_code == 303
    page = hub.get("/share/hub").text
    assert "too many errors" in page and f'action="/share/hub/{first}/resume"' in page
    again = _post(hub, f"/share/hub/{first}/suspend", {"reason": "twice"})
    assert again.status_code == 409
    entry = {"kind": "device", "key": "dev-while-suspended", "category": "mule",
             "evidence": "member_verified"}  # fmt: skip
    refused = _post(analyst, "/share", entry)
    assert refused.status_code == 403 and "too many errors" in refused.text
    assert _post(hub, f"/share/hub/{first}/resume", {"reason": "reviewed"}).status_code == 303
    assert _post(analyst, "/share", entry).status_code == 303
    assert _post(analyst, f"/share/hub/{first}/suspend", {"reason": "me"}).status_code == 403
