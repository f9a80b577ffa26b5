"""URL configuration: the web UI lives in ``kartoteka.web``, the REST API in ``kartoteka.api``."""

from django.urls import include, path

from kartoteka.mailings.urls import public_urlpatterns as public_mailings
from kartoteka.webforms.urls import public_urlpatterns as public_webforms

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("documents/", include("kartoteka.crm.urls")),
    path("reports/", include("kartoteka.reports.urls")),
    path("f/", include(public_webforms)),
    path("integrations/forms/", include("kartoteka.webforms.urls")),
    path("integrations/webhooks/", include("kartoteka.webhooks.urls")),
    path("api/v1/", include("kartoteka.api.urls")),
    path("profile/", include("kartoteka.api.page_urls")),
    path("profile/", include("kartoteka.profiles.urls")),
    path("notifications/", include("kartoteka.notifications.urls")),
    path("calendar/", include("kartoteka.calendar.urls")),
    path("", include("kartoteka.imports.urls")),
    path("settings/access/", include("kartoteka.access.urls")),
    path("settings/users/", include("kartoteka.accounts.urls")),
    path("", include("kartoteka.accounts.public_urls")),
    path("settings/sms/", include("kartoteka.sms.urls")),
    path("mailings/", include("kartoteka.mailings.urls")),
    path("m/u/", include(public_mailings)),
    path("", include("kartoteka.documents.urls")),
    path("", include("kartoteka.web.urls")),
]
