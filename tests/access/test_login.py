"""Log-in protection: the lock engages after too many failures and lifts by itself; an unknown
user and a wrong password get the same answer; every log-in is in the audit log."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db.models import F
from django.utils import timezone

from kartoteka.access import login
from kartoteka.access.models import AuditEvent, LoginFailure


@pytest.fixture
def fast_lock(settings):
    settings.KARTOTEKA_LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.KARTOTEKA_LOGIN_FAILURES_PER_IP = 5
    # Short, for the test that gives the times itself; tests that log in through the page use
    # a long period (below), so that a busy machine never lets the lock lift mid-test.
    settings.KARTOTEKA_LOGIN_LOCK_SECONDS = 6
    return settings


@pytest.fixture
def long_lock(fast_lock):
    """A lock that does not lift during the test, whatever the machine's load: a test that only
    checks that the lock engages must not depend on how fast the failures follow one another."""
    fast_lock.KARTOTEKA_LOGIN_LOCK_SECONDS = 900
    return fast_lock


def _login(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def _errors(response) -> str:
    form = response.context["form"]
    return " ".join(str(e) for e in form.non_field_errors())


def test_the_lock_engages_and_expires(client, manager_user, long_lock):
    # given: three wrong passwords
    for _attempt in range(3):
        assert _login(client, "ivanov", "wrong").status_code == 200
    # when: the right password while locked
    locked = _login(client, "ivanov", "Xk2#pLq9!vR")
    # then: refused with the lock message, not logged in
    assert locked.status_code == 200
    assert "Слишком много неудачных попыток входа" in _errors(locked)
    assert "_auth_user_id" not in client.session
    # when: the lock period (15 min) passes: the lock is computed from the failures' stored
    # times, so they are aged by as much instead of the test waiting for it
    lifts = login.lock_until("ivanov", "10.0.0.1")
    assert lifts is not None
    passed = lifts - timezone.now() + dt.timedelta(milliseconds=300)
    LoginFailure.objects.update(created_at=F("created_at") - passed)
    assert login.lock_until("ivanov", "10.0.0.1") is None
    opened = _login(client, "ivanov", "Xk2#pLq9!vR")
    # then: in, and the account's failures are forgotten
    assert opened.status_code == 302
    assert client.session["_auth_user_id"] == str(manager_user.pk)
    assert not LoginFailure.objects.filter(username="ivanov").exists()


def test_a_locked_visitor_is_told_until_when(client, manager_user, long_lock):
    # given: three wrong passwords; the installation's zone is Moscow (UTC+3)
    long_lock.TIME_ZONE = "Europe/Moscow"
    for _attempt in range(3):
        _login(client, "ivanov", "wrong")
    lifts = login.lock_until("ivanov", "10.0.0.1")
    assert lifts is not None
    # when: the right password while locked
    locked = _login(client, "ivanov", "Xk2#pLq9!vR")
    # then: the page says the account is locked and until when (Moscow time, up to the minute),
    # not «wrong name or password»
    moscow = lifts.astimezone(dt.timezone(dt.timedelta(hours=3)))
    shown = (moscow.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)).strftime(
        "%d.%m.%Y %H:%M"
    )
    page = locked.content.decode()
    assert f"Слишком много неудачных попыток входа. Вход заблокирован до {shown}." in page, page
    assert "Неверное имя пользователя или пароль" not in page
    assert "_auth_user_id" not in client.session


def test_the_lock_message_rounds_up_to_the_minute_in_the_installations_zone(settings):
    settings.TIME_ZONE = "Asia/Yekaterinburg"  # UTC+5
    until = dt.datetime(2026, 12, 7, 18, 4, 30, tzinfo=dt.UTC)
    assert login.locked_message(until) == (
        "Слишком много неудачных попыток входа. Вход заблокирован до 07.12.2026 23:05."
    )
    exact = dt.datetime(2026, 12, 31, 21, 0, tzinfo=dt.UTC)
    assert login.locked_message(exact).endswith("до 01.01.2027 02:00.")


def test_the_lock_with_an_injected_clock(manager_user, fast_lock):
    start = timezone.now()
    for step in range(3):
        login.record_failure(
            "Ivanov", "10.0.0.9", now=start + dt.timedelta(milliseconds=500 * step)
        )
    later = start + dt.timedelta(milliseconds=1500)
    assert login.is_locked("ivanov", "", now=later)
    # the oldest of the three failures ages out 6 s after it happened, and the lock lifts
    assert login.lock_until("ivanov", "", now=later) == start + dt.timedelta(seconds=6)
    assert not login.is_locked("ivanov", "", now=start + dt.timedelta(seconds=6, milliseconds=1))


def test_the_lock_per_address_covers_every_account(client, manager_user, long_lock):
    # given: five failures from one address, each on a different (unknown) account
    for n in range(5):
        _login(client, f"ghost{n}", "wrong", ip="10.0.0.2")
    # then: the real user is locked out from that address, not from another
    assert "Слишком много" in _errors(_login(client, "ivanov", "Xk2#pLq9!vR", ip="10.0.0.2"))
    assert _login(client, "ivanov", "Xk2#pLq9!vR", ip="10.0.0.3").status_code == 302


def test_behind_a_proxy_the_lock_counts_the_visitors_address(client, manager_user, long_lock):
    # given: a reverse proxy (every request from 10.0.0.100) that names the visitor's address
    long_lock.CLIENT_IP_HEADER = "X-Forwarded-For"

    def via_proxy(username: str, password: str, visitor: str):
        return client.post(
            "/login/",
            {"username": username, "password": password},
            REMOTE_ADDR="10.0.0.100",
            HTTP_X_FORWARDED_FOR=f"1.2.3.4, {visitor}",
        )

    # when: one visitor fails five times on different accounts
    for n in range(5):
        via_proxy(f"ghost{n}", "wrong", "198.51.100.7")
    # then: that visitor is locked out, another one behind the same proxy is not
    assert "Слишком много" in _errors(via_proxy("ivanov", "Xk2#pLq9!vR", "198.51.100.7"))
    assert via_proxy("ivanov", "Xk2#pLq9!vR", "198.51.100.8").status_code == 302
    assert set(LoginFailure.objects.values_list("ip", flat=True)) == {"198.51.100.7"}


def test_unknown_user_and_wrong_password_look_the_same(client, manager_user, fast_lock):
    unknown = _login(client, "nobody", "wrong", ip="10.0.0.4")
    wrong = _login(client, "ivanov", "wrong", ip="10.0.0.5")
    assert unknown.status_code == wrong.status_code == 200
    assert _errors(unknown) == _errors(wrong)
    assert _page(unknown, "nobody") == _page(wrong, "ivanov")


def _page(response, username: str) -> str:
    """The page with the typed name and the (random) CSRF tokens blanked."""
    text = response.content.decode().replace(username, "X")
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", text)


def test_log_ins_and_failures_are_audited(client, manager_user, fast_lock):
    _login(client, "ivanov", "wrong", ip="10.0.0.6")
    _login(client, "ivanov", "Xk2#pLq9!vR", ip="10.0.0.6")
    events = list(
        AuditEvent.objects.exclude(kind="rights")
        .order_by("id")
        .values_list("kind", "username", "ip")
    )
    assert events == [
        ("login_failed", "ivanov", "10.0.0.6"),
        ("login", "ivanov", "10.0.0.6"),
    ]


def test_creating_a_user_is_audited(manager_user):
    event = AuditEvent.objects.get(kind="rights", data__user="ivanov")
    assert event.message == "Создан пользователь ivanov в группе «Менеджеры»"


def test_password_validators_refuse_a_weak_password(crm):
    from kartoteka.accounts.services import AccountError, create_user
    from kartoteka.core.actor import Actor

    with pytest.raises(AccountError) as refused:
        create_user(Actor.system("test"), username="weak", password="12345678", group="Менеджеры")
    assert refused.value.code == "weak_password"
