"""What a budget's scope spends in a period, as of an instant: actual spend to date and a forecast to period end,
each marked billed or estimated. Read-only.

- **platform** (narrowed to accounts and services, or not): *billed*, from the stored daily costs (whole months
  from the monthly rollup, the open month from the days). The forecast adds the stored forecast model's days
  after the newest cost day (the total, account or service series that match the scope), scaled to amortized
  cost when the budget counts that; a scope no series matches, and days past the model's horizon, use the run
  rate (the scope's mean daily spend over the last 28 days with data).
- **user** and **group**: *estimated*, from the ledger (`finops.data.ledger`): every running interval of the
  scope's resources in the period times its hourly cost; *billed* for a resource a billing file names
  (`finops.data.resource_bills`, FOCUS imports) up to the newest billed day, its ledger after it (the figure is
  then *partly billed*); plus the scope's workflow runs, priced exactly. The forecast adds, per resource, the
  hours it will run for the rest of the period times its hourly cost now: a scheduled resource by its schedules (the
  reconciler's union rule), one a budget's stop action holds not at all, any other as it is now (running to
  period end, or stopped).

`Costs` loads what one evaluation needs in a handful of queries and answers for every budget from memory.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from finops.budgeting import periods
from finops.budgeting.evaluation import Figures
from finops.data import ledger, resource_bills, schedule_runs
from finops.data.tables import (
    Budget,
    CostDaily,
    CostMonthly,
    Execution,
    ForecastPoint,
    ForecastRun,
    Resource,
    ResourceGroup,
    ResourceGroupMember,
    ResourceInterval,
)
from finops.money import micros_to_amount
from finops.scheduling.timetable import union_running_hours

RUN_RATE_DAYS = 28
RUNNING_STATES = ("running", "pending")
BILLED, ESTIMATED, PARTLY = "billed", "estimated", "partly billed"
Key = tuple[str, str]


def eval_day(as_of: datetime) -> date:
    """The UTC day an evaluation at `as_of` belongs to (midnight belongs to the day before)."""
    return (as_of.astimezone(UTC) - timedelta(microseconds=1)).date()


def period_of(budget: Budget, as_of: datetime) -> tuple[date, date]:
    return periods.bounds(eval_day(as_of), budget.period)


def _metric(budget: Budget) -> str:
    return "amortized" if budget.metric == "amortized" else "unblended"


@dataclass
class _Platform:
    months: pd.DataFrame  # month, account_id, service, unblended, amortized (whole months before this one)
    month_ord: np.ndarray  # months["month"] as proleptic ordinals: comparisons on an object column are slow
    pairs: pd.MultiIndex  # every (account_id, service) with cost data: what the arrays below and windows align to
    open_month: dict[str, np.ndarray]  # per pair, spend of the open month up to the evaluation's day
    recent: dict[str, np.ndarray]  # per pair, spend of the run-rate window [recent_start, last_day]
    recent_start: date | None
    first_day: date | None  # the oldest day with cost data
    last_day: date | None  # the newest day with cost data, up to the evaluation's day
    forecast: pd.DataFrame  # series, ds, yhat of the newest forecast run, after last_day
    month_start: date
    series: set[str]  # the forecast's series


class Costs:
    """One evaluation's costs as of `as_of`, loaded once for `budgets` (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        as_of: datetime,
        budgets: list[Budget],
        lookback: dict[int, date] | None = None,
        past_windows: set[tuple[date, date]] | None = None,
    ):
        self.session, self.as_of = session, as_of.astimezone(UTC)
        self.day = eval_day(self.as_of)
        self.end_excl = self.day + timedelta(days=1)
        self.lookback = lookback or {}  # budget id -> first day an automatic amount reads history from
        self.past_windows = past_windows or set()  # past periods [start, end) of users and groups, read at once
        platform = [b for b in budgets if b.scope == "platform"]
        people = [b for b in budgets if b.scope != "platform"]
        self._windows: dict[tuple[date, date], dict[str, np.ndarray]] = {}
        self._masks: dict[tuple, np.ndarray] = {}
        self._forecast_sums: dict[tuple[date, date], tuple[dict, dict]] = {}
        self._first_interval: list[datetime | None] = []
        self._platform = self._load_platform(platform) if platform else None
        self._load_resources(people)

    # ---- platform -------------------------------------------------------------------------------------------

    def _load_platform(self, budgets: list[Budget]) -> _Platform:
        """Whole months per (month, pair) from the monthly rollup; the open month and the run-rate window summed
        per pair in SQL (every current period starts on a month's first day, so no other day window is asked)."""
        month_start = self.day.replace(day=1)
        first = min([period_of(b, self.as_of)[0] for b in budgets] + list(self.lookback.values()))
        m = CostMonthly
        keys = (col(m.month), col(m.account_id), col(m.service))
        stmt = (
            select(*keys, func.sum(col(m.unblended_micros)), func.sum(col(m.amortized_micros)))
            .where(col(m.month) >= first, col(m.month) < month_start)
            .group_by(*keys)
        )
        months = _frame(self.session, stmt, ["month", "account_id", "service"])
        d, day = CostDaily, col(CostDaily.day)
        first_day, last = self.session.execute(
            select(func.min(day), select(func.max(day)).where(day < self.end_excl).scalar_subquery())
        ).one()
        last_day = pd.Timestamp(last).date() if last is not None else None
        recent_start = None
        if last_day is not None:
            since = last_day - timedelta(days=RUN_RATE_DAYS - 1)
            oldest = self.session.execute(select(func.min(day)).where(day >= since)).scalar()
            recent_start = max(pd.Timestamp(oldest).date(), since)  # a young store: fewer days
        rs = recent_start or month_start
        lo = min(month_start, rs)

        def _sum(column, since: date):
            return func.sum(case((day >= since, col(column)), else_=0))

        stmt = (
            select(
                col(d.account_id), col(d.service),
                _sum(d.unblended_micros, month_start), _sum(d.amortized_micros, month_start),
                _sum(d.unblended_micros, rs), _sum(d.amortized_micros, rs),
            )
            .where(day >= lo, day < self.end_excl)
            .group_by(col(d.account_id), col(d.service))
        )  # fmt: skip
        names = ["account_id", "service", "open_u", "open_a", "recent_u", "recent_a"]
        days = pd.DataFrame([tuple(r) for r in self.session.connection().execute(stmt)], columns=names)
        both = pd.concat([months[["account_id", "service"]], days[["account_id", "service"]]]).drop_duplicates()
        pairs = pd.MultiIndex.from_frame(both) if not both.empty else pd.MultiIndex.from_tuples([], names=["a", "s"])
        aligned = days.set_index(["account_id", "service"]).reindex(pairs).fillna(0)

        def _money(column: str) -> np.ndarray:
            return micros_to_amount(aligned[column].astype("int64")).to_numpy(dtype=float)

        open_month = {"unblended": _money("open_u"), "amortized": _money("open_a")}
        recent = {"unblended": _money("recent_u"), "amortized": _money("recent_a")}
        forecast = self._load_forecast(last_day)
        return _Platform(
            months, _ordinals(months["month"]), pairs, open_month, recent, recent_start,
            pd.Timestamp(first_day).date() if first_day is not None else None, last_day, forecast, month_start,
            set(forecast["series"].unique()),
        )  # fmt: skip

    def _load_forecast(self, last_day: date | None) -> pd.DataFrame:
        newest = select(func.max(col(ForecastRun.id))).where(col(ForecastRun.status) == "ok")
        run = self.session.execute(newest).scalar()
        columns = ["series", "ds", "yhat"]
        if run is None or last_day is None:
            return pd.DataFrame(columns=columns)
        stmt = select(col(ForecastPoint.series), col(ForecastPoint.ds), col(ForecastPoint.yhat)).where(
            col(ForecastPoint.run_id) == run, col(ForecastPoint.ds) > last_day
        )
        frame = pd.DataFrame([tuple(r) for r in self.session.execute(stmt)], columns=columns)
        frame["ds"] = pd.to_datetime(frame["ds"]).dt.date
        return frame

    def _mask(self, budget: Budget) -> np.ndarray:
        """Which (account, service) pairs the budget's scope holds, cached per narrowing."""
        p = self._platform
        assert p is not None
        key = (tuple(budget.accounts), tuple(budget.services))
        if key not in self._masks:
            keep = np.ones(len(p.pairs), dtype=bool)
            if budget.accounts:
                keep &= p.pairs.get_level_values(0).isin(budget.accounts)
            if budget.services:
                keep &= p.pairs.get_level_values(1).isin(budget.services)
            self._masks[key] = keep
        return self._masks[key]

    def _window(self, start: date, end: date) -> dict[str, np.ndarray]:
        """Spend per (account, service) pair over the days [start, end), aligned to the pairs (cached). `start`
        is a month's first day: a whole past period, or a current one (its open month taken to date)."""
        p = self._platform
        assert p is not None
        end = min(end, self.end_excl)
        if (start, end) not in self._windows:
            first, stop = start.toordinal(), min(end, p.month_start).toordinal()
            rows = p.months[(p.month_ord >= first) & (p.month_ord < stop)]
            sums = rows.groupby(["account_id", "service"])[["unblended", "amortized"]].sum().reindex(p.pairs)
            window = {k: sums[k].fillna(0.0).to_numpy() for k in ("unblended", "amortized")}
            if end > p.month_start:
                window = {k: v + p.open_month[k] for k, v in window.items()}
            self._windows[(start, end)] = window
        return self._windows[(start, end)]

    def _platform_spend(self, budget: Budget, start: date, end: date, metric: str | None = None) -> float:
        """Billed spend of the budget's platform scope over the days [start, end) (end at most tomorrow)."""
        return float(self._window(start, end)[metric or _metric(budget)][self._mask(budget)].sum())

    def _series_for(self, budget: Budget) -> list[str] | None:
        """The forecast series whose sum is the scope (None: no series set matches it)."""
        p = self._platform
        assert p is not None
        have = p.series
        if not budget.accounts and not budget.services:
            wanted = ["total"]
        elif budget.accounts and not budget.services:
            wanted = [f"account:{a}" for a in budget.accounts]
        elif budget.services and not budget.accounts:
            wanted = [f"service:{s}" for s in budget.services]
        else:
            return None
        return wanted if all(s in have for s in wanted) else None

    def _forecast_sum(self, series: list[str], first: date, end: date) -> tuple[float, int]:
        """The model's spend of `series` over the days [first, end), and how many of those days it covers."""
        p = self._platform
        assert p is not None
        key = (first, end)
        if key not in self._forecast_sums:
            f = p.forecast
            rows = f[(f["ds"] >= first).to_numpy() & (f["ds"] < end).to_numpy()].groupby("series")
            self._forecast_sums[key] = (rows["yhat"].sum().to_dict(), rows["ds"].nunique().to_dict())
        totals, covered = self._forecast_sums[key]
        return sum(totals.get(s, 0.0) for s in series), min((covered.get(s, 0) for s in series), default=0)

    def _platform_figures(self, budget: Budget, start: date, end: date) -> Figures:
        p = self._platform
        assert p is not None
        actual = self._platform_spend(budget, start, end)
        if p.last_day is None:
            return Figures(0.0, 0.0, BILLED, "no cost data yet", known=False)
        first_rest = max(p.last_day + timedelta(days=1), start)
        rest_days = max(0, (end - first_rest).days)
        assert p.recent_start is not None
        mask = self._mask(budget)
        unblended, metric_sum = float(p.recent["unblended"][mask].sum()), float(p.recent[_metric(budget)][mask].sum())
        rate = metric_sum / ((p.last_day - p.recent_start).days + 1)
        if rest_days == 0:
            return Figures(actual, actual, BILLED, "the period's days are all in")
        series = self._series_for(budget)
        if series is None:
            return Figures(actual, actual + rate * rest_days, BILLED, f"run rate of the last {RUN_RATE_DAYS} days")
        modelled, covered = self._forecast_sum(series, first_rest, end)
        scale = metric_sum / unblended if budget.metric == "amortized" and unblended > 0 else 1.0
        rest = modelled * scale + rate * (rest_days - covered)
        basis = "forecast model" + (" (scaled to amortized)" if scale != 1.0 else "")
        if covered < rest_days:
            basis += f" + run rate for {rest_days - covered} days past its horizon"
        return Figures(actual, actual + rest, BILLED, basis)

    # ---- users and groups -----------------------------------------------------------------------------------

    def _load_resources(self, budgets: list[Budget]) -> None:
        self._members: dict[int, list[Key]] = {}
        self._resources: dict[Key, tuple[float, str, str]] = {}  # hourly cost, state, owner
        self._spent: dict[date, dict[Key, float]] = {}
        self._past: dict[tuple[date, date], dict[Key, float]] = {}
        self._runs: dict[date, tuple[dict[str, float], dict[str, float]]] = {}
        self._bills = resource_bills.Bills()
        self._tail: dict[Key, float] = {}
        if not budgets:
            return
        stmt = select(col(Resource.resource_type), col(Resource.resource_id), col(Resource.hourly_cost),
                      col(Resource.state), col(Resource.owner))  # fmt: skip
        by_owner: dict[str, list[Key]] = defaultdict(list)
        for kind, ident, hourly, state, owner in self.session.execute(stmt).all():
            self._resources[(kind, ident)] = (float(hourly or 0.0), state or "", owner or "")
            by_owner[owner or ""].append((kind, ident))
        group_ids = {b.group_id for b in budgets if b.scope == "group"}
        uids = {
            g.id: g.uid
            for g in self.session.execute(select(ResourceGroup).where(col(ResourceGroup.id).in_(group_ids))).scalars()
        }
        in_group: dict[int, list[Key]] = defaultdict(list)
        m = ResourceGroupMember
        stmt_m = select(col(m.group_id), col(m.resource_type), col(m.resource_id)).where(col(m.group_id).in_(group_ids))
        for group_id, kind, ident in self.session.execute(stmt_m).all():
            in_group[group_id].append((kind, ident))
        for b in budgets:
            if b.scope == "user":
                self._members[b.id or 0] = by_owner.get(b.scope_user, [])
            elif uids.get(b.group_id) == b.group_uid:
                self._members[b.id or 0] = in_group.get(b.group_id, [])
            else:
                self._members[b.id or 0] = []  # the group is gone
        starts = {period_of(b, self.as_of)[0] for b in budgets}
        self._bills = resource_bills.since(self.session, starts, self._resources.keys())
        current = {s: (periods.midnight(s), self.as_of) for s in starts}
        past = {w: (periods.midnight(w[0]), periods.midnight(w[1])) for w in self.past_windows}
        windows = [*current.values(), *past.values()]
        tail = None  # after the newest billed day a billed resource's hours are estimated from the ledger
        last = self._bills.last_day
        if last is not None and last >= min(starts) and periods.midnight(last + timedelta(days=1)) < self.as_of:
            tail = (periods.midnight(last + timedelta(days=1)), self.as_of)
            windows.append(tail)
        spent = ledger.running_costs_in(self.session, windows)
        self._spent = {s: spent[w] for s, w in current.items()}
        self._past = {k: spent[w] for k, w in past.items()}
        self._tail = spent.get(tail, {}) if tail else {}
        self._load_runs(starts)
        self._timetables = schedule_runs.timetables_by_resource(self.session)
        self._held = schedule_runs.budget_holds(self.session, self.as_of)
        self._hours_cache: dict[tuple, float] = {}

    def _rest_hours(self, key: Key, end: datetime) -> float:
        if key in self._held:
            return 0.0
        running = self._resources[key][1] in RUNNING_STATES
        tables = self._timetables.get(key, [])
        cache_key = (tuple(i for i, _ in tables), end, running)
        if cache_key not in self._hours_cache:
            self._hours_cache[cache_key] = union_running_hours([t for _, t in tables], self.as_of, end, running)
        return self._hours_cache[cache_key]

    def _load_runs(self, starts: set[date]) -> None:
        """Workflow runs' costs (exact, from the rate card) per user and per workflow since each period start, and
        over the last RUN_RATE_DAYS (their run rate)."""
        e = Execution
        windows = {start: periods.midnight(start) for start in starts}
        windows[date.min] = self.as_of - timedelta(days=RUN_RATE_DAYS)
        for key, since in windows.items():
            stmt = (
                select(col(e.username), col(e.workflow_id), func.sum(col(e.cost_micros)))
                .where(col(e.started_at) >= since, col(e.started_at) < self.as_of)
                .group_by(col(e.username), col(e.workflow_id))
            )
            by_user: dict[str, float] = defaultdict(float)
            by_workflow: dict[str, float] = defaultdict(float)
            for user, workflow, micros in self.session.execute(stmt).all():
                by_user[user] += micros_to_amount(int(micros or 0))
                by_workflow[workflow] += micros_to_amount(int(micros or 0))
            self._runs[key] = (by_user, by_workflow)

    def _run_cost(self, budget: Budget, key: date) -> float:
        """What the scope's workflow runs cost: a user's own runs; a group's, the runs of the workflows it holds."""
        by_user, by_workflow = self._runs.get(key, ({}, {}))
        if budget.scope == "user":
            return by_user.get(budget.scope_user, 0.0)
        workflows = {ident for kind, ident in self._members.get(budget.id or 0, []) if kind == "workflow"}
        return sum(by_workflow.get(w, 0.0) for w in workflows)

    def _people_figures(self, budget: Budget, start: date, end: date) -> Figures:
        members = [k for k in self._members.get(budget.id or 0, []) if k in self._resources]
        runs, recent_runs = self._run_cost(budget, start), self._run_cost(budget, date.min)
        if not members and not runs and not recent_runs:
            return Figures(0.0, 0.0, ESTIMATED, "no resources or workflow runs in the scope", known=False)
        spent = self._spent.get(start, {})
        billed = self._bills.sums.get(start, {})
        i = 1 if budget.metric == "amortized" else 0
        on_bill = [k for k in members if k in billed]
        actual = sum(billed[k][i] + self._tail.get(k, 0.0) for k in on_bill)
        actual += sum(spent.get(k, 0.0) for k in members if k not in billed) + runs
        end_at = periods.midnight(end)
        rest = sum(self._resources[k][0] * self._rest_hours(k, end_at) for k in members)
        rest += recent_runs / RUN_RATE_DAYS * periods.hours_between(self.as_of, end_at) / 24
        scheduled = sum(1 for k in members if k in self._timetables)
        basis = (
            "running now, to period end" if not scheduled else f"schedules ({scheduled} of {len(members)} resources)"
        )
        if recent_runs:
            basis += f"; workflow runs at their {RUN_RATE_DAYS}-day rate"
        if on_bill:
            basis += f"; billed to {self._bills.last_day} for {len(on_bill)} of {len(members)} resources"
        # runs are priced exactly from the rate card; resource hours are an estimate, a bill's rows are not
        estimated = len(on_bill) < len(members) or any(self._tail.get(k, 0.0) for k in on_bill)
        kind = (PARTLY if on_bill else ESTIMATED) if estimated else BILLED
        return Figures(actual, actual + rest, kind, basis)

    # ---- every scope ----------------------------------------------------------------------------------------

    def figures(self, budget: Budget) -> Figures:
        """The budget's spend in its current period as of the evaluation."""
        start, end = period_of(budget, self.as_of)
        if budget.scope == "platform":
            return self._platform_figures(budget, start, end)
        return self._people_figures(budget, start, end)

    def members(self, budget: Budget) -> list[Key]:
        return list(self._members.get(budget.id or 0, []))

    def past_spend(self, budget: Budget, start: date, end: date) -> float:
        """Spend of the scope over a past period [start, end) (the average an automatic amount takes)."""
        if budget.scope == "platform":
            return self._platform_spend(budget, start, end)
        if (start, end) not in self._past:
            window = (periods.midnight(start), periods.midnight(end))
            self._past[(start, end)] = ledger.running_costs(self.session, *window)
        spent = self._past[(start, end)]
        return sum(spent.get(k, 0.0) for k in self.members(budget))

    def has_history(self, budget: Budget, before: date) -> bool:
        """Whether anything is known of the scope before `before` (an average over empty periods means nothing)."""
        if budget.scope == "platform":
            p = self._platform
            return p is not None and (
                bool((p.month_ord < before.toordinal()).any()) or (p.first_day is not None and p.first_day < before)
            )
        if not self._first_interval:  # asked once per evaluation
            self._first_interval.append(
                self.session.execute(select(func.min(col(ResourceInterval.started_at)))).scalar()
            )
        first = self._first_interval[0]
        return first is not None and first.replace(tzinfo=first.tzinfo or UTC) < periods.midnight(before)


