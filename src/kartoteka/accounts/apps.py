from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kartoteka.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from kartoteka.accounts import actions

        actions.register()
