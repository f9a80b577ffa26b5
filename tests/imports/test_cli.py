"""``kartoteka import`` and ``kartoteka import-undo``: the same engine, JSON for scripts."""

from __future__ import annotations

import json

from kartoteka.cli import main
from kartoteka.imports.models import ImportBatch, ImportTemplate
from kartoteka.records.services import create_records
from kartoteka.tables.modelfactory import model_for
from tests.builders import SYSTEM
from tests.imports.files import inn, write_csv, write_xlsx


def output(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def names(table) -> list[tuple[str, str | None]]:
    return list(model_for(table).objects.order_by("id").values_list("name", "city"))


def test_import_json_and_undo(tmp_path, counterparties, manager_user, capsys):
    # given
    # (the manager's own client: a manager imports only over the records he may read)
    create_records(
        SYSTEM,
        counterparties,
        [{"name": "Старая", "inn": inn(1), "city": "Тверь", "manager": manager_user.pk}],
    )
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["Название", "ИНН", "Город"],
            ["Старая", inn(1), "Казань"],
            ["Новая", inn(2), ""],
            ["Плохая", "12", ""],
        ],
    )
    # when
    code = main(["import", str(path), "--table", "counterparties", "--user", "ivanov", "--json"])
    # then
    result = output(capsys)
    batch = ImportBatch.objects.get()
    assert code == 0
    assert result == {
        "batch": batch.pk,
        "created": 1,
        "updated": 1,
        "skipped": 0,
        "errors": [
            {
                "row": 4,
                "column": "ИНН",
                "message": "«12» — неверный ИНН: проверьте цифры.",
            }
        ],
    }
    assert names(counterparties) == [("Старая", "Казань"), ("Новая", None)]
    assert batch.user == manager_user
    # when
    code = main(["import-undo", str(batch.pk), "--json"])
    # then
    assert code == 0
    assert output(capsys) == {"batch": batch.pk, "deleted": 1, "restored": 1, "kept": []}
    assert names(counterparties) == [("Старая", "Тверь")]


def test_options_map_key_skip_set_dry_run_and_template(tmp_path, counterparties, capsys):
    # given
    create_records(SYSTEM, counterparties, [{"name": "Старая", "inn": inn(1)}])
    path = write_csv(
        tmp_path / "c.txt",
        [["Старая", inn(1), "Тверь"], ["Новая", inn(2), "Омск"]],
        encoding="koi8-r",
        delimiter="\t",
    )
    args = [
        "import", str(path), "--table", "counterparties", "--encoding", "koi8-r",
        "--delimiter", "tab", "--no-header", "--map", "1=name", "--map", "2=inn",
        "--map", "3=city", "--key", "inn", "--on-duplicate", "skip", "--set", "source=Импорт",
    ]  # fmt: skip
    # when: a dry run
    code = main([*args, "--dry-run", "--json"])
    # then
    assert code == 0
    assert output(capsys) == {"batch": None, "created": 1, "updated": 0, "skipped": 1,
                              "errors": []}  # fmt: skip
    assert names(counterparties) == [("Старая", None)]
    # when: the import, saved as a template
    code = main([*args, "--save-template", "Из 1С", "--json"])
    # then
    assert code == 0
    assert output(capsys)["created"] == 1
    rows = list(model_for(counterparties).objects.order_by("id").values_list("name", "source"))
    assert rows == [("Старая", None), ("Новая", "import")]
    template = ImportTemplate.objects.get()
    assert template.name == "Из 1С"
    assert template.settings["on_duplicate"] == "skip"
    assert template.settings["defaults"] == {"source": "Импорт"}


