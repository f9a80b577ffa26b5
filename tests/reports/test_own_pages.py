"""Own reports through the pages: build, chart, drill-down, export, save, share, a deleted field."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from kartoteka.core.actor import MANAGERS_GROUP
from kartoteka.reports.models import SavedReport
from tests.reports.test_pages import csv_rows, xlsx_rows

QUERY = "t=invoices&g=manager&c=paid_date:month&ms=sum:total&chart=stacked&ff=paid&fo=eq&fv=1&fv2="


def cell_links(page: str) -> list[str]:
    return [
        html.unescape(h) for h in re.findall(r'<a href="([^"]*)" data-testid="report-cell"', page)
    ]


def test_every_chart_draws_with_links_to_the_grid(client, admin_user, sales_history):
    client.force_login(admin_user)
    for chart in ("bar", "stacked", "line", "pie", "donut", "funnel", "number"):
        page = client.get(f"/reports/new/?{QUERY.replace('stacked', chart)}").content.decode()
        svg = re.search(r'<svg[^>]*data-testid="report-chart".*?</svg>', page, re.S)
        assert svg is not None, chart
        links = re.findall(r'<a href="([^"]*)" class="chart-link"', svg.group(0))
        assert links and all(urlsplit(html.unescape(u)).path == "/t/invoices/" for u in links)
    page = client.get(f"/reports/new/?{QUERY.replace('stacked', 'table')}").content.decode()
    assert 'data-testid="report-chart"' not in page and 'data-testid="report-table"' in page


def test_build_drill_export_save_share_and_a_manager_sees_his_figures(
    client, admin_user, manager_user, sales_history
):
    client.force_login(admin_user)
    page = client.get(f"/reports/new/?{QUERY}").content.decode()
    assert "6\u00a0333,30" in page or "6 333,30" in page
    links = cell_links(page)
    assert len(links) == 8
    grid = client.get(links[2]).content.decode()  # Иванов × март: invoices 2 and 3
    assert 'data-testid="total">Всего: 2<' in grid
    rows = xlsx_rows(client.get(f"/reports/new/?{QUERY}&format=xlsx").content)
    assert rows[0][0] == "Менеджер"
    assert rows[1][0] == "Иванов Иван" and rows[-1][-1] == 6333.3
    assert csv_rows(client.get(f"/reports/new/?{QUERY}&format=csv").content)[2][0] == (
        "Петрова Анна"
    )
    from django.contrib.auth.models import Group

    managers = Group.objects.get(name=MANAGERS_GROUP)
    response = client.post(
        "/reports/save/",
        {"query": QUERY, "name": "Оплаты по менеджерам", "groups": [str(managers.pk)]},
    )
    report = SavedReport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/r/{report.pk}/"
    assert list(report.groups.all()) == [managers]

    client.force_login(manager_user)
    page = client.get(f"/reports/r/{report.pk}/").content.decode()
    assert "Иванов Иван" in page and "Петрова Анна" not in page
    assert "3\u00a0333,30" in page or "3 333,30" in page
    assert 'data-testid="report-edit"' not in page
    assert client.post(f"/reports/r/{report.pk}/delete/").status_code == 302
    assert SavedReport.objects.count() == 1


def test_a_saved_report_with_a_deleted_field_opens_and_names_it(client, admin_user, table):
    from kartoteka.core.actor import Actor
    from kartoteka.tables import services
    from kartoteka.tables.modelfactory import field_of

    client.force_login(admin_user)
    system = Actor.system("tests")
    counterparties = table("counterparties")
    services.add_field(system, counterparties, key="region", label="Регион", type="text")
    report = SavedReport.objects.create(
        name="По регионам",
        owner=admin_user,
        definition={"table": "counterparties", "rows": [{"field": "region"}]},
    )
    assert client.get(f"/reports/r/{report.pk}/").status_code == 200
    services.remove_field(system, field_of(table("counterparties"), "region"))
    response = client.get(f"/reports/r/{report.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "больше нет" in page
    assert "Поля «region» нет в таблице «Контрагенты»" in page
