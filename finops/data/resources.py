"""The resource inventory, the one module that writes it: platform resources (CLI, CSV import, the demo), AWS
ones (what discovery found, what the CPU check found) and what stop/start changes (state, saved sizes).

The types and the checks every resource passes are in `finops.data.resource_fields` (re-exported here).
"""

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import or_, select
from sqlmodel import Session

from finops.data import ledger
from finops.data.resource_fields import (  # noqa: F401  (re-exported: the inventory's vocabulary)
    AWS_TYPES,
    COLUMNS,
    OPTIONAL_COLUMNS,
    PLATFORM_TYPES,
    REQUIRED_COLUMNS,
    RESOURCE_TYPES,
    SOURCES,
    ResourceError,
    ResourceImportError,
    check_type,
    clean,
    decode,
    parse,
)
from finops.data.search import contains
from finops.data.tables import Resource, utcnow

MISSING = "missing"  # an AWS resource the last discovery no longer found (kept: groups may still name it)


def _upsert(session: Session, fields: dict, source: str, since: datetime | None = None) -> Resource:
    stmt = select(Resource).where(
        Resource.resource_type == fields["resource_type"], Resource.resource_id == fields["resource_id"]
    )
    row = session.execute(stmt).scalars().first() or Resource(
        resource_type=fields["resource_type"], resource_id=fields["resource_id"], name=fields["name"]
    )
    state = fields.get("state", row.state)
    if state and (row.id is None or state != row.state):  # the ledger is what user and group budgets count
        hourly = float(fields.get("hourly_cost", row.hourly_cost) or 0.0)
        ledger.record(session, resource_type=row.resource_type, resource_id=row.resource_id, state=state,
                      at=since or utcnow(), hourly_cost=hourly, cause=source)  # fmt: skip
    for key, value in fields.items():
        setattr(row, key, json.loads(value) if key == "tags" else value)  # _clean gives canonical JSON text
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
    fields = clean(resource_type, resource_id, name, owner, state, hourly_cost, tags, account_id, region)
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
        text = search.strip()
        stmt = stmt.where(or_(contains(session, Resource.name, text), contains(session, Resource.resource_id, text)))
    rows = session.execute(stmt).scalars().all()
    cols = [*COLUMNS, "source", "updated_at"]
    records = [{**{c: getattr(r, c) for c in cols}, "tags": json.dumps(r.tags, sort_keys=True)} for r in rows]
    return pd.DataFrame(records, columns=cols)  # tags as JSON text: what a table or a CSV shows


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
        "owner VARCHAR(64), state VARCHAR(32), hourly_cost FLOAT, tags JSON, account_id VARCHAR(64), "
        "region VARCHAR(64), source VARCHAR(16), updated_at TIMESTAMP, saved_state JSON)"
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
        f"INSERT INTO resource ({', '.join(cols)}, size, price_known, price_source, idle) "
        f"SELECT {', '.join(cols)}, '', true, '', false FROM {stage} WHERE true "  # new rows: no discovery yet
        f"ON CONFLICT (resource_type, resource_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in changed)
    )
    if "state" in header:
        ledger.record_staged(conn, stage, stamp_value)
    conn.exec_driver_sql(f"DROP TABLE {stage}")


def import_csv(*, session: Session, source: str | Path) -> int:
    """Import platform resources from a CSV file (a Path, or CSV text); returns how many rows were written.

    The header must hold resource_type, resource_id and name; owner, state, hourly_cost, tags (a JSON
    object), account_id and region are optional (columns the header lacks keep their values on resources that
    exist). Every row is checked first: on any error nothing is imported and ResourceImportError names the file
    line (header = line 1) and the column. A file that is not UTF-8 text is refused in one line.
    """
    if isinstance(source, Path):
        text = decode(source.read_bytes(), str(source))
    else:
        text = str(source)
        if "\x00" in text:
            raise ResourceImportError("the text is not CSV: it holds a NUL character")
    header, cleaned = parse(text)
    if not cleaned:
        return 0
    try:
        _merge(session, cleaned, header)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return len(cleaned)


def add_missing(*, session: Session, items: list[dict], source: str = "platform", since: datetime | None = None) -> int:
    """Add the resources of `items` that the inventory lacks (by type + id; existing ones keep their edits); their
    ledger starts at `since` (the demo's history) or now."""
    have = {tuple(r) for r in session.execute(select(Resource.resource_type, Resource.resource_id))}
    added = 0
    for item in items:
        fields = clean(**{c: item.get(c) for c in COLUMNS})
        if (fields["resource_type"], fields["resource_id"]) not in have:
            _upsert(session, fields, source, since)
            added += 1
    session.commit()
    return added


