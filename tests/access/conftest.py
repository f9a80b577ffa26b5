"""A small company for the access tests: two managers with their own clients (each with a work row
and an invoice), a group without «Контрагенты», a group with «ИНН» hidden and a read-only group."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from kartoteka.core.actor import ADMIN_GROUP, MANAGERS_GROUP, Actor
from kartoteka.records.services import create_record
from kartoteka.tables.models import Table

SYSTEM = Actor.system("test")
#: The INN of the client of the hidden-field group's user: it must never reach him.
SECRET_INN = "7707083893"


@dataclass
class Target:
    user: Any
    counterparty: Any
    work: Any
    invoice: Any
    name: str


@dataclass
class World:
    admin: Any
    users: dict[str, Any]
    targets: dict[str, Target] = field(default_factory=dict)
    company: Any = None


def _user(username: str, group: str) -> Any:
    from kartoteka.accounts.services import create_user

    return create_user(
        SYSTEM,
        username=username,
        password="Xk2#pLq9!vR",
        group=group,
        full_name=f"{username.capitalize()} Тест",
        check_password=False,
    )


def _client(owner: Any, name: str, inn: str, company: Any) -> Target:
    cp = create_record(
        SYSTEM,
        Table.objects.get(key="counterparties"),
        {"name": name, "inn": inn, "city": "Тула", "manager": owner.pk},
    )
    work = create_record(
        SYSTEM,
        Table.objects.get(key="client_work"),
        {
            "counterparty": cp.pk,
            "work_type": "call",
            "date": dt.date(2026, 11, 2),
            "manager": owner.pk,
        },
    )
    invoice = create_record(
        SYSTEM,
        Table.objects.get(key="invoices"),
        {
            "number": f"T-{cp.pk}",
            "counterparty": cp.pk,
            "company": company.pk,
            "manager": owner.pk,
            "date": dt.date(2026, 11, 3),
        },
    )
    create_record(
        SYSTEM,
        Table.objects.get(key="invoice_items"),
        {"invoice": invoice.pk, "name": "Шоколад", "quantity": 2, "price": "150.00"},
    )
    return Target(owner, cp, work, invoice, name)


def build_world() -> World:
    """The company of the module docstring, made through the services."""
    from django.contrib.auth.models import Group

    from kartoteka.access import services as access
    from kartoteka.tables.models import Field

    admin = _user("admin1", ADMIN_GROUP)
    managers = Group.objects.get(name=MANAGERS_GROUP)
    staff = Actor.for_user(admin, source="settings")
    no_table = access.create_group(staff, "Без контрагентов", copy_from=managers)
    access.set_table_rights(
        staff, no_table, Table.objects.get(key="counterparties"), verbs=[], actions=[]
    )
    hidden = access.create_group(staff, "Без ИНН", copy_from=managers)
    access.set_field_rights(
        staff,
        hidden,
        Field.objects.get(table__key="counterparties", key="inn"),
        access="hidden",
    )
    read_only = access.create_group(staff, "Только просмотр")
    for table in Table.objects.all():
        access.set_table_rights(staff, read_only, table, verbs=["view"], actions=[])
    users = {
        "own": _user("ivanov", MANAGERS_GROUP),
        "peer": _user("petrov", MANAGERS_GROUP),
        "no_table": _user("notable", "Без контрагентов"),
        "hidden": _user("noinn", "Без ИНН"),
        "read_only": _user("reader", "Только просмотр"),
    }
    company = create_record(
        SYSTEM,
        Table.objects.get(key="companies"),
        {"name": "ООО «Кондитер»", "is_default": True},
    )
    w = World(admin=admin, users=users, company=company)
    w.targets["own"] = _client(users["own"], "Ромашка Иванова", "7736050003", company)
    w.targets["peer"] = _client(users["peer"], "Лютик Петрова", "7710140679", company)
    w.targets["no_table"] = _client(users["no_table"], "Василёк Без", "7702070139", company)
    w.targets["hidden"] = _client(users["hidden"], "Тюльпан Скрытый", SECRET_INN, company)
    w.targets["read_only"] = _client(users["read_only"], "Пион Читатель", "7728168971", company)
    return w


@pytest.fixture
def world(crm) -> World:
    return build_world()


def dump() -> str:
    """Every row an access test may touch, in a stable text form: records of every table (all
    states), saved views, column choices, rights, groups and users' groups, schema metadata, API
    tokens, calendar feeds, import batches and templates, notifications and reminders, web forms
    (and their submissions), webhooks, invitations and password-reset requests."""
    import json

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kartoteka.access.models import FieldRight, TableRight
    from kartoteka.accounts.models import Invitation, ResetRequest
    from kartoteka.api.models import ApiToken
    from kartoteka.calendar.models import CalendarFeed
    from kartoteka.grids.models import ColumnPreference, SavedView
    from kartoteka.imports.models import ImportBatch, ImportTemplate
    from kartoteka.mailings.models import Campaign, OptOut, Recipient
    from kartoteka.notifications.models import Notification, NotificationSettings, Reminder
    from kartoteka.profiles.models import Profile, RecoveryCode
    from kartoteka.reports.models import DesktopWidget, ReportSchedule, SalesPlan, SavedReport
    from kartoteka.sms.models import SmsSettings
    from kartoteka.tables.modelfactory import model_for
    from kartoteka.tables.models import Category, Field
    from kartoteka.webforms.models import WebForm, WebFormSubmission
    from kartoteka.webhooks.models import Webhook

    parts: dict[str, Any] = {}
    for table in Table.objects.order_by("key"):
        parts[f"t:{table.key}"] = list(model_for(table).objects.order_by("pk").values())
    for model in (
        SavedView,
        ColumnPreference,
        TableRight,
        FieldRight,
        Category,
        Table,
        Field,
        ApiToken,
        CalendarFeed,
        ImportBatch,
        ImportTemplate,
        Notification,
        NotificationSettings,
        Reminder,
        WebForm,
        WebFormSubmission,
        Webhook,
        Invitation,
        ResetRequest,
        TOTPDevice,
        RecoveryCode,
        Profile,
        SavedReport,
        ReportSchedule,
        DesktopWidget,
        SalesPlan,
        SmsSettings,
        Campaign,
        Recipient,
        OptOut,
    ):
        parts[model.__name__] = list(model.objects.order_by("pk").values())
    parts["groups"] = list(Group.objects.order_by("pk").values_list("pk", "name"))
    parts["users"] = list(
        get_user_model()
        .objects.order_by("pk")
        .values_list("pk", "username", "email", "password", "is_active")
    )
    parts["user_groups"] = list(
        get_user_model().groups.through.objects.order_by("pk").values_list("user_id", "group_id")
    )
    return json.dumps(parts, default=str, sort_keys=True, ensure_ascii=False)
