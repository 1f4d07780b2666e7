"""The Resource Groups page, compared with the store.

The demo organisation holds resource groups of its own (by team and environment, `demo.groups()`); tests that
count groups count those they create (`created`) and select the group they work on.
"""

import re

from sqlalchemy import select
from sqlmodel import Session

from finops.data import groups, resources
from finops.data.groups import Actor
from finops.data.sources import demo
from finops.data.tables import ResourceGroup, ResourceGroupMember
from tests.pages.conftest import open_page, shown

PAGE = "pages/resource_groups.py"


def open_as_member():
    return open_page(PAGE, username="member", role="member")


DEMO = {(g["owner"], g["name"]) for g in demo.groups()}
MEMBER_DEMO = sorted(name for owner, name in DEMO if owner == "member")


def create(at, name: str, description: str = ""):
    at.button(key="rg_new").click().run()  # the create form is in a dialog
    at.text_input(key="rg_new_name").input(name)
    at.text_area(key="rg_new_description").input(description)
    at.button(key="rg_create_submit").click().run()
    assert not at.exception, at.exception
    return at


def stored_groups(engine) -> list[ResourceGroup]:
    with Session(engine) as s:
        return list(s.execute(select(ResourceGroup).order_by(ResourceGroup.id)).scalars())


def created(engine) -> list[ResourceGroup]:
    """The stored groups but the demo organisation's."""
    return [g for g in stored_groups(engine) if (g.owner, g.name) not in DEMO]


def select_group(at, gid: int):
    at.selectbox(key="rg_selected").set_value(gid).run()
    assert not at.exception, at.exception
    return at


def errors(at) -> str:
    """The error messages as a person reads them (Markdown escapes removed)."""
    return " ".join(shown(e.value) for e in at.error)


def test_member_creates_group_and_sees_it(seeded_store):
    at = create(open_as_member(), "Search team", "ml search")
    table = at.dataframe[0].value.set_index("name")
    assert sorted(table.index) == sorted(["Search team", *MEMBER_DEMO])  # the member's demo groups too
    assert table.loc["Search team", "owner"] == "member" and table.loc["Search team", "resources"] == 0
    assert any("Created group" in s.value for s in at.success)
    [group] = created(seeded_store)
    assert (group.name, group.description, group.owner, group.status) == (
        "Search team",
        "ml search",
        "member",
        "active",
    )
    assert at.selectbox(key="rg_selected").value == group.id  # the new group opens selected
    shown_groups = len(MEMBER_DEMO) + 1
    assert any(f"Showing 1–{shown_groups} of {shown_groups}" in c.value for c in at.caption)


def test_empty_name_shows_error_and_creates_nothing(seeded_store):
    at = create(open_as_member(), "   ")
    assert "name is required" in errors(at)
    assert created(seeded_store) == []


def test_duplicate_name_for_same_owner_shows_error(seeded_store):
    at = create(open_as_member(), "Dup")
    at = create(at, "Dup")
    assert "already has a group named 'Dup'" in errors(at)
    assert [g.name for g in created(seeded_store)] == ["Dup"]


def test_member_does_not_see_admins_group(seeded_store):
    with Session(seeded_store) as s:
        groups.create_group(session=s, actor=Actor("admin", is_admin=True), name="Admin secret")
    at = create(open_as_member(), "Mine")
    assert sorted(at.dataframe[0].value["name"]) == sorted(["Mine", *MEMBER_DEMO])
    admin = open_page(PAGE)
    assert sorted(admin.dataframe[0].value["name"]) == sorted(["Admin secret", "Mine", *(n for _, n in DEMO)])


