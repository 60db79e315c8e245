"""The relations of accounts and contacts themselves, registered through the same registry later
apps use (crm/dedup/registry.py). Called from DedupConfig.ready()."""

from __future__ import annotations

from .registry import ForeignKeyMover, GenericMover, MoveContext, register_relation

OPT_OUT = {"denied", "withdrawn"}


def kept_decision(decisions, *, master_id):
    """Of one channel's consent rows (anything with status, recorded_at, contact_id), the one the
    merged contact keeps: the newest opt-out if there is one, else the newest decision, else the
    newest "not asked"; on a tie, the master's."""
    decisions = list(decisions)
    pool = ([d for d in decisions if d.status in OPT_OUT]
            or [d for d in decisions if d.status != "unknown"] or decisions)
    return max(pool, key=lambda d: (d.recorded_at, d.contact_id == master_id))


class ConsentMover:
    """One decision per channel survives: the most recent one, except that an opt-out (denied or
    withdrawn) on any of the records is never overruled by a grant on another. A person who said
    no to one of two duplicate records said no; the newest "no" is kept, with its source and proof.
    "Not asked" only survives when no record has a decision."""

    key = "contacts.consent.contact"
    label = "Consent decisions"
    field = "contact"

    @property
    def model(self):
        from contacts.models import Consent

        return Consent

    def count(self, *, tenant_id, loser_ids, master_id=None, actor=None) -> int:
        return self.model.objects.filter(tenant_id=tenant_id, contact_id__in=list(loser_ids)).count()

    def move(self, ctx: MoveContext) -> int:
        Consent = self.model
        rows = list(Consent.objects.filter(tenant_id=ctx.tenant_id, contact_id__in=[ctx.master.pk, *ctx.loser_ids]))
        by_channel: dict[str, list] = {}
        for row in rows:
            by_channel.setdefault(row.channel, []).append(row)
        moved = 0
        for channel_rows in by_channel.values():
            winner = kept_decision(channel_rows, master_id=ctx.master.pk)
            others = [r.pk for r in channel_rows if r.pk != winner.pk]
            if others:
                ctx.journal.delete(Consent.objects.filter(tenant_id=ctx.tenant_id, pk__in=others))
            if winner.contact_id != ctx.master.pk:
                moved += ctx.journal.update(Consent.objects.filter(tenant_id=ctx.tenant_id, pk=winner.pk),
                                            contact=ctx.master.pk)
        return moved


def register() -> None:
    # accounts: what hangs off an account
    register_relation("accounts", ForeignKeyMover("contacts.Contact", "account", "Contacts"))
    register_relation("accounts", ForeignKeyMover("accounts.Account", "parent", "Child accounts"))
    register_relation("accounts", ForeignKeyMover("contacts.Activity", "account", "Activities"))
    register_relation("accounts", GenericMover("contacts.Activity", "related_type", "related_id",
                                               "accounts.account", "Linked activities"))
    register_relation("accounts", ForeignKeyMover("accounts.AccountTag", "account", "Tags", unique_with=("tag",)))
    register_relation("accounts", ForeignKeyMover("contacts.AccountRelation", "account", "Related contacts",
                                                  unique_with=("contact", "role")))
    # contacts: what hangs off a person
    register_relation("contacts", ForeignKeyMover("contacts.Activity", "contact", "Activities"))
    register_relation("contacts", GenericMover("contacts.Activity", "related_type", "related_id",
                                               "contacts.contact", "Linked activities"))
    register_relation("contacts", ForeignKeyMover("contacts.Attendee", "contact", "Meeting attendance",
                                                  unique_with=("activity",)))
    register_relation("contacts", ForeignKeyMover("contacts.ContactEmail", "contact", "Emails",
                                                  unique_with=("email",), defaults={"is_primary": False}))
    register_relation("contacts", ForeignKeyMover("contacts.ContactPhone", "contact", "Phones",
                                                  unique_with=("number",), defaults={"is_primary": False}))
    register_relation("contacts", ForeignKeyMover("contacts.AccountRelation", "contact", "Account relations",
                                                  unique_with=("account", "role")))
    register_relation("contacts", ForeignKeyMover("contacts.Contact", "reports_to", "Direct reports"))
    register_relation("contacts", ConsentMover())
