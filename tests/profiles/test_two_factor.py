"""Two-factor log-in: enrolment, the code step of the log-in, recovery codes, the group
requirement, turning it off. Codes are computed with pyotp from the secret the page shows."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from kartoteka.access.models import AuditEvent, LoginFailure
from kartoteka.profiles.models import RecoveryCode

PASSWORD = "Xk2#pLq9!vR"


def _totp(page: str) -> pyotp.TOTP:
    """The app's view of the secret: read from the ``otpauth://`` address on the page."""
    url = re.search(r'data-testid="otpauth">([^<]+)<', page).group(1).replace("&amp;", "&")
    query = parse_qs(urlparse(url).query)
    assert query["issuer"] == ["Картотека"]
    return pyotp.TOTP(query["secret"][0])


def _enrol(client) -> tuple[pyotp.TOTP, list[str]]:
    page = client.get("/profile/two-factor/")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.content.decode()
    totp = _totp(page.content.decode())
    done = client.post("/profile/two-factor/", {"code": totp.now()})
    assert done.status_code == 200
    codes = re.findall(
        r'<code class="user-select-all">([A-Z0-9-]{11})</code>', done.content.decode()
    )
    return totp, codes


def _next_code(totp: pyotp.TOTP) -> str:
    """A code of the next 30-second step: the enrolment used this step's (tolerance is one)."""
    return totp.at(time.time() + 30)


def _password_step(client, username: str) -> None:
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login/code/"


def _logged_in(client) -> bool:
    return client.get("/profile/").status_code == 200


@pytest.fixture
def enrolled(client, manager_user):
    client.force_login(manager_user)
    totp, codes = _enrol(client)
    client.post("/logout/")
    return totp, codes


def test_enrolment_confirms_the_app_and_shows_ten_recovery_codes_kept_hashed(client, manager_user):
    # given
    client.force_login(manager_user)
    # when
    _totp, codes = _enrol(client)
    # then
    device = TOTPDevice.objects.get(user=manager_user)
    assert device.confirmed is True
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(
        RecoveryCode.objects.filter(user=manager_user).values_list("code_hash", flat=True)
    )
    assert len(stored) == 10
    assert not {c.replace("-", "") for c in codes} & set(stored)
    assert AuditEvent.objects.filter(
        kind=AuditEvent.ACCOUNT, message="Включён двухфакторный вход (ivanov)"
    ).exists()


def test_a_wrong_code_at_enrolment_confirms_nothing(client, manager_user):
    client.force_login(manager_user)
    page = client.get("/profile/two-factor/").content.decode()
    wrong = str((int(_totp(page).now()) + 1) % 1000000).zfill(6)
    response = client.post("/profile/two-factor/", {"code": wrong})
    assert response.status_code == 400
    assert "Код не подошёл" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=manager_user, confirmed=True).exists()
    assert not RecoveryCode.objects.exists()


def test_log_in_takes_a_code_after_the_password_and_a_replayed_code_is_refused(
    client, manager_user, enrolled
):
    totp, _codes = enrolled
    # when: the password alone
    _password_step(client, "ivanov")
    # then: not logged in yet
    assert client.get("/profile/")["Location"].startswith("/login/")
    # when: the code
    logins = AuditEvent.objects.filter(kind=AuditEvent.LOGIN, username="ivanov")
    before = logins.count()
    _password_step(client, "ivanov")
    code = _next_code(totp)
    response = client.post("/login/code/", {"code": code})
    # then
    assert response.status_code == 302 and response["Location"] == "/"
    assert _logged_in(client)
    assert logins.count() == before + 1
    # when: the same code again within its window
    client.post("/logout/")
    _password_step(client, "ivanov")
    replayed = client.post("/login/code/", {"code": code})
    # then
    assert replayed.status_code == 400
    assert "Неверный код." in replayed.content.decode()
    assert not _logged_in(client)
    assert LoginFailure.objects.filter(username="ivanov").count() == 1


def test_wrong_codes_are_counted_by_the_log_in_lock(client, manager_user, enrolled, settings):
    # given
    settings.KARTOTEKA_LOGIN_FAILURES_PER_ACCOUNT = 3
    totp, _codes = enrolled
    _password_step(client, "ivanov")
    right = _next_code(totp)
    wrong = str((int(right) + 1) % 1000000).zfill(6)
    # when
    for _ in range(3):
        assert client.post("/login/code/", {"code": wrong}).status_code == 400
    locked = client.post("/login/code/", {"code": right})
    # then: even the right code is refused while locked, and the password step starts again
    assert locked.status_code == 400
    assert "Вход заблокирован до" in locked.content.decode()
    assert LoginFailure.objects.filter(username="ivanov").count() == 3
    assert (
        AuditEvent.objects.filter(
            kind=AuditEvent.LOGIN_FAILED, message="Неверный код двухфакторного входа"
        ).count()
        == 3
    )
    assert client.get("/login/code/")["Location"] == "/login/"
    assert not _logged_in(client)


