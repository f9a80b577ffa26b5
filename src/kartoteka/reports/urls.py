from django.urls import path

from kartoteka.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("funnel/", views.funnel, name="funnel"),
    path("funnel/list/", views.funnel_list, name="funnel_list"),
    path("performance/", views.performance, name="performance"),
    path("sales/", views.sales, name="sales"),
]
