"""Names of records a user may not read never reach him, whatever the path: the form's picker,
exports, an import by title, a unique-value error and a filter on a link answer exactly as for a
record that does not exist (issue 20, hole 6).

The world (tests/access/conftest.py): the manager «own» (ivanov) may read his client «Ромашка
Иванова», not «Лютик Петрова» of the manager «peer»; «Задания» he sees all, and one of them is
linked to «Лютик Петрова».
"""

from __future__ import annotations

import pytest

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import RecordValidationError
from kartoteka.records.services import create_record
from kartoteka.tables.models import Table
from tests.access.conftest import SYSTEM

MISSING = 987654


@pytest.fixture
def leak(world):
    """The manager, his and another's client, and a task of his linked to another's client."""
    own = world.targets["own"]
    peer = world.targets["peer"]
    task = create_record(
        SYSTEM,
        Table.objects.get(key="tasks"),
        {
            "title": "Позвонить",
            "assignee": own.user.pk,
            "counterparty": peer.counterparty.pk,
        },
    )
    return own, peer, task


def test_the_pickers_title_is_blank_for_an_unreadable_record_as_for_a_missing_one(
    client, world, leak
):
    own, peer, _task = leak
    client.force_login(own.user)
    # when: the add form opened with the client in the address
    mine = client.get(f"/t/tasks/new/?counterparty={own.counterparty.pk}").content.decode()
    theirs = client.get(f"/t/tasks/new/?counterparty={peer.counterparty.pk}").content.decode()
    missing = client.get(f"/t/tasks/new/?counterparty={MISSING}").content.decode()
    # then: his own client by name; another's shows no title at all, exactly like a missing one
    assert f'data-picker-text value="{own.name}"' in mine
    assert peer.name not in theirs
    assert 'data-picker-text value=""' in theirs
    assert _without_ids(theirs, peer.counterparty.pk) == _without_ids(missing, MISSING)


def _without_ids(page: str, pk: int) -> str:
    """The counterparty's picker, with the id from the address blanked."""
    start = page.index('data-url="/lookup/counterparties/"')
    return page[start : page.index("data-picker-list", start)].replace(str(pk), "ID")


def test_the_edit_form_shows_no_title_of_an_unreadable_link_and_keeps_it(client, world, leak):
    own, peer, task = leak
    client.force_login(own.user)
    page = client.get(f"/t/tasks/{task.pk}/edit/").content.decode()
    assert peer.name not in page
    assert "Позвонить" in page


def test_an_export_blanks_links_to_unreadable_records_as_the_grid_does(world, leak):
    from kartoteka.exports.services import export_records
    from tests.exports.readers import csv_rows, read

    own, peer, _task = leak
    create_record(
        SYSTEM,
        Table.objects.get(key="tasks"),
        {"title": "Встретиться", "counterparty": own.counterparty.pk},
    )
    tasks = Table.objects.get(key="tasks")
    for fmt in ("csv", "xlsx"):
        # when
        export = export_records(
            Actor.for_user(own.user), tasks, fmt=fmt, fields=["title", "counterparty"]
        )
        data = read(export)
        # then: his own client is there, another's is blank
        if fmt == "csv":
            assert csv_rows(data)[1:] == [["Позвонить", ""], ["Встретиться", own.name]]
        else:
            assert peer.name.encode() not in data
    admin = export_records(
        Actor.for_user(world.admin), tasks, fmt="csv", fields=["title", "counterparty"]
    )
    assert csv_rows(read(admin))[1:] == [["Позвонить", peer.name], ["Встретиться", own.name]]


def test_an_import_by_title_answers_alike_for_unreadable_and_missing(tmp_path, world, leak):
    from kartoteka.imports.options import ImportSettings
    from kartoteka.imports.services import run_import
    from tests.imports.files import write_csv

    own, peer, _task = leak
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["Задание", "Контрагент"],
            ["Первое", own.name],
            ["Второе", peer.name],
            ["Третье", "Нет такого"],
        ],
    )
    tasks = Table.objects.get(key="tasks")
    # when
    result = run_import(Actor.for_user(own.user), tasks, str(path), "t.csv", ImportSettings())
    # then: his client is linked; another's and a missing one get the same message
    assert result.created == 1
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (3, "Контрагент", f"«{peer.name}» не найдено в таблице «Контрагенты»."),
        (4, "Контрагент", "«Нет такого» не найдено в таблице «Контрагенты»."),
    ]


def test_a_unique_value_error_names_only_a_record_the_user_may_read(world, leak):
    own, peer, _task = leak
    counterparties = Table.objects.get(key="counterparties")
    manager = Actor.for_user(own.user)
    # when: the INN of another manager's client, and of his own
    with pytest.raises(RecordValidationError) as theirs:
        create_record(manager, counterparties, {"name": "Новый", "inn": peer.counterparty.inn})
    with pytest.raises(RecordValidationError) as mine:
        create_record(manager, counterparties, {"name": "Новый", "inn": own.counterparty.inn})
    # then: taken either way; the number only of his own
    assert [(e.code, e.message) for e in theirs.value.errors] == [
        (
            "not_unique",
            f"Значение «{peer.counterparty.inn}» поля «ИНН» уже есть в другой записи.",
        )
    ]
    assert [e.message for e in mine.value.errors] == [
        f"Значение «{own.counterparty.inn}» поля «ИНН» уже есть в записи №{own.counterparty.pk}."
    ]


def test_an_api_filter_on_a_link_never_finds_rows_by_an_unreadable_target(world, leak):
    from tests.api.conftest import token_client

    own, peer, task = leak
    api = token_client(own.user)
    url = "/api/v1/tables/tasks/records/"

    def ids(**params):
        response = api.get(url, params)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    # when / then: by id or by title, another's client finds nothing — as a missing one does
    assert ids(counterparty=peer.counterparty.pk) == ids(counterparty=MISSING) == []
    assert ids(counterparty__in=f"{peer.counterparty.pk},{MISSING}") == []
    by_title = api.get(url, {"counterparty": peer.name})
    by_missing = api.get(url, {"counterparty": "Нет такого"})
    assert by_title.status_code == by_missing.status_code == 400
    assert by_title.json()["fields"]["counterparty"] == [
        f"«{peer.name}» не найдено в таблице «Контрагенты»."
    ]
    # and: to him the link is empty, as the grid shows it
    assert task.pk in ids(counterparty__empty="1")
    assert task.pk not in ids(counterparty__not_empty="1")
    assert task.pk in ids(counterparty__ne=peer.counterparty.pk)
    # the administrator finds it
    admin_api = token_client(world.admin)
    found = admin_api.get(url, {"counterparty": peer.counterparty.pk}).json()["results"]
    assert [r["id"] for r in found] == [task.pk]
