"""One refresh of the configured cost source: pull the window that can still change and replace it.

`run_refresh` is what the sidecar's scheduled job and a manual "refresh now" call. Failures that happen
before loading (credentials, network, the daily request cap, Cost Explorer errors) are recorded as a failed
`refresh_run` with a one-line message, so the UI's freshness badge shows them, and raised as `RefreshError`.
"""

import logging
from datetime import UTC, date, datetime, timedelta

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)
from sqlalchemy import func, select
from sqlmodel import Session

from finops import costs
from finops.data import aws_errors, ce_features, executions, load
from finops.data.ce_calls import BudgetExceeded, Recorder
from finops.data.sources import aws_ce, demo, demo_executions, resolve_source
from finops.data.tables import CostDaily, RefreshRun
from finops.settings import Settings

log = logging.getLogger(__name__)

CENT_MICROS = 10_000


class RefreshError(RuntimeError):
    """A refresh could not pull its data; the message is one human-readable line."""


def describe_aws_error(exc: BotoCoreError | ClientError | BudgetExceeded, settings: Settings) -> str:
    """One line saying what went wrong talking to AWS and what to do about it."""
    if isinstance(exc, BudgetExceeded):
        return str(exc)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "no usable AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "or run on a host with an instance role)"
        )
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach the AWS endpoint {exc.kwargs.get('endpoint_url', '')}: check the network".strip()
    if isinstance(exc, ClientError):
        code, message = aws_errors.error_code(exc), aws_errors.error_message(exc)
        detail = f" ({message})" if message else ""
        if code in aws_errors.CREDENTIAL_CODES:
            return f"AWS rejected the credentials: {code}{detail}; renew or replace them"
        if code in aws_errors.DENIED_CODES:
            return f"AWS denied Cost Explorer access: {code}{detail}; the role needs ce:GetCostAndUsage"
        if code in aws_errors.THROTTLING_CODES:
            return (
                f"Cost Explorer kept throttling ({code}) after {settings.aws_max_attempts} attempts "
                f"({settings.aws_retry_mode} retry mode); try again later"
            )
        return f"Cost Explorer error {code}{detail}"
    return f"AWS call failed: {aws_errors.error_message(exc) or type(exc).__name__}"


def _last_loaded(session: Session, source: str) -> date | None:
    """The end of the newest successful window of `source` (None: never loaded)."""
    q = select(func.max(RefreshRun.window_end)).where(RefreshRun.source == source, RefreshRun.status == "ok")
    return session.execute(q).scalar_one_or_none()


def _utc_today() -> date:
    return datetime.now(UTC).date()


def refresh_demo(session: Session, settings: Settings, today: date) -> RefreshRun:
    """Regenerate the demo organisation up to yesterday and replace its rows (also any older demo tail)."""
    end_day = today - timedelta(days=1)
    rows = demo.generate(seed=settings.demo_seed, end=end_day)
    start = rows["day"].min()
    oldest = session.execute(select(func.min(CostDaily.day)).where(CostDaily.source == demo.SOURCE)).scalar()
    if oldest is not None and oldest < start:
        start = oldest
    run = load.replace_window(session, demo.SOURCE, start, end_day + timedelta(days=1), rows)
    first = rows["day"].min()  # the demo's runs follow its days (those already stored stay as they are)
    executions.load_demo(
        session=session,
        runs_to_add=demo_executions.runs(settings.demo_seed, first, end_day),
        rate_card=demo_executions.rate_card(first, end_day),
    )
    session.refresh(run)
    return run


def refresh_aws(
    session: Session, settings: Settings, today: date, *, backfill: bool, clients=None, extras: bool | None = None
) -> RefreshRun:
    """Refresh Cost Explorer data: the window that can still change, then any history still missing.

    1. The steady window (`aws_ce.refresh_window`): with data already there and the change probe on, one
       ungrouped request finds the days that changed and only those are re-pulled.
    2. The once-a-day extras (AWS forecast, anomalies, recommendations); they never fail the refresh.
       `extras=None` runs them only when `today` is the real UTC day: they describe the present, so a
       refresh pinned to another day (replays, tests) does not spend on them.
    3. History: whole months before the oldest one loaded, newest first, back to `aws_refresh_months_back`
       months, each its own atomic load. The daily request cap pauses this part (what is loaded stays, the
       next refresh goes on), so a large first backfill spreads over days instead of failing whole.
    `backfill=True` re-pulls everything, the whole history included.
    """
    last = None if backfill else _last_loaded(session, aws_ce.SOURCE)
    start, end = aws_ce.refresh_window(today, has_data=True, settings=settings, last_loaded=last)
    recorder = Recorder(session, settings.aws_max_requests_per_day)
    try:
        ce, org = clients or aws_ce.make_clients(settings)
        recorder.watch(ce)  # from here on every Cost Explorer request is counted, capped and recorded
        names = aws_ce.account_names(org)
        run = _refresh_window(session, settings, ce, names, recorder, start, end, probe=last is not None)
    except (BotoCoreError, ClientError, BudgetExceeded) as exc:
        message = describe_aws_error(exc, settings)
        run = load.record_failed_run(session, aws_ce.SOURCE, start, end, message)
        recorder.attach(run.id)
        log.warning("AWS refresh failed: %s", message)
        raise RefreshError(message) from exc
    if extras if extras is not None else today == _utc_today():
        _run_extras(session, ce, recorder, today)
        recorder.attach(run.id)
    oldest = start if backfill else min(start, _history_start(session) or start)
    if _continue_history(session, settings, ce, names, recorder, today, oldest, run):
        load.finish_run(session, run)
    session.refresh(run)  # loaded, so the caller can read it after the session closes
    return run


