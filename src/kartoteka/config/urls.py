"""URL configuration: the web UI lives in ``kartoteka.web``."""

from django.urls import include, path

urlpatterns = [
    path("", include("kartoteka.web.urls")),
]
