"""Parsing `python -m finops ...` arguments: dates, --by groupings, choices, and exit code 2 on bad usage."""

from datetime import date

import pytest

from finops.cli import build_parser, main

COSTS = ["costs", "--from", "2024-01-01", "--to", "2024-02-01"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], {"by": ("month", "service"), "metric": "unblended", "format": "table"}),
        (["--by", "day"], {"by": ("day",)}),
        (["--by", "month"], {"by": ("month",)}),
        (["--by", "day,service"], {"by": ("day", "service")}),
        (["--by", "day,account"], {"by": ("day", "account")}),
        (["--by", "month,service,account"], {"by": ("month", "service", "account")}),
        (["--by", "month,account,service"], {"by": ("month", "service", "account")}),
        (["--by", "Month, Account"], {"by": ("month", "account")}),
        (["--metric", "amortized"], {"metric": "amortized"}),
        (["--format", "csv"], {"format": "csv"}),
        (["--format", "json"], {"format": "json"}),
    ],
)
def test_costs_options(extra, expected):
    args = build_parser().parse_args(COSTS + extra)
    assert (args.start, args.end) == (date(2024, 1, 1), date(2024, 2, 1))
    assert {key: getattr(args, key) for key in expected} == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-02-29", date(2024, 2, 29)), ("1999-12-31", date(1999, 12, 31)), ("2030-01-01", date(2030, 1, 1))],
)
def test_valid_dates(text, expected):
    assert build_parser().parse_args(["costs", "--from", text, "--to", "2031-01-01"]).start == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["costs", "--from", "2024-13-01", "--to", "2024-02-01"], "invalid date '2024-13-01': expected YYYY-MM-DD"),
        (["costs", "--from", "2023-02-29", "--to", "2024-02-01"], "invalid date '2023-02-29'"),
        (["costs", "--from", "20240101", "--to", "2024-02-01"], "invalid date '20240101'"),
        (["costs", "--from", "2024-1-1", "--to", "2024-02-01"], "invalid date '2024-1-1'"),
        (["costs", "--from", "2024-01-01", "--to", "tomorrow"], "invalid date 'tomorrow'"),
        (["costs", "--from", "2024-02-01", "--to", "2024-02-01"], "--from 2024-02-01 must be before --to 2024-02-01"),
        (["costs", "--from", "2024-03-01", "--to", "2024-02-01"], "must be before --to"),
        (["costs", "--to", "2024-02-01"], "the following arguments are required: --from"),
        ([*COSTS, "--by", "service"], "invalid grouping 'service'"),
        ([*COSTS, "--by", "week"], "invalid grouping 'week'"),
        ([*COSTS, "--by", "day,region"], "invalid grouping 'day,region'"),
        ([*COSTS, "--by", "day,service,service"], "invalid grouping"),
        ([*COSTS, "--by", "day,month"], "invalid grouping"),
        ([*COSTS, "--by", ""], "invalid grouping"),
        ([*COSTS, "--metric", "blended"], "invalid choice: 'blended'"),
        ([*COSTS, "--format", "xlsx"], "invalid choice: 'xlsx'"),
        ([*COSTS, "--bogus"], "unrecognized arguments: --bogus"),
        (["nope"], "invalid choice: 'nope'"),
        (["demo", "--seed", "-1"], "invalid seed '-1'"),
        (["demo", "--seed", "x"], "invalid seed 'x'"),
        (["users"], "the following arguments are required: ACTION"),
        (["users", "add", "bob"], "the following arguments are required: --role"),
        (["users", "add", "bob", "--role", "owner"], "invalid choice: 'owner'"),
    ],
)
def test_bad_usage_exits_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n")
    assert "error: " in err and message in err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "costs" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["demo"], {"seed": None, "if_empty": False}),
        (["demo", "--seed", "7", "--if-empty"], {"seed": 7, "if_empty": True}),
        (["users", "add", "bob", "--role", "member"], {"username": "bob", "role": "member", "name": "", "email": ""}),
        (["users", "add", "ann", "--role", "admin", "--name", "Ann A", "--email", "a@x.io"], {"name": "Ann A"}),
        (["users", "passwd", "bob"], {"action": "passwd", "username": "bob"}),
        (["users", "list"], {"action": "list"}),
        (["init"], {"command": "init"}),
        (["bootstrap"], {"command": "bootstrap"}),
    ],
)
def test_other_commands(argv, expected):
    args = build_parser().parse_args(argv)
    assert {key: getattr(args, key) for key in expected} == expected
