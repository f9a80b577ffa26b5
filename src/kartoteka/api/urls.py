"""``/api/v1/…``: the REST API, its OpenAPI schema and its documentation page."""

from django.urls import path

from kartoteka.accounts import api as accounts_api
from kartoteka.api import docs_views, views
from kartoteka.documents.api import RecordDocumentView
from kartoteka.mailings import api as mailings_api
from kartoteka.reports import api as reports_api

app_name = "api"

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("tables/", views.TablesView.as_view(), name="tables"),
    path("tables/<slug:table>/", views.TableView.as_view(), name="table"),
    path("tables/<slug:table>/records/", views.RecordsView.as_view(), name="records"),
    path("tables/<slug:table>/records/upsert/", views.UpsertView.as_view(), name="records_upsert"),
    path("tables/<slug:table>/records/<int:pk>/", views.RecordView.as_view(), name="record"),
    path("tables/<slug:table>/actions/<slug:action>/", views.ActionView.as_view(), name="action"),
    path(
        "tables/<slug:table>/records/<int:pk>/documents/",
        RecordDocumentView.as_view(),
        name="record_document",
    ),
    path("reports/funnel/", views.FunnelView.as_view(), name="funnel"),
    path("reports/<int:pk>/data/", reports_api.ReportDataView.as_view(), name="report_data"),
    path("reports/query/", reports_api.ReportQueryView.as_view(), name="report_query"),
    path("users/", accounts_api.UsersView.as_view(), name="users"),
    path("users/<int:pk>/disable/", accounts_api.UserDisableView.as_view(), name="user_disable"),
    path("mailings/", mailings_api.CampaignsView.as_view(), name="mailings"),
    path("mailings/<int:pk>/", mailings_api.CampaignView.as_view(), name="mailing"),
    path("mailings/<int:pk>/start/", mailings_api.verb_view("start"), name="mailing_start"),
    path("mailings/<int:pk>/pause/", mailings_api.verb_view("pause"), name="mailing_pause"),
    path("mailings/<int:pk>/resume/", mailings_api.verb_view("resume"), name="mailing_resume"),
    path("mailings/<int:pk>/cancel/", mailings_api.verb_view("cancel"), name="mailing_cancel"),
    path("schema/", docs_views.SchemaView.as_view(), name="schema"),
    path("docs/", docs_views.docs, name="docs"),
]
