from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "kartoteka.profiles"
    label = "profiles"
    verbose_name = "Profiles"

    def ready(self) -> None:
        from kartoteka.profiles import sessions

        sessions.connect_signals()
