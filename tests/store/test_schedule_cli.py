"""`finops schedules ...` against a real store: import (ours and ISch's, and an iCalendar fetched from a URL on
loopback), bad input exits 2 with the field named and saves nothing, preview prints at_utc,at_local,action,
export and import again, overrides and delete."""

import csv
import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select
from sqlmodel import Session

from finops.cli import main
from finops.data.tables import Schedule, User

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//finops//test//EN\r\nBEGIN:VEVENT\r\nUID:1@test\r\n"
    "DTSTART;VALUE=DATE:20271224\r\nDTEND;VALUE=DATE:20271227\r\nSUMMARY:closed\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
OFFICE = """
name: office
owner: ada
timezone: Europe/Berlin
periods:
  - {begin: "08:00", end: "20:00", weekdays: mon-fri}
exceptions:
  - {date: 2027-03-26, state: running}
"""


@pytest.fixture
def cli_store(store):
    with Session(store) as s:
        s.add(User(username="ada", role="member", password_hash="-"))
        s.commit()
    return store


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def names(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.execute(select(Schedule.name).order_by(Schedule.id)).scalars())


def test_import_preview_export_override_delete(cli_store, tmp_path, capsys):
    path = tmp_path / "office.yaml"
    path.write_text(OFFICE)
    assert run(capsys, "schedules", "import", str(path))[:2] == (0, "created office (ada)\n")
    assert run(capsys, "schedules", "import", str(path))[1] == "replaced office (ada)\n"  # same name and owner
    code, out, _ = run(capsys, "schedules", "preview", "office", "--from", "2027-03-25", "--to", "2027-03-29",
                       "--format", "csv")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0]) == ["at_utc", "at_local", "action"]
    assert [(r["at_local"], r["action"]) for r in rows] == [
        ("2027-03-25T08:00:00+01:00", "start"),
        ("2027-03-25T20:00:00+01:00", "stop"),
        ("2027-03-26T00:00:00+01:00", "start"),  # the exception: running all day
        ("2027-03-27T00:00:00+01:00", "stop"),
    ]
    assert rows[0]["at_utc"] == "2027-03-25T07:00:00+00:00"
    code, exported, _ = run(capsys, "schedules", "export", "office")
    again = tmp_path / "again.yaml"
    again.write_text(exported.replace("name: office", "name: office copy"))
    assert run(capsys, "schedules", "import", str(again))[0] == 0
    assert names(cli_store) == ["office", "office copy"]
    code, out, _ = run(capsys, "schedules", "override", "office", "--until", "2099-01-01T18:00", "--reason", "test")
    assert code == 0 and out.startswith("office: running until 2099-01-01 17:00 UTC")
    assert run(capsys, "schedules", "delete", "office copy")[0] == 0
    assert names(cli_store) == ["office"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (OFFICE.replace('"08:00"', '"25:00"'), "periods[0].begin: '25:00' is not a time of day"),
        (OFFICE.replace("Europe/Berlin", "Mars/Olympus"), "timezone: 'Mars/Olympus' is not an IANA time zone"),
        (OFFICE.replace("mon-fri", "mon#6"), "periods[0].weekdays: 'mon#6': the n of mon#n must be 1-5"),
        (OFFICE.replace('end: "20:00"', 'end: "08:00"'), "periods[0].end: equals begin"),
        (OFFICE + "colour: red\n", "colour: unknown field"),
        (OFFICE + "holidays: {ics: 'not a calendar'}\n", "holidays.ics: not an iCalendar file"),
        (OFFICE + "holidays: {country: XX}\n", "holidays.country: 'XX' is not a country"),
        (OFFICE.replace("owner: ada", "owner: nobody"), "owner: no user 'nobody'"),
    ],
)
def test_bad_input_exits_2_names_the_field_and_saves_nothing(cli_store, tmp_path, capsys, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = run(capsys, "schedules", "import", str(path))
    assert (code, out) == (2, "") and message in err and err.count("\n") == 1
    assert names(cli_store) == []


def test_an_override_in_the_past_exits_2(cli_store, tmp_path, capsys):
    path = tmp_path / "office.yaml"
    path.write_text(OFFICE)
    run(capsys, "schedules", "import", str(path))
    code, _, err = run(capsys, "schedules", "override", "office", "--until", "2020-01-01T00:00")
    assert code == 2 and "until: 2019-12-31 23:00 UTC is in the past" in err


def test_an_icalendar_fetched_from_a_url(cli_store, tmp_path, capsys):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = ICS.encode() if self.path == "/closed.ics" else b"nope"
            self.send_response(200 if self.path == "/closed.ics" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        path = tmp_path / "office.yaml"
        path.write_text(OFFICE + f"holidays: {{ics_url: '{url}/closed.ics'}}\n")
        assert run(capsys, "schedules", "import", str(path))[0] == 0
        code, out, _ = run(capsys, "schedules", "preview", "office", "--from", "2027-12-23", "--to", "2027-12-28")
        days = [line.split()[1][:10] for line in out.splitlines()[1:]]
        assert days == ["2027-12-23", "2027-12-23", "2027-12-27", "2027-12-27"]  # closed on the 24th, a Friday
        path.write_text(OFFICE.replace("office", "other") + f"holidays: {{ics_url: '{url}/missing.ics'}}\n")
        code, _, err = run(capsys, "schedules", "import", str(path))
        assert code == 2 and "holidays.ics_url: cannot fetch" in err
    finally:
        server.shutdown()
