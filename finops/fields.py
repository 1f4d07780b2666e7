"""Checks of fields people write (forms, JSON and YAML files), shared by the schedule and budget languages.

Each raises the caller's error class with a message that starts with the field's name (`thresholds[1].at: ...`).
"""

import math


def unknown(given: dict, allowed: set[str], where: str, error: type[ValueError]) -> None:
    """Refuse a field that is not in `allowed`, so a typo never passes silently."""
    extra = sorted(set(given) - allowed, key=str)
    if extra:
        raise error(f"{where}{extra[0]}: unknown field (allowed: {', '.join(sorted(allowed))})")


def text(value, where: str, limit: int, error: type[ValueError], required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise error(f"{where}: must be text")
    out = str(value).strip()
    if required and not out:
        raise error(f"{where}: is required")
    if len(out) > limit:
        raise error(f"{where}: must be at most {limit} characters (it has {len(out)})")
    return out


def flag(value, where: str, error: type[ValueError], default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0", ""):
        return value.strip().lower() in ("true", "yes", "1")
    raise error(f"{where}: must be true or false")


def number(value, where: str, error: type[ValueError], low: float, high: float, low_open: bool = True) -> float:
    """A finite number in (low, high] (or [low, high] when not `low_open`); text such as "1,200.50" is read."""
    shown = repr(value)
    if isinstance(value, str):
        value = value.strip().replace(",", "").removeprefix("$")
    try:
        out = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        out = math.nan
    if not math.isfinite(out):
        raise error(f"{where}: must be a number (got {shown})")
    if out < low or (low_open and out == low) or out > high:
        bound = "greater than" if low_open else "at least"
        raise error(f"{where}: must be {bound} {low:g} and at most {high:,.0f} (got {out:g})")
    return out


def choice(value, where: str, allowed: tuple[str, ...], error: type[ValueError], default: str | None = None) -> str:
    out = str(value).strip().lower() if value not in (None, "") else default
    if out not in allowed:
        raise error(f"{where}: must be one of {', '.join(allowed)} (got {value!r})")
    return out


def text_list(value, where: str, limit: int, error: type[ValueError], item_limit: int = 256) -> tuple[str, ...]:
    """A list of distinct non-empty texts (a comma-separated text is split), in the given order."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [part for part in value.split(",")]
    if not isinstance(value, list | tuple):
        raise error(f"{where}: must be a list")
    out: list[str] = []
    for i, item in enumerate(value):
        one = text(item, f"{where}[{i}]", item_limit, error, required=True)
        if one not in out:
            out.append(one)
    if len(out) > limit:
        raise error(f"{where}: at most {limit} items (it has {len(out)})")
    return tuple(out)
