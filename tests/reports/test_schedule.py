"""Reports e-mailed on a schedule by the worker's scheduler, through a real SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import io
from email import policy

import pytest
from django.test import override_settings
from django.utils import timezone
from python_calamine import CalamineWorkbook

from kartoteka.core.actor import Actor
from kartoteka.reports import schedule
from kartoteka.reports.models import ReportSchedule, SavedReport
from tests.reports.test_builder import _paid_by_manager_month

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def local(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text))


def test_next_runs_are_at_seven_on_the_day_the_monday_and_the_first():
    monday_noon = local("2026-03-02 12:00")  # a Monday
    assert schedule.next_run(monday_noon, "daily") == local("2026-03-03 07:00")
    assert schedule.next_run(local("2026-03-02 06:00"), "daily") == local("2026-03-02 07:00")
    assert schedule.next_run(monday_noon, "weekly") == local("2026-03-09 07:00")
    assert schedule.next_run(monday_noon, "monthly") == local("2026-04-01 07:00")


def test_the_worker_mails_the_report_as_xlsx_with_the_chart_and_skips_a_disabled_author(
    sales_history, admin_user, manager_user, smtp, django_capture_on_commit_callbacks, caplog
):
    from kartoteka.notifications.scheduler import run_tick

    report = SavedReport.objects.create(
        name="Оплаты по месяцам",
        owner=manager_user,
        definition=_paid_by_manager_month().as_json(),
    )
    manager = Actor.for_user(manager_user)
    with pytest.raises(schedule.ScheduleError):
        schedule.schedule_report(manager, report, frequency="daily", recipients="не адрес")
    mine = schedule.schedule_report(
        manager, report, frequency="daily", recipients="boss@example.ru, ivanov@example.ru"
    )
    due = mine.next_run
    # when the scheduler's minute comes (jobs run at once here)
    with (
        override_settings(TASKS=IMMEDIATE, KARTOTEKA_BASE_URL="https://crm.example.ru"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert run_tick(due - dt.timedelta(minutes=1)) == 0
        assert smtp.messages == []
        run_tick(due)
    # then one letter, the XLSX of the author's figures attached, the chart in the HTML part
    assert len(smtp.messages) == 1
    _sender, recipients, raw = smtp.messages[0]
    assert recipients == ["boss@example.ru", "ivanov@example.ru"]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"].strip() == "Отчёт «Оплаты по месяцам»"
    html = message.get_body(("html",)).get_content()
    assert 'data-testid="mail-chart"' in html and "<svg" in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"report-{report.pk}.xlsx"
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(attachment.get_content()))
    rows = sheet.get_sheet_by_index(0).to_python()
    assert [r[0] for r in rows] == ["Менеджер", "Иванов Иван", "Итого"]  # his rows only
    mine.refresh_from_db()
    assert mine.next_run == due + dt.timedelta(days=1) and mine.last_sent_at is not None

    # given the author is disabled, when the next run comes, then nothing is sent and it is logged
    manager_user.is_active = False
    manager_user.save()
    with (
        override_settings(TASKS=IMMEDIATE),
        django_capture_on_commit_callbacks(execute=True),
        caplog.at_level("WARNING", logger="kartoteka.reports.schedule"),
    ):
        run_tick(mine.next_run)
    assert len(smtp.messages) == 1
    assert "its author ivanov is disabled" in caplog.text
    assert ReportSchedule.objects.get().last_error == (
        "Автор рассылки отключён: письмо не отправлено."
    )
