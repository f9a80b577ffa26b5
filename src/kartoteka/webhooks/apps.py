from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "kartoteka.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from kartoteka.webhooks.services import register_webhooks

        register_webhooks()
