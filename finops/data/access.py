"""Who may do what: the acting user, and the rules every data function applies before it acts.

The rules live here, never only on a page, so the UI, the CLI, the REST API and the sidecar (which re-checks a
request when it carries it out) apply the same ones:
- an admin may act on every resource and see and change every group;
- a member may see and change only the groups they own, and may add to a group, stop and start only the
  resources they own (the inventory's `owner`: typed for platform resources, the owner tag for AWS ones);
- a resource without an owner is admin-only; a resource that is not in the inventory is refused to everyone;
- cost figures, the rate card, executions and refreshes are admin-only (`may_view_costs`, `require_admin`).
"""

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session, select

from finops.data.tables import User

ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """Who is asking: a username and whether they are an admin."""

    username: str
    is_admin: bool = False


class NotFound(LookupError):
    """No such object, or none the actor may see."""


class Forbidden(PermissionError):
    """The actor may see the object but not do this to it; the message says why."""


def actor_of(username: str, role: str) -> Actor:
    """The rights a user with `role` has."""
    return Actor(username=username, is_admin=role == ADMIN)


def actor_from_store(session: Session, username: str) -> Actor | None:
    """The user's current rights as the store holds them now (None when the user no longer exists)."""
    role = session.exec(select(User.role).where(User.username == username)).first()
    return None if role is None else actor_of(username, role)


class Owned(Protocol):
    """Anything with an owner: an inventory row, or the reconciler's light reference to one."""

    @property
    def owner(self) -> str: ...


def refusal(actor: Actor, resource: Owned | None, what: str = "act on") -> str | None:
    """Why `actor` may not `what` the resource (None when they may)."""
    if resource is None:
        return "it is not in the inventory"
    if actor.is_admin:
        return None
    if not resource.owner:
        return "it has no owner, so only an admin may " + what + " it"
    if resource.owner != actor.username:
        return f"it belongs to {resource.owner}"
    return None


def may_act_on(actor: Actor, resource: Owned | None) -> bool:
    return refusal(actor, resource) is None


def may_view_costs(actor: Actor) -> bool:
    """Cost figures (the bill, executions, forecasts, anomalies, savings) and what feeds them are admin-only."""
    return actor.is_admin


def require_admin(actor: Actor, what: str) -> None:
    """Forbidden unless the actor is an admin; `what` completes "only an admin may ..."."""
    if not actor.is_admin:
        raise Forbidden(f"only an admin may {what}")
