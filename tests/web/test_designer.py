"""The table designer («Конструктор») through Django's test client: an administrator builds a
table with fields of several types and uses it at once; renames and retypes keep the data or are
refused as a whole; managers get 403 and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from kartoteka.core.actor import Actor
from kartoteka.records.services import create_records
from kartoteka.tables.modelfactory import model_for
from kartoteka.tables.models import Category, Choice, Field, Table
from kartoteka.tables.schema import column_names, table_exists
from tests.builders import make_table

SYSTEM = Actor.system("tests")
SHOWN = {"new-show_in_grid": "on", "new-show_in_add": "on", "new-show_in_edit": "on"}


@pytest.fixture
def client_admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def client_manager(client, manager_user):
    client.force_login(manager_user)
    return client


def choice_rows(prefix: str, rows: list[dict[str, Any]], *, initial: int = 0, total: int = 5):
    """POST data of the choices editor: management form plus one dict per row."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(max(total, len(rows))),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{i}-{name}"] = value
    return data


def add_field(client, table_key: str, **values: Any):
    data = {**SHOWN, **{f"new-{k}": v for k, v in values.items() if k != "choices"}}
    data.update(values.get("choices", {}))
    return client.post(f"/designer/t/{table_key}/add-field/", data)


def edit_data(field: Field, **changes: Any) -> dict[str, Any]:
    """The edit form as it comes filled, with ``changes`` applied."""
    data: dict[str, Any] = {
        "label": field.label,
        "type": field.type,
        "group": field.group,
        "help_text": field.help_text,
        "max_length": field.options.get("max_length", 255),
        "decimal_places": field.options.get("decimal_places", 2),
        "default_kind": "",
    }
    for flag in ("required", "unique", "read_only", "show_in_grid", "show_in_add", "show_in_edit"):
        if getattr(field, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def values_of(table: Table, key: str) -> list[Any]:
    table.refresh_from_db()
    return list(model_for(table).objects.order_by("id").values_list(key, flat=True))


def test_designer_home_lists_categories_and_tables(client_admin):
    # when
    response = client_admin.get("/designer/")
    html = response.content.decode()
    # then
    assert response.status_code == 200
    for text in ("Конструктор", "Клиенты", "Контрагенты", "Новая таблица", "Новая категория"):
        assert text in html
    assert 'href="/designer/t/counterparties/"' in html


def test_create_category_and_table(client_admin):
    # when: a category with a key made from its label, then a table in it
    response = client_admin.post("/designer/categories/new/", {"category-label": "Склад"})
    # then
    assert response.status_code == 302
    category = Category.objects.get(label="Склад")
    assert category.key == "sklad"

    # when
    response = client_admin.post(
        "/designer/tables/new/",
        {"table-label": "Товары", "table-key": "goods", "table-category": "sklad"},
    )
    # then: the table page opens; the SQL table exists; the menu shows the table
    assert response.status_code == 302
    assert response["Location"] == "/designer/t/goods/"
    table = Table.objects.get(key="goods")
    assert (table.label, table.category, table.is_builtin) == ("Товары", category, False)
    assert table_exists(table.db_table)
    page = client_admin.get("/designer/t/goods/").content.decode()
    assert "Таблица «Товары» создана. Добавьте в неё поля." in page
    assert "В таблице пока нет полей." in page
    assert 'href="/t/goods/"' in client_admin.get("/").content.decode()


def test_table_key_made_from_label_and_duplicate_key_refused(client_admin):
    # when
    client_admin.post("/designer/tables/new/", {"table-label": "Поставки"})
    response = client_admin.post(
        "/designer/tables/new/", {"table-label": "Ещё", "table-key": "postavki"}
    )
    # then
    assert Table.objects.filter(key="postavki").count() == 1
    assert response.status_code == 200
    assert "Таблица с ключом «postavki» уже есть." in response.content.decode()
    assert not Table.objects.filter(label="Ещё").exists()


def test_bad_category_key_is_shown_at_the_field(client_admin):
    # when
    response = client_admin.post(
        "/designer/categories/new/", {"category-label": "Склад", "category-key": "1 склад"}
    )
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "должен начинаться с латинской буквы" in html
    assert not Category.objects.filter(label="Склад").exists()


def test_fields_of_several_types_and_a_record_through_the_generic_pages(client_admin, table):
    # given
    client_admin.post("/designer/tables/new/", {"table-label": "Поставки", "table-key": "supply"})
    counterparty = create_records(SYSTEM, table("counterparties"), [{"name": "ООО «Ромашка»"}])[0]

    # when: text, integer, date, choice with options and a link to counterparties
    responses = [
        add_field(client_admin, "supply", label="Товар", key="item", type="text", required="on"),
        add_field(client_admin, "supply", label="Количество", key="qty", type="integer"),
        add_field(client_admin, "supply", label="Дата поставки", key="date", type="date"),
        add_field(
            client_admin,
            "supply",
            label="Состояние",
            key="state",
            type="choice",
            choices=choice_rows(
                "choices",
                [
                    {"label": "Ожидается", "color": "#0dcaf0", "ORDER": "1"},
                    {"label": "Получено", "key": "done", "color": "#198754", "ORDER": "2"},
                    {"label": "Отменено", "color": "#000000", "no_color": "on", "ORDER": "3"},
                ],
            ),
        ),
        add_field(
            client_admin,
            "supply",
            label="Поставщик",
            key="supplier",
            type="link",
            link_table="counterparties",
        ),
    ]
    # then
    assert [r.status_code for r in responses] == [302] * 5
    supply = Table.objects.get(key="supply")
    fields = list(Field.objects.filter(table=supply).order_by("position", "id"))
    assert [(f.key, f.type, f.required) for f in fields] == [
        ("item", "text", True),
        ("qty", "integer", False),
        ("date", "date", False),
        ("state", "choice", False),
        ("supplier", "link", False),
    ]
    assert fields[4].link_table == table("counterparties")
    assert [(c.key, c.label, c.color) for c in fields[3].choices.order_by("position")] == [
        ("ozhidaetsya", "Ожидается", "#0dcaf0"),
        ("done", "Получено", "#198754"),
        ("otmeneno", "Отменено", ""),
    ]
    page = client_admin.get("/designer/t/supply/").content.decode()
    for text in ("Товар", "Целое число", "Дата", "Выбор из списка", "→ Контрагенты", "Получено"):
        assert text in page

    # when: a record is added through the generic record pages
    form = client_admin.get("/t/supply/new/").content.decode()
    response = client_admin.post(
        "/t/supply/new/",
        {
            "item": "Бумага А4",
            "qty": "1 200",
            "date": "15.03.2026",
            "state": "done",
            "supplier": str(counterparty.pk),
        },
    )
    # then
    assert all(label in form for label in ("Товар", "Количество", "Дата поставки", "Поставщик"))
    assert response.status_code == 302
    grid = client_admin.get("/t/supply/").content.decode()
    for text in ("Бумага А4", "1\u00a0200", "15.03.2026", "Получено", "ООО «Ромашка»"):
        assert text in grid


def test_type_select_brings_the_settings_of_the_type(client_admin):
    # given
    client_admin.post("/designer/tables/new/", {"table-label": "Поставки", "table-key": "supply"})
    url = "/designer/t/supply/add-field/"
    # when: HTMX asks for the settings of a type
    choice = client_admin.get(url, {"new-type": "choice"}, HTTP_HX_REQUEST="true")
    text = client_admin.get(url, {"new-type": "text"}, HTTP_HX_REQUEST="true")
    link = client_admin.get(url, {"new-type": "link"}, HTTP_HX_REQUEST="true")
    decimal = client_admin.get(url, {"new-type": "decimal"}, HTTP_HX_REQUEST="true")
    # then: only the fragment, with the type's own settings
    assert "<html" not in choice.content.decode()
    assert 'data-testid="choices-editor"' in choice.content.decode()
    assert 'name="new-max_length"' in text.content.decode()
    assert 'name="new-link_table"' in link.content.decode()
    assert 'name="new-decimal_places"' in decimal.content.decode()


def test_adding_a_field_refusals_are_shown_and_change_nothing(client_admin):
    # given
    client_admin.post("/designer/tables/new/", {"table-label": "Поставки", "table-key": "supply"})
    add_field(client_admin, "supply", label="Товар", key="item", type="text")
    # when
    duplicate = add_field(client_admin, "supply", label="Товар 2", key="item", type="text")
    reserved = add_field(client_admin, "supply", label="Сохранить", key="save", type="text")
    no_target = add_field(client_admin, "supply", label="Связь", key="ref", type="link")
    # then
    assert "Поле с ключом «item» уже есть в таблице." in duplicate.content.decode()
    assert "Ключ «save» зарезервирован." in reserved.content.decode()
    assert "Для связи нужно выбрать таблицу." in no_target.content.decode()
    supply = Table.objects.get(key="supply")
    assert list(Field.objects.filter(table=supply).values_list("key", flat=True)) == ["item"]


def test_default_value_is_checked_and_applied(client_admin):
    # given
    client_admin.post("/designer/tables/new/", {"table-label": "Поставки", "table-key": "supply"})
    add_field(client_admin, "supply", label="Товар", key="item", type="text")
    # when: a default that is not a number is refused, one that is is kept
    bad = add_field(
        client_admin,
        "supply",
        label="Кол.",
        key="qty",
        type="integer",
        default_kind="constant",
        default_text="много",
    )
    good = add_field(
        client_admin,
        "supply",
        label="Кол.",
        key="qty",
        type="integer",
        default_kind="constant",
        default_text="10",
    )
    client_admin.post("/t/supply/new/", {"item": "Скрепки", "qty": ""})
    # then
    assert bad.status_code == 200
    assert "Значение по умолчанию не подходит" in bad.content.decode()
    assert good.status_code == 302
    supply = Table.objects.get(key="supply")
    assert Field.objects.get(table=supply, key="qty").default == {"kind": "constant", "value": 10}
    assert values_of(supply, "qty") == [10]


def test_rename_a_field_keeps_its_column(client_admin):
    # given
    supply = make_table([{"key": "item", "label": "Товар", "type": "text"}], key="supply")
    create_records(SYSTEM, supply, [{"item": "Бумага"}])
    field = Field.objects.get(table=supply, key="item")
    columns = column_names(supply.db_table)
    # when
    response = client_admin.post(
        "/designer/t/supply/f/item/", edit_data(field, label="Наименование")
    )
    # then
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.key, field.db_column) == ("Наименование", "item", f"f_{field.pk}")
    assert column_names(supply.db_table) == columns
    assert values_of(supply, "item") == ["Бумага"]
    assert "Наименование" in client_admin.get("/t/supply/").content.decode()


