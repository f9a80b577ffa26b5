"""``kartoteka reindex`` and the index check of ``kartoteka init``."""

from __future__ import annotations

from kartoteka.cli import main
from kartoteka.crm.setup import init
from kartoteka.search.models import SearchEntry
from tests.search.conftest import found


def test_reindex_one_table_rebuilds_its_index(counterparties, firms, capsys):
    # given: the index was lost
    SearchEntry.objects.filter(table=counterparties).delete()
    assert found(counterparties, "ромашка") == []
    # when
    code = main(["reindex", "--table", "counterparties"])
    # then
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "counterparties: 4",
        "Поисковый индекс перестроен: таблиц 1, строк 4.",
    ]
    assert found(counterparties, "ромашка") == ["ООО «Ромашка»"]


def test_reindex_of_every_table(counterparties, firms, capsys):
    # given
    SearchEntry.objects.all().delete()
    # when
    code = main(["reindex"])
    # then
    out = capsys.readouterr().out
    assert code == 0 and "counterparties: 4\n" in out and "contacts: 0\n" in out
    assert found(counterparties, "лютик") == ["Лютик"]


def test_reindex_of_an_unknown_table_fails_clearly(crm, capsys):
    # when
    code = main(["reindex", "--table", "nope"])
    # then
    assert code == 1
    assert capsys.readouterr().err == "Ошибка: Таблица «nope» не найдена.\n"


def test_init_indexes_tables_that_have_records_but_no_index(counterparties, firms, admin_user):
    # given: an installation from before search
    SearchEntry.objects.all().delete()
    # when
    created = init(verbosity=0)
    # then
    assert "search index counterparties" in created
    assert "search index employees" in created  # the admin's employee record
    assert found(counterparties, "казань") == ["ООО «Ромашка»", "Лютик"]
    # and a second init has nothing to do
    assert [c for c in init(verbosity=0) if c.startswith("search index")] == []
