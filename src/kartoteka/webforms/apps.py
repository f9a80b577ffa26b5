from django.apps import AppConfig


class WebformsConfig(AppConfig):
    name = "kartoteka.webforms"
    label = "webforms"
    verbose_name = "Web forms"
