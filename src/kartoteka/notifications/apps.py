from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kartoteka.notifications"
    label = "notifications"
    verbose_name = "Notifications"
