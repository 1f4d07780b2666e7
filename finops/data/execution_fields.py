"""Execution fields: the checks every reported workflow run passes, its exact cost, and reading an executions CSV
(pure: no store). `finops.data.executions` prices and stores what passes."""

import csv
import io
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

COLUMNS = [
    "execution_id",
    "workflow_id",
    "workflow_name",
    "user",
    "started_at",
    "ended_at",
    "status",
    "compute_type",
    "compute_count",
]
REQUIRED = ("execution_id", "workflow_id", "started_at", "ended_at", "compute_type")
STATUSES = ("succeeded", "failed", "cancelled")
MAX_LEN = {"execution_id": 128, "workflow_id": 128, "workflow_name": 256, "user": 64, "compute_type": 64}
MAX_COUNT = 10_000
MAX_DURATION = timedelta(days=366)
YEARS = (2000, 2100)
MICROS_PER_HOUR_US = 3_600_000_000  # micro-seconds in an hour: cost = rate x count x duration(us) / this


class ExecutionError(ValueError):
    """An execution (or a file or batch of them) was refused and nothing was stored; names the field.

    `column` is the field, `index` the 0-based position of the run in its batch or file when known.
    """

    def __init__(self, message: str, column: str | None = None, index: int | None = None):
        super().__init__(message)
        self.column, self.index = column, index


def _fail(column: str, message: str):
    raise ExecutionError(f"{column}: {message}", column)


def parse_time(value, column: str) -> datetime:
    """An ISO 8601 moment (`2026-03-01T08:15:00Z`, with an offset, or naive = UTC) as an aware UTC datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value or "").strip()
        if not text:
            _fail(column, "is required")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            _fail(column, f"{text[:40]!r} is not an ISO 8601 date-time such as 2026-03-01T08:15:00Z")
    moment = moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment.astimezone(UTC)
    if not YEARS[0] <= moment.year <= YEARS[1]:
        _fail(column, f"year {moment.year} is out of range ({YEARS[0]}-{YEARS[1]})")
    return moment


def _text(record: Mapping, column: str, required: bool = False) -> str:
    value = record.get(column)
    text = "" if value is None else str(value).strip()
    if required and not text:
        _fail(column, "is required")
    if len(text) > MAX_LEN[column]:
        _fail(column, f"must be at most {MAX_LEN[column]} characters")
    return text


def _count(value) -> int:
    if value is None or value == "":
        return 1
    if isinstance(value, bool):
        count = 0
    elif isinstance(value, int):
        count = value
    else:
        try:
            count = int(str(value).strip())
        except ValueError:
            count = 0
    if not 1 <= count <= MAX_COUNT:
        _fail("compute_count", f"must be a whole number from 1 to {MAX_COUNT:,}, not {value!r}")
    return count


def clean(record: Mapping) -> dict:
    """The checked fields of one execution (keys: COLUMNS with `user` as `username`); ExecutionError names the
    first bad field."""
    started = parse_time(record.get("started_at"), "started_at")
    ended = parse_time(record.get("ended_at"), "ended_at")
    if ended < started:
        _fail("ended_at", f"{ended:%Y-%m-%dT%H:%M:%SZ} is before started_at {started:%Y-%m-%dT%H:%M:%SZ}")
    if ended - started > MAX_DURATION:
        _fail("ended_at", f"a run may last at most {MAX_DURATION.days} days")
    status = str(record.get("status") or "").strip() or "succeeded"
    if status not in STATUSES:
        _fail("status", f"must be one of {', '.join(STATUSES)}, not {status[:40]!r}")
    workflow_id = _text(record, "workflow_id", required=True)
    return {
        "execution_id": _text(record, "execution_id", required=True),
        "workflow_id": workflow_id,
        "workflow_name": _text(record, "workflow_name") or workflow_id,
        "username": _text(record, "user"),
        "started_at": started,
        "ended_at": ended,
        "status": status,
        "compute_type": _text(record, "compute_type", required=True),
        "compute_count": _count(record.get("compute_count")),
    }


def cost_micros(rate_micros: int, count: int, started: datetime, ended: datetime) -> int:
    """rate (micro-USD per unit-hour) x units x duration, exactly, rounded half-even to a micro-unit once."""
    duration_us = (ended - started) // timedelta(microseconds=1)
    return round(Fraction(rate_micros * count * duration_us, MICROS_PER_HOUR_US))


def check_unique(rows: list[dict]) -> None:
    """ExecutionError (at the second occurrence) when an execution id appears twice in one batch or file."""
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        first = seen.setdefault(row["execution_id"], index)
        if first != index:
            raise ExecutionError(
                f"execution_id: {row['execution_id']!r} already appears at position {first + 1}", "execution_id", index
            )


def parse_csv(text: str) -> tuple[list[dict], list[int]]:
    """Every row of an executions CSV checked (`clean`), with the file line each row ended on.

    ExecutionError names the first bad row's line and column; the header must hold REQUIRED and may hold the
    other COLUMNS (no unknown ones).
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise ExecutionError(f"line 1: not a CSV header ({exc})") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ExecutionError(f"line 1: the header lacks column(s) {', '.join(missing)}", missing[0])
    unknown = [c for c in header if c and c not in COLUMNS]
    if unknown:
        raise ExecutionError(f"line 1: unknown column {unknown[0]!r} (known: {', '.join(COLUMNS)})", unknown[0])
    rows: list[dict] = []
    lines: list[int] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ExecutionError(f"line {reader.line_num}: not valid CSV ({exc})") from None
        where = f"row {len(rows) + 1} (line {reader.line_num})"
        if len(cells) > len(header):
            raise ExecutionError(f"{where}: more cells than header columns", None, len(rows))
        try:
            rows.append(clean(dict(zip(header, cells, strict=False))))
        except ExecutionError as exc:
            raise ExecutionError(f"{where}, column {exc}", exc.column, len(rows)) from None
        lines.append(reader.line_num)
    try:
        check_unique(rows)
    except ExecutionError as exc:
        index = exc.index or 0
        raise ExecutionError(f"row {index + 1} (line {lines[index]}), column {exc}", exc.column, index) from None
    return rows, lines
