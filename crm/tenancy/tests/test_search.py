"""Keys that keep their index under RLS (crm/tenancy/search.py) and the assertion later issues use
to prove it for their own list and search queries (crm/tenancy/testing.py)."""

import pytest
from django.db import connection, models
from django.db.models.functions import Collate, Lower
from django.db.models.sql import Query
from django.test.utils import isolate_apps
from hypothesis import given
from hypothesis import strategies as st

from crm.tenancy import rls, search
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership, Role, Tenant
from crm.tenancy.testing import assert_uses_index, explain_under_rls

# Strings where case folding is not simply lower(): expansions (ß, ﬁ), Turkish dotted I, final
# sigma, title-case digraphs, Kelvin sign, long s, Cherokee (folds to upper case), Deseret (astral).
AWKWARD = [
    "Acme", "ACME GmbH", "Straße", "STRASSE", "İstanbul", "ΟΔΥΣΣΕΎΣ", "ὈΔΥΣΣΕΎΣ ς", "ﬁne ﬂow ﬃ", "ǅemal Ǆ",
    "K Kelvin", "ſ long s", "µ micro", "ꭰ Ꭰ cherokee", "𐐀 deseret", "Øresund Ærø", "Ĳssel", "ŉ ǰ ΐ", "ẞ",
    "Ⅻ Ⓐ", "Łódź", "Dvořák", "Müller", "MÜLLER", "São Paulo", "東京 株式会社", "  spaced  ", "",
]

key_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)


