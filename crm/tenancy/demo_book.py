"""Demo data: a realistic book of customers for each demo company (seed_demo's DEMO_SEEDERS).

About 300 accounts in several industries and countries, some in parent/child groups, 2–4 contacts
each (emails, E.164 phones), and a year of activities (calls, meetings, visits, logged emails,
notes, tasks: some overdue and some due today for rep@ and rep2@), spread over both reps and their
manager. Deterministic (random.Random(slug); dates relative to today), idempotent (a company that
has accounts is left alone), fast (bulk_create in the tenant; every object names its tenant).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from crm.tenancy.context import tenant_context

ACCOUNTS = 300
GROUPS = 18  # parents with 2–4 subsidiaries each

WORDS = (
    "Nordwind Blue Harbor Silverline Alpen Atlas Summit Crown Golden Gate Iron Ridge Cedar Oakfield Maple "
    "Falcon Eagle Lion Phoenix Orion Vega Nova Polar Coastal Metro Prime Royal Liberty Horizon Pioneer "
    "Vertex Quantum Apex Zenith Helix Cobalt Copper Amber Ivory Granite Willow Aurora Meridian Beacon "
    "Keystone Lighthouse Riverside Northstar Evergreen Bluebird Redwood Sunrise Westbrook Fairview "
    "Hansa Rhein Elbe Baltic Tauern Schwarzwald Bodensee Lumen Sapphire Emerald Indigo Juniper Sterling"
).split()
INDUSTRY_NOUNS = {
    "agriculture": ["Farms", "Agrar", "Seeds", "Harvest"],
    "construction": ["Bau", "Construction", "Builders", "Engineering"],
    "consumer_goods": ["Brands", "Home", "Goods", "Living"],
    "education": ["Academy", "Learning", "Institute", "College"],
    "energy": ["Energy", "Solar", "Power", "Wind"],
    "finance": ["Capital", "Finance", "Bank", "Invest"],
    "healthcare": ["Health", "Clinic", "Medical", "Care"],
    "hospitality": ["Hotels", "Resorts", "Hospitality", "Catering"],
    "manufacturing": ["Manufacturing", "Werke", "Industries", "Precision"],
    "media": ["Media", "Studios", "Publishing", "Pictures"],
    "professional_services": ["Consulting", "Partners", "Advisory", "Legal"],
    "real_estate": ["Properties", "Immobilien", "Estates", "Realty"],
    "retail": ["Retail", "Stores", "Market", "Outlet"],
    "technology": ["Software", "Systems", "Analytics", "Labs", "Robotics", "Cloud"],
    "telecom": ["Telecom", "Networks", "Connect", "Mobile"],
    "transport": ["Logistics", "Freight", "Transport", "Shipping"],
}
# country: (legal suffixes, cities, phone prefix, national digits, tld, language, currency, first names, last names)
COUNTRIES = {
    "DE": (["GmbH", "AG", "GmbH & Co. KG"], ["Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart"],
           "+49", ["30", "40", "89", "221", "69", "711"], "de", "de", "EUR",
           ["Anna", "Jonas", "Lena", "Felix", "Marie", "Lukas", "Sophie", "Max", "Hannah", "Paul", "Jürgen", "Sabine"],
           ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
            "Krüger", "Schröder"]),
    "AT": (["GmbH", "AG"], ["Wien", "Graz", "Linz", "Salzburg"], "+43", ["1", "316", "732", "662"], "at", "de", "EUR",
           ["Lukas", "Anna", "Tobias", "Katharina", "Florian", "Elena"],
           ["Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner"]),
    "CH": (["AG", "GmbH", "SA"], ["Zürich", "Basel", "Bern", "Genève"], "+41", ["44", "61", "31", "22"], "ch", "de", "CHF",
           ["Luca", "Nina", "Noah", "Laura", "Jan", "Sara"], ["Meier", "Keller", "Brunner", "Frei", "Baumann", "Moser"]),
    "GB": (["Ltd", "plc", "LLP"], ["London", "Manchester", "Leeds", "Edinburgh", "Bristol"], "+44",
           ["20", "161", "113", "131", "117"], "co.uk", "en", "GBP",
           ["Oliver", "Amelia", "Harry", "Isla", "George", "Emily", "Jack", "Grace"],
           ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas"]),
    "US": (["Inc.", "LLC", "Corp."], ["New York", "San Francisco", "Chicago", "Austin", "Boston", "Seattle"], "+1",
           ["212", "415", "312", "512", "617", "206"], "com", "en", "USD",
           ["James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Chloe"],
           ["Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Anderson", "Clark", "Lewis"]),
    "FR": (["SAS", "SA", "SARL"], ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes"], "+33", ["1", "4", "5"],
           "fr", "fr", "EUR", ["Camille", "Louis", "Léa", "Hugo", "Chloé", "Jules", "Manon"],
           ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Lefèvre"]),
    "NL": (["B.V.", "N.V."], ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"], "+31", ["20", "10", "30", "40"], "nl",
           "nl", "EUR", ["Daan", "Emma", "Sem", "Julia", "Lucas", "Tess"],
           ["de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser"]),
    "SE": (["AB"], ["Stockholm", "Göteborg", "Malmö"], "+46", ["8", "31", "40"], "se", "sv", "SEK",
           ["Elias", "Alice", "William", "Maja", "Hugo", "Ella"],
           ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson"]),
}
COUNTRY_WEIGHTS = {"DE": 40, "AT": 8, "CH": 8, "GB": 14, "US": 14, "FR": 8, "NL": 5, "SE": 3}
STREETS = ["Hauptstraße", "Market Street", "Rue de la Paix", "Kingsway", "Bahnhofstraße", "Main Street",
           "Industriestraße", "Harbour Road", "Keizersgracht", "Drottninggatan", "Lindenallee", "High Street"]
TITLES = [
    ("Chief Executive Officer", "Management"), ("Chief Financial Officer", "Finance"), ("Head of Purchasing", "Purchasing"),
    ("IT Director", "IT"), ("Operations Manager", "Operations"), ("Marketing Manager", "Marketing"),
    ("Sales Director", "Sales"), ("Procurement Specialist", "Purchasing"), ("Office Manager", "Administration"),
    ("Head of Logistics", "Operations"), ("Controller", "Finance"), ("Project Lead", "IT"),
]
CALL_SUBJECTS = ["Intro call", "Follow-up on the proposal", "Pricing questions", "Renewal check-in",
                 "Discovery call", "Support escalation", "Quarterly check-in", "Reference call"]
CALL_OUTCOMES = ["Interested", "Left a voicemail", "Call back next week", "Sent more information",
                 "Agreed on next steps", "Not the right time"]
MEETING_SUBJECTS = ["Kick-off meeting", "Product demo", "Contract negotiation", "Quarterly business review",
                    "Workshop: requirements", "Executive sponsor meeting", "Onboarding session"]
TASK_SUBJECTS = ["Send the revised quote", "Prepare the QBR deck", "Follow up on the signed contract",
                 "Check the delivery dates", "Update the decision makers", "Schedule the demo",
                 "Send the case study", "Confirm the budget", "Call back about the invoice", "Renew the framework agreement"]
NOTE_SUBJECTS = ["Budget approved for next year", "New decision maker in purchasing", "Competitor is also pitching",
                 "Prefers email over phone", "Expansion to a second site planned", "Reorganisation under way"]
EMAIL_SUBJECTS = ["Re: Proposal", "Your questions about the rollout", "Meeting notes", "Invoice query",
                  "Next steps", "Introduction"]
TAGS = ["Key account", "Reference", "Partner program", "At risk", "Upsell"]


def _ascii(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ç": "c", "å": "a",
                           "ø": "o", "æ": "ae", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "É": "E", "ê": "e", "ë": "e"})
    return "".join(c for c in text.translate(table) if c.isalnum() or c in ".-").lower()


def _phone(rng: random.Random, country: str, *, mobile: bool = False) -> str:
    _, _, code, areas, *_ = COUNTRIES[country]
    if mobile:
        area = {"DE": "151", "AT": "664", "CH": "79", "GB": "7700", "US": rng.choice(areas), "FR": "6", "NL": "6",
                "SE": "70"}[country]
    else:
        area = rng.choice(areas)
    digits = 10 - len(area) if code != "+1" else 7
    return code + area + "".join(str(rng.randint(0, 9)) for _ in range(max(digits, 6)))


def _at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def seed(tenant, people: dict) -> None:
    """DEMO_SEEDERS entry: (tenant, {"admin"|"manager"|"rep"|"rep2"|"agent": Membership})."""
    from accounts.models import Account, AccountTag, Tag
    from contacts.models import Activity, Contact, ContactEmail, ContactPhone
    from crm.customfields import services as customfields

    with tenant_context(tenant):
        if Account.objects.for_tenant(tenant).exists():
            return
        rng = random.Random(tenant.slug)
        now = timezone.localtime()
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        rep, rep2, manager = people["rep"], people["rep2"], people["manager"]
        owners = [rep] * 9 + [rep2] * 9 + [manager] * 2

        # --- accounts, with groups ------------------------------------------------------------
        used: set[str] = set()
        accounts: list[Account] = []

        def company(word: str, industry: str, country: str, owner, parent=None, kind_word=None) -> Account:
            suffixes, cities, *_rest = COUNTRIES[country]
            tld, lang, currency = _rest[2], _rest[3], _rest[4]
            noun = kind_word or rng.choice(INDUSTRY_NOUNS[industry])
            name = f"{word} {noun} {rng.choice(suffixes)}"
            n = 2
            while name.casefold() in used:
                name, n = f"{word} {noun} {n} {rng.choice(suffixes)}", n + 1
            used.add(name.casefold())
            domain = f"{_ascii(word)}-{_ascii(noun)}.{tld}"
            city = rng.choice(cities)
            employees = rng.choice([8, 15, 40, 85, 150, 320, 750, 1800, 5200, 12000])
            created = now - timedelta(days=rng.randint(30, 900))
            account = Account(
                tenant=tenant, name=name, kind=Account.Kind.COMPANY, industry=industry,
                type=rng.choices(["customer", "prospect", "partner", "competitor", "other"], [45, 40, 8, 4, 3])[0],
                website=f"https://www.{domain}", domain=domain, phone=_phone(rng, country),
                billing_street=f"{rng.choice(STREETS)} {rng.randint(1, 180)}", billing_city=city,
                billing_postal_code=str(rng.randint(10000, 99999)), billing_country=country,
                shipping_city=city, shipping_country=country,
                employees=employees, annual_revenue=employees * rng.randint(60_000, 260_000), currency=currency,
                owner=owner, parent=parent, source=rng.choice(["web", "referral", "event", "partner", "outbound",
                                                                "advertising", "import"]),
                rating=rng.choice(["hot", "warm", "warm", "cold", ""]),
                status="inactive" if rng.random() < 0.06 else "active",
                description=rng.choice(["", "", f"{employees} employees, HQ in {city}.",
                                        f"Long-standing {industry.replace('_', ' ')} customer."]),
                created_by=owner, modified_by=owner, created_at=created,
            )
            account._demo_country, account._demo_lang = country, lang
            accounts.append(account)
            return account

        countries = list(COUNTRY_WEIGHTS)
        weights = list(COUNTRY_WEIGHTS.values())
        words = rng.sample(WORDS, len(WORDS))
        industries = list(INDUSTRY_NOUNS)
        for word in words[:GROUPS]:
            industry = rng.choice(industries)
            country = rng.choices(countries, weights)[0]
            owner = rng.choice(owners)
            parent = company(word, industry, country, owner, kind_word="Holding" if country in ("DE", "AT", "CH")
                             else "Group")
            parent.type, parent.rating = "customer", "hot"
            for _ in range(rng.randint(2, 4)):
                child_country = country if rng.random() < 0.6 else rng.choices(countries, weights)[0]
                company(word, rng.choice([industry, rng.choice(industries)]), child_country,
                        owner if rng.random() < 0.7 else rng.choice(owners), parent=parent)
        i = 0
        while len(accounts) < ACCOUNTS:
            word = words[GROUPS + i % (len(words) - GROUPS)]
            i += 1
            company(word, rng.choice(industries), rng.choices(countries, weights)[0], rng.choice(owners))
        # custom fields, as a company's admin would add them (crm/customfields)
        admin = people["admin"]
        customfields.field_create(actor=admin, object="accounts", label="Segment", type="picklist",
                                  options=["SMB", "Mid-market", "Enterprise"], help_text="Sales segment, by size.")
        customfields.field_create(actor=admin, object="accounts", label="Contract renewal", name="contract_renewal",
                                  type="date", help_text="When the current contract is up for renewal.")
        customfields.field_create(actor=admin, object="contacts", label="Buying role", name="buying_role",
                                  type="picklist", options=["Decision maker", "Influencer", "User", "Gatekeeper"])
        for account in accounts:
            size = account.employees or 0
            account.custom = {"segment": "SMB" if size < 100 else "Mid-market" if size < 1000 else "Enterprise"}
            if account.type == "customer":
                renewal = today.date() + timedelta(days=rng.randint(-20, 400))
                account.custom["contract_renewal"] = renewal.isoformat()
        Account.objects.bulk_create(accounts, batch_size=500)  # parents come first in the list
        customfields.write_many(tenant.pk, "accounts", [(a.pk, a.custom) for a in accounts])

        tags = Tag.objects.bulk_create([Tag(tenant=tenant, name=t) for t in TAGS])
        AccountTag.objects.bulk_create([
            AccountTag(tenant=tenant, account=a, tag=t)
            for a in accounts for t in rng.sample(tags, rng.choice([0, 0, 0, 1, 1, 2]))
        ])

        # --- contacts -------------------------------------------------------------------------
        contacts: list[Contact] = []
        emails: list[ContactEmail] = []
        phones: list[ContactPhone] = []
        for account in accounts:
            country = account._demo_country
            *_, firsts, lasts = COUNTRIES[country]
            seen: set[str] = set()
            for _ in range(rng.randint(2, 4)):
                first, last = rng.choice(firsts), rng.choice(lasts)
                local = f"{_ascii(first)}.{_ascii(last)}"
                if local in seen:
                    continue
                seen.add(local)
                title, department = rng.choice(TITLES)
                email = f"{local}@{account.domain}"
                mobile = _phone(rng, country, mobile=True)
                contact = Contact(
                    tenant=tenant, salutation=rng.choice(["mr", "ms", "", "dr"]), first_name=first, last_name=last,
                    title=title, department=department, account=account, email=email, phone=mobile,
                    mailing_city=account.billing_city, mailing_country=country, language=account._demo_lang,
                    preferred_channel=rng.choice(["email", "email", "phone", ""]), owner=account.owner,
                    do_not_contact=rng.random() < 0.03, created_by=account.owner, modified_by=account.owner,
                    created_at=account.created_at + timedelta(days=rng.randint(0, 20)),
                )
                contacts.append(contact)
                emails.append(ContactEmail(tenant=tenant, contact=contact, email=email, label="work", is_primary=True))
                phones.append(ContactPhone(tenant=tenant, contact=contact, number=mobile, label="mobile",
                                           is_primary=True))
                if rng.random() < 0.4:
                    phones.append(ContactPhone(tenant=tenant, contact=contact, number=account.phone, label="work"))
        for contact in contacts:
            role = rng.choice(["Decision maker", "Influencer", "User", "User", "Gatekeeper", None])
            contact.custom = {"buying_role": role} if role else {}
        Contact.objects.bulk_create(contacts, batch_size=500)
        customfields.write_many(tenant.pk, "contacts", [(c.pk, c.custom) for c in contacts])
        ContactEmail.objects.bulk_create(emails, batch_size=500)
        ContactPhone.objects.bulk_create(phones, batch_size=500)
        by_account: dict = {}
        for contact in contacts:
            by_account.setdefault(contact.account_id, []).append(contact)

        # --- a year of activities -------------------------------------------------------------
        activities: list[Activity] = []

        def add(kind, account, subject, *, owner=None, contact=None, **fields):
            owner = owner or account.owner
            activities.append(Activity(tenant=tenant, kind=kind, subject=subject, account=account, contact=contact,
                                       owner=owner, created_by=owner, **fields))

        for account in accounts:
            people_here = by_account.get(account.pk, [])
            for _ in range(rng.randint(2, 10)):
                day = today - timedelta(days=rng.randint(1, 365))
                when = _at(day, rng.randint(8, 17), rng.choice([0, 15, 30, 45]))
                contact = rng.choice(people_here) if people_here else None
                kind = rng.choices(["call", "meeting", "email", "note", "visit", "task"], [30, 15, 20, 15, 5, 15])[0]
                if kind == "call":
                    add("call", account, rng.choice(CALL_SUBJECTS), contact=contact, occurred_at=when, status="done",
                        completed_at=when, direction=rng.choice(["outbound", "outbound", "inbound"]),
                        duration_minutes=rng.choice([5, 10, 15, 20, 30, 45]), outcome=rng.choice(CALL_OUTCOMES))
                elif kind == "meeting":
                    add("meeting", account, rng.choice(MEETING_SUBJECTS), contact=contact, occurred_at=when,
                        ends_at=when + timedelta(minutes=rng.choice([30, 60, 90])), status="done", completed_at=when,
                        location=rng.choice(["Video call", account.billing_city, "Our office"]))
                elif kind == "visit":
                    add("visit", account, "On-site visit", contact=contact, occurred_at=when, status="done",
                        completed_at=when, location=account.billing_city, duration_minutes=rng.choice([60, 120, 180]))
                elif kind == "email":
                    add("email", account, rng.choice(EMAIL_SUBJECTS), contact=contact, occurred_at=when, status="done",
                        completed_at=when, direction=rng.choice(["outbound", "inbound"]),
                        body="Thanks for your time today. As discussed, here is a summary of the next steps.")
                elif kind == "note":
                    add("note", account, rng.choice(NOTE_SUBJECTS), contact=contact, occurred_at=when, status="done",
                        body="Noted after a conversation with the customer.")
                else:
                    add("task", account, rng.choice(TASK_SUBJECTS), contact=contact, due_at=_at(day, 17),
                        status="done", completed_at=_at(day, rng.randint(9, 16)), priority="normal")
            # what is coming up: a future meeting or task on some accounts
            if rng.random() < 0.3:
                day = today + timedelta(days=rng.randint(1, 30))
                when = _at(day, rng.randint(9, 16))
                add("meeting", account, rng.choice(MEETING_SUBJECTS), occurred_at=when,
                    contact=rng.choice(people_here) if people_here else None,
                    ends_at=when + timedelta(hours=1), location="Video call")
            if rng.random() < 0.35:
                add("task", account, rng.choice(TASK_SUBJECTS), due_at=_at(today + timedelta(days=rng.randint(1, 21)),
                                                                        17),
                    priority=rng.choice(["normal", "normal", "high", "low"]))

        # each rep's home page: overdue tasks, tasks and meetings today
        for owner in (rep, rep2):
            mine = [a for a in accounts if a.owner_id == owner.pk] or accounts
            for _ in range(4):
                account = rng.choice(mine)
                add("task", account, rng.choice(TASK_SUBJECTS), owner=owner,
                    due_at=_at(today - timedelta(days=rng.randint(1, 12)), 17), priority=rng.choice(["high", "normal"]),
                    remind_at=_at(today - timedelta(days=14), 9), reminded_at=_at(today - timedelta(days=14), 9))
            for hour in (10, 14, 16):
                account = rng.choice(mine)
                add("task", account, rng.choice(TASK_SUBJECTS), owner=owner, due_at=_at(today, hour),
                    priority="high" if hour == 10 else "normal")
            account = rng.choice(mine)
            when = _at(today, 11, 30)
            add("meeting", account, rng.choice(MEETING_SUBJECTS), owner=owner, occurred_at=when,
                ends_at=when + timedelta(hours=1), location="Video call",
                contact=(by_account.get(account.pk) or [None])[0])
        Activity.objects.bulk_create(activities, batch_size=1000)