def test_change_field_settings(client_admin):
    # given
    supply = make_table([{"key": "item", "label": "Товар", "type": "text"}], key="supply")
    field = Field.objects.get(table=supply, key="item")
    # when
    client_admin.post(
        "/designer/t/supply/f/item/",
        edit_data(
            field,
            required="on",
            unique="on",
            group="Основное",
            help_text="Как в накладной",
            max_length=100,
            show_in_grid=None,
            show_in_edit=None,
        ),
    )
    # then
    field.refresh_from_db()
    assert (field.required, field.unique, field.group, field.help_text) == (
        True,
        True,
        "Основное",
        "Как в накладной",
    )
    assert (field.show_in_grid, field.show_in_add, field.show_in_edit) == (False, True, False)
    assert field.options == {"max_length": 100}


def grid_headers(html: str) -> list[str]:
    """The labels of the grid's field columns, in order (sortable or not)."""
    import re

    found = re.findall(r'<th scope="col">(?:<a class="text-nowrap"[^>]*>)?([^<↑↓]+)', html)
    return [label.strip() for label in found]


def test_fields_hidden_by_the_designer_leave_the_grid_and_the_forms(client_admin):
    # given
    supply = make_table(
        [
            {"key": "item", "label": "Товар", "type": "text"},
            {"key": "qty", "label": "Количество", "type": "integer"},
            {"key": "note", "label": "Примечание", "type": "text"},
            {"key": "code", "label": "Артикул", "type": "text"},
        ],
        [{"item": "Бумага", "qty": 7, "note": "срочно", "code": "A-1"}],
        key="supply",
    )
    record = model_for(supply).objects.get()
    fields = {f.key: f for f in Field.objects.filter(table=supply)}
    # when: «Количество» off the grid, «Примечание» off the add form, «Артикул» off the edit form
    responses = [
        client_admin.post("/designer/t/supply/f/qty/", edit_data(fields["qty"], show_in_grid=None)),
        client_admin.post(
            "/designer/t/supply/f/note/", edit_data(fields["note"], show_in_add=None)
        ),
        client_admin.post(
            "/designer/t/supply/f/code/", edit_data(fields["code"], show_in_edit=None)
        ),
    ]
    grid = client_admin.get("/t/supply/").content.decode()
    add_form = client_admin.get("/t/supply/new/").content.decode()
    edit_form = client_admin.get(f"/t/supply/{record.pk}/edit/").content.decode()
    # then
    assert [r.status_code for r in responses] == [302] * 3
    assert grid_headers(grid) == ["Товар", "Примечание", "Артикул"]
    assert ('name="qty"' in add_form, 'name="note"' in add_form, 'name="code"' in add_form) == (
        True,
        False,
        True,
    )
    assert ('name="qty"' in edit_form, 'name="note"' in edit_form) == (True, True)
    assert 'name="code"' not in edit_form

    # when: the forms are sent with values for the fields they do not show
    added = client_admin.post(
        "/t/supply/new/", {"item": "Скрепки", "qty": "3", "note": "тайком", "code": "B-2"}
    )
    edited = client_admin.post(
        f"/t/supply/{record.pk}/edit/",
        {"item": "Бумага", "qty": "8", "note": "срочно", "code": "ПОДМЕНА"},
    )
    # then: the hidden field is neither written nor cleared
    assert (added.status_code, edited.status_code) == (302, 302)
    rows = model_for(supply).objects.order_by("id").values_list("item", "qty", "note", "code")
    assert list(rows) == [("Бумага", 8, "срочно", "A-1"), ("Скрепки", 3, None, "B-2")]


