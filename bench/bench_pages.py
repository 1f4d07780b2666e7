"""Page render times on a large organisation, beside DuckDB computing the same aggregates from raw rows.

    .venv/bin/python bench/bench_pages.py            # 40 accounts x 120 services x 3 years (~5.3 M rows)
    .venv/bin/python bench/bench_pages.py --small    # 5 x 25 x 3 years (~137 k rows): a quick smoke run
    .venv/bin/python bench/bench_pages.py --fresh    # regenerate the cached store under bench/out/

Prints figures; asserts nothing. See bench/README.md for what is measured and the figures we got.
"""

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SEED = 42
DAYS = 1095  # three years, the last day being yesterday (UTC)
TARGET_S = 1.0
SIZES = {"large": (40, 120), "small": (5, 25)}  # (accounts, services); density 1.0: every pair has costs
ADMIN = ("admin", "bench-pass-123")
PAGES = {"Home": "pages/home.py", "Overview": "pages/overview.py", "Service Breakdown": "pages/service_breakdown.py"}

sys.path.insert(0, str(ROOT))


def configure(store_dir: Path) -> None:
    """Point the app's settings at the bench store (before anything reads them)."""
    os.environ["FINOPS_DATA_DIR"] = str(store_dir)
    os.environ["FINOPS_DATABASE_URL"] = ""
    os.environ["FINOPS_SOURCE"] = "demo"
    os.environ["FINOPS_COOKIE_KEY"] = "bench-cookie-key-0123456789-0123456789-012345678"  # 48 chars
    from finops.data import db
    from finops.settings import get_settings

    get_settings.cache_clear()
    db.get_engine.cache_clear()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f} s"


def mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB"


# --- the store -------------------------------------------------------------------------------------------


def generate_rows(size: str, end: date):
    from finops.data.sources import demo

    n_accounts, n_services = SIZES[size]
    return demo.generate(
        seed=SEED,
        start=end - timedelta(days=DAYS - 1),
        end=end,
        n_accounts=n_accounts,
        n_services=n_services,
        density=1.0,
    )


