"""The user's own pages, mounted at ``/profile/`` (next to the API tokens of ``api.page_urls``)."""

from django.urls import path

from kartoteka.profiles import views

app_name = "profiles"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("password/", views.password, name="password"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("two-factor/sms/", views.two_factor_sms, name="two_factor_sms"),
    path("two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("sessions/end-others/", views.sessions_end_others, name="sessions_end_others"),
    path("sessions/<slug:session_id>/end/", views.session_end, name="session_end"),
]
