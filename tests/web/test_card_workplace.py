"""The record card as a workplace: a subtable write refreshes what it changed on the parent, the
work-log form offers only what the rules allow, and rows the rules lock are shown locked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import RuleViolation
from kartoteka.crm import services as sales
from kartoteka.records.services import create_record, update_record
from kartoteka.tables.modelfactory import model_for

SYSTEM = Actor.system("tests")


@pytest.fixture
def fabrika(table, manager_user):
    return create_record(
        SYSTEM, table("counterparties"), {"name": "Шоколадная фабрика", "manager": manager_user.pk}
    )


def _fields(html: str) -> str:
    found = re.search(r'<div id="record-fields"[^>]*hx-swap-oob="true".*?</dl>', html, re.S)
    assert found, "the parent's fields are not swapped out of band"
    return found.group(0)


def test_a_work_row_refreshes_the_status_and_history_on_the_card(client, admin_user, fabrika):
    # given
    client.force_login(admin_user)
    # when: a done row moves the counterparty to «Заинтересован»
    response = client.post(
        f"/t/counterparties/{fabrika.pk}/sub/client_work/add/",
        {
            "sub-client_work-date": timezone.localdate().isoformat(),
            "sub-client_work-work_type": "call",
            "sub-client_work-done": "on",
            "sub-client_work-status": "interested",
        },
        HTTP_HX_REQUEST="true",
    )
    # then: beside the subtable come the card's fields and history, read afresh
    html = response.content.decode()
    assert response.status_code == 200
    fields = _fields(html)
    assert re.search(r'data-field="status">\s*<span[^>]*>Заинтересован', fields), fields
    assert '<div class="card shadow-sm mb-3" id="record-history" hx-swap-oob="true">' in html


def test_invoice_lines_refresh_the_invoice_sum(client, admin_user, table, fabrika):
    # given: an invoice without lines
    create_record(SYSTEM, table("companies"), {"name": "ООО «Картотека»", "is_default": True})
    invoice = sales.issue_invoice(Actor.for_user(admin_user), fabrika.pk)
    client.force_login(admin_user)
    # when
    response = client.post(
        f"/t/invoices/{invoice.pk}/sub/invoice_items/add/",
        {
            "sub-invoice_items-name": "Какао",
            "sub-invoice_items-quantity": "2",
            "sub-invoice_items-price": "150",
        },
        HTTP_HX_REQUEST="true",
    )
    # then
    assert response.status_code == 200, response.content.decode()[:500]
    assert "300,00" in _fields(response.content.decode())


def test_the_work_form_offers_no_stage_only_the_actions_reach(client, manager_user, fabrika):
    client.force_login(manager_user)
    html = client.get(f"/t/counterparties/{fabrika.pk}/").content.decode()
    form = html[html.index('id="add-client_work"') :]
    status = form[form.index('name="sub-client_work-status"') :]
    status = status[: status.index("</select>")]
    assert "Переговоры" in status
    assert "Выписан счёт" not in status and "Получена оплата" not in status


def _work(table, actor, counterparty, *, day, done=True, status=None):
    return create_record(
        actor,
        table("client_work"),
        {
            "counterparty": counterparty.pk,
            "date": day,
            "work_type": "call",
            "done": done,
            "status": status,
        },
    )


def test_a_done_row_in_the_future_is_refused_and_a_planned_one_is_not(table, manager_user, fabrika):
    # given
    manager = Actor.for_user(manager_user)
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    rows = model_for(table("client_work"))
    # when / then: a done row dated tomorrow is refused and nothing is written
    with pytest.raises(RuleViolation) as refused:
        _work(table, manager, fabrika, day=tomorrow, status="negotiation")
    assert refused.value.rule == "done_in_future"
    assert refused.value.field == "date"
    assert tomorrow.strftime("%d.%m.%Y") in refused.value.message
    assert rows.objects.count() == 0
    # when: the same work is planned for tomorrow
    planned = _work(table, manager, fabrika, day=tomorrow, done=False, status="negotiation")
    # then: marking it done before its day is refused; on its day (or dated today) it counts
    with pytest.raises(RuleViolation):
        update_record(manager, table("client_work"), planned.pk, {"done": True})
    assert rows.objects.get(pk=planned.pk).done is False
    update_record(manager, table("client_work"), planned.pk, {"done": True, "date": today})
    status = model_for(table("counterparties")).objects.get(pk=fabrika.pk).status
    assert status == "negotiation"


def test_rows_locked_after_payment_show_a_lock_not_a_pencil(
    client, manager_user, accountant, table, fabrika
):
    # given: a row of the potential period, then a payment
    manager = Actor.for_user(manager_user)
    create_record(SYSTEM, table("companies"), {"name": "ООО «Картотека»", "is_default": True})
    call = _work(table, manager, fabrika, day=timezone.localdate(), status="interested")
    invoice = sales.issue_invoice(manager, fabrika.pk)
    sales.mark_invoices_paid(accountant, [invoice.pk])
    later = _work(table, manager, fabrika, day=timezone.localdate())
    client.force_login(manager_user)
    # when
    html = client.get(f"/t/counterparties/{fabrika.pk}/").content.decode()
    # then: the call is locked with the rule's reason; the row after the payment is editable
    call_row = re.search(rf'<tr data-row="{call.pk}".*?</tr>', html, re.S).group(0)
    later_row = re.search(rf'<tr data-row="{later.pk}".*?</tr>', html, re.S).group(0)
    assert 'data-testid="row-locked"' in call_row and "Правило «после оплаты»" in call_row
    assert "✎" not in call_row and "✕" not in call_row
    assert "✎" in later_row and 'data-testid="row-locked"' not in later_row


def test_the_history_names_an_import_by_number_with_a_link(client, admin_user, table):
    from kartoteka.imports.models import ImportBatch

    # given: a work-log import that made a row (and moved its counterparty's status)
    counterparties = table("counterparties")
    batch = ImportBatch.objects.create(table=table("client_work"), file_name="работа.csv")
    cp = create_record(SYSTEM, counterparties, {"name": "Импортированный"})
    importer = Actor.for_user(admin_user, source=batch.source)
    _work(table, importer, cp, day=timezone.localdate(), status="interested")
    client.force_login(admin_user)
    # when
    html = client.get(f"/t/counterparties/{cp.pk}/").content.decode()
    # then: «импорт №N», a link to the batch's page, never the raw «import#N»
    link = f'<a href="/t/client_work/import/{batch.pk}/">импорт №{batch.pk}, пересчёт статуса</a>'
    assert link in html
    assert "import#" not in html


def test_reminder_offsets_in_words():
    from kartoteka.notifications.views import offset_words

    assert offset_words(-1440) == "за 1 день до срока"
    assert offset_words(-5 * 1440) == "за 5 дней до срока"
    assert offset_words(-60) == "за 1 час до срока"
    assert offset_words(90) == "через 90 минут после срока"
    assert offset_words(0) == "в срок"


def test_the_funnel_explains_its_red_numbers(client, admin_user, crm):
    client.force_login(admin_user)
    html = client.get("/reports/funnel/").content.decode()
    assert "Красное «−N» рядом с числом — сколько из них отказались на этом этапе." in html
