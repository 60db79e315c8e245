#!/usr/bin/env python
"""The data generator every benchmark reuses: realistic CRM tenants, loaded with COPY.

    python bench/generate.py --db crm_bench_customers --scale 0.01     # ~11k accounts in the largest
    python bench/generate.py --db crm_bench_customers --scale 1 --reset  # the issue's full size

Scale 1.0 is the customers issue's size: 1,000 tenants; the largest holds 1,000,000 accounts,
3,000,000 contacts (with ContactEmail/ContactPhone rows, the primary ones denormalised onto the
contact) and 10,000,000 activities; the 999 others follow a long tail (30,000 accounts at the top,
a handful at the bottom). The largest tenant has a role hierarchy (an admin, 5 directors, 25
managers, 400 reps; `role_tree`): the admin's queue holds 40 % of the accounts, the rest is spread
over the reps, so one rep owns about 0.14 % of the tenant. It also holds one showcase account
("Showcase Industries AG", owned by the first rep) with 50 contacts and 2,000 activities, a parent
and children. Every run with the same --seed and --today produces the same rows (ids included).

The database must be a scratch one (its name contains "bench"), migrated by the project
(`CRM_DB_ROLE=owner python manage.py migrate` with both URLs pointing at it). Loading runs as the
owner, one transaction per table: FORCE ROW LEVEL SECURITY is lifted (COPY FROM is refused under
RLS), the user triggers (history) are disabled, the table's plain indexes and outgoing foreign keys
are dropped, the rows are COPied (FREEZE, into the table just truncated), then the indexes are
rebuilt, the foreign keys re-added (so PostgreSQL validates every reference), the triggers enabled
and FORCE restored before the commit: a failure leaves the table as it was. Then ANALYZE.
Generated columns (`*_key`) are computed by PostgreSQL; only real columns are filled.

Reusing it: `Generator(scale=…, seed=…)` exposes the plan (`tenants`, members per tenant) and one
row iterator per table; `load_table(owner, table, columns, rows)` is the bulk loader;
`role_tree(fanouts)` builds a hierarchy (an 8-level tree of 500 members: fanouts
(2, 2, 2, 2, 3, 3, 2) or similar). Later benchmarks add their tables by subclassing Generator and
calling `load_table` for them after `load()`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

# --- vocabulary -------------------------------------------------------------------------------

WORDS = ("Nord Süd Alpen Baltic Atlas Pacific Summit Harbor Crown Silver Golden Blue Green Red Iron Stone "
         "River Lake Valley Ridge Cedar Oak Maple Pine Falcon Eagle Lion Tiger Phoenix Orion Vega Nova Polar "
         "Coastal Central United Global Metro Urban Rural Prime First Royal Liberty Horizon Pioneer Vertex "
         "Quantum Fusion Apex Zenith Omega Delta Sigma Helix Matrix Vector Pixel Cobalt Copper Amber Ivory "
         "Müller Øresund Île Åland Łódź İstanbul Kraków Zürich Málaga Besançon").split()
# trade word -> industry (Account.Industry values)
TRADES = {
    "Logistics": "transport", "Freight": "transport", "Marine": "transport", "Aviation": "transport",
    "Bakery": "consumer_goods", "Foods": "consumer_goods", "Brewing": "consumer_goods", "Textiles": "manufacturing",
    "Motors": "manufacturing", "Metals": "manufacturing", "Plastics": "manufacturing", "Tools": "manufacturing",
    "Works": "manufacturing", "Pharma": "healthcare", "Dental": "healthcare", "Clinic": "healthcare",
    "Energy": "energy", "Solar": "energy", "Robotics": "technology", "Software": "technology",
    "Systems": "technology", "Analytics": "technology", "Labs": "technology", "Consulting": "professional_services",
    "Partners": "professional_services", "Construction": "construction", "Insurance": "finance",
    "Capital": "finance", "Media": "media", "Studios": "media", "Farms": "agriculture", "Hotels": "hospitality",
    "Travel": "hospitality", "Telecom": "telecom", "Networks": "telecom", "Security": "professional_services",
    "Properties": "real_estate", "Retail": "retail", "Stores": "retail", "Academy": "education",
}
TRADE_NAMES = list(TRADES)
SUFFIXES = "GmbH AG Ltd Inc LLC SARL SpA BV Oy AB KG SE".split()
FIRST = ("Anna Ben Clara David Emma Felix Greta Hugo Ida Jonas Karl Lena Max Nina Oskar Paula Sofia Liam Noah "
         "Olivia Mia Lucas Chloé Léa Zoé José María Søren Åsa Björn Łukasz Zofia Mehmet Ayşe Yuki Wei Priya "
         "Arjun Fatima Omar Sven Ingrid Pierre Camille Giulia Marco Elena Ivan Olga Tomás Inês").split()
LAST = ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf "
        "Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Smith Jones "
        "Williams Brown Taylor Martin Bernard Dubois Rossi Russo García Fernández López Nowak Kowalski "
        "Jensen Nielsen Andersson Johansson Yılmaz Kaya Tanaka Suzuki Wang Li Sharma Patel Silva Santos "
        "O'Brien Murphy Van der Berg De Vries Novák Horváth").split()
TITLES = ("CEO", "CFO", "CTO", "COO", "Head of Purchasing", "Purchasing Manager", "Sales Director",
          "Office Manager", "IT Manager", "Project Manager", "Engineer", "Accountant", "Assistant",
          "Operations Manager", "Marketing Manager", "Buyer", "Managing Director", "Team Lead")
DEPARTMENTS = ("Management", "Purchasing", "Finance", "IT", "Operations", "Sales", "Marketing", "Engineering", "")
# (ISO country, currency, calling code, [(city, region, postal code prefix)])
COUNTRIES = [
    ("DE", "EUR", "49", [("Berlin", "Berlin", "10"), ("München", "Bayern", "80"), ("Hamburg", "Hamburg", "20"),
                         ("Köln", "NRW", "50"), ("Düsseldorf", "NRW", "40"), ("Leipzig", "Sachsen", "04")]),
    ("FR", "EUR", "33", [("Paris", "Île-de-France", "75"), ("Lyon", "Auvergne-Rhône-Alpes", "69"),
                         ("Besançon", "Bourgogne-Franche-Comté", "25")]),
    ("GB", "GBP", "44", [("London", "England", "EC"), ("Manchester", "England", "M"), ("Edinburgh", "Scotland", "EH")]),
    ("US", "USD", "1", [("New York", "NY", "10"), ("Chicago", "IL", "60"), ("Austin", "TX", "78"),
                        ("San Francisco", "CA", "94")]),
    ("ES", "EUR", "34", [("Madrid", "Madrid", "28"), ("Málaga", "Andalucía", "29")]),
    ("IT", "EUR", "39", [("Milano", "Lombardia", "20"), ("Roma", "Lazio", "00")]),
    ("NL", "EUR", "31", [("Amsterdam", "Noord-Holland", "10"), ("Rotterdam", "Zuid-Holland", "30")]),
    ("CH", "CHF", "41", [("Zürich", "ZH", "80"), ("Genève", "GE", "12")]),
    ("SE", "SEK", "46", [("Stockholm", "Stockholm", "11"), ("Göteborg", "Västra Götaland", "41")]),
    ("PL", "PLN", "48", [("Kraków", "Małopolskie", "30"), ("Łódź", "Łódzkie", "90"), ("Warszawa", "Mazowieckie", "00")]),
    ("TR", "TRY", "90", [("İstanbul", "İstanbul", "34")]),
    ("JP", "JPY", "81", [("Tokyo", "Tokyo", "100")]),
]
COUNTRY_WEIGHTS = [30, 10, 10, 15, 6, 6, 5, 4, 4, 5, 3, 2]
STREETS = ("Hauptstraße", "Bahnhofstraße", "Rue de la Paix", "High Street", "Main Street", "Calle Mayor",
           "Via Roma", "Kerkstraat", "Storgatan", "ulica Długa", "Industriestraße", "Harbour Road")
TLDS = {"DE": "de", "FR": "fr", "GB": "co.uk", "US": "com", "ES": "es", "IT": "it", "NL": "nl", "CH": "ch",
        "SE": "se", "PL": "pl", "TR": "com.tr", "JP": "jp"}
TAGS = ("VIP", "Key account", "Pilot", "Churn risk", "Reference", "Newsletter", "Partner program", "EMEA",
        "Public sector", "Upsell", "Renewal Q1", "Renewal Q3", "Trade fair 2026", "Strategic", "Dormant")
TAG_WEIGHTS = (2, 6, 3, 4, 3, 20, 3, 12, 3, 8, 5, 5, 10, 2, 6)
TYPES = ("prospect", "customer", "partner", "competitor", "other")
TYPE_WEIGHTS = (45, 35, 8, 2, 10)
SOURCES = ("web", "referral", "event", "partner", "outbound", "advertising", "import", "other", "")
RATINGS = ("hot", "warm", "cold", "", "")
ACTIVITY_KINDS = ("call", "email", "meeting", "task", "note", "visit")
ACTIVITY_WEIGHTS = (30, 25, 15, 15, 10, 5)
SUBJECTS = {
    "call": ("Call with {first}", "Follow-up call: {topic}", "Intro call", "Call back about {topic}"),
    "email": ("Re: {topic}", "Sent {topic}", "{topic} – next steps", "Fwd: {topic}"),
    "meeting": ("Meeting: {topic}", "Quarterly review", "Workshop with {first}", "Demo: {topic}"),
    "task": ("Send {topic}", "Prepare {topic}", "Check in with {first}", "Update {topic}"),
    "note": ("Note: {topic}", "{first} mentioned {topic}", "Internal note"),
    "visit": ("Site visit", "Visit {first} at the plant", "On-site: {topic}"),
}
TOPICS = ("the proposal", "pricing", "the contract renewal", "the pilot", "delivery dates", "the invoice",
          "the new catalogue", "training", "the support ticket", "the framework agreement", "samples")
OUTCOMES = ("Reached", "Left voicemail", "No answer", "Wants a quote", "Not interested", "Call back later")

# the full size (scale 1.0) of the customers issue
LARGEST_ACCOUNTS = 1_000_000
CONTACTS_PER_ACCOUNT = 3.0
ACTIVITIES_PER_ACCOUNT = 10.0
OTHER_TOP_ACCOUNTS = 30_000  # the second-largest tenant at scale 1.0; the tail falls as 1/rank^1.1
SHOWCASE_NAME = "Showcase Industries AG"
SHOWCASE_CONTACTS = 50
SHOWCASE_ACTIVITIES = 2_000
ADMIN_QUEUE_SHARE = 0.40  # of the largest tenant's accounts, owned by its admin (unassigned pool)


# --- ids and formatting -------------------------------------------------------------------------

class Ids:
    """Deterministic, increasing UUIDv7s (48-bit milliseconds, version 7, variant 10): in load order,
    so every btree on id grows at its right edge as it does in production (ids are minted in time)."""

    def __init__(self, rng: random.Random, start_ms: int):
        self.rng = rng
        self.ms = start_ms
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        ms = self.ms + (self.n >> 12)
        value = (ms << 80) | (0x7 << 76) | ((self.n & 0xFFF) << 64) | (0b10 << 62) | self.rng.getrandbits(62)
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00")


def text(value: str) -> str:
    """A COPY text-format field."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "o", "å": "a", "é": "e", "è": "e",
                       "ç": "c", "ł": "l", "ó": "o", "á": "a", "í": "i", "ı": "i", "ş": "s", "ğ": "g", "ñ": "n",
                       "ô": "o", "î": "i", "ê": "e", "ú": "u", "ã": "a", "ź": "z", "ż": "z", " ": "", "'": "",
                       "ò": "o", "à": "a"})


