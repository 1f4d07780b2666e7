"""Cost Explorer requests (USD 0.01 each) of the first backfill and of steady refreshes, and the monthly spend.

    .venv/bin/python bench/bench_ce_spend.py                   # end to end on moto + the analytic model (~1 min)
    .venv/bin/python bench/bench_ce_spend.py --quick           # skip the full-length (scaled) backfill through moto
    .venv/bin/python bench/bench_ce_spend.py --page-groups 2000 --refreshes-per-day 1

Organisation: 40 accounts x 120 services = 4,800 (service, account) groups per day. The real code path runs:
`finops.data.refresh.run_refresh` against a `moto.server.ThreadedMotoServer`, on a temporary SQLite store,
and the requests are counted from the `ce_api_call` rows it records. Prints figures; asserts nothing.
See bench/README.md for the page-size assumption, the model and the figures we got.
"""

import argparse
import logging
import math
import os
import platform
import socket
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ACCOUNTS, SERVICES = 40, 120
PAGE_GROUPS = 1000  # an assumption: AWS does not document GetCostAndUsage's page size (see bench/README.md)
PAGE_SIZES = (500, 1000, 5000)
REFRESHES_PER_DAY = 3  # the default ("three times a day"), used when Settings has no refresh_cron
# the extras, 1 page each, with the cadence finops.data.ce_features.EVERY_DAYS gives them: GetCostForecast and
# GetAnomalies every day, GetRightsizingRecommendation and GetSavingsPlansPurchaseRecommendation every 7 days
TARGET_USD = 3.0
TARGET_RATIO = 10.0
MONTH = (2026, 11)  # the 30-day month the monthly figures are summed over (it follows a 31-day October)
GROUP_DEFS = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]


# --- the model ---------------------------------------------------------------------------------------------


def refreshes_per_day(settings) -> tuple[int, str]:
    """Scheduled refreshes in one UTC day: from `refresh_cron` when the setting exists, else the issue's 3."""
    cron = getattr(settings, "refresh_cron", None)
    if not cron:
        return REFRESHES_PER_DAY, "no refresh_cron setting: the issue's default, three a day"
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(cron, timezone="UTC")
    start = datetime(*MONTH, 15, tzinfo=UTC)
    fire, n = trigger.get_next_fire_time(None, start), 0
    while fire is not None and fire < start + timedelta(days=1):
        n += 1
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return n, f"refresh_cron {cron!r}"


def pages_for(days: int, groups_per_day: int, page_groups: int) -> int:
    """Requests for `days` DAILY periods: each day's groups split into pages of at most `page_groups`.

    A page never spans two days in this model (the conservative one); if Cost Explorer filled pages across
    days, it would be ceil(days * groups / page_groups) instead (`flat_pages_for`).
    """
    return days * max(1, math.ceil(groups_per_day / page_groups))


def flat_pages_for(days: int, groups_per_day: int, page_groups: int) -> int:
    return max(1, math.ceil(days * groups_per_day / page_groups))


def window_days(today: date, settings, *, backfill: bool) -> tuple[date, date, int]:
    """The window the real code pulls on `today` (a steady refresh follows one made earlier the same day)."""
    from finops.data.sources import aws_ce

    start, end = aws_ce.refresh_window(today, has_data=not backfill, settings=settings, last_loaded=today)
    return start, end, (end - start).days


def month_days(year: int, month: int) -> list[date]:
    from finops.costs import add_months

    first = date(year, month, 1)
    return [first + timedelta(days=i) for i in range((add_months(first, 1) - first).days)]


CHANGED_DAYS = 2  # days whose totals move between two Cost Explorer updates (an assumption, see README)


def extras_on(day: date) -> int:
    """Extras requests on `day` of MONTH (the first refresh of a day runs the ones that are due)."""
    from finops.data.ce_features import EVERY_DAYS

    index = (day - date(*MONTH, 1)).days
    return sum(1 for every in EVERY_DAYS.values() if index % every == 0)


def extras_per_month() -> int:
    return sum(extras_on(day) for day in month_days(*MONTH))


def changed_pulled(settings) -> int:
    """Changed days a steady refresh re-pulls per Cost Explorer update: the partial days are left out."""
    return max(0, CHANGED_DAYS - settings.aws_partial_days)


