"""Error pages speak Russian in the site's frame, with a way back (``DEBUG`` is off in tests)."""

from __future__ import annotations

from django.test import RequestFactory
from django.views.defaults import server_error

from kartoteka.core.actor import Actor
from kartoteka.records.services import create_record


def test_another_managers_client_is_a_russian_404_with_the_menu(client, manager_user, table):
    # given: a client of nobody in particular, and a manager who may not read it
    other = create_record(Actor.system("tests"), table("counterparties"), {"name": "Чужой"})
    client.force_login(manager_user)
    # when
    response = client.get(f"/t/counterparties/{other.pk}/", HTTP_REFERER="/t/counterparties/")
    # then
    html = response.content.decode()
    assert response.status_code == 404
    assert "Страница не найдена" in html and "Not Found" not in html
    assert 'data-testid="current-user"' in html  # the site's frame, with its menu
    assert 'href="/">На главную</a>' in html
    assert 'href="/t/counterparties/">Вернуться назад</a>' in html


def test_a_refused_right_is_a_russian_403_saying_why(client, manager_user, crm):
    client.force_login(manager_user)
    response = client.get("/designer/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Ошибка 403" in html and "Forbidden" not in html
    assert 'href="/">На главную</a>' in html


def test_a_server_error_is_a_russian_page(crm):
    response = server_error(RequestFactory().get("/t/counterparties/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Ошибка на сервере" in html and "Server Error" not in html
    assert 'href="/">На главную</a>' in html