def slug(value: str) -> str:
    return value.casefold().translate(ASCII).replace("i̇", "i")


# --- the plan -----------------------------------------------------------------------------------

@dataclass
class Member:
    id: str
    user_id: str
    email: str
    full_name: str
    role: str
    reports_to: int | None  # index into the tenant's members


@dataclass
class TenantPlan:
    number: int  # 0 is the largest
    id: str
    slug: str
    name: str
    accounts: int
    contacts_per_account: float
    activities_per_account: float
    members: list[Member] = field(default_factory=list)


def role_tree(fanouts: tuple[int, ...], roles: tuple[str, ...] | None = None) -> list[tuple[str, int | None]]:
    """A hierarchy as (role, index of the manager) in breadth-first order: one root (admin), then
    fanouts[0] below it, fanouts[1] below each of those, … The last level are reps, the levels
    between are managers unless `roles` names each level (root first)."""
    levels = len(fanouts) + 1
    roles = roles or ("admin", *(["manager"] * (levels - 2)), "rep")
    nodes: list[tuple[str, int | None]] = [(roles[0], None)]
    frontier = [0]
    for depth, fanout in enumerate(fanouts, start=1):
        nxt = []
        for parent in frontier:
            for _ in range(fanout):
                nodes.append((roles[depth], parent))
                nxt.append(len(nodes) - 1)
        frontier = nxt
    return nodes


