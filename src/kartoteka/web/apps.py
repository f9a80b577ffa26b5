from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kartoteka.web"
    label = "web"
    verbose_name = "Web UI"
