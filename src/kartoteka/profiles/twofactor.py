"""Two-factor log-in: a code from an authenticator app (TOTP) or a one-time recovery code.

The app's secret is django-otp's ``TOTPDevice``: it computes and checks the codes (RFC 6238, 30 s
steps, one step of clock drift tolerated) and remembers the last step used, so a code replayed
within its window is refused. Recovery codes are ours (:class:`~kartoteka.profiles.models.
RecoveryCode`): ten random codes shown once, kept hashed, each works once.

Log-in becomes two steps for a user with a confirmed device (``profiles.views.LoginView``): the
password, then a code. A wrong code counts as a failed log-in of the account and the address, so
the log-in lock (:mod:`kartoteka.access.login`) covers guessing codes too; django-otp's own
throttle is turned off (``OTP_TOTP_THROTTLE_FACTOR = 0``) so there is one lock with one message.

A group may require two-factor log-in (the group-wide right «Вход только с кодом из приложения»,
:data:`~kartoteka.access.models.REQUIRE_TWO_FACTOR`): its members without a device are sent to
enrol right after the password and can open nothing else until they have.

Other second factors join :data:`METHODS`. An SMS code (:class:`~kartoteka.profiles.models.
SmsDevice`, offered when the SMS gateway is configured, ``kartoteka.sms``, and the user's
«Сотрудники» record has a phone): the user confirms his phone once with a code sent to it, alone
or beside the app; the code step then offers «Получить код по SMS». A code has six digits, is kept
only as an HMAC, works once and for :data:`SMS_CODE_SECONDS`; at most :data:`SMS_SENDS` codes go
to a user per :data:`SMS_SENDS_WINDOW` seconds. A wrong SMS code is a failed log-in like a wrong
app code.

Every change goes to the audit log (kind ``account``); a wrong code is a failed log-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from kartoteka.access.models import REQUIRE_TWO_FACTOR, AuditEvent
from kartoteka.access.services import audit
from kartoteka.accounts.services import _account_event
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError
from kartoteka.profiles.models import RecoveryCode, SmsCodeSend, SmsDevice
from kartoteka.profiles.services import own_user

#: How many recovery codes a user gets at once.
RECOVERY_CODES = 10
#: Letters of recovery codes: no 0/O, 1/I/L to misread.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: How long an SMS code works, how many may be sent to a user and in what window.
SMS_CODE_SECONDS = 300
SMS_SENDS = 3
SMS_SENDS_WINDOW = 600


class TwoFactorError(KartotekaError):
    code = "two_factor"


# -- reads ---------------------------------------------------------------------------------------


def device_of(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    """The user's authenticator app (a confirmed one unless asked otherwise)."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-id").first()


def has_app(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def has_sms(user: Any) -> bool:
    return SmsDevice.objects.filter(user=user, confirmed=True).exists()


def has_two_factor(user: Any) -> bool:
    """Whether the user logs in with a second factor (the app, SMS codes or both)."""
    return has_app(user) or has_sms(user)


def users_with_two_factor() -> set[int]:
    """Ids of users with a confirmed second factor (for the users list, in two queries)."""
    return set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True)) | set(
        SmsDevice.objects.filter(confirmed=True).values_list("user_id", flat=True)
    )


def sms_phone(user: Any) -> str:
    """The user's phone in E.164 when SMS codes can reach it (the gateway is configured and his
    «Сотрудники» record has a valid number), else ``""``."""
    from kartoteka.profiles.services import employee_values
    from kartoteka.sms.gateway import configured
    from kartoteka.sms.text import InvalidPhone, normalize_phone

    phone = employee_values(user)["phone"]
    if not phone or not configured():
        return ""
    try:
        return normalize_phone(phone)
    except InvalidPhone:
        return ""


def masked(phone: str) -> str:
    """``+7••••••4567``: enough to recognise one's own number on a page, not to learn it."""
    return phone[:2] + "•" * max(len(phone) - 6, 0) + phone[-4:] if phone else ""


