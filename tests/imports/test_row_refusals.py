"""A row the importer may not write (outside his rows, refused by a rule) is a row error with
its number — predicted by the dry run — and never fails the rest of the import."""

from __future__ import annotations

import csv
import io

from django.core.files.storage import default_storage

from kartoteka.accounts.services import create_user
from kartoteka.imports.models import ImportBatch
from kartoteka.imports.options import ImportSettings
from kartoteka.imports.services import dry_run, run_import
from kartoteka.records.models import RecordChange
from kartoteka.tables.modelfactory import model_for
from tests.builders import SYSTEM
from tests.imports.files import inn, write_csv

REFUSED = "Запись вышла бы за пределы доступных вам записей таблицы «Контрагенты»."


def test_a_row_given_to_another_manager_is_a_row_error(tmp_path, counterparties, importer):
    # given: a manager (confined to his own clients) imports a file whose third row names
    # another manager
    create_user(
        SYSTEM,
        username="sidorov",
        password="Xk2#pLq9!vR",
        group="Менеджеры",
        full_name="Сидоров Пётр",
        email="s@example.ru",
    )
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["Название", "ИНН", "Менеджер"],
            ["Ромашка", inn(1), ""],
            ["Лютик", inn(2), "sidorov"],
            ["Василёк", inn(3), ""],
        ],
    )
    # when: the dry run
    planned = dry_run(importer, counterparties, str(path), "c.csv", ImportSettings())
    # then: it predicts the refusal of row 3 alone, and wrote nothing
    assert (planned.created, planned.error_count) == (2, 1)
    assert [(e.row, e.column, e.message) for e in planned.errors] == [(3, "", REFUSED)]
    assert [(p.row, p.action) for p in planned.plans] == [
        (2, "create"),
        (3, "error"),
        (4, "create"),
    ]
    assert model_for(counterparties).objects.count() == 0
    assert not RecordChange.objects.filter(table=counterparties).exists()
    # when: the import
    result = run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    # then: the same row is the one error, with its number; the rest is imported
    assert (result.created, result.error_count) == (2, 1)
    assert [(e.row, e.message) for e in result.errors] == [(3, REFUSED)]
    names = model_for(counterparties).objects.order_by("id").values_list("name", "manager_id")
    assert list(names) == [("Ромашка", importer.user.pk), ("Василёк", importer.user.pk)]
    batch = ImportBatch.objects.get(pk=result.batch)
    assert (batch.status, batch.created, batch.error_count) == ("done", 2, 1)
    with default_storage.open(batch.errors_file, "rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["Строка", "Ошибка", "Название", "ИНН", "Менеджер"],
        ["3", REFUSED, "Лютик", inn(2), "sidorov"],
    ]
