"""Cost anomalies per service and per account of the cost rows, with the accounts or services behind each."""

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from finops.models.anomaly_detector import (
    DEFAULT_MIN_IMPACT,
    DEFAULT_MIN_PCT,
    DEFAULT_THRESHOLD,
    DETECT_COLUMNS,
    MIN_HISTORY_DAYS,
    empty_frame,
    expected_cost,
    find_anomalies,
)

TOP_CONTRIBUTORS = 5
COST_COLUMNS = ["dimension", "service", "account_id", *DETECT_COLUMNS, "contributors", "external_id", "event_id"]
SAME_DAYS_SHARE = 0.5  # two views of one rise share at least half the days of the shorter one
KEY_COLUMN = {"service": "service", "account": "account_id"}

log = logging.getLogger(__name__)


@dataclass
class _Costs:
    """Cost rows as arrays: `row` is the index of the day in `days`; keys are codes into `names`."""

    days: pd.DatetimeIndex
    row: np.ndarray
    cost: np.ndarray
    codes: dict[str, np.ndarray]
    names: dict[str, np.ndarray]


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each value, and the name (str, "" for missing) of each code."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    names = ["" if pd.isna(u) else str(u) for u in uniques]
    merged, names = pd.factorize(pd.Series(names, dtype=object))  # 1 and "1" are one account
    return merged[codes], np.asarray(names, dtype=object)


def _cost_rows(daily: pd.DataFrame) -> _Costs | None:
    """The arrays of `daily`, or None when it has no row with a readable day."""
    missing = {"day", "account_id", "service", "unblended_cost"} - set(daily.columns)
    if missing:
        raise ValueError(f"daily costs need columns day, account_id, service, unblended_cost (missing {missing})")
    # 2 M rows hold a few hundred distinct days: parse those, not every row
    codes, uniques = pd.factorize(daily["day"])
    stamps = pd.to_datetime(pd.Series(uniques, dtype=object), errors="coerce")
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_localize(None)
    stamps = stamps.dt.normalize()
    if stamps.isna().all():
        return None
    first, last = stamps.min(), stamps.max()
    offsets = np.append((stamps - first).dt.days.fillna(-1).to_numpy(dtype=np.int64), -1)
    row = offsets[codes]  # code -1 (no day) picks the appended -1
    ok = row >= 0
    cost = pd.to_numeric(daily["unblended_cost"], errors="coerce").astype(float).to_numpy()
    keys = {key: _codes(daily[key][ok]) for key in ("service", "account_id")}
    return _Costs(
        days=pd.date_range(first, last, freq="D"),
        row=row[ok],
        cost=np.nan_to_num(cost[ok], nan=0.0, posinf=0.0, neginf=0.0),
        codes={key: codes for key, (codes, _) in keys.items()},
        names={key: names for key, (_, names) in keys.items()},
    )


