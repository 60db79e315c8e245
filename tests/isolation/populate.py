"""Makes at least one row in every tenant table for a company, generically: for each tenant
model, build an instance from its fields (pointing foreign keys at rows already made). Later
issues' models are covered without edits; a model this cannot fill registers a maker here."""

from __future__ import annotations

import datetime
import decimal
import uuid

from django.db import models
from django.utils import timezone

from crm.tenancy import rls
from crm.tenancy.context import tenant_context

MAKERS: dict[str, callable] = {}


def register(table: str):
    def wrap(fn):
        MAKERS[table] = fn
        return fn

    return wrap


def _value(field, company, made):
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.ForeignKey):
        target = field.related_model
        if target._meta.db_table == "tenancy_tenant":
            return company.tenant
        if target._meta.label_lower == "tenancy.user":
            return company.rep.user
        if target._meta.label_lower == "tenancy.membership":
            return company.rep
        return made.get(target) or (target.objects.first() if not hasattr(target, "tenant") else None)
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.EmailField):
        return f"x{uuid.uuid4().hex[:6]}@example.com"
    if isinstance(field, (models.CharField, models.TextField)):
        return f"x{uuid.uuid4().hex[:8]}"[: field.max_length or 20]
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, (models.IntegerField, models.FloatField)):
        return 1
    if isinstance(field, models.DecimalField):
        return decimal.Decimal("1")
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return datetime.date.today()
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.GenericIPAddressField):
        return "127.0.0.1"
    return None


def populate_every_tenant_table(company) -> None:
    made: dict = {}
    with tenant_context(company.tenant):
        pending = [m for m in rls.tenant_models()]
        for _ in range(4):  # a few passes so foreign keys to other tenant models resolve
            for model in list(pending):
                if model.objects.for_tenant(company.tenant).exists():
                    made[model] = model.objects.for_tenant(company.tenant).first()
                    pending.remove(model)
                    continue
                maker = MAKERS.get(model._meta.db_table)
                if maker:
                    made[model] = maker(company)
                    pending.remove(model)
                    continue
                values, ok = {}, True
                for field in model._meta.concrete_fields:
                    if getattr(field, "generated", False):
                        continue
                    if field.primary_key or field.name == "tenant" or field.has_default() or field.null:
                        if field.name == "tenant":
                            values["tenant"] = company.tenant
                        continue
                    value = _value(field, company, made)
                    if value is None:
                        ok = False
                        break
                    values[field.name] = value
                if ok:
                    made[model] = model.objects.create(**values)
                    pending.remove(model)


@register("contacts_attendee")
def _attendee(company):
    from contacts.models import Activity, Attendee

    activity = Activity.objects.for_tenant(company.tenant).first() or Activity.objects.create(
        kind=Activity.Kind.MEETING, subject="Kick-off", owner=company.rep
    )
    return Attendee.objects.create(activity=activity, membership=company.rep)


@register("dedup_duplicatecandidate")
def _duplicate_candidate(company):
    """A pair is stored in id order (a check constraint): two of the company's contacts, ordered."""
    from contacts.models import Contact
    from crm.dedup.models import DuplicateCandidate

    ids = sorted((Contact.objects.create(last_name=f"Twin {n}", owner=company.rep).pk for n in range(2)), key=str)
    return DuplicateCandidate.objects.create(object="contacts", record_a=ids[0], record_b=ids[1], rule="same_email",
                                             score=100, found_at=timezone.now())
