"""FOCUS import at 10 M rows: `finops import focus` on a Parquet file of 100,000 resources over 30 days, its wall
time and peak memory (targets: 60 s and 2 GiB on 2 cores), then page times with those resource rows in the store.

    .venv/bin/python bench/bench_focus.py                        # 10 M rows, 100 k resources, 30 days, seed 1
    .venv/bin/python bench/bench_focus.py --seed 2 --tag-sets 5000 # other costs and ids, far more distinct tags
    .venv/bin/python bench/bench_focus.py --rows 1000000 --resources 10000 --no-pages   # a quick run

The file (written once per shape under bench/out/focus/, row groups of 1 M rows): AWS-shaped FOCUS 1.0 rows, each
resource an EC2-like ARN in one of 40 accounts, 60 services and 8 regions, 3-4 rows a resource and day (usage
lines), log-normal costs with 6 decimals, amortized 0-30 % below billed, one of `--tag-sets` tag sets. The import
runs as the CLI does (`python -m finops import focus FILE`, a child process, so its peak RSS is its own) into a
new SQLite store. Then a group of 200 of those resources is made and these pages are rendered cold (AppTest, a
new session, caches cleared): Home, Overview, Resource Groups, Budgets, Data Sources. Prints figures; asserts nothing.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import bench_pages  # noqa: E402

OUT = bench_pages.OUT / "focus"
TARGET_S, TARGET_GIB = 60.0, 2.0
PAGES = {
    "Home": "pages/home.py",
    "Overview": "pages/overview.py",
    "Resource Groups": "pages/resource_groups.py",
    "Budgets": "pages/budgets.py",
    "Data Sources": "pages/data_sources.py",
}
ROW_GROUP = 1_000_000


def write_file(path: Path, rows: int, resources: int, days: int, seed: int, tag_sets: int) -> None:
    """The Parquet file of `rows` FOCUS rows (see the module docstring), written a row group at a time."""
    rng = np.random.default_rng(seed)
    first = date(2026, 10, 1)
    accounts = np.array([f"{100000000000 + 7919 * i:012d}" for i in range(40)])
    services = np.array([f"Service {i:02d}" for i in range(60)])
    regions = np.array(["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "ap-northeast-1",
                        "sa-east-1", "ca-central-1"])  # fmt: skip
    r_account = rng.integers(0, len(accounts), resources)
    r_service = rng.integers(0, len(services), resources)
    r_region = rng.integers(0, len(regions), resources)
    r_scale = rng.lognormal(0.0, 1.2, resources)  # some resources cost far more than others
    r_tags = rng.integers(0, tag_sets, resources)
    tag_texts = np.array([json.dumps({"team": f"team-{i % 37}", "env": ["prod", "dev", "test"][i % 3],
                                      "cost-center": f"cc-{i}"}) for i in range(tag_sets)])  # fmt: skip
    ids = np.array([f"arn:aws:ec2:{regions[r_region[i]]}:{accounts[r_account[i]]}:instance/i-{i:017x}"
                    for i in range(resources)])  # fmt: skip
    names = np.array([f"host-{i}" for i in range(resources)])
    day_text = np.array([f"{first + timedelta(days=d)} 00:00:00" for d in range(days + 1)])
    period_end = f"{date(2026, 11, 1) if days <= 31 else first + timedelta(days=days)} 00:00:00"
    with _writer(path) as write:
        for lo in range(0, rows, ROW_GROUP):
            n = min(ROW_GROUP, rows - lo)
            i = np.arange(lo, lo + n)
            res = i % resources
            day = (i // resources) % days
            billed = np.round(r_scale[res] * rng.lognormal(0.0, 0.4, n), 6)
            effective = np.round(billed * rng.uniform(0.7, 1.0, n), 6)
            table = pa.table({
                "BillingPeriodStart": pa.array([f"{first} 00:00:00"] * n),
                "BillingPeriodEnd": pa.array([period_end] * n),
                "ChargePeriodStart": pa.array(day_text[day]),
                "ChargePeriodEnd": pa.array(day_text[day + 1]),
                "ProviderName": pa.array(["AWS"] * n),
                "SubAccountId": pa.array(accounts[r_account[res]]),
                "SubAccountName": pa.array(np.char.add("account ", accounts[r_account[res]])),
                "ServiceName": pa.array(services[r_service[res]]),
                "RegionId": pa.array(regions[r_region[res]]),
                "ResourceId": pa.array(ids[res]),
                "ResourceName": pa.array(names[res]),
                "ResourceType": pa.array(["Instance"] * n),
                "BilledCost": pa.array(billed),
                "EffectiveCost": pa.array(effective),
                "BillingCurrency": pa.array(["USD"] * n),
                "Tags": pa.array(tag_texts[r_tags[res]]),
            })  # fmt: skip
            write(table)


class _writer:
    """A ParquetWriter opened on the first table (its schema), dictionary-encoded, zstd."""

    def __init__(self, path: Path):
        self.path, self.writer = path, None

    def __enter__(self):
        return self.write

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table, row_group_size=ROW_GROUP)

    def __exit__(self, *exc) -> None:
        if self.writer is not None:
            self.writer.close()


def import_in_child(store: Path, file: Path) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS GiB of the child, its output) of `python -m finops import focus FILE`.

    The CPU time (user + system, all threads) says what the import costs when the machine is shared: the wall
    time then also counts the time other processes held the 2 cores."""
    env = {**os.environ, "FINOPS_DATA_DIR": str(store), "FINOPS_DATABASE_URL": "", "FINOPS_SOURCE": "demo"}
    env.setdefault("FINOPS_COOKIE_KEY", "bench-cookie-key-0123456789-0123456789-012345678")
    subprocess.run([sys.executable, "-m", "finops", "init"], env=env, check=True, capture_output=True, cwd=ROOT)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "finops", "import", "focus", str(file)], env=env, cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip
    took = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = after.ru_maxrss  # KiB; the largest child so far (the import is by far the largest)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"import failed ({done.returncode}): {done.stderr.strip()}")
    return took, cpu, max(peak, before.ru_maxrss) / 1024 / 1024, done.stdout.strip()


