"""The access matrix: every URL of the site × every kind of user × what it does.

``MATRIX`` is the one table of expected outcomes. Each row is one request (a URL name and a verb)
with what each subject must get:

- ``OK`` — allowed: a 2xx/3xx answer; for a write, the data changed; for a read with a marker,
  the target record's name is in the page;
- ``EMPTY`` — answered, but the target record is not in it (search, grid, lookup, export);
- ``LOGIN`` — sent to the log-in page; a number (``400``, ``401``, ``403``, ``404``) — refused
  with that status (the API answers 401 without a log-in and 400 for a hidden field, which it
  treats as no field at all);
- ``REFUSED`` — the page answered with an error message and nothing changed;
- ``ANY`` — allowed, not checked further (administrator pages that need real form input).

For every answer that is not ``OK``/``ANY`` the data must be byte-for-byte unchanged (a dump of
every table before and after), and no page the hidden-field subject gets may contain the hidden
INN. Subjects: anonymous, the administrator, a manager on his own client («own»), the same manager
on another manager's client («peer»), a group without «Контрагенты» («no_table»), a group with
«ИНН» hidden («hidden»), a read-only group («read_only»).

Adding a URL: add a row to ``MATRIX`` (``test_every_url_has_a_row`` fails until you do) — its
name, a verb, the method, a function building ``(path, data)`` from the subject's target
(``ctx.cp``, ``ctx.target.work``/``invoice``) and ``E(...)`` with the outcomes that differ from
"allowed" (anonymous defaults to ``LOGIN``); ``write=True`` for a request that changes data. API
operations: ``json_body=True`` and the method (``"PATCH"`` …); log the client in the same way;
``hidden_text`` is what the hidden-field subject's answer must not contain (``"inn"`` as a JSON
key). A row's ``prepare`` may keep what it made in ``ctx.data`` (``sent``: a file the subject
uploaded himself, which the wizard may show back to him).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.access.conftest import SECRET_INN, Target, World, build_world, dump
from tests.builders import built_for_module

OK, EMPTY, LOGIN, REFUSED, ANY = "OK", "EMPTY", "LOGIN", "REFUSED", "ANY"
SUBJECTS = ("anonymous", "admin", "own", "peer", "no_table", "hidden", "read_only")


@dataclass
class Ctx:
    """What a row builds its request from: the subject's target client and the world."""

    world: World
    target: Target
    #: The subject's user (``None``: anonymous) and the test client (session of the wizard).
    user: Any = None
    client: Any = None
    #: What a row's ``prepare`` made for its ``build`` (the wizard's token …).
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def cp(self) -> int:
        return self.target.counterparty.pk


Build = Callable[[Ctx], tuple[str, dict[str, Any]]]


@dataclass
class Row:
    name: str  # the URL name (namespace:name)
    verb: str
    method: str
    build: Build
    expect: dict[str, Any]  # subject → outcome
    write: bool = False
    marker: bool = False  # OK means the target's name is in the answer (EMPTY: it is not)
    #: For pages that echo the query: what shows the record itself was found.
    found: Callable[[Ctx], str] | None = None
    htmx: bool = False
    prepare: Callable[[Ctx], None] | None = None
    #: Send ``data`` as a JSON body (API operations: POST, PUT, PATCH, DELETE).
    json_body: bool = False
    #: Text the hidden-field subject's answer must not contain (the hidden field's key in JSON).
    hidden_text: str = ""


def E(anonymous=LOGIN, admin=OK, own=OK, peer=OK, no_table=OK, hidden=OK, read_only=OK):
    return {
        "anonymous": anonymous,
        "admin": admin,
        "own": own,
        "peer": peer,
        "no_table": no_table,
        "hidden": hidden,
        "read_only": read_only,
    }


#: Pages only administrators open.
ADMIN_ONLY = E(admin=ANY, own=403, peer=403, no_table=403, hidden=403, read_only=403)
#: A record of the subject's client: his own for everyone, another manager's for «peer».
RECORD_READ = E(peer=404, no_table=404)
RECORD_WRITE = E(peer=404, no_table=404, read_only=403)


def _trash(ctx: Ctx) -> None:
    from kartoteka.core.actor import Actor
    from kartoteka.records.services import trash_records
    from kartoteka.tables.models import Table

    trash_records(Actor.system("test"), Table.objects.get(key="counterparties"), [ctx.cp])


def _managers_group() -> int:
    from django.contrib.auth.models import Group

    from kartoteka.core.actor import MANAGERS_GROUP

    return Group.objects.get(name=MANAGERS_GROUP).pk


def _shared_report(ctx: Ctx) -> None:
    """A report by the administrator (counterparties by name) shared with every group."""
    from django.contrib.auth.models import Group

    from kartoteka.reports.models import SavedReport

    report = SavedReport.objects.create(
        name="Клиенты",
        owner=ctx.world.admin,
        definition={"table": "counterparties", "rows": [{"field": "name"}]},
    )
    report.groups.set(Group.objects.all())
    ctx.data["report"] = report.pk


def _edit_data(ctx: Ctx, city: str) -> dict[str, Any]:
    cp = ctx.target.counterparty
    return {
        "name": ctx.target.name,
        "kind": cp.kind,
        "inn": cp.inn,
        "city": city,
        "manager": cp.manager_id,
        "type": cp.type,
        "status": cp.status,
    }


def _view_pk(ctx: Ctx) -> int:
    from kartoteka.grids.models import SavedView
    from kartoteka.tables.models import Table

    view = SavedView.objects.create(
        table=Table.objects.get(key="counterparties"), name="Админа", owner=ctx.world.admin
    )
    return view.pk


def _link(ctx: Ctx) -> str:
    return f"/t/counterparties/{ctx.cp}/"


def _picked(ctx: Ctx) -> str:
    return f'data-id="{ctx.cp}"'


#: API answers for anyone logged in; without a log-in the API says 401 (no redirect).
API_ANY = E(anonymous=401)
#: The hidden field's key as a JSON key: absent from every API answer to the hidden subject.
_INN_KEY = '"inn"'


def _api_id(ctx: Ctx) -> str:
    return f'"id":{ctx.cp},'


def _work_id(ctx: Ctx) -> str:
    return f'"id":{ctx.target.work.pk},'


def _record_ref(ctx: Ctx) -> str:
    return f"#{ctx.cp}<"


def _admin_token(ctx: Ctx) -> int:
    from kartoteka.api.tokens import create_token
    from kartoteka.core.actor import Actor

    admin = ctx.world.admin
    return create_token(Actor.for_user(admin), admin, "Админа").token.pk


def _own_feed(ctx: Ctx) -> None:
    from kartoteka.calendar.services import create_feed
    from kartoteka.core.actor import Actor

    if ctx.user is not None:
        create_feed(Actor.for_user(ctx.user))


def _feed_token(ctx: Ctx) -> str:
    """The subject's own feed (the «own» manager's for the anonymous visitor)."""
    from kartoteka.calendar.services import create_feed
    from kartoteka.core.actor import Actor

    return create_feed(Actor.for_user(ctx.user or ctx.world.users["own"])).token


def _work_uid(ctx: Ctx) -> str:
    return f"client_work-{ctx.target.work.pk}@"


def _csv_text(ctx: Ctx) -> str:
    return f"Название;ИНН;Город\n{ctx.target.name};{ctx.target.counterparty.inn};Орёл\n"


def _csv_file(ctx: Ctx) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = _csv_text(ctx)
    return SimpleUploadedFile("clients.csv", text.encode("utf-8"), content_type="text/csv")


def _upload(ctx: Ctx) -> None:
    """A file in the subject's import wizard (its session), keyed by INN, and a template."""
    from dataclasses import asdict

    from django.core.files.storage import default_storage

    from kartoteka.imports import wizard
    from kartoteka.imports.models import ImportTemplate
    from kartoteka.tables.models import Table

    table = Table.objects.get(key="counterparties")
    token = "a" * 24
    path = default_storage.save(f"imports/wizard/{token}/clients.csv", _csv_file(ctx))
    upload = wizard.Upload(token=token, table=table.key, name="clients.csv", path=path)
    session = ctx.client.session
    session[wizard.SESSION_KEY] = {token: asdict(upload)}
    session.save()
    template = ImportTemplate.objects.create(table=table, name="Клиенты", owner=ctx.world.admin)
    # The file is the subject's own: the wizard may show it back to him.
    ctx.data.update(token=token, template=template.pk, sent=_csv_text(ctx))


