"""People at customer accounts, how to reach them and what they agreed to, and every interaction
with them (activities: calls, meetings, tasks, notes, logged emails, visits)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Concat
from django_countries.fields import CountryField

from accounts.models import Account
from crm.audit.history import track
from crm.tenancy.models import Membership, TenantModel
from crm.tenancy.search import KEY_COLLATION, normalise_key


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    SMS = "sms", "SMS"


@track()
class Contact(TenantModel):
    class Salutation(models.TextChoices):
        MR = "mr", "Mr"
        MS = "ms", "Ms"
        MRS = "mrs", "Mrs"
        MX = "mx", "Mx"
        DR = "dr", "Dr"
        PROF = "prof", "Prof."

    salutation = models.CharField(max_length=5, choices=Salutation.choices, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    # "Last First": the list sorts by it; generated so it can never disagree with the names
    name_key = models.GeneratedField(
        expression=normalise_key(Concat("last_name", models.Value(" "), "first_name")),
        output_field=models.TextField(db_collation=KEY_COLLATION),
        db_persist=True,
    )
    title = models.CharField(max_length=120, blank=True)
    department = models.CharField(max_length=120, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
        help_text="The primary account.",
    )
    reports_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    # the primary email and phone, denormalised from ContactEmail/ContactPhone by the services so
    # lists and matching read one row; lower-cased email, E.164 phone
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    mailing_street = models.CharField(max_length=200, blank=True)
    mailing_city = models.CharField(max_length=100, blank=True)
    mailing_postal_code = models.CharField(max_length=20, blank=True)
    mailing_region = models.CharField(max_length=100, blank=True)
    mailing_country = CountryField(blank=True)
    preferred_channel = models.CharField(max_length=5, choices=Channel.choices, blank=True)
    language = models.CharField(max_length=10, blank=True, help_text="e.g. en, de, fr-CA")
    birthday = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="owned_contacts")
    do_not_contact = models.BooleanField(default=False, help_text="Nobody may call, mail or message this person.")
    erased_at = models.DateTimeField(null=True, blank=True, help_text="Anonymised on request (GDPR).")
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    modified_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    custom = models.JSONField(default=dict, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "name_key", "id"], name="contact_name_key_idx"),
            models.Index(fields=["tenant", "owner", "name_key", "id"], name="contact_owner_name_idx"),
            models.Index(fields=["tenant", "email"], name="contact_email_idx"),
            models.Index(fields=["tenant", "phone"], name="contact_phone_idx"),
            models.Index(fields=["tenant", "-updated_at", "-id"], name="contact_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@track()
class ContactEmail(TenantModel):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField(help_text="Stored lower-case.")
    label = models.CharField(max_length=20, blank=True, help_text="work, home…")
    is_primary = models.BooleanField(default=False)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "contact", "email"], name="contactemail_uniq"),
            models.UniqueConstraint(fields=["tenant", "contact"], condition=models.Q(is_primary=True),
                                    name="contactemail_one_primary"),
        ]
        indexes = [models.Index(fields=["tenant", "email"], name="contactemail_email_idx")]

    def __str__(self) -> str:
        return self.email


@track()
class ContactPhone(TenantModel):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=32, help_text="E.164")
    label = models.CharField(max_length=20, blank=True, help_text="mobile, work, home…")
    is_primary = models.BooleanField(default=False)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "contact", "number"], name="contactphone_uniq"),
            models.UniqueConstraint(fields=["tenant", "contact"], condition=models.Q(is_primary=True),
                                    name="contactphone_one_primary"),
        ]
        indexes = [models.Index(fields=["tenant", "number"], name="contactphone_number_idx")]

    def __str__(self) -> str:
        return self.number


@track()
class AccountRelation(TenantModel):
    """A contact's relation to an account other than their primary one, with a role."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="account_relations")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contact_relations")
    role = models.CharField(max_length=80, help_text="e.g. board member, advisor")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "contact", "account", "role"], name="accountrelation_uniq"),
        ]

    def __str__(self) -> str:
        return self.role


@track()
class Consent(TenantModel):
    """Consent per channel. Marketing and reps must honour it (and do_not_contact)."""

    class Status(models.TextChoices):
        GRANTED = "granted", "Granted"
        DENIED = "denied", "Denied"
        WITHDRAWN = "withdrawn", "Withdrawn"
        UNKNOWN = "unknown", "Not asked"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UNKNOWN)
    recorded_at = models.DateTimeField()
    source = models.CharField(max_length=100, blank=True, help_text="web form, phone call, import…")
    proof = models.TextField(blank=True, help_text="What the person agreed to, and how.")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "contact", "channel"], name="consent_one_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.status}"


@track()
class Activity(TenantModel):
    """A call, meeting, task, note, logged email or visit.

    It relates to an account and/or a contact. Later apps attach activities to their own records
    (an opportunity, a ticket) through `related_type` ("sales.opportunity") and `related_id`,
    without a change here: their timelines read `(tenant, related_type, related_id)`.
    """

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        TASK = "task", "Task"
        NOTE = "note", "Note"
        EMAIL = "email", "Email"
        VISIT = "visit", "Visit"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    owner = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="activities")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    related_type = models.CharField(max_length=60, blank=True)
    related_id = models.UUIDField(null=True, blank=True)
    # when it happened (call, note, email, visit) or starts (meeting); tasks use due_at
    occurred_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.NORMAL)
    completed_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=120, blank=True)
    location = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # admin-defined fields (crm/customfields)
    custom = models.JSONField(default=dict, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "account", "-occurred_at", "-id"], name="activity_account_time_idx"),
            models.Index(fields=["tenant", "contact", "-occurred_at", "-id"], name="activity_contact_time_idx"),
            models.Index(fields=["tenant", "related_type", "related_id", "-occurred_at"], name="activity_related_idx"),
            models.Index(fields=["tenant", "owner", "status", "due_at"], name="activity_owner_due_idx"),
            # a person's (or their team's) activity list, newest first: /activities/, the API list
            models.Index(fields=["tenant", "owner", "-occurred_at", "-id"], name="activity_owner_time_idx"),
            models.Index(fields=["tenant", "status", "remind_at"], name="activity_reminder_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


@track()
class Attendee(TenantModel):
    """Who takes part in a meeting: a colleague or a contact."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendees")
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(membership__isnull=False) ^ models.Q(contact__isnull=False),
                name="attendee_is_a_colleague_or_a_contact",
            ),
        ]

    def __str__(self) -> str:
        return str(self.membership_id or self.contact_id)


@track()
class ActivityComment(TenantModel):
    """A manager's guidance on a rep's activity; the rep sees it on their home page."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [models.Index(fields=["tenant", "activity", "created_at"], name="activitycomment_idx")]

    def __str__(self) -> str:
        return self.body[:40]
