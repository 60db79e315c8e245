"""Forms for the contact and activity pages: they parse input; the services hold the rules."""

from __future__ import annotations

from django import forms
from django_countries import countries

from accounts.models import Account
from crm.access import fields as fls
from crm.access import policy as access
from crm.customfields.forms import PREFIX as CUSTOM_PREFIX
from crm.customfields.forms import add_custom_fields, custom_bound_fields, custom_data

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


def secure(form: forms.Form, actor, key: str) -> None:
    """Field-level security on a page's form (crm.access.fields): hidden fields (custom ones too)
    are dropped, read-only ones disabled. Call last in __init__, after the custom fields."""
    fls.restrict_form(form, actor, key, custom_prefix=CUSTOM_PREFIX)
    if hasattr(form, "custom_specs"):
        form.custom_specs = [s for s in form.custom_specs if CUSTOM_PREFIX + s.name in form.fields]


def writable(form: forms.Form) -> dict:
    """A valid form's cleaned data without its disabled (read-only) fields: a read-only value is
    not sent to the service at all (it keeps what the record holds; the service guards it too)."""
    return {k: v for k, v in form.cleaned_data.items() if k in form.fields and not form.fields[k].disabled}


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


RELATION_BLANK_ROWS = 2
CONTACT_CHOICES_MAX = 500


def add_relation_fields(form: forms.Form, actor, contact: Contact | None) -> None:
    """Other accounts the person has a role at ("board member"): an account and a role per row, the
    current relations first, then empty rows to add more. Rows are `form.relation_rows`."""
    current = list(contact.account_relations.all()) if contact is not None else []
    choices = account_choices(actor)
    known = {value for value, _ in choices}
    form.relation_rows = []
    for i in range(len(current) + RELATION_BLANK_ROWS):
        relation = current[i] if i < len(current) else None
        row_choices = choices
        if relation is not None and str(relation.account_id) not in known:
            row_choices = [*choices, (str(relation.account_id), relation.account.name)]
        account_name, role_name = f"relation_account_{i}", f"relation_role_{i}"
        form.fields[account_name] = forms.ChoiceField(
            choices=row_choices, required=False, label="Account",
            initial=str(relation.account_id) if relation else "")
        form.fields[role_name] = forms.CharField(
            max_length=80, required=False, label="Role", initial=relation.role if relation else "",
            widget=forms.TextInput(attrs={"placeholder": "e.g. board member"}))
        form.relation_rows.append((form[account_name], form[role_name]))


def relations_data(form: forms.Form) -> list[dict]:
    """The filled relation rows as the services take them; an incomplete row is a field error."""
    out = []
    for account_field, role_field in getattr(form, "relation_rows", []):
        account = form.cleaned_data.get(account_field.name) or ""
        role = (form.cleaned_data.get(role_field.name) or "").strip()
        if account and role:
            out.append({"account": account, "role": role})
        elif account:
            form.add_error(role_field.name, "Say what role they have there.")
        elif role:
            form.add_error(account_field.name, "Choose the account.")
    return out


def add_attendee_fields(form: forms.Form, actor, activity: Activity | None = None) -> None:
    """Who attends a meeting: colleagues of the company, and contacts the actor can see."""
    from crm.tenancy.models import Membership

    members = Membership.objects.for_tenant(actor.tenant_id).filter(is_active=True).select_related("user") \
        .order_by("user__full_name", "user__email", "id")
    contacts = access.visible(Contact.objects.for_tenant(actor.tenant_id), actor, "read") \
        .filter(erased_at__isnull=True).order_by("name_key", "id")
    form.fields["attendees"] = forms.MultipleChoiceField(
        required=False, label="Colleagues attending", widget=forms.SelectMultiple(attrs={"size": 4}),
        choices=[(str(m.pk), m.user.full_name or m.user.email) for m in members],
        help_text="Meetings only. Ctrl/⌘-click to choose several.")
    form.fields["attendee_contacts"] = forms.MultipleChoiceField(
        required=False, label="Contacts attending", widget=forms.SelectMultiple(attrs={"size": 6}),
        choices=[(str(pk), " ".join(p for p in (first, last) if p)) for pk, first, last in
                 contacts.values_list("id", "first_name", "last_name")[:CONTACT_CHOICES_MAX]],
        help_text="Meetings only.")
    if activity is not None:
        rows = list(activity.attendees.all())
        form.initial.setdefault("attendees", [str(a.membership_id) for a in rows if a.membership_id])
        form.initial.setdefault("attendee_contacts", [str(a.contact_id) for a in rows if a.contact_id])


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
        add_relation_fields(self, actor, contact)
        add_custom_fields(self, actor.tenant, "contacts", contact.custom if contact is not None else None)
        secure(self, actor, "contacts")

    def custom_fields(self) -> list:
        return custom_bound_fields(self)

    def clean(self):
        cleaned = super().clean()
        self.relations = relations_data(self)  # other accounts and roles; an incomplete row is an error
        return cleaned

    def service_kwargs(self) -> dict:
        """What the services take; a field the person may not change (hidden: not on the form;
        read only: disabled) is left out, so the record keeps its value."""
        data = {k: v for k, v in writable(self).items() if not k.startswith(CUSTOM_PREFIX)}
        data["custom"] = {name: value for name, value in custom_data(self).items()
                          if not self.fields[CUSTOM_PREFIX + name].disabled}
        data["account"] = data.get("account") or None
        for name in ("emails", "phones"):
            if name in data:
                data[name] = lines(data[name])
        data = {k: v for k, v in data.items() if not k.startswith("relation_")}
        data["relations"] = self.relations
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

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        if actor is not None:
            secure(self, actor, "activities")


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

    def __init__(self, *args, actor, activity: Activity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = account_choices(actor)
        add_attendee_fields(self, actor, activity)
        add_custom_fields(self, actor.tenant, "activities", activity.custom if activity is not None else None)
        secure(self, actor, "activities")

    def custom_fields(self) -> list:
        return custom_bound_fields(self)


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Comment", max_length=4000)


def activity_kwargs(kind: str, data: dict) -> dict:
    """Arguments for task_create (tasks) or activity_log (the rest) from a form's cleaned data."""
    custom = {k.removeprefix(CUSTOM_PREFIX): v for k, v in data.items() if k.startswith(CUSTOM_PREFIX)}
    data = {k: v for k, v in data.items() if v not in (None, "")}
    common = {"subject": data.get("subject", ""), "body": data.get("body", ""), "custom": custom}
    if kind == Activity.Kind.TASK:
        return {**common, "due_at": data.get("due_at"), "priority": data.get("priority") or "normal",
                "remind_at": data.get("remind_at")}
    extra = {k: data[k] for k in ("occurred_at", "ends_at", "location") if k in data}
    if kind == Activity.Kind.CALL:
        extra.update({k: data[k] for k in ("direction", "duration_minutes", "outcome") if k in data})
    if kind == Activity.Kind.MEETING:
        extra.update({k: data[k] for k in ("attendees", "attendee_contacts") if data.get(k)})
    return {**common, "kind": kind, **extra}
