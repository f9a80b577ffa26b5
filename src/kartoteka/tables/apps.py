from django.apps import AppConfig


class TablesConfig(AppConfig):
    name = "kartoteka.tables"
    label = "tables"
    verbose_name = "Tables"

    def ready(self) -> None:
        from kartoteka.tables.converters import register_converters
        from kartoteka.tables.fieldtypes import register_field_types

        register_field_types()
        register_converters()