def _panel(rows: np.ndarray, columns: np.ndarray, cost: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Days x series matrix of summed cost; a day with no row is 0."""
    flat = np.bincount(rows * shape[1] + columns, weights=cost, minlength=shape[0] * shape[1])
    return flat.reshape(shape)


def _warn_unscored(dimension: str, names: np.ndarray, values: np.ndarray) -> None:
    """Log the series of `values` that cannot be scored at all, and why; the others go on."""
    alive = values > 0
    span = np.where(alive.any(axis=0), len(values) - alive.argmax(axis=0), 0)
    for reason, bad in (
        ("no positive cost", span == 0),
        (f"under {MIN_HISTORY_DAYS + 1} days since its first cost", (span > 0) & (span <= MIN_HISTORY_DAYS)),
    ):
        if bad.any():
            listed = ", ".join(names[bad][:10]) + (f" and {bad.sum() - 10} more" if bad.sum() > 10 else "")
            log.warning("anomalies: %d %s series not scored (%s): %s", bad.sum(), dimension, reason, listed)


@dataclass
class _Pairs:
    """Running sums of the actual and expected cost of (service, account) pairs: row t sums the days before t."""

    service: np.ndarray
    account: np.ndarray
    actual: np.ndarray
    expected: np.ndarray


def _pairs(costs: _Costs, wanted: dict[str, np.ndarray]) -> _Pairs:
    """The pairs of the `wanted` key codes (by key column), modelled once for both dimensions."""
    mine = np.zeros(len(costs.row), dtype=bool)
    for key, codes in wanted.items():
        mine |= np.isin(costs.codes[key], codes)
    n_accounts = len(costs.names["account_id"])
    pair = costs.codes["service"][mine] * n_accounts + costs.codes["account_id"][mine]
    pairs, column = np.unique(pair, return_inverse=True)
    values = _panel(costs.row[mine], column, costs.cost[mine], (len(costs.days), len(pairs)))
    expected, _ = expected_cost(values, costs.days)
    zeros = np.zeros((1, len(pairs)))
    return _Pairs(
        service=pairs // n_accounts,
        account=pairs % n_accounts,
        actual=np.vstack([zeros, np.cumsum(values, axis=0)]),
        # a pair too young to be expected anything (an account starting a service) explains all its cost
        expected=np.vstack([zeros, np.cumsum(np.nan_to_num(expected), axis=0)]),
    )


def _contributors(costs: _Costs, found: pd.DataFrame, key: str, pairs: _Pairs) -> list[list[dict]]:
    """For each anomaly, the sub-series of the other dimension that moved most over its window."""
    owners, others, names = (
        (pairs.service, pairs.account, costs.names["account_id"])
        if key == "service"
        else (pairs.account, pairs.service, costs.names["service"])
    )
    start = (pd.to_datetime(found["start_day"]) - costs.days[0]).dt.days.to_numpy()
    end = (pd.to_datetime(found["end_day"]) - costs.days[0]).dt.days.to_numpy() + 1
    out = []
    for owner, a, b in zip(found["column"], start, end, strict=True):
        cols = np.flatnonzero(owners == owner)
        actual = pairs.actual[b, cols] - pairs.actual[a, cols]
        expected = pairs.expected[b, cols] - pairs.expected[a, cols]
        moved = [
            {"name": names[o], "expected": float(e), "actual": float(x), "impact": float(x - e)}
            for o, x, e in zip(others[cols], actual, expected, strict=True)
            if x or e  # a sub-series with no cost and no expectation in the window explains nothing
        ]
        out.append(sorted(moved, key=lambda d: (-d["impact"], d["name"]))[:TOP_CONTRIBUTORS])
    return out


def detect_costs(
    daily: pd.DataFrame,
    *,
    dimensions: tuple[str, ...] = ("service", "account"),
    since: date | None = None,
    min_impact: float = DEFAULT_MIN_IMPACT,
    min_pct: float = DEFAULT_MIN_PCT,
    threshold: float = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """Anomalies of each service's and each account's daily cost, with the accounts or services behind them.

    `daily`: `day, account_id, service, unblended_cost`, one row per day x account x service (no row is 0).
    Returns COST_COLUMNS: `dimension` ("service" | "account"), `service` and `account_id` (the key, "" for
    the other dimension), the DETECT_COLUMNS of `detect`, `contributors` (up to 5 dicts `name, expected,
    actual, impact` of the other dimension, largest impact first) and `external_id`
    (`"{dimension}:{key}:{start_day}"`, stable between runs) and `event_id` (shared by the service and the
    account view of one rise, see `one_event_per_rise`). Only anomalies ending on or after `since`.
    """
    unknown = set(dimensions) - set(KEY_COLUMN)
    if unknown:
        raise ValueError(f"dimensions must be among {', '.join(KEY_COLUMN)}, got {', '.join(map(str, unknown))}")
    costs = None if daily.empty else _cost_rows(daily)
    found_by: dict[str, pd.DataFrame] = {}
    for dimension in dimensions if costs else ():
        names = costs.names[KEY_COLUMN[dimension]]
        values = _panel(costs.row, costs.codes[KEY_COLUMN[dimension]], costs.cost, (len(costs.days), len(names)))
        _warn_unscored(dimension, names, values)
        found = find_anomalies(values, costs.days, min_impact=min_impact, min_pct=min_pct, threshold=threshold)
        if since is not None:
            found = found[found["end_day"] >= pd.Timestamp(since).date()]
        if len(found):
            found_by[dimension] = found
    if not found_by:
        return empty_frame(COST_COLUMNS)
    pairs = _pairs(costs, {KEY_COLUMN[d]: found["column"].to_numpy() for d, found in found_by.items()})
    frames = []
    for dimension, found in found_by.items():
        key = KEY_COLUMN[dimension]
        labels = costs.names[key][found["column"].to_numpy()]
        found["contributors"] = _contributors(costs, found, key, pairs)
        found["dimension"] = dimension
        found["service"] = labels if key == "service" else ""
        found["account_id"] = labels if key == "account_id" else ""
        found["external_id"] = [
            f"{dimension}:{k}:{d.isoformat()}" for k, d in zip(labels, found["start_day"], strict=True)
        ]
        found["event_id"] = found["external_id"]
        frames.append(found[COST_COLUMNS])
    out = pd.concat(frames, ignore_index=True).sort_values(["start_day", "external_id"], ignore_index=True)
    return one_event_per_rise(out)


def _top(contributors) -> str | None:
    return contributors[0]["name"] if isinstance(contributors, list) and contributors else None


def one_event_per_rise(found: pd.DataFrame) -> pd.DataFrame:
    """Give a service anomaly and an account anomaly the same `event_id` (the service one's external id) when
    they describe the same rise: their days overlap by at least half of the shorter one's, the account is the
    service anomaly's largest contributor and the service the account anomaly's."""
    services = found[found["dimension"] == "service"]
    accounts = found[found["dimension"] == "account"]
    taken: set[int] = set()
    for s in services.itertuples():
        for a in accounts.itertuples():
            if a.Index in taken or _top(s.contributors) != a.account_id or _top(a.contributors) != s.service:
                continue
            overlap = (min(s.end_day, a.end_day) - max(s.start_day, a.start_day)).days + 1
            if overlap >= SAME_DAYS_SHARE * min(s.duration_days, a.duration_days):
                found.at[a.Index, "event_id"] = s.external_id
                taken.add(a.Index)
                break
    return found
