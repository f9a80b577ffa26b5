"""The records service: validation, all-or-nothing batches, history, states, purge, CRM rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound, PermissionDenied, RecordValidationError
from kartoteka.records.models import RecordChange
from kartoteka.records.selectors import get_record, list_records
from kartoteka.records.services import (
    archive_records,
    create_record,
    create_records,
    purge_records,
    restore_records,
    trash_records,
    update_record,
    update_records,
)
from kartoteka.tables.modelfactory import field_of, model_for
from kartoteka.tables.models import Sequence, Table
from tests.builders import SYSTEM, make_table


@pytest.fixture
def deals(db):
    """A user table with a field of each checked kind."""
    return make_table(
        [
            {"key": "name", "label": "Название", "type": "text", "required": True},
            {"key": "inn", "label": "ИНН", "type": "text", "unique": True},
            {"key": "amount", "label": "Сумма", "type": "decimal"},
            {"key": "day", "label": "Дата", "type": "date"},
            {
                "key": "kind",
                "label": "Тип",
                "type": "choice",
                "choices": [("client", "Клиент"), ("partner", "Партнёр")],
            },
            {"key": "code", "label": "Код", "type": "text", "options": {"max_length": 5}},
        ],
        key="deals",
        label="Сделки",
    )


def rows_of(table: Table) -> list[dict]:
    model = model_for(table)
    return list(model.objects.order_by("id").values())


def history_of(table: Table) -> list[tuple]:
    return list(
        RecordChange.objects.filter(table=table)
        .order_by("id")
        .values_list("record_id", "action", "user_id", "source", "changes")
    )


def errors_of(caught) -> list[tuple]:
    return [(e.field, e.code, e.row, e.message) for e in caught.value.errors]


# -- validation ------------------------------------------------------------------------------


def test_create_records_and_history(deals):
    # when
    records = create_records(
        SYSTEM,
        deals,
        [
            {"name": "Ромашка", "amount": "1 234,5", "day": "01.02.2025"},
            {"name": "Лютик", "kind": "партнер"},
        ],
    )
    # then
    stored = [get_record(SYSTEM, deals, r.pk) for r in records]
    assert [(r.name, r.amount, r.day, r.kind, r.record_state) for r in stored] == [
        ("Ромашка", Decimal("1234.50"), dt.date(2025, 2, 1), None, "active"),
        ("Лютик", None, None, "partner", "active"),
    ]
    assert history_of(deals) == [
        (
            records[0].pk,
            "create",
            None,
            "system",
            {"name": [None, "Ромашка"], "amount": [None, "1234.50"], "day": [None, "2025-02-01"]},
        ),
        (
            records[1].pk,
            "create",
            None,
            "system",
            {"name": [None, "Лютик"], "kind": [None, "partner"]},
        ),
    ]


def test_required_field_missing_writes_nothing(deals):
    # when
    with pytest.raises(RecordValidationError) as caught:
        create_record(SYSTEM, deals, {"amount": "5"})
    # then
    assert errors_of(caught) == [("name", "required", 0, "Поле «Название» обязательно.")]
    assert rows_of(deals) == []
    assert history_of(deals) == []


def test_required_field_cleared_on_update_is_refused(deals):
    # given
    record = create_record(SYSTEM, deals, {"name": "Ромашка"})
    before = (rows_of(deals), history_of(deals))
    # when
    with pytest.raises(RecordValidationError) as caught:
        update_record(SYSTEM, deals, record.pk, {"name": "  "})
    # then
    assert errors_of(caught) == [("name", "required", 0, "Поле «Название» обязательно.")]
    assert (rows_of(deals), history_of(deals)) == before


def test_unique_value_repeated_within_batch_writes_nothing(deals):
    # when
    with pytest.raises(RecordValidationError) as caught:
        create_records(SYSTEM, deals, [{"name": "А", "inn": "A1"}, {"name": "Б", "inn": "A1"}])
    # then
    assert errors_of(caught) == [
        ("inn", "duplicate_in_batch", 1, "Значение «A1» поля «ИНН» повторяется в строке 1."),
    ]
    assert rows_of(deals) == []
    assert history_of(deals) == []


def test_unique_value_of_an_existing_record_is_refused(deals):
    # given
    existing = create_record(SYSTEM, deals, {"name": "А", "inn": "A1"})
    before = (rows_of(deals), history_of(deals))
    # when
    with pytest.raises(RecordValidationError) as caught:
        create_records(SYSTEM, deals, [{"name": "Б", "inn": "B2"}, {"name": "В", "inn": "A1"}])
    # then
    assert errors_of(caught) == [
        ("inn", "not_unique", 1, f"Значение «A1» поля «ИНН» уже есть в записи №{existing.pk}."),
    ]
    assert (rows_of(deals), history_of(deals)) == before


def test_unique_value_of_a_trashed_record_is_refused(deals):
    # given: the trash can be restored, so its values still count
    existing = create_record(SYSTEM, deals, {"name": "А", "inn": "A1"})
    trash_records(SYSTEM, deals, [existing.pk])
    before = (rows_of(deals), history_of(deals))
    # when
    with pytest.raises(RecordValidationError) as caught:
        create_record(SYSTEM, deals, {"name": "Б", "inn": "A1"})
    # then
    assert [e.code for e in caught.value.errors] == ["not_unique"]
    assert (rows_of(deals), history_of(deals)) == before


def test_update_keeping_own_unique_value_is_allowed(deals):
    # given
    record = create_record(SYSTEM, deals, {"name": "А", "inn": "A1"})
    # when
    update_record(SYSTEM, deals, record.pk, {"inn": "A1", "name": "Б"})
    # then
    assert [(r["name"], r["inn"]) for r in rows_of(deals)] == [("Б", "A1")]


@pytest.mark.parametrize(
    ("key", "value", "code", "message"),
    [
        ("day", "32.13.2025", "not_a_date", "«32.13.2025» — не дата; ожидается дд.мм.гггг."),
        ("amount", "abc", "not_a_number", "«abc» — не число."),
        (
            "kind",
            "фиолетовый",
            "unknown_choice",
            "«фиолетовый» — нет такого варианта в поле «Тип». Допустимо: «Клиент», «Партнёр».",
        ),
        ("code", "123456", "too_long", "Слишком длинный текст: 6 символов, допустимо не больше 5."),
        ("owner", "x", "unknown_field", "Нет такого поля."),
    ],
)
def test_bad_value_is_refused_with_field_and_russian_message(deals, key, value, code, message):
    # when
    with pytest.raises(RecordValidationError) as caught:
        create_record(SYSTEM, deals, {"name": "Ромашка", key: value})
    # then
    assert errors_of(caught) == [(key, code, 0, message)]
    assert rows_of(deals) == []
    assert history_of(deals) == []


def test_batch_with_one_bad_row_writes_nothing(deals):
    # given
    rows = [
        {"name": "Ромашка", "amount": "10"},
        {"name": "Лютик", "day": "32.13.2025"},
        {"name": "Василёк", "amount": "abc"},
    ]
    # when
    with pytest.raises(RecordValidationError) as caught:
        create_records(SYSTEM, deals, rows)
    # then
    assert [(e.field, e.code, e.row) for e in caught.value.errors] == [
        ("day", "not_a_date", 1),
        ("amount", "not_a_number", 2),
    ]
    assert caught.value.for_row(0) == []
    assert rows_of(deals) == []
    assert history_of(deals) == []


def test_bad_update_in_a_batch_changes_no_record(deals):
    # given
    first, second = create_records(SYSTEM, deals, [{"name": "А"}, {"name": "Б"}])
    before = (rows_of(deals), history_of(deals))
    # when
    with pytest.raises(RecordValidationError):
        update_records(SYSTEM, deals, {first.pk: {"amount": "5"}, second.pk: {"amount": "x"}})
    # then
    assert (rows_of(deals), history_of(deals)) == before


# -- update and history ----------------------------------------------------------------------


def test_update_writes_only_changed_fields_and_history(deals, manager_user):
    # given
    record = create_record(SYSTEM, deals, {"name": "Ромашка", "amount": "5", "kind": "client"})
    created = get_record(SYSTEM, deals, record.pk)
    actor = Actor.for_user(manager_user, source="form")
    name_column = field_of(deals, "name").db_column
    amount_column = field_of(deals, "amount").db_column
    # when
    with CaptureQueriesContext(connection) as queries:
        update_record(
            actor, deals, record.pk, {"name": "Ромашка", "amount": "10", "kind": "клиент"}
        )
    # then
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert amount_column in updates[0]
    assert name_column not in updates[0]
    stored = get_record(SYSTEM, deals, record.pk)
    assert (stored.name, stored.amount, stored.kind) == ("Ромашка", Decimal("10.00"), "client")
    assert stored.updated_by_id == manager_user.pk
    assert stored.updated_at > created.updated_at
    assert history_of(deals)[1:] == [
        (record.pk, "update", manager_user.pk, "form", {"amount": ["5.00", "10.00"]}),
    ]


def test_bulk_update_records_its_source(deals, manager_user):
    # given
    first, second = create_records(SYSTEM, deals, [{"name": "А"}, {"name": "Б", "day": "1.2.25"}])
    actor = Actor.for_user(manager_user).via("bulk")
    # when
    update_records(actor, deals, {first.pk: {"day": "03.02.2025"}, second.pk: {"day": None}})
    # then
    assert [(r["name"], r["day"]) for r in rows_of(deals)] == [
        ("А", dt.date(2025, 2, 3)),
        ("Б", None),
    ]
    assert history_of(deals)[2:] == [
        (first.pk, "update", manager_user.pk, "bulk", {"day": [None, "2025-02-03"]}),
        (second.pk, "update", manager_user.pk, "bulk", {"day": ["2025-02-01", None]}),
    ]


def test_update_without_change_writes_no_history(deals, manager_user):
    # given
    record = create_record(SYSTEM, deals, {"name": "Ромашка", "amount": "5", "day": "01.02.2025"})
    before = (rows_of(deals), history_of(deals))
    # when
    update_record(
        Actor.for_user(manager_user),
        deals,
        record.pk,
        {"name": " Ромашка ", "amount": "5,00", "day": "2025-02-01"},
    )
    # then
    assert (rows_of(deals), history_of(deals)) == before


def test_update_of_a_missing_record_is_refused(deals):
    # given
    record = create_record(SYSTEM, deals, {"name": "Ромашка"})
    before = (rows_of(deals), history_of(deals))
    # when
    with pytest.raises(NotFound):
        update_records(
            SYSTEM, deals, {record.pk: {"name": "Лютик"}, record.pk + 100: {"name": "x"}}
        )
    # then
    assert (rows_of(deals), history_of(deals)) == before


# -- states ----------------------------------------------------------------------------------


def _ids(qs) -> list[int]:
    return sorted(r.pk for r in qs)


def test_archive_moves_record_out_of_the_active_list(deals, manager_user):
    # given
    kept, archived = create_records(SYSTEM, deals, [{"name": "А"}, {"name": "Б"}])
    actor = Actor.for_user(manager_user)
    # when
    changed = archive_records(actor, deals, [archived.pk])
    # then
    assert changed == 1
    assert _ids(list_records(actor, deals)) == [kept.pk]
    assert _ids(list_records(actor, deals, state="archived")) == [archived.pk]
    assert history_of(deals)[2:] == [
        (archived.pk, "archive", manager_user.pk, "form", {"record_state": ["active", "archived"]}),
    ]


def test_trash_and_restore(deals):
    # given
    record = create_record(SYSTEM, deals, {"name": "А"})
    # when
    trash_records(SYSTEM, deals, [record.pk])
    trashed = get_record(SYSTEM, deals, record.pk)
    in_trash = _ids(list_records(SYSTEM, deals, state="deleted"))
    active_while_trashed = _ids(list_records(SYSTEM, deals))
    restore_records(SYSTEM, deals, [record.pk])
    # then
    assert trashed.record_state == "deleted"
    assert (in_trash, active_while_trashed) == ([record.pk], [])
    assert get_record(SYSTEM, deals, record.pk).record_state == "active"
    assert _ids(list_records(SYSTEM, deals)) == [record.pk]
    assert [(h[1], h[4]) for h in history_of(deals)[1:]] == [
        ("delete", {"record_state": ["active", "deleted"]}),
        ("restore", {"record_state": ["deleted", "active"]}),
    ]


def test_record_in_trash_cannot_be_edited(deals):
    # given
    record = create_record(SYSTEM, deals, {"name": "А"})
    trash_records(SYSTEM, deals, [record.pk])
    before = (rows_of(deals), history_of(deals))
    # when
    with pytest.raises(NotFound):
        update_record(SYSTEM, deals, record.pk, {"name": "Б"})
    # then
    assert (rows_of(deals), history_of(deals)) == before


def test_state_change_of_a_missing_record_changes_nothing(deals):
    # given
    record = create_record(SYSTEM, deals, {"name": "А"})
    before = (rows_of(deals), history_of(deals))
    # when
    with pytest.raises(NotFound):
        archive_records(SYSTEM, deals, [record.pk, record.pk + 100])
    # then
    assert (rows_of(deals), history_of(deals)) == before


# -- purge -----------------------------------------------------------------------------------


@pytest.fixture
def romashka(admin, table):
    """A counterparty with two work rows and a contact."""
    counterparty = create_record(admin, table("counterparties"), {"name": "ООО «Ромашка»"})
    work = create_records(
        admin,
        table("client_work"),
        [
            {"counterparty": counterparty.pk, "work_type": "call", "date": "01.02.2025"},
            {"counterparty": counterparty.pk, "work_type": "meeting", "date": "02.02.2025"},
        ],
    )
    contact = create_record(
        admin, table("contacts"), {"counterparty": counterparty.pk, "full_name": "Иванов Иван"}
    )
    return counterparty, work, contact


def _counts(table) -> dict[str, int]:
    keys = ("counterparties", "client_work", "contacts", "tasks")
    counts = {key: model_for(table(key)).objects.count() for key in keys}
    counts["history"] = RecordChange.objects.count()
    return counts


def test_purge_removes_record_and_its_subtable_rows(admin, table, romashka):
    # given
    counterparty, work, contact = romashka
    other = create_record(admin, table("counterparties"), {"name": "ООО «Лютик»"})
    # when
    purged = purge_records(admin, table("counterparties"), [counterparty.pk])
    # then
    assert purged == 1
    assert list(model_for(table("counterparties")).objects.values_list("pk", flat=True)) == [
        other.pk
    ]
    assert model_for(table("client_work")).objects.count() == 0
    assert model_for(table("contacts")).objects.count() == 0
    purges = set(RecordChange.objects.filter(action="purge").values_list("table__key", "record_id"))
    assert purges == {
        ("counterparties", counterparty.pk),
        ("client_work", work[0].pk),
        ("client_work", work[1].pk),
        ("contacts", contact.pk),
    }


def test_purge_by_non_admin_is_refused(manager_user, table, romashka):
    # given
    counterparty, _work, _contact = romashka
    before = _counts(table)
    # when
    with pytest.raises(PermissionDenied):
        purge_records(Actor.for_user(manager_user), table("counterparties"), [counterparty.pk])
    # then
    assert _counts(table) == before


def test_purge_clears_links_from_other_tables_even_in_trash(admin, table, romashka):
    # given
    counterparty, _work, _contact = romashka
    tasks = table("tasks")
    open_task, trashed_task = create_records(
        admin,
        tasks,
        [
            {"title": "Позвонить", "counterparty": counterparty.pk},
            {"title": "Написать", "counterparty": counterparty.pk},
        ],
    )
    trash_records(admin, tasks, [trashed_task.pk])
    # when
    purge_records(admin, table("counterparties"), [counterparty.pk])
    # then
    stored = (
        model_for(tasks).objects.order_by("id").values_list("pk", "counterparty_id", "record_state")
    )
    assert list(stored) == [(open_task.pk, None, "active"), (trashed_task.pk, None, "deleted")]
    cleared = RecordChange.objects.filter(table=tasks, action="update").order_by("record_id")
    assert list(cleared.values_list("record_id", "changes")) == [
        (open_task.pk, {"counterparty": [counterparty.pk, None]}),
        (trashed_task.pk, {"counterparty": [counterparty.pk, None]}),
    ]


# -- links, read-only fields, defaults -------------------------------------------------------


def test_link_to_a_missing_record_is_refused(admin, table):
    # given
    work = table("client_work")
    before = history_of(work)
    # when
    with pytest.raises(RecordValidationError) as caught:
        create_record(admin, work, {"counterparty": 99999, "work_type": "call"})
    # then
    assert errors_of(caught) == [
        ("counterparty", "link_not_found", 0, "Запись №99999 для поля «Контрагент» не найдена."),
    ]
    assert model_for(work).objects.count() == 0
    assert history_of(work) == before


def test_link_to_a_trashed_record_is_refused(admin, table):
    # given
    counterparties = table("counterparties")
    gone = create_record(admin, counterparties, {"name": "ООО «Ромашка»"})
    trash_records(admin, counterparties, [gone.pk])
    # when
    with pytest.raises(RecordValidationError) as caught:
        create_record(admin, table("client_work"), {"counterparty": gone.pk, "work_type": "call"})
    # then
    assert [(e.field, e.code) for e in caught.value.errors] == [("counterparty", "link_not_found")]
    assert model_for(table("client_work")).objects.count() == 0


def test_read_only_field_set_by_a_user_is_refused(manager_user, table):
    # given: his own counterparty (another's would be out of his reach, see tests/access)
    counterparty = create_record(
        SYSTEM, table("counterparties"), {"name": "ООО «Ромашка»", "manager": manager_user.pk}
    )
    work = table("client_work")
    # when
    with pytest.raises(RecordValidationError) as caught:
        create_record(
            Actor.for_user(manager_user),
            work,
            {"counterparty": counterparty.pk, "work_type": "call", "status_before": "paid"},
        )
    # then
    assert errors_of(caught) == [
        (
            "status_before",
            "read_only",
            0,
            "Поле «Статус до» заполняется автоматически и не редактируется.",
        ),
    ]
    assert model_for(work).objects.count() == 0
    assert history_of(work) == []


def test_defaults_are_applied(manager_user):
    # given
    table = make_table(
        [
            {"key": "name", "label": "Название", "type": "text"},
            {
                "key": "unit",
                "label": "Ед.",
                "type": "text",
                "default": {"kind": "constant", "value": "шт"},
            },
            {
                "key": "kind",
                "label": "Тип",
                "type": "choice",
                "choices": [("client", "Клиент"), ("partner", "Партнёр")],
                "default": {"kind": "constant", "value": "Партнёр"},
            },
            {
                "key": "owner",
                "label": "Ответственный",
                "type": "user",
                "default": {"kind": "current_user"},
            },
            {"key": "day", "label": "Дата", "type": "date", "default": {"kind": "today"}},
            {
                "key": "number",
                "label": "Номер",
                "type": "integer",
                "default": {"kind": "autonumber"},
            },
        ],
    )
    actor = Actor.for_user(manager_user)
    # when
    create_records(actor, table, [{"name": "А"}, {"name": "Б", "unit": "кг", "number": 100}])
    create_record(actor, table, {"name": "В", "owner": None})
    # then
    today = timezone.localdate()
    assert [
        (r["name"], r["unit"], r["kind"], r["owner_id"], r["day"], r["number"])
        for r in rows_of(table)
    ] == [
        ("А", "шт", "partner", manager_user.pk, today, 1),
        ("Б", "кг", "partner", manager_user.pk, today, 100),
        ("В", "шт", "partner", None, today, 2),
    ]


def test_now_default_stamps_the_current_time(manager_user):
    # given
    table = make_table(
        [
            {"key": "name", "label": "Название", "type": "text"},
            {
                "key": "received",
                "label": "Получено",
                "type": "datetime",
                "default": {"kind": "now"},
            },
        ],
    )
    given = dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC)
    # when
    before = timezone.now()
    create_records(
        Actor.for_user(manager_user), table, [{"name": "А"}, {"name": "Б", "received": given}]
    )
    after = timezone.now()
    # then
    stamped, kept = [(r["name"], r["received"]) for r in rows_of(table)]
    assert stamped[0] == "А" and before <= stamped[1] <= after
    assert kept == ("Б", given)


def test_refused_batch_does_not_use_up_autonumbers(db):
    # given
    table = make_table(
        [
            {"key": "name", "label": "Название", "type": "text", "required": True},
            {
                "key": "number",
                "label": "Номер",
                "type": "integer",
                "default": {"kind": "autonumber"},
            },
        ],
    )
    # when
    with pytest.raises(RecordValidationError):
        create_records(SYSTEM, table, [{"name": "А"}, {}])
    record = create_record(SYSTEM, table, {"name": "Б"})
    # then
    assert get_record(SYSTEM, table, record.pk).number == 1
    assert list(Sequence.objects.values_list("value", flat=True)) == [1]


# -- CRM rules -------------------------------------------------------------------------------


def test_done_work_row_sets_the_counterparty_status(manager_user, table):
    # given
    counterparties = table("counterparties")
    actor = Actor.for_user(manager_user, source="form")
    counterparty = create_record(actor, counterparties, {"name": "ООО «Ромашка»"})
    # when
    row = create_record(
        actor,
        table("client_work"),
        {
            "counterparty": counterparty.pk,
            "work_type": "call",
            "done": True,
            "status": "Заинтересован",
            "date": "01.02.2025",
        },
    )
    # then
    stored_row = get_record(actor, table("client_work"), row.pk)
    assert (stored_row.status_before, stored_row.status) == ("cold", "interested")
    assert get_record(actor, counterparties, counterparty.pk).status == "interested"
    assert history_of(counterparties)[1:] == [
        (
            counterparty.pk,
            "update",
            manager_user.pk,
            "form:status",
            {"status": ["cold", "interested"]},
        ),
    ]


def test_work_row_not_done_keeps_the_counterparty_status(manager_user, table):
    # given
    counterparties = table("counterparties")
    actor = Actor.for_user(manager_user)
    counterparty = create_record(actor, counterparties, {"name": "ООО «Ромашка»"})
    # when
    row = create_record(
        actor,
        table("client_work"),
        {"counterparty": counterparty.pk, "work_type": "call", "status": "interested"},
    )
    # then
    assert get_record(actor, table("client_work"), row.pk).status_before == "cold"
    assert get_record(actor, counterparties, counterparty.pk).status == "cold"


def test_a_big_batch_of_every_field_type_is_written_and_read_back(table, admin_user):
    # The bulk write path (batches of 50 rows and more) writes every type as a single-row
    # write would.
    counterparties = table("counterparties")
    [partner] = create_records(SYSTEM, counterparties, [{"name": "Поставщик"}])
    goods = make_table(
        [
            {"key": "name", "label": "Название", "type": "text"},
            {"key": "qty", "label": "Количество", "type": "integer"},
            {"key": "price", "label": "Цена", "type": "decimal"},
            {"key": "total", "label": "Сумма", "type": "money"},
            {"key": "day", "label": "Дата", "type": "date"},
            {"key": "moment", "label": "Отгружено", "type": "datetime"},
            {"key": "flag", "label": "В наличии", "type": "boolean"},
            {"key": "kind", "label": "Вид", "type": "choice", "choices": [("a", "А"), ("b", "Б")]},
            {"key": "tags", "label": "Метки", "type": "multi_choice",
             "choices": [("new", "Новинка"), ("sale", "Распродажа")]},
            {"key": "partner", "label": "Поставщик", "type": "link", "link_table": counterparties},
            {"key": "owner", "label": "Ответственный", "type": "user"},
            {"key": "phone", "label": "Телефон", "type": "phone"},
            {"key": "note", "label": "Заметка", "type": "long_text"},
        ],
        key="goods",
        label="Товары",
    )  # fmt: skip
    rows = [
        {
            "name": f"Товар {i}",
            "qty": i,
            "price": "1 234,5",
            "total": "10",
            "day": "31.12.2025",
            "moment": "2025-12-31 10:00",
            "flag": i % 2 == 0,
            "kind": "a",
            "tags": ["new", "sale"],
            "partner": partner.pk,
            "owner": admin_user.pk,
            "phone": "8 912 345-67-89",
            "note": "строка 1\nстрока 2",
        }
        for i in range(60)
    ] + [{"name": "Пустой"}]
    # when
    created = create_records(SYSTEM, goods, rows)
    # then
    model = model_for(goods)
    stored = list(model.objects.order_by("id"))
    assert [r.pk for r in created] == [r.pk for r in stored]
    first, last = stored[0], stored[-1]
    assert (first.name, first.qty, first.price, first.day, first.flag) == (
        "Товар 0", 0, Decimal("1234.50"), dt.date(2025, 12, 31), True,
    )  # fmt: skip
    assert (first.kind, first.tags, first.partner_id, first.owner_id, first.phone) == (
        "a", ",new,sale,", partner.pk, admin_user.pk, "+79123456789",
    )  # fmt: skip
    assert first.moment is not None
    assert stored[1].flag is False
    assert (last.name, last.qty, last.tags, last.record_state) == ("Пустой", None, None, "active")
    assert RecordChange.objects.filter(table=goods).count() == 61
