"""`{% my_day as day %}`: the home panel's data (home panels get no context of their own)."""

from django import template

from contacts import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def my_day(context):
    membership = getattr(context.get("request"), "membership", None)
    return selectors.my_day(membership) if membership is not None else selectors.MyDay()


KIND_ICONS = {"call": "phone", "meeting": "calendar", "task": "list-checks", "note": "file-text",
              "email": "mail", "visit": "compass"}


@register.filter
def kind_icon(kind: str) -> str:
    """The icon name (components/icon.html) for an activity kind."""
    return KIND_ICONS.get(kind, "activity")


@register.filter
def editable_by(record, membership) -> bool:
    """`{% if activity|editable_by:request.membership %}`: the access engine's answer (crm/access)."""
    from crm.access import policy as access

    return access.can(membership, "edit", record)


@register.filter
def attendee_name(attendee) -> str:
    if attendee.membership_id:
        user = attendee.membership.user
        return user.full_name or user.email
    return attendee.contact.full_name if attendee.contact_id else ""


@register.simple_tag(takes_context=True)
def field_visibility(context, key: str):
    """`{% field_visibility "activities" as afls %}` then `{% if afls.outcome %}`: field-level
    security for the signed-in person (crm.access.fields.Visibility; their access context is
    loaded once per request, so this costs no query per row)."""
    from crm.access import fields

    return fields.Visibility(getattr(context.get("request"), "membership", None), key)
