"""Whose import batches a user sees: his own, or all of them as an administrator; and the
bad-rows file never carries a column of a field hidden from the reader."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kartoteka.access import services as access
from kartoteka.accounts.services import create_user
from kartoteka.core.actor import MANAGERS_GROUP, Actor
from kartoteka.imports.models import ImportBatch
from kartoteka.tables.models import Field
from tests.imports.files import inn

SECRET = inn(77)


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    """Files of this module's uploads in a folder of its own: other tests (in parallel
    workers) compare the wizard's folder before and after their own uploads."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def import_with_a_bad_row(client) -> ImportBatch:
    """Import a file whose second row has no name (a row error) through the wizard."""
    text = f"Название;ИНН;Город\nРомашка;{inn(1)};Тверь\n;{SECRET};Орёл\n"
    response = client.post(
        reverse("imports:home", args=["counterparties"]),
        {"file": SimpleUploadedFile("c.csv", text.encode())},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    token = response["Location"].rstrip("/").split("/")[-1]
    client.post(reverse("imports:check", args=["counterparties", token]), {"action": "import"})
    return ImportBatch.objects.latest("id")


def bad_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.fixture
def peer(crm):
    return create_user(
        Actor.system("test"), username="sidorov", password="Xk2#pLq9!vR", group=MANAGERS_GROUP
    )


def test_another_users_batch_is_not_found(client, counterparties, manager_user, peer):
    # given: the manager's import with a bad row
    client.force_login(manager_user)
    batch = import_with_a_bad_row(client)
    assert batch.error_count == 1 and batch.errors_file
    errors = reverse("imports:batch_errors", args=["counterparties", batch.pk])
    page = reverse("imports:batch", args=["counterparties", batch.pk])
    undo = reverse("imports:batch_undo", args=["counterparties", batch.pk])
    # when: another manager asks for it
    client.force_login(peer)
    # then: nothing of it exists for him, and undo changes nothing
    assert client.get(errors).status_code == 404
    assert client.get(page).status_code == 404
    assert client.post(undo).status_code == 404
    listing = client.get(reverse("imports:home", args=["counterparties"])).content.decode()
    assert "c.csv" not in listing and 'data-testid="batches"' not in listing
    batch.refresh_from_db()
    assert (batch.status, batch.created) == ("done", 1)


def test_the_owner_and_an_administrator_get_the_bad_rows(
    client, counterparties, manager_user, admin_user
):
    client.force_login(manager_user)
    batch = import_with_a_bad_row(client)
    errors = reverse("imports:batch_errors", args=["counterparties", batch.pk])
    expected = [
        ["Строка", "Ошибка", "Название", "ИНН", "Город"],
        ["3", "Название: Поле «Название» обязательно.", "", SECRET, "Орёл"],
    ]
    assert bad_rows(client.get(errors)) == expected
    client.force_login(admin_user)
    assert bad_rows(client.get(errors)) == expected
    listing = client.get(reverse("imports:home", args=["counterparties"])).content.decode()
    assert "c.csv" in listing


def test_a_hidden_fields_column_never_leaves_the_server(client, counterparties, admin_user):
    # given: a group that may not read «ИНН», and its member's import of a file with an INN column
    staff = Actor.for_user(admin_user, source="settings")
    from django.contrib.auth.models import Group

    group = access.create_group(staff, "Без ИНН", copy_from=Group.objects.get(name=MANAGERS_GROUP))
    access.set_field_rights(
        staff, group, Field.objects.get(table__key="counterparties", key="inn"), access="hidden"
    )
    user = create_user(staff, username="noinn", password="Xk2#pLq9!vR", group="Без ИНН")
    client.force_login(user)
    batch = import_with_a_bad_row(client)
    # when: he downloads its bad rows
    response = client.get(reverse("imports:batch_errors", args=["counterparties", batch.pk]))
    # then: the INN column is cut out
    assert bad_rows(response) == [
        ["Строка", "Ошибка", "Название", "Город"],
        ["3", "Название: Поле «Название» обязательно.", "", "Орёл"],
    ]


def test_a_field_hidden_after_the_import_is_cut_from_its_report(
    client, counterparties, manager_user, admin_user
):
    # given: the manager's import with a bad INN, then «ИНН» hidden from managers
    client.force_login(manager_user)
    text = f"Название;ИНН;Город\nРомашка;{inn(1)};Тверь\nЛютик;12;Орёл\n"
    response = client.post(
        reverse("imports:home", args=["counterparties"]),
        {"file": SimpleUploadedFile("c.csv", text.encode())},
    )
    token = response["Location"].rstrip("/").split("/")[-1]
    client.post(reverse("imports:check", args=["counterparties", token]), {"action": "import"})
    batch = ImportBatch.objects.latest("id")
    assert [e["column"] for e in batch.errors] == ["ИНН"]
    from django.contrib.auth.models import Group

    access.set_field_rights(
        Actor.for_user(admin_user, source="settings"),
        Group.objects.get(name=MANAGERS_GROUP),
        Field.objects.get(table__key="counterparties", key="inn"),
        access="hidden",
    )
    # when: he reads the batch and its bad rows
    page = client.get(reverse("imports:batch", args=["counterparties", batch.pk])).content
    rows = bad_rows(client.get(reverse("imports:batch_errors", args=["counterparties", batch.pk])))
    # then: neither the INN nor the reason quoting it is there
    assert "«12»" not in page.decode() and 'data-testid="error-list"' not in page.decode()
    assert rows == [["Строка", "Ошибка", "Название", "Город"], ["3", "", "Лютик", "Орёл"]]
