"""The read path: conditions per operator, AND/OR, quick search, ordering and subtables."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import RecordValidationError
from kartoteka.records.selectors import Condition, list_records
from kartoteka.records.services import create_records
from tests.builders import SYSTEM, make_table


@pytest.fixture
def people(db, django_user_model):
    """Five people; ``ids`` maps a name to its record id, ``user`` owns two of them."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="owner")
    other = django_user_model.objects.create_user(username="other")
    # A user reads through his access group; a table the group has no rights row for is open.
    user.groups.add(Group.objects.get_or_create(name="Менеджеры")[0])
    today = timezone.localdate()
    table = make_table(
        [
            {"key": "name", "label": "Имя", "type": "text"},
            {"key": "city", "label": "Город", "type": "text"},
            {"key": "phone", "label": "Телефон", "type": "phone"},
            {"key": "age", "label": "Возраст", "type": "integer"},
            {"key": "born", "label": "Дата", "type": "date"},
            {"key": "owner", "label": "Ответственный", "type": "user"},
        ],
        key="people",
        label="Люди",
    )
    rows = [
        {
            "name": "Acme Ltd",
            "city": "Казань",
            "phone": "+79123456789",
            "age": 30,
            "born": today,
            "owner": user.pk,
        },
        {
            "name": "Ромашка",
            "city": "Москва",
            "phone": "+74951234567",
            "age": 40,
            "born": today.replace(day=1),
            "owner": other.pk,
        },
        {
            "name": "Лютик",
            "city": "Казань",
            "age": 25,
            "born": dt.date(2020, 5, 17),
            "owner": user.pk,
        },
        {"name": "Василёк", "city": None, "age": 50, "born": dt.date(2019, 1, 1)},
        {"name": "Beta Group", "city": "Самара", "age": None},
    ]
    records = create_records(SYSTEM, table, rows)
    table.ids = {r.name: r.pk for r in records}
    table.user = user
    return table


def names(table, **kwargs) -> list[str]:
    """Names of the records found, in the order the selector returns them."""
    kwargs.setdefault("ordering", ["id"])
    return [r.name for r in list_records(kwargs.pop("actor", SYSTEM), table, **kwargs)]


def where(field: str, op: str, value=None) -> list[Condition]:
    return [Condition(field, op, value)]


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("city", "eq", "Казань", ["Acme Ltd", "Лютик"]),
        ("city", "ne", "Казань", ["Ромашка", "Василёк", "Beta Group"]),
        ("name", "contains", "ash", []),
        ("name", "contains", "me", ["Acme Ltd"]),
        ("name", "contains", "ACME", ["Acme Ltd"]),
        ("name", "contains", "тик", ["Лютик"]),
        ("name", "startswith", "beta", ["Beta Group"]),
        ("name", "startswith", "Ром", ["Ромашка"]),
        ("name", "in", ["Лютик", "Ромашка"], ["Ромашка", "Лютик"]),
        ("age", "eq", "40", ["Ромашка"]),
        ("age", "gt", "30", ["Ромашка", "Василёк"]),
        ("age", "lt", "30", ["Лютик"]),
        ("age", "gte", "30", ["Acme Ltd", "Ромашка", "Василёк"]),
        ("age", "lte", "30", ["Acme Ltd", "Лютик"]),
        ("age", "between", ("25", "40"), ["Acme Ltd", "Ромашка", "Лютик"]),
        ("age", "empty", None, ["Beta Group"]),
        ("city", "empty", None, ["Василёк"]),
        ("city", "not_empty", None, ["Acme Ltd", "Ромашка", "Лютик", "Beta Group"]),
        ("born", "eq", "17.05.2020", ["Лютик"]),
        ("born", "lt", "01.01.2020", ["Василёк"]),
        ("born", "between", ("1.1.19", "2020-12-31"), ["Лютик", "Василёк"]),
        ("phone", "eq", "8 (912) 345-67-89", ["Acme Ltd"]),
        ("phone", "contains", "495", ["Ромашка"]),
        ("phone", "contains", "912 345", ["Acme Ltd"]),
        ("phone", "contains", "8 (912) 345-67-89", ["Acme Ltd"]),
    ],
)
def test_condition_per_operator(people, field, op, value, expected):
    # when
    found = names(people, conditions=where(field, op, value))
    # then
    assert found == expected


def test_today_and_this_month(people):
    # given
    today = timezone.localdate()
    first = today.replace(day=1)
    # when
    on_today = names(people, conditions=where("born", "today"))
    this_month = names(people, conditions=where("born", "this_month"))
    # then
    assert on_today == (["Acme Ltd", "Ромашка"] if today == first else ["Acme Ltd"])
    assert this_month == ["Acme Ltd", "Ромашка"]


def test_current_user_condition(people):
    # given
    actor = Actor.for_user(people.user)
    # when
    mine = names(people, actor=actor, conditions=where("owner", "current_user"))
    # then
    assert mine == ["Acme Ltd", "Лютик"]


def test_conditions_combine_with_and_by_default(people):
    # given
    conditions = [Condition("city", "eq", "Казань"), Condition("age", "gt", "26")]
    # when
    found = names(people, conditions=conditions)
    # then
    assert found == ["Acme Ltd"]


