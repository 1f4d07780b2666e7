"""The Schedules page, compared with the store: the editor's validation and preview, creation, the details of a
schedule (what it wants now, its targets, savings), overrides and access."""

from sqlalchemy import select
from sqlmodel import Session

from finops.data import groups, resources, schedules
from finops.data.access import Actor
from finops.data.tables import AuditLog, Schedule
from finops.scheduling.specs import check_spec
from tests.pages.conftest import open_page, shown

PAGE = "pages/schedules.py"
MEMBER = Actor("member")


def open_as_member():
    return open_page(PAGE, username="member", role="member")


def errors(at) -> list[str]:
    return [shown(e.value) for e in at.error]


def stored(engine) -> list[Schedule]:
    with Session(engine) as s:
        return list(s.execute(select(Schedule).order_by(Schedule.id)).scalars())


def test_the_editor_names_what_is_wrong_and_saves_nothing(seeded_store):
    at = open_as_member()
    assert any("No schedules yet" in i.value for i in at.info)
    at.text_input(key="sc_new_name").input("nightly").run()
    for field, value, message in [
        ("sc_new_p0_begin", "25:00", "periods[0].begin: '25:00' is not a time of day (00:00-23:59)"),
        ("sc_new_p0_end", "08:00", "periods[0].end: equals begin (08:00): the period would be empty"),
        ("sc_new_p0_weekdays", "mon#6", "periods[0].weekdays: 'mon#6': the n of mon#n must be 1-5"),
    ]:
        at = open_as_member()
        at.text_input(key="sc_new_name").input("nightly")
        at.text_input(key="sc_new_p0_begin").input("08:00")
        at.text_input(key=field).input(value).run()
        assert errors(at) == [message]
        assert at.button(key="sc_create").disabled
    at = open_as_member()
    at.text_input(key="sc_new_name").input("nightly")
    at.text_input(key="sc_new_tz").input("Mars/Olympus").run()
    assert errors(at) == ["timezone: 'Mars/Olympus' is not an IANA time zone such as Europe/Berlin or America/New_York"]
    assert stored(seeded_store) == []


def test_a_member_creates_a_schedule_for_their_group_and_sees_it(seeded_store):
    with Session(seeded_store) as s:
        resources.add_resource(session=s, resource_type="app", resource_id="dev-1", name="Dev app", owner="member",
                               state="running", hourly_cost=0.5)  # fmt: skip
        groups.create_group(session=s, actor=MEMBER, name="dev", resources=[("app", "dev-1")])
    at = open_as_member()
    at.text_input(key="sc_new_name").input("office")
    at.multiselect(key="sc_new_targets").select("group: dev").run()
    preview = next(c.value for c in at.caption if c.value.startswith("Preview"))
    # 108 of 168 hours stopped x $0.50 x 730 / 168 hours
    assert (
        preview == f"Preview: stopped 108 h a week; saves about ${108 / 168 * 730 * 0.5:,.0f} a month on these targets."
    )
    at.button(key="sc_create").click().run()
    assert not at.exception, at.exception
    assert [shown(m.value) for m in at.success] == ["Created schedule 'office'."]
    [row] = stored(seeded_store)
    assert (row.name, row.owner, row.timezone) == ("office", "member", "UTC")
    assert list(at.dataframe[0].value["name"]) == ["office"]
    targets = next(d.value for d in at.dataframe if "next_stop_utc" in d.value.columns)
    assert list(targets["resource_id"]) == ["dev-1"]
    assert targets["next_start_local"].iloc[0].endswith("T08:00+00:00")  # UTC schedule: local is UTC
    assert targets["next_stop_utc"].iloc[0].endswith("T20:00Z")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Predicted savings"] == f"${108 / 168 * 730 * 0.5:,.0f}/month"
    assert len(at.get("vega_lite_chart")) >= 1  # the week grid


def test_an_override_is_saved_with_its_reason(seeded_store):
    with Session(seeded_store) as s:
        schedules.save(session=s, actor=MEMBER, spec=check_spec({"name": "office", "timezone": "Europe/Berlin",
                       "periods": [{"begin": "08:00", "end": "20:00"}]}))  # fmt: skip
    at = open_as_member()
    at.text_input(key="sc_ov_until").input("2020-01-01T18:00")
    at.button(key="sc_ov_add").click().run()
    assert errors(at)[0].startswith("until: 2020-01-01 17:00 UTC is in the past")
    at.text_input(key="sc_ov_until").input("2099-01-01T18:00")
    at.text_input(key="sc_ov_reason").input("release [night](http://x.test)")
    at.button(key="sc_ov_add").click().run()
    assert [shown(m.value) for m in at.success] == ["running until 2099-01-01 17:00 UTC."]
    with Session(seeded_store) as s:
        detail = s.execute(select(AuditLog.detail).where(AuditLog.action == "override")).scalar_one()
    assert detail["reason"] == "release [night](http://x.test)"


def test_members_see_only_their_own_schedules(seeded_store):
    with Session(seeded_store) as s:
        spec = check_spec({"name": "admin only", "timezone": "UTC", "periods": [{"begin": "08:00", "end": "20:00"}]})
        schedules.save(session=s, actor=Actor("admin", is_admin=True), spec=spec)
    assert any("No schedules yet" in i.value for i in open_as_member().info)
    assert list(open_page(PAGE).dataframe[0].value["name"]) == ["admin only"]
