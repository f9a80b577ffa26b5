from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "kartoteka.imports"
    label = "imports"
    verbose_name = "Import"
