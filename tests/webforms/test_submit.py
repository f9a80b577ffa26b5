"""Web form submissions: a lead becomes a record with exact values and a history row of the web
form; a known client (same INN, phone or e-mail) only gets his empty fields filled, and what differs
is kept for the manager; spam guards (a time-trap token used once) refuse without writing; hostile
input is stored as text and shown escaped."""

from __future__ import annotations

import email
from email import policy

import pytest
from django.contrib.auth.models import Group

from kartoteka.core.actor import MANAGERS_GROUP, Actor
from kartoteka.notifications.models import Notification
from kartoteka.records.models import RecordChange
from kartoteka.records.services import create_record
from kartoteka.tables.modelfactory import model_for
from kartoteka.webforms.models import WebFormSubmission
from tests.webforms.conftest import SITE

INN = "7707083893"
OTHER_INN = "7736207543"


def counterparties(table):
    return model_for(table("counterparties")).objects


def history(table, pk):
    return list(
        RecordChange.objects.filter(table=table("counterparties"), record_id=pk).order_by("id")
    )


def test_a_submission_creates_a_lead(
    post_form, lead_form, table, manager_user, smtp, django_capture_on_commit_callbacks
):
    # when: a visitor of the allowed site sends the form
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(
            {
                "name": "ООО Ромашка",
                "phone": "8 (912) 345-67-89",
                "email": "Info@Romashka.RU",
                "inn": "",
                "comment": "Перезвоните после обеда",
            }
        )
    # then: the thank-you page, and one record with exactly these values
    assert response.status_code == 200
    assert "Спасибо! Мы свяжемся с вами в ближайшее время." in response.content.decode()
    record = counterparties(table).get()
    assert record.name == "ООО Ромашка"
    assert record.phone == "+79123456789"
    assert record.email == "Info@romashka.ru"
    assert record.inn is None
    assert record.comment == "Перезвоните после обеда"
    assert (record.source, record.type, record.status) == ("site", "potential", "cold")
    assert record.manager_id == manager_user.pk
    assert record.created_by_id is None
    # the history says it came from the web form
    (change,) = history(table, record.pk)
    assert (change.action, change.source, change.user_id) == (
        "create",
        f"webform:{lead_form.pk}",
        None,
    )
    assert change.changes["phone"] == [None, "+79123456789"]
    # the submission log
    log = WebFormSubmission.objects.get()
    assert (log.outcome, log.record_id, log.ip, log.origin) == (
        "created",
        record.pk,
        "127.0.0.1",
        SITE,
    )
    # the manager got an in-app notification pointing at the record …
    (note,) = Notification.objects.all()
    assert (note.user_id, note.text, note.table_id, note.record_id, note.kind) == (
        manager_user.pk,
        "Новая заявка с сайта: ООО Ромашка (форма «Заявка с сайта»)",
        table("counterparties").pk,
        record.pk,
        f"webform:{lead_form.pk}",
    )
    # … and a letter through the real SMTP server
    ((_sender, recipients, raw),) = smtp.messages
    assert recipients == ["ivanov@example.ru"]
    letter = email.message_from_bytes(raw, policy=policy.default)
    assert letter["Subject"].strip() == "Новая заявка с сайта: ООО Ромашка"
    body = letter.get_content()
    assert f"Создана запись №{record.pk}." in body
    assert "Телефон: +7 912 345-67-89" in body
    assert "Сообщение: Перезвоните после обеда" in body
    assert f"http://testserver/t/counterparties/{record.pk}/" in body


def test_managers_are_assigned_round_robin(post_form, table, manager_user, lead_form):
    # given: a second manager
    from kartoteka.accounts.services import create_user

    second = create_user(
        Actor.system("test"),
        username="sidorov",
        password="Xk2#pLq9!vR",
        group=MANAGERS_GROUP,
        full_name="Сидоров Сидор",
        email="sidorov@example.ru",
    )
    # when: three leads arrive
    for name in ("Первый", "Второй", "Третий"):
        assert post_form({"name": name}).status_code == 200
    # then: the managers take turns
    managers = dict(counterparties(table).values_list("name", "manager_id"))
    assert managers == {"Первый": manager_user.pk, "Второй": second.pk, "Третий": manager_user.pk}


def work_rows(table, pk):
    return list(
        model_for(table("client_work"))
        .objects.filter(counterparty_id=pk)
        .order_by("id")
        .values_list("work_type", "done", "status", "manager_id", "description")
    )


