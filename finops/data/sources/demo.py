"""A deterministic synthetic organisation on AWS: the embedded default source and the benchmarks' data.

Same seed, same end day -> the same rows. Costs follow per-account growth, weekly seasonality (non-production
accounts idle at weekends), log-normal noise, monthly reserved-instance fees (unblended on the 1st, amortized
over the month) and the injected anomalies listed by `anomalies()`.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from finops.costs import month_start
from finops.data.sources import CONTRACT_COLUMNS

SOURCE = "demo"
PROVIDER = "demo"

# (service, relative daily weight); names are Cost Explorer's SERVICE dimension values
SERVICES: list[tuple[str, float]] = [
    ("Amazon Elastic Compute Cloud - Compute", 30.0),
    ("EC2 - Other", 6.0),
    ("Amazon Relational Database Service", 12.0),
    ("Amazon Simple Storage Service", 7.0),
    ("Amazon Redshift", 5.0),
    ("Amazon Elastic Kubernetes Service", 2.5),
    ("Amazon Elastic Container Service", 3.0),
    ("Amazon ElastiCache", 3.0),
    ("Amazon CloudFront", 3.0),
    ("Amazon OpenSearch Service", 3.0),
    ("Amazon DynamoDB", 2.5),
    ("Elastic Load Balancing", 2.0),
    ("Amazon CloudWatch", 1.8),
    ("AWS Lambda", 1.5),
    ("Amazon Virtual Private Cloud", 1.5),
    ("AWS Glue", 1.2),
    ("Amazon Kinesis", 1.0),
    ("Amazon Athena", 0.8),
    ("Amazon Elastic File System", 0.7),
    ("Amazon GuardDuty", 0.5),
    ("Amazon Simple Queue Service", 0.4),
    ("AWS Config", 0.4),
    ("AWS Key Management Service", 0.3),
    ("Amazon Route 53", 0.3),
    ("AWS Secrets Manager", 0.2),
    ("Amazon Simple Notification Service", 0.2),
    ("AWS CloudTrail", 0.2),
]
SUPPORT = "AWS Support (Business)"
NEW_SERVICE = "Amazon SageMaker"
RI_SERVICE = "Amazon Elastic Compute Cloud - Compute"

# (account_id, account_name, region, production?, scale)
ACCOUNTS: list[tuple[str, str, str, bool, float]] = [
    ("111111111111", "prod-core", "us-east-1", True, 1.0),
    ("222222222222", "prod-data", "us-east-1", True, 0.7),
    ("333333333333", "staging", "eu-west-1", False, 0.3),
    ("444444444444", "dev", "eu-west-1", False, 0.25),
    ("555555555555", "ml-sandbox", "us-west-2", False, 0.1),
]
DOLLARS_PER_WEIGHT = 12.0


@dataclass(frozen=True)
class Anomaly:
    """An anomaly the generator injects, for tests and detection benchmarks."""

    kind: str  # spike | level_shift | new_service
    account_id: str
    service: str
    start: date
    end: date | None  # None: lasts to the end of the data
    factor: float


def anomalies(end: date) -> list[Anomaly]:
    """The anomalies injected into the demo organisation whose data ends on `end`."""
    return [
        Anomaly("spike", "111111111111", "AWS Lambda", end - timedelta(days=45), end - timedelta(days=45), 8.0),
        Anomaly(
            "level_shift", "222222222222", "Amazon Relational Database Service", end - timedelta(days=100), None, 1.6
        ),
        Anomaly("new_service", "555555555555", NEW_SERVICE, end - timedelta(days=20), None, 450.0),
    ]


def default_end() -> date:
    """Yesterday (UTC), the last complete day a provider can report."""
    return pd.Timestamp.now(tz="UTC").date() - timedelta(days=1)


def default_start(end: date, months: int = 15) -> date:
    """The first day of the month `months` whole months before `end`'s month."""
    first = pd.Timestamp(end).to_period("M") - months
    return first.to_timestamp().date()


def _service_list(n: int) -> list[tuple[str, float]]:
    extra = [(f"AWS Service {i:03d}", 0.2 + (i % 7) * 0.1) for i in range(len(SERVICES), n)]
    return (SERVICES + extra)[:n]


def _account_list(n: int) -> list[tuple[str, str, str, bool, float]]:
    regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]
    extra = [
        (f"{600000000000 + i:012d}", f"team-{i:03d}", regions[i % 5], i % 3 == 0, 0.05 + (i % 10) * 0.04)
        for i in range(len(ACCOUNTS), n)
    ]
    return (ACCOUNTS + extra)[:n]


