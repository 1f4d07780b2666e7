"""A budget as people write it (the form, a JSON or YAML file): checked field by field into a BudgetSpec.

Every refusal is a BudgetSpecError whose message starts with the field it is about (`thresholds[1].at: ...`);
unknown fields are refused, so a typo never passes silently. Whether a user, group, schedule or channel exists is
the store's question (`finops.data.budgets`); here only their spelling is checked.

File format (one budget, a list, or `{budgets: [...]}`):

    name: web-team
    owner: alice                      # optional: the person importing it
    scope: {kind: group, group: web}  # {kind: user, user: bob}; {kind: platform, accounts: [...], services: [...]}
    period: monthly                   # monthly | quarterly | annual
    amount: 1200                      # or auto: {basis: average, periods: 3} | auto: {basis: forecast}
    metric: unblended                 # unblended | amortized
    thresholds:
      - {at: 80, kind: percent, on: actual, channels: [inbox, email:lead@example.com]}
      - {at: 100, kind: percent, on: forecast, channels: [ops-slack], action: stop, approval: manual}
"""

import re
from dataclasses import dataclass, field

from finops import documents, fields
from finops.budgeting.periods import PERIODS

SCOPES = ("platform", "user", "group")
METRICS = ("unblended", "amortized")
BASES = ("average", "forecast")
KINDS = ("percent", "absolute")
ONS = ("actual", "forecast")
ACTIONS = ("notify", "schedule", "stop")
APPROVALS = ("manual", "automatic")
INBOX = "inbox"
EMAIL_PREFIX = "email:"
MAX_THRESHOLDS, MAX_PERCENT, MAX_AMOUNT, MAX_CHANNELS, MAX_AUTO_PERIODS = 10, 1000.0, 1e12, 10, 12
MAX_NAME, MAX_DESCRIPTION, MAX_FILTER = 100, 1000, 200
FIELDS = {"name", "description", "owner", "scope", "period", "amount", "auto", "metric", "thresholds", "active"}
SCOPE_FIELDS = {"kind", "user", "group", "accounts", "services", "platform"}
AUTO_FIELDS = {"basis", "periods"}
THRESHOLD_FIELDS = {"at", "kind", "on", "channels", "action", "approval", "schedule"}
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class BudgetSpecError(ValueError):
    """A budget was refused; the message names the field and what is allowed."""


@dataclass(frozen=True)
class ThresholdSpec:
    at: float
    kind: str = "percent"  # percent of the amount | absolute (currency)
    on: str = "actual"  # actual | forecast spend
    channels: tuple[str, ...] = ()  # the inbox always gets the alert; these are on top of it
    action: str = "notify"  # notify | schedule | stop
    approval: str = "manual"  # manual | automatic
    schedule: str = ""  # the schedule a `schedule` action attaches (by name)

    def limit(self, amount: float) -> float:
        """The spend that crosses this threshold for a budget of `amount`."""
        return amount * self.at / 100 if self.kind == "percent" else self.at

    def label(self) -> str:
        at = f"{self.at:g} %" if self.kind == "percent" else f"${self.at:,.2f}"
        return f"{at} of {self.on}" + ("" if self.action == "notify" else f", {self.action}")


@dataclass(frozen=True)
class BudgetSpec:
    name: str
    scope: str = "platform"
    scope_user: str = ""
    scope_group: str = ""  # a group's name, or its id as text
    accounts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    period: str = "monthly"
    amount: float | None = None  # None: automatic (auto_basis)
    auto_basis: str = ""  # average | forecast, when amount is None
    auto_periods: int = 3
    metric: str = "unblended"
    thresholds: tuple[ThresholdSpec, ...] = field(default_factory=tuple)
    owner: str = ""  # "" = the person saving it
    description: str = ""
    active: bool = True

    def channels(self) -> set[str]:
        return {c for t in self.thresholds for c in t.channels}


def _text(value, where: str, limit: int, required: bool = False) -> str:
    return fields.text(value, where, limit, BudgetSpecError, required)


def check_channel(name: str, where: str, known: set[str] | None) -> str:
    """`inbox`, `email:ADDRESS` or a channel defined in settings (`known`; None: not checked here)."""
    if name.lower() == INBOX:
        return INBOX
    if name.lower().startswith(EMAIL_PREFIX):
        address = name[len(EMAIL_PREFIX) :].strip()
        if not EMAIL.match(address):
            raise BudgetSpecError(f"{where}: {address!r} is not an email address such as lead@example.com")
        return EMAIL_PREFIX + address
    if known is not None and name not in known:
        defined = ", ".join(sorted(known)) or "none is defined (FINOPS_CHANNELS)"
        raise BudgetSpecError(f"{where}: unknown channel {name!r} (inbox, email:ADDRESS or one of: {defined})")
    return name


