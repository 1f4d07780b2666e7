"""Who may stop what (issue 9), on SQLite and PostgreSQL: ids never come back, members act only on what they own,
the sidecar re-checks a request when it carries it out, and a request left by a dead sidecar blocks nothing."""

import pytest
from sqlalchemy import select
from sqlmodel import Session

from finops.data import groups, power, refresh_requests, resources
from finops.data.access import Actor, Forbidden, NotFound
from finops.data.groups import GroupError
from finops.data.store_lock import StoreLock
from finops.data.tables import AuditLog, PowerAction, RefreshRequest, User
from finops.settings import Settings

ADMIN, ALICE, BOB = Actor("admin", is_admin=True), Actor("alice"), Actor("bob")
NO_URL = Settings(platform_url="")  # platform resources: the desired state is recorded
INVENTORY = [("a-alice", "alice"), ("a-bob", "bob"), ("a-admin", "admin"), ("a-none", "")]


@pytest.fixture
def s(engine):
    with Session(engine) as session:
        for actor in (ADMIN, ALICE, BOB):
            role = "admin" if actor.is_admin else "member"
            session.add(User(username=actor.username, role=role, password_hash="-"))
        session.commit()
        for ident, owner in INVENTORY:
            resources.add_resource(
                session=session, resource_type="app", resource_id=ident, name=ident, owner=owner, state="running"
            )
        yield session


def carry_out(s) -> PowerAction | None:
    """What the sidecar does: claim the next request and carry it out."""
    row = power.take_next(session=s)
    return None if row is None else power.execute(session=s, row=row, settings=NO_URL)


def state(s, ident: str) -> str:
    s.expire_all()
    return resources.get_resource(session=s, resource_type="app", resource_id=ident).state


# --- ids are never reused ---------------------------------------------------------------------------


def test_a_deleted_groups_id_is_never_handed_out_again(s):
    groups.create_group(session=s, actor=ALICE, name="one")
    newest = groups.create_group(session=s, actor=ALICE, name="two")  # the largest id: SQLite would reuse it
    groups.delete_group(session=s, actor=ALICE, group_id=newest.id)
    again = groups.create_group(session=s, actor=BOB, name="three")
    assert again.id > newest.id
    assert again.uid != newest.uid


def test_a_request_on_a_deleted_group_is_cancelled_and_never_runs_on_the_next_group(s):
    mine = groups.create_group(session=s, actor=ALICE, name="nightly", resources=[("app", "a-alice")])
    filed = power.request(session=s, actor=ALICE, group_id=mine.id, action="stop")
    groups.delete_group(session=s, actor=ALICE, group_id=mine.id)
    s.expire_all()
    cancelled = s.get(PowerAction, filed.id)
    assert cancelled.status == "cancelled" and "deleted the group" in cancelled.error
    audit = s.execute(select(AuditLog.action, AuditLog.object_type, AuditLog.object_id)).all()
    assert ("cancel", "power_action", str(filed.id)) in audit

    theirs = groups.create_group(session=s, actor=BOB, name="bob's", resources=[("app", "a-bob")])
    assert theirs.id != mine.id
    # the new owner sees none of the old group's history, and their own Stop all is not "already pending"
    assert power.recent(session=s, actor=BOB, group_id=theirs.id).empty
    with pytest.raises(NotFound):
        power.results(session=s, actor=BOB, action_id=filed.id)
    bobs = power.request(session=s, actor=BOB, group_id=theirs.id, action="stop")
    done = carry_out(s)
    assert done.id == bobs.id and done.requested_by == "bob"
    assert carry_out(s) is None  # alice's cancelled request never runs
    assert (state(s, "a-alice"), state(s, "a-bob")) == ("running", "stopped")


def test_the_sidecar_refuses_a_request_whose_group_is_another_one(s):
    theirs = groups.create_group(session=s, actor=BOB, name="bob's", resources=[("app", "a-bob")])
    # what a store from before the fix could hold: a waiting request that points at this id for another group
    s.add(PowerAction(requested_by="alice", group_id=theirs.id, group_uid="0" * 32, group_name="old", action="stop"))
    s.commit()
    done = carry_out(s)
    assert done.status == "refused" and "no longer exists" in done.error
    assert state(s, "a-bob") == "running"
    refusals = s.execute(select(AuditLog.detail).where(AuditLog.action == "refuse")).scalars().all()
    assert len(refusals) == 1 and "no longer exists" in refusals[0]["reason"]


@pytest.mark.parametrize("change", ["deleted", "other"])
def test_the_sidecar_refuses_when_the_requester_may_no_longer_change_the_group(s, change):
    group = groups.create_group(session=s, actor=ALICE, name="alice's")  # an admin acts on a member's group
    groups.add_resource(session=s, actor=ADMIN, group_id=group.id, resource_type="app", resource_id="a-admin")
    power.request(session=s, actor=ADMIN, group_id=group.id, action="stop")
    user = s.execute(select(User).where(User.username == "admin")).scalars().one()
    if change == "deleted":
        s.delete(user)
    else:
        user.role = "member"  # demoted: alice's group is no longer theirs to change
        s.add(user)
    s.commit()
    done = carry_out(s)
    assert done.status == "refused"
    assert ("no longer exists" if change == "deleted" else "may no longer change") in done.error
    assert state(s, "a-admin") == "running"