def monthly(settings, groups: int, page_groups: int, refreshes: int, *, naive: bool, paging=pages_for) -> int:
    """Requests over MONTH: `refreshes` a day, each pulling the real window (or the 14-month backfill window)."""
    total = 0
    for day in month_days(*MONTH):
        _, _, days = window_days(day, settings, backfill=naive)
        total += refreshes * paging(days, groups, page_groups) + extras_on(day)
    return total


# --- serving -----------------------------------------------------------------------------------------------


def make_groups(n_accounts: int, n_services: int) -> list[dict]:
    groups = []
    for a in range(n_accounts):
        account = f"{100000000000 + a * 7919:012d}"
        for s in range(n_services):
            amount = f"{(a * 131 + s * 17) % 997 + 0.0123456789:.10f}"
            groups.append(
                {
                    "Keys": [f"Bench Service {s:03d}", account],
                    "Metrics": {
                        "UnblendedCost": {"Amount": amount, "Unit": "USD"},
                        "AmortizedCost": {"Amount": amount, "Unit": "USD"},
                    },
                }
            )
    return groups


def page_results(start: date, end: date, groups: list[dict], page_groups: int) -> list[dict]:
    """The GetCostAndUsage pages the client will ask for, in order; only the last one lacks NextPageToken."""
    pages = []
    day = start
    while day < end:
        period = {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()}
        for i in range(0, max(len(groups), 1), page_groups):
            chunk = groups[i : i + page_groups]
            rbt = {"TimePeriod": period, "Total": {}, "Groups": chunk, "Estimated": False}
            pages.append({"GroupDefinitions": GROUP_DEFS, "ResultsByTime": [rbt], "DimensionValueAttributes": []})
        day += timedelta(days=1)
    for n, page in enumerate(pages[:-1]):
        page["NextPageToken"] = f"bench-p{n + 2}"
    return pages


class Moto:
    """A ThreadedMotoServer on a free 127.0.0.1 port; CE results are queued into its (in-process) backend."""

    def __init__(self):
        from moto.server import ThreadedMotoServer

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # no line per request, no trace of its 500s
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def reset(self) -> None:
        import requests

        requests.post(f"{self.url}/moto-api/reset", timeout=30).raise_for_status()

    def queue(self, pages: list[dict]) -> None:
        from moto.ce.models import ce_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        backend = ce_backends[DEFAULT_ACCOUNT_ID]["global"]
        backend.cost_usage_results_queue.extend(pages)

    def left(self) -> int:
        from moto.ce.models import ce_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        return len(ce_backends[DEFAULT_ACCOUNT_ID]["global"].cost_usage_results_queue)

    def stop(self) -> None:
        self.server.stop()


def configure(data_dir: Path, moto_url: str) -> None:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "FINOPS_DATA_DIR": str(data_dir),
            "FINOPS_DATABASE_URL": "",
            "FINOPS_SOURCE": "aws",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    from finops.data import db
    from finops.settings import get_settings

    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db.init_db()


def ce_calls(session) -> tuple[int, int]:
    """(GetCostAndUsage rows, rows of every other Cost Explorer operation) recorded so far."""
    from sqlalchemy import func, select

    from finops.data.tables import CeApiCall

    q = select(CeApiCall.operation == "GetCostAndUsage", func.count()).group_by(
        CeApiCall.operation == "GetCostAndUsage"
    )
    counts = dict(session.execute(q).all())
    return int(counts.get(True, 0)), int(counts.get(False, 0))