def test_add_inventory_resource_and_duplicate_add(seeded_store):
    with Session(seeded_store) as s:
        resources.add_resource(
            session=s,
            resource_type="app",
            resource_id="app-1",
            name="Chat app",
            state="running",
            hourly_cost=0.5,
            owner="member",
        )
        resources.add_resource(session=s, resource_type="app", resource_id="app-2", name="Other chat", owner="admin")
    at = create(open_as_member(), "Apps")
    at.selectbox(key="rg_add_type").select("app").run()
    at.text_input(key="rg_add_search").input("chat").run()
    # the picker offers a member only their own resources: the admin's "Other chat" is not there
    assert at.selectbox(key="rg_pick").options == ["Chat app (app:app-1)"]
    at.text_input(key="rg_add_search").input("chat").run()
    at.button(key="rg_add").click().run()
    assert not at.exception, at.exception
    members = at.dataframe[1].value
    assert list(members["resource_id"]) == ["app-1"]
    assert members["resource_name"].iloc[0] == "Chat app" and members["state"].iloc[0] == "running"
    assert members["monthly_cost"].iloc[0] == 0.5 * 730
    [apps] = created(seeded_store)
    with Session(seeded_store) as s:
        stored = s.execute(select(ResourceGroupMember.resource_id).where(ResourceGroupMember.group_id == apps.id))
        assert stored.scalars().all() == ["app-1"]
    at.button(key="rg_add").click().run()
    assert "resource app:app-1 is already in group 'Apps'" in errors(at)
    assert len(at.dataframe[1].value) == 1


def test_html_name_renders_verbatim(seeded_store):
    at = create(open_as_member(), "<b>x</b>")
    assert "<b>x</b>" in at.dataframe[0].value["name"].tolist()
    assert created(seeded_store)[0].name == "<b>x</b>"


def test_find_groups_of_resource(seeded_store):
    member, admin = Actor("member"), Actor("admin", is_admin=True)
    with Session(seeded_store) as s:
        resources.add_resource(session=s, resource_type="workflow", resource_id="wf-9", name="ETL", owner="member")
        mine_id = groups.create_group(session=s, actor=member, name="Mine", resources=[("workflow", "wf-9")]).id
        groups.create_group(session=s, actor=admin, name="Theirs", resources=[("workflow", "wf-9")])
    at = open_as_member()
    at.selectbox(key="rg_find_type").select("workflow").run()
    at.text_input(key="rg_find_id").input("wf-9").run()
    found = at.dataframe[-1].value
    assert list(found["name"]) == ["Mine"] and list(found["id"]) == [mine_id]


def test_edit_remove_and_delete_with_confirmation(seeded_store, downloads):
    with Session(seeded_store) as s:
        resources.add_resource(session=s, resource_type="app", resource_id="gone-1", name="Gone", owner="member")
        groups.create_group(session=s, actor=Actor("member"), name="Old", resources=[("app", "gone-1")])
        s.connection().exec_driver_sql("DELETE FROM resource WHERE resource_id = 'gone-1'")  # left the inventory
        s.commit()
    gid = created(seeded_store)[0].id
    at = select_group(open_as_member(), gid)
    members = at.dataframe[1].value
    assert list(members["resource_id"]) == ["gone-1"] and members["monthly_cost"].isna().all()  # not in inventory
    assert "resource_groups.csv" in downloads and b"Old" in downloads["resource_groups.csv"]
    at.button(key="rg_edit").click().run()  # the edit form is in a dialog
    at.text_input(key=f"rg_edit_name_{gid}").input("New")
    at.selectbox(key=f"rg_edit_status_{gid}").select("archived")
    at.button(key="rg_edit_submit").click().run()
    group = created(seeded_store)[0]
    assert (group.name, group.status) == ("New", "archived")
    assert any("Saved group 'New'" in shown(m.value) for m in at.success)
    at.selectbox(key="rg_status").select("archived").run()
    assert list(at.dataframe[0].value["name"]) == ["New"]
    at.multiselect(key=f"rg_drop_{gid}").select("app:gone-1").run()
    at.button(key="rg_remove").click().run()
    assert at.dataframe[1].value.empty
    assert at.button(key="rg_delete").disabled
    at.checkbox(key=f"rg_confirm_{gid}").check().run()
    at.button(key="rg_delete").click().run()
    assert not at.exception, at.exception
    assert created(seeded_store) == []


