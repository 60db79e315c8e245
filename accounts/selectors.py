"""Reads of customer accounts, always through the visibility engine and with the explicit tenant.

Lists order by a stored key plus id and page by keyset (crm/lists/paging.py, never OFFSET); every
condition compares a stored column with a leakproof operator, so it stays inside an index under RLS.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.http import Http404

from crm.access import policy
from crm.lists.paging import sort_alias
from crm.tenancy.models import Membership
from crm.tenancy.search import normalise_text, prefix_q

from .models import Account, AccountTag, Tag
from .services import MAX_DEPTH, ancestor_ids

# the most descendants the 360° page reads, whatever the size of the hierarchy
MAX_TREE_NODES = 500


# --- filters --------------------------------------------------------------------------------


@dataclass
class AccountFilter:
    q: str = ""
    type: str = ""
    industry: str = ""
    owner: object = None  # a Membership id
    status: str = ""
    rating: str = ""
    tag: str = ""  # a tag's name
    country: str = ""  # billing country code
    # `q` also matches an exact domain; False for someone the website (and domain) is hidden from
    match_domain: bool = True

    def apply(self, qs: QuerySet, *, tenant_id, walk_tag_links: bool = False) -> QuerySet:
        """`walk_tag_links`: filter a tag by joining its links and offer their (account_name_key,
        account_id) as the name order's keyset copy, so a page in name order is one range of
        accounttag_tag_name_idx. The better plan when every account is visible (an admin): the
        walk stops after a page. Not for a rep, who sees a sliver of the tag's accounts: the walk
        would read all of its links to fill a page; collecting the visible ids first is cheaper."""
        q = (self.q or "").strip()
        if q:
            match = prefix_q("name_key", q)
            if self.match_domain and "." in q and " " not in q:  # looks like a domain: also an exact domain match
                domain = q.lower().removeprefix("https://").removeprefix("http://").split("/")[0]
                match |= Q(domain=domain.removeprefix("www."))
            qs = qs.filter(match)
        for name in ("type", "industry", "status", "rating"):
            value = getattr(self, name)
            if value:
                qs = qs.filter(**{name: value})
        if self.owner:
            qs = qs.filter(owner_id=self.owner)
        if self.country:
            qs = qs.filter(billing_country=str(self.country).upper())
        if self.tag:
            # the tag's id is read first, so the planner sees the actual value and its statistics: as
            # a subquery it assumed an average tag (~170 rows) and for a big one (12,822 of 1 M
            # accounts) fetched and sorted them all instead of walking the name index
            tag_ids = list(Tag.objects.filter(tenant_id=tenant_id, name_key=normalise_text(self.tag))
                           .values_list("id", flat=True)[:1]) or [None]
            if tag_ids[0] is None:  # no such tag: nothing carries it (and `= None` would mean IS NULL)
                qs = qs.none()
            elif walk_tag_links:
                # one join (the link is unique per account and tag, so no row repeats), reused by
                # the copies; pages order by them (crm.lists.paging.order_fields, the API's
                # AccountPagination), and API cursors read them from the rows
                qs = qs.filter(tag_links__tenant_id=tenant_id, tag_links__tag_id=tag_ids[0]).annotate(**{
                    sort_alias("name_key"): F("tag_links__account_name_key"),
                    sort_alias("id"): F("tag_links__account_id"),
                })
            else:
                qs = qs.filter(id__in=AccountTag.objects.filter(tenant_id=tenant_id, tag_id=tag_ids[0])
                               .values("account_id"))
        return qs


def account_list(*, actor: Membership, filters: AccountFilter | None = None) -> QuerySet[Account]:
    """The accounts the actor may see, filtered, in name order (name_key, id)."""
    qs = Account.objects.for_tenant(actor.tenant)
    qs = policy.visible(qs, actor, "read")
    qs = (filters or AccountFilter()).apply(qs, tenant_id=actor.tenant_id)
    # owners come by prefetch_related("owner__user") where shown: a join here would cost the
    # ordered index scan on (tenant, name_key, id) its plan
    return qs.order_by("name_key", "id")


def account_get(*, actor: Membership, id) -> Account:
    """One account the actor may see, else 404 (another company's, or a colleague's private one)."""
    try:
        pk = uuid.UUID(str(id))
    except ValueError:
        raise Http404 from None
    qs = policy.visible(Account.objects.for_tenant(actor.tenant), actor, "read")
    account = qs.select_related("owner__user", "parent", "created_by__user", "modified_by__user").filter(pk=pk).first()
    if account is None:
        raise Http404
    return account


# --- the hierarchy --------------------------------------------------------------------------


@dataclass
class TreeNode:
    account: Account
    depth: int  # 0 for the root of the shown tree
    children: list = field(default_factory=list)


@dataclass
class AccountTree:
    ancestors: list  # from the root down to the account's parent: Account, or None when hidden
    nodes: list  # the account's descendants the actor may see, depth-first, as TreeNode
    child_count: int  # direct children the actor may see
    subtree_count: int  # all visible descendants
    employees: int
    revenue: dict  # currency -> sum of annual revenue over the visible descendants
    truncated: bool  # more descendants than MAX_TREE_NODES


def _descendant_rows(account: Account) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE down(id, parent_id, depth) AS (
                SELECT id, parent_id, 1 FROM accounts_account WHERE tenant_id = %s AND parent_id = %s
                UNION ALL
                SELECT a.id, a.parent_id, down.depth + 1
                FROM accounts_account a JOIN down ON a.parent_id = down.id
                WHERE a.tenant_id = %s AND down.depth < %s
            )
            SELECT id, parent_id, depth FROM down LIMIT %s
            """,
            [account.tenant_id, account.pk, account.tenant_id, MAX_DEPTH, MAX_TREE_NODES + 1],
        )
        return cursor.fetchall()


