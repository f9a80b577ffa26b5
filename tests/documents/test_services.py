"""Document templates: save-time checks, DOCX guards, generation from a record, kept documents."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from docx import Document

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound, PermissionDenied
from kartoteka.documents import services
from kartoteka.documents.models import DocumentTemplate, GeneratedDocument
from kartoteka.documents.rendering import DocumentError
from kartoteka.records.models import RecordChange
from kartoteka.templating import TemplateProblem

D = Decimal


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def deal(crm):
    from tests.crm.test_invoices import make_company, make_counterparty, make_invoice

    company = make_company(is_default=True, director="Орлов Сергей Петрович")
    counterparty = make_counterparty()
    invoice = make_invoice(
        counterparty,
        [("Лицензия", 1, "шт", D("128000.00")), ("Обучение", 1, "ч", D("505.00"))],
        company=company,
        number="2026-0042",
        date=dt.date(2026, 3, 5),
    )
    return company, counterparty, invoice


def docx_bytes(*paragraphs: str) -> bytes:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


ACT = """<h1>Акт № {{ number }}</h1>
<p>{{ record.counterparty.name }}, ИНН {{ record.counterparty.inn }}</p>
<p>{{ record.total|amount_words }}</p>"""


def test_a_template_with_an_unknown_placeholder_is_refused_with_line_and_name(admin, table):
    with pytest.raises(services.TemplateError) as refused:
        services.save_template(
            admin, table("invoices"), name="Акт", body="<p>\n{{ record.counterparty.nosuch }}"
        )
    assert refused.value.problems == [
        TemplateProblem(2, "nosuch", "у «record.counterparty» нет поля «nosuch»")
    ]
    assert not DocumentTemplate.objects.exists()


def test_only_administrators_manage_templates(table, manager_user):
    with pytest.raises(PermissionDenied):
        services.save_template(
            Actor.for_user(manager_user), table("invoices"), name="Акт", body=ACT
        )
    assert not DocumentTemplate.objects.exists()


def test_an_html_document_is_made_kept_and_written_in_history(admin, table, deal, media):
    _company, counterparty, invoice = deal
    template = services.save_template(
        admin, table("invoices"), name="Акт", body=ACT, number_format="А-{year}-{n:03}"
    )
    doc = services.generate_document(admin, template, invoice.pk, "html")
    text = services.read_document(admin, doc).decode()
    year = dt.date.today().year
    assert f"Акт № А-{year}-001" in text
    assert f"ООО «Ромашка», ИНН {counterparty.inn}" in text
    assert "Сто двадцать восемь тысяч пятьсот пять рублей 00 копеек" in text
    assert doc.number == f"А-{year}-001"
    entry = RecordChange.objects.filter(table=table("invoices"), record_id=invoice.pk).first()
    assert entry.source == "document"
    assert entry.changes == {"Документ": [None, doc.name]}
    second = services.generate_document(admin, template, invoice.pk, "pdf")
    assert second.number == f"А-{year}-002"
    assert services.read_document(admin, second).startswith(b"%PDF")


def test_a_docx_template_fills_placeholders_with_helpers(admin, table, deal, media):
    _company, counterparty, _invoice = deal
    data = docx_bytes(
        "Договор № {{ number }}",
        "{{ record.name }}, ИНН {{ record.inn }}",
        "{{ company.name }} в лице {{ company.director|genitive }}",
        "{{ 128505|amount_words }}",
    )
    template = services.save_template(
        admin, table("counterparties"), name="Договор", kind="docx", docx=data
    )
    made = services.make_document(admin, template, counterparty.pk, "docx", number="Д-1")
    assert docx_text(made.data) == (
        "Договор № Д-1\n"
        f"ООО «Ромашка», ИНН {counterparty.inn}\n"
        "ООО «Картотека» в лице Орлова Сергея Петровича\n"
        "Сто двадцать восемь тысяч пятьсот пять рублей 00 копеек"
    )


def test_a_docx_with_forbidden_or_unknown_placeholders_is_refused(admin, table, media):
    for text, name in (("{{ ''.__class__ }}", "__class__"), ("{{ config }}", "config")):
        with pytest.raises(services.TemplateError) as refused:
            services.save_template(
                admin, table("counterparties"), name="Д", kind="docx", docx=docx_bytes(text)
            )
        assert refused.value.problems[0].name == name
    assert not DocumentTemplate.objects.exists()


def test_an_uploaded_zip_bomb_or_xml_bomb_is_refused(admin, table, media):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<a>" + b"0" * (60 << 20) + b"</a>")
    entity = io.BytesIO()
    with zipfile.ZipFile(entity, "w") as archive:
        archive.writestr(
            "word/document.xml", b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a/>'
        )
    for data, words in ((bomb.getvalue(), "zip-бомба"), (entity.getvalue(), "XML-бомба")):
        with pytest.raises(services.TemplateError) as refused:
            services.save_template(admin, table("counterparties"), name="Д", kind="docx", docx=data)
        assert words in refused.value.problems[0].message
    with pytest.raises(services.TemplateError):
        services.save_template(
            admin, table("counterparties"), name="Д", kind="docx", docx=b"not a zip"
        )
    assert not DocumentTemplate.objects.exists()


def test_kept_documents_are_read_only_by_those_who_may_read_the_record(crm, media):
    from tests.access.conftest import build_world

    world = build_world()
    from kartoteka.tables.models import Table

    counterparties = Table.objects.get(key="counterparties")
    admin = Actor.for_user(world.admin)
    template = services.save_template(
        admin, counterparties, name="КП", body="{{ record.name }}|{{ record.inn }}|"
    )
    own = Actor.for_user(world.users["own"])
    hidden = Actor.for_user(world.users["hidden"])
    target = world.targets["hidden"].counterparty
    doc = services.generate_document(hidden, template, target.pk, "html")
    assert "Тюльпан Скрытый||" in services.read_document(hidden, doc).decode()
    with pytest.raises(NotFound):
        services.read_document(own, doc)
    with pytest.raises(NotFound):
        services.generate_document(own, template, target.pk, "html")
    assert GeneratedDocument.objects.count() == 1


def test_a_format_the_template_cannot_give_is_refused(admin, table, deal, media):
    template = services.save_template(admin, table("invoices"), name="Акт", body=ACT)
    with pytest.raises(DocumentError):
        services.make_document(admin, template, deal[2].pk, "docx")
