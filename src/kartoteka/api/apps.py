from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kartoteka.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # Registers the schema extension of token authentication with drf-spectacular.
        from kartoteka.api import schema  # noqa: F401