def check_threshold(raw, where: str, known_channels: set[str] | None = None) -> ThresholdSpec:
    if isinstance(raw, int | float | str) and not isinstance(raw, bool):
        raw = {"at": raw}
    if not isinstance(raw, dict):
        raise BudgetSpecError(f"{where}: must be an object with at, kind, on, channels, action, approval")
    raw = {("on" if key is True else key): value for key, value in raw.items()}  # YAML 1.1 reads the key `on` as true
    fields.unknown(raw, THRESHOLD_FIELDS, f"{where}.", BudgetSpecError)
    kind = fields.choice(raw.get("kind"), f"{where}.kind", KINDS, BudgetSpecError, "percent")
    high = MAX_PERCENT if kind == "percent" else MAX_AMOUNT
    at = fields.number(raw.get("at"), f"{where}.at", BudgetSpecError, 0.0, high)
    channels = fields.text_list(raw.get("channels"), f"{where}.channels", MAX_CHANNELS, BudgetSpecError, 320)
    channels = tuple(dict.fromkeys(check_channel(c, f"{where}.channels[{i}]", known_channels)
                                   for i, c in enumerate(channels)))  # fmt: skip
    action = fields.choice(raw.get("action"), f"{where}.action", ACTIONS, BudgetSpecError, "notify")
    schedule = _text(raw.get("schedule"), f"{where}.schedule", 100)
    if action == "schedule" and not schedule:
        raise BudgetSpecError(f"{where}.schedule: a schedule action names the schedule to attach")
    if action != "schedule" and schedule:
        raise BudgetSpecError(f"{where}.schedule: only a schedule action names a schedule (action is {action})")
    return ThresholdSpec(
        at=at, kind=kind, on=fields.choice(raw.get("on"), f"{where}.on", ONS, BudgetSpecError, "actual"),
        channels=channels, action=action, schedule=schedule,
        approval=fields.choice(raw.get("approval"), f"{where}.approval", APPROVALS, BudgetSpecError, "manual"),
    )  # fmt: skip


def _scope(raw, where: str) -> dict:
    if isinstance(raw, str):
        raw = {"kind": raw}
    if raw is None:
        raw = {"kind": "platform"}
    if not isinstance(raw, dict):
        raise BudgetSpecError(
            f"{where}scope: must be platform, {{kind: user, user: NAME}} or {{kind: group, group: NAME}}"
        )
    fields.unknown(raw, SCOPE_FIELDS, f"{where}scope.", BudgetSpecError)
    kind = raw.get("kind")
    if kind in (None, ""):  # the short forms {user: bob}, {group: web}, {platform: true, accounts: [...]}
        kind = "user" if raw.get("user") else "group" if raw.get("group") else "platform"
    kind = fields.choice(kind, f"{where}scope.kind", SCOPES, BudgetSpecError)
    user = _text(raw.get("user"), f"{where}scope.user", 64)
    group = _text(raw.get("group"), f"{where}scope.group", 100)
    accounts = fields.text_list(raw.get("accounts"), f"{where}scope.accounts", MAX_FILTER, BudgetSpecError, 64)
    services = fields.text_list(raw.get("services"), f"{where}scope.services", MAX_FILTER, BudgetSpecError)
    if kind == "user" and not user:
        raise BudgetSpecError(f"{where}scope.user: a user budget names the user")
    if kind == "group" and not group:
        raise BudgetSpecError(f"{where}scope.group: a group budget names the group")
    if kind != "user" and user:
        raise BudgetSpecError(f"{where}scope.user: only a user budget names a user (the scope is {kind})")
    if kind != "group" and group:
        raise BudgetSpecError(f"{where}scope.group: only a group budget names a group (the scope is {kind})")
    if kind != "platform" and (accounts or services):
        raise BudgetSpecError(f"{where}scope.accounts: only a platform budget is narrowed to accounts and services")
    return {"scope": kind, "scope_user": user, "scope_group": group, "accounts": accounts, "services": services}


