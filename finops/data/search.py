"""Plain-text search in the store: what people type is matched literally, never as a wildcard."""


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character backslash) matching lowercased `text` anywhere in a value.

    `%`, `_` and the backslash itself are escaped, so "50%_off" finds exactly that text.
    """
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
