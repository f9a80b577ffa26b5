"""Pages without a log-in: the invitation link and «Забыли пароль?»."""

from django.urls import path

from kartoteka.accounts import password_views as views

urlpatterns = [
    path("invite/<str:token>/", views.invite_accept, name="invite_accept"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_sent, name="password_reset_sent"),
    path("password/reset/done/", views.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
]
