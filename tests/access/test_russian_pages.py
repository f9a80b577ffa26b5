"""Russian everywhere: every page of the access matrix, opened by an administrator, shows no
untranslated English and no raw keys (``snake_case`` identifiers, «Not Found», ``import#2``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from django.db import transaction

from tests.access.conftest import World, build_world
from tests.access.test_matrix import MATRIX, Ctx
from tests.builders import built_for_module

#: Latin words a Russian CRM page may show: formats, encodings, protocols, names of things.
ALLOWED = {
    "api", "csv", "utf", "xlsx", "xls", "ods", "txt", "pdf", "json", "ics", "url", "id",
    "e-mail", "email", "excel", "windows", "dos", "koi", "http", "https", "smtp", "hmac", "sha",
    "sms", "crm", "localhost", "ical", "mail", "cp", "javascript", "post",
    "english",  # the language switch names the language in itself
    "html", "docx", "word", "qr", "totp", "google", "microsoft", "authenticator", "freeotp",
    "aero", "stop", "ip",  # formats, programs and services by their own names; SMS's «STOP»
}  # fmt: skip
#: Pages that teach a small syntax of field keys and operators («state in new,in_progress»).
SYNTAX_PAGES = {
    "notifications:reminder_add",
    "notifications:reminder_edit",
    "doctemplates:reference",  # the placeholders' reference: {{ record.name }}, company, today …
}
#: Not words but data and syntax: addresses, links, file names, {placeholders}.
NOT_TEXT = re.compile(
    r"\S+@\S+|https?://\S+|\{[^}]*\}|\b[\w.-]+\.(example|ru|com|org|csv|xlsx|txt)\b"
    r"|\bKARTOTEKA_[A-Z_]+\b"  # the environment's settings, named as they are set
)
LATIN = re.compile(r"[A-Za-z]{2,}")
RAW_KEY = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b\w+#\d+|Not Found|Forbidden|Server Error")


class _Text(HTMLParser):
    """The text a person reads: text nodes outside script/style, plus placeholders, titles and
    labels for screen readers. An element marked ``translate="no"`` holds names that are the same
    in every language (time zones, encodings) and is skipped."""

    SKIP = {"script", "style", "template", "code", "pre", "textarea"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0
        self.skipped: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP or ("translate", "no") in attrs:
            self.skipping += 1
            self.skipped.append(tag)
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if self.skipped and tag == self.skipped[-1]:
            self.skipped.pop()
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def problems(text: str, allowed: set[str]) -> list[str]:
    text = NOT_TEXT.sub(" ", text)
    found = RAW_KEY.findall(text)
    found += [w for w in LATIN.findall(text) if w.lower() not in allowed]
    return sorted(set(found))


@pytest.fixture(scope="module")
def built_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    yield from built_for_module(django_db_blocker, build_world)


def test_every_page_speaks_russian_to_an_administrator(client, built_world, db):
    # given: the administrator, on his own client
    world = built_world
    client.force_login(world.admin)
    # the users' log-in names are data, shown as they were typed
    logins = {u.username.rstrip("0123456789") for u in [world.admin, *world.users.values()]}
    allowed = ALLOWED | logins
    seen: set[tuple[str, bool]] = set()
    found: dict[str, list[str]] = {}
    for row in MATRIX:
        if row.method != "GET" or row.json_body or row.name.startswith("api"):
            continue
        # each page on the world as built: what a row prepares is rolled back after it
        with transaction.atomic():
            ctx = Ctx(world, world.targets["own"], world.admin, client)
            if row.prepare:
                row.prepare(ctx)
            path, data = row.build(ctx)
            if path.startswith("/api/") or (path, row.htmx) in seen:
                transaction.set_rollback(True)
                continue
            seen.add((path, row.htmx))
            # when
            headers = {"HTTP_HX_REQUEST": "true"} if row.htmx else {}
            response = client.get(path, data, **headers)
            transaction.set_rollback(True)
        if not response.get("Content-Type", "").startswith("text/html"):
            if response.streaming:
                b"".join(response.streaming_content)  # read to the end: the file is closed
            continue
        # then
        if row.name in SYNTAX_PAGES:
            continue
        bad = problems(visible_text(response.content.decode()), allowed)
        if bad:
            found[f"{row.name} {path}"] = bad
    assert len(seen) > 40
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in sorted(found.items()))
