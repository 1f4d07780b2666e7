"""`export focus`: write the store's costs of [from, to) as a FOCUS 1.2 file (CSV or Parquet)."""

import os
import tempfile
from pathlib import Path

from finops.cli.common import CommandError, iso_date, open_store
from finops.data import db
from finops.data.focus_export import BillingAccount
from finops.data.focus_writers import SUFFIXES, export_focus


def register(commands) -> None:
    """The export command and its kinds of file."""
    sub = commands.add_parser(
        "export",
        help="export the store's costs as a billing file (FOCUS 1.2)",
        description="Export the store's costs. Exit codes: 0 written, 1 the store or the file failed, 2 bad usage.",
    )
    kinds = sub.add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=type(sub))
    focus = kinds.add_parser(
        "focus",
        help="FOCUS 1.2: daily costs per account, service and region, and per resource where known",
        description="Write the store's daily costs of [from, to) as FOCUS 1.2 rows: per resource where billing "
        "files named resources, otherwise per account, service and region. The file is written whole or not at "
        "all. Columns and their sources: docs/focus.md, 'Export'.",
    )
    focus.add_argument(
        "--from", dest="start", type=iso_date, required=True, metavar="YYYY-MM-DD", help="first day (included)"
    )
    focus.add_argument(
        "--to",
        dest="end",
        type=iso_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="end, EXCLUDED: --from 2024-01-01 --to 2024-02-01 is January",
    )
    focus.add_argument("--out", type=Path, required=True, metavar="FILE", help="FILE.csv or FILE.parquet")
    focus.add_argument(
        "--billing-account",
        metavar="ID[=NAME]",
        help="the payer every row is billed to (BillingAccountId, BillingAccountName), e.g. an AWS "
        "Organization's management account; default: each sub account is its own billing account",
    )
    focus.set_defaults(handler=run_export_focus, parser=focus, check=check)


def check(args) -> None:
    """Bad usage argparse cannot see: an empty window, a file kind we cannot write, an empty payer."""
    if args.start >= args.end:
        args.parser.error(f"--from {args.start} must be before --to {args.end} (--to is excluded)")
    if args.out.suffix.lower() not in SUFFIXES:
        args.parser.error(f"--out {args.out}: the file must end with .csv or .parquet")
    if args.billing_account is not None:
        payer_id, _, name = args.billing_account.partition("=")
        if not payer_id.strip():
            args.parser.error("--billing-account needs an id: ID or ID=NAME")
        args.billing_account = BillingAccount(id=payer_id.strip(), name=name.strip() or payer_id.strip())


def run_export_focus(args) -> int:
    open_store()
    out: Path = args.out
    if not out.parent.is_dir():
        raise CommandError(f"export focus: no such folder: {out.parent}")
    # written beside the target and renamed at the end: a failed export leaves no half-written file
    fd, partial = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it private; the file gets the mode a plain open() would give
    try:
        with db.session() as s:
            rows = export_focus(
                session=s, start=args.start, end=args.end, out=Path(partial), payer=args.billing_account
            )
        os.replace(partial, out)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    print(f"wrote {rows:,} FOCUS 1.2 rows for [{args.start}, {args.end}) to {out}")
    return 0