def test_a_recovery_code_works_once(client, manager_user, enrolled):
    _app, codes = enrolled
    _password_step(client, "ivanov")
    assert client.post("/login/code/", {"code": codes[3].lower()}).status_code == 302
    assert _logged_in(client)
    assert RecoveryCode.objects.filter(user=manager_user, used_at__isnull=True).count() == 9
    assert AuditEvent.objects.filter(
        kind=AuditEvent.ACCOUNT, message="Вход по коду восстановления (осталось 9)"
    ).exists()
    client.post("/logout/")
    _password_step(client, "ivanov")
    again = client.post("/login/code/", {"code": codes[3]})
    assert again.status_code == 400
    assert not _logged_in(client)
    assert RecoveryCode.objects.filter(user=manager_user, used_at__isnull=True).count() == 9


def test_new_recovery_codes_replace_the_old(client, manager_user):
    client.force_login(manager_user)
    _app, old = _enrol(client)
    page = client.post("/profile/two-factor/recovery-codes/").content.decode()
    new = re.findall(r'<code class="user-select-all">([A-Z0-9-]{11})</code>', page)
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout/")
    _password_step(client, "ivanov")
    assert client.post("/login/code/", {"code": old[0]}).status_code == 400
    assert client.post("/login/code/", {"code": new[0]}).status_code == 302


def test_a_group_that_requires_two_factor_sends_its_member_to_enrol_first(
    client, admin, manager_user
):
    # given
    from kartoteka.access.services import set_group_permissions

    set_group_permissions(admin, Group.objects.get(name="Менеджеры"), ["require_two_factor"])
    # when: the password
    response = client.post("/login/", {"username": "ivanov", "password": PASSWORD})
    # then: logged in, but every page leads to the enrolment
    assert response.status_code == 302
    for path in ("/", "/t/counterparties/", "/profile/", "/profile/tokens/"):
        assert client.get(path)["Location"] == "/profile/two-factor/", path
    assert client.get("/calendar/counts/", HTTP_HX_REQUEST="true").status_code == 204
    page = client.get("/profile/two-factor/").content.decode()
    assert 'data-testid="must-enrol"' in page
    # when: enrolled
    client.post("/profile/two-factor/", {"code": _totp(page).now()})
    # then
    assert client.get("/t/counterparties/").status_code == 200


def test_an_api_token_is_not_asked_for_a_code(client, manager_user, enrolled):
    from kartoteka.api.tokens import create_token
    from kartoteka.core.actor import Actor

    secret = create_token(Actor.for_user(manager_user), manager_user, "Сайт").secret
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 200


def test_turning_off_needs_the_password_or_a_code(client, manager_user):
    client.force_login(manager_user)
    totp, _codes = _enrol(client)
    refused = client.post("/profile/two-factor/disable/", {"password": "не тот"})
    assert refused.status_code == 302
    assert TOTPDevice.objects.filter(user=manager_user).count() == 1
    assert (
        client.post("/profile/two-factor/disable/", {"code": _next_code(totp)}).status_code == 302
    )
    assert not TOTPDevice.objects.filter(user=manager_user).exists()
    assert not RecoveryCode.objects.filter(user=manager_user).exists()
    assert AuditEvent.objects.filter(message="Выключен двухфакторный вход (ivanov)").exists()


def test_an_administrator_sees_and_resets_a_users_two_factor(client, admin_user, manager_user):
    # given
    client.force_login(manager_user)
    _enrol(client)
    client.force_login(admin_user)
    users = client.get("/settings/users/").content.decode()
    assert re.search(r'data-username="ivanov".*?data-testid="two-factor-on"', users, re.S)
    # when
    response = client.post(f"/settings/users/{manager_user.pk}/two-factor/reset/")
    # then
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=manager_user).exists()
    event = AuditEvent.objects.get(
        message="Двухфакторный вход пользователя ivanov сброшен администратором"
    )
    assert event.user == admin_user


def test_the_shell_resets_a_lost_phone(client, admin_user, capsys):
    # given: the only administrator has lost his phone
    from kartoteka.cli import main

    client.force_login(admin_user)
    _enrol(client)
    # when
    assert main(["user", "reset-two-factor", "boss"]) == 0
    assert main(["user", "reset-two-factor", "boss"]) == 0
    # then
    assert capsys.readouterr().out.splitlines() == [
        "Двухфакторный вход пользователя boss сброшен.",
        "У пользователя boss двухфакторный вход не включён.",
    ]
    assert not TOTPDevice.objects.filter(user=admin_user).exists()
    event = AuditEvent.objects.get(
        message="Двухфакторный вход пользователя boss сброшен администратором"
    )
    assert event.data["source"] == "cli"
    client.post("/logout/")
    assert client.post("/login/", {"username": "boss", "password": PASSWORD})["Location"] == "/"
