from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "kartoteka.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from kartoteka.reports.registry import register_reports

        register_reports()
