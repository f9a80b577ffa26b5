"""A web form for «Контрагенты» as an administrator would build it, and a real SMTP server."""

from __future__ import annotations

import secrets
import time

import pytest
from django.contrib.auth.models import Group
from django.core import signing

from kartoteka.core.actor import MANAGERS_GROUP
from kartoteka.webforms import services
from kartoteka.webforms.services import InputSpec

SITE = "https://shop.example.ru"


@pytest.fixture
def lead_form(admin, table, manager_user):
    return services.save_webform(
        admin,
        table("counterparties"),
        name="Заявка с сайта",
        inputs=[
            InputSpec("name", "Ваше имя или компания", required=True),
            InputSpec("phone", "Телефон"),
            InputSpec("email", "E-mail"),
            InputSpec("inn", "ИНН"),
            InputSpec("comment", "Сообщение"),
        ],
        defaults={"source": "Сайт", "type": "potential", "status": "cold"},
        assign_field="manager",
        assign_group=Group.objects.get(name=MANAGERS_GROUP),
        allowed_origins=SITE + "/contacts",
    )


def aged_token(form, seconds: float = 30) -> str:
    """A time-trap token as the form page rendered it ``seconds`` ago."""
    return signing.dumps(
        {"f": form.pk, "t": time.time() - seconds, "k": "p", "n": secrets.token_urlsafe(12)},
        salt=services.TOKEN_SALT,
    )


@pytest.fixture
def post_form(client, lead_form):
    """POST a submission the way a browser on the allowed site does."""

    def post(data: dict, *, form=None, origin: str | None = SITE, token=None, **headers):
        form = form or lead_form
        payload = {services.TOKEN: aged_token(form) if token is None else token, **data}
        if origin is not None:
            headers.setdefault("HTTP_ORIGIN", origin)
        return client.post(f"/f/{form.key}/", payload, **headers)

    return post