def sms_login_phone(user: Any) -> str:
    """The masked number the code step may send a log-in code to, ``""`` when it may not."""
    return masked(sms_phone(user)) if has_sms(user) else ""


def is_required(user: Any) -> bool:
    """Whether one of the user's groups requires two-factor log-in."""
    return Group.objects.filter(
        user=user,
        permissions__codename=REQUIRE_TWO_FACTOR,
        permissions__content_type__app_label="access",
    ).exists()


def recovery_codes_left(user: Any) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def config_url(device: TOTPDevice) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return str(device.config_url)


def secret_base32(device: TOTPDevice) -> str:
    """The secret as typed into an app by hand (base32, in groups of four)."""
    import base64

    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The QR code of :func:`config_url` as a ``data:`` URI of an SVG image (the page's
    Content-Security-Policy allows ``data:`` images)."""
    import segno

    return str(segno.make(config_url(device), error="m").svg_data_uri(scale=5, border=2))


# -- writes --------------------------------------------------------------------------------------


def start_enrolment(actor: Actor) -> TOTPDevice:
    """A new, unconfirmed authenticator app for the acting user (an earlier unconfirmed one is
    replaced); it counts only once :func:`confirm_enrolment` sees a code from it."""
    user = own_user(actor)
    if has_app(user):
        raise TwoFactorError(_("Двухфакторный вход уже включён."), code="enrolled")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(
            user=user, name=_("Приложение-аутентификатор"), confirmed=False
        )


def pending_device(actor: Actor) -> TOTPDevice | None:
    return device_of(own_user(actor), confirmed=False)


def confirm_enrolment(actor: Actor, code: str) -> list[str]:
    """Confirm the app with a code it shows; the ten recovery codes (shown once)."""
    user = own_user(actor)
    device = device_of(user, confirmed=False)
    if device is None:
        raise TwoFactorError(_("Сначала отсканируйте QR-код."), code="no_device")
    if not device.verify_token(_digits(code)):
        raise TwoFactorError(
            _("Код не подошёл. Проверьте время на телефоне и введите новый код."), code="bad_code"
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        _account_event(
            actor, user, _("Включён двухфакторный вход (%(user)s)") % {"user": user.username}
        )
    return codes


def regenerate_recovery_codes(actor: Actor) -> list[str]:
    """New recovery codes for the acting user; the old ones stop working."""
    user = own_user(actor)
    if not has_two_factor(user):
        raise TwoFactorError(_("Двухфакторный вход не включён."), code="not_enrolled")
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        _account_event(
            actor, user, _("Созданы новые коды восстановления (%(user)s)") % {"user": user.username}
        )
    return codes


def disable(actor: Actor, *, password: str = "", code: str = "") -> None:
    """Turn two-factor log-in off for the acting user, confirmed by his password or a code."""
    user = own_user(actor)
    if not has_two_factor(user):
        raise TwoFactorError(_("Двухфакторный вход не включён."), code="not_enrolled")
    confirmed = bool(password) and user.check_password(password)
    if not confirmed and code:
        confirmed = _check_code(user, code) is not None
    if not confirmed:
        raise TwoFactorError(
            _("Введите текущий пароль или код из приложения."), code="not_confirmed"
        )
    with transaction.atomic():
        _remove(user)
        _account_event(
            actor, user, _("Выключен двухфакторный вход (%(user)s)") % {"user": user.username}
        )


def reset(actor: Actor, user: Any) -> bool:
    """An administrator turns a user's two-factor log-in off (lost phone); ``False`` when the
    user had none (nothing changes)."""
    from kartoteka.accounts.services import _require_admin_for, require_manager

    require_manager(actor)
    _require_admin_for(actor, user)
    if not (
        TOTPDevice.objects.filter(user=user).exists()
        or SmsDevice.objects.filter(user=user).exists()
    ):
        return False
    with transaction.atomic():
        _remove(user)
        _account_event(
            actor,
            user,
            _("Двухфакторный вход пользователя %(user)s сброшен администратором")
            % {"user": user.username},
        )
    return True


def _remove(user: Any) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    SmsDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()


# -- codes by SMS --------------------------------------------------------------------------------


def start_sms_enrolment(actor: Actor) -> str:
    """Send a code to the acting user's phone to turn SMS codes on; the masked number."""
    user = own_user(actor)
    if has_sms(user):
        raise TwoFactorError(_("Вход по коду из SMS уже включён."), code="enrolled")
    phone = sms_phone(user)
    if not phone:
        raise TwoFactorError(
            _("SMS недоступны: не настроена отправка SMS или в профиле нет телефона."),
            code="no_sms",
        )
    device = SmsDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = SmsDevice.objects.create(user=user, name=_("Код по SMS"), confirmed=False)
    _send_sms_code(user, device, phone)
    return masked(phone)


