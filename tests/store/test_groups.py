"""Resource groups: access control, validation, the membership constraint, pagination, search and audit."""

import json

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from finops.data import audit, groups, resources
from finops.data.groups import Actor, GroupError, NotFound
from finops.data.tables import AuditLog, ResourceGroup, ResourceGroupMember

ADMIN = Actor("admin", is_admin=True)
OWNER = Actor("owner")
OTHER = Actor("other")


# the inventory the tests group: a member may group only what they own; the admin anything in the inventory
INVENTORY = [
    ("ec2_instance", "i-1", "owner"),
    ("app", "a", "owner"),
    ("app", "a1", "owner"),
    ("app", "app-owner", "owner"),
    ("app", "app-admin", ""),
    ("app", "app-other", "other"),
    ("workflow", "w1", ""),
]


@pytest.fixture
def s(engine):
    with Session(engine) as session:
        for kind, ident, owner in INVENTORY:
            resources.add_resource(session=session, resource_type=kind, resource_id=ident, name=ident, owner=owner)
        yield session


@pytest.fixture
def group(s):
    """A group owned by OWNER holding one EC2 instance."""
    return groups.create_group(
        session=s, actor=OWNER, name="ML team", description="training boxes", resources=[("ec2_instance", "i-1")]
    )


def _list(s, actor, gid):
    rows, _ = groups.list_groups(session=s, actor=actor)
    if gid not in set(rows["id"]):
        raise NotFound(gid)


def _gor(s, actor, gid):
    rows = groups.groups_of_resource(session=s, actor=actor, resource_type="ec2_instance", resource_id="i-1")
    if gid not in set(rows["id"]):
        raise NotFound(gid)


OPERATIONS = {
    "list": _list,
    "get": lambda s, a, gid: groups.get_group(session=s, actor=a, group_id=gid),
    "members": lambda s, a, gid: groups.members(session=s, actor=a, group_id=gid),
    "update": lambda s, a, gid: groups.update_group(session=s, actor=a, group_id=gid, description=f"by {a.username}"),
    "add": lambda s, a, gid: groups.add_resource(
        session=s, actor=a, group_id=gid, resource_type="app", resource_id=f"app-{a.username}"
    ),
    "remove": lambda s, a, gid: groups.remove_resource(
        session=s, actor=a, group_id=gid, resource_type="ec2_instance", resource_id="i-1"
    ),
    "groups_of_resource": _gor,
    "delete": lambda s, a, gid: groups.delete_group(session=s, actor=a, group_id=gid),
}
ACTORS = {"admin": (ADMIN, True), "owner": (OWNER, True), "other member": (OTHER, False)}


@pytest.mark.parametrize("op", list(OPERATIONS))
@pytest.mark.parametrize("who", list(ACTORS))
def test_access_matrix(s, group, who, op):
    actor, allowed = ACTORS[who]
    if allowed:
        OPERATIONS[op](s, actor, group.id)
    else:
        with pytest.raises(NotFound):
            OPERATIONS[op](s, actor, group.id)
        # nothing changed and nothing was audited beyond the create
        s.expire_all()
        assert s.get(ResourceGroup, group.id).description == "training boxes"
        assert len(groups.members(session=s, actor=OWNER, group_id=group.id)) == 1
        assert list(audit.list_entries(session=s)["action"]) == ["create"]


def test_not_found_message_does_not_leak(s, group):
    with pytest.raises(NotFound) as err:
        groups.get_group(session=s, actor=OTHER, group_id=group.id)
    assert "ML team" not in str(err.value)
    with pytest.raises(NotFound):
        groups.get_group(session=s, actor=ADMIN, group_id=999_999)


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "name is required"), ("   ", "name is required"), ("x" * 101, "at most 100 characters")],
)
def test_bad_names_refused(s, name, message):
    with pytest.raises(GroupError, match=message):
        groups.create_group(session=s, actor=OWNER, name=name)
    assert groups.list_groups(session=s, actor=ADMIN)[1] == 0


