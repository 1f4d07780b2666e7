"""`init`, `bootstrap`, `demo` and `ui`: the store's schema, the demo organisation, the first admin, the web UI."""

import argparse
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from finops.budgeting import periods
from finops.cli.common import PROG, open_store, store_label
from finops.data import budgets, db, executions, groups, load, queries, resources, schedules, users
from finops.data.sources import demo, demo_executions, resolve_source
from finops.settings import get_settings


def seed_value(text: str) -> int:
    """argparse type: a non-negative integer seed."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"invalid seed {text!r}: expected a whole number >= 0")
    return int(text)


def register(commands) -> None:
    """The store's commands: init, demo, bootstrap, ui."""
    sub = commands.add_parser("init", help="create or upgrade the store's schema")
    sub.set_defaults(handler=run_init)

    sub = commands.add_parser("demo", help="load the demo organisation (replaces earlier demo rows)")
    sub.add_argument("--seed", type=seed_value, help="seed of the demo organisation (default: FINOPS_DEMO_SEED)")
    sub.add_argument("--if-empty", action="store_true", help="load nothing when the store already has cost data")
    sub.set_defaults(handler=run_demo)

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
        # the demo's resources have run since the start of the cost data's last three months (the ledger's history)
        since = datetime.combine(periods.shift(end.replace(day=1), "monthly", -3)[0], time(0), tzinfo=UTC)
        added = resources.add_missing(session=s, items=demo.resources(seed), since=since)
        print(f"added {added} demo platform resources to the inventory")
        made = groups.add_missing(session=s, items=demo.groups(seed))
        print(f"added {made} demo resource groups (by team and environment)")
        made = schedules.add_missing(session=s, items=demo.schedules())
        print(f"added {made} demo schedules (development in office hours)")
        made = budgets.add_missing(session=s, items=demo.budgets(seed))
        print(f"added {made} demo budgets (two teams' groups, the platform)")
        last = end - timedelta(days=1)
        stored = executions.load_demo(
            session=s,
            runs_to_add=demo_executions.runs(seed, start, last),
            rate_card=demo_executions.rate_card(start, last),
        )
        print(f"stored {stored.inserted:,} demo workflow runs ({len(stored.existing):,} were already there)")


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
    password = None
    with db.session() as s:  # the admin first: the demo's platform budget is an admin's
        existing = users.list_users(session=s)
        if existing:
            print(f"users: {len(existing)} already exist, none created")
        else:
            password = users.generate_password()
            users.add_user(session=s, username="admin", role="admin", password=password, name="Administrator")
    if source != "aws":
        with db.session() as s:
            window = cost_window(s)
        if window:
            print(f"cost data present ({window[0]} to {window[1]}): demo not loaded")
        else:
            load_demo(settings.demo_seed)
    if password is None:
        return 0
    rule = "=" * 72
    print(
        f"{rule}\n"
        f"FinOps is ready. Log in at http://{ui_host(settings.host)}:{settings.port}\n"
        f"  username: admin\n"
        f"  password: {password}\n"
        f"This password is shown only this once. Change it with: {PROG} users passwd admin\n"
        f"REST API: http://{ui_host(settings.api_host)}:{settings.api_port}/docs (a token: {PROG} tokens add NAME "
        f"--user admin)\n"
        f"{rule}"
    )
    return 0


def run_ui(_args) -> int:
    settings = get_settings()
    root = Path(__file__).resolve().parents[2]  # the checkout: finops/cli/store.py -> ../../
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
