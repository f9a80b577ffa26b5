"""URL configuration: the web UI lives in ``kartoteka.web``."""

from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("documents/", include("kartoteka.crm.urls")),
    path("reports/", include("kartoteka.reports.urls")),
    path("settings/access/", include("kartoteka.access.urls")),
    path("", include("kartoteka.web.urls")),
]
