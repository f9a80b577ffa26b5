"""The template sandbox: refusals of template injection, checks at save time, the helpers, and a
record as its user sees it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import NotFound
from kartoteka.templating import (
    TemplateProblem,
    TemplateRefused,
    base_context,
    check,
    describe,
    record_context,
    render,
    sample_context,
)
from kartoteka.templating.helpers import (
    amount_words,
    dative,
    decline,
    genitive,
    initials,
    instrumental,
    long_date,
    money,
    number_words,
)

D = Decimal

PAYLOADS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os }}",
    "{{ self }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ config }}",
    "{{ config.items() }}",
    "{{ request }}",
    "{{ request.application.__globals__ }}",
    "{{ settings.SECRET_KEY }}",
    "{{ range(10) }}",
    "{{ x['__class__'] }}",
    "{{ x|attr('__class__') }}",
    "{{ [x]|map(attribute='__class__')|list }}",
    "{{ x.upper() }}",
    "{{ x.format }}",
    "{{ '{0.__class__}'.format(x) }}",
    "{% set f = x.upper %}{{ f() }}",
    "{% for a in x %}{{ loop.cycle('a', 'b') }}{% endfor %}",
    "{{ 'a' * 1000000 }}",
    "{{ 9 ** 99999 }}",
    "{% include 'base.html' %}",
    "{% import 'base.html' as b %}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_are_refused_never_rendered(payload):
    # when / then
    with pytest.raises(TemplateRefused) as refused:
        render(payload, {"x": "abc"})
    assert refused.value.problems
    assert refused.value.code == "template_refused"
    # and the save-time check refuses it as well
    assert check(payload, {"x": "abc"})


def test_refusals_name_the_line_and_the_name():
    source = "Договор\n{{ record.name }}\n{{ config }}\n{{ x.__class__ }}"
    problems = check(source, {"record": {"name": "a"}, "x": 1})
    assert problems == [
        TemplateProblem(3, "config", "неизвестное имя «config»"),
        TemplateProblem(4, "__class__", "обращение к «__class__» запрещено"),
    ]
    assert str(problems[0]) == "Строка 3: неизвестное имя «config»"


def test_syntax_error_and_unknown_filter_are_refused_with_their_line():
    assert check("a\n{% for %}", {}) == [
        TemplateProblem(
            2,
            "",
            "ошибка в записи шаблона: Expected an expression, got 'end of statement block'",
        )
    ]
    assert check("a\n\n{{ 1|nosuch }}", {}) == [
        TemplateProblem(3, "nosuch", "неизвестный фильтр или проверка «nosuch»")
    ]


def test_helpers_write_a_russian_document():
    assert amount_words(D("128505")) == "Сто двадцать восемь тысяч пятьсот пять рублей 00 копеек"
    assert amount_words("1200,51") == "Одна тысяча двести рублей 51 копейка"
    assert amount_words(None) == ""
    assert long_date(dt.date(2026, 12, 7)) == "7 декабря 2026 г."
    assert money(D("1234.56")) == "1\u00a0234,56"
    assert money(5) == "5,00"
    assert number_words(128) == "сто двадцать восемь"
    assert number_words(D("12.5")) == "двенадцать целых пять десятых"
    assert genitive("Иванов Иван Иванович") == "Иванова Ивана Ивановича"
    assert dative("Петрова Мария Сергеевна") == "Петровой Марии Сергеевне"
    assert instrumental("Иванов Иван Иванович") == "Ивановым Иваном Ивановичем"
    assert genitive("Иван Иванович Иванов") == "Ивана Ивановича Иванова"
    assert genitive("") == ""
    assert initials("Иванов Иван Иванович") == "Иванов И. И."
    assert decline("генеральный директор") == "генерального директора"
    assert decline("Директор по продажам", "dative") == "Директору по продажам"


def test_helpers_are_filters_and_functions_and_values_print_the_russian_way():
    context = {"sum": D("1234.50"), "day": dt.date(2026, 1, 2), "none": None, "yes": True}
    source = (
        "{{ sum }}|{{ sum|money }}|{{ amount_words(sum) }}|{{ day }}|{{ day|long_date }}"
        "|{{ none }}|{{ yes }}|{{ 'Иванов Иван Иванович'|genitive }}"
    )
    assert render(source, context) == (
        "1\u00a0234,50|1\u00a0234,50|Одна тысяча двести тридцать четыре рубля 50 копеек"
        "|02.01.2026|2 января 2026 г.||Да|Иванова Ивана Ивановича"
    )


def test_html_escapes_values():
    assert render("<b>{{ name }}</b>", {"name": "<i>x</i>"}, html=True) == (
        "<b>&lt;i&gt;x&lt;/i&gt;</b>"
    )


# -- records ---------------------------------------------------------------------------------


@pytest.fixture
def deal(crm, table):
    from tests.crm.test_invoices import make_company, make_counterparty, make_invoice

    company = make_company(is_default=True, director="Орлов Сергей Петрович")
    counterparty = make_counterparty()
    invoice = make_invoice(
        counterparty,
        [("Лицензия", 1, "шт", D("1000.00")), ("Обучение", 2, "ч", D("100.00"))],
        company=company,
        number="2026-0042",
        date=dt.date(2026, 3, 5),
    )
    return company, counterparty, invoice


INVOICE_SOURCE = """№ {{ record.number }} от {{ record.date|long_date }}
Покупатель: {{ record.counterparty.name }}, ИНН {{ record.counterparty.inn }}
{% for item in record.invoice_items %}{{ loop.index }}. {{ item.name }} {{ item.sum|money }}
{% endfor %}Итого: {{ record.total|amount_words }}
{{ company.name }} в лице {{ company.director|genitive }}; {{ user.full_name }}"""


def test_a_record_renders_with_links_subtables_company_and_user(deal, table, admin_user):
    _company, counterparty, invoice = deal
    invoices = table("invoices")
    context = {"record": record_context(invoices, invoice, admin_user), **base_context(admin_user)}
    assert check(INVOICE_SOURCE, sample_context(invoices)) == []
    assert render(INVOICE_SOURCE, context) == (
        "№ 2026-0042 от 5 марта 2026 г.\n"
        f"Покупатель: ООО «Ромашка», ИНН {counterparty.inn}\n"
        "1. Лицензия 1\u00a0000,00\n"
        "2. Обучение 200,00\n"
        "Итого: Одна тысяча двести рублей 00 копеек\n"
        "ООО «Картотека» в лице Орлова Сергея Петровича; Петров Пётр"
    )


def test_unknown_fields_are_refused_at_save_time_with_line(table, crm):
    sample = sample_context(table("invoices"))
    problems = check("{{ record.number }}\n{{ record.counterparty.nosuch }}", sample)
    assert problems == [TemplateProblem(2, "nosuch", "у «record.counterparty» нет поля «nosuch»")]
    in_loop = "{% for item in record.invoice_items %}\n{{ item.weight }}{% endfor %}"
    assert check(in_loop, sample) == [
        TemplateProblem(2, "weight", "у «invoice_items» нет поля «weight»")
    ]


def test_fields_the_user_may_not_read_render_empty_and_unreadable_records_are_refused(crm):
    from tests.access.conftest import SECRET_INN, build_world

    world = build_world()
    from kartoteka.tables.models import Table

    counterparties = Table.objects.get(key="counterparties")
    invoices = Table.objects.get(key="invoices")
    hidden_user = world.users["hidden"]
    target = world.targets["hidden"]
    mine = record_context(counterparties, target.counterparty.pk, hidden_user)
    assert render("{{ record.name }}|{{ record.inn }}", {"record": mine}) == "Тюльпан Скрытый|"
    via_link = record_context(invoices, target.invoice.pk, hidden_user)
    assert render("[{{ record.counterparty.inn }}]", {"record": via_link}) == "[]"
    admin_view = record_context(counterparties, target.counterparty.pk, world.admin)
    assert render("{{ record.inn }}", {"record": admin_view}) == SECRET_INN
    # another manager's client is not his to use
    with pytest.raises(NotFound):
        record_context(counterparties, world.targets["peer"].counterparty.pk, world.users["own"])


def test_the_reference_lists_placeholders_with_samples(table, crm):
    rows = {p.expression: p.sample for p in describe(sample_context(table("invoices")))}
    assert rows["record.number"] == "Д-2026-015"
    assert rows["record.counterparty.inn"] == "7704123456"
    assert rows["record.total"] == "128\u00a0505,00"
    assert "{% for item in record.invoice_items %}…{% endfor %}" in rows
    assert rows["item.name"] == "ООО «Ромашка»"
    assert rows["company.director"] == "Иванов Иван Иванович"
    assert "user.full_name" in rows


def test_system_actor_may_build_a_context(deal, table):
    _company, _counterparty, invoice = deal
    bag = record_context(table("invoices"), invoice.pk, Actor.system("test"))
    assert render("{{ record.number }}", {"record": bag}) == "2026-0042"
