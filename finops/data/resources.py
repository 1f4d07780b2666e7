"""The resource inventory: platform resources (CLI, CSV import) and AWS ones (discovery, a later issue)."""

import csv
import io
import json
import math
from functools import lru_cache
from pathlib import Path

import pandas as pd
from sqlalchemy import func, or_, select
from sqlmodel import Session

from finops.data.search import like_pattern
from finops.data.tables import Resource, utcnow

PLATFORM_TYPES = (
    "app",
    "workflow",
    "addon",
    "workspace",
    "project",
    "fine_tuning",
    "self_hosted_model",
    "ml_model",
    "automl",
)
AWS_TYPES = ("ec2_instance", "rds_instance", "asg", "ecs_service")
RESOURCE_TYPES = PLATFORM_TYPES + AWS_TYPES
SOURCES = ("platform", "aws")

REQUIRED_COLUMNS = ("resource_type", "resource_id", "name")
OPTIONAL_COLUMNS = ("owner", "state", "hourly_cost", "tags", "account_id", "region")
COLUMNS = ["resource_type", "resource_id", "name", "owner", "state", "hourly_cost", "tags", "account_id", "region"]
MAX_LEN = {"resource_id": 256, "name": 256, "owner": 64, "state": 32, "account_id": 64, "region": 64}


class ResourceError(ValueError):
    """A resource was refused; the message says why."""


class ResourceImportError(ResourceError):
    """A CSV import was refused (nothing was imported); names the line and the column."""

    def __init__(self, message: str, line: int | None = None, column: str | None = None, row: int | None = None):
        super().__init__(message)
        self.line, self.column, self.row = line, column, row


def check_type(resource_type: str) -> str:
    if resource_type not in RESOURCE_TYPES:
        raise ResourceError(f"unknown resource type {resource_type!r} (known: {', '.join(RESOURCE_TYPES)})")
    return resource_type


def _fail(column: str, message: str):
    err = ResourceError(f"{column}: {message}")
    err.column = column
    raise err


@lru_cache(maxsize=4096)
def _tags_text(text: str) -> str:
    """A tags cell as canonical JSON (keys sorted); cached, because inventories repeat the same few tag sets."""
    try:
        tag_map = json.loads(text)
    except ValueError:
        tag_map = None
    if not isinstance(tag_map, dict):
        _fail("tags", 'must be a JSON object such as {"team": "ml"}')
    return json.dumps(tag_map, sort_keys=True)


def _clean(
    resource_type: str, resource_id: str, name: str, owner: str, state: str, hourly_cost, tags, account_id, region
) -> dict:
    """The validated fields of one resource; raises ResourceError naming the field (as `column: message`)."""
    resource_type = (resource_type or "").strip()
    if resource_type not in RESOURCE_TYPES:
        _fail("resource_type", f"unknown resource type {resource_type!r}")
    values = {
        "resource_id": (resource_id or "").strip(),
        "name": (name or "").strip(),
        "owner": (owner or "").strip(),
        "state": (state or "").strip(),
        "account_id": (account_id or "").strip(),
        "region": (region or "").strip(),
    }
    if not values["resource_id"]:
        _fail("resource_id", "must not be empty")
    if not values["name"]:
        _fail("name", "must not be empty")
    for column, limit in MAX_LEN.items():
        if len(values[column]) > limit:
            _fail(column, f"must be at most {limit} characters")
    if hourly_cost is None or hourly_cost == "":
        cost = 0.0
    else:
        try:
            cost = float(hourly_cost)
        except (TypeError, ValueError):
            cost = -1.0
        if not math.isfinite(cost) or cost < 0:
            _fail("hourly_cost", f"must be a non-negative number, not {hourly_cost!r}")
    if tags is None or tags == "":
        tags_text = "{}"
    elif isinstance(tags, dict):
        tags_text = json.dumps(tags, sort_keys=True)
    else:
        tags_text = _tags_text(tags)
    values["resource_type"] = resource_type
    values["hourly_cost"] = cost
    values["tags"] = tags_text
    return values


def _upsert(session: Session, fields: dict, source: str) -> Resource:
    stmt = select(Resource).where(
        Resource.resource_type == fields["resource_type"], Resource.resource_id == fields["resource_id"]
    )
    row = session.execute(stmt).scalars().first() or Resource(
        resource_type=fields["resource_type"], resource_id=fields["resource_id"], name=fields["name"]
    )
    for key, value in fields.items():
        setattr(row, key, value)
    row.source, row.updated_at = source, utcnow()
    session.add(row)
    return row


