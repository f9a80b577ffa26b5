"""Saved views («фильтры»): who sees, opens and deletes them; their row counts are capped."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group

from kartoteka.access.services import ACCOUNTING_GROUP
from kartoteka.core.actor import Actor
from kartoteka.grids.models import SavedView
from kartoteka.grids.services import save_view
from kartoteka.records.selectors import Condition
from kartoteka.records.services import create_records

SYSTEM = Actor.system("tests")


@pytest.fixture
def client_admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def clients(table):
    return create_records(
        SYSTEM,
        table("counterparties"),
        [
            {"name": "Альфа", "city": "Москва"},
            {"name": "Бета", "city": "Москва"},
            {"name": "Гамма", "city": "Тверь"},
        ],
    )


def test_an_administrator_shares_a_view_with_a_group_he_is_not_in_and_then_deletes_it(
    client_admin, clients, admin_user
):
    # given: the administrator is not a member of «Бухгалтерия»
    accounting = Group.objects.get(name=ACCOUNTING_GROUP)
    assert not admin_user.groups.filter(pk=accounting.pk).exists()
    # when: he saves the current filter for that group and follows the redirect
    response = client_admin.post(
        "/t/counterparties/views/",
        {"name": "Москва", "query": "ff=city&fo=eq&fv=Москва&fv2=", "groups": str(accounting.pk)},
        follow=True,
    )
    # then: the view opens, is listed with its count, and is shared with the group
    view = SavedView.objects.get(name="Москва")
    html = response.content.decode()
    assert response.redirect_chain == [(f"/t/counterparties/?view={view.pk}", 302)]
    assert response.status_code == 200
    assert re.search(r"Москва 👥 <span class=\"badge text-bg-light\">2</span>", html)
    assert list(view.groups.all()) == [accounting]
    # when: he deletes it
    deleted = client_admin.post(f"/t/counterparties/views/{view.pk}/delete/")
    # then
    assert deleted.status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_a_view_shared_with_a_group_is_hidden_from_users_outside_it(
    client, clients, admin, manager_user, table
):
    # given: a view shared with «Бухгалтерия» only
    accounting = Group.objects.get(name=ACCOUNTING_GROUP)
    view = save_view(
        admin,
        table("counterparties"),
        name="Для бухгалтерии",
        conditions=[Condition("city", "eq", "Москва")],
        groups=[accounting],
    )
    # when: a manager opens his grid and the view
    client.force_login(manager_user)
    grid = client.get("/t/counterparties/").content.decode()
    opened = client.get(f"/t/counterparties/?view={view.pk}")
    deleted = client.post(f"/t/counterparties/views/{view.pk}/delete/")
    # then
    assert "Для бухгалтерии" not in grid
    assert opened.status_code == 404
    assert deleted.status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_an_administrator_may_remove_someones_own_view_without_it_crowding_his_grid(
    client_admin, clients, manager_user, table
):
    # given: a manager's own view
    view = save_view(
        Actor.for_user(manager_user),
        table("counterparties"),
        name="Мои тверские",
        conditions=[Condition("city", "eq", "Тверь")],
    )
    # when
    grid = client_admin.get("/t/counterparties/").content.decode()
    opened = client_admin.get(f"/t/counterparties/?view={view.pk}")
    deleted = client_admin.post(f"/t/counterparties/views/{view.pk}/delete/")
    # then: not in the administrator's list, but he can open and delete it
    assert "Мои тверские" not in grid
    assert opened.status_code == 200
    assert deleted.status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_a_views_count_stops_at_the_cap(client_admin, admin, table, monkeypatch):
    from kartoteka.records import paging

    # given: more matching rows than the cap, and a narrow view under it
    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    counterparties = table("counterparties")
    create_records(SYSTEM, counterparties, [{"name": f"Ф{i}", "city": "Омск"} for i in range(8)])
    save_view(admin, counterparties, name="Омск", conditions=[Condition("city", "eq", "Омск")])
    save_view(admin, counterparties, name="Один", conditions=[Condition("name", "eq", "Ф7")])
    # when
    html = client_admin.get("/t/counterparties/").content.decode()
    # then
    assert re.search(r"Омск <span class=\"badge text-bg-light\">более 5</span>", html)
    assert re.search(r"Один <span class=\"badge text-bg-light\">1</span>", html)
