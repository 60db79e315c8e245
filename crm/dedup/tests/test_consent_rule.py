"""The consent a merged contact keeps, over every combination of decisions (hypothesis)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from crm.dedup.relations import OPT_OUT, kept_decision

MASTER = uuid.UUID(int=1)
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Decision:
    status: str
    recorded_at: datetime
    contact_id: uuid.UUID


decisions = st.lists(
    st.builds(Decision, st.sampled_from(["granted", "denied", "withdrawn", "unknown"]),
              st.integers(0, 1000).map(lambda d: BASE + timedelta(days=d)),
              st.sampled_from([MASTER, uuid.UUID(int=2), uuid.UUID(int=3)])),
    min_size=1, max_size=3,
)


@given(decisions)
def test_an_opt_out_on_any_record_is_never_turned_into_an_opt_in(rows):
    kept = kept_decision(rows, master_id=MASTER)
    if any(r.status in OPT_OUT for r in rows):
        assert kept.status in OPT_OUT


@given(decisions)
def test_the_kept_decision_is_the_newest_of_its_kind(rows):
    kept = kept_decision(rows, master_id=MASTER)
    assert kept in rows
    same_kind = [r for r in rows if (r.status in OPT_OUT) == (kept.status in OPT_OUT) and
                 (r.status == "unknown") == (kept.status == "unknown")]
    assert kept.recorded_at == max(r.recorded_at for r in same_kind)
    if kept.status == "unknown":
        assert all(r.status == "unknown" for r in rows)