def db_value(expression):
    """Evaluate a Django expression in the database (SELECT <expression>)."""
    query = Query(None)
    resolved = expression.resolve_expression(query)
    sql, params = resolved.as_sql(query.get_compiler(connection=connection), connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return cursor.fetchone()[0]


# --- the normalisation ------------------------------------------------------------------------


def test_the_key_expression_folds_case_under_the_builtin_provider_and_compares_in_c():
    outer = search.normalise_key("name")
    [fold] = outer.get_source_expressions()
    [inner] = fold.get_source_expressions()
    assert (outer.collation, fold.function, inner.collation) == ("C", "casefold", "pg_unicode_fast")


@pytest.mark.django_db
@pytest.mark.parametrize("text", AWKWARD)
def test_python_and_the_database_agree_on_every_key(text):
    assert db_value(search.key_value(text)) == search.normalise_text(text)


def test_the_key_is_case_blind_across_scripts():
    assert search.normalise_text("Straße") == search.normalise_text("STRASSE") == "strasse"
    assert search.normalise_text("ΟΔΥΣΣΕΎΣ") == search.normalise_text("οδυσσεύς")


def test_nul_in_user_input_is_dropped_rather_than_failing_the_query():
    assert search.normalise_text("ac\x00me") == "acme"


# --- prefix bounds ----------------------------------------------------------------------------


def test_a_prefix_becomes_a_half_open_range():
    assert search.prefix_range("Acme") == ("acme", "acmf")
    assert search.prefix_range("Straß") == ("strass", "strast")


def test_an_empty_prefix_has_no_upper_bound():
    assert search.prefix_range("") == ("", None)


def test_the_last_code_point_has_no_successor_so_the_one_before_is_bumped():
    assert search.prefix_range("a\U0010ffff") == ("a\U0010ffff", "b")
    assert search.prefix_range("\U0010ffff") == ("\U0010ffff", None)


def test_the_upper_bound_skips_the_surrogates():
    assert search.prefix_range("a\ud7ff")[1] == "a\ue000"


@given(prefix=key_text, rest=key_text, other=key_text)
def test_the_range_holds_exactly_the_keys_that_start_with_the_prefix(prefix, rest, other):
    lower, upper = search.prefix_range(prefix)
    for text in (prefix + rest, other):
        key = search.normalise_text(text)
        in_range = lower <= key and (upper is None or key < upper)
        assert in_range == key.startswith(lower)


@pytest.mark.django_db
def test_the_c_collation_orders_keys_as_python_does():
    keys = sorted({search.normalise_text(t) for t in AWKWARD} | {"a", "a\U0010ffff", "b", "z", "\ue000"})
    with connection.cursor() as cursor:
        cursor.execute('SELECT k FROM unnest(%s::text[]) k ORDER BY k COLLATE "C"', [keys])
        assert [row[0] for row in cursor.fetchall()] == keys


# --- a keyed tenant table under forced RLS, built from key_field() ----------------------------


@pytest.fixture
def keyed(acme, globex):
    """A temporary tenant table with a generated name_key column (its DDL comes from key_field()
    through Django's schema editor), the project's policy, FORCEd, and rows in two tenants."""
    with isolate_apps("crm.tenancy"):

        class KeyedCustomer(models.Model):
            id = models.UUIDField(primary_key=True)
            tenant_id = models.UUIDField()
            name = models.TextField()
            name_key = search.key_field("name")

            class Meta:
                app_label = "tenancy"
                db_table = "keyed_customer"
                managed = False

            def __str__(self):
                return self.name

        with connection.schema_editor(collect_sql=True) as editor:
            column_sql, params = editor.column_sql(KeyedCustomer, KeyedCustomer._meta.get_field("name_key"))
        assert not params
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE keyed_customer (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
                f"tenant_id uuid NOT NULL, name text NOT NULL, name_key {column_sql}) ON COMMIT DROP"
            )
            cursor.execute("CREATE INDEX keyed_customer_name_key_idx ON keyed_customer (tenant_id, name_key, id)")
            cursor.execute("CREATE INDEX keyed_customer_lower_name_idx ON keyed_customer (tenant_id, lower(name))")
            # the temp table's owner is the app role: FORCE puts it under the policy like any tenant table
            cursor.execute("ALTER TABLE keyed_customer ENABLE ROW LEVEL SECURITY")
            cursor.execute("ALTER TABLE keyed_customer FORCE ROW LEVEL SECURITY")
            cursor.execute(
                f"CREATE POLICY tenant_isolation ON keyed_customer USING (tenant_id = {rls.TENANT_SETTING}) "
                f"WITH CHECK (tenant_id = {rls.TENANT_SETTING})"
            )
        for company in (acme, globex):
            with tenant_context(company.tenant), connection.cursor() as cursor:
                names = [*AWKWARD, *(f"Filler {company.tenant.slug} {n:03d}" for n in range(200))]
                cursor.execute(
                    "INSERT INTO keyed_customer (tenant_id, name) SELECT %s, unnest(%s::text[])",
                    [company.tenant.pk, names],
                )
        yield KeyedCustomer


def test_the_generated_column_python_and_key_value_agree(keyed, acme):
    with tenant_context(acme.tenant):
        rows = list(keyed.objects.filter(tenant_id=acme.tenant.pk, name__in=AWKWARD).values_list("name", "name_key"))
    assert len(rows) == len(AWKWARD)
    for name, key in rows:
        assert key == search.normalise_text(name) == db_value(search.key_value(name)), name


def test_prefix_search_is_an_index_range_under_rls(keyed, acme):
    with tenant_context(acme.tenant):
        qs = keyed.objects.filter(tenant_id=acme.tenant.pk).filter(search.prefix_q("name_key", "STRAß"))
        assert sorted(qs.values_list("name", flat=True)) == ["STRASSE", "Straße"]
    assert_uses_index(qs, "keyed_customer_name_key_idx", tenant=acme.tenant)


def test_exact_case_blind_match_is_an_index_lookup_under_rls(keyed, acme):
    with tenant_context(acme.tenant):
        qs = keyed.objects.filter(tenant_id=acme.tenant.pk, name_key=search.key_value("müller"))
        assert sorted(qs.values_list("name", flat=True)) == ["MÜLLER", "Müller"]
    assert_uses_index(qs, "keyed_customer_name_key_idx", tenant=acme.tenant)


def test_keyset_pages_walk_the_list_in_order_and_use_the_index(keyed, acme):
    with tenant_context(acme.tenant):
        base = keyed.objects.filter(tenant_id=acme.tenant.pk).order_by("name_key", "id")
        expected = list(base.values_list("name_key", "id"))
        seen, cursor = [], None
        while True:
            page = base.filter(search.keyset_after(("name_key", "id"), cursor)) if cursor else base
            rows = list(page.values_list("name_key", "id")[:50])
            if not rows:
                break
            seen.extend(rows)
            cursor = rows[-1]
        assert seen == expected
        deep = base.filter(search.keyset_after(("name_key", "id"), expected[100]))[:50]
    assert_uses_index(deep, "keyed_customer_name_key_idx", tenant=acme.tenant)


def test_descending_keyset_goes_backwards(keyed, acme):
    with tenant_context(acme.tenant):
        base = keyed.objects.filter(tenant_id=acme.tenant.pk)
        everything = list(base.order_by("-name_key", "-id").values_list("name_key", "id"))
        after = base.filter(search.keyset_after(("name_key", "id"), everything[10], descending=True))
        assert list(after.order_by("-name_key", "-id").values_list("name_key", "id")) == everything[11:]


def test_the_tenant_filter_still_applies_to_key_searches(keyed, acme, globex):
    with tenant_context(acme.tenant):
        names = set(keyed.objects.filter(search.prefix_q("name_key", "filler")).values_list("name", flat=True))
    assert names and all(n.startswith("Filler acme") for n in names)


# --- the trap, caught -------------------------------------------------------------------------


def test_lower_of_a_column_is_caught_even_with_an_expression_index(keyed, acme):
    qs = keyed.objects.annotate(lname=Lower("name")).filter(tenant_id=acme.tenant.pk, lname="müller")
    with pytest.raises(AssertionError, match="row by row|does not use"):
        assert_uses_index(qs, "keyed_customer_lower_name_idx", tenant=acme.tenant)


def test_djangos_istartswith_is_caught(keyed, acme):
    qs = keyed.objects.filter(tenant_id=acme.tenant.pk, name_key__istartswith="str")
    with pytest.raises(AssertionError, match="row by row|does not use"):
        assert_uses_index(qs, "keyed_customer_name_key_idx", tenant=acme.tenant)


def test_a_search_value_left_in_the_folding_collation_is_caught(keyed, acme):
    """Without the outer COLLATE "C" the comparison runs in pg_unicode_fast: no index can answer it."""
    folded_only = search.CaseFold(Collate(models.Value("müller"), search.FOLD_COLLATION))
    qs = keyed.objects.filter(tenant_id=acme.tenant.pk, name_key=folded_only)
    with pytest.raises(AssertionError, match="row by row|does not use"):
        assert_uses_index(qs, "keyed_customer_name_key_idx", tenant=acme.tenant)


# --- assert_uses_index on the real tables -----------------------------------------------------


@pytest.mark.django_db
def test_memberships_by_role_use_their_index_under_rls(acme):
    # enough other rows that the role condition is selective (with five rows any index leading
    # with tenant_id ties, and the choice flipped with the statistics earlier tests left)
    from crm.tenancy.tests.factories import UserFactory

    with tenant_context(acme.tenant):
        for n in range(60):
            Membership.objects.create(tenant=acme.tenant, user=UserFactory(email=f"agent{n}@acme.example"),
                                      role=Role.AGENT)
    qs = Membership.objects.for_tenant(acme.tenant).filter(role=Role.REP)
    plan = assert_uses_index(qs, "membership_tenant_role_idx", tenant=acme.tenant)
    assert plan["Node Type"]


@pytest.mark.django_db
def test_raw_sql_and_the_ambient_tenant_context_work_too(acme):
    # Enough other rows that the role condition is selective: with five rows of which four match,
    # any index leading with tenant_id is as good, and the planner may rightly take another one.
    from crm.tenancy.tests.factories import UserFactory

    with tenant_context(acme.tenant):
        for n in range(60):
            Membership.objects.create(tenant=acme.tenant, user=UserFactory(email=f"agent{n}@acme.example"),
                                      role=Role.AGENT)
    with tenant_context(acme.tenant):
        assert_uses_index(
            "SELECT id FROM tenancy_membership WHERE tenant_id = %s AND role = ANY(%s)",
            "membership_tenant_role_idx",
            [acme.tenant.pk, ["rep", "manager"]],
        )


@pytest.mark.django_db
def test_a_table_outside_rls_proves_nothing_and_is_refused(acme):
    with pytest.raises(AssertionError, match="not under row-level security"):
        assert_uses_index(Tenant.objects.filter(pk=acme.tenant.pk), "tenancy_tenant_pkey", tenant=acme.tenant)


@pytest.mark.django_db
def test_the_explain_leaves_no_setting_behind(acme):
    with tenant_context(acme.tenant):
        explain_under_rls(Membership.objects.filter(role=Role.REP))
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('app.tenant_id')")
            assert cursor.fetchone() == ("on", str(acme.tenant.pk))


@pytest.mark.django_db
def test_without_a_tenant_it_refuses_to_explain():
    from crm.tenancy.context import NoTenantError

    with pytest.raises(NoTenantError):
        explain_under_rls(Membership.objects.all())
