"""Document templates (``settings/documents/``) and documents of records (``records/…``)."""

from django.urls import path

from kartoteka.documents import views

app_name = "doctemplates"

urlpatterns = [
    path("settings/documents/", views.template_list, name="list"),
    path("settings/documents/reference/", views.reference, name="reference"),
    path("settings/documents/<int:pk>/", views.template_edit, name="edit"),
    path("settings/documents/<int:pk>/preview/", views.template_preview, name="preview"),
    path("settings/documents/<int:pk>/delete/", views.template_delete, name="delete"),
    path("records/<slug:key>/<int:pk>/documents/", views.generate, name="generate"),
    path("records/documents/<int:pk>/", views.download, name="download"),
]
