"""The console's search forms and alert work form, read into what the use cases take."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwall.cases import AlertChange, AlertStatus, Disposition
from fundwall.domain.errors import InvalidInput
from fundwall.web.filters import alert_change, alert_filter, audit_filter, tx_filter
from fundwall.web.params import Params


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["from", "to", "min", "max", "page", "action", "account"]),
        st.text(max_size=40),
    )
)
def test_any_query_string_reads_as_filters_or_named_problems(raw: dict[str, str]) -> None:
    params = Params(raw)
    wanted = tx_filter(params)
    assert wanted.page >= 1
    assert all(problem.english() for problem in params.problems)
    named = {problem.param for problem in params.problems}
    assert named <= set(raw)


def test_the_alert_and_audit_searches_read_their_fields() -> None:
    params = Params({"status": "closed", "assignee": "me", "page": "2", "action": "nope"})
    alerts = alert_filter(params)
    assert (alerts.status, alerts.assignee.value, alerts.action, alerts.page) == (
        AlertStatus.CLOSED,
        "me",
        None,
        2,
    )
    assert [problem.param for problem in params.problems] == ["action"]
    audit = audit_filter(Params({"actor": "user:ann", "subject": "x" * 300}))
    assert (audit.actor, audit.subject) == ("user:ann", None)


def test_the_form_of_an_alert_change_is_read_strictly() -> None:
    read = alert_change(
        {"assignee": " ann ", "status": "closed", "disposition": "false_positive", "note": " ok "}
    )
    assert read == AlertChange("ann", AlertStatus.CLOSED, Disposition.FALSE_POSITIVE, "ok")
    with pytest.raises(InvalidInput, match="one of new, in_progress, closed"):
        alert_change({"status": "done"})
    with pytest.raises(InvalidInput, match="choose a status"):
        alert_change({})
