from datetime import timedelta

import pytest
from django.utils import timezone

from contacts import tasks
from contacts.models import Activity
from contacts.tests.factories import TaskFactory
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def test_a_due_reminder_is_mailed_to_the_owner_once_through_the_outbox(acme, globex, delivered):
    now = timezone.now()
    TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="Send the offer", remind_at=now - timedelta(minutes=1))
    TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="Not yet", remind_at=now + timedelta(hours=1))
    TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="Done already", status="done",
                remind_at=now - timedelta(minutes=1))
    assert tasks.tenants_with_due_reminders() == [str(acme.tenant.pk)]

    assert tasks.send_task_reminders(tenant_id=str(acme.tenant.pk)) == 1
    mail = delivered()
    assert [(m.subject, m.to) for m in mail] == [("Reminder: Send the offer", ["rep@acme.example"])]

    assert tasks.send_task_reminders(tenant_id=str(acme.tenant.pk)) == 0
    assert delivered() == []
    assert tasks.tenants_with_due_reminders() == []
    with tenant_context(acme.tenant):
        reminded = Activity.objects.for_tenant(acme.tenant).filter(reminded_at__isnull=False)
        assert [t.subject for t in reminded] == ["Send the offer"]


def test_a_reminder_leaves_out_what_the_owners_profile_hides(acme, delivered):
    from crm.access.tests.helpers import restrict_fields

    now = timezone.now()
    TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="Call back", body="Budget is 40k",
                due_at=now + timedelta(days=2), remind_at=now - timedelta(minutes=1))
    TaskFactory(tenant=acme.tenant, owner=acme.manager, subject="Review", body="Margin 12 %",
                due_at=now + timedelta(days=2), remind_at=now - timedelta(minutes=1))
    restrict_fields(acme, {("activities", "body"): "hidden", ("activities", "due_at"): "hidden"})

    assert tasks.send_task_reminders(tenant_id=str(acme.tenant.pk)) == 2
    mail = {m.to[0]: m.body for m in delivered()}
    # the rep's profile hides the body and the due date: the mail is one more place they would show
    assert "Call back" in mail["rep@acme.example"]
    assert "Budget" not in mail["rep@acme.example"] and "Due:" not in mail["rep@acme.example"]
    # the manager's profile hides nothing
    assert "Margin 12 %" in mail[acme.manager.user.email] and "Due:" in mail[acme.manager.user.email]


def test_the_reminder_task_refuses_to_run_without_a_tenant():
    from crm.tenancy.context import NoTenantError

    with pytest.raises(NoTenantError):
        tasks.send_task_reminders(tenant_id="")


def test_the_beat_schedule_runs_the_reminders():
    from crm.celery import app

    assert app.conf.beat_schedule["task-reminders"]["task"] == "contacts.tasks.dispatch_task_reminders"
