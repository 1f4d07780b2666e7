"""`resources add|import|list`: the resource inventory (platform resources by hand or from CSV)."""

from pathlib import Path

from finops.cli.common import CommandError, Parser, emit, open_store
from finops.data import db, resources


def register(commands) -> None:
    """The resources command and its actions: add, import, list."""
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
