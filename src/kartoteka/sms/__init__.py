"""The SMS gateway: one call, :func:`send_sms`, used wherever an SMS is sent (reminders,
campaigns, a second log-in factor). See :mod:`kartoteka.sms.gateway`."""

from kartoteka.sms.gateway import SmsResult, send_sms

__all__ = ["SmsResult", "send_sms"]
