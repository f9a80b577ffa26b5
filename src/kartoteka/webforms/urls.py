"""Web form URLs: the public form under ``f/`` and the settings under ``integrations/forms/``."""

from django.urls import path

from kartoteka.webforms import views

public_urlpatterns = [
    path("<str:key>/", views.public, name="webform_public"),
    path("<str:key>/token/", views.token, name="webform_token"),
]

urlpatterns = [
    path("", views.form_list, name="webform_list"),
    path("<int:pk>/", views.form_edit, name="webform_edit"),
    path("<int:pk>/delete/", views.form_delete, name="webform_delete"),
]
