from django import forms

from . import services


class CompanySignupForm(forms.Form):
    """allauth's sign-up plus the company: a new company gets its tenant and first admin at once."""

    company_name = forms.CharField(label="Company name", max_length=120)
    full_name = forms.CharField(label="Your name", max_length=150)

    field_order = ["company_name", "full_name", "email", "password1", "password2"]

    def signup(self, request, user):
        user.full_name = self.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])
        membership = services.tenant_signup(company_name=self.cleaned_data["company_name"], user=user)
        from .middleware import SESSION_KEY

        request.session[SESSION_KEY] = str(membership.tenant_id)
