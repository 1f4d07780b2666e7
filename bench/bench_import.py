"""`finops resources import` at scale: rows per second, and how long a concurrent writer (the sidecar) waits.

    .venv/bin/python bench/bench_import.py                  # 595,000 rows (~50 MB), the size of issue 9's report
    .venv/bin/python bench/bench_import.py --rows 100000 --seed 7

A CSV of `--rows` platform resources (every column, tags as JSON, 2 % of ids repeated from an existing inventory
of `--rows`/10 so the upsert path runs too) is written to a temp dir, and imported into a new migrated SQLite
store through `finops.data.resources.import_csv`, the CLI's own call. Meanwhile a second thread plays the
sidecar: every 50 ms it writes one heartbeat row in its own transaction (busy_timeout 30 s, as the app's
engine) and records how long the write took. Printed: import time and rows/s (target: >= 30,000 rows/s, the
10x of issue 9 over the 3,300 rows/s before), the parse and write shares, and the writer's longest and 99th
percentile wait (target: a few seconds at most, the sidecar's jobs never fail).
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from finops.data import db, resource_fields, resources  # noqa: E402

TYPES = resources.PLATFORM_TYPES
TARGET_ROWS_PER_S = 30_000


def write_csv(path: Path, rows: int, seed: int, unique_tags: bool = False) -> int:
    rng = random.Random(seed)
    reused = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write("resource_type,resource_id,name,owner,state,hourly_cost,tags,account_id,region\n")
        for i in range(rows):
            kind = rng.choice(TYPES)
            if rng.random() < 0.02 and reused < rows // 10:  # an id the inventory already holds
                ident, kind, reused = f"res-{reused}", TYPES[0], reused + 1
            else:
                ident = f"new-{i}"
            tags = {"team": rng.choice(["ml", "web", "data"]), "env": rng.choice(["dev", "prod"])}
            if unique_tags:  # every row its own tag set: the parser's cache of tag cells never hits
                tags |= {"cost-center": f"cc-{i}", "Name": f"resource {i} of {rng.randrange(10**6)}"}
            tags = json.dumps(tags)
            tags = '"' + tags.replace('"', '""') + '"'
            fh.write(
                f"{kind},{ident}-{kind},Resource {i},user{rng.randrange(300)},{rng.choice(['running', 'stopped'])},"
                f"{rng.random() * 3:.4f},{tags},{rng.randrange(10**11, 10**12)},us-east-1\n"
            )
    return path.stat().st_size


class Writer(threading.Thread):
    """Writes one row every 50 ms in its own transaction and records each write's wall time."""

    def __init__(self, engine):
        super().__init__(daemon=True)
        self.engine, self.waits, self.errors, self.stop = engine, [], [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                with self.engine.begin() as conn:
                    conn.exec_driver_sql(
                        "INSERT INTO heartbeat (name, pid, host, started_at, beat_at) VALUES ('bench', 1, 'h', ?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET beat_at = excluded.beat_at",
                        (datetime.now(UTC).isoformat(), datetime.now(UTC).isoformat()),
                    )
            except Exception as exc:  # noqa: BLE001 - a failed job is what the benchmark looks for
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self.waits.append(time.perf_counter() - started)
            self.stop.wait(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=595_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--unique-tags", action="store_true", help="a different tag set on every row")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        size = write_csv(folder / "inventory.csv", args.rows, args.seed, args.unique_tags)
        engine = db.make_engine(f"sqlite:///{folder / 'finops.db'}")
        db.init_db(engine)
        with Session(engine) as s:  # an existing inventory, so part of the import updates rows
            existing = "resource_type,resource_id,name\n" + "".join(
                f"{k},res-{i}-{k},old {i}\n" for i in range(args.rows // 10) for k in TYPES[:1]
            )
            resources.import_csv(session=s, source=existing)
        writer = Writer(db.make_engine(f"sqlite:///{folder / 'finops.db'}"))
        writer.start()
        time.sleep(0.5)
        started = time.perf_counter()
        parse_started = time.perf_counter()
        header, rows = resource_fields.parse(resource_fields.decode((folder / "inventory.csv").read_bytes(), "x.csv"))
        parsed = time.perf_counter() - parse_started
        with Session(engine) as s:
            count = resources.import_csv(session=s, source=folder / "inventory.csv")
        total = time.perf_counter() - started - parsed  # import_csv parses again: time it alone
        time.sleep(0.5)
        writer.stop.set()
        writer.join()
        waits = sorted(writer.waits)
        p99 = waits[int(0.99 * (len(waits) - 1))]
        shape = "a different tag set per row" if args.unique_tags else "6 tag sets"
        print(f"file: {args.rows:,} rows, {size / 1e6:.1f} MB (seed {args.seed}, {shape}); imported {count:,} rows")
        print(
            f"import_csv: {total:.2f} s = {count / total:,.0f} rows/s (target >= {TARGET_ROWS_PER_S:,}; "
            f"{count / total / 3_300:.1f}x the 3,300 rows/s of issue 9's report)"
        )
        print(f"  parse and check alone: {parsed:.2f} s; write (stage + merge + commit): {total - parsed:.2f} s")
        print(
            f"concurrent writer: {len(waits)} writes, median {statistics.median(waits) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.0f} ms, longest {waits[-1]:.2f} s, failed {len(writer.errors)}"
        )
        for err in writer.errors[:3]:
            print(f"  writer error: {err}")


if __name__ == "__main__":
    main()
