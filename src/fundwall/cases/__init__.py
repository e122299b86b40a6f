"""Alert and case work (预警与案件处置): the queue of a member's alerts, and taking, closing
and annotating them; alerts grouped into cases, worked in the member's case queue with notes
and evidence until closed with an outcome; the outcomes exported as labels. Every public
function of `fundwall.cases.alerts`, `.casework`, `.grouping`, `.evidence` and `.labels` is a
use case."""

from typing import TYPE_CHECKING

from fundwall.exports import lazy_exports

if TYPE_CHECKING:
    from fundwall.cases.alerts import (
        alert_counts,
        alert_queue,
        colleagues,
        get_alert,
        work_alert,
    )
    from fundwall.cases.casework import (
        add_note,
        case_colleagues,
        case_counts,
        case_queue,
        close_case,
        get_case,
        merge_cases,
        open_case,
        split_case,
        update_case,
    )
    from fundwall.cases.evidence import add_evidence, evidence_file
    from fundwall.cases.grouping import group_alerts
    from fundwall.cases.labels import LABEL_SCHEMA, export_labels
    from fundwall.cases.model import (
        GROUPINGS,
        AlertChange,
        AlertFilter,
        AlertItem,
        AlertStatus,
        AssigneeFilter,
        CaseChange,
        CaseFilter,
        CaseItem,
        CaseKind,
        CaseStatus,
        CaseView,
        Disposition,
        EvidenceItem,
        NoteItem,
        Outcome,
        Priority,
    )

__getattr__ = lazy_exports(
    __name__,
    {
        "alerts": (
            "alert_counts",
            "alert_queue",
            "colleagues",
            "get_alert",
            "work_alert",
        ),
        "casework": (
            "add_note",
            "case_colleagues",
            "case_counts",
            "case_queue",
            "close_case",
            "get_case",
            "merge_cases",
            "open_case",
            "split_case",
            "update_case",
        ),
        "evidence": (
            "add_evidence",
            "evidence_file",
        ),
        "grouping": ("group_alerts",),
        "labels": (
            "LABEL_SCHEMA",
            "export_labels",
        ),
        "model": (
            "GROUPINGS",
            "AlertChange",
            "AlertFilter",
            "AlertItem",
            "AlertStatus",
            "AssigneeFilter",
            "CaseChange",
            "CaseFilter",
            "CaseItem",
            "CaseKind",
            "CaseStatus",
            "CaseView",
            "Disposition",
            "EvidenceItem",
            "NoteItem",
            "Outcome",
            "Priority",
        ),
    },
)

__all__ = [
    "GROUPINGS",
    "LABEL_SCHEMA",
    "AlertChange",
    "AlertFilter",
    "AlertItem",
    "AlertStatus",
    "AssigneeFilter",
    "CaseChange",
    "CaseFilter",
    "CaseItem",
    "CaseKind",
    "CaseStatus",
    "CaseView",
    "Disposition",
    "EvidenceItem",
    "NoteItem",
    "Outcome",
    "Priority",
    "add_evidence",
    "add_note",
    "alert_counts",
    "alert_queue",
    "case_colleagues",
    "case_counts",
    "case_queue",
    "close_case",
    "colleagues",
    "evidence_file",
    "export_labels",
    "get_alert",
    "get_case",
    "group_alerts",
    "merge_cases",
    "open_case",
    "split_case",
    "update_case",
    "work_alert",
]
