"""A JSON or YAML document from bytes a person gave us (an uploaded or imported file), or one line saying why not."""

import json

import yaml

MAX_FILE_BYTES = 2_000_000


class DocumentError(ValueError):
    """The bytes are not a JSON or YAML document we accept; the message starts with the file's name."""


def load(data: bytes, name: str = "file"):
    """The document's value (a dict, a list ...); DocumentError for an oversized, non-UTF-8 or unparsable file."""
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(f"{name}: over {MAX_FILE_BYTES // 1_000_000} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    looks_json = text.lstrip().startswith(("{", "["))
    try:
        return json.loads(text) if looks_json else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if looks_json:  # YAML's flow style ([{name: a}]) looks like JSON too
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            pass
    raise DocumentError(f"{name}: not JSON or YAML ({first})")


def items(doc, key: str) -> list:
    """The list a document holds: `{key: [...]}`, a list, or one object (as a list of one)."""
    found = doc.get(key, doc) if isinstance(doc, dict) and set(doc) == {key} else doc
    return found if isinstance(found, list) else [found]


def dump(items: list, fmt: str = "yaml") -> str:
    """Items as a YAML or JSON document (one item on its own, several as a list), what `load` reads back."""
    doc = items[0] if len(items) == 1 else items
    if fmt == "json":
        return json.dumps(doc, indent=2, sort_keys=False) + "\n"
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
