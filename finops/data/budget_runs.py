"""Budget evaluation, the one module that writes budget_period and budget_alert: the sidecar runs it after every
new data version and at least hourly (`finops budgets evaluate [--at DAY]` on demand).

For every active budget: its period as of the instant, the amount (fixed; or an automatic one set at the
period's first evaluation and kept for the period), actual and forecast spend (`finops.data.budget_costs`), the
status, and an alert for each threshold crossed. An alert happens once per threshold and period whoever
evaluates and however often: the database's unique constraint decides, not memory. A new alert queues its
channels (`finops.data.notifications`) and proposes its action (`finops.data.budget_actions`) in the same
transaction. A budget whose figures fail is logged and skipped; the others are evaluated.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from finops.budgeting import evaluation, periods
from finops.budgeting.evaluation import Figures
from finops.budgeting.specs import INBOX, ThresholdSpec
from finops.data import budget_actions, budgets, db, notifications
from finops.data.access import Actor
from finops.data.budget_costs import Costs, period_of
from finops.data.tables import Budget, BudgetAlert, BudgetPeriod, BudgetThreshold, utcnow
from finops.money import amount_to_micros, micros_to_amount

log = logging.getLogger(__name__)
STATUS_COLUMNS = ["name", "scope", "period_start", "period_end", "amount", "actual", "forecast", "pct_actual",
                  "pct_forecast", "status"]  # fmt: skip
EXTRA_COLUMNS = ["id", "owner", "period", "basis", "forecast_basis", "amount_basis", "thresholds", "crossed"]


@dataclass
class Result:
    """One budget's evaluation: its period, amount, figures, status and crossed thresholds."""

    budget: Budget
    thresholds: list[BudgetThreshold]
    specs: list[ThresholdSpec]
    start: date
    end: date
    amount: float
    amount_basis: str
    figures: Figures
    status: str
    crossed: list[int]
    amount_is_new: bool


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _stored_periods(session: Session, wanted: set[tuple[int, date]]) -> dict[tuple[int, date], BudgetPeriod]:
    ids, starts = list({i for i, _ in wanted}), list({d for _, d in wanted})
    stmt = select(BudgetPeriod).where(col(BudgetPeriod.budget_id).in_(ids), col(BudgetPeriod.period_start).in_(starts))
    return {
        (p.budget_id, p.period_start): p
        for p in session.execute(stmt).scalars()
        if (p.budget_id, p.period_start) in wanted
    }


def _amount(
    costs: Costs, budget: Budget, stored: BudgetPeriod | None, figures: Figures, start
) -> tuple[float, str, bool]:
    """(amount, how it was set, whether it is set now) for the budget's current period."""
    if budget.amount_micros is not None:
        return micros_to_amount(budget.amount_micros), "fixed", True
    if stored is not None and _aware(stored.amount_set_at) >= _aware(budget.updated_at):
        return micros_to_amount(stored.amount_micros), stored.amount_basis, False
    if budget.auto_basis == "forecast" and figures.known and figures.forecast > 0:
        return figures.forecast, f"forecast as of {costs.day} ({figures.forecast_basis})", True
    prior = [
        (s, e) for s, e in periods.previous(start, budget.period, budget.auto_periods) if costs.has_history(budget, e)
    ]
    if not prior:
        return 0.0, "automatic, but no history yet: give an amount", True
    spent = [costs.past_spend(budget, s, e) for s, e in prior]
    names = ", ".join(periods.label(s, budget.period) for s, _ in prior)
    return sum(spent) / len(spent), f"average of {len(prior)} periods ({names})", True


def compute(session: Session, items: list[tuple[Budget, list[BudgetThreshold]]], as_of: datetime) -> list[Result]:
    """Every budget's figures as of `as_of` (reads only); a budget whose figures fail is logged and left out."""
    if not items:
        return []
    current = {b.id or 0: period_of(b, as_of) for b, _ in items}
    stored = _stored_periods(session, {(i, s) for i, (s, _e) in current.items()})
    lookback, past = {}, set()
    for b, _ in items:
        start = current[b.id or 0][0]
        if b.amount_micros is None and b.auto_basis == "average":
            lookback[b.id or 0] = periods.shift(start, b.period, -b.auto_periods)[0]
            kept = stored.get((b.id or 0, start))
            if b.scope != "platform" and (kept is None or _aware(kept.amount_set_at) < _aware(b.updated_at)):
                past.update(periods.previous(start, b.period, b.auto_periods))  # the amount is set now
    costs = Costs(session, as_of, [b for b, _ in items], lookback, past)
    out = []
    for budget, thresholds in items:
        start, end = current[budget.id or 0]
        try:
            figures = costs.figures(budget)
            amount, basis, is_new = _amount(costs, budget, stored.get((budget.id or 0, start)), figures, start)
        except Exception:  # one budget's bad data must not stop the others
            log.exception("budget %s (%s) could not be evaluated", budget.id, budget.name)
            continue
        specs = [budgets.threshold_spec(t) for t in thresholds]
        out.append(Result(budget, thresholds, specs, start, end, amount, basis, figures,
                          evaluation.status(specs, amount, figures), evaluation.crossed(specs, amount, figures),
                          is_new))  # fmt: skip
    return out


