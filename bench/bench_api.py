"""REST API latency under load on the 5 M-row store of bench_pages, and `finops executions import` speed.

    .venv/bin/python bench/bench_api.py                  # the 5.3 M-row store (built by bench_pages, cached)
    .venv/bin/python bench/bench_api.py --small          # bench_pages' small store: a quick smoke run
    .venv/bin/python bench/bench_api.py --seconds 20 --rates 50,100,200,400 --workers 2

1. `python -m finops api` (uvicorn, FINOPS_API_WORKERS, default 1) runs as a subprocess on a free 127.0.0.1 port
   against the cached store.
2. An open-loop load generator (asyncio with keep-alive connections of its own, in this process) sends GET
   monthly-costs, daily-costs and service-breakdown in turn at a fixed rate for `--seconds`, with a bearer token.
   Latency counts from the moment a request was due, not when it went out, so a server that falls behind is
   charged for its queue.
3. Three scenarios: "dashboard" (the seed's defaults, as a dashboard polls them; response cache on, the
   default), "varied" (170 distinct parameter sets, every one asked once before the clock starts: the cache's
   steady state), and "no cache" (FINOPS_API_CACHE_ENTRIES=0: every request reads the store and computes).
4. For each rate: achieved rate, p50/p95/p99/max latency, errors. Target: p99 <= 50 ms at 100 requests/s; the
   highest rate tried that holds it is printed. Also the server's CPU time per request, one at a time.
5. 10,000 executions in one CSV are imported with `finops.data.executions.import_csv` (the CLI's call) into a new
   SQLite store, ten times over (the store grows to 100,000 runs), then the first file again (all already stored).
   Target: 10,000 runs in at most 2 s.

Prints figures; asserts nothing.
"""

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import bench_pages  # noqa: E402

TARGET_P99_MS = 50.0
TARGET_RATE = 100
TARGET_IMPORT_S = 2.0
PREFIX = "/api/v1/finops"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_token() -> str:
    from sqlmodel import Session

    from finops.data import db, tokens

    with Session(db.get_engine()) as s:
        return tokens.add_token(session=s, name=f"bench-{time.time_ns()}", username=bench_pages.ADMIN[0])[1]


DEFAULTS = ["/monthly-costs", "/daily-costs", "/service-breakdown"]  # what a dashboard polls, the seed's defaults


def request_mix(today: date, seed: int = 1, n: int = 300) -> list[str]:
    """Monthly, daily and per-service requests in turn: the seed's defaults and a spread of other parameters."""
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        default = i % 5 == 0
        if i % 3 == 0:
            paths.append("/monthly-costs" if default else f"/monthly-costs?months={rng.randint(1, 36)}")
        elif i % 3 == 1:
            paths.append("/daily-costs" if default else f"/daily-costs?days={rng.randint(7, 120)}")
        else:
            end = today - timedelta(days=rng.randint(1, 300))
            start = end - timedelta(days=rng.choice([6, 29, 89]))
            paths.append("/service-breakdown" if default else f"/service-breakdown?startDate={start}&endDate={end}")
    return paths


class Server:
    """`python -m finops api` on a free loopback port, against the configured store."""

    def __init__(self, cache_entries: int, workers: int):
        self.port = free_port()
        env = {**os.environ, "FINOPS_API_PORT": str(self.port), "FINOPS_API_HOST": "127.0.0.1",
               "FINOPS_API_CACHE_ENTRIES": str(cache_entries), "FINOPS_API_WORKERS": str(workers)}  # fmt: skip
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "finops", "api"], cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}{PREFIX}"

    def wait(self, headers: dict) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/daily-costs?days=1", headers=headers, timeout=30).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start: {Path(self.log.name).read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)
        self.log.close()
        os.unlink(self.log.name)