def add_resource(
    *,
    session: Session,
    resource_type: str,
    resource_id: str,
    name: str,
    owner: str = "",
    state: str = "",
    hourly_cost: float = 0.0,
    tags: dict | str | None = None,
    account_id: str = "",
    region: str = "",
    source: str = "platform",
) -> Resource:
    """Create or update (by type + id) one resource; refuses an unknown type, an empty id or name."""
    if source not in SOURCES:
        raise ResourceError(f"source must be one of: {', '.join(SOURCES)}")
    fields = _clean(resource_type, resource_id, name, owner, state, hourly_cost, tags, account_id, region)
    row = _upsert(session, fields, source)
    session.commit()
    session.refresh(row)
    return row


def get_resource(*, session: Session, resource_type: str, resource_id: str) -> Resource | None:
    stmt = select(Resource).where(Resource.resource_type == resource_type, Resource.resource_id == resource_id)
    return session.execute(stmt).scalars().first()


def list_resources(*, session: Session, resource_type: str | None = None, search: str = "", actor=None) -> pd.DataFrame:
    """Resources ordered by type and name; `search` matches name or id, case-insensitively. With an `actor`
    (finops.data.access.Actor), only those the actor may act on: everything for an admin, else their own."""
    stmt = select(Resource).order_by(Resource.resource_type, Resource.name, Resource.resource_id)
    if actor is not None and not actor.is_admin:
        stmt = stmt.where(Resource.owner == actor.username, Resource.owner != "")
    if resource_type:
        stmt = stmt.where(Resource.resource_type == check_type(resource_type))
    if search.strip():
        pattern = like_pattern(search.strip())
        stmt = stmt.where(
            or_(
                func.lower(Resource.name).like(pattern, escape="\\"),
                func.lower(Resource.resource_id).like(pattern, escape="\\"),
            )
        )
    rows = session.execute(stmt).scalars().all()
    cols = [*COLUMNS, "source", "updated_at"]
    return pd.DataFrame([{c: getattr(r, c) for c in cols} for r in rows], columns=cols)


def _decode(data: bytes, name: str) -> str:
    """The file's text; ResourceImportError in one line when it is not UTF-8 text (a binary file, say)."""
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise ResourceImportError(f"{name} is not a CSV file: it holds a NUL byte at offset {at} (a binary file?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ResourceImportError(
            f"{name} is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded "
            "(save the CSV as UTF-8)"
        ) from None


