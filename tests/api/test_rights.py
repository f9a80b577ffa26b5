"""The API carries its token owner's access rights: a manager's token reads and writes only his
own clients, exactly as his pages do (SPEC §10, §11)."""

from __future__ import annotations

from kartoteka.records.services import create_records
from kartoteka.tables.modelfactory import model_for
from tests.builders import SYSTEM

URL = "/api/v1/tables/counterparties/records/"


def test_a_managers_token_sees_only_his_rows(manager_api, manager_user, admin_user, table):
    # given: two clients of the manager and one of another person
    counterparties = table("counterparties")
    mine = create_records(
        SYSTEM,
        counterparties,
        [
            {"name": "ООО «Мой первый»", "manager": manager_user.pk},
            {"name": "ООО «Мой второй»", "manager": manager_user.pk},
        ],
    )
    other = create_records(
        SYSTEM, counterparties, [{"name": "ООО «Чужой»", "manager": admin_user.pk}]
    )[0]
    # when: his token lists, searches, opens and edits
    listed = manager_api.get(URL, {"page_size": 1000}).json()
    searched = manager_api.get(URL, {"search": "Чужой"}).json()
    opened = manager_api.get(f"{URL}{other.pk}/")
    edited = manager_api.patch(f"{URL}{other.pk}/", {"city": "Тверь"}, format="json")
    deleted = manager_api.delete(f"{URL}{other.pk}/")
    # then: only his rows exist for him; another's record is 404 and stays as it was
    assert sorted(r["id"] for r in listed["results"]) == sorted(r.pk for r in mine)
    assert listed["count"] == 2
    assert searched["results"] == [] and searched["count"] == 0
    assert (opened.status_code, edited.status_code, deleted.status_code) == (404, 404, 404)
    stored = model_for(counterparties).objects.get(pk=other.pk)
    assert (stored.city, stored.record_state) == (None, "active")