def test_conditions_combine_with_or_when_match_any(people):
    # given
    conditions = [Condition("city", "eq", "Казань"), Condition("age", "gt", "45")]
    # when
    found = names(people, conditions=conditions, match="any")
    # then
    assert found == ["Acme Ltd", "Лютик", "Василёк"]


@pytest.mark.parametrize(
    "text", ["8 912 345-67-89", "+7 (912) 345 67 89", "89123456789", "9123456789", "345-67-89"]
)
def test_search_finds_a_phone_written_any_way(people, text):
    # when
    found = names(people, search=text)
    # then
    assert found == ["Acme Ltd"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme", ["Acme Ltd"]),
        ("ACME", ["Acme Ltd"]),
        ("aCmE ltd", ["Acme Ltd"]),
        ("GROUP", ["Beta Group"]),
        ("ltd group", []),
    ],
)
def test_search_ignores_case_of_latin_text(people, text, expected):
    # when
    found = names(people, search=text)
    # then
    assert found == expected


def test_search_needs_every_word(people):
    # when
    found = names(people, search="Казань Лют")
    both = names(people, search="Казань")
    # then
    assert found == ["Лютик"]
    assert both == ["Acme Ltd", "Лютик"]


def test_search_in_a_table_without_text_finds_nothing_for_words(db):
    # given
    table = make_table([{"key": "n", "label": "Число", "type": "integer"}], [{"n": 1}, {"n": 2}])
    # when
    found = list(list_records(SYSTEM, table, search="abc"))
    # then
    assert found == []


def test_ordering_by_field_ascending_and_descending(people):
    # when
    ascending = names(people, ordering=["age"])
    descending = names(people, ordering=["-age"])
    by_name = names(people, ordering=["name"])
    # then: empty values go last either way, on every database
    assert ascending == ["Лютик", "Acme Ltd", "Ромашка", "Василёк", "Beta Group"]
    assert descending == ["Василёк", "Ромашка", "Acme Ltd", "Лютик", "Beta Group"]
    assert by_name == ["Acme Ltd", "Beta Group", "Василёк", "Лютик", "Ромашка"]


def test_ordering_ties_are_broken_by_id(people):
    # when
    ascending = names(people, ordering=["city"])
    descending = names(people, ordering=["-city"])
    # then
    assert ascending == ["Acme Ltd", "Лютик", "Ромашка", "Beta Group", "Василёк"]
    assert descending == ["Beta Group", "Ромашка", "Лютик", "Acme Ltd", "Василёк"]


def test_subtable_rows_of_one_parent(people):
    # given
    notes = make_table(
        [
            {
                "key": "person",
                "label": "Человек",
                "type": "link",
                "link_table": people,
                "options": {"subtable": True},
            },
            {"key": "name", "label": "Текст", "type": "text"},
        ],
        [
            {"person": people.ids["Лютик"], "name": "первая"},
            {"person": people.ids["Ромашка"], "name": "чужая"},
            {"person": people.ids["Лютик"], "name": "вторая"},
        ],
        key="notes",
        label="Заметки",
    )
    # when
    found = names(notes, parent=("person", people.ids["Лютик"]))
    # then
    assert found == ["первая", "вторая"]


def test_parent_must_be_a_link_field(people):
    # when
    with pytest.raises(RecordValidationError) as caught:
        names(people, parent=("city", 1))
    # then
    assert [(e.field, e.code) for e in caught.value.errors] == [("city", "unknown_field")]


def test_archived_records_are_not_listed_by_default(people):
    # given
    from kartoteka.records.services import archive_records

    archive_records(SYSTEM, people, [people.ids["Лютик"]])
    # when
    active = names(people, conditions=where("city", "eq", "Казань"))
    archived = names(people, state="archived")
    every = names(people, state=None, conditions=where("city", "eq", "Казань"))
    # then
    assert (active, archived, every) == (["Acme Ltd"], ["Лютик"], ["Acme Ltd", "Лютик"])


def test_unknown_field_in_a_condition_is_refused(people):
    # when
    with pytest.raises(RecordValidationError) as caught:
        names(people, conditions=[Condition("city", "eq", "Казань"), Condition("zip", "eq", "1")])
    # then
    assert [(e.field, e.code, e.row, e.message) for e in caught.value.errors] == [
        ("zip", "unknown_field", 1, "Нет такого поля."),
    ]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (Condition("age", "contains", "3"), "Условие «содержит» не подходит для поля «Возраст»."),
        (Condition("age", "gt", "abc"), "«abc» — не число."),
        (Condition("born", "eq", "32.13.2025"), "«32.13.2025» — не дата; ожидается дд.мм.гггг."),
        (Condition("age", "between", "30"), "Для условия «между» нужны два значения."),
    ],
)
def test_bad_condition_is_refused_with_a_message(people, condition, message):
    # when
    with pytest.raises(RecordValidationError) as caught:
        names(people, conditions=[condition])
    # then
    assert [(e.field, e.code, e.message) for e in caught.value.errors] == [
        (condition.field, "bad_filter", message),
    ]
