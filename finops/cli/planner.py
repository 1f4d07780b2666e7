"""`schedules list|show|import|export|delete|override|preview`: schedules from the command line.

The command line acts with an admin's rights, as `cli` in the audit log; a schedule's targets are still checked
against its owner's rights. Bad input (a file or a value the schedule language refuses) prints one line naming
the field and exits 2; nothing is saved.
"""

import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pandas as pd

from finops.cli.common import CommandError, Parser, emit, iso_date, open_store
from finops.data import db, schedules
from finops.data.access import Actor, Forbidden, NotFound
from finops.scheduling import files
from finops.scheduling.expressions import ExpressionError
from finops.scheduling.specs import SpecError, check_spec, to_dict
from finops.scheduling.timetable import desired_state, transitions

CLI = Actor("cli", is_admin=True)
REFUSED = (SpecError, schedules.ScheduleError, ExpressionError, Forbidden)


def register(commands) -> None:
    """The schedules command and its actions."""
    sub = commands.add_parser("schedules", help="stop and start resources on a timetable",
                              description=__doc__)  # fmt: skip
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    sub = actions.add_parser("list", help="every schedule: owner, zone, periods, targets")
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sub.set_defaults(handler=run_list)
    sub = actions.add_parser("show", help="one schedule (as its file), what it wants now and next")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--owner", default=None, help="whose schedule, when several are named NAME")
    sub.set_defaults(handler=run_show)
    sub = actions.add_parser("import", help="create or replace schedules from a JSON or YAML file (ours or ISch's)")
    sub.add_argument("path", metavar="FILE")
    sub.add_argument("--owner", default=None, help="owner of schedules whose file names none")
    sub.set_defaults(handler=run_import)
    sub = actions.add_parser("export", help="print one schedule (or all with --all) as YAML or JSON")
    sub.add_argument("name", metavar="NAME", nargs="?")
    sub.add_argument("--all", action="store_true")
    sub.add_argument("--owner", default=None)
    sub.add_argument("--format", choices=("yaml", "json"), default="yaml")
    sub.set_defaults(handler=run_export)
    sub = actions.add_parser("delete", help="delete a schedule (its activity log and ledger stay)")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--owner", default=None)
    sub.set_defaults(handler=run_delete)
    sub = actions.add_parser("override", help="force a state until a time, with a reason (audited)")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--until", required=True, metavar="ISO", help="e.g. 2026-12-04T18:00 (the schedule's zone)")
    sub.add_argument("--state", choices=("running", "stopped"), default="running")
    sub.add_argument("--reason", default="")
    sub.add_argument("--owner", default=None)
    sub.set_defaults(handler=run_override)
    sub = actions.add_parser("preview", help="every start and stop in [from, to)")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--from", dest="start", type=iso_date, required=True, metavar="YYYY-MM-DD")
    sub.add_argument("--to", dest="end", type=iso_date, required=True, metavar="YYYY-MM-DD")
    sub.add_argument("--owner", default=None)
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sub.set_defaults(handler=run_preview, parser=sub, check=_check_window)


def _check_window(args) -> None:
    if args.start >= args.end:
        args.parser.error(f"--from {args.start} must be before --to {args.end} (--to is excluded)")


def _refused(exc: Exception | str) -> int:
    print(f"finops: {exc}", file=sys.stderr)
    return 2


def _find(s, args):
    try:
        return schedules.by_name(s, CLI, args.name, args.owner)
    except NotFound as exc:
        raise CommandError(str(exc)) from None


def run_list(args) -> int:
    open_store()
    with db.session() as s:
        frame = schedules.list_schedules(session=s, actor=CLI)
    emit(frame, args.format, "no schedules yet: `python -m finops schedules import FILE`")
    return 0


def run_show(args) -> int:
    open_store()
    now = datetime.now(UTC)
    with db.session() as s:
        row = _find(s, args)
        spec = to_dict(schedules.spec_of(s, row))
        timetable = schedules.timetable(s, row)
    sys.stdout.write(files.write([spec]))
    decision = desired_state(timetable, now)
    upcoming = transitions(timetable, now, now + timedelta(days=14))[:2]
    print(f"# now: {decision.state} ({decision.reason})")
    for t in upcoming:
        print(f"# next {t.action}: {t.local.isoformat(timespec='minutes')} ({t.at:%Y-%m-%dT%H:%MZ})")
    return 0


def run_import(args) -> int:
    open_store()
    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    try:
        raw = files.read(path.read_bytes(), str(path))
        specs = [check_spec({**r, **({"owner": args.owner} if args.owner and not r.get("owner") else {})},
                            f"{path.name}[{i}]." if len(raw) > 1 else "") for i, r in enumerate(raw)]  # fmt: skip
    except REFUSED as exc:
        return _refused(exc)
    missing = [s.name for s in specs if not s.owner]
    if missing:
        return _refused(SpecError(f"owner: schedule {missing[0]!r} names no owner: add one, or pass --owner USER"))
    saved = []
    with db.session() as s:
        try:
            for spec in specs:
                try:
                    existing = schedules.by_name(s, CLI, spec.name, spec.owner)
                except NotFound:
                    existing = None
                row = schedules.save(session=s, actor=CLI, spec=spec, schedule_id=existing.id if existing else None)
                saved.append(f"{'replaced' if existing else 'created'} {row.name} ({row.owner})")
        except REFUSED as exc:
            s.rollback()
            return _refused(f"{exc} (saved before it: {len(saved)} of {len(specs)})" if saved else exc)
    print("\n".join(saved))
    return 0


def run_export(args) -> int:
    open_store()
    with db.session() as s:
        if args.all:
            rows = [schedules.load(s, CLI, i) for i in schedules.list_schedules(session=s, actor=CLI)["id"]]
        elif args.name:
            rows = [_find(s, args)]
        else:
            raise CommandError("export: give a schedule NAME or --all")
        specs = [to_dict(schedules.spec_of(s, r)) for r in rows]
    sys.stdout.write(files.write(specs, args.format))
    return 0


def run_delete(args) -> int:
    open_store()
    with db.session() as s:
        row = _find(s, args)
        schedules.delete_schedule(session=s, actor=CLI, schedule_id=row.id)
    print(f"deleted schedule {args.name}")
    return 0


def run_override(args) -> int:
    open_store()
    with db.session() as s:
        row = _find(s, args)
        try:
            override = schedules.add_override(session=s, actor=CLI, schedule_id=row.id, state=args.state,
                                              until=args.until, reason=args.reason)  # fmt: skip
        except REFUSED as exc:
            return _refused(exc)
        print(f"{row.name}: {override.state} until {override.until:%Y-%m-%d %H:%M} UTC (override {override.id})")
    return 0


def run_preview(args) -> int:
    open_store()
    with db.session() as s:
        row = _find(s, args)
        timetable = schedules.timetable(s, row)
    zone = timetable.timezone
    start = datetime.combine(args.start, time(0), tzinfo=zone) - timedelta(microseconds=1)
    end = datetime.combine(args.end, time(0), tzinfo=zone) - timedelta(microseconds=1)
    rows = [[t.at.isoformat(), t.local.isoformat(), t.action] for t in transitions(timetable, start, end)]
    emit(pd.DataFrame(rows, columns=["at_utc", "at_local", "action"]), args.format, "no start or stop in that range")
    return 0
