"""``/api/v1/mailings/``: create, start, read the states; a manager's campaign reaches only his
rows through the API as on the pages."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from kartoteka.mailings import sending
from tests.mailings.helpers import clients

pytestmark = pytest.mark.django_db


def test_create_start_and_read_states(manager_user, admin_user, smtp):
    # given
    mine = clients([{"name": "Мой", "email": "my@shop.example"}], manager=manager_user)
    peer = clients([{"name": "Чужой", "email": "peer@shop.example"}], manager=admin_user)
    api = APIClient()
    api.force_authenticate(manager_user)
    # when
    created = api.post(
        "/api/v1/mailings/",
        {
            "table": "counterparties",
            "name": "Акция",
            "subject": "Для {{ record.name }}",
            "body": "Привет",
            "record_ids": [mine[0].pk, peer[0].pk],
        },
        format="json",
    )
    pk = created.json()["id"]
    started = api.post(f"/api/v1/mailings/{pk}/start/", format="json")
    sending.run(pk)
    read = api.get(f"/api/v1/mailings/{pk}/")
    # then
    assert created.status_code == 201
    assert started.json()["state"] == "sending"
    assert read.json()["state"] == "done"
    assert read.json()["recipients"]["sent"] == 1
    assert read.json()["recipients"]["total"] == 1
    assert [r for _f, r, _raw in smtp.messages] == [["my@shop.example"]]


def test_a_bad_template_is_a_400_and_nothing_is_made(manager_user):
    api = APIClient()
    api.force_authenticate(manager_user)
    response = api.post(
        "/api/v1/mailings/",
        {"table": "counterparties", "name": "А", "subject": "Т", "body": "{{ record.nope }}"},
        format="json",
    )
    assert response.status_code == 400
    assert api.get("/api/v1/mailings/").json() == []
