"""Billing-file deliveries (owner of cost_delivery): after each FOCUS / CUR 2.0 import, one row per provider and
period with what the import left in the store, so Data Sources can show each source's periods, last delivery
and rows."""

from collections.abc import Mapping
from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session

from finops.data import db
from finops.data.tables import CostDaily, CostDelivery, CostMonthly, CostResourceDaily, CostSourceMonth, RefreshRun

COLUMNS = ["source", "provider", "window_start", "window_end", "rows", "resource_rows", "files", "location",
           "delivered_at", "times_delivered", "run_id"]  # fmt: skip


def _count(session: Session, table, source: str, provider: str, lo: date, hi: date) -> int:
    c = db.table_of(table).c
    stmt = select(func.count()).where(c.source == source, c.provider == provider, c.day >= lo, c.day < hi)
    return int(session.connection().execute(stmt).scalar_one())


def record(
    session: Session, run: RefreshRun, windows: Mapping[str, tuple[date, date]], *, location: str, files: int
) -> list[CostDelivery]:
    """Record `run`'s delivery of each provider's window (counting the rows it left) in its own commit, after
    the import's: a failure here loses the note of the delivery, never the data."""
    made = []
    for provider, (lo, hi) in sorted(windows.items()):
        row = CostDelivery(
            source=run.source, provider=provider, window_start=lo, window_end=hi, run_id=run.id,
            location=location[:1024], files=files,
            rows=_count(session, CostDaily, run.source, provider, lo, hi),
            resource_rows=_count(session, CostResourceDaily, run.source, provider, lo, hi),
        )  # fmt: skip
        session.add(row)
        made.append(row)
    session.commit()
    return made


def periods(session: Session) -> pd.DataFrame:
    """The newest delivery of each source, provider and period, with how many times that period was delivered;
    newest first. Returns COLUMNS."""
    c = db.table_of(CostDelivery).c
    key = (c.source, c.provider, c.window_start, c.window_end)
    newest = select(*key, func.max(c.id).label("id"), func.count().label("times_delivered")).group_by(*key).subquery()
    stmt = (
        select(*(c[name] for name in COLUMNS if name != "times_delivered"), newest.c.times_delivered)
        .join(newest, c.id == newest.c.id)
        .order_by(c.delivered_at.desc(), c.provider, c.window_start)
    )
    rows = session.connection().execute(stmt).all()
    order = [name for name in COLUMNS if name != "times_delivered"] + ["times_delivered"]
    return pd.DataFrame(rows, columns=order)[COLUMNS]


SOURCE_COLUMNS = ["source", "provider", "currency", "accounts", "first_day", "last_day", "months", "rows",
                  "resource_rows", "last_delivery"]  # fmt: skip


def sources(session: Session) -> pd.DataFrame:
    """Every source and provider with cost data: its currency, accounts, the days and months it covers, its
    daily and resource rows (from the cost_source_month rollup: no scan of the cost tables), and its last
    delivery (the newest import of that provider's billing files, else the source's newest successful refresh).
    Returns SOURCE_COLUMNS, by source then provider."""
    conn = session.connection()
    sm = db.table_of(CostSourceMonth).c
    keys = (sm.source, sm.provider, sm.currency)
    stmt = (
        select(*keys, func.max(sm.accounts), func.min(sm.first_day), func.max(sm.last_day), func.count(),
               func.sum(sm.rows), func.sum(sm.resource_rows))
        .group_by(*keys)
        .order_by(*keys)
    )  # fmt: skip
    columns = ["source", "provider", "currency", "accounts", "first_day", "last_day", "months", "rows", "resource_rows"]
    frame = pd.DataFrame([tuple(r) for r in conn.execute(stmt)], columns=columns)
    # accounts over the whole span, not the most in one month: from the monthly rollup (one row per account,
    # service and month), per provider and currency
    m = db.table_of(CostMonthly).c
    per_provider = select(m.provider, m.currency, func.count(func.distinct(m.account_id))).group_by(
        m.provider, m.currency
    )
    accounts = {(p, c): int(n) for p, c, n in conn.execute(per_provider)}
    c = db.table_of(CostDelivery).c
    delivered = {(s, p): at for s, p, at in conn.execute(select(c.source, c.provider, func.max(c.delivered_at))
                                                         .group_by(c.source, c.provider))}  # fmt: skip
    run = db.table_of(RefreshRun).c
    refreshed = dict(
        tuple(row)
        for row in conn.execute(
            select(run.source, func.max(run.finished_at))
            .where(run.status == "ok", run.part_of.is_(None))
            .group_by(run.source)
        )
    )
    frame["accounts"] = [
        accounts.get((p, cur), n)
        for p, cur, n in zip(frame["provider"], frame["currency"], frame["accounts"], strict=True)
    ]
    keys_ = list(zip(frame["source"], frame["provider"], strict=True))
    frame["last_delivery"] = [delivered.get(k) or refreshed.get(k[0]) for k in keys_]
    for name in ("first_day", "last_day"):
        frame[name] = pd.to_datetime(frame[name]).dt.date
    for name in ("rows", "resource_rows", "months", "accounts"):
        frame[name] = frame[name].astype("int64")
    return frame[SOURCE_COLUMNS]
