"""The document endpoint of the API and the ``kartoteka document`` command."""

from __future__ import annotations

import pytest

from kartoteka.cli import main
from kartoteka.documents.models import GeneratedDocument
from tests.api.conftest import token_client
from tests.documents.test_services import docx_text


@pytest.fixture
def api(admin_user):
    return token_client(admin_user)


def test_the_api_returns_the_file_and_the_kept_copy_s_id(api, deal, media):
    _company, counterparty, _invoice = deal
    url = f"/api/v1/tables/counterparties/records/{counterparty.pk}/documents/"
    response = api.post(url, {"template": "Договор поставки", "format": "docx"}, format="json")
    assert response.status_code == 200
    doc = GeneratedDocument.objects.get()
    assert response["X-Document-Id"] == str(doc.pk)
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"ИНН {counterparty.inn}" in docx_text(response.content)


def test_the_api_refuses_an_unknown_template_and_a_format_it_cannot_give(api, deal, media):
    _company, counterparty, _invoice = deal
    url = f"/api/v1/tables/counterparties/records/{counterparty.pk}/documents/"
    missing = api.post(url, {"template": "Нет такого", "format": "pdf"}, format="json")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong = api.post(url, {"template": "Коммерческое предложение", "format": "docx"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "format_unavailable"
    assert not GeneratedDocument.objects.exists()


def test_the_cli_writes_the_document(deal, media, tmp_path, capsys):
    _company, counterparty, _invoice = deal
    target = tmp_path / "quote.html"
    code = main(
        [
            "document",
            "--table",
            "counterparties",
            "--id",
            str(counterparty.pk),
            "--template",
            "Коммерческое предложение",
            "--format",
            "html",
            "-o",
            str(target),
        ]
    )
    assert code == 0
    assert "ООО «Ромашка»" in target.read_text()
    doc = GeneratedDocument.objects.get()
    assert capsys.readouterr().out.strip() == f"Документ «{doc.name}» (№{doc.pk}) → {target}"
    code = main(
        [
            "document",
            "--table",
            "counterparties",
            "--id",
            str(counterparty.pk),
            "--template",
            "Нет такого",
            "--format",
            "pdf",
            "-o",
            str(tmp_path / "x.pdf"),
        ]
    )
    assert code != 0
    assert "Шаблон документа не найден." in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
