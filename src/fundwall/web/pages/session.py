"""Signing in and out, and choosing the language.

The sign-in form carries its own CSRF token, paired with a short-lived cookie (a session
does not exist yet), so another site cannot sign a browser in under its own account.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from fundwall.auth.dependencies import (
    SESSION_COOKIE,
    AccessDep,
    MaybeSessionDep,
    UnitOfWorkDep,
    client_ip,
    cookie_secure,
)
from fundwall.auth.sessions import LoginFailed, sign_in, sign_out
from fundwall.auth.tokens import new_token, same
from fundwall.web.errors import safe_next
from fundwall.web.forms import FormDep, csrf_protected
from fundwall.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from fundwall.web.render import page
from fundwall.web.state import ConsoleConfig, ConsoleDep

LOGIN_CSRF_COOKIE: Final = "fundwall_login"
LOGIN_FORM_SECONDS: Final = 30 * 60
LANGUAGE_SECONDS: Final = 365 * 24 * 3600

router = APIRouter(include_in_schema=False)


def _login_page(
    request: Request,
    config: ConsoleConfig,
    next_path: str | None,
    *,
    error: str = "",
    username: str = "",
) -> Response:
    token = new_token()
    response = page(
        request,
        "login.html",
        {
            "login_token": token,
            "next": safe_next(next_path),
            "error": error,
            "username": username,
            "demo_notice": config.demo_notice,
        },
        status_code=HTTPStatus.UNAUTHORIZED if error else HTTPStatus.OK,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_FORM_SECONDS,
        httponly=True,
        secure=cookie_secure(request),
        samesite="strict",
    )
    return response


@router.get("/login")
def login_form(
    request: Request,
    session: MaybeSessionDep,
    config: ConsoleDep,
) -> Response:
    if session is not None:
        return RedirectResponse(
            safe_next(request.query_params.get("next")), status_code=HTTPStatus.SEE_OTHER
        )
    return _login_page(request, config, request.query_params.get("next"))


@router.post("/login")
def login(
    request: Request,
    form: FormDep,
    uow: UnitOfWorkDep,
    access: AccessDep,
    config: ConsoleDep,
) -> Response:
    username = form.get("username", "").strip()[:64]
    origin = request.headers.get("origin")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    presented = form.get("login_token", "")
    if (
        (origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}")
        or not expected
        or not same(expected, presented)
    ):
        return _login_page(request, config, form.get("next"), error="expired", username=username)
    try:
        signed = sign_in(
            uow,
            access.passwords,
            username,
            form.get("password", ""),
            ip=client_ip(request),
            policy=access.policy,
            addresses=access.addresses,
        )
    except LoginFailed:
        return _login_page(request, config, form.get("next"), error="wrong", username=username)
    response = RedirectResponse(safe_next(form.get("next")), status_code=HTTPStatus.SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        max_age=int(access.policy.lifetime.total_seconds()),
        httponly=True,
        secure=cookie_secure(request),
        samesite="lax",
    )
    response.delete_cookie(
        LOGIN_CSRF_COOKIE, secure=cookie_secure(request), httponly=True, samesite="strict"
    )
    return response


@router.post("/logout", dependencies=[Depends(csrf_protected)])
def logout(request: Request, uow: UnitOfWorkDep) -> Response:
    sign_out(uow, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=HTTPStatus.SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, secure=cookie_secure(request), httponly=True)
    return response


@router.get("/lang/{language}")
def choose_language(request: Request, language: str) -> Response:
    """Remember the language in a cookie and go back to the page the person was on."""
    response = RedirectResponse(
        safe_next(request.query_params.get("next")), status_code=HTTPStatus.SEE_OTHER
    )
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_SECONDS,
            httponly=True,
            secure=cookie_secure(request),
            samesite="lax",
        )
    return response
