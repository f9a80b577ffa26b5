"""The contract every registered field type fulfils, and the Russian formats the types read.

One representative value per type goes through the whole surface: the form field, ``parse`` and
``clean``, the write and the read of the records service, ``display``, JSON, the API serializer
and every filter operator the type offers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils import timezone

from kartoteka.core.actor import Actor
from kartoteka.records.selectors import Condition, get_record, list_records
from kartoteka.records.services import create_record
from kartoteka.tables.fieldtypes import field_types
from kartoteka.tables.fieldtypes.base import VALUELESS_OPERATORS
from kartoteka.tables.fieldtypes.date import period_bounds
from kartoteka.tables.modelfactory import field_of, model_for
from tests.builders import SYSTEM, make_table

NBSP = "\u00a0"
MOSCOW_1030 = dt.datetime(2025, 2, 1, 7, 30, tzinfo=dt.UTC)  # 10:30 in Moscow


@dataclass
class Case:
    """A table with one field ``f`` of a type, and a representative value of that type."""

    table: Any
    field: Any
    value: Any  # the stored value
    text: str  # how people write it (a file cell, a filter input)
    shown: str  # what display() gives
    as_json: Any  # what to_json() gives
    form_data: Any  # what a browser posts for it
    part: str = ""  # a beginning of the value, for contains/startswith
    actor: Actor = SYSTEM


def _one_field_table(type_key: str, **spec: Any):
    return make_table([{"key": "f", "label": "Значение", "type": type_key, **spec}])


def _v(value, text, shown, as_json, form_data, part="") -> dict[str, Any]:
    return {"value": value, "text": text, "shown": shown, "as_json": as_json,
            "form_data": form_data, "part": part}  # fmt: skip


#: type → (stored value, written text, display, JSON, what a browser posts, a beginning).
SIMPLE = {
    "text": _v("Ромашка", " Ромашка ", "Ромашка", "Ромашка", "Ромашка", "Ром"),
    "long_text": _v("Первая строка\nвторая", "Первая строка\r\nвторая", "Первая строка\nвторая",
                    "Первая строка\nвторая", "Первая строка\nвторая", "Первая"),
    "integer": _v(1234, "1 234", f"1{NBSP}234", 1234, "1 234"),
    "decimal": _v(Decimal("1234.56"), "1 234,56", f"1{NBSP}234,56", "1234.56", "1 234,56"),
    "money": _v(Decimal("1234.56"), "1 234,56 ₽", f"1{NBSP}234,56{NBSP}₽", "1234.56", "1234,56"),
    "date": _v(dt.date(2025, 2, 1), "01.02.2025", "01.02.2025", "2025-02-01", "01.02.2025"),
    "datetime": _v(MOSCOW_1030, "01.02.2025 10:30", "01.02.2025 10:30",
                   "2025-02-01T10:30:00+03:00", "01.02.2025 10:30"),
    "boolean": _v(True, "да", "Да", True, "on"),
    "email": _v("Info@example.ru", "<Info@EXAMPLE.ru>", "Info@example.ru", "Info@example.ru",
                "Info@example.ru", "Info@exa"),
    "phone": _v("+79123456789", "8 (912) 345-67-89", "+7 912 345-67-89", "+79123456789",
                "8 912 345 67 89", "912 345"),
    "url": _v("https://example.ru", "example.ru", "https://example.ru", "https://example.ru",
              "https://example.ru", "https://exa"),
    "file": _v("docs/report.pdf", "docs\\report.pdf", "report.pdf", "docs/report.pdf", None),
}  # fmt: skip


def _case(type_key: str) -> Case:
    """Build the table and the representative value of ``type_key``."""
    if type_key in SIMPLE:
        table = _one_field_table(type_key)
        case = Case(table, field_of(table, "f"), **SIMPLE[type_key])
        if type_key == "file":
            case.form_data = SimpleUploadedFile("report.pdf", b"%PDF-1.4")
        return case
    if type_key == "choice":
        table = _one_field_table(type_key, choices=[("client", "Клиент"), ("partner", "Партнёр")])
        return Case(
            table, field_of(table, "f"), "partner", "партнер", "Партнёр", "partner", "partner"
        )
    if type_key == "multi_choice":
        table = _one_field_table(
            type_key, choices=[("red", "Красный"), ("green", "Зелёный"), ("blue", "Синий")]
        )
        return Case(
            table,
            field_of(table, "f"),
            ",red,blue,",
            "синий; Красный",
            "Красный, Синий",
            ["red", "blue"],
            ["red", "blue"],
            "синий",
        )
    if type_key == "link":
        target = make_table(
            [{"key": "name", "label": "Название", "type": "text"}],
            [{"name": "Ромашка"}, {"name": "Лютик"}],
            key="targets",
            label="Цели",
        )
        pk = model_for(target).objects.get(name="Ромашка").pk
        table = _one_field_table(type_key, link_table=target)
        return Case(table, field_of(table, "f"), pk, "ромашка", "Ромашка", pk, str(pk))
    if type_key == "user":
        from django.contrib.auth.models import Group

        user = get_user_model().objects.create_user(
            username="petrov", first_name="Пётр", last_name="Петров"
        )
        # Reads go through his access group (a new table is open to every group).
        user.groups.add(Group.objects.get_or_create(name="Менеджеры")[0])
        table = _one_field_table(type_key)
        return Case(
            table,
            field_of(table, "f"),
            user.pk,
            "petrov",
            "Петров Пётр",
            user.pk,
            str(user.pk),
            actor=Actor.for_user(user),
        )
    raise AssertionError(f"no representative value for field type {type_key!r}")


ALL_TYPES = sorted(field_types)


def test_every_registered_type_has_a_case(db):
    # given
    covered = {
        "text",
        "long_text",
        "integer",
        "decimal",
        "money",
        "date",
        "datetime",
        "boolean",
        "email",
        "phone",
        "url",
        "file",
        "choice",
        "multi_choice",
        "link",
        "user",
    }
    # when
    registered = set(field_types)
    # then
    assert registered == covered


@pytest.mark.parametrize("type_key", ALL_TYPES)
def test_value_round_trips_through_parse_clean_write_and_read(db, type_key):
    # given
    case = _case(type_key)
    ftype = case.field.field_type
    # when
    parsed = ftype.parse(case.field, case.text)
    cleaned = ftype.clean(case.field, parsed)
    record = create_record(SYSTEM, case.table, {"f": cleaned})
    stored = get_record(SYSTEM, case.table, record.pk)
    # then
    attname = type(stored)._meta.get_field("f").attname
    assert parsed == case.value
    assert cleaned == case.value
    assert getattr(stored, attname) == case.value


@pytest.mark.parametrize("type_key", ALL_TYPES)
def test_text_input_is_stored_as_the_value(db, type_key):
    # given
    case = _case(type_key)
    # when
    record = create_record(SYSTEM, case.table, {"f": case.text})
    # then
    stored = get_record(SYSTEM, case.table, record.pk)
    assert getattr(stored, type(stored)._meta.get_field("f").attname) == case.value


@pytest.mark.parametrize("type_key", ALL_TYPES)
def test_form_field_reads_what_a_browser_posts(db, type_key):
    # given
    case = _case(type_key)
    ftype = case.field.field_type
    form_class = type("F", (forms.Form,), {"f": ftype.form_field(case.field)})
    if type_key == "file":
        form = form_class(data={}, files={"f": case.form_data})
    else:
        form = form_class(data={"f": case.form_data})
    # when
    valid = form.is_valid()
    # then
    assert valid, form.errors
    if type_key == "file":
        assert isinstance(form.cleaned_data["f"], UploadedFile)
        assert form.cleaned_data["f"].name == "report.pdf"
    else:
        assert ftype.clean(case.field, form.cleaned_data["f"]) == case.value


@pytest.mark.parametrize("type_key", ALL_TYPES)
def test_display_uses_russian_conventions(db, type_key):
    # given
    case = _case(type_key)
    # when
    shown = case.field.field_type.display(case.field, case.value)
    empty = case.field.field_type.display(case.field, None)
    # then
    assert shown == case.shown
    assert empty == ("Нет" if type_key == "boolean" else "")


@pytest.mark.parametrize("type_key", ALL_TYPES)
def test_json_round_trip(db, type_key):
    # given
    case = _case(type_key)
    ftype = case.field.field_type
    # when
    data = ftype.to_json(case.field, case.value)
    back = ftype.from_json(case.field, json.loads(json.dumps(data)))
    # then
    assert data == case.as_json
    assert back == case.value


@pytest.mark.parametrize("type_key", ALL_TYPES)
def test_serializer_field_accepts_the_json_value(db, type_key):
    # given
    case = _case(type_key)
    ftype = case.field.field_type
    serializer_field = ftype.serializer_field(case.field)
    # when
    validated = serializer_field.run_validation(ftype.to_json(case.field, case.value))
    # then
    assert ftype.clean(case.field, validated) == case.value


def _expected_match(case: Case, op: str) -> bool:
    if op in ("eq", "gte", "lte", "between", "not_empty", "in", "contains", "startswith"):
        return True
    if op in ("ne", "gt", "lt", "empty"):
        return False
    if op == "current_user":
        return case.actor.user_id == case.value
    if op in ("today", "this_week", "this_month"):
        day = case.value if isinstance(case.value, dt.date) else None
        if isinstance(case.value, dt.datetime):
            day = timezone.localtime(case.value).date()
        start, end = period_bounds(op)
        return start <= day <= end
    raise AssertionError(f"no expectation for operator {op!r}")


def _argument(case: Case, op: str) -> Any:
    if op in VALUELESS_OPERATORS:
        return None
    if op == "between":
        return (case.text, case.text)
    if op == "in":
        return [case.text]
    if op in ("contains", "startswith"):
        return case.part or case.text
    return case.text


@pytest.mark.parametrize("type_key", ALL_TYPES)
def test_every_operator_filters_in_the_database(db, type_key):
    # given
    case = _case(type_key)
    record = create_record(SYSTEM, case.table, {"f": case.value})
    operators = case.field.field_type.operators
    # when
    found = {
        op: [
            r.pk
            for r in list_records(
                case.actor, case.table, conditions=[Condition("f", op, _argument(case, op))]
            )
        ]
        for op in operators
    }
    # then
    assert found == {op: [record.pk] if _expected_match(case, op) else [] for op in operators}


# -- Russian formats -------------------------------------------------------------------------


@pytest.fixture
def formats(db):
    """A table with one field of each parsed kind, for the per-type parse cases."""
    return make_table(
        [
            {"key": "day", "label": "Дата", "type": "date"},
            {"key": "amount", "label": "Сумма", "type": "decimal"},
            {"key": "price", "label": "Цена", "type": "money"},
            {"key": "count", "label": "Количество", "type": "integer"},
            {"key": "phone", "label": "Телефон", "type": "phone"},
            {"key": "flag", "label": "Флаг", "type": "boolean"},
            {
                "key": "kind",
                "label": "Тип",
                "type": "choice",
                "choices": [("client", "Клиент"), ("partner", "Партнёр")],
            },
            {"key": "code", "label": "Код", "type": "text", "options": {"max_length": 5}},
        ]
    )


def _parse(table, key: str, text: str) -> Any:
    field = field_of(table, key)
    return field.field_type.parse(field, text)


@pytest.mark.parametrize("text", ["01.02.2025", "1.2.25", "2025-02-01", "45689", " 01.02.2025 "])
def test_date_is_read_in_russian_iso_and_excel_forms(formats, text):
    # when
    value = _parse(formats, "day", text)
    # then
    assert value == dt.date(2025, 2, 1)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("amount", "1 234,56"),
        ("amount", "1234.56"),
        ("amount", "1 234,56 ₽"),
        ("amount", f"1{NBSP}234,56"),
        ("price", "1 234,56 ₽"),
        ("price", "1234,56 руб."),
    ],
)
def test_number_is_read_with_russian_separators(formats, key, text):
    # when
    value = _parse(formats, key, text)
    # then
    assert value == Decimal("1234.56")


def test_integer_is_read_with_thousands_separator(formats):
    # when
    value = _parse(formats, "count", "1 234")
    # then
    assert value == 1234


@pytest.mark.parametrize(
    "text",
    ["8 (912) 345-67-89", "+7 912 345 67 89", "9123456789", "8-912-345-67-89", "79123456789"],
)
def test_phone_is_stored_in_one_form(formats, text):
    # when
    value = _parse(formats, "phone", text)
    # then
    assert value == "+79123456789"


@pytest.mark.parametrize(
    ("text", "expected"), [("да", True), ("Да", True), ("нет", False), ("НЕТ", False), ("", False)]
)
def test_boolean_reads_russian_words(formats, text, expected):
    # when
    value = _parse(formats, "flag", text)
    # then
    assert value is expected


@pytest.mark.parametrize("text", ["partner", "Партнёр", "ПАРТНЕР", "партнер", " партнёр "])
def test_choice_matches_label_ignoring_case_and_yo(formats, text):
    # when
    value = _parse(formats, "kind", text)
    # then
    assert value == "partner"


@pytest.mark.parametrize(
    ("key", "text", "code", "message"),
    [
        ("day", "32.13.2025", "not_a_date", "«32.13.2025» — не дата; ожидается дд.мм.гггг."),
        ("day", "вчера", "not_a_date", "«вчера» — не дата; ожидается дд.мм.гггг."),
        ("amount", "abc", "not_a_number", "«abc» — не число."),
        ("count", "abc", "not_a_number", "«abc» — не число."),
        ("count", "1,5", "not_an_integer", "«1.5» — не целое число."),
        ("phone", "12", "not_a_phone", "«12» — не номер телефона."),
        ("flag", "может быть", "not_a_boolean", "«может быть» — ожидается «да» или «нет»."),
        (
            "kind",
            "фиолетовый",
            "unknown_choice",
            "«фиолетовый» — нет такого варианта в поле «Тип». Допустимо: «Клиент», «Партнёр».",
        ),
        ("code", "123456", "too_long", "Слишком длинный текст: 6 символов, допустимо не больше 5."),
    ],
)
def test_bad_input_is_refused_with_a_russian_message(formats, key, text, code, message):
    # given
    field = field_of(formats, key)
    # when
    with pytest.raises(ValidationError) as caught:
        field.field_type.parse(field, text)
    # then
    assert caught.value.code == code
    assert caught.value.messages == [message]


def test_huge_decimal_is_refused_not_crashed(formats):
    # given
    field = field_of(formats, "amount")
    # when
    with pytest.raises(ValidationError) as caught:
        field.field_type.parse(field, "1e30")
    # then
    assert caught.value.code == "out_of_range"
