"""Learned models (模型库): every registered model per target with its state, held-out
figures and who changed it when; models side by side; one model's card in words; and the
hub supervisor's form that moves a model between states."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import ConsoleActor, SessionDep, UnitOfWorkDep
from fundwall.auth.roles import Permission
from fundwall.domain.errors import Conflict, InvalidInput
from fundwall.engine.model_registry import ModelState
from fundwall.engine.models.artifact import Target
from fundwall.models.registry import get_model, list_models, model_history, set_state
from fundwall.models.views import MAX_COMPARED, compare_models, feature_words
from fundwall.web.formatting import when
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.i18n import N_
from fundwall.web.params import Params
from fundwall.web.render import page

router = APIRouter(include_in_schema=False)

PERIODS: Final = {"holdout": N_("Held-out period"), "training": N_("Training period")}
"""Words for the parts of a card's figures (a part without words shows its name)."""


def trained(text: str) -> str:
    """A card's training time in Beijing time, where it is an ISO 8601 time with its
    offset; otherwise as the card writes it."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return when(moment, seconds=False) if moment.tzinfo is not None else text


def card_figure(value: object) -> str:
    """A card's figure: a share to four places, a count with separators, text as it is."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


@router.get("/models")
def models_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    records = list_models(uow, actor)
    return page(
        request,
        "models.html",
        {
            "by_target": {t: [r for r in records if r.target is t] for t in Target},
            "count": len(records),
            "max_compared": MAX_COMPARED,
            "trained": trained,
            "figure": card_figure,
        },
        session=session,
    )


@router.get("/models/compare")
def compare_page(
    request: Request, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    """The models chosen on the list (`?version=…&version=…`) side by side."""
    comparison = compare_models(uow, actor, request.query_params.getlist("version"))
    meanings = {
        words.name: words
        for compared in comparison.models
        for words in feature_words(compared.record.card)
    }
    return page(
        request,
        "model_compare.html",
        {
            "comparison": comparison,
            "meanings": meanings,
            "trained": trained,
            "figure": card_figure,
        },
        session=session,
    )


@router.get("/models/{version}")
def model_page(
    request: Request, version: str, actor: ConsoleActor, session: SessionDep, uow: UnitOfWorkDep
) -> Response:
    return _model(request, version, actor, session, uow, {}, "")


def _model(
    request: Request,
    version: str,
    actor: ConsoleActor,
    session: SessionDep,
    uow: UnitOfWorkDep,
    values: dict[str, str],
    error: str,
    status_code: int = HTTPStatus.OK,
) -> Response:
    record, model = get_model(uow, actor, version)
    others = [r.version for r in list_models(uow, actor, record.target) if r.version != version]
    states = (
        [ModelState.RETIRED]
        if record.state is ModelState.CHAMPION
        else [state for state in ModelState if state is not record.state]
    )
    return page(
        request,
        "model.html",
        {
            "record": record,
            "card": model.card,
            "features": feature_words(model.card),
            "history": model_history(uow, actor, version),
            "others": others,
            "states": states,
            "periods": PERIODS,
            "may_promote": actor.can(Permission.PROMOTE_MODELS),
            "values": values,
            "error": error,
            "trained": trained,
            "figure": card_figure,
        },
        session=session,
        status_code=status_code,
    )


@router.post("/models/{version}/promote", dependencies=[Depends(csrf_protected)])
def promote_page(
    request: Request,
    version: str,
    actor: ConsoleActor,
    session: SessionDep,
    form: FormDep,
    uow: UnitOfWorkDep,
) -> Response:
    """Move a model to the state chosen (audited, with the reason given); a refusal comes
    back on the model's page with its reason."""
    actor.require(Permission.PROMOTE_MODELS)
    params = Params(form)
    state = params.choice("state", ModelState)
    try:
        if params.problems:
            raise params.problems[0].error()
        if state is None:
            raise InvalidInput("choose the state to move the model to", "state")
        set_state(uow, actor, version, state, form.get("reason", ""))
    except (InvalidInput, Conflict) as refused:
        uow.rollback()
        values = {name: value for name, value in form.items() if name != "csrf_token"}
        return _model(
            request, version, actor, session, uow, values, refused.message(),
            HTTPStatus.UNPROCESSABLE_ENTITY,
        )  # fmt: skip
    return RedirectResponse(f"/models/{quote(version)}", status_code=HTTPStatus.SEE_OTHER)
