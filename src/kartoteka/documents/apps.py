from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "kartoteka.documents"
    label = "doctemplates"
    verbose_name = "Document templates"
