from django.contrib.auth import views as auth_views
from django.urls import path

from kartoteka.web import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("t/<slug:key>/", views.table_list, name="table"),
    path("t/<slug:key>/new/", views.record_add, name="record_add"),
    path("t/<slug:key>/<int:pk>/", views.record_detail, name="record"),
    path("t/<slug:key>/<int:pk>/edit/", views.record_edit, name="record_edit"),
    path("t/<slug:key>/<int:pk>/state/", views.record_state, name="record_state"),
    path("t/<slug:key>/<int:pk>/sub/<slug:sub>/add/", views.subtable_add, name="subtable_add"),
    path("media/<path:path>", views.media, name="media"),
]