def _store_periods(session: Session, results: list[Result], as_of: datetime) -> None:
    """Each budget's figures in its period: new period rows inserted, existing ones updated, in two executemany
    statements (a thousand budgets are a thousand rows)."""
    now = utcnow()
    table = db.table_of(BudgetPeriod)
    stored = _stored_periods(session, {(r.budget.id or 0, r.start) for r in results})
    fresh, changed = [], []
    for r in results:
        values = {
            "actual_micros": amount_to_micros(round(r.figures.actual, 6)),
            "forecast_micros": amount_to_micros(round(r.figures.forecast, 6)),
            "basis": r.figures.basis, "forecast_basis": r.figures.forecast_basis[:200], "status": r.status,
            "as_of": as_of, "evaluated_at": now,
        }  # fmt: skip
        row = stored.get((r.budget.id or 0, r.start))
        amount = {"amount_micros": amount_to_micros(round(r.amount, 6)), "amount_set_at": now,
                  "amount_basis": r.amount_basis[:200]}  # fmt: skip
        if row is None:
            fresh.append({"budget_id": r.budget.id, "period_start": r.start, "period_end": r.end, **amount, **values})
        else:
            changed.append({"row_id": row.id, **(amount if r.amount_is_new else {
                "amount_micros": row.amount_micros, "amount_set_at": row.amount_set_at,
                "amount_basis": row.amount_basis}), **values})  # fmt: skip
    db.insert_missing(session, BudgetPeriod, fresh, ["budget_id", "period_start"])
    if changed:
        columns: dict = {k: bindparam(k) for k in changed[0] if k != "row_id"}
        session.execute(update(table).where(table.c.id == bindparam("row_id")).values(**columns), changed)


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _subject(r: Result, spec: ThresholdSpec) -> str:
    value = r.figures.actual if spec.on == "actual" else r.figures.forecast
    label = periods.label(r.start, r.budget.period)
    return f"Budget {r.budget.name}: {spec.on} spend {_money(value)} reached {spec.label()} ({label})"


def _body(r: Result, spec: ThresholdSpec, scope: str, action: Any) -> str:
    """An alert's text: the budget, its period, the figures, and the action it proposes."""
    value = r.figures.actual if spec.on == "actual" else r.figures.forecast
    label = periods.label(r.start, r.budget.period)
    pct = evaluation.percent(value, r.amount)
    lines = [
        f"Budget: {r.budget.name} ({scope}), owner {r.budget.owner}",
        f"Period: {label} ({r.start} to {r.end})",
        f"Threshold: {spec.label()} = {_money(spec.limit(r.amount))}",
        f"Amount: {_money(r.amount)} ({r.amount_basis})",
        f"Actual to date: {_money(r.figures.actual)} ({r.figures.basis})",
        f"Forecast to period end: {_money(r.figures.forecast)} ({r.figures.forecast_basis})",
    ]
    if pct is not None:
        lines.append(f"Crossing value: {pct:g} % of the amount")
    if action is not None:
        n = sum(
            1 for x in action.preview.get("resources", []) if not str(x.get("change", "")).startswith(("none", "kept"))
        )
        what = f"{action.action} {n} resources" + (
            f" (schedule {action.schedule_name})" if action.schedule_name else ""
        )
        saved = _money(action.preview.get("saved_per_day", 0.0))
        lines.append(f"Action {action.id}: {what}, saving {saved} a day: {action.status.replace('_', ' ')}"
                     + (f" (Budgets page, or: python -m finops budgets approve {action.id})"
                        if action.status == budget_actions.AWAITING else ""))  # fmt: skip
    return "\n".join(lines)


