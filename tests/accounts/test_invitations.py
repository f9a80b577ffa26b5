"""«Пригласить» and «Забыли пароль?»: one-time links by e-mail (a real SMTP server on loopback).

An invitation link works once, for 72 hours, and only the newest one of a user; the database keeps
only its hash. A reset request answers the same for unknown addresses, sends nothing to disabled
users, and a flood is refused by the log-in limiter. Every refused link or password changes
nothing and says why in Russian."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from kartoteka.access.models import AuditEvent
from kartoteka.accounts import invitations
from kartoteka.accounts.models import Invitation, ResetRequest
from kartoteka.core.actor import MANAGERS_GROUP, Actor
from kartoteka.records.services import create_record
from kartoteka.tables.modelfactory import model_for
from tests.accounts.test_accounts import _state
from tests.builders import SYSTEM
from tests.mail import free_port

NEW_PASSWORD = "Tr7$kWn2!pZx"


@pytest.fixture
def boss(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def mailed(smtp, django_capture_on_commit_callbacks):
    """Run a request and return the letters it sent: ``mailed(lambda: client.post(...))``."""

    def run(request):
        start = len(smtp.messages)
        with django_capture_on_commit_callbacks(execute=True):
            response = request()
        return response, [_parse(raw) for _f, _to, raw in smtp.messages[start:]]

    return run


def _parse(raw: bytes) -> dict:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return {
        "to": message["To"],
        "subject": str(message["Subject"]).strip(),
        "text": message.get_body(("plain",)).get_content(),
        "html": message.get_body(("html",)).get_content(),
    }


def _link(letter: dict) -> str:
    return re.search(r"http://testserver(/\S+/)", letter["text"]).group(1)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _everything():
    return (
        _state(),
        list(Invitation.objects.order_by("pk").values()),
        list(get_user_model().objects.order_by("pk").values_list("password", flat=True)),
    )


def _invite(boss, mailed, username="orlova", email="orlova@example.ru", **extra):
    data = {
        "full_name": "Орлова Анна Петровна",
        "username": username,
        "email": email,
        "group": MANAGERS_GROUP,
        **extra,
    }
    return mailed(lambda: boss.post("/settings/users/invite/", data, follow=True))


def _set(link: str, password: str = NEW_PASSWORD, again: str | None = None):
    return Client().post(link, {"password1": password, "password2": again or password})


# -- invitations ---------------------------------------------------------------------------------


def test_an_invitation_mails_a_one_time_link_that_sets_the_password(boss, mailed, table):
    response, letters = _invite(boss, mailed)
    user = get_user_model().objects.get(username="orlova")
    assert _messages(response) == [
        "Приглашение отправлено: Орлова Анна Петровна получит письмо на orlova@example.ru."
    ]
    assert not user.has_usable_password()
    assert model_for(table("employees")).objects.get(user_id=user.pk).email == "orlova@example.ru"
    # the letter: Russian, plain and HTML, the link in both; the page never shows it
    [letter] = letters
    assert (letter["to"], letter["subject"]) == ("orlova@example.ru", "Приглашение в Картотеку")
    assert letter["text"].startswith("Здравствуйте, Орлова Анна Петровна!")
    assert "Петров Пётр приглашает вас в Картотеку. Ваш логин: orlova." in letter["text"]
    link = _link(letter)
    token = link.split("/")[2]
    assert f'href="http://testserver{link}"' in letter["html"]
    assert link not in response.content.decode()
    # only the token's hash is stored
    invitation = Invitation.objects.get(user=user)
    assert token not in str(list(Invitation.objects.values()))
    assert len(invitation.token_hash) == 64
    assert invitation.expires_at - invitation.created_at == dt.timedelta(hours=72)
    # the page: his name and login; a password set from it logs him in
    page = Client().get(link)
    assert page.status_code == 200
    assert "Орлова Анна Петровна, ваш логин — <strong>orlova</strong>" in page.content.decode()
    done = _set(link)
    assert (done.status_code, done["Location"]) == (302, "/login/")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert Client().login(username="orlova", password=NEW_PASSWORD)
    assert list(
        AuditEvent.objects.filter(kind=AuditEvent.ACCOUNT, data__user="orlova")
        .order_by("pk")
        .values_list("username", "message")
    ) == [
        ("boss", "Пользователю orlova отправлено приглашение на orlova@example.ru"),
        ("orlova", "Пользователь orlova принял приглашение и задал пароль"),
    ]
    # used: the link works no more and changes nothing
    before = _everything()
    again = _set(link, "Other#Pass99")
    assert again.status_code == 400
    assert "Это приглашение уже использовано." in again.content.decode()
    assert _everything() == before


def test_a_weak_or_mismatched_password_from_the_link_is_refused_in_russian(boss, mailed):
    _response, [letter] = _invite(boss, mailed)
    link = _link(letter)
    before = _everything()
    weak = _set(link, "qwerty12")
    assert weak.status_code == 400
    assert _messages(weak) == ["Введённый пароль слишком широко распространён."]
    other = _set(link, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert _messages(other) == ["Пароли не совпадают."]
    assert _everything() == before
    assert _set(link).status_code == 302


def test_a_new_invitation_revokes_the_older_link(boss, mailed, admin_user):
    _r, [first] = _invite(boss, mailed)
    user = get_user_model().objects.get(username="orlova")
    page = boss.get(f"/settings/users/{user.pk}/").content.decode()
    assert "Новое приглашение отменит прежнюю ссылку." in page
    _r, [second] = mailed(lambda: boss.post(f"/settings/users/{user.pk}/invite/"))
    assert _link(first) != _link(second)
    before = _everything()
    refused = _set(_link(first))
    assert refused.status_code == 400
    assert "Это приглашение отменено. Откройте ссылку из последнего письма" in (
        refused.content.decode()
    )
    assert _everything() == before
    assert _set(_link(second)).status_code == 302


def test_an_expired_or_tampered_link_changes_nothing(boss, mailed):
    _r, [letter] = _invite(boss, mailed)
    link = _link(letter)
    tampered = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    before = _everything()
    for url, text in (
        (link, "Срок действия приглашения истёк."),
        (tampered, "Ссылка приглашения неверна."),
        ("/invite/x/", "Ссылка приглашения неверна."),
    ):
        assert text in Client().get(url).content.decode()
        response = _set(url)
        assert (response.status_code, text in response.content.decode()) == (400, True)
    assert _everything() == before


@pytest.mark.parametrize(
    ("username", "email", "message"),
    [
        ("Ivanov", "new@example.ru", "Пользователь «Ivanov» уже есть."),
        ("orlova", "IVANOV@example.ru", "E-mail «IVANOV@example.ru» уже указан у другого"),
        ("orlova", "", "Укажите e-mail: на него придёт приглашение."),
        ("orlova", "не адрес", "«не адрес» — неверный адрес e-mail."),
    ],
)
def test_a_bad_invitation_is_refused_and_nothing_is_sent(
    boss, mailed, manager_user, username, email, message
):
    before = _everything()
    response, letters = _invite(boss, mailed, username=username, email=email)
    assert _messages(response)[0].startswith(message)
    assert letters == []
    assert _everything() == before


def test_the_employee_card_invites_an_employee_without_a_log_in(boss, mailed, table):
    record = create_record(
        SYSTEM, table("employees"), {"full_name": "Белова Ольга", "email": "belova@example.ru"}
    )
    page = boss.get(f"/settings/users/employee/{record.pk}/").content.decode()
    assert f'formaction="/settings/users/employee/{record.pk}/invite/"' in page
    _r, [letter] = mailed(
        lambda: boss.post(
            f"/settings/users/employee/{record.pk}/invite/",
            {"username": "belova", "email": "belova@example.ru", "group": MANAGERS_GROUP},
        )
    )
    user = get_user_model().objects.get(username="belova")
    assert model_for(table("employees")).objects.get(pk=record.pk).user_id == user.pk
    assert letter["text"].startswith("Здравствуйте, Белова Ольга!")
    assert _set(_link(letter)).status_code == 302


def test_an_invitation_that_could_not_be_sent_says_so_and_shows_no_link(
    boss, settings, django_capture_on_commit_callbacks
):
    # given: nobody listens on the mail port
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    # when
    with django_capture_on_commit_callbacks(execute=True):
        letter = invitations.invite_new_user(
            Actor.for_user(get_user_model().objects.get(username="boss")),
            username="orlova",
            email="orlova@example.ru",
            group=MANAGERS_GROUP,
        )
    # then
    assert (letter.sent, bool(letter.error)) == (False, True)
    page = boss.get(f"/settings/users/{letter.user.pk}/").content.decode()
    assert letter.link not in page


# -- «Забыли пароль?» ----------------------------------------------------------------------------


def _ask(mailed, address: str, client: Client | None = None, ip: str = "10.0.0.1"):
    client = client or Client()
    return mailed(
        lambda: client.post("/password/reset/", {"email": address}, REMOTE_ADDR=ip, follow=True)
    )


def _answer(response) -> tuple:
    return response.redirect_chain, response.status_code, response.context["text"]


SENT = "Если этот адрес указан у пользователя Картотеки, на него отправлено письмо"


def test_the_log_in_page_offers_a_reset_and_the_link_sets_a_new_password_once(mailed, manager_user):
    assert 'href="/password/reset/"' in Client().get("/login/").content.decode()
    response, [letter] = _ask(mailed, "IVANOV@example.ru")
    assert SENT in response.content.decode()
    assert (letter["to"], letter["subject"]) == (
        "ivanov@example.ru",
        "Восстановление пароля в Картотеке",
    )
    assert letter["text"].startswith("Здравствуйте, Иванов Иван!")
    link = _link(letter)
    assert (
        link.startswith("/password/reset/") and f'href="http://testserver{link}"' in letter["html"]
    )
    assert link not in response.content.decode()
    # a weak password is refused in Russian, nothing changes
    before = _everything()
    weak = _set(link, "ivanov123")
    assert weak.status_code == 400
    assert _messages(weak) == ["Введённый пароль слишком похож на имя пользователя."]
    assert _everything() == before
    # a good one is set; the link then no longer works
    done = _set(link)
    assert (done.status_code, done["Location"]) == (302, "/password/reset/done/")
    assert Client().login(username="ivanov", password=NEW_PASSWORD)
    before = _everything()
    again = _set(link, "Other#Pass99")
    assert again.status_code == 400
    assert "Ссылка для восстановления пароля неверна, уже использована или устарела." in (
        again.content.decode()
    )
    assert _everything() == before
    assert list(
        AuditEvent.objects.filter(kind=AuditEvent.ACCOUNT, data__user="ivanov")
        .order_by("pk")
        .values_list("message", flat=True)
    )[-2:] == [
        "Запрошено восстановление пароля пользователя ivanov",
        "Пользователь ivanov задал новый пароль по ссылке из письма",
    ]


def test_an_unknown_or_disabled_address_gets_the_same_answer_and_no_letter(
    mailed, admin, manager_user
):
    from kartoteka.accounts.services import disable_user

    known, _letters = _ask(mailed, "ivanov@example.ru")
    disable_user(admin, manager_user)
    for address in ("nobody@example.ru", "ivanov@example.ru"):
        response, letters = _ask(mailed, address)
        assert letters == []
        assert _answer(response) == _answer(known)


def test_a_tampered_reset_link_changes_nothing(mailed, manager_user):
    _r, [letter] = _ask(mailed, "ivanov@example.ru")
    link = _link(letter)
    before = _everything()
    for url in (link[:-2] + "x/", "/password/reset/MTIzNDU/abc-def/", "/password/reset/!!/x/"):
        response = _set(url)
        assert response.status_code == 400
        assert "Ссылка для восстановления пароля неверна" in response.content.decode()
    assert _everything() == before


def test_a_flood_of_reset_requests_is_refused_per_address_and_per_ip(
    mailed, manager_user, settings
):
    settings.KARTOTEKA_RESET_REQUESTS_PER_IP = 5
    for _ in range(3):
        _response, [_letter] = _ask(mailed, "ivanov@example.ru", ip="10.0.0.1")
    # the fourth for the address, from anywhere: refused, no letter
    requests = ResetRequest.objects.count()
    response, letters = _ask(mailed, "ivanov@example.ru", ip="10.0.0.2")
    assert (response.status_code, letters) == (429, [])
    assert _messages(response)[0].startswith(
        "Слишком много запросов на восстановление пароля. Повторите после "
    )
    assert ResetRequest.objects.count() == requests
    # other addresses from the first IP: two more, then refused
    for address in ("a@example.ru", "b@example.ru"):
        assert _ask(mailed, address, ip="10.0.0.1")[0].status_code == 200
    response, letters = _ask(mailed, "ivanov2@example.ru", ip="10.0.0.1")
    assert (response.status_code, letters) == (429, [])
    # an other visitor asks for another address as usual
    assert _ask(mailed, "c@example.ru", ip="10.0.0.3")[0].status_code == 200


def test_an_invited_user_is_listed_as_invited_and_disabling_him_revokes_the_link(
    boss, mailed, admin
):
    from kartoteka.accounts.services import disable_user, enable_user

    _r, [letter] = _invite(boss, mailed)
    user = get_user_model().objects.get(username="orlova")
    row = {u["username"]: u for u in boss.get("/settings/users/").context["users"]}["orlova"]
    assert (row["is_active"], row["has_password"]) == (True, False)
    assert disable_user(admin, user) and enable_user(admin, user)
    refused = _set(_link(letter))
    assert refused.status_code == 400
    assert "Это приглашение отменено" in refused.content.decode()


def test_a_password_set_by_hand_or_from_a_reset_link_revokes_the_invitation(boss, mailed, admin):
    from kartoteka.accounts.services import set_password

    _r, [letter] = _invite(boss, mailed)
    user = get_user_model().objects.get(username="orlova")
    set_password(admin, user, "Vn4$mZq8!tW")
    assert _set(_link(letter)).status_code == 400
    _r, [letter] = mailed(lambda: boss.post(f"/settings/users/{user.pk}/invite/"))
    _r, [reset] = _ask(mailed, "orlova@example.ru")
    assert _set(_link(reset)).status_code == 302
    assert _set(_link(letter), "Other#Pass99").status_code == 400
    assert Client().login(username="orlova", password=NEW_PASSWORD)
