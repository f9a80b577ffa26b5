"""Log-in protection: failed log-ins are limited per account and per address with a lock that
expires; every log-in and failed log-in goes to the audit log.

A lock is "too many failures in the last ``LOCK_SECONDS``": it lifts by itself once the failures
age out, and a successful log-in clears the account's failures. The account name is counted
whether or not such a user exists, and the form says the same thing for an unknown user as for a
wrong password, so the log-in page never tells which accounts exist.

Settings (``config/settings.py``): ``KARTOTEKA_LOGIN_FAILURES_PER_ACCOUNT`` (5),
``KARTOTEKA_LOGIN_FAILURES_PER_IP`` (20), ``KARTOTEKA_LOGIN_LOCK_SECONDS`` (900).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.core import net


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def per_account() -> int:
    return _setting("KARTOTEKA_LOGIN_FAILURES_PER_ACCOUNT", 5)


def per_ip() -> int:
    return _setting("KARTOTEKA_LOGIN_FAILURES_PER_IP", 20)


def lock_seconds() -> int:
    return _setting("KARTOTEKA_LOGIN_LOCK_SECONDS", 900)


def client_ip(request: Any) -> str:
    """The address failures are counted by: the visitor's, behind a proxy too (one address per
    visitor, not the proxy's for everybody)."""
    return net.client_ip(request)


def _norm(username: str) -> str:
    return (username or "").strip().lower()[:150]


def lock_until(
    username: str,
    ip: str,
    *,
    now: dt.datetime | None = None,
    model: Any = None,
    limits: tuple[int, int] | None = None,
) -> dt.datetime | None:
    """When the lock on this account or address lifts, or ``None`` when not locked.

    ``model`` and ``limits`` (per name, per address) count other attempts the same way: the
    password-reset requests (:class:`kartoteka.accounts.models.ResetRequest`)."""
    from kartoteka.access.models import LoginFailure

    now = now or timezone.now()
    since = now - dt.timedelta(seconds=lock_seconds())
    model = model or LoginFailure
    recent = model.objects.filter(created_at__gt=since, created_at__lte=now)
    per_name, per_address = limits or (per_account(), per_ip())
    until = None
    for qs, limit in (
        (recent.filter(username=_norm(username)), per_name),
        (recent.filter(ip=ip) if ip else recent.none(), per_address),
    ):
        times = list(qs.order_by("-created_at").values_list("created_at", flat=True)[:limit])
        if len(times) >= limit:
            # Locked until the oldest of the last ``limit`` failures ages out.
            lifted = times[-1] + dt.timedelta(seconds=lock_seconds())
            until = lifted if until is None else max(until, lifted)
    return until


def is_locked(username: str, ip: str, *, now: dt.datetime | None = None) -> bool:
    return lock_until(username, ip, now=now) is not None


def record_failure(
    username: str, ip: str, *, now: dt.datetime | None = None, message: str = ""
) -> None:
    from kartoteka.access.models import AuditEvent, LoginFailure
    from kartoteka.access.services import audit

    LoginFailure.objects.create(created_at=now or timezone.now(), username=_norm(username), ip=ip)
    audit(
        AuditEvent.LOGIN_FAILED,
        username=_norm(username),
        ip=ip,
        message=message or _("Неудачная попытка входа"),
    )


def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from kartoteka.access.models import AuditEvent, LoginFailure
    from kartoteka.access.services import audit

    LoginFailure.objects.filter(username=_norm(user.get_username())).delete()
    audit(AuditEvent.LOGIN, user=user, ip=client_ip(request), message=_("Вход"))


def _on_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    record_failure(str(credentials.get("username") or ""), client_ip(request))


def connect_signals() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="kartoteka_access_login")
    user_login_failed.connect(_on_failure, dispatch_uid="kartoteka_access_login_failed")


class LimitedAuthenticationForm(AuthenticationForm):
    """Django's log-in form with the lock checked first: while locked even the right password is
    refused, with the same message for every account name."""

    #: The lock's message when the log-in was refused because of it (the page shows it instead
    #: of «wrong name or password»).
    locked_message = ""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request)
        until = lock_until(username, ip) if username else None
        if until is not None:
            from kartoteka.access.models import AuditEvent
            from kartoteka.access.services import audit

            audit(
                AuditEvent.LOCKED,
                username=_norm(username),
                ip=ip,
                message=_("Вход отклонён: слишком много неудачных попыток"),
            )
            self.locked_message = locked_message(until)
            raise forms.ValidationError(self.locked_message, code="locked")
        return super().clean()


def locked_message(until: dt.datetime) -> str:
    """What a locked visitor is told: until when, in the installation's time zone (the lock is
    counted for unknown account names too, so this tells nothing about which accounts exist)."""
    return _("Слишком много неудачных попыток входа. Вход заблокирован до %(until)s.") % {
        "until": until_text(until)
    }


def until_text(until: dt.datetime) -> str:
    """When a lock lifts, «07.12.2026 14:05», in the installation's time zone."""
    local = until.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    # Rounded up to the minute: «until 14:05» must not open the door at 14:04:30 and refuse it.
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return local.strftime("%d.%m.%Y %H:%M")
