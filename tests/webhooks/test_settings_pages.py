"""The webhook settings pages: add, refuse a private target with a clear message, delivery log."""

from __future__ import annotations

import pytest

from kartoteka.records.services import create_record
from kartoteka.webhooks.models import Webhook


@pytest.fixture
def logged_in(client, admin_user):
    client.force_login(admin_user)
    return client


def test_a_private_target_needs_the_explicit_permission(logged_in, receiver):
    data = {"table": "counterparties", "url": receiver.url, "on_create": "1", "is_active": "1"}
    response = logged_in.post("/integrations/webhooks/", data)
    assert response.status_code == 200
    assert "ведёт во внутреннюю сеть (127.0.0.1)" in response.content.decode()
    assert Webhook.objects.count() == 0
    response = logged_in.post("/integrations/webhooks/", {**data, "allow_private": "1"})
    hook = Webhook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/integrations/webhooks/{hook.pk}/"
    assert (hook.url, hook.on_create, hook.on_update, hook.on_delete, hook.allow_private) == (
        receiver.url,
        True,
        False,
        False,
        True,
    )


def test_the_delivery_log(
    logged_in, admin, table, receiver, run_worker, django_capture_on_commit_callbacks
):
    from kartoteka.webhooks.services import save_webhook

    hook = save_webhook(admin, table("counterparties"), url=receiver.url, allow_private=True)
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        record = create_record(admin, table("counterparties"), {"name": "ООО Ромашка"})
    run_worker()
    page = logged_in.get(f"/integrations/webhooks/{hook.pk}/").content.decode()
    assert f"№{record.pk}" in page
    assert "Сервер ответил кодом 500." in page
    assert "следующая попытка" in page
    assert hook.secret in page
