"""`forecast` and `anomalies`: the stored forecasts and anomalies, computed first with --run."""

import argparse
import sys

import pandas as pd

from finops import reports
from finops.cli.common import CommandError, emit, iso_date, open_store
from finops.data import db, queries
from finops.settings import get_settings


def interval_level(text: str) -> int:
    """argparse type: a prediction interval level, 51-99 (%)."""
    from finops.models.forecaster import check_interval

    try:
        return check_interval(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(commands) -> None:
    """The forecast and anomalies commands."""
    sub = commands.add_parser(
        "forecast",
        help="print the newest forecast of a series (monthly totals with the band)",
        description="Print the newest stored forecast of one series by month; with --run, compute a new forecast "
        "run first (Prophet; about a minute for the default 20 services plus accounts).",
    )
    sub.add_argument("--run", action="store_true", help="compute forecasts now, before printing")
    sub.add_argument("--series", default="total", metavar="total|service:NAME|account:ID", help="default: total")
    sub.add_argument("--interval", type=interval_level, default=80, metavar="51-99", help="band level in %% (80)")
    sub.add_argument("--daily", action="store_true", help="print every forecast day, not monthly totals")
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table", help="default: table")
    sub.set_defaults(handler=run_forecast)

    sub = commands.add_parser(
        "anomalies",
        help="print stored anomalies (ours and AWS's), newest first",
        description="Print the stored anomalies; with --run, scan the stored costs for new ones first.",
    )
    sub.add_argument("--run", action="store_true", help="detect anomalies now, before printing")
    sub.add_argument("--since", type=iso_date, default=None, metavar="YYYY-MM-DD", help="only those starting then")
    sub.add_argument("--status", choices=("open", "confirmed", "false_positive", "planned"), default=None)
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table", help="default: table")
    sub.set_defaults(handler=run_anomalies)


def run_forecast(args) -> int:
    from finops.data import forecasts

    open_store()
    try:
        forecasts.parse_series(args.series)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    with db.session() as s:
        if args.run:
            bar = progress_bar("forecast", "series") if sys.stderr.isatty() else None
            run = forecasts.run_forecasts(session=s, settings=get_settings(), refresh_run_id=queries.data_version(
                session=s), progress=bar)  # fmt: skip
            print(f"forecast run {run.id}: {run.status} ({run.message})", file=sys.stderr)
            if run.status != "ok":
                return 1
        view = reports.forecast_view(session=s, series=args.series, level=args.interval)
    if view.run_id is None:
        raise CommandError("no forecast yet: run `python -m finops forecast --run` or start the sidecar")
    row = view.series[view.series["series"] == args.series]
    if row.empty or row["skipped"].iloc[0]:
        reason = row["skipped"].iloc[0] if not row.empty else "not among the forecast series"
        raise CommandError(f"no forecast for {args.series}: {reason}")
    info = row.iloc[0]
    note = " (low confidence)" if info["low_confidence"] else ""
    print(f"{args.series}: run {view.run_id}, {args.interval} % band, model {forecasts.model_label(info['model'])}, "
          f"{info['history_days']} days of history{note}", file=sys.stderr)  # fmt: skip
    print(f"  back-test MAPE {_pct(info['mape'])} vs seasonal-naive {_pct(info['naive_mape'])} and last week "
          f"repeated {_pct(info['last_week_mape'])}; error of the 30-day total {_pct(info['total_error'])} vs "
          f"{_pct(info['naive_total_error'])} and {_pct(info['last_week_total_error'])}", file=sys.stderr)  # fmt: skip
    frame = view.forecast if args.daily else view.monthly
    if args.daily:
        frame = frame.assign(ds=frame["ds"].dt.date)
    # CSV writes every column by its kind (estimates to the cent, docs/exports.md); a table or JSON is rounded here
    shown = frame if args.format == "csv" else frame.round(2)
    emit(shown, args.format, "no forecast points", money_cols=["yhat", "yhat_lower", "yhat_upper"])
    return 0


def run_anomalies(args) -> int:
    from finops.data import anomalies

    open_store()
    with db.session() as s:
        if args.run:
            counts = anomalies.run_detection(session=s, settings=get_settings())
            print("detected {detected}: {new} new, {updated} updated, {dropped} dropped".format(**counts),
                  file=sys.stderr)  # fmt: skip
        frame = anomalies.list_anomalies(session=s, since=args.since, status=args.status)
    if args.format == "table":
        frame = frame[["start_day", "duration_days", "service", "account_id", "expected", "actual", "impact",
                       "source", "status"]]  # fmt: skip
    emit(frame if args.format == "csv" else frame.round(2), args.format, "no anomalies",
         money_cols=["expected", "actual", "impact"])  # fmt: skip
    return 0


def _pct(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * value:.1f} %"


def progress_bar(label: str, unit: str, width: int = 30):
    """A callback `(done, total)` drawing `label [#####-----] done/total unit` on stderr (a terminal)."""

    def draw(done: int, total: int) -> None:
        filled = round(width * done / total) if total else 0
        end = "\n" if total and done >= total else ""
        print(f"\r{label} [{'#' * filled}{'-' * (width - filled)}] {done}/{total} {unit}", end=end, file=sys.stderr,
              flush=True)  # fmt: skip

    return draw
