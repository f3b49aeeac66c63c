"""What every page needs: the viewer (signed in, or the demo's admin), rendering, CSRF.

Pages are routes of class `WebRoute`: an `AppError` raised while answering becomes an HTML
error page with its status (a page that needs a sign-in redirects to it), never JSON.
Forms carry the value of the `jx_csrf` cookie (HttpOnly, SameSite=Strict) in a hidden field;
`checked_form` refuses a POST whose field does not match it, or that comes from another origin.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from app.errors import AppError, Forbidden, Invalid, Unauthorized
from app.services import tokens, trail, websessions
from app.services.context import Services
from app.services.stored import stored_after
from app.services.tokens import Principal
from app.web import labels

HERE = Path(__file__).parent
SESSION_COOKIE = "jx_session"
CSRF_COOKIE = "jx_csrf"
MAX_FORM = 64 * 1024


def get_services(request: Request) -> Services:
    """The application's services."""
    svc: Services = request.app.state.services
    return svc


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["labels"] = labels
templates.env.filters["band"] = labels.band
templates.env.filters["role"] = labels.role


class SignInNeeded(AppError):
    """The page needs a signed-in viewer and there is none."""


@dataclass(frozen=True)
class Viewer:
    """Who looks at a page: the principal, whether it is the demo, and the form token."""

    who: Principal
    demo: bool
    csrf: str

    def can(self, capability: str) -> bool:
        """True when the viewer's role grants the capability (as in the API)."""
        return self.who.can(capability)


def _csrf_of(request: Request) -> str:
    known = request.cookies.get(CSRF_COOKIE)
    if known and len(known) >= 32:
        return known
    fresh: str = getattr(request.state, "new_csrf", "") or secrets.token_urlsafe(32)
    request.state.new_csrf = fresh
    return fresh


def optional_viewer(request: Request) -> Viewer | None:
    """The viewer, or None when nobody is signed in."""
    svc: Services = get_services(request)
    csrf = _csrf_of(request)
    if svc.settings.demo:
        trail.acting_as(svc.settings.user, tokens.DEMO.role)
        return Viewer(tokens.DEMO, True, csrf)
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    who = websessions.principal(svc.engine, secret)
    if who is None:
        return None
    trail.acting_as(who.name, who.role)
    return Viewer(who, False, csrf)


def get_viewer(request: Request) -> Viewer:
    """The signed-in viewer; SignInNeeded otherwise."""
    got = optional_viewer(request)
    if got is None:
        raise SignInNeeded("请先登录")
    return got


def _needs(capability: str) -> Callable[[Request], Viewer]:
    def check(request: Request) -> Viewer:
        v = get_viewer(request)
        if not v.can(capability):
            raise Forbidden(f"当前角色（{labels.role(v.who.role)}）无权查看此页")
        return v

    return check


Anyone = Annotated[Viewer, Depends(get_viewer)]
ScoreViewer = Annotated[Viewer, Depends(_needs("scores"))]
AuditViewer = Annotated[Viewer, Depends(_needs("audit"))]
AdminViewer = Annotated[Viewer, Depends(_needs("admin"))]
Svc = Annotated[Services, Depends(get_services)]


def render(
    request: Request,
    viewer: Viewer | None,
    template: str,
    status: int = 200,
    **context: Any,
) -> Response:
    """The page `template` with the viewer, the form token and `context`."""
    csrf = viewer.csrf if viewer is not None else _csrf_of(request)
    response = templates.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "csrf": csrf, "path": request.url.path, **context},
        status_code=status,
    )
    return with_csrf_cookie(request, response)


def with_csrf_cookie(request: Request, response: Response) -> Response:
    """Sets the form-token cookie when this request made a new one."""
    fresh = getattr(request.state, "new_csrf", None)
    if fresh:
        response.set_cookie(
            CSRF_COOKIE, fresh, httponly=True, samesite="strict", secure=_https(request), path="/"
        )
    return response


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


async def checked_form(request: Request) -> dict[str, str]:
    """The POSTed form's fields (the first value of each), after the CSRF checks."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise Forbidden("表单来自其他站点，已拒绝")
    body = await request.body()
    if len(body) > MAX_FORM:
        raise Invalid("表单内容过长")
    try:
        fields = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as e:
        raise Invalid("表单无法读取") from e
    form = {k: v[0] for k, v in fields.items()}
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get("csrf", "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise Forbidden("表单已过期或来源不明（CSRF 校验未通过），请刷新页面后重试")
    return form


def sign_in_redirect(request: Request) -> Response:
    """To the sign-in page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


STATUS = {"NotFound": 404, "Conflict": 409, "Invalid": 422, "ReplayMismatch": 409}


def error_page(request: Request, err: Exception) -> Response:
    """The HTML page of an error raised while answering a page."""
    if isinstance(err, SignInNeeded | Unauthorized):
        return sign_in_redirect(request)
    if isinstance(err, RequestValidationError):
        status, message = (
            422,
            "请求参数有误："
            + "；".join(
                f"{'.'.join(str(x) for x in e.get('loc', ()))} {e.get('msg', '')}"
                for e in err.errors()
            ),
        )
    elif isinstance(err, Forbidden):
        status, message = 403, str(err)
    else:
        status, message = STATUS.get(type(err).__name__, 400), str(err)
    viewer = None
    try:
        viewer = optional_viewer(request)
    except AppError:
        viewer = None
    return render(request, viewer, "error.html", status, status_code=status, message=message)


class WebRoute(APIRoute):
    """A page: domain errors become HTML error pages. A page that only reads (GET) reads the
    scores in one look at the database (`ScoreCache.one_look`): one state shown throughout;
    the evaluations it made are stored for other processes once it is sent (`stored_after`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler, answering errors with pages."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                if request.method not in ("GET", "HEAD"):
                    return await handler(request)
                with get_services(request).cache.one_look():
                    return await stored_after(lambda: handler(request))
            except (AppError, RequestValidationError) as err:
                return error_page(request, err)

        return route