def card_groups(html: str) -> list[tuple[str, list[str]]]:
    """The record card's field blocks: (group heading or "", field keys under it)."""
    import re

    blocks = re.findall(
        r'<div class="card shadow-sm mb-3">\s*'
        r'(?:<div class="card-header fw-semibold">([^<]*)</div>)?\s*'
        r'<div class="card-body py-2">(.*?)</dl>',
        html,
        re.S,
    )
    return [(heading, re.findall(r'data-field="([^"]+)"', body)) for heading, body in blocks]


def test_a_field_group_is_a_heading_on_the_card_with_its_fields_under_it(client_admin):
    # given
    supply = make_table(
        [
            {"key": "item", "label": "Товар", "type": "text"},
            {"key": "inn", "label": "ИНН поставщика", "type": "text"},
            {"key": "kpp", "label": "КПП поставщика", "type": "text"},
            {"key": "note", "label": "Примечание", "type": "text"},
        ],
        [{"item": "Бумага", "inn": "7707083893", "kpp": "773601001"}],
        key="supply",
    )
    record = model_for(supply).objects.get()
    fields = {f.key: f for f in Field.objects.filter(table=supply)}
    # when
    for key in ("inn", "kpp"):
        client_admin.post(f"/designer/t/supply/f/{key}/", edit_data(fields[key], group="Реквизиты"))
    card = client_admin.get(f"/t/supply/{record.pk}/").content.decode()
    # then: the fields of no group share one block without a heading
    assert card_groups(card) == [("", ["item", "note"]), ("Реквизиты", ["inn", "kpp"])]
    assert card.count('<div class="card-header fw-semibold">Реквизиты</div>') == 1


