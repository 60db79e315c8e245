"""Forms for the contact and activity pages: they parse input; the services hold the rules."""

from __future__ import annotations

from django import forms
from django_countries import countries

from accounts.models import Account
from crm.access import policy as access

from .models import Activity, Channel, Consent, Contact

ACCOUNT_CHOICES_MAX = 500
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def account_choices(actor, current=None) -> list[tuple[str, str]]:
    """The accounts the actor can see, by name (capped: the field is a convenience, the service checks)."""
    qs = access.visible(Account.objects.for_tenant(actor.tenant_id), actor, "read").order_by("name_key", "id")
    rows = [(str(pk), name) for pk, name in qs.values_list("id", "name")[:ACCOUNT_CHOICES_MAX]]
    if current is not None and str(current.pk) not in {pk for pk, _ in rows}:
        rows.append((str(current.pk), current.name))
    return [("", "—")] + rows


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ContactForm(forms.Form):
    salutation = forms.ChoiceField(choices=[("", "—"), *Contact.Salutation.choices], required=False)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100)
    title = forms.CharField(max_length=120, required=False)
    department = forms.CharField(max_length=120, required=False)
    account = forms.ChoiceField(required=False, label="Primary account")
    emails = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                             help_text="One per line; the first is the primary one.")
    phones = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                             help_text="One per line, with +country code (or set the mailing country); "
                                       "the first is the primary one.")
    mailing_street = forms.CharField(max_length=200, required=False, label="Street")
    mailing_postal_code = forms.CharField(max_length=20, required=False, label="Postal code")
    mailing_city = forms.CharField(max_length=100, required=False, label="City")
    mailing_region = forms.CharField(max_length=100, required=False, label="Region")
    mailing_country = forms.ChoiceField(choices=lambda: [("", "—"), *countries], required=False,
                                        label="Country")
    preferred_channel = forms.ChoiceField(choices=[("", "—"), *Channel.choices], required=False)
    language = forms.CharField(max_length=10, required=False, help_text="e.g. en, de, fr-CA")
    birthday = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    do_not_contact = forms.BooleanField(required=False, label="Do not contact",
                                        help_text="Nobody may call, mail or message this person.")

    def __init__(self, *args, actor, contact: Contact | None = None, **kwargs):
        if contact is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(contact, name) for name in self.base_fields
                   if name not in {"account", "emails", "phones", "mailing_country"}},
                "account": str(contact.account_id or ""),
                "mailing_country": contact.mailing_country.code or "",
                "emails": "\n".join(e.email for e in sorted(contact.emails.all(), key=lambda e: not e.is_primary)),
                "phones": "\n".join(p.number for p in sorted(contact.phones.all(), key=lambda p: not p.is_primary)),
            }
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = account_choices(actor, contact.account if contact else None)

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["account"] = data.get("account") or None
        data["emails"] = lines(data.get("emails", ""))
        data["phones"] = lines(data.get("phones", ""))
        return data


class ContactFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or email"}))
    account = forms.UUIDField(required=False, widget=forms.HiddenInput)
    mine = forms.BooleanField(required=False, label="Only mine")


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices)
    status = forms.ChoiceField(choices=Consent.Status.choices)
    source = forms.CharField(max_length=100, required=False, help_text="web form, phone call, import…")
    proof = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                            help_text="What the person agreed to, and how.")


QUICK_KINDS = [(Activity.Kind.CALL, "Log a call"), (Activity.Kind.TASK, "Add a task"), (Activity.Kind.NOTE, "Add a note")]


class QuickActivityForm(forms.Form):
    """The timeline's quick actions: log a call, add a task, add a note, without leaving the page."""

    kind = forms.ChoiceField(choices=QUICK_KINDS, widget=forms.HiddenInput)
    subject = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Details")
    direction = forms.ChoiceField(choices=[("", "—"), *Activity.Direction.choices], required=False)
    duration_minutes = forms.IntegerField(min_value=0, max_value=24 * 60, required=False, label="Minutes")
    outcome = forms.CharField(max_length=120, required=False)
    due_at = forms.DateTimeField(required=False, widget=DATETIME, label="Due")
    priority = forms.ChoiceField(choices=Activity.Priority.choices, initial=Activity.Priority.NORMAL, required=False)
    remind_at = forms.DateTimeField(required=False, widget=DATETIME, label="Remind me")


class ActivityForm(forms.Form):
    """The full form: any kind of activity, for any account the person can see."""

    kind = forms.ChoiceField(choices=Activity.Kind.choices)
    subject = forms.CharField(max_length=200)
    account = forms.ChoiceField(required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Details")
    occurred_at = forms.DateTimeField(required=False, widget=DATETIME, label="When (or starts)",
                                      help_text="Empty: now.")
    ends_at = forms.DateTimeField(required=False, widget=DATETIME, label="Ends (meetings)")
    location = forms.CharField(max_length=200, required=False)
    direction = forms.ChoiceField(choices=[("", "—"), *Activity.Direction.choices], required=False,
                                  label="Direction (calls)")
    duration_minutes = forms.IntegerField(min_value=0, max_value=24 * 60, required=False, label="Minutes (calls)")
    outcome = forms.CharField(max_length=120, required=False, label="Outcome (calls)")
    due_at = forms.DateTimeField(required=False, widget=DATETIME, label="Due (tasks)")
    priority = forms.ChoiceField(choices=Activity.Priority.choices, initial=Activity.Priority.NORMAL, required=False,
                                 label="Priority (tasks)")
    remind_at = forms.DateTimeField(required=False, widget=DATETIME, label="Remind me (tasks)")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = account_choices(actor)


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Comment", max_length=4000)


def activity_kwargs(kind: str, data: dict) -> dict:
    """Arguments for task_create (tasks) or activity_log (the rest) from a form's cleaned data."""
    data = {k: v for k, v in data.items() if v not in (None, "")}
    common = {"subject": data.get("subject", ""), "body": data.get("body", "")}
    if kind == Activity.Kind.TASK:
        return {**common, "due_at": data.get("due_at"), "priority": data.get("priority") or "normal",
                "remind_at": data.get("remind_at")}
    extra = {k: data[k] for k in ("occurred_at", "ends_at", "location") if k in data}
    if kind == Activity.Kind.CALL:
        extra.update({k: data[k] for k in ("direction", "duration_minutes", "outcome") if k in data})
    return {**common, "kind": kind, **extra}
