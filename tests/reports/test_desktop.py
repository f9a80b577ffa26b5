"""The desktop: defaults, a group's default, add/remove/reorder, widgets with the viewer's rights,
the sales plan against paid invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from kartoteka.core.actor import MANAGERS_GROUP, Actor
from kartoteka.core.exceptions import PermissionDenied
from kartoteka.records.services import create_records
from kartoteka.reports import desktop
from kartoteka.reports.desktop import DesktopError, Slot
from kartoteka.reports.models import DesktopWidget, SalesPlan, SavedReport
from tests.reports.conftest import SYSTEM


def kinds(actor: Actor) -> list[str]:
    return [s.kind for s in desktop.desktop(actor)]


def test_a_group_default_then_own_changes_add_remove_and_reorder(admin_user, manager_user):
    admin, manager = Actor.for_user(admin_user), Actor.for_user(manager_user)
    assert kinds(manager) == list(desktop.DEFAULT_KINDS)
    report = SavedReport.objects.create(
        name="Счета по менеджерам",
        owner=admin_user,
        definition={"table": "invoices", "rows": [{"field": "manager"}]},
    )
    report.groups.set([Group.objects.get(name=MANAGERS_GROUP)])
    desktop.set_desktop(
        admin,
        [Slot("report", report.pk), Slot("tasks_today")],
        group=Group.objects.get(name=MANAGERS_GROUP),
    )
    assert kinds(manager) == ["report", "tasks_today"]
    with pytest.raises(PermissionDenied):
        desktop.set_desktop(manager, [], group=Group.objects.get(name=MANAGERS_GROUP))

    desktop.add_widget(manager, "sales_plan")
    desktop.move_widgets(manager, [2, 0, 1])
    assert kinds(manager) == ["sales_plan", "report", "tasks_today"]
    with pytest.raises(DesktopError):
        desktop.move_widgets(manager, [0, 1])
    with pytest.raises(DesktopError):
        desktop.add_widget(manager, "tasks_today")
    desktop.remove_widget(manager, 1)
    assert kinds(manager) == ["sales_plan", "tasks_today"]
    desktop.remove_widget(manager, 0)
    desktop.remove_widget(manager, 0)
    assert kinds(manager) == []  # emptied stays empty, not the group's default again
    assert DesktopWidget.objects.filter(group__isnull=False).count() == 2


def test_widgets_show_the_viewers_own_records(table, admin_user, manager_user, sales_history):
    manager = Actor.for_user(manager_user)
    now = timezone.localtime()
    create_records(
        SYSTEM,
        table("tasks"),
        [
            {
                "title": "Позвонить сегодня",
                "assignee": manager_user.pk,
                "deadline": now.replace(hour=23, minute=59),
            },
            {
                "title": "Просрочено",
                "assignee": manager_user.pk,
                "deadline": now - dt.timedelta(days=2),
            },
            {
                "title": "Чужое",
                "assignee": admin_user.pk,
                "deadline": now.replace(hour=23, minute=59),
            },
            {
                "title": "Сделано вчера",
                "assignee": manager_user.pk,
                "deadline": now - dt.timedelta(days=1),
                "state": "done",
            },
        ],
    )
    today = desktop.widget_context(manager, Slot("tasks_today"))
    assert [str(r) for r in today["records"]] == ["Позвонить сегодня"]
    overdue = desktop.widget_context(manager, Slot("tasks_overdue"))
    assert [str(r) for r in overdue["records"]] == ["Просрочено"]


def test_the_sales_plan_against_paid_invoices(admin_user, manager_user, sales_history):
    admin, manager = Actor.for_user(admin_user), Actor.for_user(manager_user)
    march = dt.date(2026, 3, 1)
    with pytest.raises(PermissionDenied):
        desktop.set_sales_plan(manager, manager_user, march, Decimal("1000"))
    assert SalesPlan.objects.count() == 0
    desktop.set_sales_plan(admin, manager_user, dt.date(2026, 3, 15), Decimal("4000.00"))
    petrova = type(manager_user).objects.get(username="petrova")
    desktop.set_sales_plan(admin, petrova, march, Decimal("1000.00"))
    mine = desktop.sales_plan(manager, march)["plans"]
    assert [(r.manager.username, r.plan, r.paid, r.percent) for r in mine] == [
        ("ivanov", Decimal("4000.00"), Decimal("2333.30"), 58)
    ]
    every = desktop.sales_plan(admin, march)["plans"]
    assert sorted((r.manager.username, r.paid, r.percent) for r in every) == [
        ("ivanov", Decimal("2333.30"), 58),
        ("petrova", Decimal("1500.00"), 150),
    ]


def test_the_home_page_draws_only_the_frame_and_widgets_load_apart(client, manager_user):
    client.force_login(manager_user)
    page = client.get("/").content.decode()
    assert page.count('data-testid="widget-body"') == len(desktop.DEFAULT_KINDS)
    assert 'data-testid="tables-tab"' in page and 'href="/t/counterparties/"' in page
    counts = client.get("/home/counts/").content.decode()
    assert '<span class="badge text-bg-light" id="count-counterparties" hx-swap-oob="true">0<' in (
        counts
    )
    widget = client.get("/reports/desktop/widget/?kind=tasks_today")
    assert widget.status_code == 200 and "Пусто." in widget.content.decode()
    assert client.post("/reports/desktop/add/", {"widget": "web_leads"}).status_code == 302
    assert client.post("/reports/desktop/move/", {"order": "4,0,1,2,3"}).status_code == 204
    assert kinds(Actor.for_user(manager_user))[0] == "web_leads"
    assert client.post("/reports/desktop/move/", {"order": "9"}).status_code == 400


def test_administrators_set_plans_on_their_page_and_the_widget_shows_progress(
    client, admin_user, manager_user, sales_history
):
    client.force_login(manager_user)
    assert client.get("/reports/plans/").status_code == 403
    client.force_login(admin_user)
    month = timezone.localdate().replace(day=1)
    response = client.post(
        "/reports/plans/", {"month": f"{month:%Y-%m}", f"plan-{manager_user.pk}": "150 000,50"}
    )
    assert response.status_code == 302
    plan = SalesPlan.objects.get()
    assert (plan.manager, plan.month, plan.amount) == (manager_user, month, Decimal("150000.50"))
    client.force_login(manager_user)
    widget = client.get("/reports/desktop/widget/?kind=sales_plan").content.decode()
    assert 'data-testid="plan-row"' in widget and "Иванов Иван" in widget
