from django.urls import path

from kartoteka.reports import own_views, views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("funnel/", views.funnel, name="funnel"),
    path("funnel/list/", views.funnel_list, name="funnel_list"),
    path("performance/", views.performance, name="performance"),
    path("sales/", views.sales, name="sales"),
    path("new/", own_views.new_report, name="new"),
    path("save/", own_views.save_report, name="save"),
    path("r/<int:pk>/", own_views.saved_report, name="saved"),
    path("r/<int:pk>/delete/", own_views.delete_report, name="delete"),
]