# --- the ownership matrix ---------------------------------------------------------------------------

ACTORS = {"admin": ADMIN, "owner of the resource": ALICE, "other member": BOB}
MAY = {"admin": True, "owner of the resource": True, "other member": False}


@pytest.mark.parametrize("who", list(ACTORS))
def test_add(s, who):
    actor = ACTORS[who]
    group = groups.create_group(session=s, actor=actor, name="mine")
    if MAY[who]:
        groups.add_resource(session=s, actor=actor, group_id=group.id, resource_type="app", resource_id="a-alice")
    else:
        with pytest.raises(Forbidden, match="belongs to alice"):
            groups.add_resource(session=s, actor=actor, group_id=group.id, resource_type="app", resource_id="a-alice")
        with pytest.raises(Forbidden):
            groups.create_group(session=s, actor=actor, name="again", resources=[("app", "a-alice")])
    assert len(groups.members(session=s, actor=actor, group_id=group.id)) == (1 if MAY[who] else 0)


@pytest.mark.parametrize("action", ["stop", "start"])
@pytest.mark.parametrize("who", list(ACTORS))
def test_stop_and_start(s, who, action):
    actor = ACTORS[who]
    before = "running" if action == "stop" else "stopped"
    target = "stopped" if action == "stop" else "running"
    for ident in ("a-alice", "a-bob"):
        resources.add_resource(session=s, resource_type="app", resource_id=ident, name=ident,
                               owner=ident[2:], state=before)  # fmt: skip
    group = groups.create_group(session=s, actor=actor, name="mine")
    # someone's resource in the actor's group: an admin put it there (or it was added before the rule)
    groups.add_resource(session=s, actor=ADMIN, group_id=group.id, resource_type="app", resource_id="a-alice")
    if not MAY[who]:
        with pytest.raises(Forbidden, match=f"you may {action} none of the resources"):
            power.request(session=s, actor=actor, group_id=group.id, action=action)
        groups.add_resource(session=s, actor=actor, group_id=group.id, resource_type="app", resource_id="a-bob")
    plan = power.plan(session=s, actor=actor, group_id=group.id, action=action).set_index("resource_id")
    assert plan.loc["a-alice", "change"].startswith("refused: it belongs to alice") != MAY[who]
    power.request(session=s, actor=actor, group_id=group.id, action=action)
    done = carry_out(s)
    outcome = power.results(session=s, actor=actor, action_id=done.id).set_index("resource_id")
    if MAY[who]:
        assert done.status == "done" and state(s, "a-alice") == target
        assert outcome.loc["a-alice", "outcome"] == "recorded"
    else:
        assert done.status == "partial" and state(s, "a-alice") == before and state(s, "a-bob") == target
        assert outcome.loc["a-alice", "outcome"] == "refused"
        assert outcome.loc["a-alice", "error"] == "not permitted: it belongs to alice"


def test_a_resource_without_owner_is_admin_only_and_unknown_ids_are_refused(s):
    mine = groups.create_group(session=s, actor=ALICE, name="mine")
    with pytest.raises(Forbidden, match="no owner"):
        groups.add_resource(session=s, actor=ALICE, group_id=mine.id, resource_type="app", resource_id="a-none")
    admins = groups.create_group(session=s, actor=ADMIN, name="admin's", resources=[("app", "a-none")])
    for actor, group in ((ALICE, mine), (ADMIN, admins)):
        with pytest.raises(GroupError, match="not in the inventory"):
            groups.add_resource(session=s, actor=actor, group_id=group.id, resource_type="ec2_instance",
                                resource_id="i-0123456789abcdef0")  # fmt: skip


def test_the_picker_lists_only_what_an_actor_may_add(s):
    mine = resources.list_resources(session=s, actor=ALICE)["resource_id"].tolist()
    assert mine == ["a-alice"]
    assert sorted(resources.list_resources(session=s, actor=ADMIN)["resource_id"]) == sorted(i for i, _ in INVENTORY)


# --- requests left by a dead sidecar ----------------------------------------------------------------


def test_a_stop_left_running_by_a_dead_sidecar_does_not_block_a_new_one(s):
    group = groups.create_group(session=s, actor=ALICE, name="g", resources=[("app", "a-alice")])
    first = power.request(session=s, actor=ALICE, group_id=group.id, action="stop")
    assert power.take_next(session=s).id == first.id  # a sidecar took it, then died
    lock = StoreLock(s.get_bind())
    assert lock.acquire()  # while a sidecar holds the store, "running" means running
    try:
        with pytest.raises(GroupError, match="already running"):
            power.request(session=s, actor=ALICE, group_id=group.id, action="start")
    finally:
        lock.release()
    second = power.request(session=s, actor=ALICE, group_id=group.id, action="start")
    s.expire_all()
    assert s.get(PowerAction, first.id).status == "failed" and second.status == "pending"


def test_a_refresh_left_running_does_not_swallow_a_new_request(s):
    first, created = refresh_requests.request_refresh(session=s, requested_by="ada")
    assert created
    assert refresh_requests.take_next(session=s).id == first.id  # taken by a sidecar that then died
    again, created = refresh_requests.request_refresh(session=s, requested_by="ada")
    assert created and again.id != first.id
    statuses = s.execute(select(RefreshRequest.status).order_by(RefreshRequest.id)).scalars().all()
    assert statuses == ["running", "pending"]
