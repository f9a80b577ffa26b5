"""Log-in codes by SMS: turned on with a code sent to the phone of the user's «Сотрудники»
record, then offered at the code step. The gateway is the ``file`` backend; codes are read from
its file as the phone would show them."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from kartoteka.access.models import AuditEvent, LoginFailure
from kartoteka.accounts.services import create_user
from kartoteka.core.actor import Actor
from kartoteka.profiles.models import SmsCodeSend, SmsDevice
from tests.sms.test_gateway import env

pytestmark = pytest.mark.django_db

PASSWORD = "Xk2#pLq9!vR"


@pytest.fixture
def sms_log(settings, tmp_path):
    log = tmp_path / "sms.log"
    env(settings, backend="file", file=str(log))
    return log


@pytest.fixture
def petrov(crm):
    return create_user(
        Actor.system("test"),
        username="petrov",
        password=PASSWORD,
        group="Менеджеры",
        full_name="Петров Пётр",
        phone="8 916 123-45-67",
    )


def _messages(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _last_code(log) -> str:
    message = _messages(log)[-1]
    assert message["to"] == "+79161234567"
    return re.search(r"\b(\d{6})\b", message["text"]).group(1)


def _password_step(client) -> None:
    response = client.post("/login/", {"username": "petrov", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login/code/"


def _logged_in(client) -> bool:
    return client.get("/profile/").status_code == 200


@pytest.fixture
def enrolled(client, petrov, sms_log):
    client.force_login(petrov)
    assert client.post("/profile/two-factor/sms/", {"action": "send"}).status_code == 302
    client.post("/profile/two-factor/sms/", {"code": _last_code(sms_log)})
    client.post("/logout/")
    SmsCodeSend.objects.all().delete()
    return petrov


def test_the_phone_is_confirmed_with_a_code_and_then_logs_in_with_one_code_once(
    client, petrov, sms_log
):
    # given: the two-factor page offers the phone of his record, masked
    client.force_login(petrov)
    page = client.get("/profile/two-factor/").content.decode()
    assert "Код по SMS" in page and "+7••••••4567" in page
    # when: a code is sent and typed back
    client.post("/profile/two-factor/sms/", {"action": "send"})
    code = _last_code(sms_log)
    device = SmsDevice.objects.get(user=petrov)
    assert device.confirmed is False
    assert len(device.code_hash) == 64 and code not in device.code_hash
    done = client.post("/profile/two-factor/sms/", {"code": code}, follow=True)
    # then
    assert "Вход по коду из SMS включён." in done.content.decode()
    assert SmsDevice.objects.get(user=petrov).confirmed is True
    assert AuditEvent.objects.filter(
        kind=AuditEvent.ACCOUNT, message="Включён вход по коду из SMS (petrov)"
    ).exists()
    # when: he logs in again — the code step offers an SMS
    client.post("/logout/")
    _password_step(client)
    step = client.get("/login/code/").content.decode()
    assert "Получить код по SMS" in step and "+7••••••4567" in step
    assert client.post("/login/code/", {"action": "sms"})["Location"] == "/login/code/"
    code = _last_code(sms_log)
    assert AuditEvent.objects.filter(
        kind=AuditEvent.ACCOUNT, message="Код входа отправлен по SMS на +7••••••4567"
    ).exists()
    response = client.post("/login/code/", {"code": code})
    # then
    assert response.status_code == 302 and response["Location"] == "/"
    assert _logged_in(client)
    # when: the same code again
    client.post("/logout/")
    _password_step(client)
    replayed = client.post("/login/code/", {"code": code})
    # then
    assert replayed.status_code == 400 and "Неверный код." in replayed.content.decode()
    assert not _logged_in(client)
    assert LoginFailure.objects.filter(username="petrov").count() == 1


def test_an_expired_code_is_refused_and_counted(client, enrolled, sms_log):
    # given: a code sent, its five minutes over
    _password_step(client)
    client.post("/login/code/", {"action": "sms"})
    code = _last_code(sms_log)
    SmsDevice.objects.filter(user=enrolled).update(
        valid_until=timezone.now() - dt.timedelta(seconds=1)
    )
    # when
    response = client.post("/login/code/", {"code": code})
    # then
    assert response.status_code == 400 and "Неверный код." in response.content.decode()
    assert not _logged_in(client)
    assert LoginFailure.objects.filter(username="petrov").count() == 1


def test_a_fourth_sms_within_ten_minutes_is_refused_and_the_third_code_still_works(
    client, enrolled, sms_log
):
    # given: three codes sent
    _password_step(client)
    for _ in range(3):
        assert client.post("/login/code/", {"action": "sms"}).status_code == 302
    third = _last_code(sms_log)
    # when
    refused = client.post("/login/code/", {"action": "sms"})
    # then: nothing sent, the last code unchanged
    assert refused.status_code == 400
    assert (
        "Слишком много SMS с кодом: не больше 3 за 10 минут. Новый код можно получить через "
        "10 мин." in refused.content.decode()
    )
    assert len(_messages(sms_log)) == 4  # the enrolment's code and three log-in codes
    assert client.post("/login/code/", {"code": third})["Location"] == "/"


def test_wrong_sms_codes_are_counted_by_the_log_in_lock(client, enrolled, sms_log, settings):
    # given
    settings.KARTOTEKA_LOGIN_FAILURES_PER_ACCOUNT = 3
    _password_step(client)
    client.post("/login/code/", {"action": "sms"})
    right = _last_code(sms_log)
    wrong = str((int(right) + 1) % 1000000).zfill(6)
    # when
    for _ in range(3):
        assert client.post("/login/code/", {"code": wrong}).status_code == 400
    locked = client.post("/login/code/", {"code": right})
    # then
    assert locked.status_code == 400 and "Вход заблокирован до" in locked.content.decode()
    assert LoginFailure.objects.filter(username="petrov").count() == 3
    assert not _logged_in(client)


def test_without_a_gateway_or_a_phone_no_sms_is_offered(client, petrov, manager_user, settings):
    # given: SMS off
    env(settings, backend="")
    client.force_login(petrov)
    # then
    assert "Код по SMS" not in client.get("/profile/two-factor/").content.decode()
    sent = client.post("/profile/two-factor/sms/", {"action": "send"}, follow=True)
    assert "SMS недоступны" in sent.content.decode()
    assert not SmsDevice.objects.exists() and not SmsCodeSend.objects.exists()
    # given: SMS on, a user without a phone
    env(settings, backend="console")
    client.force_login(manager_user)
    assert "Код по SMS" not in client.get("/profile/two-factor/").content.decode()


def test_an_administrator_resets_a_lost_phone_and_the_password_alone_logs_in(
    client, enrolled, admin_user
):
    # given: the administrator on his log-in's page
    client.force_login(admin_user)
    assert client.get(f"/settings/users/{enrolled.pk}/").status_code == 200
    # when
    client.post(f"/settings/users/{enrolled.pk}/two-factor/reset/")
    # then
    assert not SmsDevice.objects.filter(user=enrolled).exists()
    client.post("/logout/")
    response = client.post("/login/", {"username": "petrov", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] != "/login/code/"
    assert AuditEvent.objects.filter(
        message="Двухфакторный вход пользователя petrov сброшен администратором"
    ).exists()
