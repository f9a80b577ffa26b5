"""The real SMTP server on loopback (aiosmtpd) that the invoice e-mail tests use."""

from tests.crm.test_invoice_email import smtp  # noqa: F401