LARGEST_TREE = (5, 5, 16)  # admin, 5 directors, 25 managers, 400 reps


class Generator:
    """The rows of a benchmark data set, table by table (iterators of COPY text lines)."""

    def __init__(self, *, scale: float = 0.01, seed: int = 42, tenants: int = 1000,
                 today: dt.date | None = None, largest_tree: tuple[int, ...] = LARGEST_TREE):
        self.scale = scale
        self.seed = seed
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.now = dt.datetime.combine(self.today, dt.time(12), dt.UTC).timestamp()
        self.largest_tree = largest_tree
        self.rng = random.Random(seed)
        self.ids = {}
        # ids start three years back and grow through the load
        self._id_start = int((self.now - 3 * 365 * 86400) * 1000)
        self.tenants = self._plan_tenants(tenants)
        # per-account state the later tables need (filled by accounts(), contacts())
        self.account_ids: list[list[str]] = []
        self.account_owner: list[list[int]] = []
        self.account_domain: list[list[str]] = []
        self.account_place: list[list[int]] = []
        self.contact_start: list[list[int]] = []
        self.contact_count: list[list[int]] = []
        self.contact_ids: list[list[str]] = []
        self.contact_first: list[list[str]] = []
        self.showcase: str | None = None

    def new_id(self, table: str) -> str:
        if table not in self.ids:
            self.ids[table] = Ids(random.Random(f"{self.seed}:{table}"), self._id_start)
        return self.ids[table]()

    # -- tenants and people --

    def _plan_tenants(self, n: int) -> list[TenantPlan]:
        rng = random.Random(f"{self.seed}:tenants")
        plans = []
        for i in range(n):
            if i == 0:
                accounts = max(100, round(LARGEST_ACCOUNTS * self.scale))
                cpa, apa = CONTACTS_PER_ACCOUNT, ACTIVITIES_PER_ACCOUNT
            else:
                accounts = max(5, round(OTHER_TOP_ACCOUNTS * self.scale / i ** 1.1))
                cpa, apa = 2.0, 4.0
            word, trade = rng.choice(WORDS), rng.choice(TRADE_NAMES)
            plan = TenantPlan(i, self.new_id("tenancy_tenant"), f"bench-{i:04d}",
                              "Largest Tenant Corp" if i == 0 else f"{word} {trade} {rng.choice(SUFFIXES)}",
                              accounts, cpa, apa)
            if i == 0:
                tree = role_tree(self.largest_tree)
            else:
                reps = min(12, 1 + accounts // 400)
                tree = [("admin", None)] + ([("manager", 0)] if reps > 4 else []) + [("rep", 0)] * reps
            counters: dict[str, int] = {}
            for role, boss in tree:
                counters[role] = counters.get(role, 0) + 1
                first, last = rng.choice(FIRST), rng.choice(LAST)
                user_id = self.new_id("tenancy_user")
                email = f"{role}-{counters[role]:03d}@{plan.slug}.bench.example"
                plan.members.append(Member(self.new_id("tenancy_membership"), user_id, email, f"{first} {last}",
                                           role, boss))
            plans.append(plan)
        return plans

    def tenant_rows(self):
        for t in self.tenants:
            plan = "enterprise" if t.number == 0 else ("business" if t.accounts > 1000 else "team")
            yield f"{t.id}\t{text(t.name)}\t{t.slug}\t{plan}\tf\t{stamp(self.now - 900 * 86400 + t.number * 600)}\n"

    def user_rows(self):
        for t in self.tenants:
            joined = stamp(self.now - 800 * 86400 + t.number * 600)
            for m in t.members:
                # an unusable password: benchmarks sign in with force_login
                yield f"{m.user_id}\t!bench\t\\N\tf\tf\tt\t{joined}\t{m.email}\t{text(m.full_name)}\n"

    def membership_rows(self):
        for t in self.tenants:
            created = stamp(self.now - 800 * 86400 + t.number * 600)
            for m in t.members:
                boss = t.members[m.reports_to].id if m.reports_to is not None else "\\N"
                yield f"{m.id}\t{created}\t{created}\t{m.role}\tt\tt\t{boss}\t{m.user_id}\t{t.id}\n"

    # -- accounts --

    ACCOUNT_COLUMNS = ("id", "created_at", "updated_at", "name", "kind", "type", "industry", "website", "domain",
                       "phone", "billing_street", "billing_city", "billing_postal_code", "billing_region",
                       "billing_country", "shipping_street", "shipping_city", "shipping_postal_code",
                       "shipping_region", "shipping_country", "employees", "annual_revenue", "currency", "source",
                       "rating", "status", "description", "custom", "created_by_id", "modified_by_id", "owner_id",
                       "parent_id", "tenant_id")

    def _owner_picker(self, t: TenantPlan, rng: random.Random):
        reps = [i for i, m in enumerate(t.members) if m.role == "rep"]
        managers = [i for i, m in enumerate(t.members) if m.role == "manager"]
        if t.number == 0:
            def pick():
                r = rng.random()
                if r < ADMIN_QUEUE_SHARE:
                    return 0
                if r < ADMIN_QUEUE_SHARE + 0.05 and managers:
                    return rng.choice(managers)
                return rng.choice(reps)
        else:
            def pick():
                return rng.choice(reps) if rng.random() < 0.9 else 0
        return pick

    def account_rows(self):
        rng = random.Random(f"{self.seed}:accounts")
        places = [(c, cur, code, city) for c, cur, code, cities in COUNTRIES for city in cities]
        place_weights = [COUNTRY_WEIGHTS[[c[0] for c in COUNTRIES].index(p[0])] / len(
            next(x[3] for x in COUNTRIES if x[0] == p[0])) for p in places]
        place_cum = list(_cumulative(place_weights))
        type_cum = list(_cumulative(TYPE_WEIGHTS))
        for t in self.tenants:
            pick_owner = self._owner_picker(t, rng)
            ids, owners, domains, where = [], [], [], []
            depth: list[int] = []
            showcase_at = t.accounts // 2 if t.number == 0 else -1
            for i in range(t.accounts):
                acc_id = self.new_id("accounts_account")
                created = self.now - rng.random() * 3 * 365 * 86400
                updated = created + rng.random() * (self.now - created)
                p = rng.choices(range(len(places)), cum_weights=place_cum)[0]
                country, currency, calling, (city, region, postal) = places[p]
                person = rng.random() < 0.1
                word = rng.choice(WORDS)
                trade = rng.choice(TRADE_NAMES)
                if i == showcase_at:
                    name, word, trade, person = SHOWCASE_NAME, "Showcase", "Works", False
                    owner = next(k for k, m in enumerate(t.members) if m.role == "rep")
                    self.showcase = acc_id
                elif person:
                    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                    owner = pick_owner()
                else:
                    r = rng.random()
                    lead = "Acme " if r < 0.005 else ("Kalomi " if r < 0.005 + 12e-6 else "")
                    name = f"{lead}{word} {trade} {rng.choice(SUFFIXES)}"
                    owner = pick_owner()
                domain = "" if person else f"{slug(word)}-{slug(trade)}{i % 997 or ''}.{TLDS[country]}"
                employees = 1 if person else int(math.exp(rng.gauss(3.2, 1.6))) + 1
                revenue = "\\N" if person or rng.random() < 0.3 else str(employees * rng.randint(60, 250) * 1000)
                parent = "\\N"
                d = 0
                if not person and i > 10 and rng.random() < 0.05:
                    j = i - rng.randint(1, 10)
                    if depth[j] < 4:
                        parent, d = ids[j], depth[j] + 1
                if showcase_at >= 0 and i in (showcase_at + 1, showcase_at + 2):  # two subsidiaries of the showcase
                    parent, d = ids[showcase_at], depth[showcase_at] + 1
                ids.append(acc_id)
                depth.append(d)
                owners.append(owner)
                domains.append(domain or f"{slug(name)[:20]}.mail.example")
                where.append(p)
                street = f"{rng.choice(STREETS)} {rng.randint(1, 200)}"
                postal_code = f"{postal}{rng.randint(100, 999)}"
                shipping = "\t".join((street, city, postal_code, region, country)) if rng.random() < 0.3 \
                    else "\t\t\t\t"
                owner_id = t.members[owner].id
                kind = "person" if person else "company"
                atype = "customer" if i == showcase_at else TYPES[rng.choices(range(5), cum_weights=type_cum)[0]]
                industry = "" if person else TRADES[trade]
                website = f"https://www.{domain}" if domain and rng.random() < 0.8 else ""
                phone = f"+{calling}{rng.randint(10 ** 8, 10 ** 10 - 1)}" if rng.random() < 0.8 else ""
                description = "" if rng.random() < 0.7 else f"{text(name)}: {rng.choice(TOPICS)} discussed in {city}."
                yield (f"{acc_id}\t{stamp(created)}\t{stamp(updated)}\t{text(name)}\t{kind}\t{atype}\t{industry}\t"
                       f"{website}\t{domain}\t{phone}\t{street}\t{city}\t{postal_code}\t{region}\t{country}\t"
                       f"{shipping}\t{employees}\t{revenue}\t{currency}\t{rng.choice(SOURCES)}\t{rng.choice(RATINGS)}\t"
                       f"{'inactive' if rng.random() < 0.05 else 'active'}\t{description}\t{{}}\t{owner_id}\t"
                       f"{owner_id}\t{owner_id}\t{parent}\t{t.id}\n")
            self.account_ids.append(ids)
            self.account_owner.append(owners)
            self.account_domain.append(domains)
            self.account_place.append(where)
            del depth

    # -- tags --

    def tag_ids(self, t: TenantPlan) -> list[str]:
        n = len(TAGS) if t.number == 0 else 3 + t.number % 8
        rng = random.Random(f"{self.seed}:tags:{t.number}")
        return [str(_uuid_from(rng)) for _ in range(n)]

    def tag_rows(self):
        for t in self.tenants:
            created = stamp(self.now - 700 * 86400)
            for k, tag_id in enumerate(self.tag_ids(t)):
                yield f"{tag_id}\t{created}\t{created}\t{TAGS[k]}\t{t.id}\n"

    def account_tag_rows(self):
        rng = random.Random(f"{self.seed}:accounttags")
        for t, ids in zip(self.tenants, self.account_ids, strict=True):
            tags = self.tag_ids(t)
            cum = list(_cumulative(TAG_WEIGHTS[: len(tags)]))
            created = stamp(self.now - 300 * 86400)
            for acc_id in ids:
                if rng.random() >= 0.3 and acc_id != self.showcase:
                    continue
                chosen = {rng.choices(range(len(tags)), cum_weights=cum)[0] for _ in range(rng.randint(1, 3))}
                if acc_id == self.showcase:
                    chosen |= {0, 1}
                for k in sorted(chosen):
                    yield f"{self.new_id('accounts_accounttag')}\t{created}\t{created}\t{acc_id}\t{t.id}\t{tags[k]}\n"

    # -- contacts, their emails and phones --

    CONTACT_COLUMNS = ("id", "created_at", "updated_at", "salutation", "first_name", "last_name", "title",
                       "department", "email", "phone", "mailing_street", "mailing_city", "mailing_postal_code",
                       "mailing_region", "mailing_country", "preferred_channel", "language", "birthday",
                       "do_not_contact", "erased_at", "custom", "account_id", "created_by_id", "modified_by_id",
                       "owner_id", "reports_to_id", "tenant_id")

    def contact_rows(self):
        """Contacts with their primary email/phone; ContactEmail/ContactPhone rows come from the same
        draw (email_rows/phone_rows replay self._contact_extra)."""
        rng = random.Random(f"{self.seed}:contacts")
        places = [(c, cur, code, city) for c, cur, code, cities in COUNTRIES for city in cities]
        langs = {"DE": "de", "FR": "fr", "GB": "en", "US": "en", "ES": "es", "IT": "it", "NL": "nl", "CH": "de",
                 "SE": "sv", "PL": "pl", "TR": "tr", "JP": "ja"}
        self._contact_extra: list[list[tuple]] = []
        for t, ids, owners, domains, where in zip(self.tenants, self.account_ids, self.account_owner,
                                                  self.account_domain, self.account_place, strict=True):
            starts, counts, cids, firsts, extra = [], [], [], [], []
            mean = t.contacts_per_account
            for i, acc_id in enumerate(ids):
                # 0..2·mean-ish, skewed: most accounts have a few, some many
                n = SHOWCASE_CONTACTS if acc_id == self.showcase else min(int(rng.expovariate(1 / (mean + 0.5))), 40)
                starts.append(len(cids))
                counts.append(n)
                country, _cur, calling, (city, region, postal) = places[where[i]]
                used = set()
                for k in range(n):
                    cid = self.new_id("contacts_contact")
                    first, last = rng.choice(FIRST), rng.choice(LAST)
                    local = f"{slug(first)}.{slug(last)}"
                    if local in used:
                        local = f"{local}{k}"
                    used.add(local)
                    email = f"{local}@{domains[i]}" if rng.random() < 0.92 else ""
                    phone = f"+{calling}{rng.randint(10 ** 8, 10 ** 10 - 1)}" if rng.random() < 0.7 else ""
                    second_email = f"{local}{rng.randint(1, 99)}@mail.example" if email and rng.random() < 0.2 else ""
                    second_phone = f"+{calling}1{rng.randint(10 ** 8, 10 ** 9 - 1)}" if phone and rng.random() < 0.15 \
                        else ""
                    extra.append((cid, email, second_email, phone, second_phone))
                    created = self.now - rng.random() * 2 * 365 * 86400
                    reports_to = cids[-1] if k > 0 and rng.random() < 0.1 else "\\N"
                    owner_id = t.members[owners[i] if rng.random() < 0.9 or acc_id == self.showcase
                                         else rng.randrange(len(t.members))].id
                    birthday = f"{rng.randint(1955, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" \
                        if rng.random() < 0.3 else "\\N"
                    cids.append(cid)
                    firsts.append(first)
                    yield (f"{cid}\t{stamp(created)}\t{stamp(created)}\t{rng.choice(('', 'mr', 'ms', 'dr', ''))}\t"
                           f"{first}\t{text(last)}\t{rng.choice(TITLES)}\t{rng.choice(DEPARTMENTS)}\t{email}\t{phone}\t"
                           f"{rng.choice(STREETS)} {rng.randint(1, 200)}\t{city}\t{postal}{rng.randint(100, 999)}\t"
                           f"{region}\t{country}\t{rng.choice(('', 'email', 'phone', 'email', 'sms'))}\t"
                           f"{langs[country]}\t{birthday}\t{'t' if rng.random() < 0.02 else 'f'}\t\\N\t{{}}\t"
                           f"{acc_id}\t{owner_id}\t{owner_id}\t{owner_id}\t{reports_to}\t{t.id}\n")
            self.contact_start.append(starts)
            self.contact_count.append(counts)
            self.contact_ids.append(cids)
            self.contact_first.append(firsts)
            self._contact_extra.append(extra)

    def email_rows(self):
        for t, extra in zip(self.tenants, self._contact_extra, strict=True):
            created = stamp(self.now - 365 * 86400)
            for cid, email, second, _phone, _second_phone in extra:
                if email:
                    yield f"{self.new_id('contacts_contactemail')}\t{created}\t{created}\t{email}\twork\tt\t{cid}\t{t.id}\n"
                if second:
                    yield f"{self.new_id('contacts_contactemail')}\t{created}\t{created}\t{second}\thome\tf\t{cid}\t{t.id}\n"

    def phone_rows(self):
        for t, extra in zip(self.tenants, self._contact_extra, strict=True):
            created = stamp(self.now - 365 * 86400)
            for cid, _email, _second, phone, second in extra:
                if phone:
                    yield f"{self.new_id('contacts_contactphone')}\t{created}\t{created}\t{phone}\twork\tt\t{cid}\t{t.id}\n"
                if second:
                    yield f"{self.new_id('contacts_contactphone')}\t{created}\t{created}\t{second}\tmobile\tf\t{cid}\t{t.id}\n"

    # -- activities --

    ACTIVITY_COLUMNS = ("id", "created_at", "updated_at", "kind", "subject", "body", "related_type", "related_id",
                        "occurred_at", "ends_at", "due_at", "status", "priority", "completed_at", "remind_at",
                        "reminded_at", "direction", "duration_minutes", "outcome", "location", "account_id",
                        "created_by_id", "owner_id", "tenant_id", "contact_id")

    def activity_counts(self, t: TenantPlan, rng: random.Random) -> list[int]:
        ids = self.account_ids[t.number]
        mean = t.activities_per_account
        return [SHOWCASE_ACTIVITIES if acc_id == self.showcase else min(int(rng.expovariate(1 / (mean + 0.5))), 300)
                for acc_id in ids]

    def activity_rows(self):
        """Every kind over the last year, in twelve monthly passes over the accounts, so that an
        account's activities are spread over the table as a year of work spreads them."""
        rng = random.Random(f"{self.seed}:activities")
        kind_cum = list(_cumulative(ACTIVITY_WEIGHTS))
        counts = [self.activity_counts(t, rng) for t in self.tenants]
        year = 365 * 86400
        for month in range(12):
            lo = self.now - year + month * year / 12
            for t, n_by_account in zip(self.tenants, counts, strict=True):
                ids, owners = self.account_ids[t.number], self.account_owner[t.number]
                starts, ncontacts = self.contact_start[t.number], self.contact_count[t.number]
                cids, firsts = self.contact_ids[t.number], self.contact_first[t.number]
                members = t.members
                for i, total in enumerate(n_by_account):
                    n = total // 12 + (1 if (i + month) % 12 < total % 12 else 0)
                    for _ in range(n):
                        at = lo + rng.random() * year / 12
                        kind = ACTIVITY_KINDS[rng.choices(range(6), cum_weights=kind_cum)[0]]
                        c = starts[i] + rng.randrange(ncontacts[i]) if ncontacts[i] and rng.random() < 0.75 else -1
                        contact, first = (cids[c], firsts[c]) if c >= 0 else ("\\N", "the team")
                        owner = members[owners[i] if rng.random() < 0.85 or ids[i] == self.showcase
                                        else rng.randrange(len(members))].id
                        subject = rng.choice(SUBJECTS[kind]).format(first=first, topic=rng.choice(TOPICS))
                        past = at < self.now
                        status = "done" if past and rng.random() < 0.9 else ("cancelled" if past and rng.random() < 0.3
                                                                             else "open")
                        ends = due = completed = remind = reminded = "\\N"
                        direction = duration = outcome = location = ""
                        body = ""
                        if kind == "task":
                            due = stamp(at + 3 * 86400)
                            if status == "done":
                                completed = stamp(at + rng.random() * 3 * 86400)
                            if rng.random() < 0.3:
                                remind = stamp(at + 2 * 86400)
                                if at + 2 * 86400 < self.now:
                                    reminded = remind
                        elif kind in ("call", "email"):
                            direction = "inbound" if rng.random() < 0.4 else "outbound"
                            if kind == "call":
                                duration, outcome = str(rng.randint(1, 45)), rng.choice(OUTCOMES)
                            else:
                                body = f"Hello {first}, about {rng.choice(TOPICS)}: see attached."
                        elif kind in ("meeting", "visit"):
                            minutes = rng.choice((30, 45, 60, 90, 120))
                            duration, ends = str(minutes), stamp(at + minutes * 60)
                            location = "Video call" if kind == "meeting" and rng.random() < 0.6 else "On site"
                        else:
                            body = f"{first} said {rng.choice(TOPICS)} is on hold until next quarter."
                        when = stamp(at)
                        yield (f"{self.new_id('contacts_activity')}\t{when}\t{when}\t{kind}\t{text(subject)}\t"
                               f"{text(body)}\t\t\\N\t{when}\t{ends}\t{due}\t{status}\t"
                               f"{'high' if rng.random() < 0.1 else 'normal'}\t{completed}\t{remind}\t{reminded}\t"
                               f"{direction}\t{duration if duration else chr(92) + 'N'}\t{outcome}\t{location}\t"
                               f"{ids[i]}\t{owner}\t{owner}\t{t.id}\t{contact}\n")


def _cumulative(weights):
    total = 0
    for w in weights:
        total += w
        yield total


def _uuid_from(rng: random.Random):
    import uuid

    return uuid.UUID(int=(rng.getrandbits(128) & ~(0xF << 76) | (0x4 << 76)) & ~(0x3 << 62) | (0x2 << 62))


# --- loading ------------------------------------------------------------------------------------

class _Lines(io.RawIOBase):
    """A file COPY reads from: pulls lines from an iterator in ~1 MB chunks, counts and reports."""

    def __init__(self, lines, label: str, every: int = 1_000_000):
        self.lines = iter(lines)
        self.label = label
        self.every = every
        self.rows = 0
        self.t0 = time.perf_counter()
        self.buffer = b""

    def readable(self):
        return True

    def readinto(self, b):
        while len(self.buffer) < len(b):
            chunk = []
            for line in self.lines:
                chunk.append(line)
                self.rows += 1
                if self.rows % self.every == 0:
                    print(f"  {self.label}: {self.rows:,} rows ({time.perf_counter() - self.t0:.0f} s)", flush=True)
                if len(chunk) >= 4000:
                    break
            if not chunk:
                break
            self.buffer += "".join(chunk).encode()
        n = min(len(b), len(self.buffer))
        b[:n] = self.buffer[:n]
        self.buffer = self.buffer[n:]
        return n


NEUTRAL = {"jsonb": "'{}'::jsonb", "text": "''", "character varying": "''", "boolean": "false", "integer": "0",
           "bigint": "0", "smallint": "0"}


# Columns that triggers keep current (user triggers are off during the load): filled once, set-based,
# after the COPY. AccountTag.account_name_key copies the account's name_key (accounts/migrations/0003).
TRIGGER_COPIES = {
    "accounts_accounttag": (
        "ALTER TABLE accounts_account NO FORCE ROW LEVEL SECURITY",
        "UPDATE accounts_accounttag l SET account_name_key = a.name_key FROM accounts_account a "
        "WHERE a.tenant_id = l.tenant_id AND a.id = l.account_id",
        "ALTER TABLE accounts_account FORCE ROW LEVEL SECURITY",
    ),
}


def load_table(owner, table: str, columns, lines, *, label: str | None = None) -> int:
    """COPY `lines` into `table` in one transaction as the owner (see the module docstring)."""
    label = label or table
    cur = owner.cursor()
    cur.execute("SET maintenance_work_mem = '512MB'")
    cur.execute("""
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
    """, [table])
    indexes = cur.fetchall()
    cur.execute("SELECT conname, pg_get_constraintdef(oid), confrelid::regclass::text FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'", [table])
    foreign_keys = cur.fetchall()
    t0 = time.perf_counter()
    cur.execute(f"TRUNCATE {table} CASCADE")  # empty already (load() refuses otherwise): allows FREEZE
    cur.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    for name, _, _ in foreign_keys:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    # columns added since this generator was written (NOT NULL, no database default): a neutral
    # value for the load only, so that a newer schema still loads (the default is dropped again)
    cur.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s AND is_nullable = 'NO' AND column_default IS NULL AND is_generated = 'NEVER' "
                "AND NOT (column_name = ANY(%s))", [table, list(columns)])
    missing = [(name, NEUTRAL[kind]) for name, kind in cur.fetchall() if kind in NEUTRAL]
    for name, value in missing:
        cur.execute(f'ALTER TABLE {table} ALTER COLUMN "{name}" SET DEFAULT {value}')
    source = _Lines(lines, label)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FREEZE)", source, size=1 << 20)
    for name, _ in missing:
        cur.execute(f'ALTER TABLE {table} ALTER COLUMN "{name}" DROP DEFAULT')
    for statement in TRIGGER_COPIES.get(table, ()):  # what the disabled triggers would have written
        cur.execute(statement)
    t1 = time.perf_counter()
    for _, definition in indexes:
        cur.execute(definition)
    t2 = time.perf_counter()
    # the check reads the referenced table as the owner: FORCE would hide its rows from it
    referenced = sorted({target for _, _, target in foreign_keys if target != table})
    forced = []
    if referenced:
        cur.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relforcerowsecurity", [referenced])
        forced = [row[0] for row in cur.fetchall()]
    for target in forced:
        cur.execute(f"ALTER TABLE {target} NO FORCE ROW LEVEL SECURITY")
    for name, definition, _ in foreign_keys:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for target in forced:
        cur.execute(f"ALTER TABLE {target} FORCE ROW LEVEL SECURITY")
    t3 = time.perf_counter()
    cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    cur.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    owner.commit()
    print(f"{label}: {source.rows:,} rows; copy {t1 - t0:.0f} s, {len(indexes)} indexes {t2 - t1:.0f} s, "
          f"{len(foreign_keys)} foreign keys checked {t3 - t2:.0f} s", flush=True)
    return source.rows


