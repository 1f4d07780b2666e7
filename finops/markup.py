"""Text for Streamlit's Markdown: names people typed and messages from AWS shown as plain characters."""

import re

MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~$:=")
WORD_JOINER = "\u2060"  # zero width, invisible: breaks the patterns GFM turns into links
# GFM links bare URLs, www. addresses and e-mail addresses found in text even after escaping (Streamlit's
# renderer does it on the parsed text), so those patterns get an invisible joiner in the middle
AUTOLINKS = re.compile(r"(?i)(?<=http)(?=\\:)|(?<=https)(?=\\:)|(?<=www)(?=\\\.)|(?=@)")  # on escaped text


def plain(text) -> str:
    """`text` escaped for Markdown (st.error, st.success, captions ...): shown as the characters it holds, never
    as links, images, colours, emoji or math, and on one line (never a heading or a list). Bare URLs and e-mail
    addresses get an invisible word joiner so they are not turned into links either."""
    flat = " ".join(str(text).split())
    escaped = "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else c for c in flat)
    return AUTOLINKS.sub(WORD_JOINER, escaped)
