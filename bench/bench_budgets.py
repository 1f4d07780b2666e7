"""Budgets at scale: 1,000 budgets of mixed scopes evaluated on the 5 M-row store of bench_pages (target <= 5 s).

    .venv/bin/python bench/bench_budgets.py                  # the large store (built once by bench_pages, ~5.3 M rows)
    .venv/bin/python bench/bench_budgets.py --small          # bench_pages' small store: a quick smoke run
    .venv/bin/python bench/bench_budgets.py --seed 2         # other budgets, people and ledgers
    .venv/bin/python bench/bench_budgets.py --flapping       # every resource scheduled: 2 ledger rows a weekday

A copy of bench_pages' cached store (its costs) gets, seeded: `--people` users owning `--resources` platform
resources (a ledger since January 1st: one running interval each, or with --flapping, office hours every weekday
as schedules leave it), groups of 10-30 of them, schedules on a third of the groups, a forecast run (total, every
account, the top 20 services; flat synthetic points: the bench measures evaluation, not models) and `--budgets`
budgets: 40 % platform (a quarter narrowed to accounts, a quarter to services, a tenth to both), 30 % user, 30 %
group; monthly, quarterly and annual; a fifth automatic (the average of past periods); 1-4 thresholds each.

Printed: the first evaluation (every period row and alert new), a second one (updates only), and `status` for an
admin (computed without storing), each with the budgets per second. Asserts nothing. Figures: bench/README.md.
"""

import argparse
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import bench_pages  # noqa: E402

TARGET_S = 5.0