TABLES = (
    # (table, columns, Generator method); order: referenced tables first
    ("tenancy_tenant", ("id", "name", "slug", "plan", "require_mfa", "created_at"), "tenant_rows"),
    ("tenancy_user", ("id", "password", "last_login", "is_superuser", "is_staff", "is_active", "date_joined",
                      "email", "full_name"), "user_rows"),
    ("tenancy_membership", ("id", "created_at", "updated_at", "role", "is_active", "is_default", "reports_to_id",
                            "user_id", "tenant_id"), "membership_rows"),
    ("accounts_account", Generator.ACCOUNT_COLUMNS, "account_rows"),
    ("accounts_tag", ("id", "created_at", "updated_at", "name", "tenant_id"), "tag_rows"),
    ("accounts_accounttag", ("id", "created_at", "updated_at", "account_id", "tenant_id", "tag_id"),
     "account_tag_rows"),
    ("contacts_contact", Generator.CONTACT_COLUMNS, "contact_rows"),
    ("contacts_contactemail", ("id", "created_at", "updated_at", "email", "label", "is_primary", "contact_id",
                               "tenant_id"), "email_rows"),
    ("contacts_contactphone", ("id", "created_at", "updated_at", "number", "label", "is_primary", "contact_id",
                               "tenant_id"), "phone_rows"),
    ("contacts_activity", Generator.ACTIVITY_COLUMNS, "activity_rows"),
)


