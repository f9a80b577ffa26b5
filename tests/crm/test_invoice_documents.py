"""The printed invoice: the HTML print view and the PDF in the «Счёт на оплату» layout."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pypdf import PdfReader

from kartoteka.records.services import update_records
from tests.crm.test_invoices import (
    _table,
    make_company,
    make_counterparty,
    make_invoice,
)

D = Decimal
DATE = dt.date(2026, 3, 5)
ITEMS = [
    ("Лицензия «Картотека» на 5 пользователей", 1, "шт", D("1000.00")),
    ("Настройка и обучение", D("1.5"), "ч", D("133.67")),
]
# 1000.00 + 200.51 (1.5 × 133.67 = 200.505 → 200.51) = 1200.51; VAT 20/120 = 200.085 → 200.09
TOTAL_WORDS = "Одна тысяча двести рублей 51 копейка"


def text_of(content: str) -> str:
    """Visible text of an HTML page or PDF with all whitespace (and NBSP) as single spaces."""
    content = re.sub(r"<[^>]+>", " ", content)
    return re.sub(r"[\s\u00a0]+", " ", content).strip()


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\u00a0]+", " ", " ".join(p.extract_text() for p in reader.pages))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def invoice(crm):
    return make_invoice(
        make_counterparty(),
        ITEMS,
        company=make_company(),
        number="2026-0042",
        date=DATE,
        due_date=dt.date(2026, 3, 15),
    )


@pytest.fixture
def logged_in(client, admin_user):
    client.force_login(admin_user)
    return client


def test_print_view_has_the_russian_invoice_layout(logged_in, invoice):
    # when
    response = logged_in.get(f"/documents/invoices/{invoice.pk}/print/")
    # then
    assert response.status_code == 200
    text = text_of(response.content.decode())
    for label in ("Банк получателя", "БИК 044525225", "Сч. № 30101810400000000225"):
        assert label in text
    for label in ("ИНН 7704123450", "КПП 770401001", "Получатель", "Сч. № 40702810938000012345"):
        assert label in text
    assert "Счёт на оплату № 2026-0042 от 5 марта 2026 г." in text
    assert "Поставщик (Исполнитель): ООО «Картотека», ИНН 7704123450, КПП 770401001" in text
    assert "Покупатель (Заказчик): ООО «Ромашка», ИНН 5001123452, КПП 500101001" in text
    assert "№ Товары (работы, услуги) Кол-во Ед. Цена Сумма" in text
    assert "1 Лицензия «Картотека» на 5 пользователей 1 шт 1 000,00 1 000,00" in text
    assert "2 Настройка и обучение 1,5 ч 133,67 200,51" in text
    assert "Итого: 1 200,51" in text
    assert "В том числе НДС 20 %: 200,09" in text
    assert "Всего к оплате: 1 200,51" in text
    assert f"Всего наименований 2, на сумму 1 200,51 руб. {TOTAL_WORDS}" in text
    assert "Оплатить не позднее 15.03.2026" in text
    assert "Руководитель подпись" not in text  # the name follows the line
    assert "Руководитель Орлов С. П. Бухгалтер Белова М. В." in text
    assert "Печать" in text  # the screen toolbar


def test_print_view_order_follows_the_customary_page(logged_in, invoice):
    text = text_of(logged_in.get(f"/documents/invoices/{invoice.pk}/print/").content.decode())
    marks = [
        "Банк получателя",
        "Получатель",
        "Счёт на оплату №",
        "Поставщик",
        "Покупатель",
        "Товары (работы, услуги)",
        "Итого:",
        "В том числе НДС 20 %",
        "Всего к оплате",
        "Всего наименований",
        TOTAL_WORDS,
        "Руководитель",
        "Бухгалтер",
    ]
    positions = [text.index(m) for m in marks]
    assert positions == sorted(positions)


def test_print_view_shows_added_vat_and_without_vat(logged_in, crm):
    # given
    buyer = make_counterparty()
    added = make_invoice(
        buyer,
        [("Лицензия", 1, "шт", D("1000.00"))],
        company=make_company(vat_included=False),
        number="1",
    )
    none = make_invoice(
        buyer,
        [("Лицензия", 1, "шт", D("1000.00"))],
        company=make_company(name="ИП Орлов", is_default=False, vat_rate="none"),
        number="2",
    )
    # when
    added_text = text_of(logged_in.get(f"/documents/invoices/{added.pk}/print/").content.decode())
    none_text = text_of(logged_in.get(f"/documents/invoices/{none.pk}/print/").content.decode())
    # then
    assert "Итого: 1 000,00 НДС 20 %: 200,00 Всего к оплате: 1 200,00" in added_text
    assert "В том числе" not in added_text
    assert "Одна тысяча двести рублей 00 копеек" in added_text
    assert "Итого: 1 000,00 Без НДС: — Всего к оплате: 1 000,00" in none_text


def test_stamp_and_signature_images_are_embedded_when_present(logged_in, invoice, media):
    # given
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 200, 120)).save(buffer, format="PNG")
    stamp = default_storage.save("companies/stamp/stamp.png", ContentFile(buffer.getvalue()))
    signature = default_storage.save("companies/signature/sig.png", ContentFile(buffer.getvalue()))
    from kartoteka.core.actor import Actor

    update_records(
        Actor.system("tests"),
        _table("companies"),
        {invoice.company_id: {"stamp": stamp, "signature": signature}},
    )
    # when
    html = logged_in.get(f"/documents/invoices/{invoice.pk}/print/").content.decode()
    pdf = logged_in.get(f"/documents/invoices/{invoice.pk}/pdf/").content
    # then
    assert html.count('src="data:image/png;base64,') == 2
    assert 'class="stamp"' in html and 'class="signature"' in html
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 2


def test_without_stamp_no_image_is_shown(logged_in, invoice):
    html = logged_in.get(f"/documents/invoices/{invoice.pk}/print/").content.decode()
    assert "<img" not in html


def test_pdf_is_a_pdf_with_the_number_total_and_amount_in_words(logged_in, invoice):
    # when
    response = logged_in.get(f"/documents/invoices/{invoice.pk}/pdf/")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    name = quote("Счёт №2026-0042 от 05.03.2026.pdf", safe="")
    assert response["Content-Disposition"] == (
        f"inline; filename=\"schet-2026-0042-05.03.2026.pdf\"; filename*=UTF-8''{name}"
    )
    text = pdf_text(response.content)
    assert "Счёт на оплату № 2026-0042 от 5 марта 2026 г." in text
    assert "Всего к оплате: 1 200,51" in text
    assert TOTAL_WORDS in text
    assert "Банк получателя" in text
    assert "Печать" not in text  # no screen toolbar in the PDF


def test_pdf_download_is_an_attachment(logged_in, invoice):
    response = logged_in.get(f"/documents/invoices/{invoice.pk}/pdf/?download=1")
    assert response["Content-Disposition"].startswith("attachment; ")


def test_documents_need_a_login(client, invoice):
    for kind in ("print", "pdf"):
        response = client.get(f"/documents/invoices/{invoice.pk}/{kind}/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_missing_or_trashed_invoice_is_404(logged_in, invoice, admin):
    from kartoteka.records.services import trash_records

    assert logged_in.get("/documents/invoices/999999/print/").status_code == 404
    trash_records(admin, _table("invoices"), [invoice.pk])
    assert logged_in.get(f"/documents/invoices/{invoice.pk}/print/").status_code == 404
    assert logged_in.get(f"/documents/invoices/{invoice.pk}/pdf/").status_code == 404


def test_print_and_pdf_actions_redirect_to_the_documents(logged_in, invoice):
    # when
    printed = logged_in.post(f"/t/invoices/{invoice.pk}/action/print/")
    pdf = logged_in.post(f"/t/invoices/{invoice.pk}/action/pdf/")
    # then
    assert printed.status_code == 302
    assert printed["Location"] == f"/documents/invoices/{invoice.pk}/print/"
    assert pdf["Location"] == f"/documents/invoices/{invoice.pk}/pdf/?download=1"


def test_the_invoice_card_shows_the_document_actions(logged_in, invoice):
    html = logged_in.get(f"/t/invoices/{invoice.pk}/").content.decode()
    for key in ("print", "pdf", "send_email"):
        assert f'data-action="{key}"' in html