def pending_sms(actor: Actor) -> bool:
    """Whether a confirmation code was sent to the acting user and still works."""
    return SmsDevice.objects.filter(
        user=own_user(actor), confirmed=False, valid_until__gte=timezone.now()
    ).exists()


def confirm_sms(actor: Actor, code: str) -> None:
    """Turn SMS codes on with the code sent by :func:`start_sms_enrolment`."""
    user = own_user(actor)
    device = SmsDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise TwoFactorError(_("Сначала получите код по SMS."), code="no_device")
    if not _use_sms_code(device, _digits(code)):
        raise TwoFactorError(
            _("Код не подошёл или истёк. Проверьте его или получите новый."), code="bad_code"
        )
    with transaction.atomic():
        SmsDevice.objects.filter(pk=device.pk).update(confirmed=True)
        _account_event(
            actor, user, _("Включён вход по коду из SMS (%(user)s)") % {"user": user.username}
        )


def send_login_sms(user: Any, *, ip: str = "") -> str:
    """At the code step: send a log-in code to the user's confirmed phone; the masked number."""
    device = SmsDevice.objects.filter(user=user, confirmed=True).first()
    phone = sms_phone(user) if device else ""
    if not phone or device is None:
        raise TwoFactorError(_("Код по SMS для этой учётной записи недоступен."), code="no_sms")
    _send_sms_code(user, device, phone)
    audit(
        AuditEvent.ACCOUNT,
        user=user,
        ip=ip,
        message=_("Код входа отправлен по SMS на %(phone)s") % {"phone": masked(phone)},
        data={"user": user.get_username(), "phone": masked(phone)},
    )
    return masked(phone)