def has_data(owner) -> bool:
    cur = owner.cursor()
    cur.execute("SELECT EXISTS (SELECT 1 FROM tenancy_tenant) OR EXISTS (SELECT 1 FROM tenancy_user)")
    found = cur.fetchone()[0]
    owner.rollback()
    return found


def reset(owner) -> None:
    """Empty every table that hangs off tenants and users (a scratch database only)."""
    cur = owner.cursor()
    cur.execute("TRUNCATE tenancy_tenant, tenancy_user CASCADE")
    owner.commit()


def load(owner, generator: Generator, *, tables=TABLES) -> dict:
    counts = {}
    t0 = time.perf_counter()
    for table, columns, method in tables:
        counts[table] = load_table(owner, table, columns, getattr(generator, method)())
    owner.autocommit = True
    cur = owner.cursor()
    t1 = time.perf_counter()
    for table, _, _ in tables:
        cur.execute(f"ANALYZE {table}")
    owner.autocommit = False
    print(f"ANALYZE {time.perf_counter() - t1:.0f} s; total {time.perf_counter() - t0:.0f} s", flush=True)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a scratch database (its name contains 'bench'), migrated")
    parser.add_argument("--scale", type=float, default=0.01, help="1.0 = 1,000,000 accounts in the largest tenant")
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                        help="the date the data ends on (default: today); with --seed, fixes every row")
    parser.add_argument("--reset", action="store_true", help="empty the tenant data first")
    args = parser.parse_args(argv)
    owner = common.connect_owner(args.db)
    if has_data(owner):
        if not args.reset:
            raise SystemExit(f"{args.db} already holds tenants: --reset to replace them")
        reset(owner)
    generator = Generator(scale=args.scale, seed=args.seed, tenants=args.tenants, today=args.today)
    largest = generator.tenants[0]
    print(f"{len(generator.tenants)} tenants; largest {largest.slug}: {largest.accounts:,} accounts, "
          f"{len(largest.members)} members; others {sum(t.accounts for t in generator.tenants[1:]):,} accounts",
          flush=True)
    counts = load(owner, generator)
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    owner.close()


if __name__ == "__main__":
    main()
