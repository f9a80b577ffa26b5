"""Batches: preview, suggestions, templates, the background job with progress, bad-rows file."""

from __future__ import annotations

import csv
import io

from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from kartoteka.imports.models import ImportBatch
from kartoteka.imports.options import ColumnMapping, ImportSettings
from kartoteka.imports.services import (
    errors_file,
    preview,
    progress_of,
    run_import,
    save_template,
    start_import,
    suggest_mapping,
    suggest_template,
)
from kartoteka.tables.modelfactory import model_for
from tests.imports.files import inn, write_csv


def test_preview_follows_the_options(tmp_path):
    path = write_csv(tmp_path / "c.csv", [["Название", "Город"], ["Ромашка", "Тверь"]])
    garbled = preview(str(path), "c.csv", ImportSettings(encoding="utf-8"))
    assert garbled.encoding == "utf-8"
    assert "\ufffd" in garbled.headers[0]
    read = preview(str(path), "c.csv", ImportSettings())
    assert (read.kind, read.encoding, read.delimiter) == ("csv", "cp1251", ";")
    assert (read.headers, read.rows) == (["Название", "Город"], [["Ромашка", "Тверь"]])
    no_header = preview(str(path), "c.csv", ImportSettings(header=False, delimiter=","))
    assert no_header.headers == ["Столбец 1"]
    assert no_header.rows == [["Название;Город"], ["Ромашка;Тверь"]]


def test_suggested_mapping_by_label_or_key(counterparties):
    mapping = suggest_mapping(["название", "INN", "Непонятно", "e-mail", "Город"], counterparties)
    assert [(m.column, m.field) for m in mapping] == [
        (0, "name"),
        (1, "inn"),
        (3, "email"),
        (4, "city"),
    ]


def test_a_template_is_suggested_by_the_files_header(counterparties, importer):
    settings = ImportSettings(mapping=[ColumnMapping(0, "name", "Фирма")], on_duplicate="skip")
    saved = save_template(importer, counterparties, "Из 1С", settings, ["Фирма", "Город"])
    assert suggest_template(counterparties, ["фирма", "ГОРОД"]) == saved
    assert suggest_template(counterparties, ["Фирма"]) is None
    assert ImportSettings.from_json(saved.settings) == settings


def test_bad_rows_file_has_the_reason_per_row(tmp_path, counterparties, importer):
    path = write_csv(
        tmp_path / "c.csv",
        [["Название", "ИНН"], ["Ромашка", inn(1)], ["Лютик", "12"], ["", inn(3)]],
    )
    result = run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    batch = ImportBatch.objects.get(pk=result.batch)
    with errors_file(batch) as handle:
        rows = list(csv.reader(io.TextIOWrapper(handle, encoding="utf-8-sig"), delimiter=";"))
    assert rows == [
        ["Строка", "Ошибка", "Название", "ИНН"],
        ["3", "ИНН: «12» — неверный ИНН: проверьте цифры.", "Лютик", "12"],
        ["4", "Название: Поле «Название» обязательно.", "", inn(3)],
    ]
    assert batch.error_count == 2
    assert batch.errors[0] == {
        "row": 3,
        "column": "ИНН",
        "message": "«12» — неверный ИНН: проверьте цифры.",
    }