def _refresh_window(session, settings, ce, names, recorder, start: date, end: date, *, probe: bool) -> RefreshRun:
    """Pull `[start, end)` (narrowed by the change probe when `probe`) and replace it; returns the run."""
    if probe and settings.aws_change_probe:
        changed = _changed_days(session, ce, start, end)
        if changed is None:
            run = load.record_unchanged_run(session, aws_ce.SOURCE, start, end)
            log.info("Cost Explorer totals for [%s, %s) unchanged: nothing pulled", start, end)
            recorder.attach(run.id)
            return run
        start, end = changed
    rows = aws_ce.fetch_costs(ce, start, end, account_names=names)
    run = load.replace_window(session, aws_ce.SOURCE, start, end, rows)
    recorder.attach(run.id)
    return run


def _history_start(session: Session) -> date | None:
    """The first day of the oldest window ever loaded from Cost Explorer (None: nothing loaded)."""
    q = select(func.min(RefreshRun.window_start)).where(RefreshRun.source == aws_ce.SOURCE, RefreshRun.status == "ok")
    value = session.execute(q).scalar_one_or_none()
    return _as_date(value) if value is not None else None


def _continue_history(session, settings, ce, names, recorder, today: date, oldest: date, run: RefreshRun) -> int:
    """Load whole months before `oldest`, newest first, down to what Cost Explorer keeps; the cap pauses it.
    Returns how many months it tried.

    Each month is its own atomic load, recorded as a part of `run` (its requests counted on `run`): a month that
    fails is a failed part, retried by the next refresh, and leaves `run` (the current data) as it is."""
    target = costs.add_months(today, -settings.aws_refresh_months_back)
    tried = 0
    while oldest > target:
        tried += 1
        lo = costs.month_start(oldest - timedelta(days=1))
        try:
            rows = aws_ce.fetch_costs(ce, lo, oldest, account_names=names)
        except BudgetExceeded:
            log.info("history loaded back to %s; the daily request cap pauses the rest until tomorrow", oldest)
            return tried
        except (BotoCoreError, ClientError) as exc:
            message = describe_aws_error(exc, settings)
            load.record_failed_run(session, aws_ce.SOURCE, lo, oldest, message, part_of=run.id)
            recorder.attach(run.id)
            log.warning("loading history [%s, %s) failed: %s", lo, oldest, message)
            return tried
        try:
            load.replace_window(session, aws_ce.SOURCE, lo, oldest, rows, part_of=run.id)
        except Exception:  # noqa: BLE001  (recorded on the part by replace_window; the current data stays)
            log.exception("loading history [%s, %s) failed", lo, oldest)
            return tried
        finally:
            recorder.attach(run.id)
        oldest = lo
    return tried


def _stored_daily_totals(session: Session, start: date, end: date) -> dict[date, tuple[int, int, int]]:
    """Per day in `[start, end)`: the stored aws_ce totals (micros) and how many rows make them."""
    c = CostDaily.__table__.c
    stmt = (
        select(c.day, func.sum(c.unblended_micros), func.sum(c.amortized_micros), func.count())
        .where(c.source == aws_ce.SOURCE, c.day >= start, c.day < end)
        .group_by(c.day)
    )
    return {_as_date(day): (int(u), int(a), int(n)) for day, u, a, n in session.execute(stmt)}


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _changed_days(session: Session, ce, start: date, end: date) -> tuple[date, date] | None:
    """The span of days whose Cost Explorer totals differ from the store's (None: nothing changed).

    One ungrouped request answers it. Stored rows are rounded to the micro-unit one by one, so a day may
    differ from Cost Explorer's own total by up to a micro-unit per row without having changed; anything
    beyond that plus a cent counts as a change.
    """
    served = {day: v for day, v in aws_ce.fetch_daily_totals(ce, start, end).items() if start <= day < end}
    stored = _stored_daily_totals(session, start, end)
    changed = []
    for day in sorted(set(served) | set(stored)):
        u, a = served.get(day, (0, 0))
        su, sa, rows = stored.get(day, (0, 0, 0))
        tolerance = CENT_MICROS + rows
        if abs(u - su) > tolerance or abs(a - sa) > tolerance:
            changed.append(day)
    if not changed:
        return None
    return changed[0], changed[-1] + timedelta(days=1)


def _run_extras(session: Session, ce, recorder: Recorder, today: date) -> None:
    """The once-a-day Cost Explorer extras; whatever happens there is logged, never raised."""
    try:
        outcomes = ce_features.run_extras(session, ce, recorder, today=today)
    except Exception:  # noqa: BLE001  (run_extras does not raise; this is the last guard)
        session.rollback()
        log.exception("Cost Explorer extras failed")
        return
    log.info("Cost Explorer extras: %s", ", ".join(f"{op} {outcome}" for op, outcome in outcomes.items()))


def run_refresh(
    session: Session,
    settings: Settings,
    *,
    backfill: bool = False,
    today: date | None = None,
    clients=None,
    extras: bool | None = None,
) -> RefreshRun:
    """Refresh the configured source; returns the successful run, raises RefreshError on an AWS failure.

    `clients` (ce, organizations) replaces the boto3 clients built from settings (tests use Stubber).
    `extras` forces the once-a-day Cost Explorer extras on or off (default: on when `today` is today, UTC).
    """
    today = today or _utc_today()
    source = resolve_source(settings)
    if source == "demo":
        return refresh_demo(session, settings, today)
    return refresh_aws(session, settings, today, backfill=backfill, clients=clients, extras=extras)