class Pool:
    """Keep-alive HTTP/1.1 connections to the server, opened as needed: a client lean enough (about 0.1 ms of CPU
    a request, against httpx's 2.8 ms) that the load generator does not eat the cores the server is measured on."""

    def __init__(self, url: str, headers: dict):
        parts = urlsplit(url)
        self.host, self.port, self.base = parts.hostname, parts.port, parts.path
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = f"Host: {self.host}:{self.port}\r\n{extra}Connection: keep-alive\r\n\r\n"
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, path: str) -> int:
        """The status of GET `path` (the body is read and dropped). A kept-alive connection the server has closed
        meanwhile (uvicorn closes idle ones after 5 s) is replaced once, as any HTTP client does."""
        reused = bool(self.idle)
        reader, writer = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
        writer.write(f"GET {self.base}{path} HTTP/1.1\r\n{self.head}".encode())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            if not reused:
                raise
            return await self.get(path)
        status = int(head[9:12])
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        await reader.readexactly(int(length.group(1)) if length else 0)
        self.idle.append((reader, writer))
        return status

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def load(url: str, headers: dict, paths: list[str], rate: float, seconds: float) -> dict:
    """Send rate x seconds requests, the i-th due at start + i / rate; latency counts from the due time."""
    n = max(1, int(rate * seconds))
    pool = Pool(url, headers)
    results: list[tuple[float, bool, str]] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.3

    async def one(i: int) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        path = paths[i % len(paths)]
        try:
            ok = await asyncio.wait_for(pool.get(path), 30) == 200
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            ok = False
        results.append((loop.time() - due, ok, path.split("?")[0]))

    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = loop.time() - start
    pool.close()
    latencies = sorted(1000 * latency for latency, _, _ in results)
    pick = lambda values, q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
    endpoints = {}
    for endpoint in sorted({e for _, _, e in results}):
        mine = sorted(1000 * latency for latency, _, e in results if e == endpoint)
        endpoints[endpoint] = (pick(mine, 0.50), pick(mine, 0.99))
    return {"rate": rate, "sent": n, "achieved": n / elapsed, "p50": pick(latencies, 0.50),
            "p95": pick(latencies, 0.95), "p99": pick(latencies, 0.99), "max": latencies[-1],
            "errors": sum(not ok for _, ok, _ in results), "endpoints": endpoints}  # fmt: skip


def sequential(url: str, headers: dict, paths: list[str], runs: int) -> dict[str, float]:
    """Median single-request latency per endpoint (one at a time), in ms."""
    import httpx

    out = {}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for path in paths:
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                client.get(path).raise_for_status()
                times.append(1000 * (time.perf_counter() - t0))
            out[path] = statistics.median(times)
    return out


def print_rates(rows: list[dict]) -> None:
    print(
        f"{'rate/s':>7} {'achieved':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}  verdict"
    )
    for r in rows:
        verdict = "holds" if r["p99"] <= TARGET_P99_MS and not r["errors"] else "misses"
        print(f"{r['rate']:>7.0f} {r['achieved']:>9.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} "
              f"{r['max']:>8.1f} {r['errors']:>7}  {verdict}")  # fmt: skip
    for r in rows:
        if r["rate"] == TARGET_RATE:
            parts = ", ".join(f"{e} p50 {p50:.1f} / p99 {p99:.1f} ms" for e, (p50, p99) in r["endpoints"].items())
            print(f"at {TARGET_RATE}/s per endpoint: {parts}")
    held = [r["rate"] for r in rows if r["p99"] <= TARGET_P99_MS and not r["errors"]]
    at_target = next((r for r in rows if r["rate"] == TARGET_RATE), None)
    target = "not measured"
    if at_target is not None:
        target = "holds" if at_target["p99"] <= TARGET_P99_MS and not at_target["errors"] else "MISSES"
    print(f"target p99 <= {TARGET_P99_MS:.0f} ms at {TARGET_RATE}/s: {target}; highest rate tried that holds it: "
          f"{max(held) if held else 'none'}/s")  # fmt: skip


