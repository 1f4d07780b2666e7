"""`import focus`: load billing files (FOCUS 1.0-1.2: CSV, CSV.gz, Parquet) into the store."""

import sys
from pathlib import Path

from finops.cli.common import PROG, open_store
from finops.data import db, focus_imports
from finops.data.sources.focus import LIMITS, FocusError


def register(commands) -> None:
    """The import command and its kinds of file."""
    sub = commands.add_parser(
        "import",
        help="import billing files (FOCUS) into the store",
        description="Import billing files. Exit codes: 0 imported, 1 the store failed, 2 a file was refused "
        "(one line naming the file, row and column; nothing of the import is written).",
    )
    kinds = sub.add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=type(sub))
    focus = kinds.add_parser(
        "focus",
        help="FOCUS 1.0-1.2 files: CSV, CSV.gz or Parquet; a file or a folder of them",
        description="Read every FOCUS file at PATH (a file, or a folder and its subfolders), sum it per day, "
        "account, service and region (and per resource), and replace the billing periods it covers, per provider, "
        "in one transaction. A re-delivered period replaces the earlier delivery; it is never added to it. "
        "Mapping and rules: docs/focus.md.",
    )
    focus.add_argument("path", type=Path, metavar="PATH", help="a .csv, .csv.gz or .parquet file, or a folder")
    focus.add_argument(
        "--provider", metavar="NAME", help="the provider of every row (instead of the files' ProviderName)"
    )
    focus.set_defaults(handler=run_import_focus, parser=focus, check=check)


def check(args) -> None:
    """Bad usage argparse cannot see: a provider name the store cannot keep."""
    if args.provider is not None and not 0 < len(args.provider.strip()) <= LIMITS["ProviderName"]:
        args.parser.error(f"--provider must be 1 to {LIMITS['ProviderName']} characters")
    if args.provider is not None:
        args.provider = args.provider.strip()


def run_import_focus(args) -> int:
    open_store()
    with db.session() as s:
        try:
            done = focus_imports.import_focus(s, args.path, provider=args.provider)
        except FocusError as exc:
            print(f"{PROG} import focus: refused, nothing imported: {exc}", file=sys.stderr)
            return 2
    periods = ", ".join(f"{p} [{lo}, {hi})" for p, (lo, hi) in sorted(done.windows.items()))
    print(
        f"imported {done.rows_read:,} rows from {len(done.files)} file(s) as run {done.run.id}: "
        f"{done.daily_rows:,} daily rows, {done.resource_rows:,} resource rows; replaced {periods}"
    )
    return 0