def test_stop_all_confirms_with_the_changes_then_the_sidecar_carries_it_out(seeded_store):
    from finops.data import power
    from finops.jobs import tasks

    with Session(seeded_store) as s:
        resources.add_resource(
            session=s, resource_type="app", resource_id="a1", name="Chat", state="running", owner="member"
        )
        resources.add_resource(
            session=s, resource_type="workspace", resource_id="w1", name="WS", state="stopped", owner="member"
        )
    at = create(open_as_member(), "Nightly")
    gid = created(seeded_store)[0].id
    with Session(seeded_store) as s:
        for kind, ident in [("app", "a1"), ("workspace", "w1")]:
            groups.add_resource(session=s, actor=Actor("member"), group_id=gid, resource_type=kind, resource_id=ident)
    at.button(key="rg_stop_all").click().run()
    assert any("1 of 2 resources will change" in w.value for w in at.warning)
    preview = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert dict(zip(preview["resource_id"], preview["change"], strict=True)) == {
        "a1": "stop: running -> stopped",
        "w1": "none: already stopped",
    }
    with Session(seeded_store) as s:  # nothing happens before the confirmation
        assert power.recent(session=s, actor=Actor("member"), group_id=gid).empty
    at.button(key="rg_power_confirm").click().run()
    assert any("Stop all requested" in m.value for m in at.success)
    tasks.take_power_actions()
    at.run()
    recent = next(d.value for d in at.dataframe if "summary" in d.value.columns)
    assert (recent["action"].iloc[0], recent["status"].iloc[0]) == ("stop", "done")
    # no platform URL is configured: the app's stop only recorded the desired state, and the summary says so
    assert (
        recent["summary"].iloc[0]
        == "0 changed, 1 desired state recorded (no platform URL), 1 already stopped, 0 failed"
    )
    with Session(seeded_store) as s:
        assert resources.get_resource(session=s, resource_type="app", resource_id="a1").state == "stopped"


def test_cancel_leaves_everything_as_it_was(seeded_store):
    from finops.data import power

    at = create(open_as_member(), "G")
    gid = created(seeded_store)[0].id
    with Session(seeded_store) as s:
        resources.add_resource(session=s, resource_type="app", resource_id="x", name="X", owner="member")
        groups.add_resource(session=s, actor=Actor("member"), group_id=gid, resource_type="app", resource_id="x")
    at.button(key="rg_start_all").click().run()
    at.button(key="rg_power_cancel").click().run()
    assert not at.warning
    with Session(seeded_store) as s:
        assert power.recent(session=s, actor=Actor("member"), group_id=gid).empty


def test_audit_log_page_lists_changes_for_admins_only(seeded_store, downloads):
    at = create(open_as_member(), "Audited <b>team</b>")
    at = open_page("pages/audit_log.py")
    table = at.dataframe[0].value
    assert (table["actor"].iloc[0], table["action"].iloc[0], table["object_type"].iloc[0]) == (
        "member",
        "create",
        "resource_group",
    )
    assert "Audited <b>team</b>" in table["detail"].iloc[0]
    assert b"member,create,resource_group" in downloads["audit_log.csv"]
    at.text_input(key="audit_actor").input("admin").run()
    assert at.dataframe[0].value.empty
    member = open_page("pages/audit_log.py", username="member", role="member")
    assert any("Admins only" in e.value for e in member.error) and not member.dataframe


