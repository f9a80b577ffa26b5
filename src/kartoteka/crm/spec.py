"""The default CRM configuration (SPEC §3), declared in code.

Keys are stable: code, the API and import templates use them. Labels are what people see and an
administrator may change them. :func:`kartoteka.crm.setup.sync` writes these into the metadata.
"""

from __future__ import annotations

from kartoteka.tables.builtin import CategorySpec, FieldSpec, TableSpec
from kartoteka.tables.services import ChoiceSpec as C

F = FieldSpec

CATEGORIES = [
    CategorySpec("crm", "Клиенты"),
    CategorySpec("work", "Задания и события"),
    CategorySpec("company", "Компания"),
]

#: Sales stages in order; «Отказ» stands outside the order.
STATUS_CHOICES = (
    C("cold", "Холодный", "#6c757d"),
    C("interested", "Заинтересован", "#0dcaf0"),
    C("proposal", "Отправлено предложение", "#0d6efd"),
    C("negotiation", "Переговоры", "#6f42c1"),
    C("invoice", "Выписан счёт", "#fd7e14"),
    C("paid", "Получена оплата", "#198754"),
    C("refused", "Отказ", "#dc3545"),
)
TYPE_CHOICES = (
    C("potential", "Потенциальный", "#6c757d"),
    C("client", "Клиент", "#198754"),
    C("partner", "Партнёр", "#0d6efd"),
)
KIND_CHOICES = (
    C("legal", "Юридическое лицо"),
    C("entrepreneur", "ИП"),
    C("person", "Физическое лицо"),
)
WORK_TYPES = (
    C("call", "Звонок"),
    C("letter", "Письмо"),
    C("meeting", "Встреча"),
    C("invoice", "Выставление счёта", system_only=True),
    C("payment", "Получение оплаты", system_only=True),
)
PRIORITIES = (
    C("low", "Низкий", "#6c757d"),
    C("normal", "Обычный", "#0d6efd"),
    C("high", "Высокий", "#fd7e14"),
    C("urgent", "Срочный", "#dc3545"),
)
TASK_STATES = (
    C("new", "Новое", "#0dcaf0"),
    C("in_progress", "В работе", "#0d6efd"),
    C("done", "Выполнено", "#198754"),
    C("cancelled", "Отменено", "#6c757d"),
)
VAT_RATES = (
    C("none", "Без НДС"),
    C("vat0", "0 %"),
    C("vat10", "10 %"),
    C("vat20", "20 %"),
)
SOURCES = (
    C("site", "Сайт"),
    C("call", "Входящий звонок"),
    C("referral", "Рекомендация"),
    C("exhibition", "Выставка"),
    C("import", "Импорт"),
    C("other", "Другое"),
)


def const(value: object) -> dict[str, object]:
    return {"kind": "constant", "value": value}


CURRENT_USER = {"kind": "current_user"}
#: Columns big grids are sorted and filtered by get a database index.
INDEXED = {"indexed": True}
TODAY = {"kind": "today"}

