"""A job whose process died: the import «прервано» with exactly what it wrote, undo and
«продолжить со строки N»; an undo under way and a dry run the same (the lease of
:mod:`kartoteka.core.leases`). The process's death is real: the lease names a process that has
exited (here), or the import's process is killed with SIGKILL (``test_crash.py``)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from django.urls import reverse

from kartoteka.core import leases
from kartoteka.imports import checks, services
from kartoteka.imports.models import ImportBatch, ImportCheck
from kartoteka.imports.options import ImportSettings
from kartoteka.imports.services import resume_import, run_import, start_undo, undo_import
from kartoteka.records.models import RecordChange
from kartoteka.tables.modelfactory import model_for
from tests.imports.files import write_csv

ROWS = 25


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    """Files of this module's uploads in a folder of its own: other tests (in parallel
    workers) compare the wizard's folder before and after their own uploads."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


class Killed(BaseException):
    """What the process's death looks like to the code: no ``except Exception`` sees it."""


def dead_owner() -> str:
    """A lease owner on this host whose process has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:"


def names(table) -> list[str]:
    return list(model_for(table).objects.order_by("id").values_list("name", flat=True))


def interrupted_import(tmp_path, table, importer, settings, after: int) -> ImportBatch:
    """An import of ROWS rows in chunks of 10 whose process «dies» after ``after`` chunks."""
    settings.KARTOTEKA_IMPORT_CHUNK = 10
    rows = [["Название"]] + [[f"Фирма {i}"] for i in range(1, ROWS + 1)]
    path = write_csv(tmp_path / "c.csv", rows)

    def progress(done: int, total: int) -> None:
        if done >= after * 10:
            raise Killed

    with pytest.raises(Killed):
        run_import(importer, table, str(path), "c.csv", ImportSettings(), progress=progress)
    batch = ImportBatch.objects.get()
    assert batch.status == "running"
    ImportBatch.objects.filter(pk=batch.pk).update(lease_owner=dead_owner())
    batch.refresh_from_db()
    return batch


def test_a_dead_import_is_interrupted_with_what_it_wrote(
    tmp_path, client, counterparties, importer, manager_user, settings
):
    # given: an import whose process died after its second chunk
    batch = interrupted_import(tmp_path, counterparties, importer, settings, after=2)
    # when: its page is read
    client.force_login(manager_user)
    page = client.get(reverse("imports:batch", args=["counterparties", batch.pk])).content
    # then: «прервано», with exactly what is written, undo and resume offered
    batch.refresh_from_db()
    assert (batch.status, batch.rows_done, batch.created) == ("interrupted", 20, 20)
    assert names(counterparties) == [f"Фирма {i}" for i in range(1, 21)]
    text = page.decode()
    assert 'data-testid="interrupted">прервано<' in text
    assert (
        "Импорт прерван: остановился процесс, который его выполнял. Записаны строки файла до "
        "21 включительно (создано 20, обновлено 0); импорт можно отменить или продолжить со "
        "строки 22." in text
    )
    assert "Продолжить со строки 22" in text and 'data-testid="undo"' in text
    assert 'hx-trigger="every 1s"' not in text
    listing = client.get(reverse("imports:home", args=["counterparties"])).content.decode()
    assert "прервано" in listing


def test_resume_goes_on_from_the_first_row_not_written(
    tmp_path, client, counterparties, importer, manager_user, settings
):
    batch = interrupted_import(tmp_path, counterparties, importer, settings, after=1)
    client.force_login(manager_user)
    # when: «продолжить со строки 12»
    response = client.post(reverse("imports:batch_resume", args=["counterparties", batch.pk]))
    # then: the rest is imported once, as the same batch
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.rows_done, batch.message) == ("done", 25, 25, "")
    assert names(counterparties) == [f"Фирма {i}" for i in range(1, ROWS + 1)]
    creates = RecordChange.objects.filter(table=counterparties, source=batch.source)
    assert creates.count() == ROWS
    # and its undo removes both parts
    undo_import(importer, batch)
    assert names(counterparties) == []


def test_an_interrupted_import_can_be_undone(tmp_path, counterparties, importer, settings):
    batch = interrupted_import(tmp_path, counterparties, importer, settings, after=2)
    services.settle([batch])
    report = undo_import(importer, batch)
    assert report["deleted"] == 20
    assert names(counterparties) == []
    batch.refresh_from_db()
    assert batch.status == "undone"


def test_resume_keeps_the_files_duplicates_and_bad_rows(
    tmp_path, counterparties, importer, settings
):
    from tests.imports.files import inn

    settings.KARTOTEKA_IMPORT_CHUNK = 2
    rows = [
        ["Название", "ИНН"],
        ["А", inn(1)],
        ["Б", "12"],  # a bad INN: row 3
        ["В", inn(3)],
        ["Г", inn(1)],  # the file's duplicate of row 2, after the interruption
    ]
    path = write_csv(tmp_path / "c.csv", rows)

    def progress(done: int, total: int) -> None:
        if done >= 2:
            raise Killed

    with pytest.raises(Killed):
        run_import(
            importer, counterparties, str(path), "c.csv", ImportSettings(), progress=progress
        )
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(lease_owner=dead_owner())
    batch.refresh_from_db()
    resumed = resume_import(importer, batch)
    assert (resumed.status, resumed.created, resumed.error_count) == ("done", 2, 2)
    assert [(e["row"], e["column"]) for e in resumed.errors] == [(3, "ИНН"), (5, "ИНН")]
    assert "уже встречается в строке 2" in resumed.errors[1]["message"]
    with open(services.default_storage.path(resumed.errors_file), encoding="utf-8-sig") as f:
        lines = f.read().splitlines()
    assert [line.split(";")[0] for line in lines] == ["Строка", "3", "5"]


def test_only_an_interrupted_import_is_resumed(tmp_path, counterparties, importer):
    path = write_csv(tmp_path / "c.csv", [["Название"], ["Ромашка"]])
    result = run_import(importer, counterparties, str(path), "c.csv", ImportSettings())
    batch = ImportBatch.objects.get(pk=result.batch)
    with pytest.raises(services.KartotekaError) as refused:
        resume_import(importer, batch)
    assert refused.value.message == (
        f"Продолжить можно только прерванный импорт; импорт №{batch.pk} — «выполнен»."
    )
    assert names(counterparties) == ["Ромашка"]


def test_a_live_import_is_left_running(tmp_path, counterparties, importer, settings):
    batch = interrupted_import(tmp_path, counterparties, importer, settings, after=1)
    ImportBatch.objects.filter(pk=batch.pk).update(lease_owner=leases.me())
    batch.refresh_from_db()
    services.settle([batch])
    assert batch.status == "running"


def test_a_dead_undo_returns_the_batch_as_it_was(
    tmp_path, counterparties, importer, settings, django_capture_on_commit_callbacks
):
    batch = interrupted_import(tmp_path, counterparties, importer, settings, after=2)
    services.settle([batch])
    start_undo(importer, batch, background=True)
    # the worker took the undo and died inside its one transaction
    ImportBatch.objects.filter(pk=batch.pk).update(lease_owner=dead_owner())
    batch.refresh_from_db()
    services.settle_all()
    batch.refresh_from_db()
    assert batch.status == "interrupted"
    assert batch.message == (
        "Отмена прервана: остановился процесс, который её выполнял; ничего не отменено — "
        "отмените импорт снова."
    )
    assert len(names(counterparties)) == 20


def test_a_dead_dry_run_is_started_again(tmp_path, counterparties, importer, monkeypatch):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    monkeypatch.setattr(services, "BACKGROUND_ROWS", 2)
    path = default_storage.save(
        "imports/wizard/x/c.csv",
        ContentFile("Название\nА\nБ\nВ\n".encode()),
    )
    check = checks.check_for(importer, counterparties, path, "c.csv", ImportSettings())
    assert check is not None
    ImportCheck.objects.filter(pk=check.pk).update(status="running", lease_owner=dead_owner())
    # when: the wizard asks again
    again = checks.check_for(importer, counterparties, path, "c.csv", ImportSettings())
    # then: the dead one is gone and a new one waits for the worker
    assert again is not None and again.pk != check.pk and again.status == "pending"
    assert not ImportCheck.objects.filter(pk=check.pk).exists()
