"""Errors as JSON with a message naming the field: 401, 403, 404, 422 (and every other status the app gives).

The refusals of the `finops` functions map to statuses here, once: NotFound 404, Forbidden 403, the bad-input
errors (GroupError, ExecutionError, RateError, ...) 422.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from finops.data.access import Forbidden, NotFound
from finops.data.anomalies import AnomalyError
from finops.data.execution_fields import ExecutionError
from finops.data.groups import GroupError
from finops.data.rates import RateError
from finops.data.recommendations import RecommendationError
from finops.data.resource_fields import ResourceError

log = logging.getLogger(__name__)
BAD_INPUT = (GroupError, ExecutionError, RateError, ResourceError, AnomalyError, RecommendationError, ValueError)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token (missing, unknown, expired or revoked)"},
    403: {"description": "The token's user may not do this (cost data is for admins only)"},
    404: {"description": "No such object, or none the caller may see"},
    422: {"description": "A bad parameter or body; the message names the field"},
}


class ApiError(Exception):
    """An answer other than success, with the message to send and the field it concerns (if any)."""

    def __init__(self, status: int, message: str, field: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.headers = status, message, field, headers


def body(status: int, message: str, errors: list[dict] | None = None) -> dict:
    return {"status": status, "message": message, "errors": errors or []}


def _field(loc: tuple) -> str:
    """("query", "months") -> months; ("body", "executions", 3, "ended_at") -> executions[3].ended_at."""
    parts = [p for p in loc if p not in ("query", "path", "body", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "body"


def _validation(_request: Request, exc: Exception) -> JSONResponse:
    problems = []
    for error in exc.errors() if isinstance(exc, RequestValidationError) else []:
        field = _field(tuple(error.get("loc", ())))
        message = error.get("msg", "invalid").removeprefix("Value error, ")
        if error.get("type") == "json_invalid":
            field, message = "body", f"not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})"
        problems.append({"field": field, "message": message})
    first = problems[0] if problems else {"field": "request", "message": "invalid"}
    return JSONResponse(body(422, f"{first['field']}: {first['message']}", problems), status_code=422)


def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
    return JSONResponse(body(exc.status, exc.message, errors), status_code=exc.status, headers=exc.headers)


def _allowed(request: Request) -> str:
    """Every method the path takes: Starlette's 405 names only those of the first route matching the path."""
    path = request.url.path
    methods = {m for r in request.app.routes if getattr(r, "path_regex", None) and r.path_regex.match(path)
               for m in getattr(r, "methods", None) or ()}  # fmt: skip
    return ", ".join(sorted(methods))


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        return JSONResponse(body(405, "method not allowed"), status_code=405, headers={"Allow": _allowed(request)})
    if exc.status_code == 400:  # FastAPI's answer to a body it cannot decode (bytes that are not UTF-8, say)
        message = "body: not valid JSON (it cannot be decoded)"
        return JSONResponse(body(422, message, [{"field": "body", "message": message}]), status_code=422)
    message = exc.detail if isinstance(exc.detail, str) else "error"
    return JSONResponse(body(exc.status_code, message), status_code=exc.status_code, headers=exc.headers)


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("API request failed", exc_info=exc)
    return JSONResponse(body(500, "internal error: the server log has the details"), status_code=500)


def install(app: FastAPI) -> None:
    """JSON answers for every error the app can give."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


def refusal(exc: Exception) -> ApiError:
    """The ApiError for a refusal of a `finops` function (NotFound, Forbidden, bad input)."""
    if isinstance(exc, NotFound):
        return ApiError(404, str(exc))
    if isinstance(exc, Forbidden):
        return ApiError(403, str(exc))
    return ApiError(422, str(exc), getattr(exc, "column", None))