def build(engine, args) -> dict:
    """People, resources with their ledger, groups, schedules, a forecast run and the budgets; counts."""
    from sqlalchemy import insert, select
    from sqlmodel import Session

    from finops.budgeting.specs import check_spec
    from finops.data import budgets, queries, schedules
    from finops.data.access import Actor
    from finops.data.tables import (
        ForecastPoint,
        ForecastRun,
        Resource,
        ResourceGroup,
        ResourceGroupMember,
        ResourceInterval,
        User,
    )
    from finops.scheduling.specs import check_spec as check_schedule

    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    year = datetime(now.year, 1, 1, tzinfo=UTC)
    people = [f"user{i:03d}" for i in range(args.people)]
    with Session(engine) as s:
        s.execute(insert(User), [{"username": p, "role": "member", "password_hash": "-", "name": p} for p in people])
        rows, intervals = [], []
        for i in range(args.resources):
            owner, hourly = rng.choice(people), round(rng.uniform(0.01, 3.0), 4)
            rows.append(
                {
                    "resource_type": "app",
                    "resource_id": f"r{i}",
                    "name": f"resource {i}",
                    "owner": owner,
                    "state": "running",
                    "hourly_cost": hourly,
                    "tags": {},
                    "saved_state": {},
                    "source": "platform",
                    "size": "",
                    "price_known": True,
                    "idle": False,
                }
            )
            if args.flapping:  # office hours 08:00-20:00 UTC on weekdays since January 1st
                day = year.date()
                while day <= now.date():
                    if day.weekday() < 5:
                        up = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
                        down = min(up + timedelta(hours=12), now)
                        if up < now:
                            intervals.append((f"r{i}", "running", up, down, hourly))
                            intervals.append((f"r{i}", "stopped", down, up + timedelta(hours=24), hourly))
                    day += timedelta(days=1)
            else:
                intervals.append((f"r{i}", "running", year + timedelta(hours=rng.randint(0, 2000)), None, hourly))
        s.execute(insert(Resource), rows)
        s.execute(
            insert(ResourceInterval),
            [
                {
                    "resource_type": "app",
                    "resource_id": rid,
                    "state": st,
                    "started_at": lo,
                    "ended_at": hi,
                    "hourly_cost": h,
                    "cause": "bench",
                }
                for rid, st, lo, hi, h in intervals
            ],
        )
        owned: dict[str, list[str]] = {}
        for r in rows:
            owned.setdefault(r["owner"], []).append(r["resource_id"])
        group_names = []
        for i in range(args.groups):
            owner = rng.choice(people)
            members = rng.sample(
                owned.get(owner, []) or ["r0"], min(len(owned.get(owner, [])) or 1, rng.randint(10, 30))
            )
            s.add(ResourceGroup(name=f"group {i}", owner=owner))
            s.flush()
            gid = s.execute(select(ResourceGroup.id).where(ResourceGroup.name == f"group {i}")).scalar()
            s.execute(
                insert(ResourceGroupMember),
                [
                    {"group_id": gid, "resource_type": "app", "resource_id": m}
                    for m in members
                    if m in owned.get(owner, [])
                ],
            )
            group_names.append((f"group {i}", owner))
        s.commit()
        for i, (name, owner) in enumerate(group_names[: args.groups // 3]):
            spec = check_schedule(
                {
                    "name": f"office {i}",
                    "timezone": rng.choice(["UTC", "Europe/Berlin"]),
                    "periods": [{"begin": "08:00", "end": "20:00", "weekdays": "mon-fri"}],
                    "targets": [{"group": name}],
                }
            )
            schedules.save(session=s, actor=Actor(owner), spec=spec)
        accounts = list(queries.accounts(session=s)["account_id"])
        services = queries.services(session=s)
        last = queries.coverage(session=s)[1]
        run = ForecastRun(interval_level=0.8, horizon_days=90, status="ok")
        s.add(run)
        s.flush()
        series = ["total"] + [f"account:{a}" for a in accounts] + [f"service:{v}" for v in services[:20]]
        points = [
            {
                "run_id": run.id,
                "series": name,
                "ds": last + timedelta(days=k),
                "yhat": 100.0,
                "yhat_lower": 50.0,
                "yhat_upper": 150.0,
            }
            for name in series
            for k in range(1, 91)
        ]
        s.execute(insert(ForecastPoint), points)
        s.commit()
        made = 0
        for i in range(args.budgets):
            roll = rng.random()
            raw: dict = {
                "name": f"budget {i}",
                "period": rng.choice(["monthly", "monthly", "quarterly", "annual"]),
                "thresholds": [
                    {"at": a, "on": rng.choice(["actual", "forecast"])}
                    for a in sorted(rng.sample([50, 80, 90, 100, 120], rng.randint(1, 4)))
                ],
            }
            if rng.random() < 0.2:
                raw["auto"] = {"basis": "average", "periods": rng.randint(1, 6)}
            else:
                raw["amount"] = rng.choice([500, 5_000, 50_000, 500_000, 5_000_000])
            if roll < 0.4:
                actor, scope = Actor("admin", is_admin=True), {"kind": "platform"}
                kind = rng.random()
                if kind < 0.25 or kind >= 0.9:
                    scope["accounts"] = rng.sample(accounts, min(len(accounts), rng.randint(1, 5)))
                if 0.25 <= kind < 0.5 or kind >= 0.9:
                    scope["services"] = rng.sample(services, min(len(services), rng.randint(1, 5)))
                raw["metric"] = rng.choice(["unblended", "amortized"])
            elif roll < 0.7:
                person = rng.choice(people)
                actor, scope = Actor(person), {"kind": "user", "user": person}
            else:
                name, owner = rng.choice(group_names)
                actor, scope = Actor(owner), {"kind": "group", "group": name}
            raw["scope"] = scope
            budgets.save(session=s, actor=actor, spec=check_spec(raw))
            made += 1
    return {
        "people": len(people),
        "resources": len(rows),
        "intervals": len(intervals),
        "groups": len(group_names),
        "schedules": args.groups // 3,
        "budgets": made,
        "forecast points": len(points),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="bench_pages' small store instead of the large one")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budgets", type=int, default=1000)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--flapping", action="store_true", help="every resource on office hours: a long ledger")
    args = parser.parse_args()
    size = "small" if args.small else "large"
    folder, meta, _built = bench_pages.open_store(size, fresh=False)
    work = bench_pages.OUT / f"budgets-{size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy(folder / "finops.db", work / "finops.db")
    bench_pages.configure(work)
    from sqlmodel import Session

    from finops.data import budget_runs, db
    from finops.data.access import Actor
    from finops.settings import get_settings

    engine = db.get_engine()
    db.init_db(engine)  # the cached store may be older than the budgets' tables
    t0 = time.perf_counter()
    counts = build(engine, args)
    print(f"store: {meta['rows']:,} daily cost rows ({size}); built {counts} in {time.perf_counter() - t0:.1f} s")
    settings = get_settings()
    for label in ("first evaluation (all new)", "second evaluation (updates)"):
        with Session(engine) as s:
            t0 = time.perf_counter()
            result = budget_runs.evaluate(session=s, settings=settings)
            took = time.perf_counter() - t0
        print(
            f"{label}: {result['budgets']:,} budgets in {took:.2f} s ({result['budgets'] / took:,.0f} budgets/s; "
            f"{result['alerts']:,} alerts, {result['skipped']} skipped; target <= {TARGET_S:g} s)"
        )
    with Session(engine) as s:
        t0 = time.perf_counter()
        frame = budget_runs.status(session=s, actor=Actor("admin", is_admin=True))
        took = time.perf_counter() - t0
    print(
        f"status for an admin (computed, nothing stored): {len(frame):,} budgets in {took:.2f} s; "
        f"statuses {frame['status'].value_counts().to_dict()}"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
