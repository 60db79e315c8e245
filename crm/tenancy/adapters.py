from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """allauth's hooks for this CRM (mail goes through the outbox via EMAIL_BACKEND)."""