def test_name_limits_and_uniqueness_per_owner(s, group):
    assert groups.create_group(session=s, actor=OWNER, name="y" * 100).name == "y" * 100
    with pytest.raises(GroupError, match="already has a group named 'ML team'"):
        groups.create_group(session=s, actor=OWNER, name=" ML team ")
    assert groups.create_group(session=s, actor=OTHER, name="ML team").owner == "other"
    with pytest.raises(GroupError, match="already has a group"):
        groups.update_group(session=s, actor=OWNER, group_id=group.id + 1, name="ML team")
    with pytest.raises(GroupError, match="at most 100"):
        groups.update_group(session=s, actor=OWNER, group_id=group.id, name="z" * 101)
    with pytest.raises(GroupError, match="status must be"):
        groups.update_group(session=s, actor=OWNER, group_id=group.id, status="deleted")


@pytest.mark.parametrize(
    "text", ["'; DROP TABLE resource_group; --", "<script>alert(1)</script>", "Robert'); --", "100% _done_ \\"]
)
def test_sql_and_html_stored_verbatim(s, text):
    created = groups.create_group(session=s, actor=OWNER, name=text, description=text)
    s.expire_all()
    got = groups.get_group(session=s, actor=OWNER, group_id=created.id)
    assert (got.name, got.description) == (text, text)
    rows, total = groups.list_groups(session=s, actor=OWNER, search=text)
    assert total == 1 and rows["name"].tolist() == [text]


def test_duplicate_membership_refused_with_message(s, group):
    with pytest.raises(GroupError, match="resource ec2_instance:i-1 is already in group 'ML team'"):
        groups.add_resource(session=s, actor=OWNER, group_id=group.id, resource_type="ec2_instance", resource_id="i-1")
    assert len(groups.members(session=s, actor=OWNER, group_id=group.id)) == 1
    # the same resource in another group is fine
    other = groups.create_group(session=s, actor=OWNER, name="second", resources=[("ec2_instance", "i-1", "box")])
    found = groups.groups_of_resource(session=s, actor=OWNER, resource_type="ec2_instance", resource_id="i-1")
    assert sorted(found["id"]) == sorted([group.id, other.id])
    with pytest.raises(GroupError, match="listed twice"):
        groups.create_group(session=s, actor=OWNER, name="third", resources=[("app", "a"), ("app", "a")])


def test_membership_unique_constraint_in_database(engine, group):
    row = {
        "group_id": group.id,
        "resource_type": "ec2_instance",
        "resource_id": "i-1",
        "resource_name": "",
        "added_by": "",
    }
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(ResourceGroupMember).values(added_at=group.created_at, **row))


def test_unknown_resource_type_and_empty_id(s, group):
    with pytest.raises(GroupError, match="unknown resource type 'vm'"):
        groups.add_resource(session=s, actor=OWNER, group_id=group.id, resource_type="vm", resource_id="x")
    with pytest.raises(GroupError, match="resource id is required"):
        groups.add_resource(session=s, actor=OWNER, group_id=group.id, resource_type="app", resource_id=" ")
    with pytest.raises(GroupError, match="unknown resource type"):
        groups.create_group(session=s, actor=OWNER, name="bad", resources=[("vm", "x")])
    assert groups.list_groups(session=s, actor=OWNER)[1] == 1


def test_remove_missing_member_is_not_found(s, group):
    with pytest.raises(NotFound, match="not in group"):
        groups.remove_resource(session=s, actor=OWNER, group_id=group.id, resource_type="app", resource_id="nope")


def test_delete_cascades_memberships(s, group):
    groups.delete_group(session=s, actor=OWNER, group_id=group.id)
    assert s.execute(select(ResourceGroupMember)).first() is None
    with pytest.raises(NotFound):
        groups.get_group(session=s, actor=ADMIN, group_id=group.id)


