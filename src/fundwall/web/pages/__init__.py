"""The console's pages, one module per area."""

from __future__ import annotations

from fastapi import APIRouter

from fundwall.web.pages import (
    accounts,
    alerts,
    appeals,
    audit,
    cases,
    clues,
    models,
    onboarding,
    orders,
    outreach,
    overview,
    packs,
    phones,
    reports,
    returns,
    screening,
    session,
    sharing,
    traces,
    transactions,
)


def console_routers() -> list[APIRouter]:
    return [
        session.router,
        overview.router,
        transactions.router,
        accounts.router,
        onboarding.router,
        screening.router,
        alerts.router,
        outreach.router,
        cases.router,
        orders.router,
        traces.router,
        clues.router,
        sharing.router,
        returns.router,
        appeals.router,
        phones.router,
        packs.router,
        models.router,
        reports.router,
        audit.router,
    ]
