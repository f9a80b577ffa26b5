"""The campaign pages: made from the grid's filter, failures as CSV, the card's block, and the
public unsubscribe page (confirm, one-click, a bad token, the rate limit)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from kartoteka.mailings import sending
from kartoteka.mailings.messages import unsubscribe_token
from kartoteka.mailings.models import Campaign, Recipient
from kartoteka.mailings.services import start_campaign
from kartoteka.tables.modelfactory import model_for
from tests.mailings.helpers import campaign, clients, counterparties

pytestmark = pytest.mark.django_db


def test_a_campaign_from_the_grids_filter(client, admin_user, admin):
    # given
    clients(
        [
            {"name": "Тульский", "email": "t@shop.example", "city": "Тула"},
            {"name": "Орловский", "email": "o@shop.example", "city": "Орёл"},
        ]
    )
    client.force_login(admin_user)
    grid = urlencode({"ff": "city", "fo": "eq", "fv": "Тула"})
    url = "/mailings/new/?" + urlencode({"table": "counterparties", "query": grid})
    # when
    page = client.get(url)
    response = client.post(
        url, {"name": "Тула", "channel": "email", "subject": "Т", "body": "Б", "per_minute": "0"}
    )
    # then
    assert "Кому: записи по фильтру таблицы (1 условие)." in page.content.decode()
    c = Campaign.objects.get()
    assert response["Location"] == f"/mailings/{c.pk}/"
    assert c.conditions == [["city", "eq", "Тула"]]
    detail = client.get(f"/mailings/{c.pk}/").content.decode()
    assert 'data-testid="audience-count">1<' in detail


def test_failures_csv_and_the_cards_block(client, admin_user, admin, smtp):
    # given
    rows = clients([{"name": "Альфа", "email": "a@shop.example"}, {"name": "Бета", "email": ""}])
    c = campaign(admin, [r.pk for r in rows])
    start_campaign(admin, c.pk)
    sending.run(c.pk)
    client.force_login(admin_user)
    # when
    csv_text = client.get(f"/mailings/{c.pk}/failures.csv").content.decode("utf-8-sig")
    card = client.get(f"/mailings/card/counterparties/{rows[0].pk}/").content.decode()
    # then
    assert csv_text.splitlines() == [
        "Запись;Адрес;Состояние;Причина;Попыток",
        f"{rows[1].pk};;пропущено;нет адреса;0",
    ]
    assert f"№{c.pk} Прайс" in card and "отправлено" in card


def test_unsubscribe_page_confirms_then_one_click_and_refuses_bad_tokens(client, admin, settings):
    # given
    rows = clients([{"name": "Альфа", "email": "a@shop.example"}])
    c = campaign(admin, [rows[0].pk])
    start_campaign(admin, c.pk)
    token = unsubscribe_token(Recipient.objects.get(campaign=c).pk)
    model = model_for(counterparties())
    # when: GET only asks
    asked = client.get(f"/m/u/{token}/")
    # then
    assert "Да, отписаться" in asked.content.decode()
    assert not model.objects.get(pk=rows[0].pk).no_mailing
    # when: the mail client's one-click POST
    done = client.post(f"/m/u/{token}/", {"List-Unsubscribe": "One-Click"})
    # then
    assert done.status_code == 200
    assert model.objects.get(pk=rows[0].pk).no_mailing is True
    assert client.get(f"/m/u/{token[:-2]}xx/").status_code == 404
    # and a flood is refused
    settings.MAILING_UNSUBSCRIBE_RATE = (3, 600)
    from django.core.cache import cache

    cache.clear()
    codes = [client.get(f"/m/u/{token}/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
