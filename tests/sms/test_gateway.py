"""The SMS gateway against fake providers speaking each protocol on loopback."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from kartoteka.core.actor import Actor
from kartoteka.sms import send_sms
from kartoteka.sms.gateway import config, estimate
from kartoteka.sms.services import save_sms_settings
from kartoteka.sms.text import InvalidPhone, measure, normalize_phone
from tests.sms.fake import fake_provider

pytestmark = pytest.mark.django_db


def env(settings, **values):
    base = dict.fromkeys(
        ("backend", "login", "api_key", "sender", "url", "file", "price", "opt_out_text"), ""
    )
    settings.KARTOTEKA_SMS = base | values


@pytest.mark.parametrize(
    ("text", "encoding", "parts"),
    [
        ("a" * 160, "gsm7", 1),
        ("a" * 161, "gsm7", 2),
        ("a" * 306, "gsm7", 2),
        ("a" * 307, "gsm7", 3),
        ("€" * 80, "gsm7", 1),
        ("€" * 81, "gsm7", 2),
        ("я" * 70, "ucs2", 1),
        ("я" * 71, "ucs2", 2),
        ("я" * 134, "ucs2", 2),
        ("я" * 135, "ucs2", 3),
        ("", "gsm7", 1),
    ],
)
def test_parts_follow_the_gsm7_and_ucs2_rules(text, encoding, parts):
    length = measure(text)
    assert (length.encoding, length.parts) == (encoding, parts)


def test_numbers_are_normalised_to_e164_in_russia_by_default():
    assert normalize_phone("8 (916) 123-45-67") == "+79161234567"
    assert normalize_phone("916 123 45 67") == "+79161234567"
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    with pytest.raises(InvalidPhone):
        normalize_phone("12345")


def test_cost_is_parts_times_the_price(settings):
    env(settings, backend="console", price="2.50")
    length, cost = estimate("Привет! " * 10)
    assert (length.parts, cost) == (2, Decimal("5.00"))


def test_an_invalid_number_fails_without_asking_the_provider(settings):
    with fake_provider() as provider:
        env(settings, backend="smsru", api_key="K", url=provider.url)
        result = send_sms("12", "текст")
    assert (result.status, result.reason, provider.requests) == (
        "failed",
        "неверный номер телефона",
        [],
    )


NO_MONEY = "Не хватает средств"
SMSRU_OK = {
    "status": "OK",
    "status_code": 100,
    "sms": {"79161234567": {"status": "OK", "status_code": 100, "sms_id": "000-1"}},
    "balance": 10,
}


def smsru_item(code, text):
    return {
        "status": "OK",
        "status_code": 100,
        "sms": {"79161234567": {"status": "ERROR", "status_code": code, "status_text": text}},
    }


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, json.dumps(SMSRU_OK), ("sent", "", "000-1", False)),
        (
            200,
            json.dumps(smsru_item(207, "На этот номер нельзя отправлять сообщения")),
            ("failed", "SMS.ru 207: На этот номер нельзя отправлять сообщения", "", False),
        ),
        (
            200,
            json.dumps(
                {"status": "ERROR", "status_code": 201, "status_text": "Не хватает средств"}
            ),
            ("failed", "SMS.ru 201: Не хватает средств", "", True),
        ),
        (
            200,
            json.dumps(smsru_item(220, "Сервис временно недоступен")),
            ("retry", "SMS.ru 220: Сервис временно недоступен", "", False),
        ),
        (502, "Bad gateway", ("retry", "smsru: HTTP 502", "", False)),
        (200, "<html>oops", ("failed", "непонятный ответ провайдера: <html>oops", "", False)),
    ],
)
def test_smsru(settings, status, body, expected):
    # given
    with fake_provider("/sms/send") as provider:
        env(settings, backend="smsru", api_key="KEY", sender="Shop", url=provider.url)
        provider.answer(body, status)
        # when
        result = send_sms("8 916 123-45-67", "Привет")
    # then
    assert (result.status, result.reason, result.provider_id, result.account) == expected
    assert result.phone == "+79161234567"
    assert provider.requests[0]["form"] == {
        "api_id": "KEY",
        "to": "79161234567",
        "msg": "Привет",
        "json": "1",
        "from": "Shop",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"id": 42, "cnt": 1}', ("sent", "", "42", False)),
        (
            '{"error": "invalid number", "error_code": 7}',
            ("failed", "SMSC.ru 7: invalid number", "", False),
        ),
        ('{"error": "no money", "error_code": 3}', ("failed", "SMSC.ru 3: no money", "", True)),
        (
            '{"error": "duplicate request", "error_code": 9}',
            ("retry", "SMSC.ru 9: duplicate request", "", False),
        ),
        ("OK - 1 SMS", ("failed", "непонятный ответ провайдера: OK - 1 SMS", "", False)),
    ],
)
def test_smsc(settings, body, expected):
    with fake_provider("/sys/send.php") as provider:
        env(settings, backend="smsc", login="shop", api_key="secret", url=provider.url)
        provider.answer(body)
        result = send_sms("+79161234567", "Hi")
    assert (result.status, result.reason, result.provider_id, result.account) == expected
    assert provider.requests[0]["form"] == {
        "phones": "+79161234567",
        "mes": "Hi",
        "fmt": "3",
        "charset": "utf-8",
        "login": "shop",
        "psw": "secret",
    }


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, '{"success": true, "data": {"id": 7, "status": 8}}', ("sent", "", "7", False)),
        (
            200,
            '{"success": false, "data": null, "message": "Validation error."}',
            ("failed", "SMS Aero: Validation error.", "", False),
        ),
        (
            200,
            '{"success": false, "data": null, "message": "Insufficient balance"}',
            ("failed", "SMS Aero: Insufficient balance", "", True),
        ),
        (401, "", ("failed", "SMS Aero: 401 Unauthorized", "", True)),
        (503, "", ("retry", "smsaero: HTTP 503", "", False)),
        (200, "[1, 2]", ("failed", "непонятный ответ провайдера: [1, 2]", "", False)),
    ],
)
def test_smsaero(settings, status, body, expected):
    with fake_provider("/v2/sms/send") as provider:
        env(settings, backend="smsaero", login="a@shop.ru", api_key="k", url=provider.url)
        provider.answer(body, status)
        result = send_sms("+79161234567", "Hi")
    assert (result.status, result.reason, result.provider_id, result.account) == expected
    request = provider.requests[0]
    assert request["headers"]["Authorization"] == "Basic YUBzaG9wLnJ1Oms="
    assert request["form"] == {"number": "79161234567", "text": "Hi", "sign": "SMS Aero"}


def test_a_provider_that_does_not_answer_is_a_retry(settings):
    with fake_provider() as provider:
        url = provider.url
    env(settings, backend="smsc", api_key="k", url=url)
    result = send_sms("+79161234567", "Hi")
    assert result.status == "retry"
    assert result.reason.startswith("smsc: ")


def test_file_backend_appends_a_json_line(settings, tmp_path):
    path = tmp_path / "sms.log"
    env(settings, backend="file", file=str(path))
    assert send_sms("89161234567", "Счёт №5").ok
    assert json.loads(path.read_text(encoding="utf-8"))["to"] == "+79161234567"


def test_no_backend_means_sms_is_off(settings):
    env(settings)
    result = send_sms("+79161234567", "Hi")
    assert (result.status, result.account) == ("failed", True)


def test_settings_page_values_win_over_the_environment_and_keep_the_key(settings, admin_user):
    # given
    env(settings, backend="console", api_key="ENV", sender="Env")
    actor = Actor.for_user(admin_user)
    # when
    save_sms_settings(actor, {"backend": "smsru", "api_key": "PAGE", "sender": ""})
    save_sms_settings(actor, {"backend": "smsru", "api_key": "", "sender": "Shop"})
    # then
    cfg = config()
    assert (cfg.backend, cfg.api_key, cfg.sender) == ("smsru", "PAGE", "Shop")


def test_settings_page_never_shows_the_key(client, admin_user, settings):
    env(settings)
    client.force_login(admin_user)
    response = client.post(
        "/settings/sms/",
        {"backend": "smsc", "login": "shop", "api_key": "TOPSECRET", "price_per_part": "3.10"},
    )
    assert response.status_code == 302
    page = client.get("/settings/sms/").content.decode()
    assert "TOPSECRET" not in page
    assert "Ключ задан." in page
    assert config().price_per_part == Decimal("3.10")
