"""Saving, sharing and removing own reports; actor first, like every service."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied
from kartoteka.reports.builder import Definition, ReportDefinitionError, validate
from kartoteka.reports.models import SavedReport


def save_report(
    actor: Actor,
    definition: Definition,
    *,
    name: str,
    groups: list[Group] | None = None,
    report: SavedReport | None = None,
) -> SavedReport:
    """Save a report under a name (a new one, or ``report`` changed by its author or an
    administrator), shared with ``groups``. A definition that cannot run is never saved; the
    figures a shared report shows are always its viewer's own (it runs with his rights)."""
    name = name.strip()
    if not name:
        raise ReportDefinitionError([_("Укажите название отчёта.")], code="no_name")
    validate(actor, definition)
    if report is not None and report.owner_id != actor.user_id and not actor.is_admin:
        raise PermissionDenied(_("Изменить отчёт может только его автор или администратор."))
    with transaction.atomic():
        if report is None:
            report = SavedReport(owner=actor.user)
        report.name = name[:200]
        report.definition = definition.as_json()
        report.save()
        report.groups.set(groups or [])
    return report


def delete_report(actor: Actor, report: SavedReport) -> None:
    if report.owner_id != actor.user_id and not actor.is_admin:
        raise PermissionDenied(_("Удалить отчёт может только его автор или администратор."))
    report.delete()
