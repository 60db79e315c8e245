from allauth.account.forms import SignupForm
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from crm.audit.models import SecurityEvent

from . import services
from .models import Role, User


class CompanySignupForm(SignupForm):
    """allauth's sign-up plus the company: a new company gets its tenant and first admin at once."""

    company_name = forms.CharField(label="Company name", max_length=120,
                                   widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    full_name = forms.CharField(label="Your name", max_length=150,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))

    field_order = ["company_name", "full_name", "email", "password1", "password2"]

    def clean_company_name(self):
        # validated here, before allauth creates the user, so the error shows next to the field
        return services.clean_company_name(self.cleaned_data["company_name"])

    def clean_full_name(self):
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise ValidationError("Enter your name.")
        return name

    def signup(self, request, user):
        """Called by allauth once the user exists, in the request's transaction."""
        from .middleware import SESSION_KEY

        user.full_name = self.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])
        membership = services.tenant_signup(company_name=self.cleaned_data["company_name"], user=user)
        request.session[SESSION_KEY] = str(membership.tenant_id)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.REP)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    """A new account from an invitation: the email is the invited one, not typed again."""

    full_name = forms.CharField(label="Your name", max_length=150,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    password1 = forms.CharField(label="Password", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=password_validation.password_validators_help_text_html())
    password2 = forms.CharField(label="Password (again)", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean_full_name(self):
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise ValidationError("Enter your name.")
        return name

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            try:
                password_validation.validate_password(
                    p1, User(email=self.email, full_name=data.get("full_name", ""))
                )
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ApiTokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80, required=False,
                           help_text="What uses this token, e.g. “Nightly export”.")


class CompanySecurityForm(forms.Form):
    require_mfa = forms.BooleanField(
        label="Require two-factor authentication for everyone", required=False,
        help_text="Members without an authenticator app are asked to set one up before they can "
                  "continue. API tokens keep working.",
    )


class SecurityLogFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Event", required=False,
                             choices=[("", "All events"), *SecurityEvent.Kind.choices])
