"""The access matrix: every URL of the site × every kind of user × what it does.

``MATRIX`` is the one table of expected outcomes. Each row is one request (a URL name and a verb)
with what each subject must get:

- ``OK`` — allowed: a 2xx/3xx answer; for a write, the data changed; for a read with a marker,
  the target record's name is in the page;
- ``EMPTY`` — answered, but the target record is not in it (search, grid, lookup, export);
- ``LOGIN`` — sent to the log-in page; ``403``/``404`` — refused with that status;
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
operations: ``json_body=True`` and the method (``"PATCH"`` …); log the client in the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.access.conftest import SECRET_INN, Target, World, dump

OK, EMPTY, LOGIN, REFUSED, ANY = "OK", "EMPTY", "LOGIN", "REFUSED", "ANY"
SUBJECTS = ("anonymous", "admin", "own", "peer", "no_table", "hidden", "read_only")


@dataclass
class Ctx:
    """What a row builds its request from: the subject's target client and the world."""

    world: World
    target: Target

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
        "media",
        "uploaded file",
        "GET",
        lambda c: ("/media/none/missing.png", {}),
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
    ctx = Ctx(world, target)
    if row.prepare:
        row.prepare(ctx)
    path, data = row.build(ctx)
    before = dump()
    # when
    headers = {"HTTP_HX_REQUEST": "true"} if row.htmx else {}
    send = getattr(client, row.method.lower())
    if row.json_body:
        response = send(path, json.dumps(data), content_type="application/json", **headers)
    else:
        response = send(path, data, **headers)
    body = _body(response)
    after = dump()
    expected = row.expect[subject]
    status = response.status_code
    marker = row.found(ctx) if row.found else target.name
    # then
    assert status < 500
    if expected == LOGIN:
        assert status == 302 and "/login/" in response["Location"], status
    elif expected in (403, 404):
        assert status == expected, (status, body[:300])
    elif expected == ANY:
        assert status < 400 or status == 405, status
    elif expected == REFUSED:
        assert status in (200, 302), status
    elif expected == EMPTY:
        assert status == 200, status
        assert marker not in body
    elif expected == OK:
        assert status in (200, 302), (status, body[:500])
        if row.marker:
            assert marker in body
        if row.write:
            assert after != before, "an allowed write changed nothing"
    if expected not in (OK, ANY):
        assert after == before, "a refused request changed data"
    if subject == "hidden" and SECRET_INN not in str(data):
        assert SECRET_INN not in body
