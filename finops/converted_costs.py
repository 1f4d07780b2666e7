"""The cost reads of `finops.data.queries` with every currency converted to USD at imported rates (`finops.fx`).

Same signatures as their `queries` namesakes (the `currency` argument is the `fx.ALL` choice itself). Days convert
at the rate in force on the day, months at the rate in force on the month's first day; fx.NoRate when an amount
has none. Amounts are converted first and summed after, so USD and converted amounts add up only here.
"""

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlmodel import Session

from finops import costs, fx
from finops.data import exchange_rates, queries

METRICS = list(fx.METRICS)


def _per_currency_daily(
    session: Session, start: date, end: date, accounts: Sequence[str], services: Sequence[str], providers
) -> pd.DataFrame:
    frames = [
        queries.daily_costs(session=session, start=start, end=end, accounts=accounts, services=services,
                            currency=c, providers=providers).assign(currency=c)
        for c in queries.currencies(session=session)
    ]  # fmt: skip
    frames = [f for f in frames if len(f)]
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["day", "service", "currency", *METRICS])
    )


def daily_costs(
    *, session: Session, start: date, end: date, accounts: Sequence[str] = (), services: Sequence[str] = (),
    currency: str | None = None, providers: Sequence[str] = (),
) -> pd.DataFrame:  # fmt: skip
    """Cost per day and service in USD, converted: day, service, unblended_cost, amortized_cost."""
    del currency
    rows = _per_currency_daily(session, start, end, accounts, services, providers)
    if rows.empty:
        return pd.DataFrame(columns=["day", "service", *METRICS])
    converted = fx.convert(rows, exchange_rates.rates(session=session), "day")
    return costs.sum_by(converted, ["day", "service"], METRICS)


def service_costs(
    *, session: Session, start: date, end: date, currency: str | None = None, accounts: Sequence[str] = (),
    providers: Sequence[str] = (),
) -> pd.DataFrame:  # fmt: skip
    """Cost per service in USD, converted day by day: service, unblended_cost, amortized_cost."""
    daily = daily_costs(
        session=session, start=start, end=end, accounts=accounts, currency=currency, providers=providers
    )
    if daily.empty:
        return pd.DataFrame(columns=["service", *METRICS])
    return costs.sum_by(daily, ["service"], METRICS)


def total_cost(*, session: Session, start: date, end: date, currency: str | None = None) -> dict[str, float]:
    """Total of each metric in USD, converted day by day."""
    daily = daily_costs(session=session, start=start, end=end, currency=currency)
    return {m: round(float(daily[m].sum()), 6) if len(daily) else 0.0 for m in METRICS}


def monthly_summary(
    *, session: Session, start: date, end: date, by: Sequence[str] = (), accounts: Sequence[str] = (),
    services: Sequence[str] = (), currency: str | None = None, providers: Sequence[str] = (),
) -> pd.DataFrame:  # fmt: skip
    """Cost per month (and `by`) in USD, converted at each month's first-day rate; `currency` is USD."""
    del currency
    rows = queries.monthly_summary(session=session, start=start, end=end, by=by, accounts=accounts,
                                   services=services, providers=providers)  # fmt: skip
    keys = ["month"] + ["service"] * ("service" in by) + ["account_id"] * ("account" in by)
    if rows.empty:
        return rows
    converted = fx.convert(rows, exchange_rates.rates(session=session), "month")
    out = costs.sum_by(converted, keys, METRICS)
    if "account" in by:
        out = out.merge(rows.groupby(keys, as_index=False)["account_name"].max(), on=keys, how="left")
    out["currency"] = fx.REPORTING
    return out
