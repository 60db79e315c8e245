"""Admin-defined fields on the records of any app that registers its model (registry.py).

A record keeps its custom values in its own `custom` JSONB column: one row read gives the page,
the API and the export everything. Filtering cannot use that column under row-level security: every
jsonb operator is non-LEAKPROOF, so PostgreSQL would test it row by row over the whole tenant
(bench/RESULTS.md). So each value is also written, typed and normalised, to `CustomValue` — one row
per (record, field) (one per chosen option for multi-picklists) — whose columns are compared with
leakproof operators inside (tenant, field, value, record) indexes. A filter on a custom field is
`id IN (SELECT record_id FROM customfields_customvalue WHERE tenant_id = … AND field_id = …
AND text_key = …)`: an index range, whatever the size of the tenant. The services write both in
the same transaction (services.write_values), so they never disagree.
"""

from __future__ import annotations

from django.db import models

from crm.audit.history import track
from crm.tenancy.models import TenantModel
from crm.tenancy.search import KEY_COLLATION


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    LONG_TEXT = "long_text", "Long text"
    NUMBER = "number", "Number"
    CURRENCY = "currency", "Currency"
    DATE = "date", "Date"
    CHECKBOX = "checkbox", "Checkbox"
    PICKLIST = "picklist", "Picklist"
    MULTI_PICKLIST = "multi_picklist", "Multi-select picklist"
    URL = "url", "URL"
    EMAIL = "email", "Email"


@track()
class CustomField(TenantModel):
    """One admin-defined field of one object ("accounts", "contacts", …: registry keys).

    `name` is the API name (`custom.<name>` in the API, `cf_<name>` in forms and query strings);
    it and the type are fixed once created, since stored values would otherwise need converting.
    Archived fields disappear from every page, form, export and API response; their values stay
    stored and come back when the field is restored.
    """

    object = models.CharField(max_length=40)
    name = models.CharField(max_length=40)
    label = models.CharField(max_length=80)
    type = models.CharField(max_length=16, choices=FieldType.choices)
    help_text = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=False)
    # a value of the field's type, applied when a record is created without one
    default = models.JSONField(null=True, blank=True)
    # picklists: the allowed values, in display order
    options = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    archived = models.BooleanField(default=False)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "object", "name"], name="customfield_name_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "object", "position"], name="customfield_object_idx")]

    def __str__(self) -> str:
        return f"{self.object}.{self.name}"


class CustomValue(TenantModel):
    """The filterable copy of one custom value (see the module docstring). Written only by
    services.write_values; never read for display."""

    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="+")
    record_id = models.UUIDField()
    # text, long text, picklist options, URLs and emails: the normalised key (crm/tenancy/search.py)
    text_key = models.TextField(null=True, db_collation=KEY_COLLATION)
    # number and currency (float8 comparisons are leakproof; numeric's are not)
    number = models.FloatField(null=True)
    date = models.DateField(null=True)
    flag = models.BooleanField(null=True)

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "field", "text_key", "record_id"], name="customvalue_text_idx"),
            models.Index(fields=["tenant", "field", "number", "record_id"], name="customvalue_number_idx"),
            models.Index(fields=["tenant", "field", "date", "record_id"], name="customvalue_date_idx"),
            models.Index(fields=["tenant", "field", "flag", "record_id"], name="customvalue_flag_idx"),
            # a record's values (sync, delete, and the planner's probe from a list walked in name order)
            models.Index(fields=["tenant", "record_id", "field"], name="customvalue_record_field_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.field_id}:{self.record_id}"
