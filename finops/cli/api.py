"""`api` and `tokens add|list|revoke`: the REST API server and the bearer tokens it accepts."""

import argparse
import sys

from finops.cli.common import PROG, Parser, emit, open_store
from finops.data import db, tokens
from finops.settings import get_settings


def register(commands) -> None:
    """The api and tokens commands."""
    sub = commands.add_parser(
        "api",
        help="start the REST API on FINOPS_API_HOST:FINOPS_API_PORT (default 127.0.0.1:8000)",
        description="Serve /api/v1/finops/* with uvicorn (OpenAPI at /docs) on FINOPS_API_HOST (127.0.0.1 unless "
        "set: only this machine can connect) and FINOPS_API_PORT, with FINOPS_API_WORKERS processes. `make run` "
        "starts it beside the UI and the sidecar.",
    )
    sub.set_defaults(handler=run_api)

    sub = commands.add_parser("tokens", help="bearer tokens of the REST API")
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    sub = actions.add_parser(
        "add", help="make a token acting as USER (printed once)",
        description="The token is printed once and only its SHA-256 is stored. It acts with USER's role as the "
        "store holds it at each request: demoting or deleting the user takes effect at once.",
    )  # fmt: skip
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--user", required=True, metavar="USER")
    sub.add_argument("--expires", type=expiry_days, metavar="DAYS", help="days until it expires (default: never)")
    sub.set_defaults(handler=run_tokens_add)
    sub = actions.add_parser("list", help="tokens with their user, state and last use (never the token)")
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sub.set_defaults(handler=run_tokens_list)
    sub = actions.add_parser("revoke", help="end a token at once")
    sub.add_argument("name", metavar="NAME")
    sub.set_defaults(handler=run_tokens_revoke)


def expiry_days(text: str) -> int:
    """argparse type: 1-3650 days."""
    if not text.isdigit() or not 1 <= int(text) <= tokens.MAX_DAYS:
        raise argparse.ArgumentTypeError(f"invalid days {text!r}: expected 1 to {tokens.MAX_DAYS}")
    return int(text)


def run_api(_args) -> int:
    from finops.api.server import serve

    open_store()
    serve(get_settings())
    return 0


def run_tokens_add(args) -> int:
    open_store()
    with db.session() as s:
        row, token = tokens.add_token(session=s, name=args.name, username=args.user, expires_days=args.expires)
    expires = f", expires {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else ""
    print(f"token {row.name} for {row.username}{expires}:\n{token}")
    print(f"(shown only this once; send it as 'Authorization: Bearer <token>'; end it with: {PROG} tokens revoke "
          f"{row.name})", file=sys.stderr)  # fmt: skip
    return 0


def run_tokens_list(args) -> int:
    open_store()
    with db.session() as s:
        frame = tokens.list_tokens(session=s)
    if args.format == "table":
        frame = frame[["name", "user", "prefix", "state", "created_at", "expires_at", "last_used_at"]]
    emit(frame, args.format, f"no tokens yet: `{PROG} tokens add NAME --user USER`")
    return 0


def run_tokens_revoke(args) -> int:
    open_store()
    with db.session() as s:
        row = tokens.revoke(session=s, name=args.name)
        print(f"token {row.name} revoked")
    return 0
