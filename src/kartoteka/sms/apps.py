from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "kartoteka.sms"
    label = "sms"
    verbose_name = "SMS"
