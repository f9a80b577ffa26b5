"""Build the shipped «Договор поставки» Word template (documents/shipped/contract.docx).

Run it after changing the wording: ``.venv/bin/python scripts/make_contract_docx.py``; the file is
kept in the repository. Placeholders are those of a counterparty's document (see docs/documents.md).
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

TARGET = Path(__file__).resolve().parent.parent / "src/kartoteka/documents/shipped/contract.docx"

PARAGRAPHS = [
    "{{ company.name }}, ИНН {{ company.inn }}, именуемое в дальнейшем «Поставщик», в лице "
    "генерального директора {{ company.director|genitive }}, действующего на основании Устава, "
    "с одной стороны, и {{ record.name }}, ИНН {{ record.inn }}, именуемое в дальнейшем "
    "«Покупатель», с другой стороны, заключили настоящий договор о нижеследующем.",
    "1. Предмет договора",
    "1.1. Поставщик обязуется передать в собственность Покупателя товары, а Покупатель — принять "
    "и оплатить их на условиях настоящего договора. Ассортимент, количество и цена товаров "
    "согласуются в счетах и спецификациях.",
    "2. Цена и порядок расчётов",
    "2.1. Ориентировочная сумма договора — {{ 100000|money }} руб. ({{ 100000|amount_words }}).",
    "2.2. Покупатель оплачивает товары в течение 5 банковских дней со дня выставления счёта.",
    "3. Срок действия",
    "3.1. Договор вступает в силу со дня подписания и действует до 31 декабря {{ today.year }} г.",
    "4. Реквизиты сторон",
    "Поставщик: {{ company.name }}, ИНН {{ company.inn }}, КПП {{ company.kpp }}, "
    "{{ company.address }}, р/с {{ company.account }} в {{ company.bank }}, БИК {{ company.bik }}.",
    "Покупатель: {{ record.name }}, ИНН {{ record.inn }}, {{ record.address }}, "
    "тел.: {{ record.phone }}, e-mail: {{ record.email }}.",
    "Поставщик ____________ {{ company.director|initials }}",
    "Покупатель ____________",
]


def build() -> None:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("ДОГОВОР ПОСТАВКИ № {{ number }}")
    run.bold = True
    place = doc.add_paragraph("г. Москва\t\t\t\t\t\t\t{{ today|long_date }}")
    place.alignment = WD_ALIGN_PARAGRAPH.LEFT
    for text in PARAGRAPHS:
        para = doc.add_paragraph(text)
        if text[:2] in {"1.", "2.", "3.", "4."} and len(text) < 40:
            para.runs[0].bold = True
    # Core properties are rendered too: keep them plain text.
    doc.core_properties.title = "Договор поставки"
    doc.core_properties.author = "Картотека"
    doc.save(TARGET)


if __name__ == "__main__":
    build()
    print(TARGET)
