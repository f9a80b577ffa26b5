from django.urls import path

from kartoteka.mailings import views

app_name = "mailings"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/progress/", views.campaign_progress, name="progress"),
    path("<int:pk>/preview/", views.campaign_preview, name="preview"),
    path("<int:pk>/test/", views.campaign_test, name="test"),
    path("<int:pk>/failures.csv", views.campaign_failures, name="failures"),
    path("<int:pk>/<str:verb>/", views.campaign_act, name="act"),
    path("card/<str:key>/<int:record_id>/", views.record_block, name="card"),
]

#: The public unsubscribe page (no log-in: the signed token is the credential).
public_urlpatterns = [
    path("<str:token>/", views.unsubscribe_page, name="mailing_unsubscribe"),
]
