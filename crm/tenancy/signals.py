"""Sign-in lands in the user's default tenant."""

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver


@receiver(user_logged_in)
def choose_tenant_on_login(sender, request, user, **kwargs):
    from .middleware import SESSION_KEY, memberships_of

    if request is None or not hasattr(request, "session"):
        return
    with transaction.atomic():  # memberships_of() sets a transaction-local setting
        first = memberships_of(user).first()
    if first is not None:
        request.session[SESSION_KEY] = str(first.tenant_id)
