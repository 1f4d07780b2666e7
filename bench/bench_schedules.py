"""Schedules at scale: 100 schedules over 1,000 targets (SQLite), and one reconciler tick that must stop 1,000 EC2
instances on a moto server through real boto3 clients.

    .venv/bin/python bench/bench_schedules.py                 # 1,000 instances, 100 schedules (~1 min)
    .venv/bin/python bench/bench_schedules.py --instances 300 --schedules 30 --seed 2

The store is a new SQLite file migrated with `init_db`. A moto server on a free loopback port gets `--instances`
t3.micro instances (tagged owner=ops, in one region); discovery stores them; `--schedules` schedules owned by `ops`
each target `--instances`/`--schedules` instances (some through groups, some one by one), with random office hours
in random zones (seeded), and one night when every schedule says stop. Printed:
1. the desired state of all targets at one instant: the reconciler's own `wants` (store reads + evaluation), warm
   median of 5, and the evaluation alone (timetables already loaded); target <= 50 ms;
2. one tick at that night: every instance stopped (checked in moto afterwards); target <= 10 s; and a second tick
   (nothing to do) for the idempotent case.
"""

import argparse
import logging
import random
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from sqlmodel import Session  # noqa: E402

from finops.data import db, groups, schedule_runs, schedules  # noqa: E402
from finops.data.access import Actor  # noqa: E402
from finops.data.drivers import aws_discovery  # noqa: E402
from finops.data.tables import User  # noqa: E402
from finops.scheduling.specs import check_spec  # noqa: E402
from finops.scheduling.timetable import desired_state  # noqa: E402
from finops.settings import Settings  # noqa: E402

REGION = "us-east-1"
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/London"]
NIGHT = datetime(2026, 12, 6, 3, 30, tzinfo=UTC)  # a Sunday: every weekday-only schedule says stop everywhere


def moto() -> tuple[object, str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def build(engine, url: str, n_instances: int, n_schedules: int, seed: int) -> float:
    """Instances in moto, the inventory, groups and schedules; returns the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=url)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ids = []
    for lo in range(0, n_instances, 500):
        count = min(500, n_instances - lo)
        resp = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=count, MaxCount=count,
                                 TagSpecifications=[{"ResourceType": "instance",
                                                     "Tags": [{"Key": "owner", "Value": "ops"}]}])  # fmt: skip
        ids += [i["InstanceId"] for i in resp["Instances"]]
    settings = Settings(aws_regions=[REGION], aws_max_attempts=2)
    ops = Actor("ops")
    with Session(engine) as s:
        s.add(User(username="ops", role="member", password_hash="-"))
        s.commit()
        aws_discovery.run_discovery(session=s, settings=settings)
        per = max(1, n_instances // n_schedules)
        for i in range(n_schedules):
            chunk = ids[i * per : (i + 1) * per]
            if i % 2:  # half through a group, half one by one
                groups.create_group(session=s, actor=ops, name=f"g{i}", resources=[("ec2_instance", x) for x in chunk])
                targets = [{"group": f"g{i}"}]
            else:
                targets = [{"resource_type": "ec2_instance", "resource_id": x} for x in chunk]
            begin = rng.choice(["06:00", "07:00", "08:00", "09:00"])
            end = rng.choice(["17:00", "18:00", "19:00", "20:00"])
            spec = check_spec({"name": f"s{i}", "timezone": rng.choice(ZONES), "targets": targets,
                               "periods": [{"begin": begin, "end": end, "weekdays": "mon-fri"}]})  # fmt: skip
            schedules.save(session=s, actor=ops, spec=spec)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import os

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    server, url = moto()
    os.environ.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                       "AWS_DEFAULT_REGION": REGION})  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            engine = db.make_engine(f"sqlite:///{Path(tmp) / 'finops.db'}")
            db.init_db(engine)
            built = build(engine, url, args.instances, args.schedules, args.seed)
            print(f"built {args.instances:,} instances in moto, {args.schedules} schedules ({built:.1f} s)")
            with Session(engine) as s:
                times = []
                for _ in range(6):
                    t0 = time.perf_counter()
                    wanted, _ = schedule_runs.wants(s, NIGHT)
                    times.append(time.perf_counter() - t0)
                rows = schedules.list_schedules(session=s, actor=Actor("ops"))
                tables = [schedules.timetable(s, schedules.load(s, Actor("ops"), i)) for i in rows["id"]]
            pure = []
            for _ in range(5):
                t0 = time.perf_counter()
                for tt in tables:
                    desired_state(tt, NIGHT)
                pure.append(time.perf_counter() - t0)
            print(f"desired state of {len(wanted):,} targets at one instant: wants() warm median "
                  f"{statistics.median(times[1:]) * 1000:.1f} ms (cold {times[0] * 1000:.1f} ms); evaluation alone "
                  f"{statistics.median(pure) * 1000:.2f} ms for {len(tables)} schedules (target <= 50 ms)")  # fmt: skip
            settings = Settings(aws_regions=[REGION], aws_max_attempts=2)
            with Session(engine) as s:
                t0 = time.perf_counter()
                counts = schedule_runs.reconcile(session=s, settings=settings, now=NIGHT)
                tick = time.perf_counter() - t0
                t0 = time.perf_counter()
                again = schedule_runs.reconcile(session=s, settings=settings, now=NIGHT)
                idle = time.perf_counter() - t0
            ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=url)
            states = [i["State"]["Name"] for p in ec2.get_paginator("describe_instances").paginate()
                      for r in p["Reservations"] for i in r["Instances"]]  # fmt: skip
            stopped = sum(1 for x in states if x == "stopped")
            print(f"one tick: {counts['acted']:,} acted on, {counts['failed']} failed in {tick:.2f} s "
                  f"(target <= 10 s); moto says {stopped:,} of {len(states):,} stopped; the next tick: "
                  f"{again['acted']} acted in {idle:.2f} s")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
