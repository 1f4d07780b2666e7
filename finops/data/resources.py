"""The resource inventory: platform resources (CLI, CSV import) and AWS ones (discovery, a later issue)."""

import csv
import io
import json
import math
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


def _clean(
    resource_type: str, resource_id: str, name: str, owner: str, state: str, hourly_cost, tags, account_id, region
) -> dict:
    """The validated fields of one resource; raises ResourceError naming the field (as `column: message`)."""

    def fail(column: str, message: str):
        err = ResourceError(f"{column}: {message}")
        err.column = column
        raise err

    resource_type = (resource_type or "").strip()
    if resource_type not in RESOURCE_TYPES:
        fail("resource_type", f"unknown resource type {resource_type!r}")
    values = {
        "resource_id": (resource_id or "").strip(),
        "name": (name or "").strip(),
        "owner": (owner or "").strip(),
        "state": (state or "").strip(),
        "account_id": (account_id or "").strip(),
        "region": (region or "").strip(),
    }
    for column in ("resource_id", "name"):
        if not values[column]:
            fail(column, "must not be empty")
    for column, limit in MAX_LEN.items():
        if len(values[column]) > limit:
            fail(column, f"must be at most {limit} characters")
    if hourly_cost is None or hourly_cost == "":
        cost = 0.0
    else:
        try:
            cost = float(hourly_cost)
        except (TypeError, ValueError):
            cost = -1.0
        if not math.isfinite(cost) or cost < 0:
            fail("hourly_cost", f"must be a non-negative number, not {hourly_cost!r}")
    if tags is None or tags == "":
        tag_map = {}
    elif isinstance(tags, dict):
        tag_map = tags
    else:
        try:
            tag_map = json.loads(tags)
        except ValueError:
            tag_map = None
        if not isinstance(tag_map, dict):
            fail("tags", 'must be a JSON object such as {"team": "ml"}')
    return {"resource_type": resource_type, **values, "hourly_cost": cost, "tags": json.dumps(tag_map, sort_keys=True)}


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


def list_resources(*, session: Session, resource_type: str | None = None, search: str = "") -> pd.DataFrame:
    """Resources ordered by type and name; `search` matches name or id, case-insensitively."""
    stmt = select(Resource).order_by(Resource.resource_type, Resource.name, Resource.resource_id)
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


def import_csv(*, session: Session, source: str | Path) -> int:
    """Import platform resources from a CSV file (a Path, or CSV text); returns how many rows were written.

    The header must hold resource_type, resource_id and name; owner, state, hourly_cost, tags (a JSON
    object), account_id and region are optional. Every row is checked first: on any error nothing is
    imported and ResourceImportError names the file line (header = line 1) and the column.
    """
    text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else str(source)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ResourceImportError(f"line 1: the header lacks column(s) {', '.join(missing)}", 1, missing[0])
    unknown = [c for c in header if c and c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ResourceImportError(f"line 1: unknown column {unknown[0]!r}", 1, unknown[0])
    reader.fieldnames = header
    cleaned, seen = [], {}
    for number, row in enumerate(reader, start=1):
        line = reader.line_num  # the file line the row ended on (header is line 1)
        where = f"row {number} (line {line})"
        if None in row:
            raise ResourceImportError(f"{where}: more cells than header columns", line, None, number)
        get = {c: row.get(c) for c in COLUMNS}
        try:
            fields = _clean(**get)
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
    try:
        for fields in cleaned:
            _upsert(session, fields, "platform")
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
