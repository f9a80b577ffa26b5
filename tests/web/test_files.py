"""Files of file fields: how they are served (no stored XSS) and where their values may come from
(no reading another user's file by naming it)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kartoteka.access import services as access
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import RecordValidationError
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_records, update_records
from kartoteka.tables.modelfactory import model_for
from kartoteka.tables.models import Field
from tests.api.conftest import token_client
from tests.builders import make_table

HTML = b"<!doctype html><script>fetch('/api/v1/me/')</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def _webp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 0, 0)).save(buffer, format="WEBP")
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def docs(crm, media, admin_user, manager_user):
    """«Документы» with an attachment and an owner; managers read and write only their own."""
    table = make_table(
        [
            {"key": "title", "label": "Название", "type": "text"},
            {"key": "attachment", "label": "Вложение", "type": "file"},
            {"key": "owner", "label": "Владелец", "type": "user"},
        ],
        key="docs",
        label="Документы",
    )
    access.set_table_rights(
        Actor.for_user(admin_user),
        Group.objects.get(name="Менеджеры"),
        table,
        verbs=["view", "add", "edit", "import", "bulk_edit"],
        row_filter={"conditions": [["owner", "eq", "{current user}"]]},
    )
    return table


def _upload(client, name: str, content: bytes, owner) -> int:
    response = client.post(
        "/t/docs/new/",
        {
            "title": name,
            "owner": owner.pk,
            "attachment": SimpleUploadedFile(name, content, content_type="image/png"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return int(response["Location"].rstrip("/").split("/")[-1])


def _admins_contract(admin_user) -> tuple[object, str]:
    record = create_records(
        Actor.for_user(admin_user),
        _docs(),
        [
            {
                "title": "Договор",
                "owner": admin_user.pk,
                "attachment": SimpleUploadedFile("contract.pdf", b"%PDF-1.4 secret"),
            }
        ],
    )[0]
    return record, record.attachment


def _docs():
    from kartoteka.tables.models import Table

    return Table.objects.get(key="docs")


def _snapshot(table) -> list[tuple]:
    return list(model_for(table).objects.order_by("id").values_list("id", "title", "attachment"))


# -- serving ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "disposition", "content_type"),
    [
        ("x.html", HTML, "attachment", "application/octet-stream"),
        ("x.svg", SVG, "attachment", "application/octet-stream"),
        ("x.png", HTML, "attachment", "image/png"),
        ("x.jpg", SVG, "attachment", "image/jpeg"),
        ("notes.txt", "Привет".encode(), "attachment", "text/plain"),
        ("photo.png", "png", "inline", "image/png"),
        ("photo.webp", "webp", "inline", "image/webp"),
        ("scan.pdf", b"%PDF-1.4\n%%EOF\n", "inline", "application/pdf"),
        ("scan.bin", b"%PDF-1.4\n%%EOF\n", "inline", "application/pdf"),
    ],
)
def test_a_manager_upload_reaches_the_administrator_only_as_a_download_unless_an_image_or_pdf(
    client, docs, admin_user, manager_user, name, content, disposition, content_type
):
    # given: a manager uploads a file through the add form
    content = {"png": _png(), "webp": _webp()}.get(content, content)
    client.force_login(manager_user)
    pk = _upload(client, name, content, manager_user)
    # when: the administrator opens the card and clicks the file
    client.force_login(admin_user)
    card = client.get(f"/t/docs/{pk}/").content.decode()
    assert f'href="/t/docs/{pk}/files/attachment/"' in card
    response = client.get(f"/t/docs/{pk}/files/attachment/")
    # then: by its bytes, a raster image or a PDF is shown, anything else is downloaded, with the
    # type its name suggests unless that type is a document a browser would run
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"] == f'{disposition}; filename="{name}"'
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'")
    if content_type != "application/pdf":
        assert policy.endswith("; sandbox")


def test_a_file_of_a_record_the_reader_cannot_read_is_not_found(
    client, docs, admin_user, manager_user
):
    # given: the administrator's contract
    record, _name = _admins_contract(admin_user)
    # when: a manager asks for it by the record's address
    client.force_login(manager_user)
    response = client.get(f"/t/docs/{record.pk}/files/attachment/")
    # then
    assert response.status_code == 404


def test_a_field_hidden_from_the_reader_serves_no_file(client, docs, admin_user, manager_user):
    # given: the manager's own document, then «Вложение» hidden from managers
    client.force_login(manager_user)
    pk = _upload(client, "mine.pdf", b"%PDF-1.4 mine", manager_user)
    access.set_field_rights(
        Actor.for_user(admin_user),
        Group.objects.get(name="Менеджеры"),
        Field.objects.get(table=docs, key="attachment"),
        access="hidden",
    )
    # when
    response = client.get(f"/t/docs/{pk}/files/attachment/")
    # then
    assert response.status_code == 404


# -- where a file value may come from -----------------------------------------------------------


def test_the_api_refuses_the_name_of_another_users_file(docs, admin_user, manager_user, client):
    # given: the administrator's contract, which the manager cannot read
    _record, name = _admins_contract(admin_user)
    before = _snapshot(docs)
    api = token_client(manager_user)
    # when: the manager creates a document naming that file
    response = api.post(
        "/api/v1/tables/docs/records/",
        {"title": "Моё", "owner": manager_user.pk, "attachment": name},
        format="json",
    )
    # then: refused as a file that does not exist; nothing written, nothing to download
    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {
        "attachment": [f"Файл «{name}» для поля «Вложение» не найден."]
    }
    assert _snapshot(docs) == before
    assert not RecordChange.objects.filter(table=docs, user=manager_user).exists()


def test_the_api_refuses_to_point_a_users_record_at_another_users_file(
    docs, admin_user, manager_user, client
):
    # given: the manager's own document and the administrator's contract
    _record, name = _admins_contract(admin_user)
    mine = create_records(
        Actor.for_user(manager_user), docs, [{"title": "Моё", "owner": manager_user.pk}]
    )[0]
    before = _snapshot(docs)
    api = token_client(manager_user)
    # when
    response = api.patch(
        f"/api/v1/tables/docs/records/{mine.pk}/", {"attachment": name}, format="json"
    )
    # then
    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {
        "attachment": [f"Файл «{name}» для поля «Вложение» не найден."]
    }
    assert _snapshot(docs) == before
    client.force_login(manager_user)
    assert client.get(f"/t/docs/{mine.pk}/files/attachment/").status_code == 404


@pytest.mark.parametrize(
    "actor_of",
    [
        lambda user: Actor.for_user(user, source="form"),
        lambda user: Actor.for_user(user, source="bulk"),
        lambda user: Actor.for_user(user, source="import#7"),
        lambda user: Actor.system(reason="web form 3", source="webform:3"),
    ],
    ids=["form", "bulk", "import", "webform"],
)
@pytest.mark.parametrize("prepared", [False, True], ids=["coerced", "prepared"])
def test_every_write_path_refuses_a_file_name_it_may_not_read(
    docs, admin_user, manager_user, actor_of, prepared
):
    # given: the administrator's contract, a file no record holds, and a path out of the storage
    _record, name = _admins_contract(admin_user)
    stray = default_storage.save("imports/wizard/abc/clients.csv", io.BytesIO(b"a;b"))
    before = _snapshot(docs)
    actor = actor_of(manager_user)
    # when / then
    for value in (name, stray, "docs/attachment/nothing.pdf"):
        with pytest.raises(RecordValidationError) as caught:
            create_records(
                actor,
                docs,
                [{"title": "Моё", "owner": manager_user.pk, "attachment": value}],
                prepared=prepared,
            )
        assert [(e.field, e.code) for e in caught.value.errors] == [
            ("attachment", "file_not_found")
        ]
    assert _snapshot(docs) == before


def test_an_administrator_may_not_name_a_file_no_record_holds(docs, admin_user):
    # given: another user's import upload in the storage
    stray = default_storage.save("imports/wizard/abc/clients.csv", io.BytesIO(b"a;b"))
    before = _snapshot(docs)
    # when / then
    with pytest.raises(RecordValidationError) as caught:
        create_records(Actor.for_user(admin_user), docs, [{"title": "Х", "attachment": stray}])
    assert caught.value.errors[0].code == "file_not_found"
    assert _snapshot(docs) == before


def test_a_file_the_user_may_read_may_be_named_again(docs, manager_user):
    # given: the manager's document with an uploaded scan
    actor = Actor.for_user(manager_user, source="api")
    first = create_records(
        actor,
        docs,
        [
            {
                "title": "Скан",
                "owner": manager_user.pk,
                "attachment": SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scan"),
            }
        ],
    )[0]
    # when: another document of his names the same file
    second = create_records(
        actor, docs, [{"title": "Копия", "owner": manager_user.pk, "attachment": first.attachment}]
    )[0]
    # then
    assert first.attachment.startswith("docs/attachment/scan")
    assert model_for(docs).objects.get(pk=second.pk).attachment == first.attachment


def test_a_record_may_get_back_a_file_it_held_before(docs, manager_user):
    # given: a document whose scan was replaced by a new upload (no record holds the old one)
    actor = Actor.for_user(manager_user)
    record, other = create_records(
        actor,
        docs,
        [
            {
                "title": "Скан",
                "owner": manager_user.pk,
                "attachment": SimpleUploadedFile("old.pdf", b"%PDF-1.4 old"),
            },
            {"title": "Другой", "owner": manager_user.pk},
        ],
    )
    old = record.attachment
    update_records(
        actor, docs, {record.pk: {"attachment": SimpleUploadedFile("new.pdf", b"%PDF-1.4 new")}}
    )
    # then: another record may not take the old file
    with pytest.raises(RecordValidationError):
        update_records(actor, docs, {other.pk: {"attachment": old}})
    assert model_for(docs).objects.get(pk=other.pk).attachment is None
    # when: an undo puts the old file back into its own record
    update_records(actor.via("import-undo#1"), docs, {record.pk: {"attachment": old}})
    # then
    assert model_for(docs).objects.get(pk=record.pk).attachment == old
