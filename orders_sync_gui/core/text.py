"""Characters that print as nothing, or not at all: out of names, escaped on a terminal.

Unicode's control (Cc) and format (Cf) characters show nothing where a name is read, yet
make two names that look the same differ: "GREYSON" and "GREY\\u200bSON" (a zero-width
space), "GREYSON\\u202c" (a direction mark), "GREY\\x1bSON" (an ESC). Customer names and
item names are made of what can be seen (`visible`). Field values are left as they are:
they are synced, and hashed, as the source holds them.
"""

from __future__ import annotations

import unicodedata

from .utf16 import ZERO_WIDTH_JOINER

_TAG_FLAG = "\U0001f3f4"  # 🏴, the base of the subdivision flags (🏴 + tags = Scotland)
_TAGS = range(0xE0020, 0xE0080)  # TAG SPACE .. CANCEL TAG
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)  # skin tones
_VARIATION_SELECTOR_16 = "\ufe0f"
_INVISIBLE = frozenset({"Cc", "Cf"})


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE


def _pictographic(ch: str) -> bool:
    return unicodedata.category(ch) == "So" or ord(ch) in _EMOJI_MODIFIERS


def _in_emoji(text: str, i: int, kept: list[str]) -> bool:
    """Whether the format character text[i] is part of an emoji that prints as one picture:
    a zero-width joiner between two emoji (👩🏽‍🔧), or the tags of a subdivision flag.
    Without them the emoji prints differently (👩🏽🔧), so they are not invisible."""
    ch = text[i]
    before = kept[-1] if kept else ""
    if before == _VARIATION_SELECTOR_16 and len(kept) > 1:
        before = kept[-2]
    if ch == ZERO_WIDTH_JOINER:
        after = text[i + 1] if i + 1 < len(text) else ""
        return bool(before and after) and _pictographic(before) and _pictographic(after)
    if ord(ch) in _TAGS:
        return before == _TAG_FLAG or (bool(before) and ord(before) in _TAGS)
    return False


def visible(text: str) -> str:
    """`text` without its control and format characters (Unicode categories Cc and Cf).

    Controls that are whitespace (tab, line feed, carriage return, the information
    separators U+001C..U+001F, NEL) become spaces, as they always separated words here;
    the others go: zero-width space and joiners, BOM, word joiner, direction marks, soft
    hyphen, ESC, DEL and the rest of C0 and C1. The joiners and tags inside an emoji stay.
    """
    if text.isprintable():  # most names: nothing to take out (a space is printable)
        return text
    kept: list[str] = []
    for i, ch in enumerate(text):
        if not _invisible(ch):
            kept.append(ch)
        elif ch.isspace():
            kept.append(" ")
        elif _in_emoji(text, i, kept):
            kept.append(ch)
    return "".join(kept)


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in "\t\n\r":
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


# Shown escaped on a terminal: Cc and Cf, which a terminal obeys or hides; lone surrogates
# (Cs), which cannot be written as UTF-8 at all; line and paragraph separators (Zl, Zp).
_ESCAPED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def escape_for_terminal(text: str, keep: str = "") -> str:
    """`text` with every character a terminal would act on, hide or choke on written as a
    visible escape (ESC as \\x1b, a zero-width space as \\u200b), except those in `keep`:
    source data must not move the cursor, recolour or retitle an operator's terminal."""
    if text.isprintable():
        return text
    return "".join(
        _escape(ch) if ch not in keep and unicodedata.category(ch) in _ESCAPED else ch
        for ch in text
    )