def account_tree(*, actor: Membership, account: Account) -> AccountTree:
    """Ancestors up to the root and the subtree below, with roll-ups of the visible descendants.

    Three queries whatever the size: the ancestors' ids, the descendants' ids (both recursive, the
    tenant named in every step, depth and size bounded), then the rows the actor may see.
    """
    up = ancestor_ids(account.pk, tenant_id=account.tenant_id)
    down = _descendant_rows(account)
    truncated = len(down) > MAX_TREE_NODES
    down = down[:MAX_TREE_NODES]
    ids = list(up) + [row[0] for row in down]
    rows = {}
    if ids:
        qs = policy.visible(Account.objects.for_tenant(actor.tenant), actor, "read").filter(id__in=ids)
        rows = {a.pk: a for a in qs.only("id", "name", "type", "status", "parent_id", "owner_id",
                                          "employees", "annual_revenue", "currency", "tenant_id")}
    ancestors = [rows.get(pk) for pk in reversed(up)]

    children_of: dict = defaultdict(list)
    for pk, parent_id, _depth in down:
        if pk in rows:
            children_of[parent_id].append(rows[pk])
    nodes: list[TreeNode] = []

    def walk(parent_id, depth):
        for child in sorted(children_of.get(parent_id, []), key=lambda a: (a.name.casefold(), str(a.pk))):
            nodes.append(TreeNode(child, depth))
            walk(child.pk, depth + 1)

    walk(account.pk, 1)
    revenue: dict = defaultdict(int)
    employees = 0
    for node in nodes:
        employees += node.account.employees or 0
        if node.account.annual_revenue:
            revenue[node.account.currency] += node.account.annual_revenue
    return AccountTree(
        ancestors=ancestors, nodes=nodes, child_count=len(children_of.get(account.pk, [])),
        subtree_count=len(nodes), employees=employees, revenue=dict(revenue), truncated=truncated,
    )


# --- the 360° page's contacts ---------------------------------------------------------------

CONTACTS_SHOWN = 50


def account_contacts(*, actor: Membership, account: Account, limit: int = CONTACTS_SHOWN) -> list:
    """The account's contacts the actor may see, by name; one query, at most `limit` (+1 to say
    there are more)."""
    from contacts.models import Contact  # contacts depends on accounts, not the other way round

    qs = policy.visible(Contact.objects.for_tenant(actor.tenant), actor, "read").filter(account_id=account.pk)
    return list(qs.only("id", "first_name", "last_name", "title", "email", "phone", "owner_id", "tenant_id",
                        "account_id").order_by("name_key", "id")[: limit + 1])


def account_tags(account: Account) -> list[Tag]:
    return list(Tag.objects.filter(tenant_id=account.tenant_id,
                                   id__in=AccountTag.objects.filter(tenant_id=account.tenant_id, account_id=account.pk)
                                   .values("tag_id")).order_by("name_key", "id"))


def assignable_owners(*, actor: Membership) -> QuerySet[Membership]:
    """Who the actor may make an owner: the team below them, all members for whoever may hand
    records over (managers and admins by default; the services' _check_owner rule)."""
    qs = Membership.objects.for_tenant(actor.tenant).filter(is_active=True).select_related("user")
    if not policy.can(actor, "transfer_records"):
        qs = qs.filter(id__in=policy.subordinate_ids(actor))
    return qs.order_by("user__full_name", "user__email", "id")