def build_store(size: str, end: date, folder: Path) -> dict:
    """Generate the organisation, load it into a new SQLite store in `folder`, cache the raw rows; timings."""
    from sqlmodel import Session

    from finops.data import db, load, users

    if folder.exists():
        shutil.rmtree(folder)
    work = folder.with_name(folder.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    configure(work)

    t0 = time.perf_counter()
    rows = generate_rows(size, end)
    generate_s = time.perf_counter() - t0
    print(f"generated {len(rows):,} rows in {generate_s:.1f} s (peak RSS so far {peak_rss_mib():,.0f} MiB)")

    # time the loader's phases by wrapping its module-level helpers (replace_window calls them by name)
    phases: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    originals = {name: getattr(load, name) for name in ("_records", "_insert_rows", "rebuild_rollups")}
    for name, fn in originals.items():
        setattr(load, name, timed(name, fn))
    engine = db.get_engine()
    try:
        db.init_db(engine)
        t0 = time.perf_counter()
        with Session(engine) as s:
            run = load.replace_window(s, "demo", rows["day"].min(), rows["day"].max() + timedelta(days=1), rows)
        load_s = time.perf_counter() - t0
    finally:
        for name, fn in originals.items():
            setattr(load, name, fn)
    with Session(engine) as s:
        users.add_user(session=s, username=ADMIN[0], role="admin", password=ADMIN[1], name="Bench Admin")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = {
            t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("cost_daily", "cost_monthly", "cost_daily_service")
        }
    engine.dispose()
    rows.to_parquet(work / "rows.parquet", index=False)
    meta = {
        "size": size,
        "accounts_services": SIZES[size],
        "seed": SEED,
        "start": str(rows["day"].min()),
        "end": str(end),
        "rows": len(rows),
        "run_id": run.id,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "generate_s": generate_s,
        "load_s": load_s,
        "phases_s": {
            "contract checks (_records)": phases.get("_records", 0.0),
            "insert (_insert_rows)": phases.get("_insert_rows", 0.0),
            "rollups (rebuild_rollups)": phases.get("rebuild_rollups", 0.0),
            "delete + commit + run row": load_s - sum(phases.values()),
        },
        "table_rows": counts,
        "db_bytes": (work / "finops.db").stat().st_size,
        "peak_rss_build_mib": peak_rss_mib(),
    }
    (work / "meta.json").write_text(json.dumps(meta, indent=2))
    work.rename(folder)
    return meta


def open_store(size: str, fresh: bool) -> tuple[Path, dict, bool]:
    """The cached store for `size` (built when missing, stale, or `fresh`); its metadata; whether it was built."""
    folder = OUT / size
    end = datetime.now(UTC).date() - timedelta(days=1)
    meta_file = folder / "meta.json"
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else None
    reason = None
    if fresh:
        reason = "--fresh"
    elif meta is None or not (folder / "finops.db").exists() or not (folder / "rows.parquet").exists():
        reason = "no cached store"
    elif meta.get("end") != str(end) or tuple(meta.get("accounts_services", ())) != SIZES[size]:
        reason = f"cached store ends {meta.get('end')}, not yesterday ({end})"
    built = reason is not None
    if built:
        print(f"building the {size} store in {folder} ({reason}) ...")
        meta = build_store(size, end, folder)
    configure(folder)
    return folder, meta, built


def print_load(meta: dict, built: bool) -> None:
    origin = "this run" if built else f"cached, built {meta['built_at']}"
    n = meta["rows"]
    print(f"\n## Store ({origin})")
    print(f"rows              {n:,} daily rows, {meta['start']} .. {meta['end']}, seed {meta['seed']}")
    print(f"generate          {meta['generate_s']:.1f} s")
    print(f"load (total)      {meta['load_s']:.1f} s  ({n / meta['load_s']:,.0f} rows/s, replace_window end to end)")
    for name, seconds in meta["phases_s"].items():
        extra = f"  ({n / seconds:,.0f} rows/s)" if name.startswith("insert") and seconds else ""
        print(f"  {name:<27} {seconds:6.1f} s{extra}")
    print("table rows        " + ", ".join(f"{t} {c:,}" for t, c in meta["table_rows"].items()))
    print(f"SQLite file       {mib(meta['db_bytes'])}")
    print(f"peak RSS (build)  {meta['peak_rss_build_mib']:,.0f} MiB (generator + loader, same process)")


# --- what each page computes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Windows:
    """The date windows the pages use with their default widgets, for today's date."""

    today: date
    last_day: date
    mtd: tuple[date, date] | None
    mtd_previous: tuple[date, date] | None
    average: tuple[date, date]  # Home: complete months of the last 12
    overview_months: tuple[date, date]  # 12 months incl. the current one
    overview_days: tuple[date, date]  # last 30 days of data
    breakdown: tuple[date, date]  # "Last 30 days"
    breakdown_previous: tuple[date, date]


def page_windows(last_day: date) -> Windows:
    from finops import costs, reports

    today = datetime.now(UTC).date()
    this_month = costs.month_start(today)
    mtd = mtd_previous = None
    if last_day >= this_month:
        mtd, mtd_previous = costs.month_to_date(min(last_day, today))
    end_month = costs.add_months(this_month, 1)
    breakdown = costs.presets(today)["Last 30 days"]
    return Windows(
        today=today,
        last_day=last_day,
        mtd=mtd,
        mtd_previous=mtd_previous,
        average=(costs.add_months(today, -12), this_month),
        overview_months=(costs.add_months(end_month, -12), end_month),
        overview_days=reports.last_days(last_day, 30),
        breakdown=breakdown,
        breakdown_previous=costs.previous_period(*breakdown),
    )


def store_calls(w: Windows) -> dict[str, Callable[[], object]]:
    """Each page's data, read through finops.reports from the store (no Streamlit): a diagnostic column."""
    from finops import reports
    from finops.data import db

    metric = "unblended_cost"

    def home():
        with db.session() as s:
            reports.status(session=s)
            reports.home_kpis(session=s, today=w.today, range_start=w.average[0], metric=metric)

    def overview():
        from finops.data import queries

        with db.session() as s:
            reports.status(session=s)
            queries.accounts(session=s)
            queries.services(session=s)
            reports.overview(
                session=s,
                start_month=w.overview_months[0],
                end_month=w.overview_months[1],
                daily_start=w.overview_days[0],
                daily_end=w.overview_days[1],
                metric=metric,
            )

    def breakdown():
        with db.session() as s:
            reports.status(session=s)
            reports.service_breakdown(session=s, start=w.breakdown[0], end=w.breakdown[1], metric=metric)

    return {"Home": home, "Overview": overview, "Service Breakdown": breakdown}


def duckdb_queries(w: Windows) -> dict[str, list[tuple[str, list]]]:
    """Per page, the SQL that computes what the page shows from the raw daily rows (both metrics)."""
    sums = "sum(unblended_cost) AS unblended_cost, sum(amortized_cost) AS amortized_cost"
    total = f"SELECT {sums} FROM cost_daily WHERE day >= ? AND day < ?"
    home = [(total, list(w.mtd)), (total, list(w.mtd_previous))] if w.mtd else []
    home.append(
        (
            f"SELECT date_trunc('month', day) AS month, {sums} FROM cost_daily WHERE day >= ? AND day < ? "
            "GROUP BY ALL ORDER BY month",
            list(w.average),
        )
    )
    overview = [
        (
            f"SELECT date_trunc('month', day) AS month, service, {sums} FROM cost_daily WHERE day >= ? AND day < ? "
            "GROUP BY ALL ORDER BY month, service",
            list(w.overview_months),
        ),
        (
            f"SELECT day, service, {sums} FROM cost_daily WHERE day >= ? AND day < ? "
            "GROUP BY ALL ORDER BY day, service",
            list(w.overview_days),
        ),
    ]
    by_service = f"SELECT service, {sums} FROM cost_daily WHERE day >= ? AND day < ? GROUP BY service"
    breakdown = [(by_service, list(w.breakdown)), (by_service, list(w.breakdown_previous))]
    return {"Home": home, "Overview": overview, "Service Breakdown": breakdown}


def time_duckdb(rows_file: Path, w: Windows, runs: int) -> tuple[dict[str, float], dict]:
    import duckdb
    import pandas as pd

    info = {}
    t0 = time.perf_counter()
    rows = pd.read_parquet(rows_file)
    info["read_parquet_s"] = time.perf_counter() - t0
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.register("raw_rows", rows)
    con.execute("CREATE TABLE cost_daily AS SELECT CAST(day AS DATE) AS day, * EXCLUDE (day) FROM raw_rows")
    con.unregister("raw_rows")
    info["load_s"] = time.perf_counter() - t0
    info["rows"] = con.execute("SELECT count(*) FROM cost_daily").fetchone()[0]
    info["threads"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
    del rows
    medians = {}
    for page, queries in duckdb_queries(w).items():

        def run(queries=queries):
            for sql, params in queries:
                con.execute(sql, params).df()

        run()  # first touch
        medians[page] = median_time(run, runs)
    con.close()
    return medians, info


# --- pages under AppTest ------------------------------------------------------------------------------------


def new_apptest():
    from streamlit import logger
    from streamlit.testing.v1 import AppTest

    logger.set_log_level("error")  # st.cache_data.clear() outside a script run warns about a missing context

    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = ADMIN[0]
    at.session_state["name"] = "Bench Admin"
    at.session_state["roles"] = ["admin"]
    return at


def problems(at) -> list[str]:
    found = [f"exception: {e.message.splitlines()[0] if e.message else e.value}" for e in at.exception]
    found += [f"error: {e.value}" for e in at.error]
    found += [f"warning: {e.value}" for e in at.warning]
    return found


def rendered(at) -> str:
    charts = len(at.get("vega_lite_chart")) + len(at.get("arrow_vega_lite_chart"))
    return f"{len(at.metric)} metrics, {len(at.dataframe)} tables, {charts} charts"


def time_page(path: str, runs: int) -> dict:
    """Cold: fresh AppTest, log in, land on the default page, clear st.cache_data, switch and time the run.
    Warm: the same page re-run in that AppTest (every loader cached)."""
    import streamlit as st

    cold, warm, issues, summary = [], [], [], ""
    for _ in range(runs):
        at = new_apptest()
        at.run()
        st.cache_data.clear()
        at.switch_page(path)
        t0 = time.perf_counter()
        at.run()
        cold.append(time.perf_counter() - t0)
        issues += problems(at)
        summary = rendered(at)
    for _ in range(runs):
        t0 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t0)
        issues += problems(at)
    return {
        "cold": statistics.median(cold),
        "cold_all": cold,
        "warm": statistics.median(warm),
        "issues": sorted(set(issues)),
        "rendered": summary,
    }


def profile_page(path: str, out: Path) -> Path:
    """cProfile of one cold run of `path` (AppTest runs the script in its own thread: that thread is profiled),
    top functions by cumulative time, written to `out`."""
    import threading

    import streamlit as st

    at = new_apptest()
    at.run()
    st.cache_data.clear()
    at.switch_page(path)
    profiler = cProfile.Profile()
    original_run = threading.Thread.run

    def profiled_run(thread):
        profiler.enable()
        try:
            original_run(thread)
        finally:
            profiler.disable()

    threading.Thread.run = profiled_run
    try:
        at.run()
    finally:
        threading.Thread.run = original_run
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(80)
    out.write_text(text.getvalue())
    return out


# --- report ---------------------------------------------------------------------------------------------


def verdict(cold: float | None, duck: float) -> str:
    if cold is None:
        return "not measured"
    target = "meets 1.0 s" if cold <= TARGET_S else "MISSES 1.0 s"
    versus = "<= DuckDB" if cold <= duck else f"{cold / duck:.0f}x DuckDB" if duck else "-"
    return f"{target}; {versus}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="5 accounts x 25 services (a quick smoke run)")
    parser.add_argument("--fresh", action="store_true", help="regenerate the cached store")
    parser.add_argument("--runs", type=int, default=5, help="repetitions per median (default 5)")
    parser.add_argument("--profile", action="store_true", help="write a cProfile of one cold run per page")
    args = parser.parse_args()
    size = "small" if args.small else "large"
    n_accounts, n_services = SIZES[size]
    print(
        f"# bench_pages: {size} organisation ({n_accounts} accounts x {n_services} services x {DAYS} days), "
        f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}"
    )

    folder, meta, built = open_store(size, args.fresh)
    print_load(meta, built)

    from finops import reports
    from finops.data import db

    with db.session() as s:
        status = reports.status(session=s)
    w = page_windows(status.last_day)

    print("\n## Pages (AppTest, server side)")
    pages: dict[str, dict | None] = dict.fromkeys(PAGES)
    missing = [p for p in ["Home.py", *PAGES.values()] if not (ROOT / p).exists()]
    if missing:
        print(f"not measured: missing {', '.join(missing)}")
    else:
        t0 = time.perf_counter()
        at = new_apptest()
        at.run()  # pays the imports (streamlit, pandas, altair, authenticator) once
        for path in PAGES.values():
            at.switch_page(path).run()
        print(f"warm-up (imports + one pass over every page): {time.perf_counter() - t0:.2f} s")
        for page, path in PAGES.items():
            pages[page] = time_page(path, args.runs)
            result = pages[page]
            cold_all = ", ".join(f"{x:.3f}" for x in result["cold_all"])
            print(f"{page:<18} cold runs [{cold_all}] s; warm median {result['warm']:.3f} s; {result['rendered']}")
            for issue in result["issues"]:
                print(f"{'':<18} {issue}")
        if args.profile:
            for page, path in PAGES.items():
                out = profile_page(path, OUT / f"profile_{size}_{Path(path).stem}.txt")
                print(f"profile of a cold {page} run: {out.relative_to(ROOT)}")
    print(f"peak RSS so far: {peak_rss_mib():,.0f} MiB")

    print("\n## Store reads without Streamlit (finops.reports, median)")
    store = {page: median_time(fn, args.runs) for page, fn in store_calls(w).items()}
    for page, seconds in store.items():
        print(f"{page:<18} {fmt_s(seconds)}")

    print("\n## DuckDB baseline (raw daily rows, in memory)")
    duck, info = time_duckdb(folder / "rows.parquet", w, args.runs)
    print(f"read cached rows (parquet -> pandas) {info['read_parquet_s']:.2f} s")
    print(f"load into DuckDB table               {info['load_s']:.2f} s ", end="")
    print(f"({info['rows']:,} rows, {info['threads']} threads)")
    for page, seconds in duck.items():
        print(f"{page:<18} {fmt_s(seconds)}")
    rss = peak_rss_mib()

    print(f"\n## Summary ({meta['rows']:,} rows, medians of {args.runs}; target: cold <= {TARGET_S} s and <= DuckDB)")
    header = ["page", "AppTest cold", "AppTest warm", "store reads", "DuckDB", "cold/DuckDB", "verdict"]
    table = []
    for page in PAGES:
        result = pages[page]
        cold = result["cold"] if result else None
        table.append(
            [
                page,
                fmt_s(cold),
                fmt_s(result["warm"] if result else None),
                fmt_s(store[page]),
                fmt_s(duck[page]),
                f"{cold / duck[page]:.1f}x" if cold is not None and duck[page] else "-",
                verdict(cold, duck[page]),
            ]
        )
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    for row in [header, ["-" * n for n in widths], *table]:
        print("| " + " | ".join(str(c).ljust(n) for c, n in zip(row, widths, strict=True)) + " |")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f} (other processes on the machine inflate every figure)")
    print(
        f"peak RSS {rss:,.0f} MiB (ru_maxrss of this process: includes "
        f"{'the generator and loader, ' if built else ''}AppTest, pandas and the DuckDB copy of the rows)"
    )


if __name__ == "__main__":
    main()
