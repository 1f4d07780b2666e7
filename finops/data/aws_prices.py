"""AWS on-demand prices from the Price List API, the one module that writes the `aws_price` table.

Discovery asks for the prices of the sizes it finds (`fetch_missing`: only those never asked, so a new instance
type or region is priced at its first discovery); the sidecar's `refresh_prices` job re-fetches every stored
price older than a week (`refresh_stale`). A key the API gives no price for is stored without one (asked again a
week later), and the `PriceBook` falls back to the bundled table (offline fallback) or to unknown. Fetching never
raises: an AWS error (no pricing:GetProducts permission, no network) is logged and counted; stored prices stay.
"""

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import func, select
from sqlmodel import Session, col

from finops.data.aws_errors import describe
from finops.data.drivers.prices import Key, PriceBook
from finops.data.sources import aws_pricing
from finops.data.tables import AwsPrice, utcnow

log = logging.getLogger(__name__)
MAX_AGE = timedelta(days=7)


def _as_day(value) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def stored(*, session: Session) -> dict[Key, tuple[float | None, date | None]]:
    """Every key asked of the API: key -> (USD per hour, None when it had none; the day it was fetched)."""
    rows = session.execute(select(AwsPrice)).scalars()
    return {(r.family, r.size, r.region, r.engine): (r.usd_per_hour, _as_day(r.fetched_at)) for r in rows}


def book(*, session: Session) -> PriceBook:
    """A PriceBook of the stored API prices, with the bundled table behind them."""
    known = {key: (usd, day) for key, (usd, day) in stored(session=session).items() if usd is not None}
    return PriceBook(api=known)


def store(*, session: Session, rows: Iterable[dict], fetched_at: datetime | None = None) -> int:
    """Insert or update prices by (family, size, region, engine); a row whose usd_per_hour is None records that
    the API had no price for it. Returns how many."""
    now = fetched_at or utcnow()
    existing = {(r.family, r.size, r.region, r.engine): r for r in session.execute(select(AwsPrice)).scalars()}
    count = 0
    for row in rows:
        key = (row["family"], row["size"], row["region"], row.get("engine", ""))
        price = existing.get(key) or AwsPrice(family=key[0], size=key[1], region=key[2], engine=key[3])
        usd = row.get("usd_per_hour")
        price.usd_per_hour, price.effective_date = (float(usd) if usd is not None else None), row.get("effective_date")
        price.sku, price.fetched_at = str(row.get("sku", ""))[:64], now
        session.add(price)
        existing[key] = price
        count += 1
    session.commit()
    return count


def _asked(key: Key) -> list[Key]:
    """The keys one query answers: both Fargate rates of a region, else the key itself."""
    return [("fargate", size, key[2], "") for size in ("vcpu", "gb")] if key[0] == "fargate" else [key]


def fetch(*, session: Session, client, keys: Iterable[Key]) -> dict:
    """Fetch and store the prices of `keys` (a key the API has no price for is stored as asked, without one);
    counts {"asked", "stored" (prices), "errors": [message, ...]}."""
    asked, rows, errors = 0, [], []
    for key in sorted(set(keys)):
        asked += 1
        try:
            answer = aws_pricing.fetch(client, key)
            got = {(r["family"], r["size"], r["region"], r["engine"]) for r in answer}
            rows += answer + [dict(zip(("family", "size", "region", "engine"), k, strict=True), usd_per_hour=None)
                              for k in _asked(key) if k not in got]  # fmt: skip
        except (BotoCoreError, ClientError) as exc:
            errors.append(f"{'/'.join(k for k in key if k)}: {describe(exc)}")
            if len(errors) >= 3:  # the same refusal for every key (a missing permission): stop asking
                log.warning("AWS Price List API: %s; stopped after %d errors", errors[-1], len(errors))
                break
    if rows:
        store(session=session, rows=rows)
    return {"asked": asked, "stored": sum(1 for r in rows if r["usd_per_hour"] is not None), "errors": errors}


def _fargate_key(key: Key) -> Key:
    """Both Fargate rates of a region come from one query: ask for one key per region."""
    return ("fargate", "vcpu", key[2], "") if key[0] == "fargate" else key


def fetch_missing(*, session: Session, client, keys: Iterable[Key]) -> dict:
    """Fetch the prices of `keys` never asked of the API yet (see `fetch`); one it had none for is asked again
    when `refresh_stale` finds it a week old."""
    have = set(stored(session=session))
    return fetch(session=session, client=client, keys={_fargate_key(k) for k in keys if k not in have})


def refresh_stale(*, session: Session, client, now: datetime | None = None) -> dict:
    """Re-fetch every stored price fetched more than a week before `now` (see `fetch`)."""
    cutoff = (now or utcnow()) - MAX_AGE
    rows = session.execute(select(AwsPrice).where(col(AwsPrice.fetched_at) <= cutoff)).scalars()
    return fetch(session=session, client=client, keys={_fargate_key((r.family, r.size, r.region, r.engine))
                                                         for r in rows})  # fmt: skip


def summary(*, session: Session) -> tuple[int, datetime | None]:
    """How many prices are stored and when the newest was fetched."""
    stmt = select(func.count(col(AwsPrice.id)), func.max(col(AwsPrice.fetched_at))).where(
        col(AwsPrice.usd_per_hour).is_not(None)
    )
    count, newest = session.execute(stmt).one()
    return int(count), newest