TABLES = [
    TableSpec(
        "counterparties",
        "Контрагенты",
        "crm",
        title_template="{name}",
        fields=(
            F("name", "Название", "text", required=True, options=INDEXED),
            F("kind", "Вид", "choice", choices=KIND_CHOICES, default=const("legal")),
            F("inn", "ИНН", "text", unique=True, options={"max_length": 12, "validator": "inn"}),
            F(
                "kpp",
                "КПП",
                "text",
                options={"max_length": 9, "validator": "kpp"},
                show_in_grid=False,
            ),
            F("phone", "Телефон", "phone"),
            F("email", "E-mail", "email"),
            F("website", "Сайт", "url", show_in_grid=False),
            F("address", "Адрес", "text", options={"max_length": 500}, show_in_grid=False),
            F("city", "Город", "text", options=INDEXED),
            F("manager", "Менеджер", "user", default=CURRENT_USER),
            F(
                "type",
                "Тип",
                "choice",
                choices=TYPE_CHOICES,
                default=const("potential"),
                options=INDEXED,
            ),
            F(
                "status",
                "Статус",
                "choice",
                choices=STATUS_CHOICES,
                default=const("cold"),
                options=INDEXED,
            ),
            F("source", "Источник", "choice", choices=SOURCES, show_in_grid=False),
            F("comment", "Комментарий", "long_text", show_in_grid=False),
            F("no_mailing", "Не отправлять рассылки", "boolean", show_in_grid=False),
        ),
    ),
    TableSpec(
        "contacts",
        "Контактные лица",
        "crm",
        title_template="{full_name}",
        fields=(
            F(
                "counterparty",
                "Контрагент",
                "link",
                link="counterparties",
                required=True,
                options={"subtable": True},
            ),
            F("full_name", "ФИО", "text", required=True),
            F("position", "Должность", "text"),
            F("phone", "Телефон", "phone"),
            F("email", "E-mail", "email"),
        ),
    ),
    TableSpec(
        "client_work",
        "Работа с клиентом",
        "crm",
        title_template="{work_type} {date}",
        fields=(
            F(
                "counterparty",
                "Контрагент",
                "link",
                link="counterparties",
                required=True,
                options={"subtable": True},
            ),
            F("date", "Дата", "date", required=True, default=TODAY, options=INDEXED),
            F("work_type", "Вид работы", "choice", choices=WORK_TYPES, required=True),
            F("description", "Описание", "long_text"),
            F("result", "Результат", "long_text"),
            F("done", "Выполнено", "boolean"),
            F(
                "status_before",
                "Статус до",
                "choice",
                choices=STATUS_CHOICES,
                read_only=True,
                show_in_add=False,
            ),
            F("status", "Статус после", "choice", choices=STATUS_CHOICES),
            F("manager", "Менеджер", "user", default=CURRENT_USER),
        ),
    ),
    TableSpec(
        "companies",
        "Моя компания",
        "company",
        title_template="{name}",
        fields=(
            F("name", "Название", "text", required=True),
            F("inn", "ИНН", "text", options={"max_length": 12, "validator": "inn"}),
            F("kpp", "КПП", "text", options={"max_length": 9, "validator": "kpp"}),
            F("ogrn", "ОГРН", "text", options={"max_length": 15, "validator": "ogrn"}),
            F("address", "Адрес", "text", options={"max_length": 500}),
            F("phone", "Телефон", "phone"),
            F("bank", "Банк", "text", group="Банковские реквизиты"),
            F("bik", "БИК", "text", options={"max_length": 9}, group="Банковские реквизиты"),
            F(
                "account",
                "Расчётный счёт",
                "text",
                options={"max_length": 20},
                group="Банковские реквизиты",
            ),
            F(
                "corr_account",
                "Корр. счёт",
                "text",
                options={"max_length": 20},
                group="Банковские реквизиты",
            ),
            F("director", "Руководитель", "text", group="Подписи"),
            F("accountant", "Бухгалтер", "text", group="Подписи"),
            F("vat_rate", "Ставка НДС", "choice", choices=VAT_RATES, default=const("vat20")),
            F("vat_included", "НДС в цене", "boolean", default=const(True)),
            F("is_default", "Основная", "boolean"),
            F("stamp", "Печать", "file", group="Подписи"),
            F("signature", "Подпись руководителя", "file", group="Подписи"),
        ),
    ),
    TableSpec(
        "employees",
        "Сотрудники",
        "company",
        title_template="{full_name}",
        fields=(
            F("full_name", "ФИО", "text", required=True),
            F("position", "Должность", "text"),
            F("phone", "Телефон", "phone"),
            F("email", "E-mail", "email"),
            F("user", "Учётная запись", "user", unique=True),
            F("access_group", "Группа доступа", "text", read_only=True, show_in_add=False),
            F("bonus_percent", "Бонус, %", "decimal"),
        ),
    ),
    TableSpec(
        "invoices",
        "Счета",
        "crm",
        title_template="№{number} от {date}",
        fields=(
            F("number", "Номер", "text", required=True, options=INDEXED),
            F("date", "Дата", "date", required=True, default=TODAY, options=INDEXED),
            F("company", "Наша компания", "link", link="companies"),
            F(
                "counterparty",
                "Контрагент",
                "link",
                link="counterparties",
                required=True,
                options={"subtable": True},
            ),
            F("manager", "Менеджер", "user", default=CURRENT_USER),
            F("due_date", "Оплатить до", "date"),
            F("total", "Сумма", "money", read_only=True),
            F("vat", "НДС", "money", read_only=True),
            F("paid", "Оплачен", "boolean"),
            F("paid_date", "Дата оплаты", "date"),
        ),
    ),
    TableSpec(
        "invoice_items",
        "Позиции счёта",
        "crm",
        title_template="{name}",
        fields=(
            F(
                "invoice",
                "Счёт",
                "link",
                link="invoices",
                required=True,
                options={"subtable": True},
            ),
            F("name", "Наименование", "text", required=True, options={"max_length": 500}),
            F("quantity", "Количество", "decimal", options={"decimal_places": 3}, default=const(1)),
            F("unit", "Ед.", "text", options={"max_length": 20}, default=const("шт")),
            F("price", "Цена", "money"),
            F("vat_rate", "Ставка НДС", "choice", choices=VAT_RATES),
            F("sum", "Сумма", "money", read_only=True),
        ),
    ),
    TableSpec(
        "tasks",
        "Задания",
        "work",
        title_template="{title}",
        fields=(
            F("title", "Задание", "text", required=True),
            F("description", "Описание", "long_text"),
            F("assignee", "Исполнитель", "user"),
            F("author", "Автор", "user", default=CURRENT_USER, read_only=True),
            F("hours_needed", "Нужно часов", "decimal", options={"decimal_places": 1}),
            F("deadline", "Срок", "datetime", options=INDEXED),
            F("priority", "Приоритет", "choice", choices=PRIORITIES, default=const("normal")),
            F("state", "Состояние", "choice", choices=TASK_STATES, default=const("new")),
            F("counterparty", "Контрагент", "link", link="counterparties"),
        ),
    ),
    TableSpec(
        "task_work",
        "Работа по заданию",
        "work",
        title_template="{date}",
        fields=(
            F("task", "Задание", "link", link="tasks", required=True, options={"subtable": True}),
            F("date", "Дата", "date", required=True, default=TODAY),
            F("description", "Описание", "long_text"),
            F("hours_spent", "Затрачено часов", "decimal", options={"decimal_places": 1}),
            F("done", "Выполнено", "boolean"),
            F(
                "state_before",
                "Состояние до",
                "choice",
                choices=TASK_STATES,
                read_only=True,
                show_in_add=False,
            ),
            F("state", "Состояние после", "choice", choices=TASK_STATES),
        ),
    ),
    TableSpec(
        "events",
        "События",
        "work",
        title_template="{title}",
        fields=(
            F("title", "Событие", "text", required=True),
            F("start", "Начало", "datetime", required=True),
            F("end", "Окончание", "datetime"),
            F("participants", "Участники", "text", options={"max_length": 500}),
            F("counterparty", "Контрагент", "link", link="counterparties"),
            F("place", "Место", "text"),
            F("description", "Описание", "long_text"),
        ),
    ),
]
