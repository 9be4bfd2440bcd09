from orders_sync_gui.core.customers import CustomerMap, fold


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
