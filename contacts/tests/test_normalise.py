"""Email and phone normalisation: pure functions, checked over many inputs (hypothesis)."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from contacts.services import normalise_emails, normalise_phone

local = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._]{0,10}[A-Za-z0-9]", fullmatch=True).filter(lambda s: ".." not in s)
domain = st.sampled_from(["example.com", "Example.ORG", "mail.example.de"])
entry = st.builds(lambda name, d, p: {"email": f"{name}@{d}", "is_primary": p}, local, domain, st.booleans())


@given(st.lists(entry, max_size=6))
def test_emails_come_out_lower_case_unique_with_exactly_one_primary(entries):
    try:
        result = normalise_emails(entries)
    except ValidationError as exc:
        # only ever refused for more than one primary
        assert sum(e["is_primary"] for e in entries) > 1
        assert "emails" in exc.message_dict
        return
    emails = [e["email"] for e in result]
    assert emails == [e.lower() for e in emails] and len(emails) == len(set(emails))
    assert sum(e["is_primary"] for e in result) == (1 if result else 0)


@pytest.mark.parametrize("raw,region,expected", [
    ("+49 30 1234567", None, "+49301234567"),
    ("030 1234567", "DE", "+49301234567"),
    ("(202) 555-0143", "US", "+12025550143"),
    ("+44 (0)20 7946 0958", "FR", "+442079460958"),
])
def test_phones_become_e164(raw, region, expected):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw,region", [("030 1234567", None), ("+49 1", None), ("hello", "DE"), ("", "DE")])
def test_impossible_phones_are_refused(raw, region):
    with pytest.raises(ValidationError):
        normalise_phone(raw, region)
