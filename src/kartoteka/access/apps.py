from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "kartoteka.access"
    label = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from kartoteka.access import login

        login.connect_signals()