def _template(ctx: Ctx) -> int:
    from kartoteka.imports.models import ImportTemplate
    from kartoteka.tables.models import Table

    table = Table.objects.get(key="counterparties")
    return ImportTemplate.objects.create(table=table, name="Админа", owner=ctx.world.admin).pk


def _batch(ctx: Ctx, *, own: bool = False, errors: bool = False) -> int:
    """An import batch of the administrator's (``own``: of the subject's); with ``errors``, its
    bad-rows file holds the subject's target row, INN included (the file's own cells)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from kartoteka.imports.models import ImportBatch
    from kartoteka.tables.models import Table

    table = Table.objects.get(key="counterparties")
    user = ctx.user if own and ctx.user is not None else ctx.world.admin
    errors_file = ""
    if errors:
        row = f"3;Город: не найден;{ctx.target.name};{ctx.target.counterparty.inn};Марс\r\n"
        content = "\ufeffСтрока;Ошибка;Название;ИНН;Город\r\n" + row
        errors_file = default_storage.save("imports/matrix-errors.csv", ContentFile(content))
    return ImportBatch.objects.create(
        table=table,
        user=user,
        file_name="clients.csv",
        status=ImportBatch.DONE,
        errors_file=errors_file,
    ).pk


def _my_note(ctx: Ctx) -> None:
    from kartoteka.notifications.services import notify

    if ctx.user is not None:
        notify([ctx.user.pk], "Проверка", in_app=True, email=False)


def _admin_note(ctx: Ctx) -> int:
    from kartoteka.notifications.services import notify

    return notify([ctx.world.admin.pk], "Админу", in_app=True, email=False)[0].pk


def _reminder(ctx: Ctx) -> int:
    from kartoteka.notifications.models import Reminder
    from kartoteka.tables.models import Table

    return Reminder.objects.create(
        table=Table.objects.get(key="counterparties"),
        name="Проверка",
        message="Проверка",
        moment=Reminder.MOMENT_MATCH,
        recipient_field="manager",
    ).pk


def _webform(ctx: Ctx) -> Any:
    from kartoteka.core.actor import Actor
    from kartoteka.tables.models import Table
    from kartoteka.webforms.models import WebForm
    from kartoteka.webforms.services import InputSpec, save_webform

    found = WebForm.objects.first()
    if found is not None:
        return found
    return save_webform(
        Actor.for_user(ctx.world.admin),
        Table.objects.get(key="counterparties"),
        name="Заявка",
        inputs=[InputSpec("name", required=True)],
    )


def _doctemplate(ctx: Ctx) -> Any:
    from kartoteka.core.actor import Actor
    from kartoteka.documents.models import DocumentTemplate
    from kartoteka.documents.services import save_template
    from kartoteka.tables.models import Table

    found = DocumentTemplate.objects.filter(name="Письмо").first()
    if found is not None:
        return found
    return save_template(
        Actor.for_user(ctx.world.admin),
        Table.objects.get(key="counterparties"),
        name="Письмо",
        body="<p>{{ record.name }} {{ record.inn }}</p>",
    )


def _gendoc(ctx: Ctx) -> int:
    from kartoteka.core.actor import Actor
    from kartoteka.documents.services import generate_document

    doc = generate_document(Actor.for_user(ctx.world.admin), _doctemplate(ctx), ctx.cp, "html")
    return doc.pk


def _docbatch(ctx: Ctx) -> int:
    from kartoteka.documents.models import DocumentBatch

    batch = DocumentBatch.objects.create(
        template=_doctemplate(ctx), format="html", ids=[ctx.cp], created_by=ctx.world.admin
    )
    return batch.pk


def _webhook(ctx: Ctx) -> int:
    from kartoteka.tables.models import Table
    from kartoteka.webhooks.models import Webhook

    return Webhook.objects.create(
        table=Table.objects.get(key="counterparties"), url="https://example.com/hook"
    ).pk


def _campaign(ctx: Ctx) -> int:
    """The administrator's draft campaign to the subject's client (others: «not found»)."""
    from kartoteka.mailings.models import Campaign
    from kartoteka.tables.models import Table

    return Campaign.objects.create(
        name="Прайс",
        table=Table.objects.get(key="counterparties"),
        address_field="email",
        subject="Прайс",
        body="Здравствуйте, {{ record.name }}",
        record_ids=[ctx.cp],
        created_by=ctx.world.admin,
    ).pk


def _unsubscribe_token(ctx: Ctx) -> str:
    from kartoteka.mailings.messages import unsubscribe_token
    from kartoteka.mailings.models import Recipient

    recipient = Recipient.objects.create(
        campaign_id=_campaign(ctx), record_id=ctx.cp, address="x@example.ru", state="sent"
    )
    return unsubscribe_token(recipient.pk)


#: A campaign is its author's (here the administrator's): «not found» to everyone else.
_NOT_HIS = E(own=404, peer=404, no_table=404, hidden=404, read_only=404)


# -- employees' log-ins -------------------------------------------------------------------------
#: Refused to everyone but the administrator (pages: 403, the API: 401 without a log-in).
_STAFF_403 = {"own": 403, "peer": 403, "no_table": 403, "hidden": 403, "read_only": 403}


def _employee_pk(ctx: Ctx) -> int:
    from kartoteka.tables.modelfactory import model_for
    from kartoteka.tables.models import Table

    employees = model_for(Table.objects.get(key="employees")).objects
    return employees.get(user_id=ctx.target.user.pk).pk


def _new_login(name: str) -> dict[str, Any]:
    return {"username": name, "password": "Vn4$mZq8!tW", "group": "Менеджеры", "full_name": name}


#: The world's users' password (tests.access.conftest).
_PASSWORD = "Xk2#pLq9!vR"
#: The code step without a password just typed: back to the log-in page, for everyone.
_NO_PENDING = {s: LOGIN for s in SUBJECTS}
#: A profile operation with nothing to act on: a message, nothing changed.
_OWN_REFUSED = E(
    admin=REFUSED, own=REFUSED, peer=REFUSED, no_table=REFUSED, hidden=REFUSED, read_only=REFUSED
)

_ACCOUNT_ROWS = [
    Row("accounts:users", "log-ins", "GET", lambda c: ("/settings/users/", {}), ADMIN_ONLY),
    Row(
        "accounts:users",
        "new employee with access",
        "POST",
        lambda c: ("/settings/users/", _new_login("novikov")),
        E(**_STAFF_403),
        write=True,
    ),
    Row(
        "accounts:user",
        "a log-in",
        "GET",
        lambda c: (f"/settings/users/{c.target.user.pk}/", {}),
        ADMIN_ONLY,
    ),
    Row(
        "accounts:password",
        "set a password",
        "POST",
        lambda c: (f"/settings/users/{c.target.user.pk}/password/", {"password": "Vn4$mZq8!tW"}),
        E(**_STAFF_403),
        write=True,
    ),
    Row(
        "accounts:disable",
        "disable",
        "POST",
        lambda c: (f"/settings/users/{c.target.user.pk}/disable/", {}),
        E(**_STAFF_403),
        write=True,
    ),
    Row(
        "accounts:enable",
        "enable",
        "POST",
        lambda c: (f"/settings/users/{c.target.user.pk}/enable/", {}),
        E(admin=ANY, **_STAFF_403),
        write=True,
    ),
    Row(
        "accounts:hand_over",
        "hand clients over",
        "POST",
        lambda c: (
            f"/settings/users/{c.target.user.pk}/hand-over/",
            {"to": c.world.targets["peer"].user.pk},
        ),
        E(**_STAFF_403),
        write=True,
    ),
    Row(
        "accounts:employee",
        "«Доступ в систему» of a record",
        "GET",
        lambda c: (f"/settings/users/employee/{_employee_pk(c)}/", {}),
        ADMIN_ONLY,
    ),
    Row(
        "api:users",
        "list users",
        "GET",
        lambda c: ("/api/v1/users/", {}),
        E(anonymous=401, **_STAFF_403),
    ),
    Row(
        "api:users",
        "create a user",
        "POST",
        lambda c: ("/api/v1/users/", _new_login("novikov")),
        E(anonymous=401, **_STAFF_403),
        write=True,
        json_body=True,
    ),
    Row(
        "api:user_disable",
        "disable a user",
        "POST",
        lambda c: (f"/api/v1/users/{c.target.user.pk}/disable/", {}),
        E(anonymous=401, **_STAFF_403),
        write=True,
        json_body=True,
    ),
]


def _give_email(ctx: Ctx) -> None:
    """The target user gets an e-mail (the world's users have none): invitations need one."""
    user = ctx.target.user
    user.email = f"{user.username}@example.ru"
    user.save(update_fields=["email"])


def _invitation_link(ctx: Ctx) -> str:
    """A fresh invitation of the subject's target user (made by the system, not the subject)."""
    from kartoteka.accounts import invitations
    from kartoteka.core.actor import Actor

    _give_email(ctx)
    return invitations.invite(Actor.system("test"), ctx.target.user, send=False).link


def _reset_link(ctx: Ctx) -> str:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.http import urlsafe_base64_encode

    user = ctx.target.user
    uid = urlsafe_base64_encode(str(user.pk).encode())
    return f"/password/reset/{uid}/{default_token_generator.make_token(user)}/"


_NEW_PASSWORD = {"password1": "Tr7$kWn2!pZx", "password2": "Tr7$kWn2!pZx"}
#: Invitations and «Забыли пароль?» (the link pages' GET is in tests/accounts/test_invitations.py).
_INVITE_ROWS = [
    Row(
        "accounts:invite_new",
        "invite a new employee",
        "POST",
        lambda c: (
            "/settings/users/invite/",
            {**_new_login("novikov"), "email": "novikov@example.ru"},
        ),
        E(**_STAFF_403),
        write=True,
    ),
    Row(
        "accounts:invite",
        "invite again",
        "POST",
        lambda c: (f"/settings/users/{c.target.user.pk}/invite/", {}),
        E(**_STAFF_403),
        write=True,
        prepare=_give_email,
    ),
    Row(
        "accounts:employee_invite",
        "invite from a record (he has a log-in: refused)",
        "POST",
        lambda c: (
            f"/settings/users/employee/{_employee_pk(c)}/invite/",
            {"username": "novikov", "email": "novikov@example.ru", "group": "Менеджеры"},
        ),
        E(admin=REFUSED, **_STAFF_403),
        write=True,
    ),
    Row(
        "invite_accept",
        "accept an invitation",
        "POST",
        lambda c: (_invitation_link(c), _NEW_PASSWORD),
        E(anonymous=OK),
        write=True,
    ),
    Row(
        "password_reset",
        "ask for a reset link",
        "POST",
        lambda c: ("/password/reset/", {"email": c.target.user.email}),
        E(anonymous=OK),
        write=True,
        prepare=_give_email,
    ),
    Row(
        "password_reset_sent",
        "«Проверьте почту»",
        "GET",
        lambda c: ("/password/reset/sent/", {}),
        E(anonymous=OK),
    ),
    Row(
        "password_reset_confirm",
        "set a new password from the link",
        "POST",
        lambda c: (_reset_link(c), _NEW_PASSWORD),
        E(anonymous=OK),
        write=True,
    ),
    Row(
        "password_reset_done",
        "«Пароль изменён»",
        "GET",
        lambda c: ("/password/reset/done/", {}),
        E(anonymous=OK),
    ),
]


MATRIX: list[Row] = [
    # -- log-in, language ----------------------------------------------------------------------
    Row("login", "log-in page", "GET", lambda c: ("/login/", {}), E(anonymous=OK)),
    Row("logout", "log out", "POST", lambda c: ("/logout/", {}), E(anonymous=OK)),
    Row(
        "set_language",
        "language",
        "POST",
        lambda c: ("/i18n/setlang/", {"language": "ru"}),
        E(anonymous=OK),
    ),
    # -- home, search --------------------------------------------------------------------------
    Row("home", "home", "GET", lambda c: ("/", {}), E()),
    Row("home_counts", "home table counts", "GET", lambda c: ("/home/counts/", {}), E()),
    Row(
        "search",
        "search",
        "GET",
        lambda c: ("/search/", {"q": c.target.name}),
        E(peer=EMPTY, no_table=EMPTY),
        marker=True,
        found=_link,
    ),
    Row(
        "search",
        "search by a hidden value",
        "GET",
        lambda c: ("/search/", {"q": c.target.counterparty.inn}),
        E(peer=EMPTY, no_table=EMPTY, hidden=EMPTY),
        marker=True,
        found=_link,
    ),
    # -- grid ----------------------------------------------------------------------------------
    Row(
        "table",
        "list",
        "GET",
        lambda c: ("/t/counterparties/", {}),
        E(peer=EMPTY, no_table=404),
        marker=True,
    ),
    Row(
        "table",
        "list of a subtable",
        "GET",
        lambda c: ("/t/client_work/", {}),
        E(peer=EMPTY, no_table=EMPTY),
        marker=True,
    ),
    Row(
        "table",
        "quick search in the grid",
        "GET",
        lambda c: ("/t/counterparties/", {"q": c.target.name}),
        E(peer=EMPTY, no_table=404),
        marker=True,
        found=_link,
    ),
    Row(
        "table",
        "quick search by a hidden value",
        "GET",
        lambda c: ("/t/counterparties/", {"q": c.target.counterparty.inn}),
        E(peer=EMPTY, no_table=404, hidden=EMPTY),
        marker=True,
        found=_link,
    ),
    Row(
        "table",
        "filter on a hidden field",
        "GET",
        lambda c: (
            "/t/counterparties/",
            {"ff": "inn", "fo": "eq", "fv": c.target.counterparty.inn},
        ),
        E(peer=EMPTY, no_table=404, hidden=403),
        marker=True,
    ),
    Row(
        "table",
        "sort on a hidden field",
        "GET",
        lambda c: ("/t/counterparties/", {"o": "inn"}),
        E(peer=EMPTY, no_table=404, hidden=403),
        marker=True,
    ),
    Row(
        "view_save",
        "save a filter",
        "POST",
        lambda c: ("/t/counterparties/views/", {"name": "Мои", "query": "q=Тула"}),
        E(no_table=404),
        write=True,
    ),
    Row(
        "view_save",
        "save a filter on a hidden field",
        "POST",
        lambda c: (
            "/t/counterparties/views/",
            {"name": "ИНН", "query": "ff=inn&fo=eq&fv=7707083893"},
        ),
        E(no_table=404, hidden=REFUSED),
        write=True,
    ),
    Row(
        "view_delete",
        "delete another's filter",
        "POST",
        lambda c: (f"/t/counterparties/views/{_view_pk(c)}/delete/", {}),
        E(own=404, peer=404, no_table=404, hidden=404, read_only=404),
        write=True,
    ),
    Row("columns", "columns", "GET", lambda c: ("/t/counterparties/columns/", {}), E(no_table=404)),
    Row(
        "bulk",
        "bulk edit",
        "POST",
        lambda c: (
            "/t/counterparties/bulk/",
            {"action": "edit", "ids": [c.cp], "confirm": "1", "set": ["city"], "bulk-city": "Орёл"},
        ),
        E(peer=REFUSED, no_table=404, read_only=403),
        write=True,
    ),
    Row(
        "bulk",
        "bulk archive",
        "POST",
        lambda c: ("/t/counterparties/bulk/", {"action": "archive", "ids": [c.cp], "confirm": "1"}),
        E(peer=REFUSED, no_table=404, read_only=403),
        write=True,
    ),
    Row(
        "bulk",
        "bulk edit of a hidden field",
        "POST",
        lambda c: (
            "/t/counterparties/bulk/",
            {
                "action": "edit",
                "ids": [c.cp],
                "confirm": "1",
                "set": ["inn"],
                "bulk-inn": "7707083893",
            },
        ),
        E(admin=REFUSED, own=REFUSED, peer=REFUSED, no_table=404, hidden=REFUSED, read_only=403),
        write=True,
    ),
    Row(
        "export",
        "export",
        "POST",
        lambda c: ("/t/counterparties/export/", {"format": "csv", "all": "1", "query": ""}),
        E(peer=EMPTY, no_table=404, read_only=403),
        marker=True,
    ),
    Row(
        "export",
        "export of a selection",
        "POST",
        lambda c: ("/t/counterparties/export/", {"format": "csv", "ids": [c.cp], "query": ""}),
        E(peer=EMPTY, no_table=404, read_only=403),
        marker=True,
    ),
    Row(
        "grid_action",
        "table action «Счёт оплачен»",
        "POST",
        lambda c: ("/t/invoices/action/mark_paid/", {"ids": [c.target.invoice.pk], "query": ""}),
        E(own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    Row(
        "lookup",
        "link picker",
        "GET",
        lambda c: ("/lookup/counterparties/", {"q": c.target.name}),
        E(peer=EMPTY, no_table=404),
        marker=True,
        found=_picked,
    ),
    # -- card and forms ------------------------------------------------------------------------
    Row(
        "record_add",
        "add form",
        "GET",
        lambda c: ("/t/counterparties/new/", {}),
        E(no_table=404, read_only=403),
    ),
    Row(
        "record_add",
        "create",
        "POST",
        lambda c: ("/t/counterparties/new/", {"name": "Новый клиент", "manager": c.target.user.pk}),
        E(peer=REFUSED, no_table=404, read_only=403),
        write=True,
    ),
    Row(
        "record",
        "card (with history)",
        "GET",
        lambda c: (f"/t/counterparties/{c.cp}/", {}),
        RECORD_READ,
        marker=True,
    ),
    Row(
        "record",
        "card of a subtable row",
        "GET",
        lambda c: (f"/t/client_work/{c.target.work.pk}/", {}),
        RECORD_READ,
    ),
    Row(
        "record_edit",
        "edit form",
        "GET",
        lambda c: (f"/t/counterparties/{c.cp}/edit/", {}),
        RECORD_WRITE,
    ),
    Row(
        "record_edit",
        "edit",
        "POST",
        lambda c: (f"/t/counterparties/{c.cp}/edit/", _edit_data(c, "Калуга")),
        RECORD_WRITE,
        write=True,
    ),
    Row(
        "record_edit",
        "edit an invoice's payment",
        "POST",
        lambda c: (
            f"/t/invoices/{c.target.invoice.pk}/edit/",
            {
                "number": f"T-{c.cp}",
                "date": "03.11.2026",
                "counterparty": c.cp,
                "company": c.world.company.pk,
                "manager": c.target.user.pk,
                "paid": "on",
            },
        ),
        E(own=REFUSED, peer=404, no_table=404, hidden=REFUSED, read_only=403),
        write=True,
    ),
    Row(
        "record_state",
        "archive",
        "POST",
        lambda c: (f"/t/counterparties/{c.cp}/state/", {"action": "archive"}),
        RECORD_WRITE,
        write=True,
    ),
    Row(
        "record_state",
        "delete",
        "POST",
        lambda c: (f"/t/counterparties/{c.cp}/state/", {"action": "trash"}),
        RECORD_WRITE,
        write=True,
    ),
    Row(
        "record_state",
        "restore",
        "POST",
        lambda c: (f"/t/counterparties/{c.cp}/state/", {"action": "restore"}),
        RECORD_WRITE,
        write=True,
        prepare=_trash,
    ),
    Row(
        "record_state",
        "delete for good",
        "POST",
        lambda c: (f"/t/counterparties/{c.cp}/state/", {"action": "purge"}),
        E(own=403, peer=404, no_table=404, hidden=403, read_only=403),
        write=True,
        prepare=_trash,
    ),
    Row(
        "subtable",
        "subtable section",
        "GET",
        lambda c: (f"/t/counterparties/{c.cp}/sub/client_work/", {}),
        RECORD_READ,
        htmx=True,
    ),
    Row(
        "subtable_add",
        "add a subtable row",
        "POST",
        lambda c: (
            f"/t/counterparties/{c.cp}/sub/client_work/add/",
            {
                "sub-client_work-work_type": "call",
                "sub-client_work-date": "05.11.2026",
                "sub-client_work-description": "звонок",
            },
        ),
        RECORD_WRITE,
        write=True,
    ),
    Row(
        "subtable_row_edit",
        "edit a subtable row",
        "POST",
        lambda c: (
            f"/t/counterparties/{c.cp}/sub/client_work/{c.target.work.pk}/edit/",
            {
                "edit-client_work-work_type": "call",
                "edit-client_work-date": "02.11.2026",
                "edit-client_work-description": "другое",
                "edit-client_work-manager": c.target.user.pk,
            },
        ),
        RECORD_WRITE,
        write=True,
    ),
    Row(
        "subtable_row_delete",
        "delete a subtable row",
        "POST",
        lambda c: (f"/t/counterparties/{c.cp}/sub/client_work/{c.target.work.pk}/delete/", {}),
        RECORD_WRITE,
        write=True,
    ),
    Row(
        "record_action",
        "record action «Выписать счёт»",
        "POST",
        lambda c: (f"/t/counterparties/{c.cp}/action/issue_invoice/", {}),
        RECORD_WRITE,
        write=True,
    ),
    Row(
        "record_action",
        "record action «Счёт оплачен»",
        "POST",
        lambda c: (f"/t/invoices/{c.target.invoice.pk}/action/mark_paid/", {}),
        E(own=403, peer=404, no_table=404, hidden=403, read_only=403),
        write=True,
    ),
    Row(
        "record_file",
        "file of a record (counterparties have no file field: 404 for all)",
        "GET",
        lambda c: (f"/t/counterparties/{c.cp}/files/name/", {}),
        E(admin=404, own=404, peer=404, no_table=404, hidden=404, read_only=404),
    ),
    # -- documents -----------------------------------------------------------------------------
    Row(
        "documents:invoice_print",
        "print",
        "GET",
        lambda c: (f"/documents/invoices/{c.target.invoice.pk}/print/", {}),
        E(peer=404, no_table=404, read_only=403),
        marker=True,
    ),
    Row(
        "documents:invoice_pdf",
        "PDF",
        "GET",
        lambda c: (f"/documents/invoices/{c.target.invoice.pk}/pdf/", {}),
        E(peer=404, no_table=404, read_only=403),
    ),
    # -- document templates (administrators) and documents of a record --------------------------
    Row(
        "doctemplates:list", "templates", "GET", lambda c: ("/settings/documents/", {}), ADMIN_ONLY
    ),
    Row(
        "doctemplates:list",
        "add a template",
        "POST",
        lambda c: (
            "/settings/documents/",
            {"table": "counterparties", "name": "КП", "body": "<p>{{ record.name }}</p>"},
        ),
        E(admin=ANY, own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    Row(
        "doctemplates:reference",
        "placeholders",
        "GET",
        lambda c: ("/settings/documents/reference/", {"table": "counterparties"}),
        ADMIN_ONLY,
    ),
    Row(
        "doctemplates:edit",
        "a template",
        "GET",
        lambda c: (f"/settings/documents/{_doctemplate(c).pk}/", {}),
        ADMIN_ONLY,
    ),
    Row(
        "doctemplates:preview",
        "preview",
        "POST",
        lambda c: (
            f"/settings/documents/{_doctemplate(c).pk}/preview/",
            {"body": "<p>{{ record.name }}</p>", "record": str(c.cp)},
        ),
        ADMIN_ONLY,
    ),
    Row(
        "doctemplates:delete",
        "delete a template",
        "POST",
        lambda c: (f"/settings/documents/{_doctemplate(c).pk}/delete/", {}),
        E(admin=ANY, own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    Row(
        "doctemplates:generate",
        "documents of a record",
        "GET",
        lambda c: (f"/records/counterparties/{c.cp}/documents/", {}),
        RECORD_READ,
        marker=True,
    ),
    Row(
        "doctemplates:generate",
        "make a document",
        "POST",
        lambda c: (
            f"/records/counterparties/{c.cp}/documents/",
            {"template": str(_doctemplate(c).pk), "format": "html"},
        ),
        RECORD_READ,
    ),
    Row(
        "doctemplates:download",
        "a kept document",
        "GET",
        lambda c: (f"/records/documents/{_gendoc(c)}/", {}),
        E(peer=404, no_table=404, hidden=404),
    ),
    Row(
        "doctemplates:send",
        "mail a kept document",
        "POST",
        lambda c: (f"/records/documents/{_gendoc(c)}/send/", {"email": "buh@example.ru"}),
        E(peer=404, no_table=404, hidden=404, read_only=403),
        write=True,
    ),
    Row(
        "doctemplates:bulk",
        "documents of ticked rows (choosing the template)",
        "POST",
        lambda c: ("/records/counterparties/documents/bulk/", {"ids": [str(c.cp)]}),
        E(no_table=404),
    ),
    Row(
        "doctemplates:batch",
        "a background batch of documents (its maker's only)",
        "GET",
        lambda c: (f"/records/documents/batches/{_docbatch(c)}/", {}),
        E(own=404, peer=404, no_table=404, hidden=404, read_only=404),
    ),
    # -- reports -------------------------------------------------------------------------------
    Row("reports:index", "reports", "GET", lambda c: ("/reports/", {}), E()),
    Row(
        "reports:funnel",
        "funnel",
        "GET",
        lambda c: ("/reports/funnel/", {"year": "2026"}),
        E(no_table=404),
    ),
    Row(
        "reports:funnel_list",
        "funnel drill-down",
        "GET",
        lambda c: ("/reports/funnel/list/", {"year": "2026", "stage": "cold"}),
        E(no_table=404),
    ),
    Row("reports:performance", "performance", "GET", lambda c: ("/reports/performance/", {}), E()),
    Row("reports:sales", "sales", "GET", lambda c: ("/reports/sales/", {}), E()),
    Row(
        "reports:new",
        "own report builder",
        "GET",
        lambda c: ("/reports/new/", {"t": "counterparties", "g": "name"}),
        E(peer=EMPTY, no_table=EMPTY),
        marker=True,
    ),
    Row(
        "reports:save",
        "own report save",
        "POST",
        lambda c: ("/reports/save/", {"query": "t=counterparties&g=name", "name": "Клиенты"}),
        E(no_table=REFUSED),
        write=True,
    ),
    Row(
        "reports:saved",
        "own report",
        "GET",
        lambda c: (f"/reports/r/{c.data['report']}/", {}),
        E(peer=EMPTY, no_table=EMPTY),
        marker=True,
        prepare=_shared_report,
    ),
    Row(
        "reports:delete",
        "own report delete",
        "POST",
        lambda c: (f"/reports/r/{c.data['report']}/delete/", {}),
        E(own=REFUSED, peer=REFUSED, no_table=REFUSED, hidden=REFUSED, read_only=REFUSED),
        write=True,
        prepare=_shared_report,
    ),
    Row(
        "reports:schedule",
        "own report e-mail schedule",
        "POST",
        lambda c: (
            f"/reports/r/{c.data['report']}/schedule/",
            {"frequency": "weekly", "recipients": "boss@example.ru"},
        ),
        E(own=REFUSED, peer=REFUSED, no_table=REFUSED, hidden=REFUSED, read_only=REFUSED),
        write=True,
        prepare=_shared_report,
    ),
    Row(
        "reports:widget",
        "desktop widget",
        "GET",
        lambda c: ("/reports/desktop/widget/", {"kind": "tasks_today"}),
        E(),
    ),
    Row(
        "reports:desktop_add",
        "desktop add",
        "POST",
        lambda c: ("/reports/desktop/add/", {"widget": "web_leads"}),
        E(),
        write=True,
    ),
    Row(
        "reports:desktop_remove",
        "desktop remove",
        "POST",
        lambda c: ("/reports/desktop/0/remove/", {}),
        E(),
        write=True,
    ),
    Row(
        "reports:desktop_move",
        "desktop reorder",
        "POST",
        lambda c: ("/reports/desktop/move/", {"order": "1,0,2,3"}),
        E(),
        write=True,
    ),
    Row(
        "reports:desktop_default",
        "group's default desktop",
        "POST",
        lambda c: ("/reports/desktop/default/", {"group": _managers_group()}),
        E(own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    Row("reports:plans", "sales plans", "GET", lambda c: ("/reports/plans/", {}), ADMIN_ONLY),
    # -- settings: designer and access ---------------------------------------------------------
    *[
        Row(name, "designer", "GET", (lambda p: lambda c: (p, {}))(path), ADMIN_ONLY)
        for name, path in [
            ("designer_home", "/designer/"),
            ("designer_category_create", "/designer/categories/new/"),
            ("designer_category_rename", "/designer/categories/crm/rename/"),
            ("designer_category_delete", "/designer/categories/crm/delete/"),
            ("designer_table_create", "/designer/tables/new/"),
            ("designer_table", "/designer/t/counterparties/"),
            ("designer_table_settings", "/designer/t/counterparties/settings/"),
            ("designer_table_delete", "/designer/t/counterparties/delete/"),
            ("designer_field_add", "/designer/t/counterparties/add-field/"),
            ("designer_field", "/designer/t/counterparties/f/city/"),
            ("designer_field_move", "/designer/t/counterparties/f/city/move/"),
            ("designer_field_remove", "/designer/t/counterparties/f/city/remove/"),
        ]
    ],
    Row("access:groups", "groups", "GET", lambda c: ("/settings/access/", {}), ADMIN_ONLY),
    Row(
        "access:groups",
        "add a group",
        "POST",
        lambda c: ("/settings/access/", {"name": "Новая"}),
        E(own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    Row("access:audit", "audit log", "GET", lambda c: ("/settings/access/audit/", {}), ADMIN_ONLY),
    Row(
        "access:user_group",
        "move a user",
        "POST",
        lambda c: (
            f"/settings/access/users/{c.target.user.pk}/group/",
            {"group": _group_pk("Администратор")},
        ),
        E(own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    Row(
        "access:group",
        "group rights",
        "GET",
        lambda c: (f"/settings/access/g/{_group_pk('Менеджеры')}/", {}),
        ADMIN_ONLY,
    ),
    Row(
        "access:group_delete",
        "delete a group",
        "POST",
        lambda c: (f"/settings/access/g/{_group_pk('Без контрагентов')}/delete/", {}),
        E(admin=REFUSED, own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    Row(
        "access:table_rights",
        "table rights",
        "GET",
        lambda c: (f"/settings/access/g/{_group_pk('Менеджеры')}/t/counterparties/", {}),
        ADMIN_ONLY,
    ),
    Row(
        "access:preview",
        "view as group",
        "GET",
        lambda c: (f"/settings/access/g/{_group_pk('Менеджеры')}/t/counterparties/preview/", {}),
        ADMIN_ONLY,
    ),
    # -- employees' log-ins (administrators; a group given «Управление сотрудниками») ---------
    *_ACCOUNT_ROWS,
    *_INVITE_ROWS,
    # -- REST API (session log-in; the same rights as the pages) ------------------------------
    Row("api:me", "me", "GET", lambda c: ("/api/v1/me/", {}), API_ANY),
    Row(
        "api:tables",
        "tables",
        "GET",
        lambda c: ("/api/v1/tables/", {}),
        API_ANY,
    ),
    Row(
        "api:table",
        "one table",
        "GET",
        lambda c: ("/api/v1/tables/counterparties/", {}),
        E(anonymous=401, no_table=404),
        hidden_text=_INN_KEY,
    ),
    Row(
        "api:records",
        "list",
        "GET",
        lambda c: ("/api/v1/tables/counterparties/records/", {}),
        E(anonymous=401, peer=EMPTY, no_table=404),
        marker=True,
        hidden_text=_INN_KEY,
    ),
    Row(
        "api:records",
        "list of a subtable",
        "GET",
        lambda c: ("/api/v1/tables/client_work/records/", {}),
        E(anonymous=401, peer=EMPTY, no_table=EMPTY),
        marker=True,
        found=_work_id,
    ),
    Row(
        "api:records",
        "search by a hidden value",
        "GET",
        lambda c: ("/api/v1/tables/counterparties/records/", {"search": c.target.counterparty.inn}),
        E(anonymous=401, peer=EMPTY, no_table=404, hidden=EMPTY),
        marker=True,
        found=_api_id,
    ),
    Row(
        "api:records",
        "filter on a hidden field",
        "GET",
        lambda c: ("/api/v1/tables/counterparties/records/", {"inn": c.target.counterparty.inn}),
        E(anonymous=401, peer=EMPTY, no_table=404, hidden=400),
        marker=True,
        found=_api_id,
    ),
    Row(
        "api:records",
        "sort on a hidden field",
        "GET",
        lambda c: ("/api/v1/tables/counterparties/records/", {"ordering": "inn"}),
        E(anonymous=401, peer=EMPTY, no_table=404, hidden=400),
        marker=True,
    ),
    Row(
        "api:records",
        "create",
        "POST",
        lambda c: (
            "/api/v1/tables/counterparties/records/",
            {"name": "Новый клиент", "manager": c.target.user.pk},
        ),
        E(anonymous=401, peer=403, no_table=404, read_only=403),
        write=True,
        json_body=True,
        hidden_text=_INN_KEY,
    ),
    Row(
        "api:records",
        "create with a hidden field",
        "POST",
        lambda c: (
            "/api/v1/tables/counterparties/records/",
            {"name": "Новый клиент", "manager": c.target.user.pk, "inn": "7740000076"},
        ),
        E(anonymous=401, peer=403, no_table=404, hidden=400, read_only=403),
        write=True,
        json_body=True,
    ),
    Row(
        "api:record",
        "one record",
        "GET",
        lambda c: (f"/api/v1/tables/counterparties/records/{c.cp}/", {}),
        E(anonymous=401, peer=404, no_table=404),
        marker=True,
        hidden_text=_INN_KEY,
    ),
    Row(
        "api:record",
        "change",
        "PATCH",
        lambda c: (f"/api/v1/tables/counterparties/records/{c.cp}/", {"city": "Калуга"}),
        E(anonymous=401, peer=404, no_table=404, read_only=403),
        write=True,
        json_body=True,
        hidden_text=_INN_KEY,
    ),
    Row(
        "api:record",
        "change a hidden field",
        "PATCH",
        lambda c: (f"/api/v1/tables/counterparties/records/{c.cp}/", {"inn": "7740000076"}),
        E(anonymous=401, peer=404, no_table=404, hidden=400, read_only=403),
        write=True,
        json_body=True,
    ),
    Row(
        "api:record",
        "change an invoice's payment",
        "PATCH",
        lambda c: (f"/api/v1/tables/invoices/records/{c.target.invoice.pk}/", {"paid": True}),
        E(anonymous=401, own=400, peer=404, no_table=404, hidden=400, read_only=403),
        write=True,
        json_body=True,
    ),
    Row(
        "api:record",
        "delete",
        "DELETE",
        lambda c: (f"/api/v1/tables/counterparties/records/{c.cp}/", {}),
        E(anonymous=401, peer=404, no_table=404, read_only=403),
        write=True,
        json_body=True,
    ),
    Row(
        "api:records_upsert",
        "upsert by INN",
        "POST",
        lambda c: (
            "/api/v1/tables/counterparties/records/upsert/",
            {"key": "inn", "records": [{"inn": c.target.counterparty.inn, "city": "Орёл"}]},
        ),
        E(anonymous=401, peer=REFUSED, no_table=404, hidden=400, read_only=403),
        write=True,
        json_body=True,
    ),
    Row(
        "api:action",
        "record action «Выписать счёт»",
        "POST",
        lambda c: ("/api/v1/tables/counterparties/actions/issue_invoice/", {"ids": [c.cp]}),
        E(anonymous=401, peer=404, no_table=404, read_only=403),
        write=True,
        json_body=True,
    ),
    Row(
        "api:action",
        "table action «Счёт оплачен»",
        "POST",
        lambda c: ("/api/v1/tables/invoices/actions/mark_paid/", {"ids": [c.target.invoice.pk]}),
        E(anonymous=401, own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
        json_body=True,
    ),
    Row(
        "api:record_document",
        "make a document",
        "POST",
        lambda c: (
            f"/api/v1/tables/counterparties/records/{c.cp}/documents/",
            {"template": _doctemplate(c).name, "format": "html"},
        ),
        E(anonymous=401, peer=404, no_table=404),
        json_body=True,
    ),
    Row(
        "api:funnel",
        "funnel",
        "GET",
        lambda c: ("/api/v1/reports/funnel/", {"date_from": "2026-01-01", "date_to": "2026-12-31"}),
        E(anonymous=401, no_table=404),
    ),
    Row(
        "api:report_data",
        "own report figures",
        "GET",
        lambda c: (f"/api/v1/reports/{c.data['report']}/data/", {}),
        E(anonymous=401, peer=EMPTY, no_table=400),
        marker=True,
        prepare=_shared_report,
    ),
    Row(
        "api:report_query",
        "unsaved report",
        "POST",
        lambda c: ("/api/v1/reports/query/", {"table": "counterparties", "rows": ["name"]}),
        E(anonymous=401, peer=EMPTY, no_table=400),
        marker=True,
        json_body=True,
        hidden_text=_INN_KEY,
    ),
    # The schema and its page describe the generic API (no table of this installation): public.
    Row("api:schema", "OpenAPI schema", "GET", lambda c: ("/api/v1/schema/", {}), E(anonymous=OK)),
    Row("api:docs", "API documentation", "GET", lambda c: ("/api/v1/docs/", {}), E(anonymous=OK)),
    # -- profile: API tokens ------------------------------------------------------------------
    Row("api_tokens", "tokens", "GET", lambda c: ("/profile/tokens/", {}), E()),
    Row(
        "api_tokens",
        "create a token",
        "POST",
        lambda c: ("/profile/tokens/", {"name": "Интеграция"}),
        E(),
        write=True,
    ),
    Row(
        "api_token_revoke",
        "revoke the administrator's token",
        "POST",
        lambda c: (f"/profile/tokens/{_admin_token(c)}/revoke/", {}),
        E(own=REFUSED, peer=REFUSED, no_table=REFUSED, hidden=REFUSED, read_only=REFUSED),
        write=True,
    ),
    # -- profile: own settings, two-factor log-in, sessions (each user about himself) ---------
    Row(
        "login_code",
        "code step without a password",
        "GET",
        lambda c: ("/login/code/", {}),
        _NO_PENDING,
    ),
    Row("profiles:profile", "profile", "GET", lambda c: ("/profile/", {}), E()),
    Row(
        "profiles:profile",
        "own name and time zone",
        "POST",
        lambda c: (
            "/profile/",
            {"last_name": "Тестов", "first_name": "Пётр", "time_zone": "Asia/Omsk"},
        ),
        E(),
        write=True,
    ),
    Row(
        "profiles:password",
        "own password",
        "POST",
        lambda c: (
            "/profile/password/",
            {
                "old_password": _PASSWORD,
                "new_password": "Vn4$mZq8!tW",
                "new_password2": "Vn4$mZq8!tW",
            },
        ),
        E(),
        write=True,
    ),
    # The enrolment page makes the new app key it shows (unconfirmed until a code confirms it).
    Row(
        "profiles:two_factor",
        "enrolment page",
        "GET",
        lambda c: ("/profile/two-factor/", {}),
        E(),
        write=True,
    ),
    Row(
        "profiles:two_factor",
        "confirm without a device",
        "POST",
        lambda c: ("/profile/two-factor/", {"code": "123456"}),
        _OWN_REFUSED,
    ),
    Row(
        "profiles:two_factor_sms",
        "confirm an SMS code never sent",
        "POST",
        lambda c: ("/profile/two-factor/sms/", {"code": "123456"}),
        _OWN_REFUSED,
    ),
    Row(
        "profiles:recovery_codes",
        "new recovery codes without two-factor",
        "POST",
        lambda c: ("/profile/two-factor/recovery-codes/", {}),
        _OWN_REFUSED,
    ),
    Row(
        "profiles:two_factor_disable",
        "disable two-factor that is off",
        "POST",
        lambda c: ("/profile/two-factor/disable/", {"password": _PASSWORD}),
        _OWN_REFUSED,
    ),
    Row(
        "profiles:session_end",
        "end an unknown session",
        "POST",
        lambda c: (f"/profile/sessions/{'0' * 20}/end/", {}),
        _OWN_REFUSED,
    ),
    Row(
        "profiles:sessions_end_others",
        "end own other sessions",
        "POST",
        lambda c: ("/profile/sessions/end-others/", {}),
        E(),
    ),
    Row(
        "accounts:two_factor_reset",
        "reset a user's two-factor",
        "POST",
        lambda c: (f"/settings/users/{c.target.user.pk}/two-factor/reset/", {}),
        E(admin=ANY, **_STAFF_403),
    ),
    # -- calendar -------------------------------------------------------------------------------
    Row(
        "calendar:page",
        "calendar of everyone's planned work",
        "GET",
        lambda c: (
            "/calendar/",
            {"date": "2026-11-02", "user": "all", "source": "client_work.date"},
        ),
        E(peer=EMPTY, no_table=EMPTY),
        marker=True,
    ),
    Row(
        "calendar:move",
        "move planned work to another day",
        "POST",
        lambda c: (
            "/calendar/move/",
            {"table": "client_work", "pk": c.target.work.pk, "field": "date", "date": "2026-11-09"},
        ),
        E(peer=404, no_table=404, read_only=403),
        write=True,
    ),
    Row("calendar:counts", "today's count", "GET", lambda c: ("/calendar/counts/", {}), E()),
    Row(
        "calendar:feed_create",
        "new ICS link",
        "POST",
        lambda c: ("/calendar/feed/new/", {}),
        E(),
        write=True,
    ),
    Row(
        "calendar:feed_revoke",
        "revoke the ICS link",
        "POST",
        lambda c: ("/calendar/feed/revoke/", {}),
        E(),
        write=True,
        prepare=_own_feed,
    ),
    Row(
        "calendar:feed",
        "ICS feed (the token is the credential)",
        "GET",
        lambda c: (f"/calendar/feed/{_feed_token(c)}.ics", {}),
        E(anonymous=OK, admin=EMPTY, peer=EMPTY, no_table=EMPTY),
        marker=True,
        found=_work_uid,
    ),
    # -- import -----------------------------------------------------------------------------------
    Row(
        "imports:home",
        "import page",
        "GET",
        lambda c: ("/t/counterparties/import/", {}),
        E(no_table=404, read_only=403),
    ),
    Row(
        "imports:home",
        "upload a file",
        "POST",
        lambda c: ("/t/counterparties/import/", {"file": _csv_file(c)}),
        E(no_table=404, read_only=403),
    ),
    *[
        Row(
            name,
            verb,
            "GET",
            (lambda tail: lambda c: (f"/t/counterparties/import/f/{c.data['token']}/{tail}", {}))(
                step
            ),
            E(no_table=404, read_only=403),
            prepare=_upload,
        )
        for name, verb, step in [
            ("imports:file", "how the file is read", ""),
            ("imports:preview", "live preview", "preview/"),
            ("imports:mapping", "mapping", "mapping/"),
            ("imports:duplicates", "duplicates", "duplicates/"),
            ("imports:defaults", "defaults", "defaults/"),
        ]
    ],
    Row(
        "imports:check",
        "dry run by INN (no record outside the rows, no hidden old values)",
        "GET",
        lambda c: (f"/t/counterparties/import/f/{c.data['token']}/check/", {}),
        E(peer=EMPTY, no_table=404, hidden=EMPTY, read_only=403),
        prepare=_upload,
        marker=True,
        found=_record_ref,
    ),
    Row(
        "imports:check",
        "import",
        "POST",
        lambda c: (f"/t/counterparties/import/f/{c.data['token']}/check/", {"action": "import"}),
        E(no_table=404, read_only=403),
        prepare=_upload,
        write=True,
    ),
    Row(
        "imports:template",
        "apply a template",
        "POST",
        lambda c: (
            f"/t/counterparties/import/f/{c.data['token']}/template/",
            {"template": c.data["template"]},
        ),
        E(no_table=404, read_only=403),
        prepare=_upload,
    ),
    Row(
        "imports:template_delete",
        "delete the administrator's template",
        "POST",
        lambda c: (f"/t/counterparties/import/templates/{_template(c)}/delete/", {}),
        E(own=REFUSED, peer=REFUSED, no_table=404, hidden=REFUSED, read_only=403),
        write=True,
    ),
    Row(
        "imports:batch",
        "the administrator's import",
        "GET",
        lambda c: (f"/t/counterparties/import/{_batch(c)}/", {}),
        E(own=404, peer=404, no_table=404, hidden=404, read_only=403),
    ),
    Row(
        "imports:batch",
        "one's own import",
        "GET",
        lambda c: (f"/t/counterparties/import/{_batch(c, own=True)}/", {}),
        E(no_table=404, read_only=403),
    ),
    Row(
        "imports:batch_errors",
        "errors file (none)",
        "GET",
        lambda c: (f"/t/counterparties/import/{_batch(c, own=True)}/errors/", {}),
        E(admin=404, own=404, peer=404, no_table=404, hidden=404, read_only=403),
    ),
    Row(
        "imports:batch_errors",
        "the administrator's bad rows (the target's INN in them)",
        "GET",
        lambda c: (f"/t/counterparties/import/{_batch(c, errors=True)}/errors/", {}),
        E(own=404, peer=404, no_table=404, hidden=404, read_only=403),
    ),
    Row(
        "imports:batch_errors",
        "one's own bad rows (the target's INN in them)",
        "GET",
        lambda c: (f"/t/counterparties/import/{_batch(c, own=True, errors=True)}/errors/", {}),
        E(no_table=404, read_only=403),
        marker=True,
    ),
    Row(
        "imports:batch_resume",
        "resume the administrator's finished import",
        "POST",
        lambda c: (f"/t/counterparties/import/{_batch(c)}/resume/", {}),
        E(admin=REFUSED, own=404, peer=404, no_table=404, hidden=404, read_only=403),
        write=True,
    ),
    Row(
        "imports:batch_undo",
        "undo the administrator's import",
        "POST",
        lambda c: (f"/t/counterparties/import/{_batch(c)}/undo/", {}),
        E(own=404, peer=404, no_table=404, hidden=404, read_only=403),
        write=True,
    ),
    # -- notifications and reminders --------------------------------------------------------------
    Row("notifications:list", "my notifications", "GET", lambda c: ("/notifications/", {}), E()),
    Row("notifications:bell", "the bell", "GET", lambda c: ("/notifications/bell/", {}), E()),
    Row(
        "notifications:read",
        "mark mine read",
        "POST",
        lambda c: ("/notifications/read/", {}),
        E(),
        write=True,
        prepare=_my_note,
    ),
    Row(
        "notifications:email",
        "by e-mail too",
        "POST",
        lambda c: ("/notifications/email/", {"by_email": "on"}),
        E(),
        write=True,
    ),
    Row(
        "notifications:open",
        "open the administrator's notification",
        "GET",
        lambda c: (f"/notifications/{_admin_note(c)}/", {}),
        E(own=404, peer=404, no_table=404, hidden=404, read_only=404),
        write=True,
    ),
    Row(
        "notifications:reminders",
        "reminders",
        "GET",
        lambda c: ("/notifications/reminders/", {}),
        ADMIN_ONLY,
    ),
    Row(
        "notifications:reminder_add",
        "new reminder",
        "GET",
        lambda c: ("/notifications/reminders/new/", {"table": "counterparties"}),
        ADMIN_ONLY,
    ),
    Row(
        "notifications:reminder_edit",
        "a reminder",
        "GET",
        lambda c: (f"/notifications/reminders/{_reminder(c)}/", {}),
        ADMIN_ONLY,
    ),
    Row(
        "notifications:reminder_delete",
        "delete a reminder",
        "POST",
        lambda c: (f"/notifications/reminders/{_reminder(c)}/delete/", {}),
        E(own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    # -- integrations: web forms and webhooks (administrators), the public form (anyone) ----------
    Row("webform_list", "web forms", "GET", lambda c: ("/integrations/forms/", {}), ADMIN_ONLY),
    Row(
        "webform_list",
        "add a web form",
        "POST",
        lambda c: ("/integrations/forms/", {"table": "counterparties", "name": "Заявка"}),
        E(own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    Row(
        "webform_edit",
        "a web form",
        "GET",
        lambda c: (f"/integrations/forms/{_webform(c).pk}/", {}),
        ADMIN_ONLY,
    ),
    Row(
        "webform_delete",
        "delete a web form",
        "POST",
        lambda c: (f"/integrations/forms/{_webform(c).pk}/delete/", {}),
        E(own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    Row(
        "webform_public",
        "the public form",
        "GET",
        lambda c: (f"/f/{_webform(c).key}/", {}),
        E(anonymous=OK),
    ),
    Row(
        "webform_token",
        "the public form's token",
        "GET",
        lambda c: (f"/f/{_webform(c).key}/token/", {}),
        E(anonymous=OK),
    ),
    Row("webhook_list", "webhooks", "GET", lambda c: ("/integrations/webhooks/", {}), ADMIN_ONLY),
    Row(
        "webhook_edit",
        "a webhook",
        "GET",
        lambda c: (f"/integrations/webhooks/{_webhook(c)}/", {}),
        ADMIN_ONLY,
    ),
    Row(
        "webhook_delete",
        "delete a webhook",
        "POST",
        lambda c: (f"/integrations/webhooks/{_webhook(c)}/delete/", {}),
        E(own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
    # -- campaigns («Рассылки»): the author's and the administrators'; unsubscribe is public -------
    Row("mailings:list", "campaigns", "GET", lambda c: ("/mailings/", {}), E()),
    Row(
        "mailings:new",
        "new campaign",
        "GET",
        lambda c: ("/mailings/new/", {"table": "counterparties"}),
        E(no_table=404),
    ),
    Row(
        "mailings:new",
        "create a campaign to his client",
        "POST",
        lambda c: (
            "/mailings/new/?table=counterparties",
            {"name": "П", "channel": "email", "subject": "Т", "body": "Б", "ids": str(c.cp)},
        ),
        E(no_table=404),
        write=True,
    ),
    Row(
        "mailings:detail",
        "the administrator's campaign",
        "GET",
        lambda c: (f"/mailings/{_campaign(c)}/", {}),
        _NOT_HIS,
    ),
    Row(
        "mailings:progress",
        "its progress",
        "GET",
        lambda c: (f"/mailings/{_campaign(c)}/progress/", {}),
        _NOT_HIS,
    ),
    Row(
        "mailings:preview",
        "its preview",
        "GET",
        lambda c: (f"/mailings/{_campaign(c)}/preview/", {}),
        _NOT_HIS,
    ),
    Row(
        "mailings:failures",
        "its failures (CSV)",
        "GET",
        lambda c: (f"/mailings/{_campaign(c)}/failures.csv", {}),
        _NOT_HIS,
    ),
    Row(
        "mailings:act",
        "start it",
        "POST",
        lambda c: (f"/mailings/{_campaign(c)}/start/", {}),
        _NOT_HIS,
        write=True,
    ),
    Row(
        "mailings:test",
        "test it to self",
        "POST",
        lambda c: (f"/mailings/{_campaign(c)}/test/", {}),
        _NOT_HIS,
    ),
    Row(
        "mailings:card",
        "the card's block",
        "GET",
        lambda c: (f"/mailings/card/counterparties/{c.cp}/", {}),
        E(no_table=404),
    ),
    Row(
        "mailing_unsubscribe",
        "the unsubscribe page",
        "GET",
        lambda c: (f"/m/u/{_unsubscribe_token(c)}/", {}),
        E(anonymous=OK),
    ),
    Row(
        "mailing_unsubscribe",
        "unsubscribe (one click)",
        "POST",
        lambda c: (f"/m/u/{_unsubscribe_token(c)}/", {"List-Unsubscribe": "One-Click"}),
        E(anonymous=OK),
        write=True,
    ),
    Row(
        "api:mailings",
        "API: campaigns",
        "GET",
        lambda c: ("/api/v1/mailings/", {}),
        E(anonymous=401),
    ),
    Row(
        "api:mailings",
        "API: create a campaign to his client",
        "POST",
        lambda c: (
            "/api/v1/mailings/",
            {
                "table": "counterparties",
                "name": "П",
                "subject": "Т",
                "body": "Б",
                "record_ids": [c.cp],
            },
        ),
        E(anonymous=401, no_table=404),
        write=True,
        json_body=True,
    ),
    Row(
        "api:mailing",
        "API: the administrator's campaign",
        "GET",
        lambda c: (f"/api/v1/mailings/{_campaign(c)}/", {}),
        {**_NOT_HIS, "anonymous": 401},
    ),
    Row(
        "api:mailing_start",
        "API: start the administrator's draft",
        "POST",
        lambda c: (f"/api/v1/mailings/{_campaign(c)}/start/", {}),
        {**_NOT_HIS, "anonymous": 401},
        write=True,
        json_body=True,
    ),
    Row(
        "api:mailing_pause",
        "API: pause the administrator's draft",
        "POST",
        lambda c: (f"/api/v1/mailings/{_campaign(c)}/pause/", {}),
        {**_NOT_HIS, "anonymous": 401, "admin": 400},
        write=False,
        json_body=True,
    ),
    Row(
        "api:mailing_resume",
        "API: resume the administrator's draft",
        "POST",
        lambda c: (f"/api/v1/mailings/{_campaign(c)}/resume/", {}),
        {**_NOT_HIS, "anonymous": 401, "admin": 400},
        write=False,
        json_body=True,
    ),
    Row(
        "api:mailing_cancel",
        "API: cancel the administrator's draft",
        "POST",
        lambda c: (f"/api/v1/mailings/{_campaign(c)}/cancel/", {}),
        {**_NOT_HIS, "anonymous": 401},
        write=True,
        json_body=True,
    ),
    # -- the SMS gateway's settings (administrators) -----------------------------------------------
    Row("sms:settings", "SMS settings", "GET", lambda c: ("/settings/sms/", {}), ADMIN_ONLY),
    Row(
        "sms:settings",
        "save SMS settings",
        "POST",
        lambda c: ("/settings/sms/", {"backend": "console", "api_key": "k"}),
        E(own=403, peer=403, no_table=403, hidden=403, read_only=403),
        write=True,
    ),
]


def _group_pk(name: str) -> int:
    from django.contrib.auth.models import Group

    return Group.objects.get(name=name).pk


def url_names() -> set[str]:
    """Every named URL pattern of the site, found by walking the resolver."""
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern):
                names.add(f"{namespace}{p.name}" if p.name else f"{namespace}<unnamed {p.pattern}>")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_url_has_a_row():
    """A URL without a row in the matrix fails here: add one (and think about who may use it)."""
    covered = {row.name for row in MATRIX}
    missing = sorted(url_names() - covered)
    assert missing == [], f"URLs without a row in MATRIX: {missing}"


def test_every_row_lists_every_subject():
    for row in MATRIX:
        assert set(row.expect) == set(SUBJECTS), row


CASES = [
    pytest.param(row, subject, id=f"{row.name}[{row.verb}]-{subject}")
    for row in MATRIX
    for subject in SUBJECTS
]


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        return ""
    for encoding in ("utf-8", "cp1251"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return ""


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """The world, built once for the module's hundreds of cases (once per worker): each case
    rolls back to it (see ``built_for_module``)."""
    yield from built_for_module(django_db_blocker, build_world)


@pytest.fixture
def world(built_world, db) -> World:
    """The built world with its users read afresh: a case may change the user objects it was
    handed (a log-in sets ``last_login``), and the next case must get them as the database has
    them again. The cases only read the records' ids and values."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.in_bulk(
        [built_world.admin.pk, *(u.pk for u in built_world.users.values())]
    )
    return World(
        admin=users[built_world.admin.pk],
        users={key: users[u.pk] for key, u in built_world.users.items()},
        targets={key: replace(t, user=users[t.user.pk]) for key, t in built_world.targets.items()},
        company=built_world.company,
    )


@pytest.mark.parametrize(("row", "subject"), CASES)
def test_matrix(client, world, row: Row, subject: str):
    # given: the subject and his target
    user = None
    if subject == "admin":
        user, target = world.admin, world.targets["own"]
    elif subject == "peer":
        user, target = world.users["own"], world.targets["peer"]
    elif subject != "anonymous":
        user, target = world.users[subject], world.targets[subject]
    else:
        target = world.targets["own"]
    if user is not None:
        client.force_login(user)
    ctx = Ctx(world, target, user, client)
    if row.prepare:
        row.prepare(ctx)
    path, data = row.build(ctx)
    expected = row.expect[subject]
    # The dumps are most of a case's time: taken only where they are compared (a refusal must
    # change nothing, an allowed write must change something).
    compared = expected not in (OK, ANY) or (expected == OK and row.write)
    before = dump() if compared else ""
    # when
    headers = {"HTTP_HX_REQUEST": "true"} if row.htmx else {}
    send = getattr(client, row.method.lower())
    if row.json_body:
        response = send(path, json.dumps(data), content_type="application/json", **headers)
    else:
        response = send(path, data, **headers)
    body = _body(response)
    after = dump() if compared else ""
    status = response.status_code
    marker = row.found(ctx) if row.found else target.name
    # then
    assert status < 500
    if expected == LOGIN:
        assert status == 302 and "/login/" in response["Location"], status
    elif isinstance(expected, int):
        assert status == expected, (status, body[:300])
    elif expected == ANY:
        assert status < 400 or status == 405, status
    elif expected == REFUSED:
        assert status in (200, 302), status
    elif expected == EMPTY:
        assert status == 200, status
        assert marker not in body
    elif expected == OK:
        assert 200 <= status < 300 or status == 302, (status, body[:500])
        if row.marker:
            assert marker in body
        if row.write:
            assert after != before, "an allowed write changed nothing"
    if expected not in (OK, ANY):
        assert after == before, "a refused request changed data"
    if subject == "hidden" and SECRET_INN not in str(data) + ctx.data.get("sent", ""):
        assert SECRET_INN not in body
    if subject == "hidden" and row.hidden_text:
        assert row.hidden_text not in body
