"""`executions import|list` and `rates set|list`: workflow runs and the rate card that prices them."""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from finops import costs, execution_reports
from finops.cli.common import CommandError, Parser, emit, iso_date, open_store
from finops.data import db, executions, rates
from finops.data.access import Actor

OPERATOR = Actor(username="cli", is_admin=True)  # who runs the CLI holds the store: an admin


def register(commands) -> None:
    """The executions and rates commands."""
    sub = commands.add_parser("executions", help="workflow runs and what they cost")
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    sub = actions.add_parser(
        "import", help="store the runs of a CSV file (all rows or none)",
        description="Header: execution_id,workflow_id,started_at,ended_at,compute_type and optionally "
        "workflow_name,user,status,compute_count. Times are ISO 8601 (UTC when no offset is given). Every row is "
        "checked and priced first; a bad row is named with its line and column, nothing is stored and the exit "
        "code is 2. Runs whose execution_id is already stored are left as they are.",
    )  # fmt: skip
    sub.add_argument("path", metavar="FILE.csv")
    sub.set_defaults(handler=run_import)
    sub = actions.add_parser("list", help="what runs cost, per month, workflow, user or run")
    sub.add_argument("--months", type=months_value, default=12, help="the last N months (1-120, default 12)")
    sub.add_argument("--by", choices=("month", "workflow", "user", "run"), default="month")
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sub.set_defaults(handler=run_list)

    sub = commands.add_parser("rates", help="the rate card: USD per unit-hour of each compute type")
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    sub = actions.add_parser(
        "set", help="put a rate in force (runs already priced keep their cost)",
        description="A new rate applies to runs that started from --from on; earlier runs keep the cost they got.",
    )  # fmt: skip
    sub.add_argument("compute_type", metavar="TYPE")
    sub.add_argument("usd_per_hour", metavar="USD_PER_HOUR")
    sub.add_argument("--from", dest="effective_from", type=iso_date, metavar="YYYY-MM-DD", help="default: now")
    sub.add_argument("--gpu", action="store_true", help="a GPU compute type")
    sub.add_argument("--note", default="")
    sub.set_defaults(handler=run_rates_set)
    sub = actions.add_parser("list", help="every rate, the one in force marked")
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sub.set_defaults(handler=run_rates_list)


def months_value(text: str) -> int:
    """argparse type: 1-120 months."""
    if not text.isdigit() or not 1 <= int(text) <= costs.MAX_MONTHS:
        raise argparse.ArgumentTypeError(f"invalid months {text!r}: expected 1 to {costs.MAX_MONTHS}")
    return int(text)


def run_import(args) -> int:
    open_store()
    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    try:
        with db.session() as s:
            stored = executions.import_csv(session=s, source=path)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    except executions.ExecutionError as exc:
        print(f"finops: {path}: {exc} (nothing was stored)", file=sys.stderr)
        return 2  # bad input, like bad usage
    kept = len(stored.existing)
    print(f"stored {stored.inserted:,} runs from {path}; {kept:,} were already stored and left as they were")
    return 0


def run_list(args) -> int:
    open_store()
    start, end = costs.month_window(datetime.now(UTC).date(), args.months)
    with db.session() as s:
        view = execution_reports.execution_costs(session=s, start=start, end=end)
    frame = {"month": view.monthly, "workflow": view.by_workflow, "user": view.by_user, "run": view.top_runs}[args.by]
    money = [c for c in frame.columns if c in ("cost", "share_pct") or c.endswith("_per_run")]
    emit(frame, args.format, f"no runs in [{start}, {end})", money_cols=money, right=["runs"])
    return 0


def run_rates_set(args) -> int:
    open_store()
    with db.session() as s:
        row = rates.set_rate(
            session=s, actor=OPERATOR, compute_type=args.compute_type, usd_per_hour=args.usd_per_hour,
            effective_from=args.effective_from, gpu=args.gpu, note=args.note,
        )  # fmt: skip
        since = f"{row.effective_from:%Y-%m-%d %H:%M} UTC"
        print(f"rate of {row.compute_type}: USD {args.usd_per_hour} per unit-hour from {since}")
    return 0


def run_rates_list(args) -> int:
    open_store()
    with db.session() as s:
        frame = rates.rate_card(session=s)
    emit(frame, args.format, "no rates yet: `python -m finops rates set TYPE USD_PER_HOUR`", right=["usd_per_hour"])
    return 0