def _amount(raw: dict, where: str) -> dict:
    amount, auto = raw.get("amount"), raw.get("auto")
    if amount not in (None, "") and auto not in (None, "", {}):
        raise BudgetSpecError(f"{where}amount: give either amount or auto, not both")
    if auto in (None, "", {}):
        if amount in (None, ""):
            raise BudgetSpecError(f"{where}amount: is required (a number greater than 0, or auto: {{basis: average}})")
        return {"amount": fields.number(amount, f"{where}amount", BudgetSpecError, 0.0, MAX_AMOUNT)}
    if isinstance(auto, str):
        auto = {"basis": auto}
    if not isinstance(auto, dict):
        raise BudgetSpecError(f"{where}auto: must be {{basis: average, periods: N}} or {{basis: forecast}}")
    fields.unknown(auto, AUTO_FIELDS, f"{where}auto.", BudgetSpecError)
    basis = fields.choice(auto.get("basis"), f"{where}auto.basis", BASES, BudgetSpecError)
    periods = auto.get("periods")
    n = (
        3
        if periods in (None, "")
        else fields.number(periods, f"{where}auto.periods", BudgetSpecError, 1, MAX_AUTO_PERIODS, False)
    )
    if n != int(n):
        raise BudgetSpecError(f"{where}auto.periods: must be a whole number of periods (got {n:g})")
    return {"amount": None, "auto_basis": basis, "auto_periods": int(n)}


def check_spec(raw, where: str = "", known_channels: set[str] | None = None) -> BudgetSpec:
    """The checked budget; BudgetSpecError (the field first) for the first problem found."""
    if not isinstance(raw, dict):
        raise BudgetSpecError(f"{where or 'budget'}: must be an object")
    fields.unknown(raw, FIELDS, where, BudgetSpecError)
    thresholds = raw.get("thresholds") or []
    if not isinstance(thresholds, list):
        raise BudgetSpecError(f"{where}thresholds: must be a list")
    if len(thresholds) > MAX_THRESHOLDS:
        raise BudgetSpecError(f"{where}thresholds: at most {MAX_THRESHOLDS} per budget (it has {len(thresholds)})")
    checked = tuple(check_threshold(t, f"{where}thresholds[{i}]", known_channels) for i, t in enumerate(thresholds))
    seen = set()
    for i, t in enumerate(checked):
        key = (t.at, t.kind, t.on)
        if key in seen:
            raise BudgetSpecError(f"{where}thresholds[{i}]: the same threshold ({t.label()}) is given twice")
        seen.add(key)
    return BudgetSpec(
        name=_text(raw.get("name"), f"{where}name", MAX_NAME, required=True),
        description=_text(raw.get("description"), f"{where}description", MAX_DESCRIPTION),
        owner=_text(raw.get("owner"), f"{where}owner", 64),
        period=fields.choice(raw.get("period"), f"{where}period", PERIODS, BudgetSpecError, "monthly"),
        metric=fields.choice(
            str(raw.get("metric") or "").removesuffix("_cost") or None,
            f"{where}metric",
            METRICS,
            BudgetSpecError,
            "unblended",
        ),  # fmt: skip
        thresholds=checked,
        active=fields.flag(raw.get("active"), f"{where}active", BudgetSpecError, default=True),
        **_scope(raw.get("scope"), where),
        **_amount(raw, where),
    )


def read(data: bytes, name: str = "file") -> list[dict]:
    """The budgets a JSON or YAML file holds (not yet checked: see check_spec)."""
    try:
        found = documents.items(documents.load(data, name), "budgets")
    except documents.DocumentError as exc:
        raise BudgetSpecError(str(exc)) from None
    if not found or not all(isinstance(i, dict) for i in found):
        raise BudgetSpecError(f"{name}: must hold a budget (an object) or a list of them")
    return found


def to_dict(spec: BudgetSpec) -> dict:
    """The spec in the file format (the inverse of check_spec; empty fields left out)."""
    out: dict = {"name": spec.name}
    if spec.owner:
        out["owner"] = spec.owner
    if spec.description:
        out["description"] = spec.description
    scope: dict = {"kind": spec.scope}
    if spec.scope_user:
        scope["user"] = spec.scope_user
    if spec.scope_group:
        scope["group"] = spec.scope_group
    if spec.accounts:
        scope["accounts"] = list(spec.accounts)
    if spec.services:
        scope["services"] = list(spec.services)
    out["scope"], out["period"] = scope, spec.period
    if spec.amount is not None:
        out["amount"] = spec.amount
    else:
        out["auto"] = {
            "basis": spec.auto_basis,
            **({"periods": spec.auto_periods} if spec.auto_basis == "average" else {}),
        }
    out["metric"] = spec.metric
    out["thresholds"] = [_threshold_dict(t) for t in spec.thresholds]
    if not spec.active:
        out["active"] = False
    return out


def _threshold_dict(t: ThresholdSpec) -> dict:
    out: dict = {"at": t.at, "kind": t.kind, "on": t.on, "channels": list(t.channels), "action": t.action}
    if t.action != "notify":
        out["approval"] = t.approval
    if t.schedule:
        out["schedule"] = t.schedule
    return out
