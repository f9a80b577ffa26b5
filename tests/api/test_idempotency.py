"""``Idempotency-Key``: a write is applied once, whether replayed later or at the same moment."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from rest_framework.test import APIClient

from kartoteka.api.models import IdempotencyKey
from kartoteka.api.tokens import create_token
from kartoteka.core.actor import Actor
from kartoteka.records.models import RecordChange
from kartoteka.records.services import purge_records
from kartoteka.tables.modelfactory import model_for
from kartoteka.tables.models import Table

URL = "/api/v1/tables/counterparties/records/"
T = TypeVar("T")


def names(table) -> list[str]:
    return list(
        model_for(table("counterparties")).objects.order_by("id").values_list("name", flat=True)
    )


def test_a_replayed_create_is_applied_once(api, table):
    # given
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-1"}
    # when
    first = api.post(URL, {"name": "Ромашка"}, format="json", **headers)
    second = api.post(URL, {"name": "Ромашка"}, format="json", **headers)
    # then
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert names(table) == ["Ромашка"]


def test_without_a_key_every_request_writes(api, table):
    # when
    api.post(URL, {"name": "Ромашка"}, format="json")
    api.post(URL, {"name": "Ромашка"}, format="json")
    # then
    assert names(table) == ["Ромашка", "Ромашка"]


def test_the_same_key_with_another_body_is_refused(api, table):
    # given
    api.post(URL, {"name": "Ромашка"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    # when
    response = api.post(URL, {"name": "Лютик"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "idempotency_key_reused",
        "message": "Ключ идемпотентности «k» уже использован для другого запроса.",
        "fields": {},
    }
    assert names(table) == ["Ромашка"]


def test_an_error_response_is_replayed_too(api, table):
    # given
    body = {"name": "", "inn": "1"}
    # when
    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    second = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    # then
    assert first.status_code == second.status_code == 400
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert names(table) == []


def test_keys_belong_to_their_user(api, manager_api, table):
    # when
    api.post(URL, {"name": "Ромашка"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    manager_api.post(URL, {"name": "Ромашка"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    # then
    assert names(table) == ["Ромашка", "Ромашка"]


def test_patch_delete_upsert_and_actions_honour_the_key(api, table):
    # given
    record = api.post(URL, {"name": "Ромашка", "city": "Казань"}, format="json").json()
    one = f"{URL}{record['id']}/"
    upsert = {"key": "name", "records": [{"name": "Лютик"}]}
    # when
    patches = [
        api.patch(one, {"city": "Тверь"}, format="json", HTTP_IDEMPOTENCY_KEY="p") for _ in range(2)
    ]
    upserts = [
        api.post(f"{URL}upsert/", upsert, format="json", HTTP_IDEMPOTENCY_KEY="u") for _ in range(2)
    ]
    deletes = [api.delete(one, HTTP_IDEMPOTENCY_KEY="d") for _ in range(2)]
    # then
    assert [r.status_code for r in patches] == [200, 200]
    assert [r.json() for r in upserts] == [
        {"created": 1, "updated": 0, "skipped": 0, "errors": []}
    ] * 2
    assert [r.status_code for r in deletes] == [204, 204]
    assert deletes[1]["Idempotent-Replayed"] == "true"
    history = RecordChange.objects.filter(record_id=record["id"], table__key="counterparties")
    assert sorted(history.values_list("action", flat=True)) == ["create", "delete", "update"]
    assert names(table) == ["Ромашка", "Лютик"]


def test_a_too_long_key_is_refused(api, table):
    # when
    response = api.post(URL, {"name": "Ромашка"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "bad_idempotency_key"
    assert names(table) == []


# -- parallel replays ----------------------------------------------------------------------------


def in_own_connection(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a thread of its own, so on a connection of its own that commits at once:
    the test's connection is inside the rolled-back test transaction, whose rows the request
    threads could not see."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return result[0]


@pytest.fixture
def committed_caller(db):
    """A user and token committed for real, removed after with exactly what the test wrote: the
    records it created (purged through the service), their history and its keys."""
    # Why PostgreSQL only: the parallel replays need ten connections that see each other's commits.
    # pytest-django's SQLite test database lives in memory behind one shared connection, so the
    # requests could not run side by side there; and SQLite serialises writers anyway, so the race
    # this test hunts exists only on PostgreSQL. `make test` runs the suite on both databases, so
    # the test runs in every CI run. The single-connection behaviour (a replay answers the stored
    # response, a different body is refused) is tested above on both databases.
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SQLite test database is one connection: run on PostgreSQL")

    def create() -> tuple[Any, str]:
        user = get_user_model().objects.create(
            username=f"api-{uuid.uuid4().hex[:8]}", is_superuser=True
        )
        return user, create_token(Actor.system("tests"), user, "parallel").secret

    def remove() -> None:
        counterparties = Table.objects.get(key="counterparties")
        model = model_for(counterparties)
        ids = list(model.objects.filter(created_by_id=user.pk).values_list("pk", flat=True))
        purge_records(Actor.system("tests"), counterparties, ids)
        RecordChange.objects.filter(table=counterparties, record_id__in=ids).delete()
        IdempotencyKey.objects.filter(user=user).delete()
        user.delete()

    user, secret = in_own_connection(create)
    try:
        yield user, secret
    finally:
        in_own_connection(remove)


def test_ten_parallel_replays_create_exactly_one_record(committed_caller):
    # given
    user, secret = committed_caller
    replays = 10
    barrier = threading.Barrier(replays)
    results: list[tuple[int, dict, bool]] = []
    errors: list[BaseException] = []
    name = f"Параллельная {uuid.uuid4().hex[:6]}"

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        try:
            barrier.wait(timeout=20)
            response = client.post(
                URL, {"name": name}, format="json", HTTP_IDEMPOTENCY_KEY="parallel-1"
            )
            results.append(
                (response.status_code, response.json(), response.has_header("Idempotent-Replayed"))
            )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=send) for _ in range(replays)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # then
    assert errors == []

    def stored() -> tuple[list[int], str]:
        model = model_for(Table.objects.get(key="counterparties"))
        created = list(model.objects.filter(name=name).values_list("pk", flat=True))
        return created, IdempotencyKey.objects.get(user=user, key="parallel-1").state

    created, key_state = in_own_connection(stored)
    assert len(created) == 1
    assert sorted(status for status, _body, _replayed in results) == [201] * replays
    assert {body["id"] for _status, body, _replayed in results} == {created[0]}
    assert sorted(replayed for _status, _body, replayed in results) == [False] + [True] * 9
    assert key_state == "done"
