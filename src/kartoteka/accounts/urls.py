"""«Сотрудники» settings (log-ins), mounted at ``/settings/users/``."""

from django.urls import path

from kartoteka.accounts import views
from kartoteka.profiles.views import two_factor_reset

app_name = "accounts"

urlpatterns = [
    path("", views.users, name="users"),
    path("<int:pk>/", views.user_detail, name="user"),
    path("<int:pk>/password/", views.set_password, name="password"),
    path("<int:pk>/disable/", views.disable, name="disable"),
    path("<int:pk>/enable/", views.enable, name="enable"),
    path("<int:pk>/hand-over/", views.hand_over, name="hand_over"),
    path("employee/<int:pk>/", views.employee, name="employee"),
    path("invite/", views.invite_new, name="invite_new"),
    path("<int:pk>/invite/", views.invite, name="invite"),
    path("employee/<int:pk>/invite/", views.employee_invite, name="employee_invite"),
    path("<int:pk>/two-factor/reset/", two_factor_reset, name="two_factor_reset"),
]
