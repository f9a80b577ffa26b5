"""The import wizard and the import batches of a table, under the table's own address."""

from django.urls import path

from kartoteka.imports import views

app_name = "imports"

urlpatterns = [
    path("t/<slug:key>/import/", views.home, name="home"),
    path("t/<slug:key>/import/f/<slug:token>/", views.file_step, name="file"),
    path("t/<slug:key>/import/f/<slug:token>/preview/", views.preview, name="preview"),
    path("t/<slug:key>/import/f/<slug:token>/template/", views.apply_template, name="template"),
    path("t/<slug:key>/import/f/<slug:token>/mapping/", views.mapping_step, name="mapping"),
    path(
        "t/<slug:key>/import/f/<slug:token>/duplicates/",
        views.duplicates_step,
        name="duplicates",
    ),
    path("t/<slug:key>/import/f/<slug:token>/defaults/", views.defaults_step, name="defaults"),
    path("t/<slug:key>/import/f/<slug:token>/check/", views.check_step, name="check"),
    path("t/<slug:key>/import/<int:pk>/", views.batch_detail, name="batch"),
    path("t/<slug:key>/import/<int:pk>/errors/", views.batch_errors, name="batch_errors"),
    path("t/<slug:key>/import/<int:pk>/undo/", views.batch_undo, name="batch_undo"),
    path("t/<slug:key>/import/<int:pk>/resume/", views.batch_resume, name="batch_resume"),
    path(
        "t/<slug:key>/import/templates/<int:pk>/delete/",
        views.template_delete,
        name="template_delete",
    ),
]
