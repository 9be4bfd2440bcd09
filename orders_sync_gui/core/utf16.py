"""Text lengths as the far ends count them, in UTF-16 code units.

Python's `len()` counts code points. SQL Server's NVARCHAR(n) counts UTF-16 code units, and
so do the sandbox and this project for monday.com's 255-character names (see
`monday/sandbox/columns.py`): a character beyond the Basic Multilingual Plane (most emoji,
rarer CJK ideographs) counts twice there. A text that fits in n UTF-16 code units also
fits in n code points (PostgreSQL's VARCHAR(n)), so checking and clipping in UTF-16 code
units satisfies every end at once.
"""

from __future__ import annotations

ZERO_WIDTH_JOINER = "\u200d"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: 2 for each character above U+FFFF, else 1."""
    # "surrogatepass": a lone surrogate (possible in a str) counts 1, as it would be stored.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clip_utf16(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` when it fits in `limit` UTF-16 code units, else its longest start that fits
    together with `ellipsis`: never half a surrogate pair, and no trailing space or
    dangling zero-width joiner (half an emoji sequence) before the ellipsis."""
    if utf16_len(text) <= limit:
        return text
    room = limit - utf16_len(ellipsis)
    if room < 0:
        raise ValueError(f"the ellipsis {ellipsis!r} alone is longer than {limit} code units")
    used = end = 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > room:
            break
        end += 1
    head = text[:end]
    while head and (head[-1].isspace() or head[-1] == ZERO_WIDTH_JOINER):
        head = head[:-1]
    return head + ellipsis
