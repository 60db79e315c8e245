"""/styleguide/ (development only): every component of the design system on one page, with real
Django forms and messages, so a change to the CSS can be checked at a glance (and screenshotted)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render


class DemoForm(forms.Form):
    name = forms.CharField(label="Account name", max_length=120)
    email = forms.EmailField(label="Billing email", help_text="Invoices and payment reminders go here.")
    tier = forms.ChoiceField(label="Value tier", choices=[("", "Choose a tier"), ("a", "A: top 20%"),
                                                          ("b", "B: growing"), ("c", "C: occasional")])
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    consent = forms.BooleanField(label="Agreed to receive marketing email", required=False,
                                 help_text="Recorded with the date and the source of the consent.")

    def clean(self):
        data = super().clean()
        if data.get("tier") == "a" and not data.get("email"):
            raise forms.ValidationError("A top-tier account needs a billing email.")
        return data


CHART = {
    "tooltip": {"trigger": "axis"},
    "legend": {"top": 0, "right": 0},
    "xAxis": {"type": "category", "data": ["Qualify", "Discover", "Propose", "Negotiate", "Won"]},
    "yAxis": {"type": "value"},
    "series": [
        {"name": "This quarter", "type": "bar", "data": [42, 31, 18, 11, 7]},
        {"name": "Last quarter", "type": "bar", "data": [35, 27, 20, 9, 6]},
    ],
}


@login_required
def styleguide(request):
    if not settings.DEBUG:
        raise Http404
    messages.success(request, "Opportunity “Globex renewal” moved to Negotiate.")
    messages.info(request, "Three customers were merged into Acme Ltd.")
    invalid = DemoForm(data={"name": "", "email": "not-an-email", "tier": "a", "notes": "", "consent": ""})
    invalid.is_valid()
    rows = [
        {"name": "Acme Ltd", "owner": "Rita Rep", "tier": "A", "tone": "green", "stage": "Negotiate",
         "value": "€ 128,400", "updated": "2 hours ago"},
        {"name": "Globex GmbH", "owner": "Ravi Rep", "tier": "B", "tone": "blue", "stage": "Propose",
         "value": "€ 54,000", "updated": "Yesterday"},
        {"name": "Initech", "owner": "Rita Rep", "tier": "C", "tone": "gray", "stage": "Qualify",
         "value": "€ 8,950", "updated": "3 days ago"},
        {"name": "Umbrella Corp", "owner": "Max Manager", "tier": "A", "tone": "green", "stage": "Won",
         "value": "€ 310,000", "updated": "Last week"},
    ]
    tabs = [
        {"label": "Overview", "url": "#", "active": True},
        {"label": "Contacts", "url": "#", "count": 12},
        {"label": "Opportunities", "url": "#", "count": 3},
        {"label": "Tickets", "url": "#", "count": 0},
        {"label": "History", "url": "#"},
    ]
    return render(request, "web/styleguide.html", {
        "form": DemoForm(), "invalid": invalid, "rows": rows, "tabs": tabs,
        "chart_options": CHART,
    })


@login_required
def error_preview(request, code: int):
    """The error pages as the handlers render them (DEBUG shows Django's own pages instead)."""
    if not settings.DEBUG or code not in (403, 404, 429, 500):
        raise Http404
    from . import views

    if code == 429:  # the lockout page, as crm.tenancy.security.lockout_response renders it
        return render(request, "errors/lockout.html", {"cooloff_minutes": 15, "failure_limit": 5}, status=429)
    if code == 500:
        return views.error_500(request)
    return views.error_403(request) if code == 403 else views.error_404(request)
