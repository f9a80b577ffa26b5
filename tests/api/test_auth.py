"""Personal tokens: how the API knows who calls, and how a token stops working."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from kartoteka.api.models import ApiToken
from kartoteka.api.tokens import create_token, digest_of, revoke_token
from kartoteka.cli import main
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied
from tests.api.conftest import token_client

PASSWORD = "Xk2#pLq9!vR"


def test_me_with_a_token(api, admin_user):
    # when
    response = api.get("/api/v1/me/")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": admin_user.pk,
        "username": "boss",
        "full_name": "Петров Пётр",
        "group": "Администратор",
    }


def test_a_token_is_stored_hashed_and_its_use_noted(admin_user):
    # given
    created = create_token(Actor.system("tests"), admin_user, "Сайт")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {created.secret}")
    # when
    response = client.get("/api/v1/me/")
    # then
    assert response.status_code == 200
    token = ApiToken.objects.get(pk=created.token.pk)
    assert created.secret.startswith("kt_") and len(created.secret) == 46
    assert token.digest == digest_of(created.secret)
    assert created.secret not in (token.digest, token.prefix)
    assert token.prefix == created.secret[:9]
    assert token.last_used_at is not None


def test_no_credentials_is_401(crm):
    # when
    response = APIClient().get("/api/v1/me/")
    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Учетные данные не были предоставлены.",
        "fields": {},
    }


@pytest.mark.parametrize("header", ["Token nonsense", "Token kt_a b", "Token"])
def test_a_wrong_token_is_401(crm, header):
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    # when
    response = client.get("/api/v1/me/")
    # then
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_revoked_token_is_refused_on_the_very_next_request(api, admin_user):
    # given
    assert api.get("/api/v1/me/").status_code == 200
    # when
    revoke_token(Actor.for_user(admin_user), api.token.pk)
    response = api.get("/api/v1/me/")
    # then
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "message": "Токен неверен или отозван.",
        "fields": {},
    }


def test_a_token_of_a_disabled_user_is_refused(manager_api, manager_user):
    # given
    manager_user.is_active = False
    manager_user.save()
    # when
    response = manager_api.get("/api/v1/me/")
    # then
    assert response.status_code == 401


def test_a_manager_cannot_revoke_or_create_others_tokens(api, manager_user, admin_user):
    # given
    manager = Actor.for_user(manager_user)
    # when / then
    with pytest.raises(PermissionDenied):
        create_token(manager, admin_user, "чужой")
    with pytest.raises(Exception) as refused:
        revoke_token(manager, api.token.pk)
    assert refused.value.code == "not_found"
    assert ApiToken.objects.get(pk=api.token.pk).revoked_at is None
    assert ApiToken.objects.filter(user=admin_user).count() == 1


def test_session_authentication_serves_the_apps_own_pages(admin_user):
    # given
    client = Client(enforce_csrf_checks=True)
    client.login(username="boss", password=PASSWORD)
    # when
    read = client.get("/api/v1/me/")
    write_without_csrf = client.post(
        "/api/v1/tables/counterparties/records/", {"name": "X"}, content_type="application/json"
    )
    # then
    assert read.status_code == 200
    assert read.json()["username"] == "boss"
    assert write_without_csrf.status_code == 403
    assert write_without_csrf.json()["code"] == "permission_denied"
    assert "CSRF" in write_without_csrf.json()["message"]


def test_session_write_with_csrf_token(admin_user):
    # given
    client = Client(enforce_csrf_checks=True)
    client.login(username="boss", password=PASSWORD)
    client.get("/profile/tokens/")
    csrf = client.cookies["csrftoken"].value
    # when
    response = client.post(
        "/api/v1/tables/counterparties/records/",
        {"name": "Ромашка"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    # then
    assert response.status_code == 201
    assert response.json()["name"] == "Ромашка"


# -- the profile page ----------------------------------------------------------------------------


def test_the_profile_page_creates_a_token_shown_once(manager_user):
    # given
    client = Client()
    client.login(username="ivanov", password=PASSWORD)
    # when
    created = client.post("/profile/tokens/", {"name": "Сайт"})
    again = client.get("/profile/tokens/")
    # then
    token = ApiToken.objects.get(user=manager_user)
    secret = created.content.decode().split('data-testid="token-secret">')[1].split("<")[0]
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    assert token.name == "Сайт" and token.digest == digest_of(secret)
    assert secret not in again.content.decode()
    assert token.prefix in again.content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/me/").json()["username"] == "ivanov"


def test_the_profile_page_refuses_a_token_without_a_name(manager_user):
    # given
    client = Client()
    client.login(username="ivanov", password=PASSWORD)
    # when
    response = client.post("/profile/tokens/", {"name": "  "})
    # then
    assert response.status_code == 400
    assert "Укажите название токена" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_profile_page_revokes_a_token(manager_api, manager_user):
    # given
    client = Client()
    client.login(username="ivanov", password=PASSWORD)
    # when
    response = client.post(f"/profile/tokens/{manager_api.token.pk}/revoke/", follow=True)
    # then
    assert "Токен «tests» отозван." in response.content.decode()
    assert manager_api.get("/api/v1/me/").status_code == 401


def test_the_profile_page_does_not_revoke_someone_elses_token(api, manager_user):
    # given
    client = Client()
    client.login(username="ivanov", password=PASSWORD)
    # when
    response = client.post(f"/profile/tokens/{api.token.pk}/revoke/", follow=True)
    # then
    assert f"Токен №{api.token.pk} не найден." in response.content.decode()
    assert api.get("/api/v1/me/").status_code == 200


def test_the_profile_page_lists_only_own_tokens(api, manager_user):
    # given
    token_client(manager_user, name="Мой")
    client = Client()
    client.login(username="ivanov", password=PASSWORD)
    # when
    page = client.get("/profile/tokens/").content.decode()
    # then
    assert "Мой" in page
    assert api.token.prefix not in page


# -- the CLI -------------------------------------------------------------------------------------


def test_cli_token_create_prints_a_working_token(manager_user, capsys):
    # when
    code = main(["token", "create", "--user", "ivanov", "--name", "1С"])
    # then
    secret = capsys.readouterr().out.strip()
    assert code == 0
    token = ApiToken.objects.get(user=manager_user)
    assert token.name == "1С" and token.digest == digest_of(secret)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get("/api/v1/me/").json()["username"] == "ivanov"


def test_cli_token_create_for_an_unknown_user(crm, capsys):
    # when
    code = main(["token", "create", "--user", "nobody"])
    # then
    assert code == 1
    assert capsys.readouterr().err == "Ошибка: Пользователь «nobody» не найден.\n"
    assert not ApiToken.objects.exists()


def test_cli_token_revoke(manager_api, capsys):
    # when
    code = main(["token", "revoke", str(manager_api.token.pk)])
    # then
    assert code == 0
    assert capsys.readouterr().out == "Токен «tests» пользователя ivanov отозван.\n"
    assert manager_api.get("/api/v1/me/").status_code == 401
