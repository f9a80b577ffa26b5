"""Access rights in a real browser: a manager of the demo company sees only his own clients in the
grid, search and funnel; another manager's client is a 404; a field hidden from his group is absent
from the card, the grid, the export and the filter builder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "Qw7!manager-e2e"

#: Run in the server's database: give «smirnova» a known password and a group like «Менеджеры»
#: with «ИНН» hidden; print what the test needs to know.
SETUP = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from kartoteka.access import services as access
from kartoteka.core.actor import Actor
from kartoteka.tables.models import Field, Table
from kartoteka.tables.modelfactory import model_for

User = get_user_model()
admin = User.objects.get(username="admin")
staff = Actor.for_user(admin, source="test")
me = User.objects.get(username="smirnova")
me.set_password(%(password)r)
me.save()
group = Group.objects.filter(name="Менеджеры без ИНН").first() or access.create_group(
    staff, "Менеджеры без ИНН", copy_from=Group.objects.get(name="Менеджеры")
)
access.set_field_rights(
    staff, group, Field.objects.get(table__key="counterparties", key="inn"), access="hidden"
)
access.set_user_group(staff, me, group)
cps = model_for(Table.objects.get(key="counterparties")).objects.filter(record_state="active")
mine = cps.filter(manager=me).exclude(inn=None).order_by("id")
other = cps.exclude(manager=me).exclude(manager=None).order_by("id").first()
print(json.dumps({
    "count": cps.filter(manager=me).count(),
    "ids": list(cps.filter(manager=me).values_list("id", flat=True)),
    "name": mine.first().name,
    "pk": mine.first().pk,
    "inn": mine.first().inn,
    "other_pk": other.pk,
    "other_name": other.name,
}))
"""


@pytest.fixture(scope="module")
def manager(server):
    out = server.cli("manage", "shell", "-c", SETUP % {"password": PASSWORD})
    return json.loads(out.strip().splitlines()[-1])


def login_as_manager(page, server) -> None:
    page.goto(server.url + "/login/")
    page.fill("#id_username", "smirnova")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_have_text("Смирнова А. С.")


def test_a_manager_sees_only_his_own_clients(page, server, manager):
    login_as_manager(page, server)
    # the grid: his clients only
    page.goto(server.url + "/t/counterparties/")
    expect(page.get_by_test_id("total")).to_have_text(f"Всего: {manager['count']}")
    grid = page.get_by_test_id("grid")
    expect(grid).not_to_contain_text(manager["other_name"])
    # search: another manager's client is not found, his own is
    page.goto(server.url + "/search/?q=" + manager["other_name"])
    expect(page.locator(f'a[href="/t/counterparties/{manager["other_pk"]}/"]')).to_have_count(0)
    page.goto(server.url + "/search/?q=" + manager["name"])
    expect(page.locator(f'a[href="/t/counterparties/{manager["pk"]}/"]').first).to_be_visible()
    # the funnel: only his column, and every client behind a number is his
    page.goto(server.url + "/reports/funnel/?date_from=2000-01-01&date_to=2030-12-31")
    table = page.get_by_test_id("funnel-table")
    expect(table).to_be_visible()
    expect(table.locator("thead")).not_to_contain_text("Кузнецов")
    expect(table.locator("thead")).not_to_contain_text("Волкова")
    page.get_by_test_id("total").first.click()
    members = page.get_by_test_id("member")
    hrefs = [members.nth(i).get_attribute("href") for i in range(members.count())]
    ids = {int(re.search(r"/(\d+)/$", h).group(1)) for h in hrefs}
    assert ids <= set(manager["ids"])
    # another manager's client by its address: 404
    response = page.goto(server.url + f"/t/counterparties/{manager['other_pk']}/")
    assert response.status == 404


def test_a_hidden_field_is_absent_everywhere(page, server, manager):
    login_as_manager(page, server)
    # the card
    page.goto(server.url + f"/t/counterparties/{manager['pk']}/")
    expect(page.get_by_role("heading", name=manager["name"])).to_be_visible()
    assert manager["inn"] not in page.content()
    assert "ИНН" not in page.locator("main").inner_text()
    # the grid and its filter builder
    page.goto(server.url + "/t/counterparties/")
    expect(page.get_by_test_id("grid").locator("thead")).not_to_contain_text("ИНН")
    assert manager["inn"] not in page.content()
    html = page.content()
    assert '<option value="inn"' not in html  # the filter builder's field list
    assert ">ИНН</option>" not in html
    # a filter on it typed into the address: refused, not applied
    response = page.goto(server.url + f"/t/counterparties/?ff=inn&fo=eq&fv={manager['inn']}")
    assert response.status == 403
    expect(page.get_by_test_id("grid-error")).to_be_visible()
    # the export
    page.goto(server.url + "/t/counterparties/")
    page.get_by_role("button", name="Экспортировать").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV для Excel (Windows-1251, «;»)").click()
    text = Path(download.value.path()).read_text(encoding="cp1251")
    header = text.splitlines()[0].split(";")
    assert "ИНН" not in header
    assert manager["inn"] not in text
    assert len(text.strip().splitlines()) == manager["count"] + 1