def server_cpu_ms(server: Server, headers: dict, paths: list[str], n: int = 300) -> float:
    """The server process's CPU time per request (user + system), one request at a time."""
    import httpx

    def cpu() -> float:
        fields = Path(f"/proc/{server.proc.pid}/stat").read_text().split(")")[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
        before = cpu()
        for i in range(n):
            client.get(paths[i % len(paths)]).raise_for_status()
        return 1000 * (cpu() - before) / n


def scenario(label: str, cache_entries: int, paths: list[str], args, headers: dict) -> None:
    server = Server(cache_entries, args.workers)
    try:
        server.wait(headers)
        print(f"\n## {label}: {args.workers} uvicorn worker(s), {len(set(paths))} distinct requests")
        single = sequential(server.url, headers, DEFAULTS, 5)
        print("one at a time (median of 5): " + ", ".join(f"{p} {ms:.1f} ms" for p, ms in single.items()))
        for path in dict.fromkeys(paths):  # every request once: connections, statements, and the cache if on
            asyncio.run(load(server.url, headers, [path], 50, 0.02))
        print(f"server CPU per request: {server_cpu_ms(server, headers, paths):.2f} ms")
        rows = []
        for rate in [float(r) for r in args.rates.split(",")]:
            rows.append(asyncio.run(load(server.url, headers, paths, rate, args.seconds)))
            if rows[-1]["p99"] > 20 * TARGET_P99_MS:  # far behind: higher rates only queue more
                break
        print_rates(rows)
    finally:
        server.stop()


def bench_load(args, today: date) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    scenario("dashboard (defaults, response cache on)", 256, DEFAULTS, args, headers)
    scenario("varied (cache on, warmed)", 1024, request_mix(today), args, headers)
    scenario("no cache (every request computes)", 0, DEFAULTS, args, headers)


def bench_import(runs: int = 10) -> None:
    from sqlmodel import Session

    from finops.data import db, executions, rates
    from finops.data.access import Actor

    folder = Path(tempfile.mkdtemp(prefix="bench-exec-"))
    engine = db.make_engine(f"sqlite:///{folder / 'finops.db'}")
    db.init_db(engine)
    with Session(engine) as s:
        for kind, usd in (("cpu-small", "0.10"), ("gpu-a100", "3.67"), ("gpu-t4", "0.53")):
            rates.set_rate(session=s, actor=Actor("bench", True), compute_type=kind, usd_per_hour=usd,
                           effective_from=date(2020, 1, 1))  # fmt: skip
    header = "execution_id,workflow_id,workflow_name,user,started_at,ended_at,status,compute_type,compute_count\n"
    rng = random.Random(3)
    print(f"\n## executions import (SQLite, new store in {folder})")
    print(f"{'batch':>5} {'runs before':>12} {'seconds':>8} {'runs/s':>9}")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    path = folder / "runs.csv"
    for batch in range(runs + 1):
        again = batch == runs  # the last file is the first one again: every id already stored
        lines = []
        for i in range(10_000):
            start = t0 + timedelta(minutes=rng.randint(0, 500_000))
            end = start + timedelta(seconds=rng.randint(1, 20_000))
            kind = rng.choice(("cpu-small", "gpu-a100", "gpu-t4"))
            lines.append(f"run-{0 if again else batch}-{i},wf-{i % 40},Workflow {i % 40},user{i % 25},"
                         f"{start.isoformat()},{end.isoformat()},succeeded,{kind},{rng.randint(1, 8)}\n")  # fmt: skip
        path.write_text(header + "".join(lines))
        with Session(engine) as s:
            before = executions.version(session=s)
            started = time.perf_counter()
            stored = executions.import_csv(session=s, source=path)
            seconds = time.perf_counter() - started
        note = f"  (again: {len(stored.existing):,} already stored)" if again else ""
        print(f"{batch + 1:>5} {before:>12,} {seconds:>8.2f} {10_000 / seconds:>9,.0f}{note}")
    engine.dispose()
    print(f"target: 10,000 runs in <= {TARGET_IMPORT_S:.0f} s")


def main() -> None:
    try:  # the client's event loop: uvloop when installed (uvicorn uses it too), asyncio's own otherwise
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the API subprocess too (the finally clauses)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="bench_pages' small store (a quick smoke run)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached store")
    parser.add_argument("--seconds", type=float, default=10, help="seconds per rate (default 10)")
    parser.add_argument("--rates", default="50,100,200,300,400,600", help="requests per second to try, in order")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (FINOPS_API_WORKERS, default 1)")
    parser.add_argument("--no-import", action="store_true", help="skip the executions import")
    args = parser.parse_args()
    size = "small" if args.small else "large"
    print(f"# bench_api: {size} store, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    _, meta, built = bench_pages.open_store(size, args.fresh)
    origin = "built now" if built else "cached"
    print(f"store: {meta['rows']:,} daily cost rows, {meta['start']} .. {meta['end']} ({origin})")
    bench_load(args, datetime.now(UTC).date())
    if not args.no_import:
        bench_import()
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
