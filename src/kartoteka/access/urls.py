"""The access settings of administrators, mounted at ``/settings/access/``."""

from django.urls import path

from kartoteka.access import views

app_name = "access"

urlpatterns = [
    path("", views.groups, name="groups"),
    path("audit/", views.audit_log, name="audit"),
    path("users/<int:pk>/group/", views.user_group, name="user_group"),
    path("g/<int:pk>/", views.group_detail, name="group"),
    path("g/<int:pk>/delete/", views.group_delete, name="group_delete"),
    path("g/<int:pk>/t/<slug:key>/", views.table_rights, name="table_rights"),
    path("g/<int:pk>/t/<slug:key>/preview/", views.preview, name="preview"),
]
