"""`python -m finops COMMAND`: set up the store, load the demo organisation, report costs, manage users.

Only `init` and `bootstrap` change the store's schema. Every other command refuses a store whose schema is
missing or out of date and says to run `python -m finops init`, so nothing migrates a shared database
behind anyone's back. Exit codes: 0 done, 1 the command failed (one line on stderr), 2 bad usage or an
invalid FINOPS_* setting (one line naming it).
"""

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session

from finops import reports
from finops.data import db, load, queries, refresh_requests, resources, users
from finops.data.db import StoreUnavailable
from finops.data.refresh import RefreshError, run_refresh
from finops.data.sources import demo, resolve_source
from finops.data.store_lock import held_elsewhere
from finops.export import to_csv_bytes
from finops.settings import InvalidSettings, get_settings

PROG = "python -m finops"
GRAINS = ("day", "month")
DIMENSIONS = ("service", "account")


class CommandError(RuntimeError):
    """A command cannot go on; the message is printed as one line and the exit code is 1."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that reports bad usage in one line (exit code 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def iso_date(text: str) -> date:
    """argparse type: a YYYY-MM-DD date."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"invalid date {text!r}: expected YYYY-MM-DD")


def grouping(text: str) -> tuple[str, ...]:
    """argparse type: `day` or `month`, optionally followed by `service` and/or `account` (any order)."""
    grain, *dims = [part.strip().lower() for part in text.split(",")]
    if grain not in GRAINS or len(set(dims)) != len(dims) or not set(dims) <= set(DIMENSIONS):
        raise argparse.ArgumentTypeError(
            f"invalid grouping {text!r}: expected day or month, optionally followed by service and/or account "
            "(e.g. month,service or day,account)"
        )
    return (grain, *sorted(dims, key=DIMENSIONS.index))


