"""`fx import` and `fx list`: exchange rates to USD, for the "All, converted to USD" views."""

import getpass
import sys

from finops.cli.common import PROG, emit, open_store
from finops.data import db, exchange_rates


def register(commands) -> None:
    """The fx command group."""
    sub = commands.add_parser(
        "fx",
        help="exchange rates to USD (import a rates file, list the rates)",
        description="Exchange rates that convert every currency to USD (the reporting currency). Not `rates`: that "
        "is the execution rate card. File format and conversion rule: docs/currencies.md.",
    )
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(sub))
    one = actions.add_parser(
        "import",
        help="import a rates CSV (currency,day,rate): all rows, or none",
        description="Import FILE, a CSV with the header currency,day,rate: `rate` USD per 1 unit of `currency`, in "
        "force from `day` (YYYY-MM-DD) until that currency's next rate. A (currency, day) already stored is "
        "replaced. Exit codes: 0 imported, 1 the store failed, 2 the file was refused (one line naming the row "
        "and the column; nothing imported).",
    )
    one.add_argument("file", metavar="FILE.csv")
    one.add_argument("--by", metavar="NAME", default="", help="who imports (default: the OS user)")
    one.set_defaults(handler=run_import)
    listing = actions.add_parser("list", help="every imported rate")
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")
    listing.set_defaults(handler=run_list)


def run_import(args) -> int:
    open_store()
    try:
        with db.session() as s:
            done = exchange_rates.import_rates(s, args.file, actor=args.by or getpass.getuser())
    except (exchange_rates.RateFileError, OSError, UnicodeDecodeError) as exc:
        print(f"{PROG} fx import: refused, nothing imported: {exc}", file=sys.stderr)
        return 2
    print(
        f"imported {done.rows:,} rates of {', '.join(done.currencies)} from {done.first_day} to {done.last_day} "
        "(USD per unit)"
    )
    return 0


def run_list(args) -> int:
    open_store()
    with db.session() as s:
        frame = exchange_rates.rates(session=s)
    emit(frame, args.format, "no exchange rates yet: `finops fx import FILE.csv`")
    return 0
