"""A user's name is written one way on every page: «Фамилия Имя Отчество» (the calendar's people,
the calendar feed's title, the reminder's recipients, a record's history)."""

from __future__ import annotations

from icalendar import Calendar

from kartoteka.accounts import services
from kartoteka.calendar.ics import build_feed
from kartoteka.notifications.forms import ReminderForm


def test_calendar_reminders_and_feed_write_the_surname_first(client, admin, table):
    # given: a manager with a patronymic
    user = services.create_user(
        admin,
        username="petrov",
        password="Xk2#pLq9!vR",
        group="Менеджеры",
        full_name="Петров Сергей Иванович",
    )
    client.force_login(admin.user)
    # then: the calendar's people, the reminder form and the feed say «Петров Сергей Иванович»
    page = client.get("/calendar/").content.decode()
    assert f'<option value="{user.pk}">Петров Сергей Иванович</option>' in page
    form = ReminderForm(table("tasks"))
    assert form.fields["users"].label_from_instance(user) == "Петров Сергей Иванович"
    feed = Calendar.from_ical(build_feed(user, "https://crm.example.ru"))
    assert str(feed["X-WR-CALNAME"]) == "Картотека — Петров Сергей Иванович"