def _send_sms_code(user: Any, device: SmsDevice, phone: str) -> None:
    """A new code to ``phone`` (the device's earlier code stops working), within the limit."""
    from kartoteka.sms import send_sms

    now = timezone.now()
    window = now - dt.timedelta(seconds=SMS_SENDS_WINDOW)
    with transaction.atomic():
        # Locked so two simultaneous requests cannot both pass the count.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        sent = SmsCodeSend.objects.filter(user=user, sent_at__gte=window)
        if sent.count() >= SMS_SENDS:
            first = sent.order_by("sent_at").values_list("sent_at", flat=True).first()
            assert first is not None
            wait = first + dt.timedelta(seconds=SMS_SENDS_WINDOW) - now
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            raise TwoFactorError(
                _(
                    "Слишком много SMS с кодом: не больше %(n)s за %(window)s минут. "
                    "Новый код можно получить через %(minutes)s мин."
                )
                % {"n": SMS_SENDS, "window": SMS_SENDS_WINDOW // 60, "minutes": minutes},
                code="sms_flood",
            )
        SmsCodeSend.objects.create(user=user, sent_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        device.phone = phone
        device.code_hash = _sms_hash(user, code)
        device.valid_until = now + dt.timedelta(seconds=SMS_CODE_SECONDS)
        device.save(update_fields=["phone", "code_hash", "valid_until"])
    text = _("Картотека: код входа %(code)s. Никому его не сообщайте.") % {"code": code}
    result = send_sms(phone, text)
    if not result.ok:
        SmsDevice.objects.filter(pk=device.pk).update(code_hash="", valid_until=None)
        raise TwoFactorError(
            _("SMS не отправлено: %(reason)s. Попробуйте позже.") % {"reason": result.reason},
            code="sms_failed",
        )


def _sms_hash(user: Any, code: str) -> str:
    # Keyed with SECRET_KEY: six digits are too few for a plain hash to hide them.
    return salted_hmac("kartoteka-sms-code", f"{user.pk}:{code}", algorithm="sha256").hexdigest()


def _use_sms_code(device: SmsDevice, digits: str) -> bool:
    if len(digits) != 6 or not digits.isdigit():
        return False
    # The update is the check: the code works once, and only until it expires.
    return bool(
        SmsDevice.objects.filter(
            pk=device.pk,
            code_hash=_sms_hash(device.user, digits),
            valid_until__gte=timezone.now(),
        ).update(code_hash="", valid_until=None)
    )


# -- the code step of the log-in -----------------------------------------------------------------


def verify_login_code(user: Any, code: str, *, ip: str = "") -> str:
    """Check a code at log-in: the method that accepted it (``totp``/``recovery``), or
    ``TwoFactorError``. A wrong code is a failed log-in (counted by the lock); while the account or
    the address is locked even a right code is refused."""
    from kartoteka.access import login

    until = login.lock_until(user.get_username(), ip)
    if until is not None:
        raise TwoFactorError(login.locked_message(until), code="locked")
    method = _check_code(user, code)
    if method is None:
        login.record_failure(
            user.get_username(), ip, message=_("Неверный код двухфакторного входа")
        )
        raise TwoFactorError(_("Неверный код."), code="bad_code")
    if method == "recovery":
        audit(
            AuditEvent.ACCOUNT,
            user=user,
            ip=ip,
            message=_("Вход по коду восстановления (осталось %(n)s)")
            % {"n": recovery_codes_left(user)},
            data={"user": user.get_username(), "recovery_codes_left": recovery_codes_left(user)},
        )
    return method


def _check_totp(user: Any, code: str) -> bool:
    device = device_of(user)
    digits = _digits(code)
    return bool(device and len(digits) == device.digits and device.verify_token(digits))


def _check_recovery(user: Any, code: str) -> bool:
    text = _normalize(code)
    if len(text) != 10:
        return False
    # The update is the check: of two simultaneous uses of one code only one changes the row.
    return bool(
        RecoveryCode.objects.filter(
            user=user, code_hash=_hash(user, text), used_at__isnull=True
        ).update(used_at=timezone.now())
    )


def _check_sms(user: Any, code: str) -> bool:
    device = SmsDevice.objects.filter(user=user, confirmed=True).first()
    return bool(device and _use_sms_code(device, _digits(code)))


#: The second factors tried in turn at log-in: name → check(user, code).
METHODS: dict[str, Callable[[Any, str], bool]] = {
    "totp": _check_totp,
    "sms": _check_sms,
    "recovery": _check_recovery,
}


def _check_code(user: Any, code: str) -> str | None:
    for name, check in METHODS.items():
        if check(user, code):
            return name
    return None


# -- recovery codes ------------------------------------------------------------------------------


def _digits(code: str) -> str:
    return "".join(ch for ch in str(code or "") if not ch.isspace() and ch != "-")


def _normalize(code: str) -> str:
    return _digits(code).upper()


def _hash(user: Any, code: str) -> str:
    # Salted with the user: equal codes of two users hash differently.
    return hashlib.sha256(f"kartoteka-recovery:{user.pk}:{code}".encode()).hexdigest()


def _new_recovery_codes(user: Any) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_hash(user, code)) for code in codes
    )
    return [f"{c[:5]}-{c[5:]}" for c in codes]