def set_state(*, session: Session, resource: Resource, state: str, cause: str = "") -> None:
    """Record a resource's new state (a driver's answer after a stop or start) and its ledger interval; the
    caller commits."""
    now = utcnow()
    if state != resource.state or cause:
        ledger.record(session, resource_type=resource.resource_type, resource_id=resource.resource_id, state=state,
                      at=now, hourly_cost=resource.hourly_cost, cause=cause)  # fmt: skip
    resource.state, resource.updated_at = state, now
    session.add(resource)


def save_capacity(*, session: Session, resource: Resource, saved: dict) -> None:
    """Keep what a stop takes away (sizes to restore at the next start) and commit it at once: it must be
    durable before the resource is scaled to zero."""
    resource.saved_state = dict(saved)
    session.add(resource)
    session.commit()


def saved_capacity(resource: Resource | None) -> dict:
    """What the last stop saved for the next start ({} when nothing)."""
    value = resource.saved_state if resource is not None else None
    return dict(value) if isinstance(value, dict) else {}


def clear_capacity(*, session: Session, resource: Resource) -> None:
    """Forget the saved sizes once a start restored them; the caller commits."""
    resource.saved_state = {}
    session.add(resource)


def store_discovered(*, session: Session, found: list[dict], listed: set[tuple[str, str]]) -> dict:
    """Upsert the AWS resources a discovery found (dicts of `finops.data.drivers.aws_discovery`, with their
    `owner`); returns counts {"found", "new", "missing"}.

    An AWS resource of a (region, type) in `listed` (listed without error) that was not found becomes
    `missing`; the others keep what the store knew. Name, state, hourly cost (with where its price came from and
    its date), tags, account, region, size and owner follow AWS; the CPU check's findings stay. An unknown price
    is stored as 0 with `price_known` False.
    """
    now = utcnow()
    existing = {
        (r.resource_type, r.resource_id): r
        for r in session.execute(select(Resource).where(Resource.source == "aws")).scalars()
    }
    new = 0
    for item in found:
        key = (item["resource_type"], item["resource_id"])
        row = existing.pop(key, None)
        if row is None:
            row = get_resource(session=session, resource_type=key[0], resource_id=key[1]) or Resource(
                resource_type=key[0], resource_id=key[1], name=item["name"]
            )
            new += row.id is None
        row.name = str(item["name"])[:256]
        if row.state != item["state"] or row.id is None:
            ledger.record(session, resource_type=key[0], resource_id=key[1], state=item["state"], at=now,
                          hourly_cost=float(item.get("hourly_cost") or 0.0), cause="discovery")  # fmt: skip
        row.state = item["state"]
        row.hourly_cost = float(item.get("hourly_cost") or 0.0)
        row.price_known = item.get("hourly_cost") is not None
        row.price_source = str(item.get("price_source") or "")[:32] if row.price_known else ""
        row.price_as_of = item.get("price_as_of") if row.price_known else None
        row.size = str(item.get("size") or "")[:64]
        row.tags = dict(item.get("tags") or {})
        row.account_id, row.region = item.get("account_id", "") or "", item.get("region", "") or ""
        row.owner = str(item.get("owner") or "")[:64]
        row.source, row.updated_at, row.seen_at = "aws", now, now
        session.add(row)
    missing = 0
    for row in existing.values():
        if (row.region, row.resource_type) in listed and row.state != MISSING:
            ledger.record(session, resource_type=row.resource_type, resource_id=row.resource_id, state=MISSING,
                          at=now, hourly_cost=row.hourly_cost, cause="discovery")  # fmt: skip
            row.state, row.updated_at = MISSING, now
            session.add(row)
            missing += 1
    session.commit()
    return {"found": len(found), "new": new, "missing": missing}


def record_cpu_check(*, session: Session, resource: Resource, day: date, peak: float | None, idle: bool) -> None:
    """Keep what a CloudWatch CPU check found: the day, the highest daily peak, whether it is idle. The caller
    commits."""
    resource.cpu_checked_on, resource.idle, resource.updated_at = day, idle, utcnow()
    if peak is not None:
        resource.cpu_peak = peak
    session.add(resource)
