from django.urls import path

from kartoteka.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("read/", views.mark_read, name="read"),
    path("email/", views.email_setting, name="email"),
    path("<int:pk>/", views.open_notification, name="open"),
    path("reminders/", views.reminder_list, name="reminders"),
    path("reminders/new/", views.reminder_edit, name="reminder_add"),
    path("reminders/<int:pk>/", views.reminder_edit, name="reminder_edit"),
    path("reminders/<int:pk>/delete/", views.reminder_delete, name="reminder_delete"),
]
