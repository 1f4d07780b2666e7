"""Plain-text search patterns: what people type is matched literally."""

import pytest

from finops.data.search import like_pattern


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("Web", "%web%"),
        ("50%_off", "%50\\%\\_off%"),
        ("a\\b", "%a\\\\b%"),
        ("", "%%"),
    ],
)
def test_like_pattern_escapes_wildcards(text, pattern):
    assert like_pattern(text) == pattern
