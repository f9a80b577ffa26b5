from django.urls import path

from kartoteka.sms import views

app_name = "sms"

urlpatterns = [path("", views.sms_settings, name="settings")]
