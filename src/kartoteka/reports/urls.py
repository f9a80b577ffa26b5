from django.urls import path

from kartoteka.reports import desktop_views, own_views, views

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
    path("r/<int:pk>/schedule/", own_views.schedule, name="schedule"),
    path("desktop/widget/", desktop_views.widget, name="widget"),
    path("desktop/add/", desktop_views.add, name="desktop_add"),
    path("desktop/<int:index>/remove/", desktop_views.remove, name="desktop_remove"),
    path("desktop/move/", desktop_views.move, name="desktop_move"),
    path("desktop/default/", desktop_views.set_default, name="desktop_default"),
    path("plans/", desktop_views.plans, name="plans"),
]
