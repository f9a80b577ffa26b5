"""Bulk upsert by a key field: created / updated / skipped / errors, and the merge policy."""

from __future__ import annotations

import pytest

from kartoteka.core.validators import inn_control_digits
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_records
from kartoteka.records.upsert import upsert_records
from kartoteka.tables.modelfactory import model_for
from tests.builders import SYSTEM

URL = "/api/v1/tables/counterparties/records/upsert/"
INN_A = inn_control_digits("770412345")
INN_B = inn_control_digits("500112345")
INN_C = inn_control_digits("781012345")


@pytest.fixture
def firms(table):
    counterparties = table("counterparties")
    create_records(
        SYSTEM,
        counterparties,
        [
            {"name": "Ромашка", "inn": INN_A, "city": "Казань", "phone": "+79161234567"},
            {"name": "Лютик", "inn": INN_B, "city": "Москва"},
        ],
    )
    return counterparties


def state(counterparties) -> list[tuple]:
    return list(
        model_for(counterparties)
        .objects.order_by("id")
        .values_list("name", "inn", "city", "phone", "email")
    )


def test_upsert_creates_updates_and_skips_keeping_filled_values(api, firms):
    # given
    body = {
        "key": "inn",
        "policy": "keep_filled",
        "records": [
            {"inn": INN_A, "name": "Ромашка", "city": "", "email": "info@romashka.ru"},
            {"inn": INN_B, "name": "Лютик", "city": None},
            {"inn": INN_C, "name": "Василёк", "city": "Тверь"},
        ],
    }
    # when
    response = api.post(URL, body, format="json")
    # then
    assert response.status_code == 200
    assert response.json() == {"created": 1, "updated": 1, "skipped": 1, "errors": []}
    assert state(firms) == [
        ("Ромашка", INN_A, "Казань", "+79161234567", "info@romashka.ru"),
        ("Лютик", INN_B, "Москва", None, None),
        ("Василёк", INN_C, "Тверь", None, None),
    ]
    sources = set(RecordChange.objects.filter(table=firms).values_list("action", "source"))
    assert sources >= {("create", "api"), ("update", "api")}


def test_upsert_overwrite_blanks_with_empty_values(api, firms):
    # when
    response = api.post(
        URL,
        {"key": "inn", "policy": "overwrite", "records": [{"inn": INN_A, "city": ""}]},
        format="json",
    )
    # then
    assert response.json() == {"created": 0, "updated": 1, "skipped": 0, "errors": []}
    assert state(firms)[0] == ("Ромашка", INN_A, None, "+79161234567", None)


def test_upsert_matches_a_key_written_differently(api, firms):
    # when: the phone is the key, written the Russian way
    response = api.post(
        URL,
        {"key": "phone", "records": [{"phone": "8 (916) 123-45-67", "city": "Самара"}]},
        format="json",
    )
    # then
    assert response.json() == {"created": 0, "updated": 1, "skipped": 0, "errors": []}
    assert state(firms)[0][2] == "Самара"


def test_bad_rows_are_reported_and_the_others_written(api, firms):
    # given
    body = {
        "key": "inn",
        "records": [
            {"inn": INN_C, "name": "Василёк"},
            {"inn": "1234567890", "name": "Кривой ИНН"},
            {"name": "Без ключа"},
            {"inn": INN_C, "name": "Повтор"},
            {"inn": INN_A, "nope": 1},
            {"inn": inn_control_digits("631012345")},
            "не объект",
        ],
    }
    # when
    response = api.post(URL, body, format="json")
    # then
    assert response.status_code == 200
    result = response.json()
    assert (result["created"], result["updated"], result["skipped"]) == (1, 0, 0)
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (1, "inn"),
        (2, "inn"),
        (3, "inn"),
        (4, "nope"),
        (5, "name"),
        (6, ""),
    ]
    messages = [e["message"] for e in result["errors"]]
    assert messages[1:5] == [
        "Не заполнено ключевое поле «ИНН».",
        f"Значение «{INN_C}» ключевого поля уже было в строке 0.",
        "Нет такого поля.",
        "Поле «Название» обязательно.",
    ]
    assert messages[5] == "Строка должна быть объектом «поле: значение»."
    assert [row[0] for row in state(firms)] == ["Ромашка", "Лютик", "Василёк"]


def test_a_rule_refusal_is_a_row_error(api, table, firms):
    # given: a work row that moved «Ромашка» to «Переговоры», keyed by its description
    firm = model_for(firms).objects.get(inn=INN_A)
    work = table("client_work")
    create_records(
        SYSTEM,
        work,
        [
            {
                "counterparty": firm.pk,
                "work_type": "call",
                "done": True,
                "status": "negotiation",
                "description": "звонок-1",
            }
        ],
    )
    # when: one row would move her back, the other is fine
    response = api.post(
        "/api/v1/tables/client_work/records/upsert/",
        {
            "key": "description",
            "records": [
                {"description": "звонок-1", "result": "перезвонить"},
                {
                    "description": "звонок-2",
                    "counterparty": firm.pk,
                    "work_type": "call",
                    "done": True,
                    "status": "interested",
                },
            ],
        },
        format="json",
    )
    # then
    result = response.json()
    assert (result["created"], result["updated"], result["skipped"]) == (0, 1, 0)
    assert [(e["index"], e["field"]) for e in result["errors"]] == [(1, "status")]
    assert result["errors"][0]["message"].startswith("Правило «только вперёд»")
    assert model_for(work).objects.count() == 1


def test_a_key_matching_several_records_is_a_row_error(api, firms):
    # given
    create_records(SYSTEM, firms, [{"name": "Ромашка-2", "city": "Казань"}])
    # when
    response = api.post(
        URL, {"key": "city", "records": [{"city": "Казань", "name": "Кто?"}]}, format="json"
    )
    # then
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(0, "city")]
    assert errors[0]["message"].startswith("Значению «Казань» соответствуют несколько записей")
    assert [row[0] for row in state(firms)] == ["Ромашка", "Лютик", "Ромашка-2"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"records": []}, ["key"]),
        ({"key": "inn"}, ["records"]),
        ({"key": "inn", "records": {"a": 1}}, ["records"]),
        ({"key": "nothing", "records": []}, ["key"]),
        ({"key": "inn", "policy": "merge", "records": []}, ["policy"]),
    ],
)
def test_a_wrong_upsert_request_is_400(api, firms, body, fields):
    # when
    response = api.post(URL, body, format="json")
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "validation"
    assert list(response.json()["fields"]) == fields
    assert len(state(firms)) == 2


def test_read_only_fields_are_row_errors(manager_user, table, firms):
    # given
    from kartoteka.core.actor import Actor

    work = table("client_work")
    # when
    result = upsert_records(
        Actor.for_user(manager_user, source="api"),
        work,
        key="description",
        rows=[{"description": "x", "status_before": "cold"}],
    )
    # then
    assert result.as_counts()["errors"] == [
        {
            "index": 0,
            "field": "status_before",
            "message": "Поле «Статус до» заполняется автоматически и не редактируется.",
        }
    ]
    assert not model_for(work).objects.exists()
