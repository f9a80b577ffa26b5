"""The report pages through Django's test client: they render with their chart, every funnel
number opens the list of exactly those counterparties, and the exports read back."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from python_calamine import CalamineWorkbook

FUNNEL = "/reports/funnel/?date_from=2026-03-01&date_to=2026-03-31"


@pytest.fixture
def client_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("cp1251"), newline=""), delimiter=";"))


def xlsx_rows(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def hrefs(page: str, testid: str) -> list[str]:
    found = re.findall(rf'<a [^>]*href="([^"]*)"[^>]*data-testid="{testid}"', page)
    return [html.unescape(h) for h in found]


def member_names(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    return set(re.findall(r'data-testid="member">ООО «(\w)»</a>', page))


def test_anonymous_visitor_is_sent_to_log_in(client, crm):
    response = client.get("/reports/funnel/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_reports_list(client_admin):
    response = client_admin.get("/reports/")
    page = response.content.decode()
    assert response.status_code == 200
    for label in ("Воронка продаж", "Производительность", "По продажам"):
        assert label in page


def test_funnel_page_defaults_to_this_month(client_admin):
    # when
    response = client_admin.get("/reports/funnel/")
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="funnel-chart"' in page
    assert 'name="date_from" value="' in page
    assert "Прошли этап за период" in page


def test_funnel_page_shows_the_numbers_and_the_chart(client_admin, history):
    # when
    response = client_admin.get(FUNNEL)
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg") == 1
    assert 'data-testid="funnel-chart"' in page
    totals = re.findall(r'data-testid="total">(\d+)</a>', page)
    assert totals == ["5", "3", "3", "3", "2", "1"]
    assert "66.7 %" in page or "66,7 %" in page


def test_every_funnel_number_lists_exactly_its_counterparties(client_admin, history):
    # given
    page = client_admin.get(FUNNEL).content.decode()
    totals, cells, refused = hrefs(page, "total"), hrefs(page, "cell"), hrefs(page, "refused")
    # then: «Всего» of each stage
    assert [member_names(client_admin, url) for url in totals] == [
        {"A", "B", "D", "F", "H"},
        {"A", "B", "D"},
        {"A", "C", "D"},
        {"A", "C", "D"},
        {"A", "D"},
        {"D"},
    ]
    # per manager, row by row: Иванов, Петрова
    assert [member_names(client_admin, url) for url in cells[:4]] == [
        {"A", "B", "H"},
        {"D", "F"},
        {"A", "B"},
        {"D"},
    ]
    assert [member_names(client_admin, url) for url in refused[:3]] == [{"H"}, {"B"}, {"G"}]


def test_cohort_drill_down(client_admin, history):
    page = client_admin.get(FUNNEL + "&mode=cohort").content.decode()
    paid = hrefs(page, "total")[-1]
    assert "mode=cohort" in paid
    assert member_names(client_admin, paid) == {"A", "D"}


def test_drill_down_links_to_the_cards(client_admin, history):
    page = client_admin.get(FUNNEL).content.decode()
    listing = client_admin.get(hrefs(page, "total")[-1]).content.decode()
    assert f'href="/t/counterparties/{history.ids["D"]}/"' in listing
    assert 'контрагентов: <span data-testid="members-count">1</span>' in listing


def test_drill_down_of_an_unknown_stage_is_not_found(client_admin, history):
    response = client_admin.get("/reports/funnel/list/?stage=nope")
    assert response.status_code == 404


def test_funnel_csv(client_admin, history):
    # when
    response = client_admin.get(FUNNEL + "&format=csv")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=windows-1251"
    assert "funnel-2026-03-01_2026-03-31.csv" in response["Content-Disposition"]
    assert csv_rows(response.content) == [
        [
            "Этап",
            "Иванов Иван",
            "Петрова Анна",
            "Всего",
            "Конверсия из предыдущего, %",
            "Конверсия из первого, %",
            "Отказы",
            "Медиана дней до следующего этапа",
        ],
        ["Холодный", "3", "2", "5", "100,0", "100,0", "1", "2,0"],
        ["Заинтересован", "2", "1", "3", "60,0", "60,0", "1", "2,5"],
        ["Отправлено предложение", "1", "2", "3", "100,0", "60,0", "1", "10,0"],
        ["Переговоры", "1", "2", "3", "100,0", "60,0", "0", "0,0"],
        ["Выписан счёт", "1", "1", "2", "66,7", "40,0", "0", "14,0"],
        ["Получена оплата", "0", "1", "1", "50,0", "20,0", "0", ""],
    ]


def test_funnel_xlsx(client_admin, history):
    # when
    response = client_admin.get(FUNNEL + "&mode=cohort&format=xlsx")
    # then
    assert response.status_code == 200
    rows = xlsx_rows(response.content)
    assert rows[0][0] == "Этап"
    assert rows[1:] == [
        ["Холодный", 3, 2, 5, 100, 100, 1, 2],
        ["Заинтересован", 2, 1, 3, 60, 60, 1, 2.5],
        ["Отправлено предложение", 1, 1, 2, 66.7, 40, 0, 5],
        ["Переговоры", 1, 1, 2, 100, 40, 0, 0],
        ["Выписан счёт", 1, 1, 2, 100, 40, 0, 14],
        ["Получена оплата", 1, 1, 2, 100, 40, 0, ""],
    ]


def test_manager_filter_and_bad_parameters(client_admin, history):
    # given
    petrova = history.managers["P"]
    # when
    one = client_admin.get(FUNNEL + f"&managers={petrova}&format=csv")
    bad = client_admin.get("/reports/funnel/?date_from=2026-03-31&date_to=2026-03-01")
    # then
    assert csv_rows(one.content)[0][:3] == ["Этап", "Петрова Анна", "Всего"]
    assert [r[2] for r in csv_rows(one.content)[1:]] == ["2", "1", "2", "2", "1", "1"]
    assert bad.status_code == 200
    assert "Конец периода раньше его начала." in bad.content.decode()
    assert 'data-testid="funnel-table"' not in bad.content.decode()


def test_performance_page_and_exports(client_admin, history):
    # given: the funnel history's March work rows, each written by the counterparty's manager —
    # Иванов: calls of B (2), A, X (its counterparty is in the trash, the work row is not) and H,
    # A's letter and meeting; Петрова: calls of G and D, C's letter, meetings of D and C and D's
    # payment row
    query = "?date_from=2026-03-01&date_to=2026-03-31"
    # when
    page = client_admin.get(f"/reports/performance/{query}")
    rows = csv_rows(client_admin.get(f"/reports/performance/{query}&format=csv").content)
    sheet = xlsx_rows(client_admin.get(f"/reports/performance/{query}&format=xlsx").content)
    # then
    assert page.status_code == 200
    assert 'data-testid="performance-chart"' in page.content.decode()
    assert rows == [
        [
            "Менеджер",
            "Работ выполнено",
            "Звонки",
            "Письма",
            "Встречи",
            "Заданий выполнено",
            "Счетов выписано",
            "Сумма выписанных",
            "Счетов оплачено",
            "Сумма оплаченных",
        ],
        ["Иванов Иван", "7", "5", "1", "1", "0", "0", "0,00", "0", "0,00"],
        ["Петрова Анна", "6", "2", "1", "2", "0", "0", "0,00", "0", "0,00"],
        ["Итого", "13", "7", "2", "3", "0", "0", "0,00", "0", "0,00"],
    ]
    assert sheet[1:] == [
        ["Иванов Иван", 7, 5, 1, 1, 0, 0, 0, 0, 0],
        ["Петрова Анна", 6, 2, 1, 2, 0, 0, 0, 0, 0],
        ["Итого", 13, 7, 2, 3, 0, 0, 0, 0, 0],
    ]


def test_sales_page_and_exports(client_admin, sales_history):
    # given
    query = "?date_from=2026-02-01&date_to=2026-03-31"
    # when
    page = client_admin.get(f"/reports/sales/{query}")
    rows = csv_rows(client_admin.get(f"/reports/sales/{query}&format=csv").content)
    sheet = xlsx_rows(client_admin.get(f"/reports/sales/{query}&format=xlsx").content)
    # then
    html_text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="sales-chart"' in html_text
    assert "3\u00a0333,30 ₽" in html_text
    assert rows == [
        ["Менеджер", "Февраль 2026", "Март 2026", "Итого", "Счетов", "Бонус, %", "Бонус"],
        ["Иванов Иван", "1\xa0000,00", "2\xa0333,30", "3\xa0333,30", "3", "5,00", "166,67"],
        ["Петрова Анна", "0,00", "1\xa0500,00", "1\xa0500,00", "1", "10,00", "150,00"],
        ["Итого", "1\xa0000,00", "3\xa0833,30", "4\xa0833,30", "4", "", "316,67"],
    ]
    assert sheet[1:] == [
        ["Иванов Иван", 1000, 2333.3, 3333.3, 3, 5, 166.67],
        ["Петрова Анна", 0, 1500, 1500, 1, 10, 150],
        ["Итого", 1000, 3833.3, 4833.3, 4, "", 316.67],
    ]