def test_a_refusal_is_a_message_not_a_traceback(seeded_store):
    with Session(seeded_store) as s:
        resources.add_resource(session=s, resource_type="app", resource_id="adm-1", name="Admin's", owner="admin")
    at = create(open_as_member(), "Mine")
    gid = created(seeded_store)[0].id
    with Session(seeded_store) as s:  # an admin put their own resource into the member's group
        groups.add_resource(session=s, actor=Actor("admin", is_admin=True), group_id=gid, resource_type="app",
                            resource_id="adm-1")  # fmt: skip
    at.run()
    at.button(key="rg_stop_all").click().run()
    preview = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert preview["change"].tolist() == ["refused: it belongs to admin"]
    at.button(key="rg_power_confirm").click().run()
    assert not at.exception, at.exception
    assert "you may stop none of the resources in group 'Mine'" in errors(at)


def test_names_and_messages_are_shown_as_text_not_markdown(seeded_store):
    name = "[click](http://evil.test) ![img](http://evil.test/x.png) :red[alarm]"
    at = create(open_as_member(), name)
    [message] = [m.value for m in at.success]
    assert shown(message) == f"Created group {name!r}."
    assert re.search(r"(?<!\\)[\[\]():]", message) is None  # every bracket, parenthesis and colon is escaped
    at = create(at, name)  # the refusal quotes the name too
    assert errors(at) == f"member already has a group named {name!r}"


def test_the_list_comes_first_and_an_empty_list_says_what_to_do(seeded_store):
    from finops.data import users

    with Session(seeded_store) as s:
        users.add_user(session=s, username="nina", role="member", password="nina-pass-1", name="Nina")
    at = open_page(PAGE, username="nina", role="member")
    assert not at.get("text_input") or "rg_new_name" not in [t.key for t in at.text_input]  # no form until asked
    assert any("No resource groups yet. Create one with **New group**" in i.value for i in at.info)
    assert not at.dataframe  # nothing to list
    at.text_input(key="rg_search").input("nothing like this").run()
    assert any("No groups match this search" in i.value for i in at.info)


def test_the_demo_groups_are_there_for_a_newcomer(seeded_store):
    at = open_page(PAGE)  # the admin sees every group of the demo organisation, each with its resources
    listed = at.dataframe[0].value.set_index("name")
    assert sorted(listed.index) == sorted(name for _, name in DEMO)
    for item in demo.groups():
        assert listed.loc[item["name"], "owner"] == item["owner"]
        assert listed.loc[item["name"], "resources"] == len(item["resources"]) > 0


def test_members_show_where_each_price_came_from_and_unknown_is_not_zero(seeded_store):
    from datetime import date

    with Session(seeded_store) as s:
        resources.add_resource(session=s, resource_type="app", resource_id="p1", name="Priced", owner="member",
                               hourly_cost=0.5)  # fmt: skip
        gid = groups.create_group(session=s, actor=Actor("member"), name="Prices", resources=[("app", "p1")]).id
        found = [
            {"resource_type": "ec2_instance", "resource_id": "i-api", "name": "api", "state": "running",
             "hourly_cost": 0.096, "price_source": "price_list_api", "price_as_of": date(2026, 11, 23),
             "region": "eu-west-1", "owner": "member"},
            {"resource_type": "ec2_instance", "resource_id": "i-odd", "name": "odd", "state": "running",
             "hourly_cost": None, "region": "eu-west-1", "owner": "member"},
        ]  # fmt: skip
        resources.store_discovered(session=s, found=found, listed=set())
        for rid in ("i-api", "i-odd"):
            groups.add_resource(session=s, actor=Actor("member"), group_id=gid, resource_type="ec2_instance",
                                resource_id=rid)  # fmt: skip
    at = select_group(open_as_member(), gid)
    members = at.dataframe[1].value.set_index("resource_id")
    assert members.loc["i-api", "price"] == "AWS Price List API, 2026-11-23"
    assert members.loc["i-api", "monthly_cost"] == 0.096 * 730
    assert members.loc["i-odd", "price"] == "unknown" and members["monthly_cost"].isna()["i-odd"]  # never $0
    assert members.loc["p1", "price"] == "given with the resource" and members.loc["p1", "monthly_cost"] == 365
