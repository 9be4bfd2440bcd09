import unicodedata

import pytest

from orders_sync_gui.core.customers import CustomerMap, fold
from orders_sync_gui.settings import load_customer_map
from orders_sync_gui.store.demo import CUSTOMERS


def test_spellings_fold_into_one_customer():
    cmap = CustomerMap({"GREYSON CLOTHIERS": "GREYSON", "O NEILL": "O'NEILL"})
    for spelling in ("GREYSON", "greyson", "Greyson ", "GREYSON  CLOTHIERS", "greyson clothiers"):
        assert cmap.canonical(spelling) == "GREYSON"
    assert cmap.canonical("o neill") == "O'NEILL"


def test_an_unknown_customer_is_its_own_name_upper_cased():
    cmap = CustomerMap({})
    assert cmap.canonical("  Peter   Millar ") == "PETER MILLAR"
    assert cmap.canonical("   ") is None
    assert cmap.canonical(None) is None


def test_spellings_of_lists_the_raw_names_in_the_source():
    cmap = CustomerMap({"GREYSON CLOTHIERS": "GREYSON"})
    names = ["GREYSON", "Greyson ", "GREYSON CLOTHIERS", "RHONE", None]
    assert cmap.spellings_of("greyson", names) == ["GREYSON", "GREYSON CLOTHIERS", "Greyson "]


def test_fold_ignores_case_and_spacing_but_not_letters():
    assert fold(" A  b ") == "a b"
    assert fold("CRÈME") != fold("CREME")


# Spellings of GREYSON that print as GREYSON: zero-width characters, BOM, direction marks,
# soft hyphen, ESC, DEL and a C1 control. Each is the customer GREYSON.
LOOKALIKES = [
    "GREY\u200bSON",
    "GREY\u200cSON",
    "GREY\u200dSON",
    "\ufeffGREYSON",
    "GREY\u2060SON",
    "\u200eGREYSON\u200f",
    "GREYSON\u202c",
    "\u202aGREYSON\u202c",
    "\u2066GREYSON\u2069",
    "GREY\u00adSON",
    "GREY\x1bSON",
    "GREY\x7fSON",
    "GREY\x9bSON",
    "greyson\u200b ",
]


@pytest.mark.parametrize("spelling", LOOKALIKES, ids=ascii)
def test_spellings_that_print_alike_are_one_customer(spelling):
    assert CustomerMap({}).canonical(spelling) == "GREYSON"
    assert fold(spelling) == fold("GREYSON")
    cmap = CustomerMap({"GREYSON CLOTHIERS": "GREYSON Clothiers Inc"})
    assert cmap.canonical(spelling + " clothiers") == "GREYSON Clothiers Inc"


def test_a_customer_is_stored_by_the_name_that_prints():
    cmap = CustomerMap({"\u200bRHONE APPAREL": "RHO\u200bNE\u202c"})
    assert cmap.canonical("Peter\u200b Millar\x1b") == "PETER MILLAR"
    assert cmap.canonical("rhone apparel") == "RHONE"  # the map's own name, tidied too
    assert cmap.canonical("\u200b\u202c\x1b") is None  # nothing that prints: no customer
    assert cmap.canonical("PETER\tMILLAR\n") == "PETER MILLAR"  # spaces, as before
    # A joiner inside an emoji is part of what prints: 👩🏽‍🔧 is not 👩🏽🔧.
    mechanic = "\U0001f469\U0001f3fd\u200d\U0001f527"
    assert cmap.canonical(f"Team {mechanic}") == f"TEAM {mechanic}"
    assert cmap.canonical(f"Team {mechanic}") != cmap.canonical(
        "Team \U0001f469\U0001f3fd\U0001f527"
    )


def test_spellings_of_finds_the_lookalike_spellings_in_the_source():
    """preview and stage read a customer's rows by its raw spellings: the lookalikes too."""
    cmap = CustomerMap({})
    names = ["GREYSON", "GREY\u200bSON", "GREY\x1bSON", "GREYSONS", None]
    assert cmap.spellings_of("greyson", names) == ["GREY\x1bSON", "GREYSON", "GREY\u200bSON"]


def test_ordinary_spellings_keep_the_customer_they_had():
    """Sync state, batches and locks are filed under the canonical name: for names with
    nothing invisible in them it is what it was (NFC, spaces collapsed, upper-cased)."""
    cmap = load_customer_map()
    spellings = [s for _, names in CUSTOMERS for s in names] + ["Straße", "e\u0301cru  co "]
    for spelling in spellings:
        before = " ".join(unicodedata.normalize("NFC", spelling).split()).upper()
        assert cmap.canonical(spelling) in (before, cmap.canonical(before))
        assert fold(spelling) == " ".join(unicodedata.normalize("NFC", spelling).casefold().split())
