"""Billed costs of inventory resources, from the billing files' rows per resource (`cost_resource_daily`, FOCUS
imports): which bill ids are which inventory resource, and their sums. Read-only.

A bill row is an inventory resource's when its Tags name it under the resource tag (FINOPS_FOCUS_RESOURCE_TAG,
`finops-resource-id` by default, or the same key with AWS's `user:` prefix): that is how platform resources,
which no cloud bill names, get their billed costs. Otherwise its ResourceId matches an inventory resource with
the same id, or, for an AWS ARN, the id after the ARN's last `/` or `:` (`arn:aws:ec2:...:instance/i-0abc` is
`i-0abc`, `arn:aws:rds:...:db:orders` is `orders`). Only USD rows are read: the ledger's hourly costs, which
fill in the rest, are USD.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import String, case, cast, func, not_, or_, select
from sqlmodel import Session, col

from finops.data.search import like_pattern
from finops.data.tables import CostResourceDaily
from finops.money import micros_to_amount
from finops.settings import get_settings

Key = tuple[str, str]
CURRENCY = "USD"
CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits


def bill_id_key(bill_id: str, by_id: dict[str, Key]) -> Key | None:
    """The inventory key (`by_id`: inventory id -> key) a bill's resource id is, or None."""
    if bill_id in by_id:
        return by_id[bill_id]
    if bill_id.startswith("arn:"):
        tail = bill_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return by_id.get(tail)
    return None


@dataclass
class Bills:
    """Billed sums since each asked start up to `last_day` (the newest billed day), per inventory resource."""

    last_day: date | None = None
    sums: dict[date, dict[Key, tuple[float, float]]] = field(default_factory=dict)  # (unblended, amortized)


def tag_value(tags_text: str | None, tag: str) -> str | None:
    """The resource id a row's Tags (JSON text) name under `tag` (or `user:<tag>`), or None."""
    if not tags_text or not tag:
        return None
    try:
        tags = json.loads(tags_text)
    except ValueError:
        return None
    if not isinstance(tags, dict):
        return None
    value = tags.get(tag, tags.get(f"user:{tag}"))
    return str(value) if value not in (None, "") else None


def _base(lo: date, hi: date):
    r = CostResourceDaily
    return col(r.day) >= lo, col(r.day) <= hi, col(r.currency) == CURRENCY


def _tags_text():
    return cast(col(CostResourceDaily.tags), String)


def _tagged(tag: str):
    """Rows whose Tags text holds the key `tag` (checked exactly in Python: a value may look like the key)."""
    return or_(*(_tags_text().ilike(like_pattern(f'"{key}"'), escape="\\") for key in (tag, f"user:{tag}")))


def _groups(
    session: Session, lo: date, hi: date, inventory: Iterable[Key], values: list, by_day: bool = False
) -> Iterator[tuple]:
    """(day if `by_day`, inventory key, *`values`) summed per bill resource id over the rows in [lo, hi] that
    are an inventory resource's (see the module): rows with the resource tag per (id, tags), the others per id
    (only the ids that match, in chunks)."""
    by_id = {ident: (kind, ident) for kind, ident in inventory}
    r = CostResourceDaily
    day = [col(r.day)] if by_day else []
    tag = get_settings().focus_resource_tag
    untagged = [not_(_tagged(tag))] if tag else []
    if tag:
        stmt = (
            select(*day, col(r.resource_id), _tags_text(), *values)
            .where(*_base(lo, hi), _tagged(tag))
            .group_by(*day, col(r.resource_id), _tags_text())
        )
        for row in session.execute(stmt).all():
            *when, bill_id, tags_text = row[: len(day) + 2]
            sums = row[len(day) + 2 :]
            key = by_id.get(tag_value(tags_text, tag) or "") or bill_id_key(bill_id, by_id)
            if key is not None:
                yield (*when, key, *sums)
    ids = session.execute(
        select(col(r.resource_id)).where(*_base(lo, hi), col(r.resource_id) != "", *untagged).distinct()
    ).scalars()
    matched = {bill_id: key for bill_id in ids if (key := bill_id_key(bill_id, by_id)) is not None}
    order = sorted(matched)
    for i in range(0, len(order), CHUNK):
        stmt = (
            select(*day, col(r.resource_id), *values)
            .where(*_base(lo, hi), col(r.resource_id).in_(order[i : i + CHUNK]), *untagged)
            .group_by(*day, col(r.resource_id))
        )
        for row in session.execute(stmt).all():
            *when, bill_id = row[: len(day) + 1]
            yield (*when, matched[bill_id], *row[len(day) + 1 :])


def last_billed_day(session: Session) -> date | None:
    """The newest day any resource (an id, or the resource tag) has a billed USD row."""
    r = CostResourceDaily
    tag = get_settings().focus_resource_tag
    named = or_(col(r.resource_id) != "", _tagged(tag)) if tag else col(r.resource_id) != ""
    return session.execute(select(func.max(col(r.day))).where(col(r.currency) == CURRENCY, named)).scalar()


def since(session: Session, starts: set[date], inventory: Iterable[Key]) -> Bills:
    """Per start, what each matched inventory resource was billed from that day to the newest billed day; a
    resource with no billed row in that span is left out (its cost is estimated elsewhere)."""
    last = last_billed_day(session)
    if last is None or not starts or min(starts) > last:
        return Bills(last_day=last, sums={s: {} for s in starts})
    order = sorted(starts)
    r = CostResourceDaily
    columns = []
    for s in order:
        inside = col(r.day) >= s
        columns += [
            func.sum(case((inside, 1), else_=0)),
            func.sum(case((inside, col(r.unblended_micros)), else_=0)),
            func.sum(case((inside, col(r.amortized_micros)), else_=0)),
        ]
    totals: dict[date, dict[Key, list[int]]] = {s: defaultdict(lambda: [0, 0]) for s in order}
    for key, *values in _groups(session, order[0], last, inventory, columns):
        for n, s in enumerate(order):
            rows, unblended, amortized = values[3 * n : 3 * n + 3]
            if rows:
                kept = totals[s][key]
                kept[0] += int(unblended or 0)
                kept[1] += int(amortized or 0)
    sums = {
        s: {k: (micros_to_amount(u), micros_to_amount(a)) for k, (u, a) in per_key.items()}
        for s, per_key in totals.items()
    }
    return Bills(last_day=last, sums=sums)


def daily(session: Session, start: date, end: date, keys: Iterable[Key], metric: str) -> dict[date, dict[Key, float]]:
    """Day -> inventory key -> billed cost (`metric`: unblended or amortized) over the days [start, end]."""
    r = CostResourceDaily
    column = col(r.amortized_micros) if metric == "amortized" else col(r.unblended_micros)
    out: dict[date, dict[Key, float]] = defaultdict(lambda: defaultdict(float))
    for day, key, micros in _groups(session, start, end, keys, [func.sum(column)], by_day=True):
        out[day][key] += micros_to_amount(int(micros or 0))
    return out
