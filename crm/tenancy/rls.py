"""Row-level security, composite tenant keys and grants, applied after every migrate.

Why here and not in each migration: a later issue that adds a tenant table gets all of this
without writing a line, and the catalog tests (tests/isolation/test_catalog.py) prove it.
Everything below is idempotent.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connection, models

TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
USER_SETTING = "NULLIF(current_setting('app.user_id', true), '')::uuid"
POLICY = "tenant_isolation"

# Extra, narrower policies some tables need, OR'd with the tenant policy for SELECT only.
# Membership: a signed-in user may read their own memberships in every tenant (tenant switcher,
# default tenant at sign-in). Writes still need the tenant.
EXTRA_SELECT_POLICIES = {
    "tenancy_membership": ("own_memberships", f"user_id = {USER_SETTING}"),
}


def tenant_models() -> list[type[models.Model]]:
    """Every concrete table that holds tenant data: it has a `tenant` foreign key."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if not opts.managed or opts.proxy:
            continue
        if any(f.name == "tenant" and f.is_relation for f in opts.concrete_fields):
            found.append(model)
    return found


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _tenant_column(model) -> str:
    return model._meta.get_field("tenant").column


def apply_rls(model, cursor) -> None:
    table = model._meta.db_table
    col = _tenant_column(model)
    cursor.execute(f"ALTER TABLE {_q(table)} ENABLE ROW LEVEL SECURITY")
    cursor.execute(f"ALTER TABLE {_q(table)} FORCE ROW LEVEL SECURITY")
    cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {_q(table)}")
    cursor.execute(
        f"CREATE POLICY {POLICY} ON {_q(table)} USING ({_q(col)} = {TENANT_SETTING}) "
        f"WITH CHECK ({_q(col)} = {TENANT_SETTING})"
    )
    extra = EXTRA_SELECT_POLICIES.get(table)
    if extra:
        name, expr = extra
        cursor.execute(f"DROP POLICY IF EXISTS {name} ON {_q(table)}")
        cursor.execute(f"CREATE POLICY {name} ON {_q(table)} FOR SELECT USING ({expr})")


def _has_unique_tenant_id(model) -> bool:
    return model._meta.pk.name == "id" and any(
        set(getattr(c, "fields", ())) == {"tenant", "id"} for c in model._meta.constraints
    )


def tenant_references(model):
    """Foreign keys from a tenant table to another tenant table (both carry tenant_id)."""
    for field in model._meta.concrete_fields:
        if not field.is_relation or field.name == "tenant" or not field.db_constraint:
            continue
        target = field.related_model
        if target in tenant_models():
            yield field, target


def composite_fk_name(model, field) -> str:
    return f"{model._meta.db_table}_{field.column}_tfk"[:63]


def apply_composite_fks(model, cursor) -> None:
    """`(tenant_id, x_id) REFERENCES target (tenant_id, id)`: a row can only point into its own tenant."""
    table = model._meta.db_table
    for field, target in tenant_references(model):
        if not _has_unique_tenant_id(target):
            continue
        name = composite_fk_name(model, field)
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [name])
        if cursor.fetchone():
            continue
        # ON DELETE matches the Django field where the database can express it; SET NULL must
        # only null the reference column, never tenant_id (PostgreSQL 15+ column list).
        on_delete = ""
        if field.remote_field.on_delete is models.SET_NULL:
            on_delete = f" ON DELETE SET NULL ({_q(field.column)})"
        cursor.execute(
            f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} FOREIGN KEY "
            f"({_q(_tenant_column(model))}, {_q(field.column)}) REFERENCES "
            f"{_q(target._meta.db_table)} ({_q(_tenant_column(target))}, {_q(target._meta.pk.column)})"
            f"{on_delete} DEFERRABLE INITIALLY DEFERRED"
        )


def _declared_fk_index(model, field) -> str | None:
    """A declared index that starts with (tenant, field) already serves every lookup and foreign
    key check on the pair: the owner's lists index (tenant, owner, name_key, id) answers "rows of
    this owner" as well as a two-column index would."""
    for index in model._meta.indexes:
        if index.condition is None and [f.lstrip("-") for f in index.fields[:2]] == ["tenant", field.name]:
            return index.name
    return None


def tenant_fk_index_name(model, field) -> str:
    """The index that serves `(tenant_id, <fk column>)`: a declared one that starts with the pair,
    otherwise the one apply_fk_indexes makes."""
    return _declared_fk_index(model, field) or f"{model._meta.db_table}_{field.column}_tidx"[:63]


def apply_fk_indexes(model, cursor) -> None:
    """`(tenant_id, <fk column>)` for every foreign key of a tenant table (see models.py), unless a
    declared index already starts with the pair. A redundant copy is dropped: every index is
    written on every insert and on every update of its columns, and an ownership transfer rewrites
    owner_id on tens of thousands of rows (bench/RESULTS.md, "Ownership transfer")."""
    table = model._meta.db_table
    for field in model._meta.concrete_fields:
        if not field.is_relation or field.name == "tenant":
            continue
        own = f"{table}_{field.column}_tidx"[:63]
        if _declared_fk_index(model, field):
            cursor.execute(f"DROP INDEX IF EXISTS {_q(own)}")
            continue
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {_q(own)} ON {_q(table)} "
            f"({_q(_tenant_column(model))}, {_q(field.column)})"
        )


def apply_grants(cursor) -> None:
    role = settings.DATABASE_APP_ROLE
    cursor.execute("SELECT current_user")
    if cursor.fetchone()[0] == role:
        return  # running as the app role (a misconfigured migrate); nothing to grant to ourselves
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {_q(role)}")
    privileges = "SELECT, INSERT, UPDATE, DELETE"
    if getattr(settings, "DATABASE_APP_GRANT_TRUNCATE", False):
        # tests only: pytest-django flushes transactional tests with TRUNCATE, and
        # crm.tenancy.testing ANALYZEs tiny test tables so index assertions see real statistics
        privileges += ", TRUNCATE, MAINTAIN"
    cursor.execute(f"GRANT {privileges} ON ALL TABLES IN SCHEMA public TO {_q(role)}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {_q(role)}")
    # History is append-only for the application: without UPDATE/DELETE it cannot rewrite a change
    # record even if it switched the append-only trigger off (pgtrigger.ignore is a session
    # setting it may set). The one reviewed rewrite, a GDPR erasure, runs as the owner inside a
    # SECURITY DEFINER function (contacts/gdpr.py).
    from pghistory.models import Event

    for model in apps.get_models():
        if issubclass(model, Event) and not model._meta.abstract and model._meta.managed:
            cursor.execute(f"REVOKE UPDATE, DELETE ON {_q(model._meta.db_table)} FROM {_q(role)}")


def apply_all(sender=None, using="default", **kwargs) -> None:
    # post_migrate fires once per app; do the work once, after the last app.
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is not None and sender.label != with_models[-1].label:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == settings.DATABASE_APP_ROLE:
            # post_migrate also fires after a flush (transactional tests) as the app role, which
            # owns nothing and may change nothing here; migrations run as the owner.
            return
        for model in tenant_models():
            apply_rls(model, cursor)
        for model in tenant_models():
            apply_composite_fks(model, cursor)
            apply_fk_indexes(model, cursor)
        apply_grants(cursor)