def test_a_merge_fills_only_empty_fields_and_keeps_the_rest_for_the_manager(
    post_form, admin, table, lead_form, smtp, django_capture_on_commit_callbacks
):
    # given: a client in negotiations with a phone, an INN and a comment, but no e-mail
    existing = create_record(
        admin,
        table("counterparties"),
        {
            "name": "Ромашка",
            "phone": "+79123456789",
            "inn": INN,
            "comment": "Постоянный клиент",
            "status": "negotiation",
        },
    )
    # when: a visitor sends the same phone written differently, a new e-mail, another name and
    # message, and leaves the INN empty
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(
            {
                "name": "Ромашка, Иван",
                "phone": "8 912 345 67 89",
                "email": "ivan@romashka.ru",
                "inn": "",
                "comment": "Хочу счёт",
            }
        )
    # then: no new record; only the empty e-mail (and the hidden source) is filled — the name
    # and the comment stay; the status stays
    assert response.status_code == 200
    record = counterparties(table).get()
    assert record.pk == existing.pk
    assert (record.name, record.email, record.comment) == (
        "Ромашка",
        "ivan@romashka.ru",
        "Постоянный клиент",
    )
    assert (record.phone, record.inn, record.status, record.source, record.type) == (
        "+79123456789",
        INN,
        "negotiation",
        "site",
        "potential",
    )
    _created, merged = history(table, record.pk)
    assert merged.source == f"webform:{lead_form.pk}"
    assert merged.changes == {"email": [None, "ivan@romashka.ru"], "source": [None, "site"]}
    # and: what differs is a planned letter in the work log for the manager to accept, and the
    # submission's content in the form's log
    content = (
        "Заявка с сайта (форма «Заявка с сайта»), отличается от карточки:\n"
        "Ваше имя или компания: «Ромашка, Иван» (в карточке: «Ромашка»)\n"
        "Сообщение: «Хочу счёт» (в карточке: «Постоянный клиент»)"
    )
    assert work_rows(table, record.pk) == [("letter", False, None, admin.user.pk, content)]
    submission = WebFormSubmission.objects.get()
    assert (submission.outcome, submission.record_id, submission.content) == (
        "merged",
        record.pk,
        content,
    )
    # the record's manager (the admin who created it) learns what the visitor wrote
    assert list(Notification.objects.values_list("user_id", "text")) == [
        (admin.user.pk, "Повторная заявка с сайта: Ромашка (форма «Заявка с сайта»)")
    ]
    ((_sender, recipients, raw),) = smtp.messages
    letter = email.message_from_bytes(raw, policy=policy.default)
    assert recipients == ["boss@example.ru"]
    assert letter["Subject"].strip() == "Повторная заявка с сайта: Ромашка"
    assert "Сообщение: Хочу счёт" in letter.get_content()


def test_a_known_inn_does_not_overwrite_the_clients_name_and_email(post_form, admin, table):
    # given: a client with his name and the e-mail his invoices go to
    existing = create_record(
        admin,
        table("counterparties"),
        {"name": "ООО «Ромашка»", "inn": INN, "email": "buh@romashka.ru", "source": "call"},
    )
    before = list(counterparties(table).values())
    # when: anyone posts his INN with another name and e-mail
    response = post_form({"name": "Ромашка (новый адрес)", "inn": INN, "email": "evil@x.example"})
    # then: accepted, but the card is byte for byte what it was
    assert response.status_code == 200
    assert list(counterparties(table).values()) == before
    assert len(history(table, existing.pk)) == 1
    # and: the manager finds what was sent in the work log
    [(kind, done, status, _manager, description)] = work_rows(table, existing.pk)
    assert (kind, done, status) == ("letter", False, None)
    assert description.splitlines()[1:] == [
        "Ваше имя или компания: «Ромашка (новый адрес)» (в карточке: «ООО «Ромашка»»)",
        "E-mail: «evil@x.example» (в карточке: «buh@romashka.ru»)",
    ]


def test_a_merge_that_differs_in_nothing_adds_no_work_row(post_form, admin, table):
    existing = create_record(admin, table("counterparties"), {"name": "Ромашка", "inn": INN})
    post_form({"name": "Ромашка", "inn": INN, "phone": "+7 912 345-67-89"})
    existing.refresh_from_db()
    assert existing.phone == "+79123456789"
    assert work_rows(table, existing.pk) == []
    assert WebFormSubmission.objects.get().content == ""