def test_a_template_imports_at_once(tmp_path, counterparties, capsys):
    # given
    first = write_csv(tmp_path / "a.csv", [["Фирма", "Город"], ["Ромашка", "Тверь"]])
    main(["import", str(first), "--table", "counterparties", "--map", "Фирма=name",
          "--map", "Город=city", "--save-template", "Фирмы", "--json"])  # fmt: skip
    capsys.readouterr()
    second = write_csv(tmp_path / "b.csv", [["Город", "Фирма"], ["Омск", "Лютик"]])
    # when
    code = main(["import", str(second), "--table", "counterparties", "--template", "Фирмы",
                 "--json"])  # fmt: skip
    # then
    assert code == 0
    assert output(capsys)["created"] == 1
    assert names(counterparties) == [("Ромашка", "Тверь"), ("Лютик", "Омск")]


def test_xlsx_sheet_choice(tmp_path, counterparties, capsys):
    path = write_xlsx(
        tmp_path / "c.xlsx",
        {"Пусто": [["x"]], "Клиенты": [["Название", "ИНН"], ["Ромашка", int(inn(5))]]},
    )
    code = main(["import", str(path), "--table", "counterparties", "--sheet", "2", "--json"])
    assert code == 0
    assert output(capsys)["created"] == 1
    assert list(model_for(counterparties).objects.values_list("inn", flat=True)) == [inn(5)]


def test_refusals_exit_non_zero_and_write_nothing(tmp_path, counterparties, capsys):
    path = write_csv(tmp_path / "c.csv", [["Название"], ["Ромашка"]])
    bomb = tmp_path / "b.xlsx"
    bomb.write_bytes(b"not a spreadsheet")
    cases = [
        (["import", str(path), "--table", "nope", "--json"], "nope"),
        (["import", str(bomb), "--table", "counterparties", "--json"], "не таблица"),
        (["import", str(path), "--table", "counterparties", "--map", "Икс=name", "--json"],
         "нет столбца"),
        (["import", str(path), "--table", "counterparties", "--map", "Название=zzz", "--json"],
         "нет поля"),
        (["import", str(path), "--table", "counterparties", "--template", "нет", "--json"],
         "не найден"),
        (["import", str(tmp_path / "missing.csv"), "--table", "counterparties", "--json"],
         "не открывается"),
        (["import-undo", "999", "--json"], "не найден"),
    ]  # fmt: skip
    for args, message in cases:
        code = main(args)
        out = capsys.readouterr().out
        assert code == 1, args
        assert message in json.loads(out)["error"], (args, out)
    assert not model_for(counterparties).objects.exists()
    assert not ImportBatch.objects.exists()


def test_text_output(tmp_path, counterparties, capsys):
    path = write_csv(tmp_path / "c.csv", [["Название", "ИНН"], ["Ромашка", inn(1)], ["Б", "1"]])
    code = main(["import", str(path), "--table", "counterparties", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "строка 2: создание — Название: «Ромашка»" in out
    assert "строка 3: ошибка — ИНН:" in out
    assert "Создано: 1, обновлено: 0, пропущено: 0, ошибок: 1." in out


def test_header_row_option_and_the_found_header(tmp_path, counterparties, manager_user, capsys):
    # given: a bank-statement-like file: a title and an account above the table
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["Выписка по счёту"],
            ["Счёт:", "40702810900000000001"],
            ["Клиент", "ИНН"],
            ["Ромашка", inn(1)],
            ["Плохая", "12"],
        ],
    )
    # when: the header is found (the 3rd row); the bad row is named by its place in the file
    args = ["import", str(path), "--table", "counterparties", "--user", "ivanov", "--json"]
    code = main([*args, "--dry-run"])
    # then
    result = output(capsys)
    assert (code, result["created"], [e["row"] for e in result["errors"]]) == (0, 1, [5])
    # when: the header row is given (the 2nd): its names map to no field
    code = main([*args, "--header-row", "2"])
    # then
    assert code != 0
    assert "Ни один столбец файла не сопоставлен" in capsys.readouterr().err
    assert names(counterparties) == []
    # when: the 3rd
    code = main([*args, "--header-row", "3"])
    # then
    assert (code, output(capsys)["created"]) == (0, 1)
    assert names(counterparties) == [("Ромашка", None)]