def _parse(text: str) -> tuple[list[str], list[dict]]:
    """The header and every row validated (`_clean`); ResourceImportError names the first bad line and column."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise ResourceImportError(f"line 1: not a CSV header ({exc})", 1) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ResourceImportError(f"line 1: the header lacks column(s) {', '.join(missing)}", 1, missing[0])
    unknown = [c for c in header if c and c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ResourceImportError(f"line 1: unknown column {unknown[0]!r}", 1, unknown[0])
    positions = [header.index(c) if c in header else None for c in COLUMNS]  # _clean's argument order
    width = len(header)
    cleaned, seen = [], {}
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = reader.line_num
            raise ResourceImportError(f"row {number + 1} (line {line}): not valid CSV ({exc})", line) from None
        number += 1
        line = reader.line_num  # the file line the row ended on (header is line 1)
        where = f"row {number} (line {line})"
        if len(cells) > width:
            raise ResourceImportError(f"{where}: more cells than header columns", line, None, number)
        args = [cells[i] if i is not None and i < len(cells) else None for i in positions]
        try:
            fields = _clean(*args)
        except ResourceError as exc:
            column = getattr(exc, "column", None)
            raise ResourceImportError(f"{where}, column {exc}", line, column, number) from None
        key = (fields["resource_type"], fields["resource_id"])
        if key in seen:
            raise ResourceImportError(
                f"{where}, column resource_id: {key[0]}:{key[1]} already appears on line {seen[key]}",
                line,
                "resource_id",
                number,
            )
        seen[key] = line
        cleaned.append(fields)
    return header, cleaned


STAGE_BATCH = 20_000  # rows per executemany into the staging table


def _merge(session: Session, rows: list[dict], header: list[str]) -> None:
    """Upsert `rows` by (type, id) in one short transaction on the store.

    The rows go first into a temporary table, which lives outside the store's file and takes none of its
    locks; one INSERT ... SELECT ... ON CONFLICT then merges them, so the store's write lock is held for that
    statement only (about a second for 100,000 rows on SQLite), and a crash before the commit leaves the store as
    it was. Columns the file's header lacks keep their values on existing resources.
    """
    conn = session.connection()
    now = utcnow()
    stage = "finops_resource_import"
    cols = [*COLUMNS, "source", "updated_at", "saved_state"]
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}" if conn.dialect.name != "sqlite" else
                         f"DROP TABLE IF EXISTS temp.{stage}")  # fmt: skip
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {stage} (resource_type VARCHAR(32), resource_id VARCHAR(256), name VARCHAR(256), "
        "owner VARCHAR(64), state VARCHAR(32), hourly_cost FLOAT, tags TEXT, account_id VARCHAR(64), "
        "region VARCHAR(64), source VARCHAR(16), updated_at TIMESTAMP, saved_state TEXT)"
    )
    table = Resource.__table__
    stamp = table.c.updated_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    stamp_value = stamp(now) if stamp else now
    insert_stage = f"INSERT INTO {stage} ({', '.join(cols)}) VALUES ({', '.join(['?'] * len(cols))})"
    raw = conn.connection.driver_connection
    cursor = raw.cursor()
    if conn.dialect.name != "sqlite":
        insert_stage = insert_stage.replace("?", "%s")
    for lo in range(0, len(rows), STAGE_BATCH):
        batch = [(*(r[c] for c in COLUMNS), "platform", stamp_value, "{}") for r in rows[lo : lo + STAGE_BATCH]]
        cursor.executemany(insert_stage, batch)
    changed = ["name", *[c for c in COLUMNS[3:] if c in header], "source", "updated_at"]
    conn.exec_driver_sql(
        f"INSERT INTO resource ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {stage} WHERE true "
        f"ON CONFLICT (resource_type, resource_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in changed)
    )
    conn.exec_driver_sql(f"DROP TABLE {stage}")


def import_csv(*, session: Session, source: str | Path) -> int:
    """Import platform resources from a CSV file (a Path, or CSV text); returns how many rows were written.

    The header must hold resource_type, resource_id and name; owner, state, hourly_cost, tags (a JSON
    object), account_id and region are optional (columns the header lacks keep their values on resources that
    exist). Every row is checked first: on any error nothing is imported and ResourceImportError names the file
    line (header = line 1) and the column. A file that is not UTF-8 text is refused in one line.
    """
    if isinstance(source, Path):
        text = _decode(source.read_bytes(), str(source))
    else:
        text = str(source)
        if "\x00" in text:
            raise ResourceImportError("the text is not CSV: it holds a NUL character")
    header, cleaned = _parse(text)
    if not cleaned:
        return 0
    try:
        _merge(session, cleaned, header)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return len(cleaned)


def add_missing(*, session: Session, items: list[dict], source: str = "platform") -> int:
    """Add the resources of `items` that the inventory lacks (by type + id; existing ones keep their edits)."""
    have = {tuple(r) for r in session.execute(select(Resource.resource_type, Resource.resource_id))}
    added = 0
    for item in items:
        fields = _clean(**{c: item.get(c) for c in COLUMNS})
        if (fields["resource_type"], fields["resource_id"]) not in have:
            _upsert(session, fields, source)
            added += 1
    session.commit()
    return added


def set_state(*, session: Session, resource: Resource, state: str) -> None:
    """Record a resource's new state (a driver's answer after a stop or start); the caller commits."""
    resource.state, resource.updated_at = state, utcnow()
    session.add(resource)


def save_capacity(*, session: Session, resource: Resource, saved: dict) -> None:
    """Keep what a stop takes away (sizes to restore at the next start) and commit it at once: it must be
    durable before the resource is scaled to zero."""
    resource.saved_state = json.dumps(saved, sort_keys=True)
    session.add(resource)
    session.commit()


def saved_capacity(resource: Resource | None) -> dict:
    """What the last stop saved for the next start ({} when nothing or unreadable)."""
    try:
        value = json.loads((resource.saved_state if resource is not None else "") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def clear_capacity(*, session: Session, resource: Resource) -> None:
    """Forget the saved sizes once a start restored them; the caller commits."""
    resource.saved_state = "{}"
    session.add(resource)
