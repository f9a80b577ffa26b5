"""The English translation: the UI speaks Russian by default and English when the browser asks
for it, and the catalog has no untranslated strings."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOGIN_PROMPT_RU = "Войдите, чтобы продолжить"
LOGIN_PROMPT_EN = "Log in to continue"

PO_FILE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")


def _po_entries(path: Path) -> list[tuple[set[str], dict[str, str]]]:
    """(flags, {"msgid": ..., "msgstr": ..., "msgstr[0]": ...}) of each live entry of a .po file,
    the header included; obsolete (``#~``) entries are left out."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        flags: set[str] = set()
        fields: dict[str, str] = {}
        key = None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += ast.literal_eval(line)
            else:
                key, _sep, value = line.partition(" ")
                fields[key] = ast.literal_eval(value)
        if "msgid" in fields:
            entries.append((flags, fields))
    return entries


def _translations(fields: dict[str, str]) -> list[str]:
    return [value for key, value in fields.items() if key.startswith("msgstr")]


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%(?:\([^)]*\))?[sdif]", text))


@pytest.fixture(scope="module")
def entries():
    assert PO_FILE.exists(), f"{PO_FILE} is missing: run makemessages -l en"
    return _po_entries(PO_FILE)


def test_log_in_page_speaks_russian_by_default(client, crm):
    response = client.get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ru">' in html
    assert LOGIN_PROMPT_RU in html
    assert LOGIN_PROMPT_EN not in html


def choose(client, language: str) -> None:
    response = client.post("/i18n/setlang/", {"language": language, "next": "/login/"})
    assert response.status_code == 302


def test_browser_language_does_not_override_the_installation_language(client, crm):
    # An English-language browser still gets the Russian interface until English is picked.
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="ru">' in html
    assert LOGIN_PROMPT_RU in html


def test_log_in_page_speaks_english_when_chosen(client, crm):
    choose(client, "en")
    response = client.get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert LOGIN_PROMPT_EN in html
    assert LOGIN_PROMPT_RU not in html


def test_chosen_language_outlives_the_request(client, crm):
    # when: the visitor picks English in the language switch
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    # then
    assert response.status_code == 302
    assert LOGIN_PROMPT_EN in client.get("/login/").content.decode()


def test_home_page_speaks_english(client, admin_user):
    client.force_login(admin_user)
    choose(client, "en")
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert ">Tables<" in html
    assert ">Таблицы<" not in html


def test_state_tabs_follow_the_language(client, admin_user):
    client.force_login(admin_user)
    # Whichever language the labels were frozen in, one of the two pages shows the other one.
    choose(client, "ru")
    russian = client.get("/t/counterparties/").content.decode()
    choose(client, "en")
    english = client.get("/t/counterparties/").content.decode()
    assert ">Удалённые<" in russian and ">Trash<" not in russian
    assert ">Trash<" in english and ">Удалённые<" not in english


def test_catalog_header(entries):
    header = next(fields["msgstr"] for _flags, fields in entries if fields["msgid"] == "")
    assert "Language: en\n" in header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header


def test_every_string_is_translated(entries):
    # Fuzzy entries are not compiled into the .mo, so they count as untranslated too.
    untranslated = [
        fields["msgid"]
        for flags, fields in entries
        if fields["msgid"] and ("fuzzy" in flags or not all(_translations(fields)))
    ]
    assert len(entries) > 100
    assert untranslated == []


def test_translations_keep_the_placeholders(entries):
    broken = []
    for _flags, fields in entries:
        wanted = _placeholders(fields["msgid"]) | _placeholders(fields.get("msgid_plural", ""))
        for text in _translations(fields):
            got = _placeholders(text)
            # The singular form of a plural entry may spell the number out ("one record").
            if got != wanted and not ("msgid_plural" in fields and got < wanted):
                broken.append(fields["msgid"])
    assert broken == []


def _compiled(catalog: gettext.GNUTranslations, fields: dict[str, str]) -> list[str]:
    """What the compiled catalog gives for an entry: [singular] or [one, many]."""
    msgid, context, plural = fields["msgid"], fields.get("msgctxt"), fields.get("msgid_plural")
    if plural is None:
        if context is None:
            return [catalog.gettext(msgid)]
        return [catalog.pgettext(context, msgid)]
    if context is None:
        return [catalog.ngettext(msgid, plural, n) for n in (1, 2)]
    return [catalog.npgettext(context, msgid, plural, n) for n in (1, 2)]


def test_compiled_catalog_matches_the_po_file(entries):
    assert MO_FILE.exists(), f"{MO_FILE} is missing: run compilemessages -l en"
    with MO_FILE.open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)
    stale = [
        fields["msgid"]
        for _flags, fields in entries
        if fields["msgid"] and _compiled(catalog, fields) != _translations(fields)
    ]
    assert stale == [], "django.mo is out of date: run compilemessages -l en"


def test_the_link_pickers_hint_follows_the_language(client, admin_user):
    client.force_login(admin_user)
    choose(client, "ru")
    russian = client.get("/t/invoices/new/").content.decode()
    choose(client, "en")
    english = client.get("/t/invoices/new/").content.decode()
    assert 'placeholder="Начните вводить…"' in russian
    assert 'placeholder="Start typing…"' in english and "Начните вводить" not in english
