"""Every member has a profile and (from their reporting line) a role, however the membership row
was made: sign-up, invitation, seeders, tests. (A signal rather than a call in each creating path:
one forgotten path would leave someone with no rights at all, or worse, a stale cached context.)"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from crm.tenancy.models import Membership


@receiver(post_save, sender=Membership, dispatch_uid="crm.access.member_created")
def member_created(sender, instance: Membership, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from . import defaults

        defaults.setup_member(instance)
