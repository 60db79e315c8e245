"""Public identifiers: time-ordered UUIDs (v7). Not enumerable, and new rows land at the right
edge of the primary-key index, which keeps it compact (random v4 keys scatter writes)."""

from uuid_utils.compat import uuid7


def new_id():
    return uuid7()