def test_retype_text_to_integer_converts_the_values(client_admin):
    # given
    supply = make_table([{"key": "qty", "label": "Количество", "type": "text"}], key="supply")
    create_records(SYSTEM, supply, [{"qty": "12"}, {"qty": "1 234"}, {"qty": None}])
    field = Field.objects.get(table=supply, key="qty")
    # when
    response = client_admin.post("/designer/t/supply/f/qty/", edit_data(field, type="integer"))
    # then
    assert response.status_code == 302
    field.refresh_from_db()
    assert field.type == "integer"
    assert values_of(supply, "qty") == [12, 1234, None]
    assert "1\u00a0234" in client_admin.get("/t/supply/").content.decode()


def test_retype_that_cannot_convert_is_refused_and_changes_nothing(client_admin):
    # given
    supply = make_table([{"key": "qty", "label": "Количество", "type": "text"}], key="supply")
    create_records(SYSTEM, supply, [{"qty": "12"}, {"qty": "abc"}])
    field = Field.objects.get(table=supply, key="qty")
    columns = column_names(supply.db_table)
    version = Table.objects.get(pk=supply.pk).schema_version
    # when
    response = client_admin.post(
        "/designer/t/supply/f/qty/", edit_data(field, type="integer", label="Штук")
    )
    # then: the message names the value; neither type, label, column nor data changed
    html = response.content.decode()
    assert response.status_code == 200
    assert "Значение 1 записи не подходит для нового типа" in html
    assert "«abc»" in html
    field.refresh_from_db()
    assert (field.type, field.label) == ("text", "Количество")
    assert values_of(supply, "qty") == ["12", "abc"]
    assert column_names(supply.db_table) == columns
    assert Table.objects.get(pk=supply.pk).schema_version == version


