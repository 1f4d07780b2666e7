"""Schedule files: ours (the README's example included) and AWS Instance Scheduler's, checked field by field."""

import json
import re

import pytest

from finops.scheduling import files
from finops.scheduling.specs import SpecError, check_spec, to_dict
from tests.conftest import ROOT


def test_the_readme_example_is_a_valid_schedule():
    text = (ROOT / "README.md").read_text()
    example = re.search(r"```yaml\n(name: office hours.*?)```", text, re.S).group(1)
    [spec] = [check_spec(raw) for raw in files.read(example.encode())]
    assert (spec.name, spec.owner, spec.timezone, spec.holiday_country) == (
        "office hours",
        "ada",
        "Europe/Berlin",
        "DE",
    )
    assert spec.periods[0].weekdays == "mon-fri" and len(spec.targets) == 2
    assert check_spec(to_dict(spec)) == spec  # export and import again: the same schedule


def test_instance_scheduler_configuration_items_import():
    items = [
        {"type": "period", "name": "office", "begintime": "09:00", "endtime": "17:00", "weekdays": ["mon-fri"],
         "description": "office hours"},
        {"type": "period", "name": "first-monday", "weekdays": ["mon#1"]},
        {"type": "schedule", "name": "seattle", "timezone": "US/Pacific",
         "periods": ["office@t3.large", "first-monday"], "retain_running": True, "enforced": False,
         "stop_new_instances": True},
    ]  # fmt: skip
    [spec] = [check_spec(raw) for raw in files.read(json.dumps(items).encode())]
    assert (spec.name, spec.timezone, spec.retain_running) == ("seattle", "US/Pacific", True)
    assert [(p.begin, p.end, p.weekdays) for p in spec.periods] == [("09:00", "17:00", "mon-fri"), ("", "", "mon#1")]


def test_cloudformation_schedule_properties_import():
    text = b"""
Properties:
  Name: nightly-batch
  Timezone: Europe/Berlin
  Enforced: true
  Periods:
    - BeginTime: "22:00"
      EndTime: "06:00"
      WeekDays: mon-fri
"""
    [spec] = [check_spec(raw) for raw in files.read(text)]
    assert (spec.name, spec.enforced, spec.periods[0].begin, spec.periods[0].end) == (
        "nightly-batch",
        True,
        "22:00",
        "06:00",
    )


GOOD = {"name": "x", "timezone": "UTC", "periods": [{"begin": "08:00", "end": "20:00"}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Europe/Atlantis"}, "timezone: 'Europe/Atlantis' is not an IANA time zone"),
        ({"periods": [{"begin": "25:00"}]}, "periods[0].begin: '25:00' is not a time of day"),
        ({"periods": [{"begin": "09:00", "end": "09:00"}]}, "periods[0].end: equals begin"),
        ({"periods": [{"weekdays": "mon#6"}]}, "periods[0].weekdays: 'mon#6': the n of mon#n must be 1-5"),
        ({"periods": [{"weekdays": []}]}, "periods[0].weekdays: an empty list of weekdays"),
        ({"periods": [{"begin": "08:00", "colour": "red"}]}, "periods[0].colour: unknown field"),
        ({"colour": "red"}, "colour: unknown field"),
        (
            {"exceptions": [{"date": "2026-02-30", "state": "running"}]},
            "exceptions[0].date: '2026-02-30' is not a date",
        ),
        ({"exceptions": [{"date": "2026-12-24", "state": "asleep"}]}, "exceptions[0].state: must be one of"),
        ({"targets": [{"group": "g", "resource_type": "app"}]}, "targets[0]: give either group, or resource_type"),
        ({"enforced": "perhaps"}, "enforced: must be true or false"),
        ({"name": "   "}, "name: is required"),
    ],
)
def test_bad_input_names_the_field(change, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        check_spec({**GOOD, **change})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
        (b"name: [unclosed", "not JSON or YAML"),
        (b"- 1\n- 2\n", "must hold a schedule"),
        (
            b'[{"type": "schedule", "name": "s", "periods": ["nowhere"]}]',
            "no Instance Scheduler period named 'nowhere'",
        ),
    ],
)
def test_bad_files_say_why(data, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        files.read(data, "f.yaml")
