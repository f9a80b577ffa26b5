"""The import wizard's pages, step by step, with real files; templates; batches; undo."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from kartoteka.core.actor import Actor
from kartoteka.imports import services
from kartoteka.imports.models import ImportBatch, ImportCheck, ImportTemplate
from kartoteka.records import services as records
from kartoteka.records.models import RecordChange
from kartoteka.tables.modelfactory import model_for
from tests.imports.files import inn, write_csv, write_xlsx

HEADER = ["Название", "ИНН", "Город", "Фамилия", "Имя"]


@pytest.fixture
def web(client, manager_user):
    client.force_login(manager_user)
    return client


def cp1251_file(tmp_path, rows):
    return write_csv(tmp_path / "clients.csv", [HEADER, *rows]).read_bytes()


def upload(web, content, name="clients.csv", **data):
    response = web.post(
        reverse("imports:home", args=["counterparties"]),
        {"file": SimpleUploadedFile(name, content), **data},
    )
    return response


def token_of(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].rstrip("/").split("/")[-1]


def step(name, token):
    return reverse(f"imports:{name}", args=["counterparties", token])


def wizard_files() -> list[str]:
    if not default_storage.exists("imports/wizard"):
        return []
    folders, _files = default_storage.listdir("imports/wizard")
    return [f for f in folders if default_storage.listdir(f"imports/wizard/{f}")[1]]


def test_the_grid_page_has_an_import_button(web, counterparties):
    page = web.get(reverse("table", args=["counterparties"])).content.decode()
    assert 'href="/t/counterparties/import/"' in page
    home = web.get(reverse("imports:home", args=["counterparties"]))
    assert home.status_code == 200
    assert "Загрузите файл" in home.content.decode()


def test_the_preview_follows_encoding_delimiter_and_header(web, tmp_path, counterparties):
    # given: a Windows-1251 file with «;»
    token = token_of(upload(web, cp1251_file(tmp_path, [["Ромашка", inn(1), "Тверь", "", ""]])))
    # then: the file step reads it with the detected options
    page = web.get(step("file", token)).content.decode()
    assert "Кодировка: Windows-1251, разделитель: «;»." in page
    assert '<td class="text-nowrap">Ромашка</td>' in page
    # when: UTF-8 is chosen, the preview is garbled
    garbled = web.get(
        step("preview", token),
        {"encoding": "utf-8", "delimiter": "auto", "options": "1", "header": "on"},
    ).content.decode()
    assert "Ромашка" not in garbled and "\ufffd" in garbled
    assert garbled.lstrip().startswith('<div id="preview"')
    # when: Windows-1251 and «,» with no header row
    plain = web.get(
        step("preview", token), {"encoding": "cp1251", "delimiter": ",", "options": "1"}
    ).content.decode()
    assert "Столбец 1" in plain and "Название;ИНН;Город;Фамилия;Имя" in plain
    # then: the choice is kept for the next steps
    settings = web.session["import_wizard"][token]["settings"]
    assert (settings["encoding"], settings["delimiter"], settings["header"]) == (
        "cp1251",
        ",",
        False,
    )


def test_xlsx_sheets_are_offered_with_their_rows(web, tmp_path, counterparties):
    path = write_xlsx(
        tmp_path / "book.xlsx",
        {"Пусто": [], "Клиенты": [["Название", "ИНН"], ["Ромашка", inn(1)]], "Ещё": [["x"]]},
    )
    token = token_of(upload(web, path.read_bytes(), "book.xlsx"))
    # then: the empty first sheet is said to be empty and the next one is read
    page = web.get(step("file", token)).content.decode()
    options = re.findall(r'<option value="(\d)"( selected)?>([^<]*)</option>', page)
    assert options == [
        ("0", "", "Пусто — 0 строк"),
        ("1", " selected", "Клиенты — 2 строки"),
        ("2", "", "Ещё — 1 строка"),
    ]
    assert "Лист «Пусто» пуст — читается лист «Клиенты»." in page
    assert '<td class="text-nowrap">Ромашка</td>' in page
    # when: another sheet is chosen (the header row picked on the first one goes with the form)
    sheet = web.get(
        step("preview", token), {"sheet": "2", "options": "1", "header": "on", "header_row": "2"}
    )
    # then: its table is found anew
    assert '<th class="text-nowrap">x</th>' in sheet.content.decode()


def test_the_whole_wizard_creates_and_updates(web, tmp_path, counterparties, manager_user):
    # given: one counterparty already in the table
    model = model_for(counterparties)
    actor = Actor.for_user(manager_user)
    old = records.create_records(
        actor, counterparties, [{"name": "Ромашка", "inn": inn(1), "city": "Тверь"}]
    )[0]
    content = cp1251_file(
        tmp_path,
        [
            ["Ромашка", inn(1), "", "Смирнов", "Олег"],
            ["Лютик", inn(2), "Казань", "Орлова", "Анна"],
            ["Василёк", "12", "Омск", "", ""],
        ],
    )
    token = token_of(upload(web, content))
    web.post(
        step("file", token),
        {"encoding": "auto", "delimiter": "auto", "header": "on", "options": "1"},
    )
    # then: the mapping is suggested from the headers
    page = web.get(step("mapping", token)).content.decode()
    assert '<option value="name" selected>' in page
    assert '<option value="inn" selected>' in page
    # when: two columns feed the comment (a text field)
    response = web.post(
        step("mapping", token),
        {"col-0": "name", "col-1": "inn", "col-2": "city", "col-3": "comment", "col-4": "comment"},
    )
    assert response["Location"] == step("duplicates", token)
    # then: the key is the table's unique field; «filled wins» is on by default
    page = web.get(step("duplicates", token)).content.decode()
    assert "«ИНН» (уникальное поле таблицы)" in page
    assert 'name="keep_filled" id="id_keep_filled" checked' in page
    web.post(step("duplicates", token), {"key": "", "on_duplicate": "update", "keep_filled": "on"})
    # then: defaults offer me as the manager and «Импорт» as the source
    page = web.get(step("defaults", token)).content.decode()
    assert f'<option value="{manager_user.pk}" selected>' in page
    assert '<option value="import" selected>' in page
    response = web.post(
        step("defaults", token),
        {"d-manager": str(manager_user.pk), "d-source": "import", "d-status": "interested"},
    )
    assert response["Location"] == step("check", token)
    # when: the dry run
    page = web.get(step("check", token)).content.decode()
    # then: totals and per-row plans, nothing written
    assert '<div class="fs-4 fw-semibold" data-testid="total-create">1</div>' in page
    assert '<div class="fs-4 fw-semibold" data-testid="total-update">1</div>' in page
    assert '<div class="fs-4 fw-semibold" data-testid="total-error">1</div>' in page
    assert (
        'Комментарий:</span> <del class="text-danger">∅</del> → '
        '<ins class="text-success text-decoration-none">Смирнов Олег</ins>' in page
    )
    assert "«12» — неверный ИНН: проверьте цифры." in page
    assert model.objects.count() == 1
    assert not ImportBatch.objects.exists()
    # when: import
    response = web.post(step("check", token), {"action": "import"})
    # then: it ran at once (a small file), the wizard's copy of the file is gone
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("imports:batch", args=["counterparties", batch.pk])
    assert (batch.status, batch.created, batch.updated, batch.error_count) == ("done", 1, 1, 1)
    assert token not in web.session["import_wizard"]
    assert token not in wizard_files()
    old.refresh_from_db()
    assert (old.city, old.comment) == ("Тверь", "Смирнов Олег")  # the empty cell kept «Тверь»
    made = model.objects.get(inn=inn(2))
    assert (made.name, made.city, made.manager_id, made.source, made.status) == (
        "Лютик",
        "Казань",
        manager_user.pk,
        "import",
        "interested",
    )
    assert RecordChange.objects.filter(source=batch.source).count() == 2
    # and the report page shows it
    page = web.get(response["Location"]).content.decode()
    assert 'data-testid="created">1<' in page and 'data-testid="updated">1<' in page
    assert "Скачать строки с ошибками" in page and "Отменить импорт" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no polling


def test_a_broken_file_is_refused_with_nothing_kept(web, counterparties):
    before = wizard_files()
    response = upload(web, b"PK\x03\x04 this is not a workbook", "clients.xlsx")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="upload-error"' in page
    assert wizard_files() == before
    assert not ImportBatch.objects.exists()
    assert "import_wizard" not in web.session
    response = upload(web, b"", "empty.csv")
    assert "Файл пуст." in response.content.decode()


@override_settings(KARTOTEKA_IMPORT_MAX_MB=1)
def test_a_file_over_the_size_cap_is_refused(web, counterparties):
    before = wizard_files()
    response = upload(web, b"a;b\n" * 300_000)
    assert response.status_code == 400
    assert (
        "Файл больше 1 МБ — такой файл загрузить нельзя. Разделите его на части или загрузите "
        "командой «kartoteka import»." in response.content.decode()
    )
    assert wizard_files() == before
    assert "import_wizard" not in web.session
    # just under the cap is fine
    assert upload(web, b"a;b\n" * 250_000).status_code == 302


def test_a_step_of_an_upload_gone_leads_back(web, tmp_path, counterparties):
    token = token_of(upload(web, cp1251_file(tmp_path, [["Ромашка", inn(1), "", "", ""]])))
    web.post(step("check", token), {"action": "import"})
    response = web.get(step("mapping", token), follow=True)
    assert response.redirect_chain == [(reverse("imports:home", args=["counterparties"]), 302)]
    assert "Загруженный файл не найден: загрузите его ещё раз." in response.content.decode()
    again = web.post(step("check", token), {"action": "import"})
    assert again.status_code == 302
    assert ImportBatch.objects.count() == 1
    hx = web.get(step("preview", token), headers={"HX-Request": "true"})
    assert (hx.status_code, hx["HX-Redirect"]) == (204, "/t/counterparties/import/")


def test_a_template_that_does_not_fit_the_file_imports_nothing(web, tmp_path, counterparties):
    template = ImportTemplate.objects.create(
        table=counterparties,
        name="Другой файл",
        settings={"mapping": [{"column": 7, "field": "name", "header": "Фирма"}]},
        headers=["Фирма"],
    )
    before = wizard_files()
    content = cp1251_file(tmp_path, [["Ромашка", inn(1), "", "", ""]])
    response = upload(web, content, template=str(template.pk), action="load")
    assert response.status_code == 400
    assert "В файле нет столбца «Фирма»." in response.content.decode()
    assert not ImportBatch.objects.exists()
    assert not model_for(counterparties).objects.exists()
    assert wizard_files() == before


def test_a_mapping_that_does_not_fit_is_explained(web, tmp_path, counterparties):
    token = token_of(upload(web, cp1251_file(tmp_path, [["Ромашка", inn(1), "Тверь", "", ""]])))
    nothing = web.post(step("mapping", token), {})
    assert nothing.status_code == 400
    assert "Сопоставьте хотя бы один столбец полю таблицы." in nothing.content.decode()
    two_to_a_user = web.post(step("mapping", token), {"col-3": "manager", "col-4": "manager"})
    assert two_to_a_user.status_code == 400
    assert "объединять можно только в текстовое поле" in two_to_a_user.content.decode()


def test_a_bad_default_is_explained(web, tmp_path, counterparties):
    token = token_of(upload(web, cp1251_file(tmp_path, [["Ромашка", inn(1), "Тверь", "", ""]])))
    web.post(step("mapping", token), {"col-0": "name", "col-1": "inn"})
    response = web.post(step("defaults", token), {"d-email": "not-an-address"})
    assert response.status_code == 400
    assert 'class="invalid-feedback"' in response.content.decode()


def test_template_saved_suggested_and_loaded_at_once(web, tmp_path, counterparties):
    # given: a wizard run saved as a template
    content = cp1251_file(tmp_path, [["Ромашка", inn(1), "Тверь", "Смирнов", "Олег"]])
    token = token_of(upload(web, content))
    web.post(step("mapping", token), {"col-0": "name", "col-1": "inn", "col-3": "comment"})
    web.post(step("duplicates", token), {"on_duplicate": "skip"})
    web.post(step("defaults", token), {"d-status": "refused"})
    response = web.post(step("check", token), {"action": "save_template", "name": "Из 1С"})
    assert response["Location"] == step("check", token)
    template = ImportTemplate.objects.get()
    assert (template.name, template.headers) == ("Из 1С", HEADER)
    assert template.settings["on_duplicate"] == "skip"
    assert template.settings["keep_filled"] is False
    assert template.settings["defaults"] == {"status": "refused"}
    assert [(m["column"], m["field"]) for m in template.settings["mapping"]] == [
        (0, "name"),
        (1, "inn"),
        (3, "comment"),
    ]
    # when: another file with the same header is uploaded, the template is suggested
    other = cp1251_file(tmp_path, [["Лютик", inn(2), "Казань", "Орлова", "Анна"]])
    token2 = token_of(upload(web, other))
    page = web.get(step("file", token2)).content.decode()
    assert "Заголовок файла совпадает с шаблоном «Из 1С»." in page
    # when: the template is chosen on the upload step and «Загрузить» pressed
    response = upload(web, other, template=str(template.pk), action="load")
    # then: imported at once with the template's settings
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("imports:batch", args=["counterparties", batch.pk])
    made = model_for(counterparties).objects.get()
    assert (made.name, made.city, made.comment, made.status) == ("Лютик", None, "Орлова", "refused")
    # when: the suggested template is applied with «Загрузить по шаблону»
    again = web.post(step("template", token2), {"template": template.pk, "action": "load"})
    # then: the same row is now a duplicate, skipped
    second = ImportBatch.objects.exclude(pk=batch.pk).get()
    assert again["Location"] == reverse("imports:batch", args=["counterparties", second.pk])
    assert (second.created, second.skipped) == (0, 1)


def test_load_without_a_template_is_refused(web, tmp_path, counterparties):
    response = upload(web, cp1251_file(tmp_path, []), action="load")
    assert response.status_code == 400
    assert "выберите шаблон импорта" in response.content.decode()


def test_undo_through_the_page(web, tmp_path, counterparties, manager_user):
    # given: an import that created one record and updated another, then one edit by hand
    actor = Actor.for_user(manager_user)
    model = model_for(counterparties)
    old = records.create_records(
        actor, counterparties, [{"name": "Ромашка", "inn": inn(1), "city": "Тверь"}]
    )[0]
    content = write_csv(
        tmp_path / "c.csv",
        [
            ["Название", "ИНН", "Город"],
            ["Ромашка", inn(1), "Омск"],
            ["Лютик", inn(2), "Казань"],
            ["Мак", inn(3), "Орёл"],
        ],
    ).read_bytes()
    token = token_of(upload(web, content))
    web.post(step("mapping", token), {"col-0": "name", "col-1": "inn", "col-2": "city"})
    web.post(step("check", token), {"action": "import"})
    batch = ImportBatch.objects.get()
    edited = model.objects.get(inn=inn(3))
    records.update_records(actor, counterparties, [(edited.pk, {"city": "Курск"})])
    # when: undo is asked for, a confirmation comes first
    undo_url = reverse("imports:batch_undo", args=["counterparties", batch.pk])
    page = web.get(undo_url).content.decode()
    assert "Отменить импорт №" in page and "Да, отменить импорт" in page
    assert model.objects.count() == 3
    # when: confirmed
    response = web.post(undo_url, follow=True)
    # then
    page = response.content.decode()
    batch.refresh_from_db()
    assert batch.status == "undone"
    assert batch.undo_report["deleted"] == 1 and batch.undo_report["restored"] == 1
    assert sorted(model.objects.values_list("name", "city")) == [
        ("Мак", "Курск"),
        ("Ромашка", "Тверь"),
    ]
    assert "удалено записей — 1, восстановлено — 1, оставлено как есть — 1." in page
    assert (
        f'href="/t/counterparties/{edited.pk}/">#{edited.pk}</a> — изменена после импорта' in page
    )
    assert "Отменить импорт</a>" not in page
    old.refresh_from_db()
    assert old.city == "Тверь"


def test_someone_else_cannot_undo(client, admin_user, web, tmp_path, counterparties):
    from kartoteka.accounts.services import create_user
    from kartoteka.core.actor import MANAGERS_GROUP

    content = cp1251_file(tmp_path, [["Ромашка", inn(1), "Тверь", "", ""]])
    token = token_of(upload(web, content))
    web.post(step("check", token), {"action": "import"})
    batch = ImportBatch.objects.get()
    other = create_user(
        Actor.system("test"), username="sidorov", password="Xk2#pLq9!vR", group=MANAGERS_GROUP
    )
    web.force_login(other)
    page = web.get(reverse("imports:batch", args=["counterparties", batch.pk])).content.decode()
    assert "Отменить импорт</a>" not in page
    web.post(reverse("imports:batch_undo", args=["counterparties", batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "done"
    assert model_for(counterparties).objects.count() == 1


def test_bad_rows_file_downloads(web, tmp_path, counterparties):
    content = cp1251_file(tmp_path, [["Ромашка", inn(1), "", "", ""], ["Лютик", "12", "", "", ""]])
    token = token_of(upload(web, content))
    web.post(step("check", token), {"action": "import"})
    batch = ImportBatch.objects.get()
    response = web.get(reverse("imports:batch_errors", args=["counterparties", batch.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="import-{batch.pk}-errors.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows == [
        ["Строка", "Ошибка", *HEADER],
        ["3", "ИНН: «12» — неверный ИНН: проверьте цифры.", "Лютик", "12", "", "", ""],
    ]


def test_a_big_file_runs_in_the_background_and_the_page_follows_it(
    web, tmp_path, counterparties, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 2)
    content = cp1251_file(tmp_path, [[f"Фирма {i}", inn(i), "", "", ""] for i in range(1, 4)])
    token = token_of(upload(web, content))
    with django_capture_on_commit_callbacks(execute=True):
        web.get(step("check", token))  # the dry run of a big file is a job too
    _run_queued_task("kartoteka.imports.tasks.run_check_task")
    page = web.get(step("check", token)).content.decode()
    assert "импорт пойдёт в фоне" in page
    with django_capture_on_commit_callbacks(execute=True):
        web.post(step("check", token), {"action": "import"})
    batch = ImportBatch.objects.get()
    url = reverse("imports:batch", args=["counterparties", batch.pk])
    # then: queued; the page polls its progress
    assert batch.status == "pending"
    page = web.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page and "ожидает начала" in page
    # and the batches list shows it
    listing = web.get(reverse("imports:home", args=["counterparties"])).content.decode()
    assert "в очереди" in listing and "clients.csv" in listing
    # when: the worker runs the queued job (as ``db_worker`` does; the worker itself closes the
    # database connection when done, which on PostgreSQL would end the test's transaction)
    [queued] = DBTaskResult.objects.all()
    import_string(queued.task_path).call(*queued.args_kwargs["args"])
    # then: the polled part reports the end and stops polling
    part = web.get(url, {"part": "progress"}, headers={"HX-Request": "true"}).content.decode()
    assert part.lstrip().startswith('<div id="report"')
    assert 'data-status="done"' in part and "every 1s" not in part
    assert ">100 %<" in part and 'data-testid="created">3<' in part


def test_a_running_batch_shows_rows_rate_and_time_left(web, counterparties, manager_user):
    import datetime as dt

    from django.utils import timezone

    from kartoteka.core import leases

    batch = ImportBatch.objects.create(
        table=counterparties,
        user=manager_user,
        file_name="big.csv",
        status=ImportBatch.RUNNING,
        rows_done=2500,
        rows_total=10_000,
        started_at=timezone.now() - dt.timedelta(seconds=10),
        **leases.lease(),  # run by a live process (this one)
    )
    url = reverse("imports:batch", args=["counterparties", batch.pk])
    part = web.get(url, {"part": "progress"}, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in part
    assert 'aria-valuenow="25"' in part and ">25 %<" in part
    # 2 500 rows in 10 s (and the moment the request takes): ~250 rows/s, ~30 s left
    shown = re.search(r"2\xa0500 из 10\xa0000 строк · (\d+) строк/с · осталось ≈ (\d+) с", part)
    assert shown is not None, part
    rate, left = int(shown[1]), int(shown[2])
    assert 200 <= rate <= 250 and 30 <= left <= 38


def _run_queued_task(path: str) -> None:
    """Run the one queued job of ``path`` as ``db_worker`` does (the worker itself closes the
    database connection when done, which on PostgreSQL would end the test's transaction)."""
    [queued] = DBTaskResult.objects.filter(task_path=path)
    import_string(queued.task_path).call(*queued.args_kwargs["args"])
    queued.delete()


def test_the_dry_run_of_a_big_file_runs_in_the_background(
    web, tmp_path, counterparties, manager_user, monkeypatch, django_capture_on_commit_callbacks
):
    # given: «big» means more than two rows here; one of the three is already in the table
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 2)
    records.create_records(
        Actor.for_user(manager_user), counterparties, [{"name": "Ромашка", "inn": inn(1)}]
    )
    content = cp1251_file(
        tmp_path,
        [
            ["Ромашка", inn(1), "Тверь", "", ""],
            ["Лютик", inn(2), "", "", ""],
            ["Мак", "12", "", "", ""],
        ],
    )
    token = token_of(upload(web, content))
    # when: the check step is opened
    with django_capture_on_commit_callbacks(execute=True):
        page = web.get(step("check", token)).content.decode()
    # then: a progress page that polls; the check is queued, not run in the request
    assert 'data-testid="checking" data-status="pending"' in page
    assert 'hx-trigger="every 1s"' in page and "ожидает начала" in page
    assert "В файле 3 строк — проверка идёт в фоне" in page
    [check] = ImportCheck.objects.all()
    assert (check.status, check.rows_total, check.user_id) == ("pending", 3, manager_user.pk)
    # when: the page is opened again, the same check is shown (not a second one)
    with django_capture_on_commit_callbacks(execute=True):
        web.get(step("check", token))
    assert ImportCheck.objects.count() == 1
    assert (
        DBTaskResult.objects.filter(task_path="kartoteka.imports.tasks.run_check_task").count() == 1
    )
    # when: the worker runs it
    _run_queued_task("kartoteka.imports.tasks.run_check_task")
    # then: the polled part asks for the whole page, which shows the result
    part = web.get(step("check", token), {"part": "progress"}, headers={"HX-Request": "true"})
    assert part["HX-Refresh"] == "true"
    page = web.get(step("check", token)).content.decode()
    assert '<div class="fs-4 fw-semibold" data-testid="total-create">1</div>' in page
    assert '<div class="fs-4 fw-semibold" data-testid="total-update">1</div>' in page
    assert '<div class="fs-4 fw-semibold" data-testid="total-error">1</div>' in page
    assert "«12» — неверный ИНН: проверьте цифры." in page
    assert (
        'Город:</span> <del class="text-danger">∅</del> → '
        '<ins class="text-success text-decoration-none">Тверь</ins>' in page
    )
    # and nothing was written
    assert model_for(counterparties).objects.count() == 1
    assert not ImportBatch.objects.exists()
    # when: the settings change, the old check goes and a new one is queued
    web.post(step("duplicates", token), {"key": "", "on_duplicate": "skip", "keep_filled": "on"})
    with django_capture_on_commit_callbacks(execute=True):
        web.get(step("check", token))
    [new] = ImportCheck.objects.all()
    assert new.pk != check.pk and new.status == "pending"
    # when: the import starts, the wizard's checks go with its copy of the file
    with django_capture_on_commit_callbacks(execute=True):
        web.post(step("check", token), {"action": "import"})
    assert not ImportCheck.objects.exists()