def test_retype_offers_only_types_that_convert(client_admin):
    # given
    make_table([{"key": "when", "label": "Когда", "type": "date"}], key="supply")
    # when
    html = client_admin.get("/designer/t/supply/f/when/").content.decode()
    # then: date → datetime and text convert; date → link or integer do not
    assert 'value="datetime"' in html and 'value="text"' in html
    assert 'value="integer"' not in html and 'value="link"' not in html


def test_edit_choice_options_labels_colours_and_order(client_admin):
    # given
    supply = make_table(
        [
            {
                "key": "state",
                "label": "Состояние",
                "type": "choice",
                "choices": [("wait", "Ждём"), ("done", "Получено"), ("lost", "Потеряно")],
            }
        ],
        key="supply",
    )
    create_records(SYSTEM, supply, [{"state": "done"}])
    field = Field.objects.get(table=supply, key="state")
    rows = [
        {"key": "wait", "label": "Ожидается", "color": "#0dcaf0", "existing": "True", "ORDER": "2"},
        {"key": "done", "label": "Получено", "color": "#198754", "existing": "True", "ORDER": "1"},
        {
            "key": "lost",
            "label": "Потеряно",
            "color": "#000000",
            "no_color": "on",
            "existing": "True",
            "ORDER": "3",
            "DELETE": "on",
        },
        {"label": "Возврат", "color": "#dc3545", "ORDER": "4"},
    ]
    # when
    response = client_admin.post(
        "/designer/t/supply/f/state/",
        edit_data(field, **choice_rows("choices", rows, initial=3, total=6)),
    )
    # then
    assert response.status_code == 302
    assert [
        (c.key, c.label, c.color) for c in Choice.objects.filter(field=field).order_by("position")
    ] == [
        ("done", "Получено", "#198754"),
        ("wait", "Ожидается", "#0dcaf0"),
        ("vozvrat", "Возврат", "#dc3545"),
    ]


