"""What the Execution Costs page, Overview's combined costs and the API show: store reads + execution cost math."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pandas as pd
from sqlmodel import Session

from finops import run_costs
from finops.data import executions, queries


@dataclass(frozen=True)
class ExecutionView:
    """Execution costs over whole months: per month, day, workflow and user, and the most expensive runs."""

    monthly: pd.DataFrame  # month, runs, cost
    daily: pd.DataFrame  # day, runs, cost
    by_workflow: pd.DataFrame  # workflow_id, workflow_name, run_costs.SPREAD
    by_user: pd.DataFrame  # user, run_costs.SPREAD
    top_runs: pd.DataFrame  # executions.RUN_COLUMNS with cost instead of cost_micros
    runs: int
    total: float


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def execution_costs(*, session: Session, start: date, end: date, top_n: int = 20) -> ExecutionView:
    """Runs that started in `[start, end)` (UTC days), summed exactly, with the cost per run and its spread."""
    runs = executions.runs(session=session, start=_moment(start), end=_moment(end))
    totals = executions.monthly_totals(session=session, start=_moment(start), end=_moment(end))
    return ExecutionView(
        monthly=run_costs.monthly(totals),
        daily=run_costs.daily(runs),
        by_workflow=run_costs.spread(runs, ["workflow_id", "workflow_name"]),
        by_user=run_costs.spread(runs, ["user"]),
        top_runs=run_costs.top_runs(runs, top_n),
        runs=len(runs),
        total=float(runs["cost_micros"].sum()) / 1e6 if len(runs) else 0.0,
    )


def combined_costs(*, session: Session, start: date, end: date, metric: str, in_bill: bool) -> pd.DataFrame:
    """The cloud bill (`metric`) and execution costs per month in `[start, end)` (whole months) with their total;
    see `run_costs.combined` for how `in_bill` keeps executions from being counted twice."""
    infra = queries.monthly_summary(session=session, start=start, end=end)
    totals = executions.monthly_totals(session=session, start=_moment(start), end=_moment(end))
    return run_costs.combined(infra, run_costs.monthly(totals), metric, in_bill)
