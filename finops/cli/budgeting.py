"""`budgets list|show|import|export|delete|evaluate|approve|reject|status` and `alerts list|test`: budgets and
their alerts from the command line.

The command line acts with an admin's rights, as `cli` in the audit log; a budget's scope is still checked
against its owner's rights, and an approval is given in a user's name (`--as`, by default the budget's owner),
whose rights the sidecar checks again when it acts. Bad input (a file or a value the budget language refuses)
prints one line naming the field and exits 2; nothing is saved, not even the other budgets of the file.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path

from finops import documents
from finops.budgeting import periods
from finops.budgeting.specs import BudgetSpecError, check_spec, read, to_dict
from finops.cli.common import CommandError, Parser, emit, iso_date, open_store
from finops.data import budget_actions, budget_runs, budgets, db, notifications
from finops.data.access import Actor, Forbidden, NotFound, actor_from_store
from finops.settings import get_settings

CLI = Actor("cli", is_admin=True)
REFUSED = (BudgetSpecError, budgets.BudgetError, Forbidden)
FORMATS = ("table", "csv", "json")


def register(commands) -> None:
    """The budgets and alerts commands and their actions."""
    sub = commands.add_parser("budgets", help="spending limits with alerts and actions", description=__doc__)
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    one = actions.add_parser("list", help="every budget: owner, scope, period, amount")
    one.add_argument("--format", choices=FORMATS, default="table")
    one.set_defaults(handler=run_list)
    for name, help_, handler in (("show", "one budget as its file, and its figures now", run_show),
                                 ("export", "print one budget (or all with --all) as YAML or JSON", run_export),
                                 ("delete", "delete a budget (its alerts stay)", run_delete)):  # fmt: skip
        one = actions.add_parser(name, help=help_)
        one.add_argument("name", metavar="NAME", nargs="?" if name == "export" else None)
        one.add_argument("--owner", default=None, help="whose budget, when several are named NAME")
        if name == "export":
            one.add_argument("--all", action="store_true")
            one.add_argument("--format", choices=("yaml", "json"), default="yaml")
        one.set_defaults(handler=handler)
    one = actions.add_parser("import", help="create or replace budgets from a JSON or YAML file")
    one.add_argument("path", metavar="FILE")
    one.add_argument("--owner", default=None, help="owner of budgets whose file names none")
    one.set_defaults(handler=run_import)
    one = actions.add_parser("evaluate", help="evaluate every budget now, or as of the end of a day")
    one.add_argument("--at", type=iso_date, default=None, metavar="YYYY-MM-DD")
    one.set_defaults(handler=run_evaluate)
    for name, help_ in (("approve", "approve a budget action awaiting approval"), ("reject", "turn one down")):
        one = actions.add_parser(name, help=help_)
        one.add_argument("action_id", metavar="ID", type=int)
        as_help = "in whose name (default: the budget's owner); the sidecar acts with their rights"
        one.add_argument("--as", dest="as_user", default=None, metavar="USER", help=as_help)
        one.set_defaults(handler=run_decide, decision=name)
    one = actions.add_parser("status", help="each budget's period, amount, actual, forecast and status")
    one.add_argument("--format", choices=FORMATS, default="table")
    one.add_argument("--at", type=iso_date, default=None, metavar="YYYY-MM-DD")
    one.set_defaults(handler=run_status)
    sub = commands.add_parser("alerts", help="budget alerts and where they went", description=__doc__)
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    one = actions.add_parser("list", help="every alert, newest first, with its deliveries")
    one.add_argument("--format", choices=FORMATS, default="table")
    one.set_defaults(handler=run_alerts)
    one = actions.add_parser("test", help="send a test message to a channel (email:ADDRESS or a FINOPS_CHANNELS name)")
    one.add_argument("channel", metavar="CHANNEL")
    one.set_defaults(handler=run_test)


def _refused(exc: Exception | str) -> int:
    print(f"finops: {exc}", file=sys.stderr)
    return 2


def _find(s, args):
    try:
        return budgets.by_name(s, CLI, args.name, args.owner)
    except NotFound as exc:
        raise CommandError(str(exc)) from None


def run_list(args) -> int:
    open_store()
    with db.session() as s:
        frame = budgets.list_budgets(session=s, actor=CLI)
    emit(frame, args.format, "no budgets yet: `python -m finops budgets import FILE`")
    return 0


def _as_of(day) -> datetime:
    return periods.as_of_day(day) if day is not None else datetime.now(UTC)


def run_show(args) -> int:
    open_store()
    with db.session() as s:
        row = _find(s, args)
        spec = to_dict(budgets.spec_of(s, row))
        frame = budget_runs.status(session=s, actor=CLI)
    sys.stdout.write(documents.dump([spec]))
    mine = frame[frame["id"] == row.id]
    for r in mine.to_dict("records"):
        print(f"# {r['period_start']} - {r['period_end']}: actual {r['actual']:,.2f} ({r['basis']}), "
              f"forecast {r['forecast']:,.2f} ({r['forecast_basis']}) of {r['amount']:,.2f} ({r['amount_basis']}): "
              f"{r['status']}")  # fmt: skip
    return 0


def run_import(args) -> int:
    open_store()
    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    known = set(get_settings().channels)
    try:
        raw = read(path.read_bytes(), str(path))
        owned = [{**r, **({"owner": args.owner} if args.owner and not r.get("owner") else {})} for r in raw]
        specs = [check_spec(r, f"{path.name}[{i}]." if len(raw) > 1 else "", known) for i, r in enumerate(owned)]
    except REFUSED as exc:
        return _refused(exc)
    missing = [b.name for b in specs if not b.owner]
    if missing:
        return _refused(BudgetSpecError(f"owner: budget {missing[0]!r} names no owner: add one, or pass --owner USER"))
    with db.session() as s:
        plan = []
        for i, spec in enumerate(specs):  # every budget is checked before any is saved
            where = f"{path.name}[{i}]: " if len(specs) > 1 else ""
            try:
                existing = budgets.by_name(s, CLI, spec.name, spec.owner)
            except NotFound:
                existing = None
            try:
                budgets.check(session=s, actor=CLI, spec=spec, row=existing, known_channels=known)
            except REFUSED as exc:
                return _refused(f"{where}{exc}")
            plan.append((spec, existing))
        for spec, existing in plan:
            row = budgets.save(session=s, actor=CLI, spec=spec, budget_id=existing.id if existing else None,
                               known_channels=known)  # fmt: skip
            print(f"{'replaced' if existing else 'created'} {row.name} ({row.owner})")
    return 0


def run_export(args) -> int:
    open_store()
    with db.session() as s:
        if args.all:
            rows = [budgets.load(s, CLI, i) for i in budgets.list_budgets(session=s, actor=CLI)["id"]]
        elif args.name:
            rows = [_find(s, args)]
        else:
            raise CommandError("export: give a budget NAME or --all")
        specs = [to_dict(budgets.spec_of(s, r)) for r in rows]
    sys.stdout.write(documents.dump(specs, args.format))
    return 0


def run_delete(args) -> int:
    open_store()
    with db.session() as s:
        row = _find(s, args)
        budgets.delete_budget(session=s, actor=CLI, budget_id=row.id)
    print(f"deleted budget {args.name}")
    return 0


def run_evaluate(args) -> int:
    open_store()
    with db.session() as s:
        counts = budget_runs.evaluate(session=s, settings=get_settings(), as_of=_as_of(args.at))
    when = f"as of the end of {args.at}" if args.at else "now"
    print(f"evaluated {counts['budgets']} budgets {when}: {counts['alerts']} new alerts, {counts['actions']} actions "
          f"proposed, {counts['queued']} messages queued" + (f", {counts['skipped']} skipped (see the log)"
                                                              if counts["skipped"] else ""))  # fmt: skip
    return 0


def run_decide(args) -> int:
    open_store()
    with db.session() as s:
        try:
            action, budget = budget_actions.load(s, CLI, args.action_id)
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        name = args.as_user or budget.owner
        actor = actor_from_store(s, name)
        if actor is None:
            return _refused(f"--as: no user {name!r}")
        decide = budget_actions.approve if args.decision == "approve" else budget_actions.reject
        try:
            row = decide(session=s, actor=actor, action_id=args.action_id)
        except (NotFound, Forbidden) as exc:
            return _refused(f"{name}: {exc}" if isinstance(exc, NotFound) else exc)
        print(f"budget action {row.id} ({row.action} for {row.budget_name}): {row.status.replace('_', ' ')} by {name}")
    return 0


def run_status(args) -> int:
    open_store()
    with db.session() as s:
        frame = budget_runs.status(session=s, actor=CLI, as_of=_as_of(args.at))
    emit(frame[budget_runs.STATUS_COLUMNS], args.format, "no active budgets",
         money_cols=("amount", "actual", "forecast"), right=("pct_actual", "pct_forecast"))  # fmt: skip
    return 0


def run_alerts(args) -> int:
    open_store()
    with db.session() as s:
        frame = notifications.alerts(session=s, actor=CLI)
    emit(frame, args.format, "no alerts yet", money_cols=("value", "limit", "amount"))
    return 0


def run_test(args) -> int:
    try:
        print(notifications.test_channel(get_settings(), args.channel))
    except notifications.DeliveryError as exc:
        return _refused(exc)
    return 0
