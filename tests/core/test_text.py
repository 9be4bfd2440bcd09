"""What prints: names leave out control and format characters; a terminal sees them escaped."""

from __future__ import annotations

import unicodedata

import pytest

from orders_sync_gui.core.text import escape_for_terminal, visible

# Each prints as nothing (or, on a terminal, acts instead of printing).
INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner (between letters: nothing to join)
    "\ufeff",  # BOM / zero-width no-break space
    "\u2060",  # word joiner
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202a",  # left-to-right embedding
    "\u202c",  # pop directional formatting
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u2069",  # pop directional isolate
    "\u00ad",  # soft hyphen
    "\x00",
    "\x07",  # BEL
    "\x1b",  # ESC
    "\x7f",  # DEL
    "\x9b",  # CSI, a C1 control
]


@pytest.mark.parametrize("ch", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_what_does_not_print_leaves_a_name(ch):
    assert unicodedata.category(ch) in ("Cc", "Cf")
    assert visible(f"GREY{ch}SON") == "GREYSON"
    assert visible(f"{ch}GREYSON{ch}{ch}") == "GREYSON"


def test_tabs_and_line_breaks_are_spaces_and_letters_stay():
    assert visible("PETER\tMILLAR\r\nLLC\x1cX\x85Y") == "PETER MILLAR  LLC X Y"
    kept = "Écru 東京 עברית e\u0301 ß 😀 \u00a0 'O\"; -"  # NBSP is a space, not a format char
    assert visible(kept) == kept


def test_an_emoji_keeps_the_joiners_and_tags_it_prints_with():
    mechanic = "\U0001f469\U0001f3fd\u200d\U0001f527"  # 👩🏽‍🔧, one picture
    rainbow = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    for emoji in (mechanic, rainbow, scotland):
        assert visible(f"TEAM {emoji}") == f"TEAM {emoji}"
    # a joiner or a tag anywhere else prints as nothing
    assert visible("A\u200dB \U0001f600\u200d \u200d\U0001f600 X\U000e0041") == "AB 😀 😀 X"


def test_a_terminal_sees_escapes_not_controls():
    hostile = "A-1\x1b[2J\x1b]0;owned\x07\u200b\u202e\x7f\x9b\ud800"
    shown = escape_for_terminal(hostile)
    assert shown == "A-1\\x1b[2J\\x1b]0;owned\\x07\\u200b\\u202e\\x7f\\x9b\\ud800"
    assert shown.isprintable()
    shown.encode("utf-8")  # a lone surrogate would not even print
    assert escape_for_terminal("a\tb\nc\u2028d") == "a\\tb\\nc\\u2028d"
    assert escape_for_terminal("a\nb\x1b", keep="\n") == "a\nb\\x1b"
    plain = "GREYSON · 4755 · Écru 東京 😀 \\x1b"
    assert escape_for_terminal(plain) is plain