def generate(
    seed: int = 42,
    end: date | None = None,
    start: date | None = None,
    n_accounts: int = len(ACCOUNTS),
    n_services: int = len(SERVICES),
    density: float = 0.85,
    with_anomalies: bool = True,
) -> pd.DataFrame:
    """Daily rows of the cost contract for the demo organisation over `[start, end]` (both included)."""
    end = end or default_end()
    start = start or default_start(end)
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, end, freq="D")
    t = np.arange(len(days), dtype="float64")
    weekend = np.asarray(days.day_of_week >= 5)
    accounts = _account_list(n_accounts)
    services = _service_list(n_services)

    # which account runs which service: core services everywhere, the rest by chance
    active = rng.random((len(accounts), len(services))) < density
    active[:, :4] = True
    pairs = np.argwhere(active)
    acc_idx, svc_idx = pairs[:, 0], pairs[:, 1]
    scale = np.array([a[4] for a in accounts])[acc_idx]
    weight = np.array([s[1] for s in services])[svc_idx]
    production = np.array([a[3] for a in accounts])[acc_idx]

    base = DOLLARS_PER_WEIGHT * weight * scale * rng.lognormal(0.0, 0.35, len(pairs))
    growth = rng.uniform(0.005, 0.035, len(accounts))[acc_idx]  # monthly growth per account
    trend = (1.0 + growth[:, None]) ** (t[None, :] / 30.0)
    weekly = np.where(weekend[None, :], np.where(production, 0.92, 0.45)[:, None], 1.0)
    noise = rng.lognormal(0.0, 0.08, (len(pairs), len(days)))
    unblended = base[:, None] * trend * weekly * noise

    # reserved instances on production EC2: a monthly fee billed on the 1st, amortized over the month
    amortized = unblended.copy()
    ri = production & (np.array([s[0] for s in services])[svc_idx] == RI_SERVICE)
    fee = 6.0 * base[ri]
    first = np.asarray(days.day == 1)
    unblended[np.ix_(ri, first)] += fee[:, None]
    amortized[ri] += fee[:, None] / np.asarray(days.days_in_month)[None, :]

    frame = _frame(days, accounts, services, acc_idx, svc_idx, unblended, amortized)
    frame = pd.concat([frame, _support(days, accounts)], ignore_index=True)
    if with_anomalies:
        frame = _inject(frame, anomalies(end), rng, accounts, days)
    frame["unblended_cost"] = frame["unblended_cost"].round(6)
    frame["amortized_cost"] = frame["amortized_cost"].round(6)
    open_month = month_start(pd.Timestamp.now(tz="UTC").date())
    frame["estimated"] = frame["day"] >= open_month
    return frame[CONTRACT_COLUMNS].sort_values(["day", "account_id", "service"], ignore_index=True)


def _frame(days, accounts, services, acc_idx, svc_idx, unblended, amortized) -> pd.DataFrame:
    n_days = len(days)
    acc = np.repeat(acc_idx, n_days)
    svc = np.repeat(svc_idx, n_days)
    return pd.DataFrame(
        {
            "day": np.tile(days.date, len(acc_idx)),
            "provider": PROVIDER,
            "account_id": pd.Categorical.from_codes(acc, [a[0] for a in accounts]),
            "account_name": pd.Categorical.from_codes(acc, [a[1] for a in accounts]),
            "service": pd.Categorical.from_codes(svc, [s[0] for s in services]),
            "region": np.array([a[2] for a in accounts])[acc],
            "unblended_cost": unblended.ravel(),
            "amortized_cost": amortized.ravel(),
            "currency": "USD",
        }
    )


def _support(days, accounts) -> pd.DataFrame:
    """Business support: billed to the first (payer) account on the 1st of each month."""
    firsts = days[days.day == 1]
    payer = accounts[0]
    return pd.DataFrame(
        {
            "day": firsts.date,
            "provider": PROVIDER,
            "account_id": payer[0],
            "account_name": payer[1],
            "service": SUPPORT,
            "region": "",
            "unblended_cost": 1500.0 + 10.0 * np.arange(len(firsts)),
            "amortized_cost": 1500.0 + 10.0 * np.arange(len(firsts)),
            "currency": "USD",
        }
    )


def _inject(frame: pd.DataFrame, events: list[Anomaly], rng, accounts, days) -> pd.DataFrame:
    names = {a[0]: (a[1], a[2]) for a in accounts}
    for ev in events:
        if ev.account_id not in names:
            continue
        if ev.kind == "new_service":
            burst = days[days.date >= ev.start]
            ramp = ev.factor * np.minimum(1.0, (np.arange(len(burst)) + 1) / 4.0) * rng.lognormal(0, 0.1, len(burst))
            name, region = names[ev.account_id]
            extra = pd.DataFrame(
                {
                    "day": burst.date,
                    "provider": PROVIDER,
                    "account_id": ev.account_id,
                    "account_name": name,
                    "service": ev.service,
                    "region": region,
                    "unblended_cost": ramp,
                    "amortized_cost": ramp,
                    "currency": "USD",
                }
            )
            frame = pd.concat([frame, extra], ignore_index=True)
            continue
        last = ev.end or days[-1].date()
        hit = (
            (frame["account_id"] == ev.account_id)
            & (frame["service"] == ev.service)
            & (frame["day"] >= ev.start)
            & (frame["day"] <= last)
        ).to_numpy()
        frame.loc[hit, ["unblended_cost", "amortized_cost"]] *= ev.factor
    return frame