def test_big_files_run_in_the_background_with_progress(
    tmp_path, counterparties, importer, django_capture_on_commit_callbacks
):
    # given
    rows = [["Название", "ИНН"]] + [[f"Фирма {i}", inn(i)] for i in range(6000)]
    content = write_csv(tmp_path / "c.csv", rows).read_bytes()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        batch = start_import(importer, counterparties, content, "c.csv", ImportSettings())
    # then: queued, nothing written yet
    assert batch.status == "pending"
    assert progress_of(batch)["percent"] == 0
    assert not model_for(counterparties).objects.exists()
    # when the worker runs the queued job (as ``db_worker`` does; the worker itself closes the
    # database connection when it is done, which would end the test's transaction)
    [queued] = DBTaskResult.objects.all()
    assert (queued.task_path, queued.args_kwargs) == (
        "kartoteka.imports.tasks.run_import_task",
        {"args": [batch.pk], "kwargs": {}},
    )
    import_string(queued.task_path).call(*queued.args_kwargs["args"])
    # then
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.rows_done, batch.rows_total) == (
        "done",
        6000,
        6000,
        6000,
    )
    progress = progress_of(batch)
    assert (progress["done"], progress["total"], progress["percent"]) == (6000, 6000, 100)
    assert progress["rate"] > 0
    assert model_for(counterparties).objects.count() == 6000


def test_small_files_run_at_once(counterparties, importer):
    content = "Название;ИНН\nРомашка;" + inn(1) + "\n"
    batch = start_import(
        importer, counterparties, content.encode("cp1251"), "c.csv", ImportSettings()
    )
    assert (batch.status, batch.created, batch.file_name) == ("done", 1, "c.csv")
    assert batch.file_path.startswith("imports/uploads/")


def test_progress_callback(tmp_path, counterparties, importer, settings):
    settings.KARTOTEKA_IMPORT_CHUNK = 10
    rows = [["Название"]] + [[f"Фирма {i}"] for i in range(25)]
    path = write_csv(tmp_path / "c.csv", rows)
    seen = []
    run_import(
        importer,
        counterparties,
        str(path),
        "c.csv",
        ImportSettings(),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(10, 25), (20, 25), (25, 25)]


def test_a_file_that_breaks_midway_leaves_nothing(tmp_path, counterparties, importer):
    # given: good rows, then a NUL byte far into the file
    path = tmp_path / "c.csv"
    lines = ["Название;ИНН"] + [f"Фирма {i};{inn(i)}" for i in range(12_000)]
    path.write_bytes(("\n".join(lines) + "\nСломано;\x00\n").encode("cp1251"))
    # when
    try:
        run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    except Exception as exc:
        error = exc
    # then
    assert "нулевые байты" in str(error)
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.message) == ("failed", str(error))
    assert not model_for(counterparties).objects.exists()


def test_a_file_over_the_size_limit_is_refused_and_not_kept(counterparties, importer, settings):
    from django.core.files.storage import default_storage

    from kartoteka.imports.readers import ImportFileError

    settings.KARTOTEKA_IMPORT_MAX_MB = 1
    content = ("Название\n" + "Ромашка\n" * 200_000).encode("cp1251")
    try:
        start_import(importer, counterparties, content, "big.csv", ImportSettings())
    except ImportFileError as exc:
        error = exc
    assert str(error) == "Файл больше 1 МБ — такой файл загрузить нельзя."
    assert not ImportBatch.objects.exists()
    assert not default_storage.exists("imports/uploads/big.csv")


def test_an_unreadable_upload_is_not_kept(counterparties, importer):
    from django.core.files.storage import default_storage

    from kartoteka.imports.readers import ImportFileError

    try:
        start_import(importer, counterparties, b"PK\x03\x04broken", "bad.xlsx", ImportSettings())
    except ImportFileError as exc:
        error = exc
    assert "повреждён" in str(error)
    assert not ImportBatch.objects.exists()
    assert not default_storage.exists("imports/uploads/bad.xlsx")


def test_a_kept_upload_is_previewed_then_imported(counterparties, importer):
    from django.core.files.storage import default_storage

    from kartoteka.imports.services import save_upload

    name = save_upload(("Название;ИНН\nРомашка;" + inn(1) + "\n").encode("cp1251"), "c.csv")
    shown = preview(default_storage.path(name), "c.csv", ImportSettings())
    assert shown.rows == [["Ромашка", inn(1)]]
    batch = start_import(importer, counterparties, name, "c.csv", ImportSettings())
    assert (batch.status, batch.created, batch.file_path) == ("done", 1, name)
