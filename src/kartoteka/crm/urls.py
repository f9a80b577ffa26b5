"""Documents of the CRM tables, mounted at ``/documents/``."""

from django.urls import path

from kartoteka.crm import views

app_name = "documents"

urlpatterns = [
    path("invoices/<int:pk>/print/", views.invoice_print, name="invoice_print"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
]
