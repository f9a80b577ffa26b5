from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "kartoteka.records"
    label = "records"
    verbose_name = "Records"
