"""Cost math over workflow runs: pure functions over runs and monthly bills (no I/O, no Streamlit).

Runs are `finops.data.executions.RUN_COLUMNS` with the cost in exact micro-units (`cost_micros`); sums stay
integers until the end, so every total here equals the store's own sum.
"""

import pandas as pd

from finops.money import micros_to_amount

SPREAD = ["runs", "cost", "cost_per_run", "median_per_run", "p90_per_run", "min_per_run", "max_per_run", "share_pct"]


def _amount(micros: pd.Series) -> pd.Series:
    return micros_to_amount(micros.astype("int64"))


def _share(cost: pd.Series) -> pd.Series:
    total = cost.sum()
    return cost / total * 100.0 if total else cost * 0.0


def monthly(totals: pd.DataFrame) -> pd.DataFrame:
    """Expects month, runs, cost_micros (`executions.monthly_totals`); returns month, runs, cost, by month."""
    out = totals.sort_values("month", ignore_index=True)
    return out.assign(cost=_amount(out.pop("cost_micros")) if len(out) else pd.Series(dtype="float64"))


def daily(runs: pd.DataFrame) -> pd.DataFrame:
    """Expects started_at, cost_micros; returns day (date), runs, cost: the trend."""
    if runs.empty:
        return pd.DataFrame(columns=["day", "runs", "cost"])
    day = runs["started_at"].dt.tz_convert("UTC").dt.date.rename("day")
    out = runs.groupby(day).agg(runs=("cost_micros", "size"), cost=("cost_micros", "sum"))
    out["cost"] = _amount(out["cost"])
    return out.reset_index().sort_values("day", ignore_index=True)


def spread(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per `keys` (e.g. workflow_id, workflow_name or user): runs, cost, the cost per run (mean, median, 90th
    percentile, min, max) and the share of the total, most expensive first."""
    if runs.empty:
        return pd.DataFrame(columns=[*keys, *SPREAD])
    grouped = runs.groupby(keys, sort=False)["cost_micros"]
    out = grouped.agg(runs="size", cost="sum", median_per_run="median", min_per_run="min", max_per_run="max")
    out["p90_per_run"] = grouped.quantile(0.9)
    out["cost_per_run"] = out["cost"] / out["runs"]
    for column in ("cost", "cost_per_run", "median_per_run", "p90_per_run", "min_per_run", "max_per_run"):
        out[column] = micros_to_amount(out[column].astype("float64")) if column != "cost" else _amount(out[column])
    out["share_pct"] = _share(out["cost"])
    return out.reset_index().sort_values(["cost", *keys], ascending=[False] + [True] * len(keys), ignore_index=True)[
        [*keys, *SPREAD]
    ]


def top_runs(runs: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` most expensive runs, with the cost as an amount (`cost`) instead of micro-units."""
    out = runs.sort_values(["cost_micros", "execution_id"], ascending=[False, True]).head(n).copy()
    out["cost"] = _amount(out.pop("cost_micros"))
    return out.reset_index(drop=True)


def combined(infra: pd.DataFrame, executions: pd.DataFrame, metric: str, in_bill: bool) -> pd.DataFrame:
    """The cloud bill and execution costs side by side per month and currency.

    Expects infra: month, currency, <metric>; executions: month, cost (USD). Returns month, currency,
    infrastructure_cost, execution_cost, total_cost, execution_share_pct. When `in_bill`, executions ran on
    infrastructure the bill already holds: the total is the bill and executions are a share of it (never added
    twice); otherwise the total is their sum. Amounts in different currencies are never added together.
    """
    columns = ["month", "currency", "infrastructure_cost", "execution_cost", "total_cost", "execution_share_pct"]
    bill = infra.groupby(["month", "currency"], as_index=False)[metric].sum()
    bill = bill.rename(columns={metric: "infrastructure_cost"})
    runs = executions[["month", "cost"]].rename(columns={"cost": "execution_cost"}).assign(currency="USD")
    out = bill.merge(runs, on=["month", "currency"], how="outer")
    if out.empty:
        return pd.DataFrame(columns=columns)
    out[["infrastructure_cost", "execution_cost"]] = out[["infrastructure_cost", "execution_cost"]].fillna(0.0)
    infra_cost, execution_cost = out["infrastructure_cost"], out["execution_cost"]
    out["total_cost"] = infra_cost if in_bill else infra_cost + execution_cost
    out["execution_share_pct"] = execution_cost / out["total_cost"].where(out["total_cost"] != 0) * 100.0
    return out.sort_values(["month", "currency"], ignore_index=True)[columns]
