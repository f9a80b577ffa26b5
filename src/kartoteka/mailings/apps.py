from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "kartoteka.mailings"
    label = "mailings"
    verbose_name = "Mailings"
