"""The FastAPI application: /api/v1/finops/* with bearer tokens, JSON errors, a body limit, OpenAPI at /docs."""

import asyncio

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finops.api import errors
from finops.api.routes import costs, executions, groups, refresh

PREFIX = "/api/v1/finops"
MAX_BODY = 8 * 2**20  # 10,000 executions take about 3 MiB of JSON
MAX_IN_FLIGHT = 10  # below the store's 15 pooled connections (see InFlight)
DESCRIPTION = """Costs, executions and resource groups of FinOps, for scripts and the platform.

Every request needs `Authorization: Bearer <token>` (`python -m finops tokens add NAME --user USER`). A token acts
with its user's role as the store holds it now: cost endpoints are for admins; a member sees and changes only their
own resource groups. Responses carry the data version, the last day with data, the currency and whether the data is
stale (in `meta`, and as `X-Data-*` headers), and an ETag: send it back in `If-None-Match` to get 304 while nothing
changed. Lists also answer `?format=csv`. Errors are JSON: `{"status", "message", "errors"}`.
"""


class BodyLimit:
    """Refuse a request body over MAX_BODY with 422, declared (Content-Length) or streamed, before the app reads
    it; a body within the limit is read here and handed on whole."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            await _too_big(scope, receive, send)
            return
        messages: list[Message] = []
        size, more = 0, True
        while more:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            more = message["type"] == "http.request" and message.get("more_body", False)
            if size > MAX_BODY:
                await _too_big(scope, receive, send)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class InFlight:
    """At most MAX_IN_FLIGHT requests inside the app at once; the rest wait here, in the event loop.

    A request holds a store connection from its first query to its end, and the engine's pool has 15 (5 + 10
    overflow): with more requests inside than connections, a thread would wait for a connection while the requests
    holding them wait for a thread. Waiting here costs nothing and keeps the order of arrival.
    """

    def __init__(self, app: ASGIApp):
        self.app = app
        self.slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self.slots:
            await self.app(scope, receive, send)


async def _too_big(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(errors.body(422, f"body: larger than {MAX_BODY // 2**20} MiB"), status_code=422)
    await response(scope, receive, send)


def create_app() -> FastAPI:
    """A new application (uvicorn's factory: `python -m finops api`, and the tests)."""
    app = FastAPI(title="FinOps API", version="1", description=DESCRIPTION, docs_url="/docs", redoc_url=None)
    errors.install(app)
    for router in (costs.router, executions.router, refresh.router, groups.router):
        app.include_router(router, prefix=PREFIX)
    app.add_middleware(BodyLimit)
    app.add_middleware(InFlight)  # added last: the outermost, so a waiting request holds nothing
    return app