def test_removing_a_choice_in_use_is_refused(client_admin):
    # given
    supply = make_table(
        [
            {
                "key": "state",
                "label": "Состояние",
                "type": "choice",
                "choices": [("wait", "Ждём"), ("done", "Получено")],
            }
        ],
        key="supply",
    )
    create_records(SYSTEM, supply, [{"state": "done"}])
    field = Field.objects.get(table=supply, key="state")
    rows = [
        {"key": "wait", "label": "Ждём", "existing": "True", "ORDER": "1", "no_color": "on"},
        {"key": "done", "label": "Получено", "existing": "True", "ORDER": "2", "DELETE": "on"},
    ]
    # when
    response = client_admin.post(
        "/designer/t/supply/f/state/",
        edit_data(field, label="Стадия", **choice_rows("choices", rows, initial=2)),
    )
    # then
    assert response.status_code == 200
    assert "Нельзя удалить варианты, которые заполнены в записях: Получено." in (
        response.content.decode()
    )
    field.refresh_from_db()
    assert field.label == "Состояние"
    assert list(field.choices.values_list("key", flat=True)) == ["wait", "done"]


def test_remove_a_field_drops_its_column(client_admin):
    # given
    supply = make_table(
        [
            {"key": "item", "label": "Товар", "type": "text"},
            {"key": "note", "label": "Заметка", "type": "text"},
        ],
        key="supply",
    )
    column = Field.objects.get(table=supply, key="note").db_column
    assert column in column_names(supply.db_table)
    # when
    response = client_admin.post("/designer/t/supply/f/note/remove/", follow=True)
    # then
    assert "Поле «Заметка» удалено вместе с данными." in response.content.decode()
    assert not Field.objects.filter(table=supply, key="note").exists()
    assert column not in column_names(supply.db_table)


def test_system_field_cannot_be_removed(client_admin, table):
    # given
    counterparties = table("counterparties")
    columns = column_names(counterparties.db_table)
    page = client_admin.get("/designer/t/counterparties/").content.decode()
    # when
    response = client_admin.post("/designer/t/counterparties/f/name/remove/", follow=True)
    # then: the button is disabled, and the request is refused with the message
    assert 'title="Системное поле удалить нельзя"' in page
    assert "Поле «Название» системное: его нельзя удалить." in response.content.decode()
    assert Field.objects.filter(table=counterparties, key="name").exists()
    assert column_names(counterparties.db_table) == columns


def test_system_field_type_cannot_change(client_admin, table):
    # given
    field = Field.objects.get(table=table("counterparties"), key="city")
    # when: the select is disabled; a forged type is ignored, the label still changes
    response = client_admin.post(
        "/designer/t/counterparties/f/city/",
        edit_data(field, type="integer", label="Населённый пункт"),
    )
    # then
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.type, field.label) == ("text", "Населённый пункт")


def test_reorder_fields_up_and_down(client_admin):
    # given
    supply = make_table(
        [
            {"key": "a", "label": "Первое", "type": "text"},
            {"key": "b", "label": "Второе", "type": "text"},
            {"key": "c", "label": "Третье", "type": "text"},
        ],
        key="supply",
    )

    def order() -> list[str]:
        return list(
            Field.objects.filter(table=supply)
            .order_by("position", "id")
            .values_list("key", flat=True)
        )

    # when: plain POST moves «a» down
    response = client_admin.post("/designer/t/supply/f/a/move/", {"direction": "down"})
    # then
    assert response.status_code == 302
    assert order() == ["b", "a", "c"]

    # when: HTMX moves «c» up and gets only the field list back
    response = client_admin.post(
        "/designer/t/supply/f/c/move/", {"direction": "up"}, HTTP_HX_REQUEST="true"
    )
    # then
    html = response.content.decode()
    assert order() == ["b", "c", "a"]
    assert 'id="fields"' in html and "<html" not in html
    assert html.index("Второе") < html.index("Третье") < html.index("Первое")

    # when: the first one cannot go higher
    client_admin.post("/designer/t/supply/f/b/move/", {"direction": "up"})
    # then
    assert order() == ["b", "c", "a"]


