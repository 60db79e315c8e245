"""Sort, filter and search keys that keep their index under row-level security.

While a policy applies, PostgreSQL evaluates a condition before the policy only if every function
in it is LEAKPROOF. `lower()`, `LIKE`/`ILIKE`, `@@`, trigram operators, `numeric`, `jsonb` and
array operators are not; a condition using them cannot be an index condition under RLS and is
instead checked row by row over the whole tenant (bench/RESULTS.md has the figures). Comparisons
(`=`, `<`, `>`, `BETWEEN`, `IN`) of `text`, `uuid`, integers, `boolean`, `date` and `timestamptz`
are leakproof. So a value we sort or search by is stored normalised, in a real (generated) column,
and compared with those operators only:

    class Account(TenantModel):
        name = models.CharField(max_length=200)
        name_key = key_field("name")                     # casefold(name), COLLATE "C"

        class Meta:
            indexes = [models.Index(fields=["tenant", "name_key", "id"], name="account_name_key_idx")]

    Account.objects.for_tenant(t).filter(prefix_q("name_key", "Müll"))       # prefix search
    Account.objects.for_tenant(t).filter(name_key=key_value("Müller GmbH"))  # exact, case-blind
    qs.order_by("name_key", "id").filter(keyset_after(("name_key", "id"), cursor))   # next page

The key is `casefold(<column> COLLATE pg_unicode_fast) COLLATE "C"`: full Unicode case folding by
PostgreSQL's builtin provider (it does not change with the operating system's C library, and it is
the folding Python's `str.casefold()` does: "Straße" and "STRASSE" get the same key), stored in the
"C" collation, i.e. plain code-point order. That order makes comparisons deterministic and
leakproof, and it makes a prefix exactly a range, which `prefix_range()` computes.

Full-text and trigram (fuzzy, substring) search cannot be written with such operators; they go
through one narrow SECURITY DEFINER function per searchable table that re-applies the tenant itself
and returns ids only (ARCHITECTURE.md, "Speed under RLS").
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Collate

# Keys are stored and compared in code-point order (the collation of every `*_key` column).
KEY_COLLATION = "C"
# casefold() under this builtin collation is full Unicode case folding (ß -> ss), as str.casefold().
FOLD_COLLATION = "pg_unicode_fast"

_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


class CaseFold(Func):
    function = "casefold"  # PostgreSQL 18
    output_field = models.TextField()


def normalise_key(expression) -> Func:
    """The key expression: `casefold(<expression> COLLATE pg_unicode_fast) COLLATE "C"`.

    The one definition of the normalisation, used for the generated column (`key_field`) and for
    values compared with it (`key_value`), so the two cannot drift apart. A string names a field.
    The outer COLLATE "C" matters for values: an explicit collation wins in a comparison, and
    `name_key = casefold('x' COLLATE pg_unicode_fast)` would compare under pg_unicode_fast, which
    the "C" index cannot answer (with or without RLS).
    """
    if isinstance(expression, str):
        expression = F(expression)
    return Collate(CaseFold(Collate(expression, FOLD_COLLATION)), KEY_COLLATION)


def key_field(source: str) -> models.GeneratedField:
    """A stored generated `<source>_key` column: the normalised key of the field `source`."""
    return models.GeneratedField(
        expression=normalise_key(source),
        output_field=models.TextField(db_collation=KEY_COLLATION),
        db_persist=True,
    )


def key_value(text: str) -> Func:
    """A search value normalised by the database, exactly as the generated column was."""
    return normalise_key(Value(_clean(text), output_field=models.TextField()))


def normalise_text(text: str) -> str:
    """The key of `text`, computed in Python: what the generated column stores for it.

    Equal to the database's result (tests/test_search.py checks a corpus of awkward cases) as
    long as Python and PostgreSQL know the same Unicode version; they differ only for characters
    added since Python's version. Use it where the key must be known in Python (prefix bounds,
    cursors); compare with `key_value()` where the database can do it.
    """
    return _clean(text).casefold()


def prefix_range(text: str) -> tuple[str, str | None]:
    """(lower, upper) bounds such that `lower <= key < upper` iff the key starts with text's key.

    `upper` is None when there is no upper bound (empty prefix, or only U+10FFFF code points).
    Exact for keys in code-point order (the "C" collation of `*_key` columns). Example:
    prefix_range("Straß") == ("strass", "strast").
    """
    lower = normalise_text(text)
    chars = list(lower)
    while chars and ord(chars[-1]) == _MAX_CODE_POINT:
        chars.pop()  # nothing sorts after U+10FFFF at this position: bump the one before
    if not chars:
        return lower, None
    nxt = ord(chars[-1]) + 1
    if nxt in _SURROGATES:  # not valid in UTF-8 text; the next real code point follows them
        nxt = _SURROGATES.stop
    return lower, "".join(chars[:-1]) + chr(nxt)


def prefix_q(field: str, text: str) -> Q:
    """`field >= lower AND field < upper`: a prefix search on a `*_key` column, as an index range.

    (Django's `__startswith`/`__istartswith` compile to LIKE, which is not leakproof: under RLS
    it reads the whole tenant.)
    """
    lower, upper = prefix_range(text)
    q = Q(**{f"{field}__gte": lower})
    if upper is not None:
        q &= Q(**{f"{field}__lt": upper})
    return q


class KeysetAfter(Func):
    """`(a, b, …) > (x, y, …)` (or `<` with descending=True): the next page after a cursor row.

    A row comparison is one index range on an index `(tenant_id, a, b, …)`, however deep the page;
    OFFSET reads and throws away every row before it. All columns must sort the same way (ORDER BY
    a, b or ORDER BY a DESC, b DESC), and the last one must make the order total (`id`).
    """

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, fields: Sequence[str], values: Sequence, *, descending: bool = False):
        if not fields or len(fields) != len(values):
            raise ValueError("keyset_after needs as many values as fields, at least one")
        self.width = len(fields)
        self.operator = "<" if descending else ">"
        super().__init__(*[F(f) for f in fields], *[_as_value(v) for v in values])

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, p = compiler.compile(expression)
            parts.append(sql)
            params.extend(p)
        lhs, rhs = parts[: self.width], parts[self.width :]
        return f"({', '.join(lhs)}) {self.operator} ({', '.join(rhs)})", params


def keyset_after(fields: Sequence[str], values: Sequence, *, descending: bool = False) -> KeysetAfter:
    """Filter for the page after the row whose `fields` are `values` (see KeysetAfter)."""
    return KeysetAfter(fields, values, descending=descending)


def _as_value(value):
    return value if hasattr(value, "resolve_expression") else Value(value)


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; user input that contains one would make the query fail.
    return (text or "").replace("\x00", "")
