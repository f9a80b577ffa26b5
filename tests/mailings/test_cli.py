"""``kartoteka mailing send`` and ``status``: in-process against the test database."""

from __future__ import annotations

import json

import pytest

from kartoteka.cli import main
from tests.mailings.helpers import campaign, clients

pytestmark = pytest.mark.django_db


def test_send_then_status_as_json(admin, smtp, capsys):
    # given
    rows = clients([{"name": "Альфа", "email": "a@shop.example"}, {"name": "Бета", "email": ""}])
    c = campaign(admin, [r.pk for r in rows])
    # when
    assert main(["mailing", "send", str(c.pk)]) == 0
    printed = capsys.readouterr().out
    assert main(["mailing", "status", str(c.pk), "--json"]) == 0
    # then
    assert f"Рассылка №{c.pk} «Прайс»: завершена" in printed
    status = json.loads(capsys.readouterr().out)
    assert status == {
        "id": c.pk,
        "name": "Прайс",
        "channel": "email",
        "state": "done",
        "reason": "",
        "recipients": {
            "queued": 0,
            "sending": 0,
            "sent": 1,
            "failed": 0,
            "skipped": 1,
            "unsubscribed": 0,
            "bounced": 0,
            "total": 2,
        },
        "percent": 100,
    }
    assert len(smtp.messages) == 1


def test_an_unknown_campaign_is_refused_in_json_too(crm, capsys):
    assert main(["mailing", "status", "999", "--json"]) == 1
    out = capsys.readouterr()
    assert json.loads(out.out) == {"error": "Рассылка №999 не найдена."}