def time_pages(store: Path) -> None:
    """Cold render of PAGES with the imported rows in the store (a group of 200 resources made first)."""
    bench_pages.configure(store)
    from sqlmodel import Session, select

    from finops.data import db, groups, resources, users
    from finops.data.access import Actor
    from finops.data.tables import CostResourceDaily

    engine = db.get_engine()
    with Session(engine) as s:
        users.add_user(session=s, username=bench_pages.ADMIN[0], role="admin", password=bench_pages.ADMIN[1],
                       name="Bench Admin")  # fmt: skip
        picked = s.execute(select(CostResourceDaily.resource_id).distinct().limit(200)).scalars().all()
        for rid in picked:
            resources.add_resource(session=s, resource_type="app", resource_id=rid, name=rid[-12:], owner="admin",
                                   state="running", hourly_cost=0.1)  # fmt: skip
        groups.create_group(session=s, actor=Actor("admin", is_admin=True), name="bench fleet",
                            resources=[("app", r) for r in picked])  # fmt: skip
    for name, path in PAGES.items():
        result = bench_pages.time_page(path, runs=3)
        issues = f"; {len(result['issues'])} issues: {result['issues'][:2]}" if result["issues"] else ""
        verdict = "PASS" if result["cold"] <= bench_pages.TARGET_S else "MISS"
        print(f"page {name}: cold {result['cold']:.2f} s (runs {', '.join(f'{c:.2f}' for c in result['cold_all'])}),"
              f" warm {result['warm']:.2f} s; {result['rendered']}; target 1 s {verdict}{issues}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tag-sets", type=int, default=20)
    parser.add_argument("--no-pages", action="store_true", help="the import only")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    file = OUT / f"focus_{args.rows}_{args.resources}_{args.days}_{args.seed}_{args.tag_sets}.parquet"
    if not file.exists():
        t0 = time.perf_counter()
        write_file(file, args.rows, args.resources, args.days, args.seed, args.tag_sets)
        print(f"wrote {file.name}: {file.stat().st_size / 2**20:,.0f} MiB in {time.perf_counter() - t0:.1f} s")
    store = OUT / "store"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir()
    load = os.getloadavg()
    took, cpu, gib, said = import_in_child(store, file)
    print(f"import: {args.rows:,} rows, {args.resources:,} resources, {args.days} days in {took:.1f} s "
          f"({args.rows / took:,.0f} rows/s; target {TARGET_S:g} s: {'PASS' if took <= TARGET_S else 'MISS'}); "
          f"peak RSS {gib:.2f} GiB (target {TARGET_GIB:g} GiB: {'PASS' if gib <= TARGET_GIB else 'MISS'})")  # fmt: skip
    print(f"  CPU {cpu:.1f} s (user + system); load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"after {' '.join(f'{v:.2f}' for v in os.getloadavg())}")  # fmt: skip
    print(f"  the CLI said: {said}")
    print(f"  store file: {(store / 'finops.db').stat().st_size / 2**20:,.0f} MiB")
    if not args.no_pages:
        time_pages(store)


if __name__ == "__main__":
    main()
