from django.urls import path

from kartoteka.calendar import views

app_name = "calendar"

urlpatterns = [
    path("", views.calendar_page, name="page"),
    path("move/", views.move, name="move"),
    path("counts/", views.counts, name="counts"),
    path("feed/new/", views.feed_create, name="feed_create"),
    path("feed/revoke/", views.feed_revoke, name="feed_revoke"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
]
