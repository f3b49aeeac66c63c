"""Every error of the API in one JSON shape, made by one set of handlers.

    {"code": "not_found", "message": "no fact 'f9'", "details": [{"field": "path.fact_id",
     "message": "..."}]}

`code` is stable per kind (below), `message` is for people, `details` lists the fields
concerned (`body[3].data.level`, `query.period`, a rule file position), possibly empty.
No response carries a stack trace: an unexpected error is logged and answered as `internal`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import exactjson
from app.errors import (
    AppError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ReplayMismatch,
    Unauthorized,
)
from app.services.recording import problem_details
from dsl.facts.records import InputError
from dsl.syntax.errors import Diagnostic, DslError, RuleRuntimeError, RulesetInvalid

log = logging.getLogger("jixiao.api")

STATUS: list[tuple[type[AppError], int, str]] = [
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (ReplayMismatch, 409, "conflict"),
    (Invalid, 422, "invalid"),
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
]
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The one error shape."""
    body = {"code": code, "message": message, "details": [dict(d) for d in details]}
    return Response(
        exactjson.dumps(body).encode(),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def field_path(loc: Sequence[str | int]) -> str:
    """`("body", 3, "data")` → `body[3].data`; `("query", "period")` → `query.period`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def diagnostic_details(diags: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    """Details of rule diagnostics: `path:line:column` as the field, the rest as JSON."""
    return [
        {
            "field": f"{d.span.path}:{d.span.line}:{d.span.column}",
            "message": d.message,
            **d.as_json(),
        }
        for d in diags
    ]


def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    status, code = 400, "bad_request"
    for cls, st, cd in STATUS:
        if isinstance(exc, cls):
            status, code = st, cd
            break
    details: Sequence[Mapping[str, Any]] = list(exc.details)
    if not details and isinstance(exc, Invalid):
        details = problem_details(exc.problems)
    message = str(exc).split("\n", 1)[0].rstrip(":")
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, code, message, details, headers)


def _dsl_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RulesetInvalid):
        details = diagnostic_details(exc.diagnostics)
        return error_response(422, "ruleset_invalid", str(exc), details)
    if isinstance(exc, InputError):
        message, details = str(exc).split("\n", 1)[0], problem_details(exc.problems)
        if request.method in ("GET", "HEAD"):
            # A read whose records on file (the organisation, the facts) do not fit the rules:
            # nothing in the request is wrong, the records conflict with the ruleset.
            return error_response(409, "records_invalid", message, details)
        return error_response(422, "invalid", message, details)
    if isinstance(exc, RuleRuntimeError):
        log.error("rule failed: %s", exc)
        return error_response(500, "rule_error", str(exc))
    return error_response(422, "invalid", str(exc))


def json_error_detail(message: str, doc: str, pos: int) -> dict[str, Any]:
    """The detail of malformed JSON: where it is, as line and column (1-based)."""
    line = doc.count("\n", 0, pos) + 1
    column = pos - (doc.rfind("\n", 0, pos) + 1) + 1
    return {
        "field": "body",
        "message": f"malformed JSON at line {line}, column {column}: {message}",
        "line": line,
        "column": column,
    }


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    for e in errors:
        if e.get("type") == "json_invalid":
            doc = exc.body if isinstance(exc.body, str) else ""
            pos = e["loc"][1] if len(e.get("loc", ())) > 1 else 0
            message = str((e.get("ctx") or {}).get("error") or e.get("msg", ""))
            detail = json_error_detail(message, doc, pos if isinstance(pos, int) else 0)
            return error_response(422, "invalid", detail["message"], [detail])
        if tuple(e.get("loc", ())) == ("body",) and isinstance(e.get("input"), bytes):
            media = _media_type(request) or "no media type"
            message = f"the body must be JSON (Content-Type: application/json), not {media}"
            return error_response(
                415, "unsupported_media_type", message, [{"field": "body", "message": message}]
            )
    details = [{"field": field_path(e.get("loc", ())), "message": _message(e)} for e in errors]
    fields = ", ".join(d["field"] for d in details[:5])
    return error_response(422, "invalid", f"invalid request: {fields}", details)


def _message(error: Mapping[str, Any]) -> str:
    """pydantic's message, said for this API where pydantic's words mislead."""
    if error.get("type") == "missing" and error.get("loc", ())[:1] == ("body",):
        return "a value is required" if len(error["loc"]) > 1 else "a JSON body is required"
    return str(error.get("msg", ""))


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    message = str(exc.detail) if exc.detail else code.replace("_", " ")
    headers = dict(exc.headers or {})
    details: list[dict[str, Any]] = []
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed here; allowed: {', '.join(allowed)}"
    elif exc.status_code in (413, 415):
        details = [{"field": "body", "message": message}]
    return error_response(exc.status_code, code, message, details, headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method the application answers on this path (sorted): those its OpenAPI document
    gives the path (GET with HEAD), and those of the plain routes (the web pages)."""
    methods: set[str] = set()
    paths = request.app.openapi().get("paths", {})
    matching = [t for t in paths if compile_path(t)[0].match(request.url.path)]
    # A path that is a template itself (/v1/rulesets/check) is that resource alone, not also
    # a value of a parameter of another (/v1/rulesets/{ruleset}).
    exact = [t for t in matching if t == request.url.path]
    for template in exact or matching:
        methods |= {m.upper() for m in paths[template]}
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class CatchAll:
    """ASGI middleware: an unexpected exception is logged and answered as `internal` (500).

    Starlette's own last-resort handler answers and then raises again; this one does not, so
    no trace leaves the process and test clients see the response a client would.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(500, "internal", "internal error; the server log has it")
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Registers the handlers on an application."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(DslError, _dsl_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_middleware(CatchAll)