def test_table_settings_rename_category_and_title_template(client_admin, table):
    # given
    supply = make_table(
        [
            {"key": "item", "label": "Товар", "type": "text"},
            {"key": "qty", "label": "Количество", "type": "integer"},
        ],
        key="supply",
    )
    create_records(SYSTEM, supply, [{"item": "Бумага", "qty": 5}])
    # when
    response = client_admin.post(
        "/designer/t/supply/settings/",
        {
            "settings-label": "Поставки товаров",
            "settings-category": "company",
            "settings-title_template": "{item} {qty}",
        },
    )
    # then
    assert response.status_code == 302
    supply.refresh_from_db()
    assert (supply.label, supply.category.key, supply.title_template) == (
        "Поставки товаров",
        "company",
        "{item} {qty}",
    )
    record = model_for(supply).objects.get()
    assert str(record) == "Бумага 5"
    assert "Поставки товаров" in client_admin.get("/").content.decode()


def test_bad_title_template_is_refused(client_admin):
    # given
    supply = make_table([{"key": "item", "label": "Товар", "type": "text"}], key="supply")
    # when
    unknown = client_admin.post(
        "/designer/t/supply/settings/",
        {"settings-label": "Поставки", "settings-title_template": "{item} {price}"},
    )
    unpaired = client_admin.post(
        "/designer/t/supply/settings/",
        {"settings-label": "Поставки", "settings-title_template": "{item"},
    )
    # then
    assert "В шаблоне названия записи неизвестные поля: {price}." in unknown.content.decode()
    assert "непарная фигурная скобка" in unpaired.content.decode()
    supply.refresh_from_db()
    assert (supply.label, supply.title_template) == ("Вещи", "")


def test_rename_and_delete_categories(client_admin):
    # given
    client_admin.post("/designer/categories/new/", {"category-label": "Склад"})
    # when
    client_admin.post("/designer/categories/sklad/rename/", {"label": "Склад и логистика"})
    refused = client_admin.post("/designer/categories/crm/delete/", follow=True)
    deleted = client_admin.post("/designer/categories/sklad/delete/", follow=True)
    # then
    assert "В категории «Клиенты» есть таблицы: Контрагенты" in refused.content.decode()
    assert Category.objects.filter(key="crm").exists()
    assert "Категория «Склад и логистика» удалена." in deleted.content.decode()
    assert not Category.objects.filter(key="sklad").exists()


def test_delete_tables(client_admin, table):
    # given
    supply = make_table([{"key": "item", "label": "Товар", "type": "text"}], key="supply")
    db_table = supply.db_table
    # when
    builtin = client_admin.post("/designer/t/counterparties/delete/", follow=True)
    deleted = client_admin.post("/designer/t/supply/delete/", follow=True)
    # then
    assert "Встроенную таблицу удалить нельзя." in builtin.content.decode()
    assert Table.objects.filter(key="counterparties").exists()
    assert "Таблица «Вещи» удалена вместе с записями." in deleted.content.decode()
    assert not Table.objects.filter(key="supply").exists()
    assert not table_exists(db_table)


def test_table_that_others_link_to_is_not_deleted(client_admin, table):
    # given
    target = make_table([{"key": "item", "label": "Товар", "type": "text"}], key="goods")
    make_table(
        [{"key": "goods", "label": "Товар", "type": "link", "link_table": target}],
        key="orders",
        label="Заказы",
    )
    # when
    response = client_admin.post("/designer/t/goods/delete/", follow=True)
    # then
    assert "На таблицу ссылаются поля других таблиц: Заказы." in response.content.decode()
    assert Table.objects.filter(key="goods").exists()


