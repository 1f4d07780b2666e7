"""`users add|list|passwd`: the people who log in (passwords from stdin, or generated and shown once)."""

import sys

from finops.cli.common import PROG, Parser, open_store, text_table
from finops.data import db, users


def register(commands) -> None:
    """The users command and its actions: add, list, passwd."""
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