def test_a_merge_assigns_a_manager_only_when_there_is_none(post_form, admin, table, manager_user):
    # given: a client with no manager, found by phone
    existing = create_record(
        admin, table("counterparties"), {"name": "Ничей", "phone": "+74951112233", "manager": None}
    )
    # when
    post_form({"name": "Ничей", "phone": "+7 495 111-22-33"})
    # then: the round-robin gives him one
    existing.refresh_from_db()
    assert existing.manager_id == manager_user.pk


def test_merge_by_email_and_by_inn(post_form, admin, table):
    # given: two clients, one known by e-mail, one by INN
    by_email = create_record(
        admin, table("counterparties"), {"name": "Почта", "email": "a@pochta.ru"}
    )
    by_inn = create_record(admin, table("counterparties"), {"name": "Инн", "inn": OTHER_INN})
    # when
    post_form({"name": "Кто-то", "email": "a@pochta.ru", "phone": "+7 495 111-22-33"})
    post_form({"name": "Кто-то ещё", "inn": OTHER_INN, "comment": "Нужен договор"})
    # then: each submission went into its client (filling only what was empty)
    assert counterparties(table).count() == 2
    by_email.refresh_from_db()
    by_inn.refresh_from_db()
    assert (by_email.name, by_email.phone) == ("Почта", "+74951112233")
    assert (by_inn.name, by_inn.comment) == ("Инн", "Нужен договор")


def test_invalid_values_are_shown_and_nothing_is_written(post_form, table):
    # when: the required name is empty and the phone is not a phone
    response = post_form({"name": "", "phone": "позвоните мне", "inn": "123"})
    # then
    assert response.status_code == 400
    content = response.content.decode()
    assert "Заполните поле «Ваше имя или компания»." in content
    assert "«позвоните мне» — не номер телефона." in content
    assert 'value="позвоните мне"' in content  # what the visitor typed stays in the form
    _nothing_written(table)
    assert WebFormSubmission.objects.get().outcome == "invalid"


