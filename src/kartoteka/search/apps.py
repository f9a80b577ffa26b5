from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "kartoteka.search"
    label = "search"
    verbose_name = "Search index"

    def ready(self) -> None:
        from kartoteka.search.services import register_schema_listener

        register_schema_listener()
