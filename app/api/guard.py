"""ASGI middleware in front of every route: the demo's mark, authentication before any body is
read, and the limit on a body's size.

- In demo mode every answer carries `X-Jixiao-Mode: demo` (pages, API, errors alike).
- A request to the API that carries a body (POST, PUT, PATCH) is authenticated from its
  headers before a byte of the body is read: no token, or a bad one, is answered 401 at once
  (a 100 MB body from a stranger costs nothing). The principal found is kept for the route.
- A body longer than the limit (`JIXIAO_MAX_BODY_BYTES`, default 64 MiB) is answered 413:
  at once when `Content-Length` says so, else when the bytes read pass it.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response
from app.services import tokens
from app.services.context import Services

DEMO_HEADER = (b"x-jixiao-mode", b"demo")
# API paths answered without a token.
PUBLIC = frozenset({"/v1/health", "/v1/version"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
PRINCIPAL = "jixiao.principal"  # the scope key of an authenticated caller


class BodyTooLarge(HTTPException):
    """The body read so far is longer than the limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    """The message of a 413."""
    return f"the body is larger than the limit of {limit} bytes"


class Guard:
    """See the module's docstring."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.services.settings
        if settings.demo:
            send = _marked(send)
        headers = Headers(scope=scope)
        path: str = scope["path"]
        api = path.startswith("/v1/") and path not in PUBLIC
        if scope["method"] in WITH_BODY and api and not settings.demo:
            who = await run_in_threadpool(self._authenticate, headers)
            if isinstance(who, str):
                challenge = {"WWW-Authenticate": "Bearer"}
                await error_response(401, "unauthorized", who, (), challenge)(scope, receive, send)
                return
            scope[PRINCIPAL] = who
        limit = settings.max_body_bytes
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            message = too_large(limit)
            answer = error_response(
                413, "too_large", message, ({"field": "body", "message": message},)
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, _counted(receive, limit), send)

    def _authenticate(self, headers: Headers) -> tokens.Principal | str:
        scheme, _, secret = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return "a bearer token is needed (Authorization: Bearer jx_...)"
        got = tokens.authenticate(self.services.engine, secret.strip())
        return got if got is not None else "the bearer token is not valid or was revoked"


def _marked(send: Send) -> Send:
    async def mark(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), DEMO_HEADER]
        await send(message)

    return mark


def _counted(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def count() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return count