def _nothing_written(table, smtp=None) -> None:
    assert counterparties(table).count() == 0
    assert not RecordChange.objects.filter(table=table("counterparties")).exists()
    assert not Notification.objects.exists()
    if smtp is not None:
        assert smtp.messages == []


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"origin": "https://evil.example.com"},
            "Эта форма не принимает заявки с сайта https://evil.example.com.",
        ),
        (
            {"origin": None},
            "Не удалось определить сайт, с которого отправлена форма. Заявка не принята.",
        ),
        (
            {"origin": None, "HTTP_REFERER": "http://shop.example.ru/contacts"},
            "Эта форма не принимает заявки с сайта http://shop.example.ru.",
        ),
    ],
)
def test_foreign_or_unknown_origins_are_refused(
    post_form, table, smtp, headers, message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form({"name": "ООО Спам"}, **headers)
    assert response.status_code == 403
    assert message in response.content.decode()
    _nothing_written(table, smtp)
    assert WebFormSubmission.objects.get().outcome == "refused"


def test_the_referer_stands_in_for_a_missing_origin(post_form, table):
    response = post_form(
        {"name": "ООО Ромашка"}, origin=None, HTTP_REFERER="https://shop.example.ru/contacts?x=1"
    )
    assert response.status_code == 200
    assert counterparties(table).count() == 1


def test_the_honeypot_refuses(post_form, table, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form({"name": "ООО Бот", "kt_website": "http://spam.example"})
    assert response.status_code == 400
    assert "Заявка отклонена защитой от спама." in response.content.decode()
    _nothing_written(table, smtp)
    assert WebFormSubmission.objects.get().reason == "honeypot"


def test_the_time_trap_refuses_fast_missing_and_forged_tokens(post_form, lead_form, table):
    from kartoteka.webforms.services import issue_token

    # a token from a second ago: too fast for a person
    response = post_form({"name": "ООО Бот"}, token=issue_token(lead_form))
    assert response.status_code == 400
    assert "Форма отправлена слишком быстро." in response.content.decode()
    assert 'value="ООО Бот"' in response.content.decode()  # the form comes back to resend
    # no token, and a forged one
    for token in ("", "eyJmIjoxfQ:forged:signature"):
        response = post_form({"name": "ООО Бот"}, token=token)
        assert response.status_code == 400
        assert "Форма устарела или повреждена." in response.content.decode()
    _nothing_written(table)


def test_a_token_is_good_for_one_submission(post_form, lead_form, table):
    from tests.webforms.conftest import aged_token

    # given: a submission accepted with a token
    token = aged_token(lead_form)
    assert post_form({"name": "ООО Первый"}, token=token).status_code == 200
    snapshot = list(counterparties(table).values())
    # when: the same token is sent again (a replay), with other values
    again = post_form({"name": "ООО Второй"}, token=token)
    # then: refused, nothing written
    assert again.status_code == 400
    assert "Эта заявка уже отправлена." in again.content.decode()
    assert list(counterparties(table).values()) == snapshot
    assert list(WebFormSubmission.objects.order_by("id").values_list("outcome", "reason")) == [
        ("created", ""),
        ("refused", "replayed"),
    ]


def test_a_token_refused_for_invalid_values_is_not_used_up(post_form, lead_form, table):
    from tests.webforms.conftest import aged_token

    token = aged_token(lead_form)
    assert post_form({"name": ""}, token=token).status_code == 400
    assert post_form({"name": "ООО Исправил"}, token=token).status_code == 200
    assert list(counterparties(table).values_list("name", flat=True)) == ["ООО Исправил"]


def test_the_same_token_cannot_be_accepted_twice_even_by_a_race(lead_form):
    from django.db import IntegrityError, transaction

    # given: an accepted submission with a nonce
    WebFormSubmission.objects.create(form=lead_form, outcome="created", nonce="n1")
    # then: a second accepted one with the same nonce is refused by the database itself
    with pytest.raises(IntegrityError), transaction.atomic():
        WebFormSubmission.objects.create(form=lead_form, outcome="merged", nonce="n1")
    # while refused and invalid attempts may repeat it
    WebFormSubmission.objects.create(form=lead_form, outcome="invalid", nonce="n1")
    WebFormSubmission.objects.create(form=lead_form, outcome="invalid", nonce="n1")


def test_an_expired_token_is_refused(post_form, lead_form, table):
    from tests.webforms.conftest import aged_token

    response = post_form({"name": "ООО Вчерашний"}, token=aged_token(lead_form, 24 * 3600 + 60))
    assert response.status_code == 400
    assert "Форма устарела или повреждена." in response.content.decode()
    _nothing_written(table)


def test_the_snippets_pasted_token_is_never_taken_for_a_submission(post_form, lead_form, table):
    import time

    from django.core import signing

    from kartoteka.webforms.services import TOKEN, TOKEN_SALT

    # given: the token pasted with the snippet (public, never expiring), an hour old
    pasted = signing.dumps(
        {"f": lead_form.pk, "t": time.time() - 3600, "k": "s", "n": "pasted"}, salt=TOKEN_SALT
    )
    # when: a browser without the script sends the snippet's form
    response = post_form({"name": "ООО Без скрипта"}, token=pasted)
    # then: nothing written; the form's own page comes back with the values and a fresh token
    assert response.status_code == 400
    page = response.content.decode()
    assert "Проверьте заявку и через несколько секунд нажмите «Отправить» ещё раз." in page
    assert 'value="ООО Без скрипта"' in page
    assert f'name="{TOKEN}"' in page and pasted not in page
    _nothing_written(table)


def test_rate_limit_per_address_and_per_form(post_form, table, settings, client):
    # given: two submissions per address and three per form in ten minutes
    settings.WEBFORM_RATE_PER_IP = (2, 600)
    settings.WEBFORM_RATE_PER_FORM = (3, 600)
    assert post_form({"name": "Первый"}).status_code == 200
    assert post_form({"name": "Второй"}).status_code == 200
    # when: the same address sends a third
    response = post_form({"name": "Третий"})
    # then
    assert response.status_code == 429
    assert "Слишком много заявок с вашего адреса." in response.content.decode()
    # junk from elsewhere is refused but does not use up the form's allowance …
    for address in ("10.2.2.1", "10.2.2.2"):
        junk = post_form({"name": "Спам"}, origin="https://evil.example.com", REMOTE_ADDR=address)
        assert junk.status_code == 403
    assert post_form({"name": "Четвёртый"}, REMOTE_ADDR="10.1.1.1").status_code == 200
    # … while a third real submission does
    response = post_form({"name": "Пятый"}, REMOTE_ADDR="10.1.1.2")
    assert response.status_code == 429
    assert "Форма получила слишком много заявок." in response.content.decode()
    assert sorted(counterparties(table).values_list("name", flat=True)) == [
        "Второй",
        "Первый",
        "Четвёртый",
    ]


def test_behind_a_proxy_the_forwarded_address_is_limited(post_form, table, settings):
    # given: the proxy's header is configured, one submission per address
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.WEBFORM_RATE_PER_IP = (1, 600)
    proxied = {"REMOTE_ADDR": "10.0.0.1"}
    # when: two visitors come through the same proxy, then the first comes again (forging an
    # address in front of the one the proxy appended)
    first = post_form({"name": "Первый"}, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxied)
    second = post_form({"name": "Второй"}, HTTP_X_FORWARDED_FOR="203.0.113.6", **proxied)
    again = post_form(
        {"name": "Снова"}, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5", **proxied
    )
    # then
    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)
    assert sorted(WebFormSubmission.objects.values_list("ip", flat=True)) == [
        "203.0.113.5",
        "203.0.113.6",
    ]


def test_an_oversized_request_is_refused_before_it_is_read(post_form, table, settings):
    settings.WEBFORM_MAX_BYTES = 1000
    response = post_form({"name": "ООО Ромашка", "comment": "я" * 2000})
    assert response.status_code == 413
    assert "Заявка слишком большая." in response.content.decode()
    _nothing_written(table)


def test_a_long_value_is_refused(post_form, table):
    response = post_form({"name": "ООО Ромашка", "comment": "я" * 5001})
    assert response.status_code == 400
    assert "Слишком длинный текст: не больше 5000 знаков." in response.content.decode()
    _nothing_written(table)


def test_ajax_submission_gets_json_and_cors(post_form, table):
    # when: the snippet's script posts from the allowed site
    response = post_form({"name": "ООО Ромашка"}, HTTP_ACCEPT="application/json")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "message": "Спасибо! Мы свяжемся с вами в ближайшее время.",
        "redirect": None,
    }
    assert response["Access-Control-Allow-Origin"] == SITE
    # a refusal is JSON too, without the CORS header for a foreign site
    response = post_form(
        {"name": "ООО Спам"}, origin="https://evil.example.com", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "origin_refused"
    assert "Access-Control-Allow-Origin" not in response


def test_the_public_page_posts_to_itself(client, lead_form, table):
    # given: the form's own page in Kartoteka
    page = client.get(f"/f/{lead_form.key}/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "Ваше имя или компания *" in content
    assert 'name="kt_website"' in content
    # when: it is submitted (after a person's pause) from Kartoteka's own origin
    from tests.webforms.conftest import aged_token

    response = client.post(
        f"/f/{lead_form.key}/",
        {"name": "ООО Ромашка", "kt_ts": aged_token(lead_form)},
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 200
    assert counterparties(table).get().name == "ООО Ромашка"


def test_a_redirect_after_success(post_form, lead_form, table):
    lead_form.redirect_url = "https://shop.example.ru/thanks"
    lead_form.save()
    response = post_form({"name": "ООО Ромашка"})
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.ru/thanks"


def test_hostile_input_is_stored_as_text_and_escaped(post_form, table, client, admin_user):
    # given: a submission full of markup
    name = '<script>alert("x")</script>Ромашка'
    comment = '<img src=x onerror="alert(1)"> & <b>жирный</b>'
    assert post_form({"name": name, "comment": comment}).status_code == 200
    record = counterparties(table).get()
    assert (record.name, record.comment) == (name, comment)
    # when: the administrator opens the card and the grid
    client.force_login(admin_user)
    card = client.get(f"/t/counterparties/{record.pk}/").content.decode()
    grid = client.get("/t/counterparties/").content.decode()
    # then: the markup is shown as text, never run
    for page in (card, grid):
        assert "<script>alert(" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;Ромашка" in page
    assert "<img src=x" not in card
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &lt;b&gt;жирный&lt;/b&gt;" in card
    assert "веб-форма №" in card  # the history names the source


def test_an_inactive_form_refuses(post_form, lead_form, table, client):
    lead_form.is_active = False
    lead_form.save()
    assert client.get(f"/f/{lead_form.key}/").status_code == 410
    response = post_form({"name": "ООО Ромашка"})
    assert response.status_code == 410
    _nothing_written(table)


def test_no_manager_group_leaves_the_default(post_form, lead_form, table):
    lead_form.assign_group = None
    lead_form.save()
    post_form({"name": "ООО Ромашка"})
    assert counterparties(table).get().manager_id is None


def test_unused_group_is_harmless(post_form, lead_form, table):
    lead_form.assign_group = Group.objects.create(name="Пустая")
    lead_form.save()
    post_form({"name": "ООО Ромашка"})
    assert counterparties(table).get().manager_id is None
