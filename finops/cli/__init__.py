"""`python -m finops COMMAND`: set up the store, load the demo organisation, report costs, manage users.

Only `init` and `bootstrap` change the store's schema. Every other command refuses a store whose schema is
missing or out of date and says to run `python -m finops init`, so nothing migrates a shared database
behind anyone's back. Exit codes: 0 done, 1 the command failed (one line on stderr), 2 bad usage or an
invalid FINOPS_* setting (one line naming it).

One module per command group, each holding its parser (`register`) beside its handlers: `store` (init,
bootstrap, demo, ui), `costs`, `refresh`, `inventory` (resources), `executions` (executions, rates), `fx` (exchange
rates), `insights` (forecast, anomalies), `imports` (import focus), `exports` (export focus), `people` (users),
`planner` (schedules), `budgeting` (budgets, alerts), `api` (api, tokens).
What they share is in `common`.
"""

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from finops.cli import (
    api,
    budgeting,
    costs,
    executions,
    exports,
    fx,
    imports,
    insights,
    inventory,
    people,
    planner,
    refresh,
    store,
)
from finops.cli.common import PROG, CommandError, Parser, first_line, store_label
from finops.data import rates, resources, tokens, users
from finops.data.db import StoreUnavailable
from finops.settings import InvalidSettings, get_settings

GROUPS = (store, refresh, imports, exports, costs, inventory, executions, fx, insights, planner, budgeting, people, api)
REFUSALS = (
    CommandError,
    StoreUnavailable,
    users.UserError,
    resources.ResourceError,
    rates.RateError,
    tokens.TokenError,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if hasattr(args, "check"):  # bad usage argparse cannot see (exits 2 like argparse)
        args.check(args)
    try:
        get_settings()
    except InvalidSettings as exc:
        print(f"{PROG}: invalid settings: {exc}", file=sys.stderr)
        return 2
    try:
        return args.handler(args)
    except REFUSALS as exc:
        return fail(str(exc))
    except OperationalError as exc:
        return fail(f"store error at {store_label()}: {first_line(exc)}")
    except KeyboardInterrupt:
        return 130


def fail(message: str) -> int:
    print(f"finops: {message}", file=sys.stderr)
    return 1
