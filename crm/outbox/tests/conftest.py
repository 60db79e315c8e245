import pytest


@pytest.fixture
def queued(monkeypatch):
    """Deliveries queued on commit, recorded instead of published to the broker."""
    from crm.outbox import tasks

    calls = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda *a, **kw: calls.append(("tenant", kw["kwargs"])))
    monkeypatch.setattr(tasks.deliver_system, "apply_async", lambda *a, **kw: calls.append(("system", kw["kwargs"])))
    return calls
