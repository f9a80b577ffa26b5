from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "kartoteka.crm"
    label = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from kartoteka.crm.invoices import register_invoice_rules
        from kartoteka.crm.rules import register_rules
        from kartoteka.crm.tasks import register_task_rules
        from kartoteka.crm.webform_notes import register_webform_notes

        register_rules()
        register_invoice_rules()
        register_task_rules()
        register_webform_notes()

        from kartoteka.grids.selectors import key_columns

        key_columns.register(
            "counterparties", ("name", "status", "type", "phone", "manager", "city")
        )
