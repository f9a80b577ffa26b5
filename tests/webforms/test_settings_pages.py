"""The settings pages of web forms (administrators only): create a form, change it, copy the
public link and the snippet; errors are shown at their settings and change nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from kartoteka.core.actor import MANAGERS_GROUP
from kartoteka.webforms.models import WebForm


@pytest.fixture
def logged_in(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_administrator_creates_and_configures_a_form(logged_in, table):
    # when: a form for «Контрагенты» is created
    response = logged_in.post(
        "/integrations/forms/", {"name": "Заявка с сайта", "table": "counterparties"}
    )
    form = WebForm.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/integrations/forms/{form.pk}/"
    # then: it starts with the usual inputs and source = «Сайт»
    assert [i.field.key for i in form.inputs.order_by("position")] == [
        "name",
        "phone",
        "email",
        "comment",
    ]
    assert {d.field.key: d.value for d in form.defaults.all()} == {"source": "site"}
    # when: the administrator changes it
    group = Group.objects.get(name=MANAGERS_GROUP)
    response = logged_in.post(
        f"/integrations/forms/{form.pk}/",
        {
            "name": "Обратный звонок",
            "in_name": "1",
            "label_name": "Как к вам обращаться",
            "req_name": "1",
            "pos_name": "20",
            "in_phone": "1",
            "req_phone": "1",
            "pos_phone": "10",
            "def_source": "site",
            "def_status": "interested",
            "assign_field": "manager",
            "assign_group": str(group.pk),
            "allowed_origins": "https://shop.example.ru/\nhttps://www.shop.example.ru",
            "success_message": "Перезвоним за 15 минут",
            "merge": "1",
            "is_active": "1",
        },
    )
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.name == "Обратный звонок"
    assert [(i.field.key, i.label, i.required) for i in form.inputs.order_by("position")] == [
        ("phone", "", True),
        ("name", "Как к вам обращаться", True),
    ]
    assert {d.field.key: d.value for d in form.defaults.all()} == {
        "source": "site",
        "status": "interested",
    }
    assert (form.assign_field.key, form.assign_group) == ("manager", group)
    assert form.origins() == ["https://shop.example.ru", "https://www.shop.example.ru"]
    assert form.success_message == "Перезвоним за 15 минут"
    # the page shows the public link and the snippet to paste
    page = logged_in.get(f"/integrations/forms/{form.pk}/").content.decode()
    assert f"http://testserver/f/{form.key}/" in page
    assert f'action="http://testserver/f/{form.key}/"' in page.replace("&quot;", '"')
    assert "kt_website" in page


def test_bad_settings_are_shown_and_change_nothing(logged_in, admin, table):
    from kartoteka.webforms.services import InputSpec, save_webform

    form = save_webform(
        admin, table("counterparties"), name="Заявка", inputs=[InputSpec("name", required=True)]
    )
    response = logged_in.post(
        f"/integrations/forms/{form.pk}/",
        {
            "name": "",
            "def_status": "нет такого",
            "allowed_origins": "shop.example.ru",
            "redirect_url": "javascript:alert(1)",
        },
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Введите название формы." in content
    assert "Выберите хотя бы одно поле формы." in content
    assert "«shop.example.ru» — не адрес сайта. Пишите так: https://example.ru" in content
    assert "нет такого варианта в поле «Статус»" in content
    assert "Адрес страницы должен начинаться с http:// или https://." in content
    form.refresh_from_db()
    assert form.name == "Заявка"
    assert [i.field.key for i in form.inputs.all()] == ["name"]


def test_managers_cannot_open_the_settings(client, manager_user, admin, table):
    client.force_login(manager_user)
    assert client.get("/integrations/forms/").status_code == 403
    assert client.post("/integrations/forms/", {"table": "counterparties"}).status_code == 403
    assert client.get("/integrations/webhooks/").status_code == 403
    assert WebForm.objects.count() == 0
