"""What of a leaving rep's activities is handed over (crm.access.transfer): open tasks and meetings
still to come. Done, cancelled and past ones stay theirs: that is history."""

from django.db.models import Q
from django.utils import timezone


def open_activities() -> Q:
    return Q(status="open") & (Q(kind="task") | Q(kind="meeting", occurred_at__gte=timezone.now()))
