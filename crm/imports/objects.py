"""What can be imported: one `Importer` per object, registered here (later apps register theirs
with `register(Importer(...))` from their AppConfig.ready()).

An importer lists the object's writable built-in fields (`Field`: key, label, aliases for
auto-mapping, kind, required, limits, choices), names its table and how an existing duplicate is
found, and says which owners the actor may assign. Custom fields come from
crm.customfields.services.specs() at run time and are mapped as `custom.<name>`.

Every check is plain Python (validation.py): a salesperson's million-row file must be checked in
well under a minute, which DRF serializers or full_clean per row cannot do (~7,000 rows/s).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps

from crm.access import policy
from crm.tenancy.models import Role


@dataclass(frozen=True)
class Field:
    key: str  # the model field ("owner" for owner_id, "account" for account_id)
    label: str
    kind: str  # text, email, phone, website, choice, date, datetime, int, bool, country, owner, account, contact, currency
    required: bool = False
    max_length: int = 0
    choices: tuple = ()  # ((value, label), …)
    aliases: tuple = ()
    help: str = ""

    @property
    def column(self) -> str:
        return f"{self.key}_id" if self.kind in ("owner", "account", "contact") else self.key


@dataclass(frozen=True)
class Importer:
    key: str  # "contacts": also the custom-fields object key
    label: str  # "Contacts"
    singular: str
    model_label: str
    fields: tuple[Field, ...]
    # how a row finds an existing record: "email" (contacts), "domain_or_name" (accounts), "" (none)
    match: str = ""
    list_url_name: str = ""
    detail_url_name: str = ""
    # owners: "team" = the actor's team (admins: anyone); "team_or_manager" = managers too may
    # give records to anyone (the accounts' rule, accounts.services._check_owner)
    owner_rule: str = "team"
    extra: dict = field(default_factory=dict)

    @property
    def model(self):
        return apps.get_model(self.model_label)

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def may_assign_anyone(self, actor) -> bool:
        if policy.sees_all(actor):
            return True
        return self.owner_rule == "team_or_manager" and actor.role == Role.MANAGER


_IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> None:
    _IMPORTERS[importer.key] = importer


def get(key: str) -> Importer:
    """The importer of `key`, or KeyError."""
    return _IMPORTERS[key]


def all_importers() -> list[Importer]:
    return list(_IMPORTERS.values())


def _choices(model_choices) -> tuple:
    return tuple((value, str(label)) for value, label in model_choices)


def register_builtin() -> None:
    """Accounts, contacts and activities (called from this app's ready())."""
    from accounts.models import Account
    from contacts.models import Activity, Channel, Contact

    def address(prefix: str, title: str) -> list[Field]:
        return [
            Field(f"{prefix}_street", f"{title} street", "text", max_length=200,
                  aliases=(f"{prefix} address", f"{prefix} street", "street", "address")),
            Field(f"{prefix}_city", f"{title} city", "text", max_length=100, aliases=(f"{prefix} city", "city", "town")),
            Field(f"{prefix}_postal_code", f"{title} postal code", "text", max_length=20,
                  aliases=(f"{prefix} zip", "zip", "zip code", "postcode", "postal code", "plz")),
            Field(f"{prefix}_region", f"{title} region", "text", max_length=100, aliases=("state", "region", "province")),
            Field(f"{prefix}_country", f"{title} country", "country", aliases=("country",)),
        ]

    owner = Field("owner", "Owner", "owner", aliases=("owner email", "account owner", "contact owner", "assigned to",
                                                      "sales rep", "rep"),
                  help="The email of a colleague; empty = you.")
    register(Importer(
        key="accounts", label="Accounts", singular="account", model_label="accounts.Account",
        match="domain_or_name", list_url_name="account_list", detail_url_name="account_detail",
        owner_rule="team_or_manager",
        fields=(
            Field("name", "Account name", "text", required=True, max_length=200,
                  aliases=("name", "company", "company name", "account", "organisation", "organization", "firma")),
            Field("kind", "Kind", "choice", choices=_choices(Account.Kind.choices)),
            Field("type", "Type", "choice", choices=_choices(Account.Type.choices), aliases=("account type",)),
            Field("industry", "Industry", "choice", choices=_choices(Account.Industry.choices), aliases=("sector",)),
            Field("website", "Website", "website", max_length=300, aliases=("web", "url", "domain", "homepage", "web site")),
            Field("phone", "Phone", "phone", aliases=("telephone", "phone number", "tel", "main phone")),
            *address("billing", "Billing"),
            *[Field(f.key, f.label, f.kind, max_length=f.max_length, aliases=())
              for f in address("shipping", "Shipping")],
            Field("employees", "Employees", "int", aliases=("number of employees", "headcount", "staff")),
            Field("annual_revenue", "Annual revenue", "int", aliases=("revenue", "turnover")),
            Field("currency", "Currency", "currency", aliases=("currency code",)),
            owner,
            Field("parent", "Parent account", "account", aliases=("parent", "parent company")),
            Field("source", "Source", "choice", choices=_choices(Account.Source.choices), aliases=("lead source",)),
            Field("rating", "Rating", "choice", choices=_choices(Account.Rating.choices)),
            Field("status", "Status", "choice", choices=_choices(Account.Status.choices)),
            Field("description", "Description", "text", max_length=10_000, aliases=("notes", "about")),
        ),
    ))
    register(Importer(
        key="contacts", label="Contacts", singular="contact", model_label="contacts.Contact",
        match="email", list_url_name="contact_list", detail_url_name="contact_detail",
        fields=(
            Field("salutation", "Salutation", "choice", choices=_choices(Contact.Salutation.choices),
                  aliases=("title prefix", "anrede", "prefix")),
            Field("first_name", "First name", "text", max_length=100,
                  aliases=("first", "firstname", "given name", "forename", "vorname")),
            Field("last_name", "Last name", "text", required=True, max_length=100,
                  aliases=("last", "lastname", "surname", "family name", "nachname", "name")),
            Field("title", "Job title", "text", max_length=120, aliases=("title", "position", "role")),
            Field("department", "Department", "text", max_length=120),
            Field("account", "Account", "account",
                  aliases=("company", "company name", "account name", "organisation", "organization", "employer")),
            Field("email", "Email", "email", max_length=254,
                  aliases=("e-mail", "email address", "e-mail address", "mail", "work email")),
            Field("phone", "Phone", "phone", aliases=("telephone", "phone number", "tel", "mobile", "work phone")),
            *address("mailing", "Mailing"),
            Field("preferred_channel", "Preferred channel", "choice", choices=_choices(Channel.choices)),
            Field("language", "Language", "text", max_length=10, aliases=("lang", "locale")),
            Field("birthday", "Birthday", "date", aliases=("date of birth", "birth date", "dob")),
            owner,
            Field("do_not_contact", "Do not contact", "bool", aliases=("dnc", "opt out", "do not call")),
        ),
    ))
    register(Importer(
        key="activities", label="Activities", singular="activity", model_label="contacts.Activity",
        list_url_name="activity_list", detail_url_name="",
        fields=(
            Field("kind", "Kind", "choice", required=True, choices=_choices(Activity.Kind.choices),
                  aliases=("type", "activity type")),
            Field("subject", "Subject", "text", required=True, max_length=200, aliases=("title", "summary")),
            Field("body", "Notes", "text", max_length=100_000, aliases=("body", "description", "details", "comments")),
            owner,
            Field("account", "Account", "account", aliases=("company", "account name", "organisation", "organization")),
            Field("contact", "Contact", "contact", aliases=("contact email", "person", "with")),
            Field("occurred_at", "Date", "datetime", aliases=("occurred at", "when", "start", "date and time", "start date")),
            Field("ends_at", "End", "datetime", aliases=("ends at", "end date", "end time")),
            Field("due_at", "Due", "datetime", aliases=("due date", "due at", "deadline")),
            Field("status", "Status", "choice", choices=_choices(Activity.Status.choices)),
            Field("priority", "Priority", "choice", choices=_choices(Activity.Priority.choices)),
            Field("direction", "Direction", "choice", choices=_choices(Activity.Direction.choices)),
            Field("duration_minutes", "Duration (minutes)", "int", aliases=("duration", "minutes")),
            Field("outcome", "Outcome", "text", max_length=120, aliases=("result",)),
            Field("location", "Location", "text", max_length=200, aliases=("place", "where")),
        ),
    ))


# --- field-level security -------------------------------------------------------------------
# An import writes in bulk (writing.py: COPY into a staging table, then INSERT/UPDATE … SELECT),
# so crm.access.fields.guard() cannot look at each record. The mapping is the guard instead: a
# column can go only to a field the importer may set, and `guard_mapping` is asked wherever a
# mapping is accepted (services._clean_mapping: the page and the API), again when the rows are
# checked and when they are written (validation.Validator, writing.write), so a mapping stored
# before an admin restricted a field is refused too. Hidden fields are not offered at all.

def restricted_targets(actor, importer: Importer) -> dict[str, str]:
    """Import target (field key or `custom.<name>`) -> "hidden" / "read_only", for the targets the
    actor may not fill (crm.access.fields.unwritable). Empty when nothing is restricted."""
    from crm.access import fields as fls

    key = importer.key
    blocked = fls.unwritable(actor, key)
    if not blocked:
        return {}
    out = {}
    for name in blocked:
        target = f"custom.{name[len(fls.CUSTOM):]}" if name.startswith(fls.CUSTOM) else name
        out[target] = fls.access(actor, key, name)
    return out


def refusal(importer: Importer, target: str, level: str, column: str, label: str = "") -> str:
    label = label or (importer.field(target).label if importer.field(target) else target)
    if level == "hidden":
        return f"“{column}” cannot be imported: you cannot set {label}."
    return f"“{column}” cannot be imported: {label} is read only for you."


def guard_mapping(actor, importer: Importer, header: list[str], mapping: list[str], labels=None) -> None:
    """Refuse (ValidationError on `mapping`) a mapping that sends a column to a field the actor
    may not set: hidden or read only for them. Nothing is imported then."""
    restricted = restricted_targets(actor, importer)
    if not restricted:
        return
    from django.core.exceptions import ValidationError

    errors = []
    for position, target in enumerate(mapping or []):
        if target and target in restricted:
            column = (header[position] if position < len(header) else "") or f"Column {position + 1}"
            errors.append(refusal(importer, target, restricted[target], column, (labels or {}).get(target, "")))
    if errors:
        raise ValidationError({"mapping": errors})
