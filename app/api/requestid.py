"""Request ids: every request gets an X-Request-ID (the client's when sane, else a new one),
returned in the response and bound to the audit trail's context for the request's writes."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services import trail

HEADER = b"x-request-id"


class RequestIds:
    """ASGI middleware: binds a `trail.Context` with the request id around the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Runs the request in its context and names the id in the response's headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((v for k, v in scope.get("headers", []) if k.lower() == HEADER), None)
        rid = trail.request_id(offered.decode("latin-1") if offered is not None else None)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*kept, (HEADER, rid.encode())]}
            await send(message)

        with trail.bind(trail.Context(request_id=rid)):
            await self.app(scope, receive, sending)
