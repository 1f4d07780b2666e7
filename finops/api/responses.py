"""How the API answers: the meta every response carries, JSON or CSV bodies, ETags, and a per-version cache.

Figures derived only from the store's versions (the data version, the forecast run, the newest execution) get an
ETag computed from those versions before anything is read, so an unchanged request answers 304 at once, and their
bodies are cached per version (as the UI's loaders are). Lists people change in place (anomaly feedback,
recommendation status, groups) get an ETag from a hash of their body instead, so a change there is never hidden.
"""

import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from fastapi import Request, Response
from sqlmodel import Session

from finops import reports
from finops.data import queries
from finops.export import to_csv_bytes
from finops.settings import get_settings

Payload = dict[str, object]  # JSON fields beside "meta"; DataFrames become lists of records


class Context:
    """One request's view of the store: its status, the meta every response carries, and today (UTC)."""

    def __init__(self, request: Request, session: Session):
        self.request, self.session = request, session
        now = datetime.now(UTC)
        self.today = now.date()
        self.status = FRESHNESS.get(session)
        reason = reports.stale_reason(self.status, now)
        found = _currencies(session, self.status.version)
        self.meta = {
            "data_version": self.status.version,
            "executions_version": self.status.executions_version,
            "last_day": self.status.last_day.isoformat() if self.status.last_day else None,
            "currency": found[0] if len(found) == 1 else None,
            "currencies": found,
            "stale": reason is not None,
            "stale_reason": reason,
        }

    def currency(self, asked: str | None) -> str | None:
        """The currency of this answer's figures: `asked` (422 when the store holds none of it) or the store's
        default; the meta and the X-Data-Currency header name it from then on."""
        found = self.meta["currencies"]
        assert isinstance(found, list)
        if asked is not None and found and asked not in found:
            from finops.api.errors import ApiError

            raise ApiError(422, f"currency: the store holds no {asked} (it holds {', '.join(found)})", "currency")
        chosen = asked or _default_currency(self.session, self.status.version)
        self.meta["currency"] = chosen
        return chosen

    def headers(self) -> dict[str, str]:
        """The meta as headers too, for CSV bodies and 304 answers."""
        found = self.meta["currencies"]
        currencies = ",".join(found) if isinstance(found, list) else ""
        return {
            "X-Data-Version": str(self.meta["data_version"]),
            "X-Executions-Version": str(self.meta["executions_version"]),
            "X-Data-Last-Day": str(self.meta["last_day"] or ""),
            "X-Data-Currency": str(self.meta["currency"] or currencies),
            "X-Data-Stale": "true" if self.meta["stale"] else "false",
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
            "Vary": "Authorization",
        }


class FreshnessCache:
    """The store's freshness, re-read at most every FRESHNESS_SECONDS per process: reading it is most of what a
    cached answer costs. A refresh or a batch stored by another process shows within that time; one stored by this
    process at once (`forget`)."""

    def __init__(self):
        self._value: tuple[float, reports.Freshness] | None = None
        self._lock = threading.Lock()

    def get(self, session: Session) -> reports.Freshness:
        now = time.monotonic()
        with self._lock:
            if self._value is not None and now - self._value[0] < FRESHNESS_SECONDS:
                return self._value[1]
        value = reports.freshness(session=session)
        with self._lock:
            self._value = (now, value)
        return value

    def forget(self) -> None:
        with self._lock:
            self._value = None


FRESHNESS_SECONDS = 1.0
FRESHNESS = FreshnessCache()
_CURRENCIES: dict[int, list[str]] = {}  # per data version: currencies change only with a load


def _currencies(session: Session, version: int) -> list[str]:
    found = _CURRENCIES.get(version)
    if found is None:
        found = _CURRENCIES[version] = queries.currencies(session=session)
        for old in [v for v in _CURRENCIES if v != version]:
            _CURRENCIES.pop(old, None)
    return found


_DEFAULTS: dict[int, str | None] = {}  # per data version, as _CURRENCIES


def _default_currency(session: Session, version: int) -> str | None:
    if version not in _DEFAULTS:
        _DEFAULTS.clear()
        _DEFAULTS[version] = reports.default_currency(session=session)
    return _DEFAULTS[version]


def _plain(value):
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts: dates in ISO form, datetimes with their offset (UTC), NaN and NaT as null."""
    columns = list(frame.columns)
    return [dict(zip(columns, map(_plain, row), strict=True)) for row in frame.itertuples(index=False, name=None)]


def _json(meta: dict, payload: Payload) -> bytes:
    body = {"meta": meta, **{k: records(v) if isinstance(v, pd.DataFrame) else v for k, v in payload.items()}}
    return json.dumps(body, separators=(",", ":"), allow_nan=False, default=_plain).encode("utf-8")


class ResponseCache:
    """Rendered bodies by ETag, least recently used first out; one per process, bounded by
    FINOPS_API_CACHE_ENTRIES (0: off). The ETag holds every version a body depends on, so entries never go stale."""

    def __init__(self):
        self._items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, item: tuple[bytes, str]) -> None:
        limit = get_settings().api_cache_entries
        with self._lock:
            self._items[key] = item
            while len(self._items) > limit:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
        FRESHNESS.forget()


CACHE = ResponseCache()


def _etag(*parts) -> str:
    digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode("utf-8")).hexdigest()
    return f'W/"{digest[:32]}"'


def _matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    tags = {t.strip().removeprefix("W/") for t in wanted.split(",") if t.strip()}
    return "*" in tags or etag.removeprefix("W/") in tags


def _render(ctx: Context, build: Callable[[], tuple[Payload, pd.DataFrame | None]], fmt: str) -> tuple[bytes, str]:
    payload, table = build()
    if fmt == "csv":
        return to_csv_bytes(table if table is not None else pd.DataFrame()), "text/csv; charset=utf-8"
    return _json(ctx.meta, payload), "application/json"


def answer(
    ctx: Context,
    build: Callable[[], tuple[Payload, pd.DataFrame | None]],
    *,
    key: tuple | None = None,
    fmt: str = "json",
    status_code: int = 200,
) -> Response:
    """The response of `build()` (JSON fields, and the table a CSV gives) in `fmt`, with meta, headers and ETag.

    With `key` (everything the body depends on besides the meta), the ETag comes from the key and the meta, the
    body is cached by it, and a matching If-None-Match answers 304 without building anything.
    """
    headers = ctx.headers()
    if key is not None:
        etag = _etag(ctx.request.url.path, key, ctx.meta, ctx.today, fmt)
        if _matches(ctx.request, etag):
            return Response(status_code=304, headers={**headers, "ETag": etag})
        item = CACHE.get(etag)
        if item is None:
            item = _render(ctx, build, fmt)
            if get_settings().api_cache_entries:
                CACHE.put(etag, item)
    else:
        item = _render(ctx, build, fmt)
        etag = _etag(ctx.request.url.path, hashlib.sha256(item[0]).hexdigest(), fmt)
        if _matches(ctx.request, etag):
            return Response(status_code=304, headers={**headers, "ETag": etag})
    body, media_type = item
    return Response(body, status_code=status_code, media_type=media_type, headers={**headers, "ETag": etag})