# (type, name, owner, hourly cost in USD): the demo organisation's platform resources
_RESOURCES = [
    ("app", "Checkout web", "member", 0.42),
    ("app", "Search API", "member", 0.85),
    ("app", "Support chatbot", "admin", 0.31),
    ("workflow", "Nightly ETL", "member", 1.20),
    ("workflow", "Invoice export", "admin", 0.18),
    ("addon", "Vector store", "member", 0.65),
    ("addon", "Redis cache", "admin", 0.27),
    ("workspace", "Data science", "member", 2.40),
    ("workspace", "Analytics sandbox", "admin", 1.10),
    ("project", "Churn model", "member", 0.55),
    ("project", "Pricing study", "admin", 0.35),
    ("fine_tuning", "Support tone fine-tune", "member", 6.50),
    ("self_hosted_model", "Llama 3 8B (GPU)", "member", 3.06),
    ("self_hosted_model", "Embeddings server", "admin", 0.76),
    ("ml_model", "Fraud scorer", "admin", 0.48),
    ("ml_model", "Recommendation ranker", "member", 0.92),
    ("automl", "Demand forecast AutoML", "member", 1.75),
    ("automl", "Lead scoring AutoML", "admin", 0.88),
]


def resources(seed: int = 42) -> list[dict]:
    """The demo organisation's platform resources (same seed, same list): type, id, name, owner, state, cost."""
    rng = np.random.default_rng(seed)
    out = []
    for i, (kind, name, owner, hourly) in enumerate(_RESOURCES):
        out.append(
            {
                "resource_type": kind,
                "resource_id": f"demo-{kind.replace('_', '-')}-{i + 1:02d}",
                "name": name,
                "owner": owner,
                "state": "stopped" if rng.random() < 0.2 else "running",
                "hourly_cost": hourly,
                "tags": {
                    "env": ("dev", "staging", "prod")[i % 3],
                    "team": "ml" if "model" in kind or kind == "fine_tuning" else "product",
                },
            }
        )
    return out


# (name, owner, what it collects): the demo organisation's resource groups, by team and by environment, over
# the resources each owner owns (a member may group only their own resources)
_GROUPS = [
    ("Product team", "member", "team", "product"),
    ("ML team", "member", "team", "ml"),
    ("Development", "member", "env", "dev"),
    ("Production", "admin", "env", "prod"),
    ("Staging", "admin", "env", "staging"),
]


def groups(seed: int = 42) -> list[dict]:
    """The demo organisation's resource groups: name, owner, description and the (type, id) of their resources,
    chosen by tag from `resources(seed)` among those the owner owns."""
    items = resources(seed)
    out = []
    for name, owner, tag, value in _GROUPS:
        chosen = [
            (r["resource_type"], r["resource_id"]) for r in items if r["owner"] == owner and r["tags"][tag] == value
        ]
        out.append({"name": name, "owner": owner, "description": f"{owner}'s resources tagged {tag}={value}",
                    "resources": chosen})  # fmt: skip
    return out


def schedules() -> list[dict]:
    """The demo organisation's schedules (the file format): the development environment runs in office hours."""
    return [{"name": "Development office hours", "owner": "member", "timezone": "Europe/Berlin",
             "description": "Development runs on weekdays 08:00-20:00 Berlin time",
             "periods": [{"begin": "08:00", "end": "20:00", "weekdays": "mon-fri"}],
             "holidays": {"country": "DE"}, "targets": [{"group": "Development"}]}]  # fmt: skip


def budgets(seed: int = 42) -> list[dict]:
    """The demo organisation's budgets (the file format): each team's group a month at about what it costs running
    all month, and the platform at the average of the last three months (an admin's)."""
    costs = {r["resource_id"]: float(r["hourly_cost"] or 0) for r in resources(seed)}
    monthly = {g["name"]: sum(costs.get(i, 0.0) for _, i in g["resources"]) * 730 for g in groups(seed)}
    team = [{"at": 80, "on": "actual", "channels": ["inbox"]}, {"at": 100, "on": "forecast", "channels": ["inbox"]}]
    return [
        {"name": "Product team monthly", "owner": "member", "scope": {"kind": "group", "group": "Product team"},
         "amount": max(100, round(monthly["Product team"] * 1.1, -2)), "thresholds": team},
        {"name": "ML team monthly", "owner": "member", "scope": {"kind": "group", "group": "ML team"},
         "amount": max(100, round(monthly["ML team"] * 0.9, -2)),
         "thresholds": [*team, {"at": 120, "on": "forecast", "action": "stop", "approval": "manual"}]},
        {"name": "Platform monthly", "owner": "admin", "scope": "platform", "auto": {"basis": "average", "periods": 3},
         "thresholds": [{"at": 90, "on": "forecast"}, {"at": 100, "on": "actual"}]},
    ]  # fmt: skip
