"""Hostile spreadsheets and text files: small to send, huge to parse. Each is refused with a
clear message within 10 s and 256 MiB — measured on a real child process (its peak RSS, which
counts what python-calamine allocates in C), in the reading path the wizard and the CLI share;
the wizard and the CLI then show the same message."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kartoteka.cli import main
from kartoteka.imports.models import ImportBatch
from kartoteka.tables.modelfactory import model_for
from tests.imports import files
from tests.imports.files import inn, write_xlsx

SECONDS = 10
MEMORY = 256 * 2**20
#: The child may not go past this even when the check fails (so a regression cannot take the
#: machine's memory); the assertion is on its peak RSS.
SAFETY = 2 * 2**30


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    """Files of this module's uploads in a folder of its own: other tests (in parallel
    workers) compare the wizard's folder before and after their own uploads."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


CHILD = """
import json, sys, time
from kartoteka.cli import _setup
_setup()
from kartoteka.imports import services
from kartoteka.imports.options import ImportSettings
from kartoteka.imports.readers import ImportFileError
path, name = sys.argv[1], sys.argv[2]
started = time.monotonic()
try:
    services.preview(path, name, ImportSettings())
    table_file = services.open_file(path, name, ImportSettings())
    table_file.count_rows()
    rows = sum(1 for _row in table_file.raw_rows())
    answer = {"rows": rows}
except ImportFileError as exc:
    answer = {"refused": exc.message}
seconds = time.monotonic() - started
# The peak RSS of this process image (VmHWM): what calamine allocated in C counts; the pages of
# the forked test worker it started as do not (``ru_maxrss`` keeps those across exec).
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({**answer, "seconds": seconds, "peak_kib": peak}))
"""

SIZE = (
    "Лист слишком велик для импорта из таблицы: для чтения нужно около {need} МБ памяти, а "
    "допустимо 256 МБ. Сохраните лист как CSV (CSV читается по строкам и может быть любого "
    "размера) или разделите файл."
)


def read_in_child(path: Path, tmp_path: Path) -> tuple[dict, float, int]:
    """Preview, count and read ``path`` in a fresh process: (its answer, the seconds the
    reading took in it — the process's start and Django's set-up are not the refusal's —, and
    the process's peak RSS)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (SAFETY, SAFETY))

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "KARTOTEKA_DATA_DIR": str(tmp_path / "child-data"),
    }
    env.pop("DATABASE_URL", None)
    out, err = tmp_path / "child.out", tmp_path / "child.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), path.name],
            stdout=stdout,
            stderr=stderr,
            env=env,
            preexec_fn=limit,
        )
    try:
        child.wait(timeout=120)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    assert child.returncode == 0, err.read_text()[-3000:]
    answer = json.loads(out.read_text())
    return answer, answer.pop("seconds"), answer.pop("peak_kib") * 1024


HOSTILE = {
    "xlsx-corners.xlsx": (
        lambda p: files.xlsx_corners(p),
        "В листе 16384 столбцов (ячейка со значением в столбце №16384) — импортировать можно "
        "не больше 1000. Удалите лишние столбцы.",
    ),
    "xlsx-dimension.xlsx": (
        lambda p: files.write_raw_xlsx(p, [(1, [(1, "<v>1</v>", "")])], dimension="A1:ALL200000"),
        SIZE.format(need=6103),
    ),
    "xlsx-far-corner.xlsx": (
        lambda p: files.xlsx_corners(p, "ALL200000"),
        SIZE.format(need=6103),
    ),
    "xlsx-dense.xlsx": (
        lambda p: files.xlsx_dense(p, 5_000, 100, text_length=2000),
        None,  # refused for its size, the estimate depends on where the scan stopped
    ),
    "ods-repeated.ods": (
        lambda p: files.ods_repeated(p, 1_048_575, 300),
        None,
    ),
    "ods-repeated-numbers.ods": (
        lambda p: files.ods_repeated(p, 1_048_575, 200, number=True),
        SIZE.format(need=23999),
    ),
    "xls-corners.xls": (
        lambda p: files.xls_corners(p),
        SIZE.format(need=512),
    ),
    "blank-lines.csv": (
        lambda p: files.csv_blank_lines(p, 100),
        "В файле больше 100\xa0000 пустых строк подряд (после строки 1) — удалите их и "
        "загрузите файл снова.",
    ),
    "wide.csv": (
        lambda p: files.csv_wide(p, 20_000),
        "В строке 1 файла 20\xa0000 столбцов — импортировать можно не больше 1000. Проверьте "
        "разделитель или удалите лишние столбцы.",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_refused_in_time_and_memory(name, tmp_path):
    build, message = HOSTILE[name]
    path = build(tmp_path / name)
    # when
    answer, seconds, rss = read_in_child(path, tmp_path)
    # then
    assert "refused" in answer, answer
    if message is not None:
        assert answer["refused"] == message
    else:
        assert answer["refused"].startswith("Лист слишком велик для импорта из таблицы")
    assert seconds <= SECONDS, seconds
    assert rss <= MEMORY, rss / 2**20


def test_a_big_legit_sheet_still_reads(tmp_path):
    # given: 50,000 rows × 8 columns, strings and numbers (the benchmark's shape)
    path = files.xlsx_dense(tmp_path / "big.xlsx", 50_000, 8)
    # when
    answer, _seconds, rss = read_in_child(path, tmp_path)
    # then
    assert answer == {"rows": 50_000}
    assert rss <= MEMORY, rss / 2**20


def test_the_cli_and_the_wizard_say_why(tmp_path, client, manager_user, counterparties, capsys):
    path = files.xlsx_corners(tmp_path / "corners.xlsx")
    message = HOSTILE["xlsx-corners.xlsx"][1]
    # the CLI
    code = main(["import", str(path), "--table", "counterparties", "--user", "ivanov", "--json"])
    assert code != 0
    assert message in capsys.readouterr().err
    # the wizard
    client.force_login(manager_user)
    response = client.post(
        reverse("imports:home", args=["counterparties"]),
        {"file": SimpleUploadedFile("corners.xlsx", path.read_bytes())},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()
    assert not model_for(counterparties).objects.exists()


def test_legit_files_still_import_through_the_checks(tmp_path, counterparties, importer):
    from kartoteka.imports.options import ImportSettings
    from kartoteka.imports.services import run_import

    path = write_xlsx(tmp_path / "ok.xlsx", {"Клиенты": [["Название", "ИНН"], ["Ромашка", inn(1)]]})
    result = run_import(importer, counterparties, str(path), "ok.xlsx", ImportSettings())
    assert (result.created, result.errors) == (1, [])
