"""`costs`: a cost report for [from, to) straight from the store."""

import argparse
import json
import sys

import pandas as pd

from finops import reports
from finops.cli.common import iso_date, json_records, open_store, text_table
from finops.data import db, queries
from finops.export import to_csv_bytes

GRAINS = ("day", "month")
DIMENSIONS = ("service", "account")


def grouping(text: str) -> tuple[str, ...]:
    """argparse type: `day` or `month`, optionally followed by `service` and/or `account` (any order)."""
    grain, *dims = [part.strip().lower() for part in text.split(",")]
    if grain not in GRAINS or len(set(dims)) != len(dims) or not set(dims) <= set(DIMENSIONS):
        raise argparse.ArgumentTypeError(
            f"invalid grouping {text!r}: expected day or month, optionally followed by service and/or account "
            "(e.g. month,service or day,account)"
        )
    return (grain, *sorted(dims, key=DIMENSIONS.index))


def register(commands) -> None:
    """The costs command."""
    sub = commands.add_parser(
        "costs",
        help="cost report for [from, to) straight from the store",
        description="Cost per day or month (and per service and/or account) for the window [from, to): "
        "--from is included, --to is excluded.",
    )
    sub.add_argument(
        "--from",
        dest="start",
        type=iso_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="first day of the report (included)",
    )
    sub.add_argument(
        "--to",
        dest="end",
        type=iso_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="end of the report, EXCLUDED: --from 2024-01-01 --to 2024-02-01 is January",
    )
    sub.add_argument(
        "--by",
        type=grouping,
        default=("month", "service"),
        metavar="GRAIN[,service][,account]",
        help="day or month, then optionally service and/or account (default: month,service)",
    )
    sub.add_argument("--metric", choices=tuple(queries.METRICS), default="unblended", help="default: unblended")
    sub.add_argument(
        "--currency", metavar="CODE", type=str.upper, help="only amounts in this currency (default: every currency, "
        "one row each; amounts in different currencies are never added)",
    )  # fmt: skip
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table", help="default: table")
    sub.set_defaults(handler=run_costs, parser=sub, check=check)


def check(args) -> None:
    """Bad usage argparse cannot see: an empty window."""
    if args.start >= args.end:
        args.parser.error(f"--from {args.start} must be before --to {args.end} (--to is excluded)")


def run_costs(args) -> int:
    open_store()
    grain, dims = args.by[0], args.by[1:]
    metric = queries.METRICS[args.metric]
    with db.session() as s:
        report = reports.cost_report(
            session=s, start=args.start, end=args.end, grain=grain, dims=dims, metric=metric, currency=args.currency
        )
    report[metric] = report[metric].astype("float64").round(6)
    if args.format == "csv":
        sys.stdout.write(to_csv_bytes(report).decode("utf-8"))
    elif args.format == "json":
        print(json.dumps(json_records(report), indent=2))
    elif report.empty:
        print(f"no cost data in [{args.start}, {args.end})", file=sys.stderr)
    else:
        print(cost_table(report, metric))
    return 0


def cost_table(report: pd.DataFrame, metric: str) -> str:
    """`report` (from cost_report) as aligned text with a total line per currency."""
    header = list(report.columns)
    at = header.index(metric)
    rows = [[f"{v:,.2f}" if i == at else str(v) for i, v in enumerate(row)] for row in report.itertuples(index=False)]
    totals = report.groupby("currency", sort=True)[metric].sum()
    footer = [["total"] + [""] * (at - 1) + [f"{total:,.2f}", currency] for currency, total in totals.items()]
    return text_table(header, rows, right=[at], footer=footer)