@pytest.mark.parametrize(
    ("count", "page", "per_page", "expected_rows"),
    [(0, 1, 5, 0), (5, 1, 5, 5), (5, 2, 5, 0), (7, 2, 5, 2), (7, 3, 5, 0), (7, 99, 5, 0), (3, 0, 5, 3)],
)
def test_pagination(s, count, page, per_page, expected_rows):
    for i in range(count):
        groups.create_group(session=s, actor=OWNER, name=f"g{i:02d}")
    rows, total = groups.list_groups(session=s, actor=OWNER, page=page, per_page=per_page)
    assert (len(rows), total) == (expected_rows, count)
    if expected_rows:
        first = (max(page, 1) - 1) * per_page
        assert rows["name"].tolist() == [f"g{i:02d}" for i in range(first, first + expected_rows)]


def test_search_escapes_wildcards_and_ignores_case(s):
    for name in ["100% cpu", "100x cpu", "a_b", "axb", "Training"]:
        groups.create_group(session=s, actor=OWNER, name=name, description="desc " + name)
    names = lambda **kw: sorted(groups.list_groups(session=s, actor=OWNER, **kw)[0]["name"])  # noqa: E731
    assert names(search="100%") == ["100% cpu"]
    assert names(search="a_b") == ["a_b"]
    assert names(search="TRAIN") == ["Training"]
    assert names(search="DESC TRAIN") == ["Training"]  # description too
    assert names(search="nothing") == []


def test_status_filter_and_member_counts(s, group):
    groups.create_group(session=s, actor=OWNER, name="old")
    archived = groups.list_groups(session=s, actor=OWNER)[0].set_index("name").loc["old", "id"]
    groups.update_group(session=s, actor=OWNER, group_id=archived, status="archived")
    rows, total = groups.list_groups(session=s, actor=OWNER, status="active")
    assert (rows["name"].tolist(), total) == (["ML team"], 1)
    assert rows["resources"].tolist() == [1]
    assert groups.list_groups(session=s, actor=OWNER, status="archived")[0]["name"].tolist() == ["old"]
    assert groups.list_groups(session=s, actor=OTHER)[1] == 0
    assert groups.list_groups(session=s, actor=ADMIN)[1] == 2


def test_every_write_is_audited(s):
    g = groups.create_group(session=s, actor=OWNER, name="audited", resources=[("app", "a1")])
    groups.update_group(session=s, actor=OWNER, group_id=g.id, name="renamed", status="archived")
    groups.update_group(session=s, actor=OWNER, group_id=g.id, name="renamed")  # no change, no row
    groups.add_resource(session=s, actor=ADMIN, group_id=g.id, resource_type="workflow", resource_id="w1")
    groups.remove_resource(session=s, actor=OWNER, group_id=g.id, resource_type="app", resource_id="a1")
    groups.delete_group(session=s, actor=ADMIN, group_id=g.id)
    log = audit.list_entries(session=s).iloc[::-1]
    assert log["action"].tolist() == ["create", "update", "add", "remove", "delete"]
    assert log["actor"].tolist() == ["owner", "owner", "admin", "owner", "admin"]
    assert set(log["object_id"]) == {str(g.id)} and set(log["object_type"]) == {"resource_group"}
    assert log["at"].notna().all()
    details = [json.loads(d) for d in log["detail"]]  # the log's table shows detail as JSON text
    assert details[0]["resources"] == ["app:a1"]
    assert details[1] == {"name": ["audited", "renamed"], "status": ["active", "archived"]}
    assert details[2] == {"resource": "workflow:w1"} and details[3] == {"resource": "app:a1"}
    assert details[4]["name"] == "renamed" and details[4]["resources"] == 1


def test_refused_write_leaves_no_audit_row(s, group):
    with pytest.raises(GroupError):
        groups.add_resource(session=s, actor=OWNER, group_id=group.id, resource_type="ec2_instance", resource_id="i-1")
    assert s.execute(select(AuditLog.action)).scalars().all() == ["create"]
