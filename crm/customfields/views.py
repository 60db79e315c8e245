"""Settings → Custom fields (admins): the fields of each object, add, edit, archive, restore."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from crm.tenancy.views import permission_required
from crm.web.forms import apply_service_errors

from . import registry, services, values
from .models import CustomField, FieldType

customize_required = permission_required("customize")


class FieldForm(forms.Form):
    label = forms.CharField(max_length=80)
    type = forms.ChoiceField(choices=FieldType.choices, help_text="Fixed once the field exists.")
    help_text = forms.CharField(label="Help text", max_length=300, required=False,
                                help_text="Shown under the field in forms.")
    options = forms.CharField(label="Choices", required=False, widget=forms.Textarea(attrs={"rows": 5}),
                              help_text="Picklists: one choice per line, in the order people should see them.")
    default = forms.CharField(label="Default value", max_length=255, required=False,
                              help_text="Filled in on new records. Multi-select: choices separated by “;”.")
    required = forms.BooleanField(required=False, help_text="Every new or edited record must have a value.")

    def __init__(self, *args, field: CustomField | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if field is not None:
            self.fields["type"].disabled = True
            self.fields["type"].help_text = "The type of an existing field cannot change."


def _object_or_404(key: str):
    try:
        return registry.get_object(key)
    except KeyError:
        raise Http404 from None


def _field_or_404(request, pk) -> CustomField:
    field = CustomField.objects.for_tenant(request.membership.tenant).filter(pk=pk).first()
    if field is None:
        raise Http404
    return field


@customize_required
def field_list(request):
    objects = registry.objects()
    current = _object_or_404(request.GET.get("object") or objects[0].key)
    fields = list(services.fields_of(request.membership.tenant, current.key, archived=True))
    for f in fields:
        f.default_display = values.display(values.Spec.of(f), f.default)
    counts = {}
    for f in CustomField.objects.for_tenant(request.membership.tenant).filter(archived=False).values_list("object", flat=True):
        counts[f] = counts.get(f, 0) + 1
    tabs = [{"label": o.label, "url": f"?object={o.key}", "active": o.key == current.key, "count": counts.get(o.key, 0)}
            for o in objects]
    return render(request, "customfields/list.html", {
        "current": current, "tabs": tabs,
        "active": [f for f in fields if not f.archived],
        "archived": [f for f in fields if f.archived],
    })


def _service_kwargs(data: dict, field_type: str) -> dict:
    kwargs = {"label": data["label"], "help_text": data["help_text"], "required": data["required"],
              "options": data["options"]}
    default = (data.get("default") or "").strip()
    kwargs["default"] = [d for d in default.split(";") if d.strip()] if field_type == FieldType.MULTI_PICKLIST and default else (default or None)
    return kwargs


@customize_required
@require_http_methods(["GET", "POST"])
def field_create(request):
    current = _object_or_404(request.GET.get("object") or request.POST.get("object") or "accounts")
    form = FieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = services.field_create(actor=request.membership, object=current.key, type=form.cleaned_data["type"],
                                          **_service_kwargs(form.cleaned_data, form.cleaned_data["type"]))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"“{field.label}” added to {current.label.lower()}. It shows on their forms, "
                                      "pages, lists, filters, imports, exports and the API.")
            return redirect(f"{reverse('customfield_list')}?object={current.key}")
    return render(request, "customfields/form.html", {"form": form, "current": current, "field": None})


@customize_required
@require_http_methods(["GET", "POST"])
def field_edit(request, pk):
    field = _field_or_404(request, pk)
    current = _object_or_404(field.object)
    initial = {"label": field.label, "type": field.type, "help_text": field.help_text, "required": field.required,
               "options": "\n".join(field.options or []),
               "default": ";".join(field.default) if isinstance(field.default, list) else (
                   "" if field.default is None else str(field.default))}
    form = FieldForm(request.POST or None, initial=initial, field=field)
    if request.method == "POST" and form.is_valid():
        try:
            services.field_update(actor=request.membership, field=field, **_service_kwargs(form.cleaned_data, field.type))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"“{field.label}” saved.")
            return redirect(f"{reverse('customfield_list')}?object={current.key}")
    return render(request, "customfields/form.html", {"form": form, "current": current, "field": field})


@customize_required
@require_POST
def field_archive(request, pk):
    field = _field_or_404(request, pk)
    restore = request.POST.get("restore") == "1"
    services.field_archive(actor=request.membership, field=field, archived=not restore)
    messages.success(request, f"“{field.label}” {'restored' if restore else 'archived: hidden everywhere, its values are kept'}.")
    return redirect(f"{reverse('customfield_list')}?object={field.object}")
