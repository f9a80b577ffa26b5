"""The pages: a template made in settings, previewed on a record, used from the record card."""

from __future__ import annotations

import pytest

from kartoteka.documents.models import DocumentTemplate, GeneratedDocument
from tests.documents.test_services import deal, media  # noqa: F401  (fixtures)


@pytest.fixture
def logged_in(client, admin_user):
    client.force_login(admin_user)
    return client


def test_settings_preview_card_and_download(logged_in, deal, media):  # noqa: F811
    _company, counterparty, _invoice = deal
    # a bad template is refused with its line and name, nothing saved
    page = logged_in.post(
        "/settings/documents/",
        {"table": "counterparties", "name": "КП", "body": "<p>\n{{ record.nosuch }}</p>"},
    )
    assert "Строка 2: у «record» нет поля «nosuch»" in page.content.decode()
    assert not DocumentTemplate.objects.exists()
    # a good one is saved and opens in the editor
    page = logged_in.post(
        "/settings/documents/",
        {"table": "counterparties", "name": "КП", "body": "<p>{{ record.name }}</p>"},
    )
    template = DocumentTemplate.objects.get()
    assert page.status_code == 302 and page["Location"] == f"/settings/documents/{template.pk}/"
    # the preview fills what is typed from the chosen record
    preview = logged_in.post(
        f"/settings/documents/{template.pk}/preview/",
        {"body": "<b>{{ record.inn }}</b>", "record": str(counterparty.pk)},
    ).content.decode()
    assert f"&lt;b&gt;{counterparty.inn}&lt;/b&gt;" in preview
    errors = logged_in.post(
        f"/settings/documents/{template.pk}/preview/", {"body": "{{ config }}"}
    ).content.decode()
    assert "неизвестное имя «config»" in errors
    # the reference lists the table's placeholders with samples
    reference = logged_in.get("/settings/documents/reference/?table=counterparties")
    assert "record.inn" in reference.content.decode()
    # the card offers «Документы»; generating keeps the file on the record
    url = f"/records/counterparties/{counterparty.pk}/documents/"
    assert "КП" in logged_in.get(url).content.decode()
    done = logged_in.post(url, {"template": str(template.pk), "format": "html"})
    assert done.status_code == 302
    doc = GeneratedDocument.objects.get()
    card = logged_in.get(f"/t/counterparties/{counterparty.pk}/").content.decode()
    assert f"/records/documents/{doc.pk}/" in card
    download = logged_in.get(f"/records/documents/{doc.pk}/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"<p>" in download.content and counterparty.name.encode() in download.content
