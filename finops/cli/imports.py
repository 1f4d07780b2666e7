"""`import focus`: load billing files (FOCUS 1.0-1.2: CSV, CSV.gz, Parquet) into the store."""

import sys

from finops.cli.common import PROG, open_store
from finops.data import db, focus_imports
from finops.data.sources.focus import LIMITS, FocusError
from finops.data.sources.focus_s3 import S3Unavailable, is_s3, make_client
from finops.settings import get_settings


def register(commands) -> None:
    """The import command and its kinds of file."""
    sub = commands.add_parser(
        "import",
        help="import billing files (FOCUS) into the store",
        description="Import billing files. Exit codes: 0 imported, 1 the store or S3 failed (server, network), "
        "2 a file was refused (one line naming the file, row and column, or the S3 object that cannot be read; "
        "nothing of the import is written).",
    )
    kinds = sub.add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=type(sub))
    focus = kinds.add_parser(
        "focus",
        help="FOCUS 1.0-1.2 files: CSV, CSV.gz or Parquet; a file, a folder or s3://bucket/prefix",
        description="Read every FOCUS file at PATH (a file, a folder and its subfolders, or the objects under "
        "s3://bucket/prefix, downloaded first; with AWS Data Exports manifests there, the files they name), "
        "sum it per day, "
        "account, service and region (and per resource), and replace the billing periods it covers, per provider, "
        "in one transaction. A re-delivered period replaces the earlier delivery; it is never added to it. "
        "Mapping and rules: docs/focus.md.",
    )
    focus.add_argument("path", metavar="PATH", help="a .csv, .csv.gz or .parquet file, a folder, or s3://bucket/prefix")
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
    client = make_client(get_settings()) if is_s3(args.path) else None
    with db.session() as s:
        try:
            done = focus_imports.import_location(s, args.path, provider=args.provider, client=client)
        except FocusError as exc:
            print(f"{PROG} import focus: refused, nothing imported: {exc}", file=sys.stderr)
            return 2
        except S3Unavailable as exc:
            print(f"{PROG} import focus: failed, nothing imported: {exc}", file=sys.stderr)
            return 1
    periods = ", ".join(f"{p} [{lo}, {hi})" for p, (lo, hi) in sorted(done.windows.items()))
    print(
        f"imported {done.rows_read:,} rows from {len(done.files)} file(s) as run {done.run.id}: "
        f"{done.daily_rows:,} daily rows, {done.resource_rows:,} resource rows; replaced {periods}"
    )
    return 0