def _alert(session: Session, r: Result, i: int, settings: Any, as_of: datetime, scope: str) -> tuple[int, int, int]:
    """Record threshold i's alert unless it exists; (alerts, actions, queued) added."""
    row, spec = r.thresholds[i], r.specs[i]
    value = r.figures.actual if spec.on == "actual" else r.figures.forecast
    subject = _subject(r, spec)
    values = {
        "budget_id": r.budget.id, "threshold_id": row.id, "period_start": r.start, "period_end": r.end,
        "budget_name": r.budget.name, "owner": r.budget.owner, "threshold": spec.label(), "on": spec.on,
        "value_micros": amount_to_micros(round(value, 6)),
        "limit_micros": amount_to_micros(round(spec.limit(r.amount), 6)),
        "amount_micros": amount_to_micros(round(r.amount, 6)), "basis": r.figures.basis, "message": subject,
        "created_at": utcnow(),
    }  # fmt: skip
    alert_id = db.insert_new(session, BudgetAlert, values, ["budget_id", "threshold_id", "period_start"])
    if alert_id is None:
        return 0, 0, 0
    action = budget_actions.propose(session, budget=r.budget, threshold=row, alert_id=alert_id, label=spec.label(),
                                    now=as_of)  # fmt: skip
    body = _body(r, spec, scope, action)
    channels = [c for c in spec.channels if c != INBOX]
    queued = notifications.enqueue(session, alert_id=alert_id, channels=channels, subject=subject, body=body,
                                   settings=settings)  # fmt: skip
    return 1, int(action is not None), queued


def _raised(session: Session, results: list[Result]) -> set[tuple[int, int, date]]:
    """(budget, threshold, period start) of the alerts already raised in the results' periods: skipped without a
    write. The unique constraint still decides between two writers racing on a new one (`_alert`)."""
    if not results:
        return set()
    a = BudgetAlert
    stmt = select(col(a.budget_id), col(a.threshold_id), col(a.period_start)).where(
        col(a.period_start) >= min(r.start for r in results)
    )
    return {(b, t, pd.Timestamp(d).date()) for b, t, d in session.execute(stmt)}


def evaluate(*, session: Session, settings: Any, as_of: datetime | None = None) -> dict:
    """Evaluate every active budget as of `as_of` (default now) and store what it found; counts {"budgets",
    "alerts", "actions", "queued", "skipped"}. One transaction: a crash leaves the store as it was."""
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    items = budgets.load_active(session)
    results = compute(session, items, as_of)
    counts = {"budgets": len(items), "alerts": 0, "actions": 0, "queued": 0, "skipped": len(items) - len(results)}
    _store_periods(session, results, as_of)
    raised = _raised(session, results)
    for r in results:
        crossed = [i for i in r.crossed if (r.budget.id, r.thresholds[i].id, r.start) not in raised]
        scope = budgets.scope_label(session, r.budget) if crossed else ""
        for i in crossed:
            alerts, actions, queued = _alert(session, r, i, settings, as_of, scope)
            counts["alerts"] += alerts
            counts["actions"] += actions
            counts["queued"] += queued
    session.commit()
    return counts


def status(*, session: Session, actor: Actor, as_of: datetime | None = None) -> pd.DataFrame:
    """The figures of the budgets the actor may see, computed now without storing anything: STATUS_COLUMNS then
    EXTRA_COLUMNS. The amount of an automatic budget is the one its period's first evaluation fixed."""
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    mine = {b.id for b in budgets.visible(session, actor)}
    items = [(b, t) for b, t in budgets.load_active(session) if b.id in mine]
    rows = []
    for r in compute(session, items, as_of):
        rows.append([
            r.budget.name, budgets.scope_label(session, r.budget), r.start, r.end, round(r.amount, 2),
            round(r.figures.actual, 2), round(r.figures.forecast, 2), evaluation.percent(r.figures.actual, r.amount),
            evaluation.percent(r.figures.forecast, r.amount), r.status, r.budget.id, r.budget.owner, r.budget.period,
            r.figures.basis, r.figures.forecast_basis, r.amount_basis, "; ".join(s.label() for s in r.specs),
            "; ".join(r.specs[i].label() for i in r.crossed),
        ])  # fmt: skip
    return pd.DataFrame(rows, columns=STATUS_COLUMNS + EXTRA_COLUMNS)


def last_evaluated(session: Session) -> datetime | None:
    """When the newest stored evaluation ran (None: never)."""
    value = session.execute(
        select(col(BudgetPeriod.evaluated_at)).order_by(col(BudgetPeriod.evaluated_at).desc()).limit(1)
    ).scalar()
    return _aware(value) if value is not None else None
