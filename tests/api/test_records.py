"""Records of every table through the API: exact JSON in, exact JSON out, errors by code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_records
from kartoteka.tables.modelfactory import model_for
from tests.builders import SYSTEM, make_table

URL = "/api/v1/tables/deals/records/"


@pytest.fixture
def deals(crm, table, admin_user):
    """A user table with a field of every kind the API shapes differently."""
    counterparties = table("counterparties")
    firm = create_records(SYSTEM, counterparties, [{"name": "Ромашка"}])[0]
    deals = make_table(
        [
            {"key": "title", "label": "Сделка", "type": "text", "required": True},
            {"key": "code", "label": "Код", "type": "text", "unique": True},
            {"key": "amount", "label": "Сумма", "type": "money"},
            {"key": "weight", "label": "Вес", "type": "decimal", "options": {"decimal_places": 3}},
            {"key": "pieces", "label": "Штук", "type": "integer"},
            {"key": "signed", "label": "Подписан", "type": "date"},
            {"key": "call_at", "label": "Звонок", "type": "datetime"},
            {
                "key": "stage",
                "label": "Этап",
                "type": "choice",
                "choices": [("new", "Новая"), ("won", "Выиграна")],
            },
            {
                "key": "tags",
                "label": "Метки",
                "type": "multi_choice",
                "choices": [("hot", "Горячая"), ("vip", "VIP")],
            },
            {"key": "client", "label": "Клиент", "type": "link", "link_table": counterparties},
            {"key": "owner", "label": "Ответственный", "type": "user"},
            {"key": "phone", "label": "Телефон", "type": "phone"},
            {"key": "urgent", "label": "Срочно", "type": "boolean"},
            {"key": "note", "label": "Примечание", "type": "text", "read_only": True},
        ],
        key="deals",
        label="Сделки",
    )
    deals.firm = firm
    return deals


def _record(deals, admin_user, **values):
    return create_records(SYSTEM, deals, [{"title": "Поставка", **values}])[0]


def _iso(value: dt.datetime) -> str:
    return timezone.localtime(value).isoformat()


def test_create_with_every_value_shape(api, deals, admin_user):
    # given
    body = {
        "title": "Поставка",
        "code": "D-1",
        "amount": "1234.5",
        "weight": "2.125",
        "pieces": 7,
        "signed": "2026-03-01",
        "call_at": "2026-03-02T10:30:00+03:00",
        "stage": "won",
        "tags": ["vip", "hot"],
        "client": deals.firm.pk,
        "owner": admin_user.pk,
        "phone": "8 (916) 123-45-67",
        "urgent": True,
    }
    # when
    response = api.post(URL, body, format="json")
    # then
    assert response.status_code == 201
    record = model_for(deals).objects.get()
    assert response.json() == {
        "id": record.pk,
        "title": "Поставка",
        "code": "D-1",
        "amount": "1234.50",
        "weight": "2.125",
        "pieces": 7,
        "signed": "2026-03-01",
        "call_at": "2026-03-02T10:30:00+03:00",
        "stage": "won",
        "tags": ["hot", "vip"],
        "client": deals.firm.pk,
        "owner": admin_user.pk,
        "phone": "+79161234567",
        "urgent": True,
        "note": None,
        "record_state": "active",
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
        "created_by": admin_user.pk,
        "updated_by": admin_user.pk,
    }
    assert record.amount == Decimal("1234.50")
    change = RecordChange.objects.get(table=deals, record_id=record.pk)
    assert (change.action, change.source, change.user_id) == ("create", "api", admin_user.pk)


def test_get_one_record(api, deals, admin_user):
    # given
    record = _record(deals, admin_user, amount="10", stage="new")
    # when
    response = api.get(f"{URL}{record.pk}/")
    # then
    assert response.status_code == 200
    data = response.json()
    assert (data["id"], data["title"], data["amount"], data["stage"]) == (
        record.pk,
        "Поставка",
        "10.00",
        "new",
    )
    assert data["created_by"] is None  # made by the system


def test_patch_changes_only_the_given_fields(api, deals, admin_user):
    # given
    record = _record(deals, admin_user, code="A", amount="5")
    # when
    response = api.patch(f"{URL}{record.pk}/", {"amount": "7.10", "stage": "won"}, format="json")
    # then
    assert response.status_code == 200
    data = response.json()
    assert (data["code"], data["amount"], data["stage"], data["updated_by"]) == (
        "A",
        "7.10",
        "won",
        admin_user.pk,
    )
    change = RecordChange.objects.filter(record_id=record.pk, action="update").get()
    assert change.changes == {"amount": ["5.00", "7.10"], "stage": [None, "won"]}
    assert change.source == "api"


def test_delete_moves_to_the_trash(api, deals, admin_user):
    # given
    record = _record(deals, admin_user)
    # when
    response = api.delete(f"{URL}{record.pk}/")
    # then
    assert response.status_code == 204
    assert model_for(deals).objects.get(pk=record.pk).record_state == "deleted"
    assert api.get(f"{URL}{record.pk}/").status_code == 404
    trash = api.get(URL + "?record_state=deleted").json()
    assert [r["id"] for r in trash["results"]] == [record.pk]


# -- errors --------------------------------------------------------------------------------------


def test_unknown_table_and_record_are_404(api, deals):
    # when
    no_table = api.get("/api/v1/tables/nothing/records/")
    no_record = api.get(f"{URL}999999/")
    patch_missing = api.patch(f"{URL}999999/", {"title": "X"}, format="json")
    # then
    assert no_table.status_code == 404
    assert no_table.json() == {
        "code": "not_found",
        "message": "Таблица «nothing» не найдена.",
        "fields": {},
    }
    assert no_record.status_code == 404
    assert no_record.json() == {
        "code": "not_found",
        "message": "Запись №999999 не найдена.",
        "fields": {},
    }
    assert patch_missing.status_code == 404


def test_bad_values_are_400_with_every_field_and_nothing_written(api, deals):
    # when
    response = api.post(
        URL,
        {"amount": "много", "signed": "32.13.2026", "stage": "lost", "nope": 1},
        format="json",
    )
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation"
    assert body["message"] == "Значения не приняты."
    assert set(body["fields"]) == {"amount", "signed", "stage", "nope", "title"}
    assert body["fields"]["nope"] == ["Нет такого поля."]
    assert body["fields"]["title"] == ["Поле «Сделка» обязательно."]
    assert not model_for(deals).objects.exists()


def test_read_only_fields_are_returned_and_refused_on_write(api, deals, admin_user):
    # given
    record = _record(deals, admin_user)
    # when
    field = api.patch(f"{URL}{record.pk}/", {"note": "моё"}, format="json")
    system = api.patch(f"{URL}{record.pk}/", {"id": 5, "created_at": "2020-01-01"}, format="json")
    # then
    assert field.status_code == 400
    assert field.json() == {
        "code": "validation",
        "message": "Поле «Примечание» заполняется автоматически и не редактируется.",
        "fields": {"note": ["Поле «Примечание» заполняется автоматически и не редактируется."]},
    }
    assert system.status_code == 400
    assert system.json()["fields"] == {
        "id": ["Системное поле «id» только для чтения."],
        "created_at": ["Системное поле «created_at» только для чтения."],
    }
    assert not RecordChange.objects.filter(record_id=record.pk, action="update").exists()


def test_a_unique_conflict_is_409(api, deals, admin_user):
    # given
    first = _record(deals, admin_user, code="D-1")
    # when
    response = api.post(URL, {"title": "Ещё", "code": "D-1"}, format="json")
    # then
    assert response.status_code == 409
    message = f"Значение «D-1» поля «Код» уже есть в записи №{first.pk}."
    assert response.json() == {
        "code": "not_unique",
        "message": message,
        "fields": {"code": [message]},
    }
    assert model_for(deals).objects.count() == 1


def test_a_body_that_is_not_an_object_is_400(api, deals):
    # when
    listed = api.post(URL, [1, 2], format="json")
    broken = api.generic("POST", URL, "{oops", content_type="application/json")
    # then
    assert listed.status_code == 400
    assert listed.json()["code"] == "validation"
    assert listed.json()["message"] == "Ожидается объект JSON «поле: значение»."
    assert broken.status_code == 400
    assert broken.json()["code"] == "parse_error"


def test_a_business_rule_refusal_is_422_naming_the_rule(api, table, admin_user):
    # given: a counterparty that has moved forward to «Переговоры»
    firm = create_records(SYSTEM, table("counterparties"), [{"name": "Ромашка"}])[0]
    work = "/api/v1/tables/client_work/records/"
    forward = {
        "counterparty": firm.pk,
        "work_type": "call",
        "done": True,
        "status": "negotiation",
    }
    assert api.post(work, forward, format="json").status_code == 201
    rows_before = model_for(table("client_work")).objects.count()
    # when: a row would move it back to «Заинтересован»
    response = api.post(work, {**forward, "status": "interested"}, format="json")
    # then
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "rule_violation"
    assert body["rule"] == "forward_only"
    assert body["message"].startswith("Правило «только вперёд»")
    assert model_for(table("client_work")).objects.count() == rows_before
    assert model_for(table("counterparties")).objects.get(pk=firm.pk).status == "negotiation"


# -- the list ------------------------------------------------------------------------------------


@pytest.fixture
def many(deals, admin_user):
    rows = [
        {"title": "Альфа", "amount": "100", "stage": "new", "signed": "2026-01-10", "pieces": 3},
        {"title": "Бета", "amount": "250.5", "stage": "won", "signed": "2026-02-10", "pieces": 1},
        {"title": "Гамма", "amount": "40", "stage": "won", "pieces": 2},
        {"title": "Дельта", "stage": "new", "signed": "2026-03-10", "phone": "+79161234567"},
        {"title": "Эпсилон", "amount": "999.99", "signed": "2026-04-10", "client": deals.firm.pk},
    ]
    return create_records(SYSTEM, deals, rows)


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [r["title"] for r in response.json()["results"]]


def test_list_is_ordered_by_id_with_count(api, many):
    # when
    response = api.get(URL)
    # then
    body = response.json()
    assert titles(response) == ["Альфа", "Бета", "Гамма", "Дельта", "Эпсилон"]
    assert (body["next"], body["count"], body["count_exact"]) == (None, 5, True)


FILTERS = dict(
    [
        ("stage=won", ["Бета", "Гамма"]),
        ("amount__gte=100", ["Альфа", "Бета", "Эпсилон"]),
        ("amount__lte=100", ["Альфа", "Гамма"]),
        ("amount__gte=50&amount__lte=300", ["Альфа", "Бета"]),
        ("signed__gte=2026-02-01&signed__lte=2026-03-31", ["Бета", "Дельта"]),
        ("signed__lte=10.01.2026", ["Альфа"]),
        ("title__contains=ль", ["Альфа", "Дельта"]),
        ("stage__in=new,won", ["Альфа", "Бета", "Гамма", "Дельта"]),
        ("pieces__in=1,3", ["Альфа", "Бета"]),
        ("amount__empty=1", ["Дельта"]),
        ("stage__ne=won", ["Альфа", "Дельта", "Эпсилон"]),
        ("phone=8 916 123-45-67", ["Дельта"]),
        ("search=эпсил", ["Эпсилон"]),
        ("search=9161234567", ["Дельта"]),
        ("stage=won&search=бета", ["Бета"]),
    ]
)


def test_list_filters(api, many):
    # when
    found = {query: titles(api.get(f"{URL}?{query}")) for query in FILTERS}
    counts = {query: api.get(f"{URL}?{query}").json()["count"] for query in FILTERS}
    # then
    assert found == FILTERS
    assert counts == {query: len(expected) for query, expected in FILTERS.items()}


def test_list_filters_by_link_user_and_system_columns(api, many, deals):
    # when
    by_link = api.get(f"{URL}?client={deals.firm.pk}")
    by_ids = api.get(f"{URL}?id__in={many[1].pk},{many[3].pk}")
    after = api.get(f"{URL}?id__gt={many[3].pk}")
    since = api.get(f"{URL}?updated_at__gte=2000-01-01T00:00:00%2B03:00")
    future = api.get(f"{URL}?created_at__gte=2999-01-01")
    # then
    assert titles(by_link) == ["Эпсилон"]
    assert titles(by_ids) == ["Бета", "Дельта"]
    assert titles(after) == ["Эпсилон"]
    assert len(titles(since)) == 5
    assert titles(future) == []


ORDERINGS = dict(
    [
        ("-id", ["Эпсилон", "Дельта", "Гамма", "Бета", "Альфа"]),
        ("amount", ["Гамма", "Альфа", "Бета", "Эпсилон", "Дельта"]),
        ("-amount", ["Эпсилон", "Бета", "Альфа", "Гамма", "Дельта"]),
        ("title", ["Альфа", "Бета", "Гамма", "Дельта", "Эпсилон"]),
        ("-signed", ["Эпсилон", "Дельта", "Бета", "Альфа", "Гамма"]),
    ]
)


def test_list_ordering_puts_empty_values_last(api, many):
    # when
    found = {ordering: titles(api.get(f"{URL}?ordering={ordering}")) for ordering in ORDERINGS}
    # then
    assert found == ORDERINGS


def test_cursor_pages_walk_the_whole_order(api, many):
    # given
    seen: list[str] = []
    url = f"{URL}?ordering=-amount&page_size=2&stage__in=new,won"
    pages = 0
    # when
    while url:
        response = api.get(url)
        body = response.json()
        seen += titles(response)
        assert body["count"] == 4
        url = body["next"]
        pages += 1
    # then
    assert seen == ["Бета", "Альфа", "Гамма", "Дельта"]
    assert pages == 2


def test_next_keeps_the_filters(api, many):
    # when
    body = api.get(f"{URL}?page_size=1&stage=won").json()
    # then
    query = parse_qs(urlparse(body["next"]).query)
    assert body["next"].startswith("http://testserver/api/v1/tables/deals/records/?")
    assert query["page_size"] == ["1"] and query["stage"] == ["won"]
    assert query["cursor"][0].startswith("id~")


BAD_PARAMETERS = [
    ("page_size=0", "page_size", "validation"),
    ("page_size=1001", "page_size", "validation"),
    ("page_size=abc", "page_size", "validation"),
    ("ordering=nothing", "ordering", "validation"),
    ("ordering=tags", "ordering", "validation"),
    ("nothing=1", "nothing", "validation"),
    ("title__near=1", "title__near", "validation"),
    ("cursor=garbage", "cursor", "bad_cursor"),
    ("record_state=gone", "record_state", "validation"),
    ("id__in=1,x", "id__in", "validation"),
]


def test_bad_list_parameters_are_400(api, many):
    # when
    responses = {query: api.get(f"{URL}?{query}") for query, _field, _code in BAD_PARAMETERS}
    # then
    found = [
        (query, r.status_code, r.json()["code"], list(r.json()["fields"]))
        for query, r in responses.items()
    ]
    assert found == [(query, 400, code, [field]) for query, field, code in BAD_PARAMETERS]


def test_a_cursor_of_another_ordering_is_refused(api, many):
    # given
    cursor = parse_qs(urlparse(api.get(f"{URL}?page_size=1").json()["next"]).query)["cursor"][0]
    # when
    response = api.get(f"{URL}?ordering=-amount&cursor={cursor}")
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "bad_cursor"


def test_a_filter_the_field_type_refuses_is_400(api, many):
    # when
    response = api.get(f"{URL}?tags__gte=1")
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "validation"
    assert response.json()["fields"] == {
        "tags": ["Условие «не меньше» не подходит для поля «Метки»."]
    }


def test_page_size_up_to_a_thousand(api, deals):
    # given
    create_records(SYSTEM, deals, [{"title": f"Сделка {i}"} for i in range(1001)])
    # when
    full = api.get(f"{URL}?page_size=1000").json()
    rest = api.get(full["next"]).json()
    # then
    assert len(full["results"]) == 1000
    assert (len(rest["results"]), rest["next"], rest["count"]) == (1, None, 1001)


def test_list_queries_do_not_grow_with_the_page(api, many, django_assert_max_num_queries):
    # when / then: auth (token, last use), the count, the page and its relations
    with django_assert_max_num_queries(8):
        assert len(titles(api.get(f"{URL}?page_size=1000"))) == 5


# -- tables --------------------------------------------------------------------------------------


def test_tables_describe_fields_and_choices(api, deals):
    # when
    response = api.get("/api/v1/tables/")
    # then
    assert response.status_code == 200
    tables = {t["key"]: t for t in response.json()}
    assert {"counterparties", "client_work", "invoices", "deals"} <= set(tables)
    fields = {f["key"]: f for f in tables["deals"]["fields"]}
    assert list(fields)[:3] == ["title", "code", "amount"]
    assert fields["stage"] == {
        "key": "stage",
        "label": "Этап",
        "type": "choice",
        "required": False,
        "unique": False,
        "read_only": False,
        "options": {},
        "link_table": None,
        "choices": [{"key": "new", "label": "Новая"}, {"key": "won", "label": "Выиграна"}],
    }
    assert fields["client"]["link_table"] == "counterparties"
    assert (fields["code"]["unique"], fields["title"]["required"]) == (True, True)
    assert fields["note"]["read_only"] is True
    status = {f["key"]: f for f in tables["client_work"]["fields"]}["status_before"]
    assert status["read_only"] is True
    assert status["choices"][0] == {"key": "cold", "label": "Холодный"}


def test_one_table(api, deals):
    # when
    response = api.get("/api/v1/tables/deals/")
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["key"], body["label"], body["category"]) == ("deals", "Сделки", None)
    assert len(body["fields"]) == 14


def test_a_nul_character_is_refused_in_parameters_and_bodies(api, deals):
    # when
    query = api.get(f"{URL}?title=a%00b")
    body = api.post(URL, {"title": "a\x00b"}, format="json")
    # then
    assert (query.status_code, query.json()["code"]) == (400, "nul_character")
    assert (body.status_code, body.json()["code"]) == (400, "nul_character")
    assert not model_for(deals).objects.exists()


def test_ids_beyond_the_database_range_find_nothing(api, deals):
    # given
    huge = 10**20
    # when
    one = api.get(f"{URL}{huge}/")
    listed = api.get(f"{URL}?client={huge}")
    by_id = api.get(f"{URL}?id__in=1,{huge}")
    linked = api.post(URL, {"title": "X", "client": huge}, format="json")
    # then
    assert one.status_code == 404
    assert (listed.status_code, list(listed.json()["fields"])) == (400, ["client"])
    assert (by_id.status_code, list(by_id.json()["fields"])) == (400, ["id__in"])
    assert (linked.status_code, list(linked.json()["fields"])) == (400, ["client"])
