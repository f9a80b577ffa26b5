from django.contrib.auth import views as auth_views
from django.urls import include, path

from kartoteka.profiles.views import LoginView, login_code
from kartoteka.web import grid, search, views

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("login/code/", login_code, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("home/counts/", views.home_counts, name="home_counts"),
    path("search/", search.search, name="search"),
    path("t/<slug:key>/", grid.table_list, name="table"),
    path("t/<slug:key>/views/", grid.save_view, name="view_save"),
    path("t/<slug:key>/views/<int:pk>/delete/", grid.delete_view, name="view_delete"),
    path("t/<slug:key>/columns/", grid.columns, name="columns"),
    path("t/<slug:key>/bulk/", grid.bulk, name="bulk"),
    path("t/<slug:key>/export/", grid.export, name="export"),
    path("t/<slug:key>/action/<slug:action>/", grid.grid_action, name="grid_action"),
    path("lookup/<slug:key>/", grid.lookup, name="lookup"),
    path("t/<slug:key>/new/", views.record_add, name="record_add"),
    path("t/<slug:key>/<int:pk>/", views.record_detail, name="record"),
    path("t/<slug:key>/<int:pk>/edit/", views.record_edit, name="record_edit"),
    path("t/<slug:key>/<int:pk>/state/", views.record_state, name="record_state"),
    path("t/<slug:key>/<int:pk>/sub/<slug:sub>/", views.subtable_view, name="subtable"),
    path("t/<slug:key>/<int:pk>/sub/<slug:sub>/add/", views.subtable_add, name="subtable_add"),
    path(
        "t/<slug:key>/<int:pk>/sub/<slug:sub>/<int:row>/edit/",
        views.subtable_row_edit,
        name="subtable_row_edit",
    ),
    path(
        "t/<slug:key>/<int:pk>/sub/<slug:sub>/<int:row>/delete/",
        views.subtable_row_delete,
        name="subtable_row_delete",
    ),
    path("t/<slug:key>/<int:pk>/action/<slug:action>/", views.record_action, name="record_action"),
    path("t/<slug:key>/<int:pk>/files/<slug:field>/", views.record_file, name="record_file"),
    path("designer/", include("kartoteka.web.designer_urls")),
]
