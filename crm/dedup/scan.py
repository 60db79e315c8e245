"""Finding duplicates: the rules, the whole-company scan and the check of one record.

Rules (strongest first; a pair found by several keeps the strongest, crm/dedup/models.RULES):
  contacts  same email (any of their addresses)            score 100
            same phone (E.164, any of their numbers)        score 90
            similar full name at the same account, or with
            the same email domain (trigram similarity)       score ≤ 85
  accounts  same domain                                      score 90
            same phone                                       score 90
            similar name, anywhere (legal forms ignored:
            "Acme GmbH" = "ACME"); same country noted        score ≤ 85

Why a job and not a query: trigram similarity has no index under row-level security (pg_trgm's
operators are not leakproof; ARCHITECTURE.md, "Speed under RLS"), and comparing all pairs of a
million accounts is 5·10^11 comparisons. So the scan never compares all pairs:
  - equality rules are one GROUP BY over an index that leads with (tenant, value), keeping only
    values held by more than one record, each group capped (GROUP_CAP: a shared "info@" address on
    400 contacts is not 80,000 duplicate pairs);
  - similarity rules use blocking by sorted neighbourhood: the records stream once in an order that
    puts likely duplicates next to each other (name key; account then name; email domain then
    name), and each is compared with the WINDOW records before it in the same block. That is
    n·WINDOW comparisons (10 million for a million accounts: 7.7 s per 200,000 synthetic names
    measured here, so about 40 s per million plus the read), memory O(WINDOW) for the stream,
    and the database only streams an ordered read. The trigram similarity is pg_trgm's (the same
    words and padding), computed here; thresholds 0.5 for contacts (already blocked by account or
    email domain), 0.6 for accounts (compared anywhere); at most MAX_NAME_PAIRS name pairs kept.
It misses names whose first letters differ by a typo ("Kmith"/"Smith"): the price of blocking,
and what global search's fuzzy branch is for.

The scan runs per tenant in Celery (crm/dedup/tasks.py: nightly, and "Scan now" for admins) and
stores DuplicateCandidate rows; it updates rule, score and detail of known pairs and never their
status, so "Not a duplicate" stays dismissed. Open pairs it no longer finds are removed.

A record's page asks `find_for_record`, which checks that one record live with indexed queries
only: equality on the email/phone/domain indexes, and for names a key-range read of the records
whose name key starts like this one's (and, for contacts, those at the same account), each capped,
compared here.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, models
from django.db.models import F, Func, Value
from django.utils import timezone

from crm.tenancy.search import prefix_q

from .models import RULES, DuplicateCandidate, ObjectType, Rule

WINDOW = 10
GROUP_CAP = 20
# contacts are compared only within an account or an email domain, so a looser threshold still
# finds "Mia"/"Mya Meyer" (0.5); accounts are compared anywhere, where 0.5 pairs every "Deutsche …"
ACCOUNT_NAME_THRESHOLD = 0.6
NAME_THRESHOLD = 0.5
NEIGHBOURS_CAP = 300
# a company whose names are unusually alike (every account "Müller …") must not fill the queue
# with hundreds of thousands of weak pairs: the best MAX_NAME_PAIRS similar-name pairs are kept
MAX_NAME_PAIRS = 100_000
SCORES = {Rule.SAME_EMAIL: 100, Rule.SAME_PHONE: 90, Rule.SAME_DOMAIN: 90}
LEGAL_FORMS = {
    "ab", "ag", "as", "bv", "co", "company", "corp", "corporation", "gmbh", "inc", "incorporated", "kg", "llc",
    "llp", "lp", "ltd", "limited", "nv", "oy", "plc", "pty", "sa", "sarl", "sas", "se", "spa", "srl", "the", "und",
    "and", "&",
}
_WORD = re.compile(r"[^\W_]+")


# --- similarity --------------------------------------------------------------------------------

def trigrams(text: str) -> frozenset:
    """pg_trgm's trigrams: per alphanumeric word, lower-cased, padded with two spaces before and
    one after."""
    out = set()
    for word in _WORD.findall(text.casefold()):
        padded = f"  {word} "
        out.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return frozenset(out)


def similarity(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def core_name(name: str) -> str:
    """An account name without legal forms and filler words, for comparing."""
    words = [w for w in _WORD.findall((name or "").casefold()) if w not in LEGAL_FORMS]
    return " ".join(words) or (name or "").casefold()


def name_score(sim: float) -> int:
    """The similarity in percent, capped at 85: an identical name alone is weaker evidence than a
    shared phone (90) or email (100)."""
    return min(85, round(sim * 100))


# --- found pairs -------------------------------------------------------------------------------

@dataclass
class Pair:
    a: object
    b: object
    rule: str
    score: int
    detail: str


class Pairs:
    """Found pairs, one per (a, b), keeping the strongest rule (then the highest score)."""

    def __init__(self, object_label: str) -> None:
        self.order = {rule: i for i, rule in enumerate(RULES[object_label])}
        self.found: dict[tuple, Pair] = {}

    def add(self, x, y, rule: str, score: int, detail: str = "") -> None:
        if x == y:
            return
        a, b = sorted((x, y), key=str)
        old = self.found.get((a, b))
        if old is None or (self.order[rule], -score) < (self.order[old.rule], -old.score):
            self.found[(a, b)] = Pair(a, b, rule, score, detail[:300])

    def __len__(self) -> int:
        return len(self.found)

    def __iter__(self) -> Iterator[Pair]:
        return iter(self.found.values())


# --- the whole-company scan ----------------------------------------------------------------------

def _equal_groups(sql: str, params: list, pairs: Pairs, rule: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for value, ids in cursor.fetchall():
            ids = sorted(set(ids), key=str)[:GROUP_CAP]
            for i, x in enumerate(ids):
                for y in ids[i + 1:]:
                    pairs.add(x, y, rule, SCORES[rule], value)


def _edits(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance of two short strings, stopping early above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _close(a: str, b: str, *, threshold: float) -> bool:
    """Two name parts that could be one person's: a typo (one edit; two in a long name), a short
    form ("Flo" / "Florian"), or similar enough by trigrams."""
    a, b = a.casefold().strip(), b.casefold().strip()
    if not a or not b or a == b:
        return True
    if len(a) >= 2 and len(b) >= 2 and (a.startswith(b) or b.startswith(a)):
        return True
    if _edits(a, b) <= (2 if min(len(a), len(b)) >= 7 else 1):
        return True
    return similarity(trigrams(a), trigrams(b)) >= threshold


def same_person(first_a: str, last_a: str, first_b: str, last_b: str) -> bool:
    """A similar full name is not enough for people: colleagues share last names ("Mia Martinez" /
    "Noah Martinez") and first names ("Katharina Steiner" / "Katharina Wagner") at one company all
    the time. Both the first and the last name must be close on their own."""
    return _close(first_a, first_b, threshold=0.4) and _close(last_a, last_b, threshold=0.5)


def _windowed(rows: Iterable[tuple], pairs: Pairs, *, block, text, detail, threshold: float = NAME_THRESHOLD,
              accept=None) -> int:
    """Sorted neighbourhood: compare each row with the WINDOW rows before it in the same block."""
    window: deque = deque(maxlen=WINDOW)
    current = object()
    seen = 0
    for row in rows:
        seen += 1
        key = block(row)
        if key != current:
            window.clear()
            current = key
        if key in (None, ""):
            continue
        grams = trigrams(text(row))
        for other, other_grams in window:
            sim = similarity(grams, other_grams)
            if sim >= threshold and (accept is None or accept(row, other)):
                pairs.add(row[0], other[0], Rule.SIMILAR_NAME, name_score(sim), detail(row, other))
        window.append((row, grams))
    return seen


def _email_domain():
    return Func(F("email"), Value("@"), Value(2), function="split_part", output_field=models.TextField())


def scan_contacts(tenant_id) -> tuple[Pairs, int]:
    from contacts.models import Contact

    pairs = Pairs(ObjectType.CONTACTS)
    _equal_groups(
        "SELECT email, array_agg(contact_id) FROM contacts_contactemail WHERE tenant_id = %s "
        "GROUP BY email HAVING count(DISTINCT contact_id) > 1", [tenant_id], pairs, Rule.SAME_EMAIL)
    # A company's main line (an account's phone) is shared by everyone who works there: colleagues
    # who give the switchboard as their work number are not one person, so those numbers are left out.
    _equal_groups(
        "SELECT number, array_agg(contact_id) FROM contacts_contactphone WHERE tenant_id = %s "
        "AND number NOT IN (SELECT phone FROM accounts_account WHERE tenant_id = %s AND phone <> '') "
        "GROUP BY number HAVING count(DISTINCT contact_id) > 1", [tenant_id, tenant_id], pairs, Rule.SAME_PHONE)
    base = Contact.objects.for_tenant(tenant_id).filter(erased_at__isnull=True)
    columns = ("id", "first_name", "last_name", "account_id", "email")

    def full(row):
        return f"{row[1]} {row[2]}"

    def people(row, other):
        return same_person(row[1], row[2], other[1], other[2])

    seen = base.count()
    _windowed(
        base.filter(account_id__isnull=False).order_by("account_id", "name_key", "id").values_list(*columns)
        .iterator(chunk_size=2000),
        pairs, block=lambda r: r[3], text=full, detail=lambda r, o: f"{full(o)} / {full(r)}, same account",
        accept=people,
    )
    _windowed(
        base.exclude(email="").annotate(domain=_email_domain()).order_by("domain", "name_key", "id")
        .values_list(*columns, "domain").iterator(chunk_size=2000),
        pairs, block=lambda r: r[5], text=full, detail=lambda r, o: f"{full(o)} / {full(r)}, @{r[5]}",
        accept=people,
    )
    return pairs, seen


def scan_accounts(tenant_id) -> tuple[Pairs, int]:
    from accounts.models import Account

    pairs = Pairs(ObjectType.ACCOUNTS)
    _equal_groups(
        "SELECT domain, array_agg(id) FROM accounts_account WHERE tenant_id = %s AND domain <> '' "
        "GROUP BY domain HAVING count(*) > 1", [tenant_id], pairs, Rule.SAME_DOMAIN)
    _equal_groups(
        "SELECT phone, array_agg(id) FROM accounts_account WHERE tenant_id = %s AND phone <> '' "
        "GROUP BY phone HAVING count(*) > 1", [tenant_id], pairs, Rule.SAME_PHONE)

    def detail(row, other):
        where = ", same country" if row[2] and row[2] == other[2] else ""
        return f"{other[1]} / {row[1]}{where}"

    seen = _windowed(
        Account.objects.for_tenant(tenant_id).order_by("name_key", "id")
        .values_list("id", "name", "billing_country").iterator(chunk_size=2000),
        pairs, block=lambda r: "all", text=lambda r: core_name(r[1]), detail=detail, threshold=ACCOUNT_NAME_THRESHOLD,
    )
    return pairs, seen


SCANNERS = {ObjectType.CONTACTS: scan_contacts, ObjectType.ACCOUNTS: scan_accounts}


def store(tenant_id, object_label: str, pairs: Pairs, *, started) -> int:
    """Upsert the found pairs (status kept) and drop open pairs this scan no longer finds."""
    now = timezone.now()
    found = list(pairs)
    by_name = [p for p in found if p.rule == Rule.SIMILAR_NAME]
    if len(by_name) > MAX_NAME_PAIRS:
        weakest_kept = sorted(by_name, key=lambda p: -p.score)[MAX_NAME_PAIRS - 1].score
        found = [p for p in found if p.rule != Rule.SIMILAR_NAME or p.score > weakest_kept]
    rows = [DuplicateCandidate(tenant_id=tenant_id, object=object_label, record_a=p.a, record_b=p.b, rule=p.rule,
                               score=p.score, detail=p.detail, found_at=now) for p in found]
    for i in range(0, len(rows), 1000):
        DuplicateCandidate.objects.bulk_create(
            rows[i:i + 1000], update_conflicts=True, unique_fields=["tenant", "object", "record_a", "record_b"],
            update_fields=["rule", "score", "detail", "found_at", "updated_at"],
        )
    DuplicateCandidate.objects.for_tenant(tenant_id).filter(
        object=object_label, status=DuplicateCandidate.Status.OPEN, found_at__lt=started,
    ).delete()
    return len(rows)


def scan_tenant(tenant_id, objects: Iterable[str] = (ObjectType.ACCOUNTS, ObjectType.CONTACTS)) -> dict:
    """Scan every object of one tenant (inside its tenant context); {object: (records, pairs)}."""
    out = {}
    for object_label in objects:
        started = timezone.now()
        pairs, seen = SCANNERS[object_label](tenant_id)
        out[object_label] = (seen, store(tenant_id, object_label, pairs, started=started))
    return out


# --- one record, live ------------------------------------------------------------------------------

def find_for_record(record, object_label: str) -> list[Pair]:
    """Pairs of `record` with other records of its company by every rule, from indexed reads only
    (a bounded number of queries). Visibility is the caller's: it fetches the others through
    policy.visible()."""
    pairs = Pairs(object_label)
    tenant_id = record.tenant_id
    if object_label == ObjectType.CONTACTS:
        from contacts.models import Contact, ContactEmail, ContactPhone

        emails = list(ContactEmail.objects.filter(tenant_id=tenant_id, contact_id=record.pk)
                      .values_list("email", flat=True))
        for other, email in ContactEmail.objects.filter(tenant_id=tenant_id, email__in=emails).exclude(
                contact_id=record.pk).values_list("contact_id", "email")[:NEIGHBOURS_CAP]:
            pairs.add(record.pk, other, Rule.SAME_EMAIL, SCORES[Rule.SAME_EMAIL], email)
        from accounts.models import Account

        numbers = list(ContactPhone.objects.filter(tenant_id=tenant_id, contact_id=record.pk)
                       .values_list("number", flat=True))
        main_lines = set(Account.objects.for_tenant(tenant_id).filter(phone__in=numbers)
                         .values_list("phone", flat=True)) if numbers else set()
        numbers = [n for n in numbers if n not in main_lines]  # a switchboard is not a person (see scan_contacts)
        for other, number in ContactPhone.objects.filter(tenant_id=tenant_id, number__in=numbers).exclude(
                contact_id=record.pk).values_list("contact_id", "number")[:NEIGHBOURS_CAP]:
            pairs.add(record.pk, other, Rule.SAME_PHONE, SCORES[Rule.SAME_PHONE], number)
        mine = trigrams(record.full_name)
        domain = record.email.partition("@")[2]
        columns = ("id", "first_name", "last_name", "account_id", "email")
        neighbours = []
        if record.account_id:
            neighbours += list(Contact.objects.for_tenant(tenant_id).filter(account_id=record.account_id)
                               .exclude(pk=record.pk).values_list(*columns)[:NEIGHBOURS_CAP])
        start = (record.name_key or "")[:3]
        if len(start) == 3:
            neighbours += list(Contact.objects.for_tenant(tenant_id).filter(prefix_q("name_key", start))
                               .exclude(pk=record.pk).order_by("name_key", "id").values_list(*columns)[:NEIGHBOURS_CAP])
        for row in neighbours:
            same_account = record.account_id and row[3] == record.account_id
            same_domain = domain and row[4].partition("@")[2] == domain
            if not (same_account or same_domain) or row[0] == record.pk:
                continue
            sim = similarity(mine, trigrams(f"{row[1]} {row[2]}"))
            if sim >= NAME_THRESHOLD and same_person(record.first_name, record.last_name, row[1], row[2]):
                where = "same account" if same_account else f"@{domain}"
                pairs.add(record.pk, row[0], Rule.SIMILAR_NAME, name_score(sim), f"{row[1]} {row[2]}, {where}")
    else:
        from accounts.models import Account

        accounts = Account.objects.for_tenant(tenant_id).exclude(pk=record.pk)
        if record.domain:
            for other in accounts.filter(domain=record.domain).values_list("id", flat=True)[:NEIGHBOURS_CAP]:
                pairs.add(record.pk, other, Rule.SAME_DOMAIN, SCORES[Rule.SAME_DOMAIN], record.domain)
        if record.phone:
            for other in accounts.filter(phone=record.phone).values_list("id", flat=True)[:NEIGHBOURS_CAP]:
                pairs.add(record.pk, other, Rule.SAME_PHONE, SCORES[Rule.SAME_PHONE], record.phone)
        mine = trigrams(core_name(record.name))
        start = (record.name_key or "")[:3]
        if len(start) == 3:
            for pk, name, country in accounts.filter(prefix_q("name_key", start)).order_by("name_key", "id") \
                    .values_list("id", "name", "billing_country")[:NEIGHBOURS_CAP]:
                sim = similarity(mine, trigrams(core_name(name)))
                if sim >= ACCOUNT_NAME_THRESHOLD:
                    where = ", same country" if country and country == str(record.billing_country or "") else ""
                    pairs.add(record.pk, pk, Rule.SIMILAR_NAME, name_score(sim), f"{name}{where}")
    return list(pairs)
