"""`refresh`: ask the sidecar for new data, or refresh here and now."""

from finops.cli.common import PROG, CommandError, open_store
from finops.data import db, refresh_requests
from finops.data.refresh import RefreshError, run_refresh
from finops.data.store_lock import held_elsewhere
from finops.settings import get_settings


def register(commands) -> None:
    """The refresh command."""
    sub = commands.add_parser(
        "refresh",
        help="refresh costs from the configured source",
        description="Without --wait, file a request that the sidecar (`python -m finops.jobs`) picks up within "
        "seconds, and return. With --wait, run the refresh in this process and exit 1 when it fails.",
    )
    sub.add_argument("--backfill", action="store_true", help="pull everything the source keeps, not just new days")
    sub.add_argument("--wait", action="store_true", help="refresh here and now instead of asking the sidecar")
    sub.set_defaults(handler=run_refresh_command)


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