def run_scenario(moto: Moto, session, settings, groups, page_groups, today, *, backfill, label) -> dict:
    """Queue exactly the pages the real code will ask for, run it, count what it recorded."""
    from finops.costs import add_months, month_start
    from finops.data.refresh import RefreshError, run_refresh
    from finops.data.sources import aws_ce

    if backfill:
        # the real order: the open window first, then whole months of history, newest first
        start, end = aws_ce.refresh_window(today, has_data=True, settings=settings)
        windows = [(start, end)]
        target = add_months(today, -settings.aws_refresh_months_back)
        while windows[-1][0] > target:
            hi = windows[-1][0]
            windows.append((month_start(hi - timedelta(days=1)), hi))
        start = windows[-1][0]
    else:
        from finops.data.refresh import _last_loaded

        last = _last_loaded(session, aws_ce.SOURCE)
        start, end = aws_ce.refresh_window(today, has_data=last is not None, settings=settings, last_loaded=last)
        windows = [(start, end)]
    days = (end - start).days
    predicted = sum(pages_for((hi - lo).days, len(groups), page_groups) for lo, hi in windows)
    for lo, hi in windows:
        moto.queue(page_results(lo, hi, groups, page_groups))
    before = ce_calls(session)
    t0 = time.perf_counter()
    error = None
    try:
        run = run_refresh(session, settings, backfill=backfill, today=today)
        rows = run.rows
    except RefreshError as exc:
        error, rows = str(exc), 0
    seconds = time.perf_counter() - t0
    after = ce_calls(session)
    recorded, others = after[0] - before[0], after[1] - before[1]
    left = moto.left()
    moto.reset()  # drops unserved pages and moto's per-body answers
    return {
        "label": label,
        "window": f"{start} .. {end}",
        "days": days,
        "groups": len(groups),
        "page": page_groups,
        "predicted": predicted,
        "recorded": recorded,
        "others": others,
        "rows": rows,
        "left": left,
        "seconds": seconds,
        "error": error,
    }


def print_table(header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * n for n in widths], *rows]:
        print("| " + " | ".join(str(c).ljust(n) for c, n in zip(row, widths, strict=True)) + " |")


def usd(requests: float) -> str:
    return f"{requests * 0.01:,.2f}"