def _ordinals(days: pd.Series) -> np.ndarray:
    return np.fromiter((d.toordinal() for d in days), dtype=np.int64, count=len(days))


def _frame(session: Session, stmt, keys: list[str]) -> pd.DataFrame:
    rows = [tuple(r) for r in session.connection().execute(stmt)]
    frame = pd.DataFrame.from_records(rows, columns=[*keys, "unblended_micros", "amortized_micros"])
    for metric in ("unblended", "amortized"):
        frame[metric] = micros_to_amount(frame.pop(f"{metric}_micros").astype("int64"))
    for key in ("month", "day"):
        if key in frame:
            frame[key] = pd.to_datetime(frame[key]).dt.date
    return frame


def daily_spend(session: Session, budget: Budget, as_of: datetime) -> pd.DataFrame:
    """The scope's spend per day of its current period up to `as_of` (the budget chart): day, spend."""
    start, end = period_of(budget, as_of)
    last = min(end, eval_day(as_of) + timedelta(days=1))
    if budget.scope == "platform":
        c, day = CostDaily, col(CostDaily.day)
        column = col(c.amortized_micros) if budget.metric == "amortized" else col(c.unblended_micros)
        stmt = select(day, func.sum(column)).where(day >= start, day < last).group_by(day).order_by(day)
        if budget.accounts:
            stmt = stmt.where(col(c.account_id).in_(budget.accounts))
        if budget.services:
            stmt = stmt.where(col(c.service).in_(budget.services))
        rows = [(pd.Timestamp(d).date(), micros_to_amount(int(v or 0))) for d, v in session.connection().execute(stmt)]
        return pd.DataFrame(rows, columns=["day", "spend"])
    keys = set(Costs(session, as_of, [budget]).members(budget))
    spend: dict[date, float] = defaultdict(float)
    newest = resource_bills.last_billed_day(session)
    on_bill: set[Key] = set()
    if newest is not None and newest >= start:
        until = min(newest, eval_day(as_of))
        for billed_day, costs in resource_bills.daily(session, start, until, keys, budget.metric).items():
            spend[billed_day] += sum(costs.values())
            on_bill.update(costs)
    billed_until = periods.midnight(newest + timedelta(days=1)) if on_bill and newest is not None else None
    found = ledger.intervals(
        session=session, start=periods.midnight(start), end=as_of.astimezone(UTC), state=ledger.RUNNING
    )
    for kind, ident, lo, hi, hourly in zip(found["resource_type"], found["resource_id"], found["started_at"],
                                           found["ended_at"], found["hourly_cost"], strict=True):  # fmt: skip
        if (kind, ident) not in keys:
            continue
        if (kind, ident) in on_bill and billed_until is not None:
            lo = max(lo, billed_until)  # the bill has its days; the ledger estimates only after them
        while lo < hi:
            cut = min(hi, periods.midnight(lo.date() + timedelta(days=1)))
            spend[lo.date()] += (cut - lo).total_seconds() / 3600 * float(hourly)
            lo = cut
    return pd.DataFrame(sorted(spend.items()), columns=["day", "spend"])


def scope_resources(session: Session, budget: Budget) -> list[Resource]:
    """The inventory resources a budget's actions act on: the user's, the group's members, or for a platform
    budget those in its accounts (every resource when it names none)."""
    stmt = select(Resource).order_by(col(Resource.resource_type), col(Resource.resource_id))
    if budget.scope == "user":
        return list(session.execute(stmt.where(col(Resource.owner) == budget.scope_user)).scalars())
    if budget.scope == "group":
        group = session.get(ResourceGroup, budget.group_id) if budget.group_id else None
        if group is None or group.uid != budget.group_uid:
            return []
        keys = set(session.execute(select(col(ResourceGroupMember.resource_type), col(ResourceGroupMember.resource_id))
                                   .where(col(ResourceGroupMember.group_id) == group.id)).all())  # fmt: skip
        return [r for r in session.execute(stmt).scalars() if (r.resource_type, r.resource_id) in keys]
    if budget.accounts:
        stmt = stmt.where(col(Resource.account_id).in_(budget.accounts))
    return list(session.execute(stmt).scalars())
