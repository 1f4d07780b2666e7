"""Resource fields: the known types, the checks every resource passes, and reading an inventory CSV (pure:
no store). `finops.data.resources` stores what passes."""

import csv
import io
import json
import math
from functools import lru_cache

PLATFORM_TYPES = (
    "app",
    "workflow",
    "addon",
    "workspace",
    "project",
    "fine_tuning",
    "self_hosted_model",
    "ml_model",
    "automl",
)
AWS_TYPES = ("ec2_instance", "rds_instance", "asg", "ecs_service")
RESOURCE_TYPES = PLATFORM_TYPES + AWS_TYPES
SOURCES = ("platform", "aws")

REQUIRED_COLUMNS = ("resource_type", "resource_id", "name")
OPTIONAL_COLUMNS = ("owner", "state", "hourly_cost", "tags", "account_id", "region")
COLUMNS = ["resource_type", "resource_id", "name", "owner", "state", "hourly_cost", "tags", "account_id", "region"]
MAX_LEN = {"resource_id": 256, "name": 256, "owner": 64, "state": 32, "account_id": 64, "region": 64}


class ResourceError(ValueError):
    """A resource was refused; the message says why."""


class ResourceImportError(ResourceError):
    """A CSV import was refused (nothing was imported); names the line and the column."""

    def __init__(self, message: str, line: int | None = None, column: str | None = None, row: int | None = None):
        super().__init__(message)
        self.line, self.column, self.row = line, column, row


def check_type(resource_type: str) -> str:
    if resource_type not in RESOURCE_TYPES:
        raise ResourceError(f"unknown resource type {resource_type!r} (known: {', '.join(RESOURCE_TYPES)})")
    return resource_type


def fail(column: str, message: str):
    err = ResourceError(f"{column}: {message}")
    err.column = column
    raise err


@lru_cache(maxsize=4096)
def canonical_tags(text: str) -> str:
    """A tags cell as canonical JSON (keys sorted); cached, because inventories repeat the same few tag sets."""
    try:
        tag_map = json.loads(text)
    except ValueError:
        tag_map = None
    if not isinstance(tag_map, dict):
        fail("tags", 'must be a JSON object such as {"team": "ml"}')
    return json.dumps(tag_map, sort_keys=True)


def clean(
    resource_type: str, resource_id: str, name: str, owner: str, state: str, hourly_cost, tags, account_id, region
) -> dict:
    """The validated fields of one resource; raises ResourceError naming the field (as `column: message`)."""
    resource_type = (resource_type or "").strip()
    if resource_type not in RESOURCE_TYPES:
        fail("resource_type", f"unknown resource type {resource_type!r}")
    values = {
        "resource_id": (resource_id or "").strip(),
        "name": (name or "").strip(),
        "owner": (owner or "").strip(),
        "state": (state or "").strip(),
        "account_id": (account_id or "").strip(),
        "region": (region or "").strip(),
    }
    if not values["resource_id"]:
        fail("resource_id", "must not be empty")
    if not values["name"]:
        fail("name", "must not be empty")
    for column, limit in MAX_LEN.items():
        if len(values[column]) > limit:
            fail(column, f"must be at most {limit} characters")
    if hourly_cost is None or hourly_cost == "":
        cost = 0.0
    else:
        try:
            cost = float(hourly_cost)
        except (TypeError, ValueError):
            cost = -1.0
        if not math.isfinite(cost) or cost < 0:
            fail("hourly_cost", f"must be a non-negative number, not {hourly_cost!r}")
    if tags is None or tags == "":
        tags_text = "{}"
    elif isinstance(tags, dict):
        tags_text = json.dumps(tags, sort_keys=True)
    else:
        tags_text = canonical_tags(tags)
    values["resource_type"] = resource_type
    values["hourly_cost"] = cost
    values["tags"] = tags_text
    return values


def decode(data: bytes, name: str) -> str:
    """The file's text; ResourceImportError in one line when it is not UTF-8 text (a binary file, say)."""
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise ResourceImportError(f"{name} is not a CSV file: it holds a NUL byte at offset {at} (a binary file?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ResourceImportError(
            f"{name} is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded "
            "(save the CSV as UTF-8)"
        ) from None


def parse(text: str) -> tuple[list[str], list[dict]]:
    """The header and every row validated (`_clean`); ResourceImportError names the first bad line and column."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise ResourceImportError(f"line 1: not a CSV header ({exc})", 1) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ResourceImportError(f"line 1: the header lacks column(s) {', '.join(missing)}", 1, missing[0])
    unknown = [c for c in header if c and c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ResourceImportError(f"line 1: unknown column {unknown[0]!r}", 1, unknown[0])
    positions = [header.index(c) if c in header else None for c in COLUMNS]  # _clean's argument order
    width = len(header)
    cleaned, seen = [], {}
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = reader.line_num
            raise ResourceImportError(f"row {number + 1} (line {line}): not valid CSV ({exc})", line) from None
        number += 1
        line = reader.line_num  # the file line the row ended on (header is line 1)
        where = f"row {number} (line {line})"
        if len(cells) > width:
            raise ResourceImportError(f"{where}: more cells than header columns", line, None, number)
        args = [cells[i] if i is not None and i < len(cells) else None for i in positions]
        try:
            fields = clean(*args)
        except ResourceError as exc:
            column = getattr(exc, "column", None)
            raise ResourceImportError(f"{where}, column {exc}", line, column, number) from None
        key = (fields["resource_type"], fields["resource_id"])
        if key in seen:
            raise ResourceImportError(
                f"{where}, column resource_id: {key[0]}:{key[1]} already appears on line {seen[key]}",
                line,
                "resource_id",
                number,
            )
        seen[key] = line
        cleaned.append(fields)
    return header, cleaned
