"""The demo organisation's workflow runs and rate card (same seed, same day -> the same runs and ids).

Runs follow a weekly rhythm: the workday pipelines run Monday to Friday and only a trickle at weekends, the
nightly ones every night, the weekly report on Mondays. GPU work (training, fine-tuning, inference) is a few
runs that cost most. The A100 rate drops 90 days before the end, so history keeps the old price.
"""

from datetime import UTC, date, datetime, time, timedelta

import numpy as np

GPU_PRICE_CUT_DAYS = 90

# (compute type, USD per unit-hour, gpu?)
RATES: list[tuple[str, str, bool]] = [
    ("cpu-small", "0.10", False),
    ("cpu-medium", "0.20", False),
    ("cpu-large", "0.40", False),
    ("cpu-xlarge", "0.80", False),
    ("memory-large", "0.52", False),
    ("gpu-t4", "0.53", True),
    ("gpu-a10g", "1.21", True),
    ("gpu-a100", "4.10", True),
]
A100_AFTER_CUT = "3.67"

# (workflow id, name, compute type, units, mean minutes, runs per workday, runs per weekend day, first hour, users)
WORKFLOWS: list[tuple[str, str, str, int, float, float, float, int, tuple[str, ...]]] = [
    ("wf-nightly-etl", "Nightly ETL", "cpu-large", 4, 55, 1, 1, 2, ("member",)),
    ("wf-invoice-export", "Invoice export", "cpu-small", 1, 6, 12, 0.5, 8, ("admin",)),
    ("wf-feature-build", "Feature pipeline", "cpu-xlarge", 2, 35, 8, 1, 7, ("member", "ana")),
    ("wf-data-quality", "Data quality checks", "cpu-small", 1, 4, 24, 6, 0, ("ana",)),
    ("wf-churn-train", "Churn model training", "gpu-a100", 1, 140, 2, 0, 9, ("member",)),
    ("wf-tone-finetune", "Support tone fine-tune", "gpu-a100", 4, 300, 0.25, 0, 10, ("ben",)),
    ("wf-embeddings", "Embeddings refresh", "gpu-a10g", 2, 45, 4, 0.5, 6, ("ben", "member")),
    ("wf-batch-inference", "Batch inference", "gpu-t4", 2, 25, 10, 3, 5, ("chen",)),
    ("wf-demand-automl", "Demand forecast AutoML", "memory-large", 8, 90, 1, 0, 12, ("chen", "admin")),
]
WEEKLY_REPORT = ("wf-weekly-report", "Weekly cost report", "cpu-medium", 1, 20.0, ("admin",))


def rate_card(start: date, end: date) -> list[dict]:
    """The demo rates, in force from `start`; the A100 gets cheaper GPU_PRICE_CUT_DAYS before `end`."""
    since = datetime.combine(start, time(), tzinfo=UTC)
    cut = datetime.combine(end - timedelta(days=GPU_PRICE_CUT_DAYS), time(), tzinfo=UTC)
    card = [{"compute_type": t, "usd_per_hour": usd, "gpu": gpu, "effective_from": since, "note": "demo"}
            for t, usd, gpu in RATES]  # fmt: skip
    if cut > since:  # a window shorter than the cut keeps the one price
        card.append({"compute_type": "gpu-a100", "usd_per_hour": A100_AFTER_CUT, "gpu": True, "effective_from": cut,
                     "note": "demo: price cut"})  # fmt: skip
    return card


def _status(rng) -> str:
    draw = rng.random()
    return "failed" if draw < 0.04 else "cancelled" if draw < 0.06 else "succeeded"


def _day_runs(seed: int, day: date) -> list[dict]:
    rng = np.random.default_rng([seed, day.toordinal()])  # per day: the same day always gets the same runs
    weekend = day.weekday() >= 5
    plan = [(w, rng.poisson(w[6] if weekend else w[5])) for w in WORKFLOWS]
    if day.weekday() == 0:
        wid, name, ctype, units, minutes, weekly_users = WEEKLY_REPORT
        plan.append(((wid, name, ctype, units, minutes, 1, 0, 7, weekly_users), 1))
    out = []
    for index, ((wid, name, ctype, units, minutes, _, _, hour, users), count) in enumerate(plan):
        for k in range(int(count)):
            start = datetime.combine(day, time(hour), tzinfo=UTC) + timedelta(minutes=float(rng.uniform(0, 600)))
            status = _status(rng)
            length = minutes * float(rng.lognormal(0, 0.3)) * (0.3 if status != "succeeded" else 1.0)
            out.append(
                {"execution_id": f"demo-{day:%Y%m%d}-{index:02d}-{k:03d}", "workflow_id": wid, "workflow_name": name,
                 "user": users[int(rng.integers(len(users)))], "started_at": start,
                 "ended_at": start + timedelta(seconds=round(length * 60)), "status": status, "compute_type": ctype,
                 "compute_count": units}
            )  # fmt: skip
    return out


def runs(seed: int, start: date, end: date) -> list[dict]:
    """Every demo run that started on a day in `[start, end]` (both included), in the executions' CSV fields."""
    days = (end - start).days + 1
    return [run for offset in range(max(days, 0)) for run in _day_runs(seed, start + timedelta(days=offset))]