def test_anonymous_visitor_is_sent_to_log_in(client, crm):
    response = client.get("/designer/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/designer/"


def test_manager_gets_403_everywhere_and_changes_nothing(client_manager, table):
    # given
    supply = make_table(
        [
            {"key": "item", "label": "Товар", "type": "text"},
            {"key": "qty", "label": "Количество", "type": "text"},
        ],
        key="supply",
    )

    def snapshot() -> tuple:
        return (
            list(Category.objects.values_list("key", "label")),
            list(Table.objects.values_list("key", "label", "title_template", "schema_version")),
            list(Field.objects.values_list("table__key", "key", "label", "type", "position")),
        )

    before = snapshot()
    gets = [
        "/designer/",
        "/designer/t/supply/",
        "/designer/t/supply/f/item/",
        "/designer/t/supply/add-field/?new-type=choice",
    ]
    posts = [
        ("/designer/categories/new/", {"category-label": "Склад"}),
        ("/designer/categories/crm/rename/", {"label": "Другое"}),
        ("/designer/categories/company/delete/", {}),
        ("/designer/tables/new/", {"table-label": "Товары"}),
        ("/designer/t/supply/settings/", {"settings-label": "Другое"}),
        ("/designer/t/supply/delete/", {}),
        ("/designer/t/supply/add-field/", {**SHOWN, "new-label": "Цена", "new-type": "text"}),
        ("/designer/t/supply/f/qty/", {"label": "Штук", "type": "integer"}),
        ("/designer/t/supply/f/qty/move/", {"direction": "up"}),
        ("/designer/t/supply/f/qty/remove/", {}),
    ]
    # when
    statuses = [client_manager.get(url).status_code for url in gets]
    statuses += [client_manager.post(url, data).status_code for url, data in posts]
    # then
    assert statuses == [403] * (len(gets) + len(posts))
    assert snapshot() == before
    assert table_exists(supply.db_table)


def test_every_builtin_table_and_field_opens_in_the_designer(client_admin):
    # when: every table page and every field's edit page, in both languages
    statuses = {}
    for t in Table.objects.all():
        statuses[t.key] = client_admin.get(f"/designer/t/{t.key}/").status_code
        for f in Field.objects.filter(table=t):
            url = f"/designer/t/{t.key}/f/{f.key}/"
            statuses[f"{t.key}.{f.key}"] = client_admin.get(url).status_code
    english = client_admin.get("/designer/t/counterparties/", HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert set(statuses.values()) == {200}
    assert len(statuses) > 50
    assert english.status_code == 200


def test_saving_a_builtin_field_unchanged_keeps_its_settings(client_admin, table):
    # given: fields with a default of each kind, a validator and a subtable link
    cases = [("counterparties", "kind"), ("counterparties", "manager"), ("counterparties", "inn")]
    cases += [("contacts", "counterparty"), ("client_work", "date")]
    for table_key, field_key in cases:
        field = Field.objects.get(table__key=table_key, key=field_key)
        before = (field.type, field.options, field.default, field.link_table_id, field.required)
        page = client_admin.get(f"/designer/t/{table_key}/f/{field_key}/")
        form = page.context["form"]
        data = {}
        for name, bound in form.fields.items():
            value = form[name].value()
            if bound.disabled or value in (None, False):
                continue
            data[name] = "on" if value is True else value
        if form.has_choices:
            formset = page.context["choices"]
            rows = [
                {k: ("on" if v is True else v) for k, v in f.initial.items() if v is not False}
                | {"ORDER": str(i + 1)}
                for i, f in enumerate(formset.forms[: formset.initial_form_count()])
            ]
            data.update(choice_rows("choices", rows, initial=len(rows)))
        # when
        response = client_admin.post(f"/designer/t/{table_key}/f/{field_key}/", data)
        # then
        assert response.status_code == 302, (table_key, field_key)
        field.refresh_from_db()
        after = (field.type, field.options, field.default, field.link_table_id, field.required)
        assert after == before, (table_key, field_key)


def test_choice_colour_must_be_a_colour(client_admin):
    # given
    client_admin.post("/designer/tables/new/", {"table-label": "Поставки", "table-key": "supply"})
    # when
    response = add_field(
        client_admin,
        "supply",
        label="Состояние",
        type="choice",
        choices=choice_rows("choices", [{"label": "Ждём", "color": "red;background:url(x)"}]),
    )
    # then
    assert response.status_code == 200
    assert "Цвет записывается как #RRGGBB." in response.content.decode()
    assert not Field.objects.filter(table__key="supply").exists()
