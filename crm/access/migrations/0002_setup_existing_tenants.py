"""Give every tenant that existed before the access model its system profiles, organisation-wide
defaults, and a role tree mirroring its reporting lines (crm.access.defaults.setup_tenant), so
nobody's access changes on the day this lands. New tenants and members get theirs when they are
created (crm.access.signals)."""

from django.db import migrations


def setup_existing(apps, schema_editor):
    from crm.access import defaults
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Tenant

    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            defaults.setup_tenant(tenant.pk)


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]

    operations = [migrations.RunPython(setup_existing, migrations.RunPython.noop)]
