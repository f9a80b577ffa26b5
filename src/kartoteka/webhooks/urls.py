"""Webhook settings, under ``integrations/webhooks/``."""

from django.urls import path

from kartoteka.webhooks import views

urlpatterns = [
    path("", views.webhook_list, name="webhook_list"),
    path("<int:pk>/", views.webhook_edit, name="webhook_edit"),
    path("<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
]
