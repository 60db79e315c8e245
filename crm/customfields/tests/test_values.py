"""The one definition of a valid custom value (forms, API and imports share it)."""

import pytest
from django.core.exceptions import ValidationError

from crm.customfields.values import Spec, clean, coerce, display


def spec(type_, *, required=False, default=None, options=(), name="f", label="Field"):
    return Spec(1, name, label, type_, required, default, tuple(options))


@pytest.mark.parametrize(("type_", "raw", "stored"), [
    ("text", "  Hello ", "Hello"),
    ("long_text", "line 1\nline 2\n", "line 1\nline 2"),
    ("number", "1,234", 1234),
    ("number", "1.234,5", 1234.5),
    ("number", "12.5", 12.5),
    ("number", 7, 7),
    ("currency", "€ 1.234,56", 1234.56),
    ("currency", "99.999", 100.0),
    ("date", "2026-03-31", "2026-03-31"),
    ("date", "31.03.2026", "2026-03-31"),
    ("date", "2026-03-31T10:00:00", "2026-03-31"),
    ("checkbox", "yes", True),
    ("checkbox", "0", False),
    ("checkbox", False, False),
    ("url", "example.com/x", "https://example.com/x"),
    ("email", "Ann@Example.COM", "Ann@example.com"),
])
def test_values_are_normalised(type_, raw, stored):
    assert coerce(spec(type_), raw) == stored


def test_picklists_match_case_blind_and_keep_the_options_order():
    s = spec("picklist", options=["SMB", "Enterprise"])
    assert coerce(s, "enterprise") == "Enterprise"
    m = spec("multi_picklist", options=["EMEA", "APAC", "AMER"])
    assert coerce(m, "amer; emea") == ["EMEA", "AMER"]
    assert coerce(m, ["APAC"]) == ["APAC"]


@pytest.mark.parametrize(("type_", "raw", "message"), [
    ("number", "twelve", "is not a number"),
    ("number", "1e400", "too large"),
    ("date", "31/13/2026", "is not a date"),
    ("date", "tomorrow", "YYYY-MM-DD"),
    ("checkbox", "maybe", "is not yes or no"),
    ("email", "ann@", "is not an email address"),
    ("url", "not a url", "Not a web address"),
    ("text", "x" * 300, "Too long"),
])
def test_bad_values_say_what_is_wrong(type_, raw, message):
    with pytest.raises(ValueError, match=message):
        coerce(spec(type_), raw)


def test_an_unknown_choice_lists_the_choices():
    with pytest.raises(ValueError, match=r"“Gold” is not one of the choices \(SMB, Enterprise\)"):
        coerce(spec("picklist", options=["SMB", "Enterprise"]), "Gold")


def test_empty_values_are_not_stored():
    assert coerce(spec("text"), "   ") is None
    assert coerce(spec("multi_picklist", options=["A"]), []) is None


def test_clean_applies_defaults_on_create_and_enforces_required_fields():
    specs = [spec("picklist", name="segment", label="Segment", options=["SMB", "Enterprise"], default="SMB"),
             spec("date", name="renewal", label="Renewal", required=True)]
    with pytest.raises(ValidationError) as raised:
        clean(specs, {}, creating=True)
    assert raised.value.message_dict == {"custom.renewal": ["Renewal is required."]}
    assert clean(specs, {"renewal": "2027-01-31"}, creating=True) == {"segment": "SMB", "renewal": "2027-01-31"}


def test_clean_merges_a_partial_update_and_clears_with_none():
    specs = [spec("text", name="a"), spec("number", name="b")]
    assert clean(specs, {"b": None}, existing={"a": "x", "b": 2}) == {"a": "x"}
    assert clean(specs, {"b": "3"}, existing={"a": "x"}) == {"a": "x", "b": 3}


def test_clean_reports_every_bad_field_and_unknown_ones_at_once():
    specs = [spec("number", name="b", label="B")]
    with pytest.raises(ValidationError) as raised:
        clean(specs, {"b": "x", "nope": 1})
    assert set(raised.value.message_dict) == {"custom.b", "custom.nope"}


def test_a_required_field_is_not_demanded_by_an_update_that_does_not_touch_it():
    specs = [spec("text", name="a", required=True)]
    assert clean(specs, {}, existing={}) == {}


def test_display():
    assert display(spec("currency"), 1234.5) == "1,234.50"
    assert display(spec("checkbox"), False) == "No"
    assert display(spec("date"), "2026-03-31") == "31 Mar 2026"
    assert display(spec("multi_picklist"), ["A", "B"]) == "A, B"
    assert display(spec("number"), None) == ""
