"""Reports by e-mail on a schedule: daily, weekly (Mondays) or monthly (the 1st), at 07:00 local.

The worker's scheduler (:mod:`kartoteka.notifications.scheduler`) calls :func:`send_due_reports`
every minute; each due schedule is moved to its next run in the same UPDATE that claims it (so two
workers never send it twice) and a job (:func:`send_report_email`) sends the letter: the report as
XLSX attached and its chart inline, computed with the author's rights. A schedule whose author was
disabled is skipped and logged; its letter is never sent with anyone else's rights.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, PermissionDenied
from kartoteka.reports.models import FREQUENCIES, ReportSchedule, SavedReport

log = logging.getLogger(__name__)
SEND_AT = dt.time(7, 0)
MAX_RECIPIENTS = 20


class ScheduleError(KartotekaError):
    code = "schedule"


def next_run(after: dt.datetime, frequency: str) -> dt.datetime:
    """The first 07:00 (local) after ``after`` that is a day / a Monday / the 1st of a month."""
    local = timezone.localtime(after)
    day = local.date()
    if local.time() >= SEND_AT:
        day += dt.timedelta(days=1)
    if frequency == "weekly":
        day += dt.timedelta(days=(7 - day.weekday()) % 7)
    elif frequency == "monthly" and day.day != 1:
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return timezone.make_aware(dt.datetime.combine(day, SEND_AT))


def _recipients(text: str) -> list[str]:
    found = [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]
    if not found:
        raise ScheduleError(_("Укажите хотя бы один адрес."), code="no_recipients")
    if len(found) > MAX_RECIPIENTS:
        raise ScheduleError(_("Не больше %(n)s адресов.") % {"n": MAX_RECIPIENTS})
    for address in found:
        try:
            validate_email(address)
        except ValidationError:
            raise ScheduleError(
                _("«%(address)s» — не адрес электронной почты.") % {"address": address}
            ) from None
    return found


def schedule_report(
    actor: Actor, report: SavedReport, *, frequency: str, recipients: str
) -> ReportSchedule:
    """E-mail ``report`` on a schedule; only its author or an administrator may."""
    if report.owner_id != actor.user_id and not actor.is_admin:
        raise PermissionDenied(_("Рассылку отчёта настраивает его автор или администратор."))
    if frequency not in dict(FREQUENCIES):
        raise ScheduleError(_("Неизвестная периодичность."), code="bad_frequency")
    addresses = _recipients(recipients)
    return ReportSchedule.objects.create(
        report=report,
        author=actor.user,
        frequency=frequency,
        recipients="\n".join(addresses),
        next_run=next_run(timezone.now(), frequency),
    )


def delete_schedule(actor: Actor, schedule: ReportSchedule) -> None:
    if schedule.author_id != actor.user_id and not actor.is_admin:
        raise PermissionDenied(_("Рассылку отменяет её автор или администратор."))
    schedule.delete()


def send_due_reports(now: dt.datetime | None = None) -> int:
    """Claim every schedule due at ``now`` (moving it to its next run) and enqueue its letter."""
    now = now or timezone.now()
    claimed = []
    for schedule in ReportSchedule.objects.filter(next_run__lte=now):
        moved = ReportSchedule.objects.filter(pk=schedule.pk, next_run=schedule.next_run).update(
            next_run=next_run(now, schedule.frequency)
        )
        if moved:
            claimed.append(schedule.pk)
    for pk in claimed:
        transaction.on_commit(lambda pk=pk: send_report_email.enqueue(pk))
    return len(claimed)


@task()
def send_report_email(schedule_id: int) -> bool:
    """Send one scheduled letter; ``False`` (and a log line) when it was skipped."""
    schedule = (
        ReportSchedule.objects.filter(pk=schedule_id).select_related("report", "author").first()
    )
    if schedule is None:
        return False
    if not schedule.author.is_active:
        log.warning(
            "Report schedule %s skipped: its author %s is disabled",
            schedule.pk,
            schedule.author.username,
        )
        ReportSchedule.objects.filter(pk=schedule.pk).update(
            last_error=_("Автор рассылки отключён: письмо не отправлено.")
        )
        return False
    return _send(schedule)


def _send(schedule: ReportSchedule) -> bool:
    from kartoteka.reports import own, tables
    from kartoteka.reports.builder import Definition, ReportDefinitionError, run_report

    report = schedule.report
    actor = Actor.for_user(schedule.author, source="report")
    try:
        result = run_report(actor, Definition.from_json(report.definition), drill=False)
    except (ReportDefinitionError, KartotekaError) as exc:
        log.warning("Report schedule %s skipped: %s", schedule.pk, exc)
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_error=str(exc))
        return False
    data = tables.export_table(own.report_table(result, report.name), "xlsx")
    context: dict[str, Any] = {
        "report": report,
        "chart": own.report_chart(result, testid="mail-chart"),
        "url": settings.KARTOTEKA_BASE_URL + f"/reports/r/{report.pk}/",
        **own.page_context(result),
        "result": result,
    }
    letter = EmailMultiAlternatives(
        subject=_("Отчёт «%(name)s»") % {"name": report.name},
        body=render_to_string("reports/mail.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=schedule.recipients.split(),
    )
    letter.attach_alternative(render_to_string("reports/mail.html", context), "text/html")
    letter.attach(f"report-{report.pk}.xlsx", data, tables.CONTENT_TYPES["xlsx"])
    letter.send()
    ReportSchedule.objects.filter(pk=schedule.pk).update(last_sent_at=timezone.now(), last_error="")
    return True
