"""Documents in a real browser: an administrator uploads a Word contract with placeholders, makes
it from a counterparty's card as DOCX and as PDF (LibreOffice), edits the HTML quote with the
live preview, and makes the acts of five ticked invoices into one ZIP."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect
from pypdf import PdfReader

from kartoteka.documents.rendering import soffice
from tests.e2e.htmx import wait_htmx_idle
from tests.e2e.test_journey import login

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots/documents")
DIRECTOR_GENITIVE = "Орлова Сергея Петровича"  # the demo company's «Орлов Сергей Петрович»
WORDS = "Сто двадцать восемь тысяч пятьсот пять рублей 00 копеек"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def contract(path: Path) -> Path:
    doc = Document()
    doc.add_paragraph("Договор № {{ number }}")
    doc.add_paragraph("Покупатель: {{ record.name }}, ИНН {{ record.inn }}")
    doc.add_paragraph("в лице {{ company.director|genitive }}")
    doc.add_paragraph("Сумма: {{ 128505|amount_words }}")
    doc.save(path)
    return path


def flat(text: str) -> str:
    return re.sub(r"[\s\u00a0]+", " ", text)


def test_contract_from_a_counterparty_and_the_quote_editor(page, server, tmp_path):
    login(page, server)
    # the administrator uploads a Word contract with placeholders
    page.goto(server.url + "/settings/documents/")
    page.fill("#id_name", "Договор с клиентом")
    page.select_option("#id_table", "counterparties")
    page.fill("#id_number_format", "ДК-{n:03}")
    page.set_input_files("#id_file", str(contract(tmp_path / "contract.docx")))
    page.get_by_role("button", name="Создать").click()
    expect(page.get_by_role("heading", name=re.compile("Договор с клиентом"))).to_be_visible()
    page.goto(server.url + "/settings/documents/")
    expect(page.get_by_test_id("templates")).to_contain_text("Договор с клиентом")
    shot(page, "list")
    page.goto(server.url + "/settings/documents/reference/?table=counterparties")
    expect(page.get_by_test_id("placeholders")).to_contain_text("record.inn")
    shot(page, "reference")

    # a counterparty with an INN: its card's «Документы» makes the contract
    page.goto(server.url + "/t/counterparties/?q=&sort=id")
    page.goto(server.url + "/t/counterparties/1/")
    name = page.get_by_test_id("record-title").inner_text().strip()
    inn = page.locator("[data-field=inn]").inner_text().strip()
    assert inn
    page.get_by_test_id("documents-button").click()
    page.get_by_label(re.compile("Договор с клиентом")).check()
    page.locator("input[name=format][value=docx]").check()
    shot(page, "generate")
    page.get_by_test_id("generate").click()
    block = page.get_by_test_id("documents")
    expect(block).to_contain_text("Договор с клиентом ДК-001")
    with page.expect_download() as download:
        block.locator("a").first.click()
    data = Path(download.value.path()).read_bytes()
    text = flat("\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs))
    assert "Договор № ДК-001" in text
    assert f"Покупатель: {name}, ИНН {inn}" in text
    assert f"в лице {DIRECTOR_GENITIVE}" in text
    assert WORDS in text
    shot(page, "card")

    if soffice() is None:
        assert os.environ.get("CI") != "true", "LibreOffice must be installed under CI"
    else:
        page.get_by_test_id("documents-button").click()
        page.get_by_label(re.compile("Договор с клиентом")).check()
        page.locator("input[name=format][value=pdf]").check()
        page.get_by_test_id("generate").click()
        expect(block).to_contain_text("ДК-002")
        with page.expect_download() as download:
            block.locator("a").first.click()
        pdf = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
        pdf_text = flat(" ".join(p.extract_text() for p in pdf.pages))
        for expected in (name, f"ИНН {inn}", DIRECTOR_GENITIVE, WORDS):
            assert expected in pdf_text

    # the HTML quote, edited with the live preview on a chosen record
    page.goto(server.url + "/settings/documents/")
    page.get_by_role("link", name="Коммерческое предложение").click()
    body = page.locator("#id_body")
    body.fill(body.input_value() + "\n<p>Скидка для {{ record.name }}: 5 %</p>")
    option = page.locator("#preview-record option").nth(1)
    chosen = option.inner_text().strip()
    page.select_option("#preview-record", option.get_attribute("value"))
    frame = page.frame_locator("[data-testid=preview-frame]")
    expect(frame.locator("body")).to_contain_text(f"Скидка для {chosen}: 5 %")
    wait_htmx_idle(page)
    expect(frame.locator("body")).to_contain_text(f"Скидка для {chosen}: 5 %")
    shot(page, "editor")
    body.fill(body.input_value() + "\n{{ config }}")
    expect(page.get_by_test_id("preview-errors")).to_contain_text("неизвестное имя «config»")
    body.fill(body.input_value().replace("\n{{ config }}", ""))
    page.get_by_role("button", name="Сохранить", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("сохранён")

    # acts of five ticked invoices in one ZIP
    page.goto(server.url + "/t/invoices/")
    boxes = page.locator("input[name=ids]")
    for index in range(5):
        boxes.nth(index).check()
    page.get_by_test_id("bulk-documents").click()
    page.get_by_label(re.compile("Акт выполненных работ")).check()
    page.locator("input[name=format][value=html]").check()
    shot(page, "bulk")
    with page.expect_download() as download:
        page.get_by_test_id("bulk-generate").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        acts = [n for n in archive.namelist() if n.startswith("Акт выполненных работ")]
    assert len(acts) == 5

    # the whole filter, over 20 clients, becomes a background job with a progress bar
    page.goto(server.url + "/t/counterparties/")
    total = int(page.locator("[data-selected-count]").get_attribute("data-total"))
    assert total > 20  # the demo company's clients
    page.locator("[data-select-page]").check()
    page.locator("[data-select-filter]").click()
    page.get_by_test_id("bulk-documents").click()
    page.get_by_label(re.compile("Коммерческое предложение")).check()
    page.locator("input[name=format][value=html]").check()
    page.get_by_test_id("bulk-generate").click()
    expect(page.get_by_test_id("progress-text")).to_contain_text(f"из {total}")
    shot(page, "batch")