def test_a_check_that_fails_says_why(web, tmp_path, counterparties, monkeypatch):
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 1)
    content = cp1251_file(
        tmp_path, [["Ромашка", inn(1), "", "", ""], ["Лютик", inn(2), "", "", ""]]
    )
    token = token_of(upload(web, content))
    web.get(step("check", token))
    check = ImportCheck.objects.get()
    # when: the file cannot be read through (as a spreadsheet broken past its first rows)
    from kartoteka.imports.checks import run_check
    from kartoteka.imports.readers import ImportFileError

    def broken(*args, **kwargs):
        raise ImportFileError("Файл повреждён после строки 1.")

    monkeypatch.setattr(services, "dry_run", broken)
    run_check(check.pk)
    # then
    check.refresh_from_db()
    assert (check.status, check.message) == ("failed", "Файл повреждён после строки 1.")
    page = web.get(step("check", token)).content.decode()
    assert 'data-testid="step-error"' in page and check.message in page


def test_a_big_undo_runs_in_the_background(
    web, tmp_path, counterparties, manager_user, monkeypatch, django_capture_on_commit_callbacks
):
    # given: an import that created three records
    content = cp1251_file(tmp_path, [[f"Фирма {i}", inn(i), "", "", ""] for i in range(1, 4)])
    token = token_of(upload(web, content))
    web.post(step("check", token), {"action": "import"})
    batch = ImportBatch.objects.get()
    assert batch.created == 3
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 2)
    undo_url = reverse("imports:batch_undo", args=["counterparties", batch.pk])
    # when: undo is confirmed
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(undo_url, follow=True)
    # then: it is handed to the worker; nothing is undone yet; the page polls
    batch.refresh_from_db()
    assert (batch.status, batch.undo_total) == ("undoing", 3)
    page = response.content.decode()
    assert "отменяется в фоне" in page and 'hx-trigger="every 1s"' in page
    assert "записей, созданных и обновлённых импортом: 3" in page
    assert model_for(counterparties).objects.count() == 3
    # and a second undo is refused while it runs
    web.post(undo_url)
    assert (
        DBTaskResult.objects.filter(task_path="kartoteka.imports.tasks.undo_import_task").count()
        == 1
    )
    # when: the worker runs it
    _run_queued_task("kartoteka.imports.tasks.undo_import_task")
    # then
    batch.refresh_from_db()
    assert batch.status == "undone" and batch.undo_report["deleted"] == 3
    assert not model_for(counterparties).objects.exists()
    part = web.get(
        reverse("imports:batch", args=["counterparties", batch.pk]),
        {"part": "progress"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'data-status="undone"' in part and "every 1s" not in part
    assert f"import-undo#{batch.pk}" in set(RecordChange.objects.values_list("source", flat=True))
    assert RecordChange.objects.filter(source=f"import-undo#{batch.pk}").values_list(
        "user_id", flat=True
    ).distinct().get() in (None, manager_user.pk)


def test_a_background_undo_that_fails_leaves_everything_and_says_why(
    web, tmp_path, counterparties, manager_user, monkeypatch, django_capture_on_commit_callbacks
):
    # given: an import that changed a city, then another record took... a refused restore
    content = cp1251_file(tmp_path, [[f"Фирма {i}", inn(i), "", "", ""] for i in range(1, 4)])
    token = token_of(upload(web, content))
    web.post(step("check", token), {"action": "import"})
    batch = ImportBatch.objects.get()
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 2)
    with django_capture_on_commit_callbacks(execute=True):
        web.post(reverse("imports:batch_undo", args=["counterparties", batch.pk]))
    before = sorted(model_for(counterparties).objects.values_list("pk", "name", "inn"))

    def refuse(*args, **kwargs):
        from kartoteka.core.exceptions import RuleViolation

        raise RuleViolation("test", "Правило не позволяет удалить запись.")

    monkeypatch.setattr(services.records, "purge_records", refuse)
    # when
    _run_queued_task("kartoteka.imports.tasks.undo_import_task")
    # then: the batch is done again, with the reason, and the records are untouched
    batch.refresh_from_db()
    assert batch.status == "done"
    assert batch.message == "Импорт не отменён: Правило не позволяет удалить запись."
    assert sorted(model_for(counterparties).objects.values_list("pk", "name", "inn")) == before
    page = web.get(reverse("imports:batch", args=["counterparties", batch.pk])).content.decode()
    assert "Импорт не отменён: Правило не позволяет удалить запись." in page
    assert "Отменить импорт</a>" in page


def test_the_header_row_is_found_shown_and_chosen_by_a_click(web, tmp_path, counterparties):
    # given: a price list with a title and a period above the table, in Windows-1251
    content = write_csv(
        tmp_path / "price.csv",
        [
            ["ПРАЙС-ЛИСТ"],
            ["Период: январь 2026"],
            ["Организация", "ИНН", "Тел."],
            ["Ромашка", inn(1), "+7 912 345-67-89"],
        ],
    ).read_bytes()
    token = token_of(upload(web, content, "price.csv"))
    # then: the first rows are listed, the 3rd is marked as the header; the override lists
    # the encodings that fit, the detected one first after «auto»
    page = web.get(step("file", token)).content.decode()
    assert re.search(r'value="3" form="options-form" checked', page)
    assert '<th class="text-nowrap">Организация</th>' in page
    options = re.findall(r'<option value="([^"]+)"', page.split('id="id_encoding"')[1])
    assert options[:2] == ["auto", "cp1251"] and {"koi8-r", "cp866", "cp1252"} <= set(options)
    # when: the person clicks the 2nd row
    shown = web.get(step("preview", token), {"header_row": "2"}).content.decode()
    # then: the preview takes it as the header
    assert '<th class="text-nowrap">Период: январь 2026</th>' in shown
    # when: the 3rd row is chosen and the step sent
    response = web.post(step("file", token), {"options": "1", "header": "on", "header_row": "3"})
    assert response.status_code == 302
    # then: the mapping takes the office names of the columns
    page = web.get(step("mapping", token)).content.decode()
    selects = re.findall(r'name="col-(\d+)".*?</select>', page, re.S)
    chosen = re.findall(r'name="col-(\d+)".*?value="(\w+)" selected.*?</select>', page, re.S)
    assert (selects, chosen) == (["0", "1", "2"], [("0", "name"), ("1", "inn"), ("2", "phone")])


def test_a_file_that_is_not_russian_is_flagged_for_the_person(web, counterparties):
    content = "Name;Stadt\r\nMüller GmbH;Köln\r\nCafé Straße;Zürich\r\n".encode("latin-1")
    token = token_of(upload(web, content, "de.csv"))
    page = web.get(step("file", token)).content.decode()
    note = re.search(r'data-testid="read-note">([^<]*)<', page)
    assert note and "не похож на русский" in note.group(1)
    assert '<td class="text-nowrap">Müller GmbH</td>' in page
