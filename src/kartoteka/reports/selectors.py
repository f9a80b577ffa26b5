"""Reading saved reports: the ones a user may open (his own and those shared with his groups)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.reports.models import SavedReport


def list_reports(actor: Actor) -> QuerySet[SavedReport]:
    """Reports the actor may open: his own, those shared with his groups; an administrator's
    list has every report."""
    qs = SavedReport.objects.select_related("owner")
    if actor.user is None or actor.is_admin:
        return qs
    groups = actor.user.groups.all()
    return qs.filter(Q(owner=actor.user) | Q(groups__in=groups)).distinct()


def get_report(actor: Actor, pk: int) -> SavedReport:
    report = list_reports(actor).filter(pk=pk).first()
    if report is None:
        raise NotFound(_("Отчёт №%(pk)s не найден.") % {"pk": pk})
    return report
