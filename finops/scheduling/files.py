"""Schedule files: JSON or YAML holding one schedule or a list, in our format (finops.scheduling.specs) or as AWS
Instance Scheduler (ISch) configuration, so an ISch setup can be brought across.

ISch items are recognised by `type: period` / `type: schedule` (its configuration table and scheduler-cli), or by
CloudFormation's `Custom::ServiceInstanceSchedule` properties (`Name`, `Timezone`, `Periods: [{BeginTime, ...}]`).
Field names are case-insensitive there. A schedule names its periods (`office@t3.large`: the instance type is
ignored); ISch options without a meaning here are listed in ISCH_IGNORED and dropped; ISch targets are tags, so
an imported ISch schedule has no targets until someone adds them.
"""

from finops import documents
from finops.scheduling.specs import SpecError

ISCH_PERIOD_KEYS = {"begintime": "begin", "endtime": "end", "weekdays": "weekdays", "monthdays": "monthdays",
                    "months": "months"}  # fmt: skip
ISCH_IGNORED = {
    "description", "type", "hibernate", "stop_new_instances", "use_metrics", "use_maintenance_window",
    "ssm_maintenance_window", "configured_in_stack", "instancetype", "override_status",
}  # fmt: skip


def read(data: bytes, name: str = "file") -> list[dict]:
    """The schedules a file holds, in our format (not yet checked: see specs.check_spec)."""
    try:
        found = documents.items(documents.load(data, name), "schedules")
    except documents.DocumentError as exc:
        raise SpecError(str(exc)) from None
    if not all(isinstance(i, dict) for i in found):
        raise SpecError(f"{name}: must hold a schedule (an object) or a list of them")
    if any(_is_isch(i) for i in found):
        return _from_isch(found)
    return found


def _lower(item: dict) -> dict:
    return {str(k).lower(): v for k, v in item.items()}


def _is_isch(item: dict) -> bool:
    keys = {str(k).lower() for k in item}
    return (
        str(item.get("type", "")).lower() in ("period", "schedule")
        or "properties" in keys
        or ("periods" in keys and any(str(k)[:1].isupper() for k in item))
    )


def _isch_period(item: dict, where: str) -> dict:
    out = {}
    for key, value in _lower(item).items():
        if key in ISCH_PERIOD_KEYS:
            out[ISCH_PERIOD_KEYS[key]] = ",".join(value) if isinstance(value, list) else value
        elif key not in ISCH_IGNORED | {"name"}:
            raise SpecError(f"{where}.{key}: not an Instance Scheduler period field")
    return out


def _isch_schedule(item: dict, periods: dict[str, dict], where: str) -> dict:
    item = _lower(item.get("Properties", item.get("properties", item)))
    out: dict = {"name": item.get("name"), "timezone": item.get("timezone") or "UTC", "periods": []}
    if item.get("description"):
        out["description"] = item["description"]
    for i, period in enumerate(item.get("periods") or []):
        if isinstance(period, dict):  # CloudFormation: the period itself
            out["periods"].append(_isch_period(period, f"{where}.periods[{i}]"))
        else:
            ref = str(period).split("@", 1)[0].strip()
            if ref not in periods:
                raise SpecError(f"{where}.periods[{i}]: no Instance Scheduler period named {ref!r} in the file")
            out["periods"].append(periods[ref])
    options = (("enforced", "enforced"), ("retain_running", "retain_running"), ("retainrunning", "retain_running"))
    for key, ours in options:
        if key in item:
            out[ours] = item[key]
    unknown = set(item) - {"name", "timezone", "periods", "enforced", "retain_running", "retainrunning"} - ISCH_IGNORED
    if unknown:
        raise SpecError(f"{where}.{sorted(unknown)[0]}: not an Instance Scheduler schedule field")
    return out


def _from_isch(items: list[dict]) -> list[dict]:
    periods = {}
    for i, item in enumerate(items):
        if str(_lower(item).get("type", "")).lower() == "period":
            name = str(_lower(item).get("name") or "").strip()
            if not name:
                raise SpecError(f"[{i}].name: an Instance Scheduler period needs a name")
            periods[name] = _isch_period(item, f"[{i}]")
    return [
        _isch_schedule(item, periods, f"[{i}]")
        for i, item in enumerate(items)
        if str(_lower(item).get("type", "schedule")).lower() == "schedule"
    ]


def write(specs: list[dict], fmt: str = "yaml") -> str:
    """Schedules (in the file format) as YAML or JSON text."""
    return documents.dump(specs, fmt)