def interval_level(text: str) -> int:
    """argparse type: a prediction interval level, 51-99 (%)."""
    from finops.models.forecaster import check_interval

    try:
        return check_interval(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seed_value(text: str) -> int:
    """argparse type: a non-negative integer seed."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"invalid seed {text!r}: expected a whole number >= 0")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    sub = commands.add_parser("init", help="create or upgrade the store's schema")
    sub.set_defaults(handler=run_init)

    sub = commands.add_parser("demo", help="load the demo organisation (replaces earlier demo rows)")
    sub.add_argument("--seed", type=seed_value, help="seed of the demo organisation (default: FINOPS_DEMO_SEED)")
    sub.add_argument("--if-empty", action="store_true", help="load nothing when the store already has cost data")
    sub.set_defaults(handler=run_demo)

    sub = commands.add_parser(
        "refresh",
        help="refresh costs from the configured source",
        description="Without --wait, file a request that the sidecar (`python -m finops.jobs`) picks up within "
        "seconds, and return. With --wait, run the refresh in this process and exit 1 when it fails.",
    )
    sub.add_argument("--backfill", action="store_true", help="pull everything the source keeps, not just new days")
    sub.add_argument("--wait", action="store_true", help="refresh here and now instead of asking the sidecar")
    sub.set_defaults(handler=run_refresh_command)

    sub = commands.add_parser(
        "bootstrap",
        help="what `make run` does first: init, demo data when empty, the first admin",
        description="Migrate the store; load the demo organisation when the source is demo and the store has "
        "no cost data; create user admin with a generated password (printed once) when there are no users.",
    )
    sub.set_defaults(handler=run_bootstrap)

    sub = commands.add_parser(
        "ui",
        help="start the web UI on FINOPS_HOST:FINOPS_PORT (default 127.0.0.1:8501)",
        description="Run `streamlit run Home.py` listening on FINOPS_HOST (127.0.0.1 unless set: only this "
        "machine can connect) and FINOPS_PORT. `make run` starts it beside the sidecar.",
    )
    sub.set_defaults(handler=run_ui)

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
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table", help="default: table")
    sub.set_defaults(handler=run_costs, parser=sub)

    sub = commands.add_parser("resources", help="the resource inventory (platform resources by hand or CSV)")
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    sub = actions.add_parser("add", help="add or update one platform resource")
    sub.add_argument("resource_type", metavar="TYPE", help=f"one of: {', '.join(resources.RESOURCE_TYPES)}")
    sub.add_argument("resource_id", metavar="ID")
    sub.add_argument("--name", required=True)
    sub.add_argument("--owner", default="")
    sub.add_argument("--state", default="")
    sub.add_argument("--hourly-cost", type=float, default=0.0, help="USD per hour")
    sub.add_argument("--tags", default=None, help='a JSON object, e.g. \'{"team": "ml"}\'')
    sub.set_defaults(handler=run_resources_add)
    sub = actions.add_parser(
        "import", help="import platform resources from a CSV file (all rows or none)",
        description="Header: resource_type,resource_id,name and optionally owner,state,hourly_cost,tags,"
        "account_id,region. Every row is checked first; a bad row is named with its column and nothing is imported.",
    )  # fmt: skip
    sub.add_argument("path", metavar="FILE.csv")
    sub.set_defaults(handler=run_resources_import)
    sub = actions.add_parser("list", help="list the inventory")
    sub.add_argument("--type", dest="resource_type", default=None)
    sub.add_argument("--search", default="")
    sub.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sub.set_defaults(handler=run_resources_list)

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

    sub = commands.add_parser("users", help="manage the people who log in")
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    stdin_note = "The password is the first line of stdin when stdin is not a terminal; otherwise (or when stdin "
    stdin_note += "is empty) one is generated and printed once."
    sub = actions.add_parser("add", help="create a user", description=f"Create a user. {stdin_note}")
    sub.add_argument("username", metavar="NAME")
    sub.add_argument("--role", choices=users.ROLES, required=True)
    sub.add_argument("--name", default="", help="full name shown in the app (default: NAME)")
    sub.add_argument("--email", default="")
    sub.set_defaults(handler=run_users_add)
    sub = actions.add_parser("list", help="list users (never their password hashes)")
    sub.set_defaults(handler=run_users_list)
    sub = actions.add_parser("passwd", help="set a user's password", description=f"Set a password. {stdin_note}")
    sub.add_argument("username", metavar="NAME")
    sub.set_defaults(handler=run_users_passwd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if args.command == "costs" and args.start >= args.end:
        args.parser.error(f"--from {args.start} must be before --to {args.end} (--to is excluded)")
    try:
        get_settings()
    except InvalidSettings as exc:
        print(f"{PROG}: invalid settings: {exc}", file=sys.stderr)
        return 2
    try:
        return args.handler(args)
    except (CommandError, StoreUnavailable, users.UserError, resources.ResourceError) as exc:
        return fail(str(exc))
    except OperationalError as exc:
        return fail(f"store error at {store_label()}: {first_line(exc)}")
    except KeyboardInterrupt:
        return 130


def fail(message: str) -> int:
    print(f"finops: {message}", file=sys.stderr)
    return 1


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def store_label() -> str:
    return db.redact(get_settings().store_url)


# --- the store ------------------------------------------------------------------------------------


def open_store(*, migrated: bool = True) -> Engine:
    """The configured store's engine, checked reachable and, when `migrated`, on the newest schema."""
    try:
        engine = db.get_engine()
    except (OSError, ArgumentError) as exc:  # a SQLite folder that cannot be made, a malformed URL
        raise StoreUnavailable(f"cannot open the store at {store_label()}: {exc}") from exc
    db.check_reachable(engine)
    if migrated:
        current, heads = db.schema_revisions(engine)
        if not current:
            raise CommandError(f"the store at {store_label()} has no schema yet: run `{PROG} init` first")
        if current != heads:
            raise CommandError(
                f"the store at {store_label()} is at schema revision {', '.join(sorted(current))}, this version "
                f"needs {', '.join(sorted(heads))}: run `{PROG} init`"
            )
    return engine


def migrate(engine: Engine) -> None:
    """Bring the store to the newest schema and say what changed."""
    before, _ = db.schema_revisions(engine)
    db.init_db(engine)
    after, _ = db.schema_revisions(engine)
    names = lambda revisions: ", ".join(sorted(revisions))  # noqa: E731
    if not before:
        print(f"store {store_label()}: created the schema (revision {names(after)})")
    elif after == before:
        print(f"store {store_label()}: schema already at the newest revision ({names(after)}), nothing to do")
    else:
        print(f"store {store_label()}: upgraded the schema from revision {names(before)} to {names(after)}")


def cost_window(session: Session) -> tuple[date, date] | None:
    """First and last day of cost data, or None when the store has none."""
    first, last = queries.coverage(session=session)
    return (first, last) if first is not None else None


def load_demo(seed: int) -> None:
    rows = demo.generate(seed=seed)
    start, end = rows["day"].min(), rows["day"].max() + timedelta(days=1)
    with db.session() as s:
        others = [src for src in queries.loaded_sources(session=s) if src != demo.SOURCE]
        if others:
            print(f"warning: the store also holds cost data from {', '.join(others)}", file=sys.stderr)
        run = load.replace_window(s, demo.SOURCE, start, end, rows)
        print(f"loaded {run.rows:,} demo rows (seed {seed}) for [{start}, {end}) as run {run.id}")
        added = resources.add_missing(session=s, items=demo.resources(seed))
        print(f"added {added} demo platform resources to the inventory")


# --- commands -------------------------------------------------------------------------------------


def run_init(_args) -> int:
    migrate(open_store(migrated=False))
    return 0


def run_demo(args) -> int:
    open_store()
    if args.if_empty:
        with db.session() as s:
            window = cost_window(s)
        if window:
            print(f"the store already has cost data ({window[0]} to {window[1]}): --if-empty, nothing loaded")
            return 0
    load_demo(get_settings().demo_seed if args.seed is None else args.seed)
    return 0


def run_refresh_command(args) -> int:
    open_store()
    settings = get_settings()
    with db.session() as s:
        if not args.wait:
            request, created = refresh_requests.request_refresh(session=s, requested_by="cli", backfill=args.backfill)
            state = "requested" if created else "already requested"
            if held_elsewhere(db.get_engine()):
                print(f"refresh {state} (request {request.id}): the sidecar picks it up within seconds")
            else:
                print(
                    f"refresh {state} (request {request.id}), but no sidecar is running on this store: start it "
                    f"(`python -m finops.jobs`, or `make run`), or refresh here with `{PROG} refresh --wait`"
                )
            return 0
        try:
            run = run_refresh(s, settings, backfill=args.backfill)
        except RefreshError as exc:
            raise CommandError(f"refresh failed: {exc}") from exc
        print(f"refreshed {run.source}: {run.rows:,} rows for [{run.window_start}, {run.window_end}) as run {run.id}")
    return 0


def run_bootstrap(_args) -> int:
    settings = get_settings()
    migrate(open_store(migrated=False))
    source = resolve_source(settings)
    how = "" if settings.source == source else f" (auto: AWS credentials {'found' if source == 'aws' else 'not found'})"
    print(f"source: {source}{how}")
    if source == "aws":
        print(
            "AWS source: the sidecar backfills Cost Explorer when it starts (or run `python -m finops refresh --wait`)"
        )
    else:
        with db.session() as s:
            window = cost_window(s)
        if window:
            print(f"cost data present ({window[0]} to {window[1]}): demo not loaded")
        else:
            load_demo(settings.demo_seed)
    with db.session() as s:
        existing = users.list_users(session=s)
        if existing:
            print(f"users: {len(existing)} already exist, none created")
            return 0
        password = users.generate_password()
        users.add_user(session=s, username="admin", role="admin", password=password, name="Administrator")
    rule = "=" * 72
    print(
        f"{rule}\n"
        f"FinOps is ready. Log in at http://{ui_host(settings.host)}:{settings.port}\n"
        f"  username: admin\n"
        f"  password: {password}\n"
        f"This password is shown only this once. Change it with: {PROG} users passwd admin\n"
        f"{rule}"
    )
    return 0


def run_ui(_args) -> int:
    settings = get_settings()
    root = Path(__file__).resolve().parents[1]
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(root / "Home.py"),
        "--server.address",
        settings.host,
        "--server.port",
        str(settings.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    os.chdir(root)  # Streamlit reads .streamlit/config.toml from the working directory
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # the same process becomes the UI, so a supervisor's signals reach it


def ui_host(host: str) -> str:
    """The address to browse to: localhost for the loopback and wildcard addresses."""
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1", "localhost") else host


def run_costs(args) -> int:
    open_store()
    grain, dims = args.by[0], args.by[1:]
    metric = queries.METRICS[args.metric]
    with db.session() as s:
        report = reports.cost_report(session=s, start=args.start, end=args.end, grain=grain, dims=dims, metric=metric)
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


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of JSON-ready values: dates in ISO form, numpy scalars as Python numbers."""

    def plain(value):
        return value.isoformat() if isinstance(value, date) else value.item() if hasattr(value, "item") else value

    return [{key: plain(value) for key, value in row.items()} for row in frame.to_dict("records")]


# --- plain-text tables ----------------------------------------------------------------------------


def text_table(header: list[str], rows: list[list[str]], right: Sequence[int] = (), footer=()) -> str:
    """Aligned columns (those in `right` right-aligned), with `footer` rows below a rule."""
    widths = [max(len(str(r[i])) for r in [header, *rows, *footer]) for i in range(len(header))]

    def line(cells) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    body = [line(header), *(line(r) for r in rows)]
    if footer:
        body += ["  ".join("-" * w for w in widths), *(line(r) for r in footer)]
    return "\n".join(body)


def cost_table(report: pd.DataFrame, metric: str) -> str:
    """`report` (from cost_report) as aligned text with a total line per currency."""
    header = list(report.columns)
    at = header.index(metric)
    rows = [[f"{v:,.2f}" if i == at else str(v) for i, v in enumerate(row)] for row in report.itertuples(index=False)]
    totals = report.groupby("currency", sort=True)[metric].sum()
    footer = [["total"] + [""] * (at - 1) + [f"{total:,.2f}", currency] for currency, total in totals.items()]
    return text_table(header, rows, right=[at], footer=footer)


# --- resources ------------------------------------------------------------------------------------


def run_resources_add(args) -> int:
    open_store()
    with db.session() as s:
        row = resources.add_resource(
            session=s, resource_type=args.resource_type, resource_id=args.resource_id, name=args.name,
            owner=args.owner, state=args.state, hourly_cost=args.hourly_cost, tags=args.tags,
        )  # fmt: skip
        print(f"saved {row.resource_type}:{row.resource_id} ({row.name})")
    return 0


def run_resources_import(args) -> int:
    open_store()
    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    try:
        with db.session() as s:
            count = resources.import_csv(session=s, source=path)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    print(f"imported {count:,} resources from {path}")
    return 0


def run_resources_list(args) -> int:
    open_store()
    with db.session() as s:
        frame = resources.list_resources(session=s, resource_type=args.resource_type, search=args.search)
    if args.format == "table":
        frame = frame[["resource_type", "resource_id", "name", "owner", "state", "hourly_cost"]]
    emit(frame, args.format, "no resources", right=["hourly_cost"])
    return 0


# --- forecasts and anomalies ----------------------------------------------------------------------


def emit(frame: pd.DataFrame, fmt: str, empty: str, money_cols: Sequence[str] = (), right: Sequence[str] = ()) -> None:
    """Print `frame` as csv (formula-safe), json or an aligned table (`empty` on stderr when it has no rows);
    in the table, money columns have 2 decimals and, with the `right` ones, are right-aligned."""
    if fmt == "csv":
        sys.stdout.write(to_csv_bytes(frame).decode("utf-8"))
    elif fmt == "json":
        print(json.dumps(json_records(frame), indent=2, default=str))
    elif frame.empty:
        print(empty, file=sys.stderr)
    else:
        cols = list(frame.columns)
        rows = [[_cell(v, c in money_cols) for c, v in zip(cols, r, strict=True)] for r in frame.itertuples(False)]
        print(text_table(cols, rows, right=[i for i, c in enumerate(cols) if c in money_cols or c in right]))


def _cell(value, money: bool) -> str:
    return f"{value:,.2f}" if money and value is not None and not pd.isna(value) else str(value)


def run_forecast(args) -> int:
    from finops.data import forecasts

    open_store()
    try:
        forecasts.parse_series(args.series)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    with db.session() as s:
        if args.run:
            run = forecasts.run_forecasts(session=s, settings=get_settings(), refresh_run_id=queries.data_version(
                session=s))  # fmt: skip
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
    mape = "n/a" if pd.isna(info["mape"]) else f"{100 * info['mape']:.1f} %"
    naive = "n/a" if pd.isna(info["naive_mape"]) else f"{100 * info['naive_mape']:.1f} %"
    note = " (low confidence)" if info["low_confidence"] else ""
    print(f"{args.series}: run {view.run_id}, {args.interval} % band, back-test MAPE {mape} vs seasonal-naive "
          f"{naive}, {info['history_days']} days of history{note}", file=sys.stderr)  # fmt: skip
    frame = view.forecast if args.daily else view.monthly
    if args.daily:
        frame = frame.assign(ds=frame["ds"].dt.date)
    emit(frame.round(2), args.format, "no forecast points", money_cols=["yhat", "yhat_lower", "yhat_upper"])
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
    emit(frame.round(2), args.format, "no anomalies", money_cols=["expected", "actual", "impact"])
    return 0


# --- users ----------------------------------------------------------------------------------------


def read_password() -> tuple[str, bool]:
    """The first line of stdin when stdin is not a terminal and not empty, else a generated password.

    Returns the password and whether it was generated (and so must be shown).
    """
    if sys.stdin is not None and not sys.stdin.isatty():
        line = sys.stdin.readline()
        if line:
            return line.rstrip("\r\n"), False
    return users.generate_password(), True


def shown_once(username: str, password: str) -> str:
    return f"password: {password}\n(shown only this once; change it with: {PROG} users passwd {username})"


def run_users_add(args) -> int:
    open_store()
    password, generated = read_password()
    with db.session() as s:
        user = users.add_user(
            session=s, username=args.username, role=args.role, password=password, name=args.name, email=args.email
        )
        print(f"created user {user.username} ({user.role})")
    if generated:
        print(shown_once(args.username, password))
    return 0


def run_users_list(_args) -> int:
    open_store()
    with db.session() as s:
        rows = [[u.username, u.role, u.name, f"{u.created_at:%Y-%m-%d %H:%M}"] for u in users.list_users(session=s)]
    if not rows:
        print(f"no users yet: `{PROG} bootstrap` creates the first admin", file=sys.stderr)
        return 0
    print(text_table(["username", "role", "name", "created (UTC)"], rows))
    return 0


def run_users_passwd(args) -> int:
    open_store()
    password, generated = read_password()
    with db.session() as s:
        users.set_password(session=s, username=args.username, password=password)
    print(f"password of {args.username} changed")
    if generated:
        print(shown_once(args.username, password))
    return 0
