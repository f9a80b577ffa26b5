"""The import wizard in a real browser: a Windows-1251 «;» file read garbled as UTF-8 and right
as Windows-1251, mapped, dry-run, imported and undone by the background worker with progress.

Files up to ``BACKGROUND_ROWS`` rows are checked, imported and undone during the request; this
file is larger, so each of the three goes to the job queue and a ``kartoteka worker`` runs next
to the server for this module (``kartoteka run`` starts both in production)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from kartoteka.imports.services import BACKGROUND_ROWS
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.htmx import wait_htmx_idle
from tests.e2e.test_journey import login
from tests.imports.files import inn, write_csv

pytestmark = pytest.mark.e2e

ROWS = BACKGROUND_ROWS + 500


@pytest.fixture(scope="module")
def worker(server) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kartoteka.cli", "worker"],
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=20)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"import-wizard-{name}.png"), full_page=True)


def test_import_wizard_from_a_cp1251_file_to_undo(page, server, worker, tmp_path):
    # given: a Windows-1251 «;» file of new counterparties, more rows than an inline import,
    # under a title row
    rows = [["Клиенты на 01.12.2026"], ["Наименование клиента", "ИНН", "Город"]] + [
        [f"ООО «Импорт {i}»", inn(900_000 + i), "Тверь" if i % 2 else "Казань"] for i in range(ROWS)
    ]
    path = write_csv(tmp_path / "клиенты.csv", rows)
    login(page, server)
    page.goto(server.url + "/t/counterparties/")
    # when: «Импорт» on the grid page, the file uploaded
    page.get_by_test_id("import").click()
    expect(page.get_by_role("heading", name="Загрузите файл")).to_be_visible()
    page.set_input_files("#id_file", str(path))
    shot(page, "1-upload")
    page.get_by_role("button", name="Далее →").click()
    # then: the preview reads it with the detected Windows-1251
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("ООО «Импорт 1»")
    expect(page.get_by_test_id("detected")).to_contain_text(
        "Кодировка: Windows-1251, разделитель: «;»"
    )
    # and the table is found below the title: the 2nd row is marked as its header
    expect(page.get_by_test_id("header-row-2")).to_be_checked()
    expect(preview.locator("thead")).to_contain_text("Наименование клиента")
    # when: the title row is clicked as the header, then the right one again
    page.get_by_test_id("header-row-1").check()
    wait_htmx_idle(page)
    expect(preview.locator("thead")).to_contain_text("Клиенты на 01.12.2026")
    page.get_by_test_id("header-row-2").check()
    wait_htmx_idle(page)
    expect(preview.locator("thead")).to_contain_text("Наименование клиента")
    shot(page, "2-header-row")
    # when: UTF-8 is chosen, the preview turns garbled
    page.select_option("#id_encoding", label="UTF-8")
    wait_htmx_idle(page)
    expect(preview).not_to_contain_text("Импорт")
    expect(preview).to_contain_text("\ufffd")
    shot(page, "2-garbled")
    # when: Windows-1251 is chosen, proper Cyrillic again
    page.select_option("#id_encoding", label="Windows-1251")
    wait_htmx_idle(page)
    expect(preview).to_contain_text("ООО «Импорт 1»")
    expect(preview.locator("thead")).to_contain_text("Наименование клиента")
    shot(page, "3-preview")
    page.get_by_role("button", name="Далее →").click()
    # then: the mapping step suggests what the headers name; the rest is mapped by hand
    expect(page.locator("#col-1")).to_have_value("inn")
    expect(page.locator("#col-2")).to_have_value("city")
    expect(page.locator("#col-0")).to_have_value("")
    page.select_option("#col-0", "name")
    shot(page, "4-mapping")
    page.get_by_role("button", name="Далее →").click()
    # then: duplicates by the unique INN, «filled wins» on
    expect(page.locator("#id_key")).to_contain_text("«ИНН» (уникальное поле таблицы)")
    expect(page.get_by_label("Приоритет заполненных перед пустыми")).to_be_checked()
    shot(page, "5-duplicates")
    page.get_by_role("button", name="Далее →").click()
    # then: defaults: me as manager, «Импорт» as source
    expect(page.locator("#d-source")).to_have_value("import")
    expect(page.locator("#d-manager option:checked")).to_contain_text("(я)")
    shot(page, "6-defaults")
    page.get_by_role("button", name="Проверить →").click()
    # then: the dry run of a file this big runs in the background, the page follows it
    expect(page.get_by_test_id("checking")).to_be_visible()
    shot(page, "7-checking")
    # and then shows it: every row to be created, nothing written yet
    expect(page.get_by_test_id("total-create")).to_have_text(
        f"{ROWS:,}".replace(",", "\xa0"), timeout=60_000
    )
    expect(page.get_by_test_id("total-error")).to_have_text("0")
    dry = page.get_by_test_id("dry-run")
    expect(dry.locator("tbody tr").first).to_contain_text("создать")
    expect(dry.locator("tbody tr").first).to_contain_text("ООО «Импорт 0»")
    shot(page, "7-dry-run")
    # when: import
    page.get_by_test_id("run-import").click()
    # then: the batch page follows the background job to 100 %
    report = page.get_by_test_id("report")
    expect(page.get_by_test_id("progress")).to_be_visible()
    shot(page, "8-progress")
    seen = []
    for _ in range(240):
        value = page.get_by_test_id("progress").get_attribute("aria-valuenow")
        if not seen or seen[-1] != value:
            seen.append(value)
            if value not in ("0", "100"):
                shot(page, "8-progress-running")
        if report.get_attribute("data-status") == "done":
            # the report may have been swapped between the two reads: read the final bar too
            seen.append(page.get_by_test_id("progress").get_attribute("aria-valuenow"))
            break
        page.wait_for_timeout(250)
    percents = [int(v) for v in seen if v is not None]
    assert percents == sorted(percents) and percents[-1] == 100, percents
    expect(report).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("progress")).to_contain_text("100 %")
    expect(page.get_by_test_id("created")).to_have_text(f"{ROWS:,}".replace(",", "\xa0"))
    shot(page, "9-done")
    # and the table has them
    page.goto(server.url + "/t/counterparties/?q=" + "Импорт 4321")
    expect(page.get_by_test_id("grid")).to_contain_text("ООО «Импорт 4321»")
    # and the batch is listed on the import page
    page.goto(server.url + "/t/counterparties/import/")
    batches = page.get_by_test_id("batches")
    expect(batches).to_contain_text("выполнен")
    batches.get_by_role("link", name=re.compile("клиенты")).click()
    # when: undo, confirmed
    page.get_by_test_id("undo").click()
    expect(page.get_by_test_id("undo-confirm")).to_contain_text("Отменить импорт №")
    shot(page, "10-undo-confirm")
    page.get_by_role("button", name="Да, отменить импорт").click()
    # then: an undo this big runs in the background too, the page follows it
    expect(report).to_have_attribute("data-status", "undoing")
    expect(page.get_by_test_id("progress-text")).to_contain_text("созданных и обновлённых")
    shot(page, "11-undoing")
    # and then says what undo did
    expect(page.get_by_test_id("undo-report")).to_contain_text(
        "удалено созданных записей: " + f"{ROWS:,}".replace(",", "\xa0"), timeout=60_000
    )
    expect(report).to_have_attribute("data-status", "undone")
    shot(page, "12-undone")
    page.goto(server.url + "/t/counterparties/?q=" + "Импорт 4321")
    expect(page.get_by_test_id("grid")).not_to_contain_text("ООО «Импорт 4321»")
