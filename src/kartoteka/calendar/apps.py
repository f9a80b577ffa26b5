from django.apps import AppConfig


class CalendarConfig(AppConfig):
    name = "kartoteka.calendar"
    label = "calendar"
    verbose_name = "Calendar"
