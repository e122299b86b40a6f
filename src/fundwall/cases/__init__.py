"""Alert work (预警处置): the queue of a member's alerts, and taking, closing and annotating
them. Every public function of `fundwall.cases.alerts` is a use case."""

from fundwall.cases.alerts import (
    alert_counts,
    alert_queue,
    colleagues,
    get_alert,
    work_alert,
)
from fundwall.cases.model import (
    AlertChange,
    AlertFilter,
    AlertItem,
    AlertStatus,
    AssigneeFilter,
    Disposition,
)

__all__ = [
    "AlertChange",
    "AlertFilter",
    "AlertItem",
    "AlertStatus",
    "AssigneeFilter",
    "Disposition",
    "alert_counts",
    "alert_queue",
    "colleagues",
    "get_alert",
    "work_alert",
]