def verdict(dollars: float) -> str:
    """Against the issue's "about USD 3": meets at or under it, "about" within 5 % over it, else misses."""
    if dollars <= TARGET_USD:
        return f"meets USD {TARGET_USD:g}"
    over = dollars / TARGET_USD - 1
    return f"about USD {TARGET_USD:g} (+{over:.0%})" if over <= 0.05 else f"MISSES USD {TARGET_USD:g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page-groups", type=int, default=PAGE_GROUPS, help="groups per page (an assumption)")
    parser.add_argument("--refreshes-per-day", type=int, help="default: from settings.refresh_cron")
    parser.add_argument("--quick", action="store_true", help="skip the full-length backfill through moto")
    args, _unknown = parser.parse_known_args()  # `make bench BENCH_ARGS=--small` passes options to every bench
    quick = args.quick or "--small" in _unknown
    page = args.page_groups
    groups_per_day = ACCOUNTS * SERVICES

    from sqlmodel import Session

    from finops.data import db
    from finops.settings import Settings

    defaults = Settings()
    if args.refreshes_per_day is None:
        args.refreshes_per_day, schedule = refreshes_per_day(defaults)
    else:
        schedule = "--refreshes-per-day"
    today = datetime.now(UTC).date()
    print("# Cost Explorer requests and monthly spend")
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node() or 'host'}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"organisation {ACCOUNTS} accounts x {SERVICES} services = {groups_per_day:,} groups/day; "
        f"page size {page:,} groups (ASSUMPTION: AWS documents pagination, not the page size)"
    )
    print(
        f"defaults: aws_refresh_months_back={defaults.aws_refresh_months_back}, "
        f"aws_grace_days={defaults.aws_grace_days}, aws_max_requests_per_day={defaults.aws_max_requests_per_day}; "
        f"aws_partial_days={defaults.aws_partial_days}; schedule {args.refreshes_per_day} refreshes/day ({schedule}) "
        f"+ the extras ({extras_per_month()} a month: forecast and anomalies daily, recommendations weekly)"
    )

    # --- end to end ----------------------------------------------------------------------------------------
    print("\n## End to end: run_refresh -> boto3 -> moto server, requests counted from ce_api_call")
    results = []
    moto = Moto()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ce-") as tmp:
            configure(Path(tmp), moto.url)
            uncapped = {"aws_max_requests_per_day": 10**9, "aws_max_attempts": 1}
            full = make_groups(ACCOUNTS, SERVICES)
            with Session(db.get_engine()) as s:
                # full-size org on short windows: a 10-day backfill of the month before MONTH, then the steady
                # refreshes of MONTH's day `aws_grace_days` (previous month too) and day 28
                prev = date(*MONTH, 1) - timedelta(days=1)
                small = Settings(aws_refresh_months_back=0, **uncapped)
                results.append(
                    run_scenario(
                        moto, s, small, full, page, prev.replace(day=11), backfill=True, label="backfill, 10 days"
                    )
                )
                # without the change probe: the whole steady window is re-pulled (every day counted as changed)
                steady = Settings(aws_change_probe=False, aws_refresh_months_back=0, **uncapped)
                grace = defaults.aws_grace_days
                for day, label in ((grace, f"steady, day {grace} (grace)"), (28, "steady, day 28")):
                    results.append(
                        run_scenario(moto, s, steady, full, page, date(*MONTH, day), backfill=False, label=label)
                    )
            if not quick:
                # the whole first backfill (14 months) with an organisation scaled down by gcd(groups, page):
                # ceil(groups/page) is unchanged, so the real code makes the same number of requests
                k = math.gcd(groups_per_day, page)
                scaled = make_groups(1, groups_per_day // k)
                with Session(db.get_engine()) as s:
                    results.append(
                        run_scenario(
                            moto,
                            s,
                            Settings(**uncapped),
                            scaled,
                            page // k,
                            today,
                            backfill=True,
                            label=f"first backfill, org / {k}",
                        )
                    )
        if not quick:
            # the same backfill at the default daily cap, on a new store (the cap counts today's rows)
            with tempfile.TemporaryDirectory(prefix="bench-ce-cap-") as tmp:
                configure(Path(tmp), moto.url)
                capped = Settings(aws_max_attempts=1)
                with Session(db.get_engine()) as s:
                    results.append(
                        run_scenario(
                            moto,
                            s,
                            capped,
                            scaled,
                            page // k,
                            today,
                            backfill=True,
                            label=f"first backfill, org / {k}, default cap {capped.aws_max_requests_per_day}",
                        )
                    )
    finally:
        moto.stop()
    print_table(
        [
            "scenario",
            "window",
            "days",
            "groups/day",
            "page",
            "predicted",
            "GetCostAndUsage rows",
            "other CE rows",
            "rows loaded",
            "time",
        ],
        [
            [
                r["label"],
                r["window"],
                r["days"],
                f"{r['groups']:,}",
                f"{r['page']:,}",
                f"{r['predicted']:,}",
                f"{r['recorded']:,}"
                + ("" if r["recorded"] == r["predicted"] else " (failed)" if r["error"] else " (DIFFERS)"),
                f"{r['others']:,}",
                f"{r['rows']:,}" if not r["error"] else "failed",
                f"{r['seconds']:.1f} s",
            ]
            for r in results
        ],
    )
    for r in results:
        if r["left"]:
            print(f"note: {r['label']}: {r['left']} queued pages were not asked for")
        if r["error"]:
            print(f"{r['label']}: refresh failed: {r['error']}")
    print(
        "(other CE rows: the once-a-day extras, which run_refresh makes after a successful load when `today` is "
        "the real UTC day; moto does not implement them, so they are recorded as errors)"
    )
    if quick:
        print("(--quick: the full-length backfill through moto was skipped; its figure below is the model's)")

    # --- the model at every page size ----------------------------------------------------------------------
    bf_start, bf_end, bf_days = window_days(today, defaults, backfill=True)
    _, _, early_days = window_days(date(*MONTH, defaults.aws_grace_days), defaults, backfill=False)
    _, _, late_days = window_days(date(*MONTH, 28), defaults, backfill=False)
    n_month = len(month_days(*MONTH))
    print(
        f"\n## Spend at the default schedule ({args.refreshes_per_day} refreshes/day + {extras_per_month()} "
        f"extras/month, summed over the {n_month} days of {MONTH[0]}-{MONTH[1]:02d}; USD 0.01 per request)"
    )
    print(
        f"first backfill today ({bf_start} .. {bf_end}, {bf_days} days) is one-off; steady windows: "
        f"day {defaults.aws_grace_days} = {early_days} days (previous month too), day 28 = {late_days} days; "
        "naive = the backfill window (13 whole months + the open one) at every refresh"
    )
    rows = []
    for p in sorted({*PAGE_SIZES, page}):
        per_month = monthly(defaults, groups_per_day, p, args.refreshes_per_day, naive=False)
        naive = monthly(defaults, groups_per_day, p, args.refreshes_per_day, naive=True)
        flat = monthly(defaults, groups_per_day, p, args.refreshes_per_day, naive=False, paging=flat_pages_for)
        ratio = naive / per_month
        rows.append(
            [
                f"{p:,}" + (" *" if p == page else ""),
                f"{pages_for(bf_days, groups_per_day, p):,} (USD {usd(pages_for(bf_days, groups_per_day, p))})",
                f"{pages_for(early_days, groups_per_day, p):,}",
                f"{pages_for(late_days, groups_per_day, p):,}",
                f"{per_month / n_month:,.0f}",
                f"{per_month:,}",
                usd(per_month),
                usd(flat),
                usd(naive),
                f"{ratio:.1f}x",
                verdict(per_month * 0.01),
                ("meets" if ratio >= TARGET_RATIO else "MISSES") + f" {TARGET_RATIO:g}x",
            ]
        )
    print_table(
        [
            "page groups",
            "first backfill",
            f"steady day {defaults.aws_grace_days}",
            "steady day 28",
            "per day",
            "per month",
            "USD/month",
            "USD/month if pages span days",
            "naive USD/month",
            "naive/ours",
            "vs USD 3",
            "vs 10x",
        ],
        rows,
    )
    print("(* = --page-groups; 'per day' and 'per month' include the extras)")
    cap = defaults.aws_max_requests_per_day
    per_refresh_late = pages_for(late_days, groups_per_day, page)
    print(
        f"\ndaily cap {cap} requests (aws_max_requests_per_day): the first backfill needs "
        f"{pages_for(bf_days, groups_per_day, page):,}, one day-28 refresh {per_refresh_late:,}, "
        f"{args.refreshes_per_day} of them {args.refreshes_per_day * per_refresh_late:,}"
    )
    # --- with the change probe (the default) ------------------------------------------------------------
    changed = changed_pulled(defaults)
    print(
        f"\n## With the change probe (default): each refresh makes 1 ungrouped request (daily totals of the "
        f"window) and re-pulls only the days whose totals changed; assumed {CHANGED_DAYS} changed days per "
        f"Cost Explorer update (yesterday arriving, the day before settling), of which steady windows leave "
        f"out the newest {defaults.aws_partial_days} (aws_partial_days): {changed} re-pulled per update"
    )
    probe_rows = []
    for p in sorted({*PAGE_SIZES, page}):
        for updates in sorted({1, args.refreshes_per_day}):
            pulls = n_month * (args.refreshes_per_day + updates * pages_for(changed, groups_per_day, p))
            per_month = pulls + extras_per_month()
            naive = monthly(defaults, groups_per_day, p, args.refreshes_per_day, naive=True)
            ratio = naive / per_month
            probe_rows.append(
                [
                    f"{p:,}" + (" *" if p == page else ""),
                    f"{updates}",
                    f"{per_month / n_month:,.1f}",
                    f"{per_month:,}",
                    usd(per_month),
                    f"{ratio:.1f}x",
                    verdict(per_month * 0.01),
                    ("meets" if ratio >= TARGET_RATIO else "MISSES") + f" {TARGET_RATIO:g}x",
                ]
            )
    print_table(
        ["page groups", "CE updates/day", "per day", "per month", "USD/month", "naive/ours", "vs USD 3", "vs 10x"],
        probe_rows,
    )
    print(
        "(CE updates/day: 1 is AWS's documented minimum refresh, 'at least once every 24 hours'; "
        f"{args.refreshes_per_day} assumes every scheduled refresh finds new data. The probe's behaviour itself "
        "is tested against moto in tests/store/test_aws_ce.py)"
    )
    headline = n_month * (args.refreshes_per_day + pages_for(changed, groups_per_day, page)) + extras_per_month()
    print(
        f"\nMODELLED MONTHLY SPEND, {ACCOUNTS} accounts x {SERVICES} services, {page:,} groups per page, "
        f"1 Cost Explorer update a day: {headline:,} requests = USD {usd(headline)} ({verdict(headline * 0.01)})"
    )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
