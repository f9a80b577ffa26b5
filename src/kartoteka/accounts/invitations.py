"""Invitations and «Забыли пароль?»: one-time links e-mailed to set a password.

An invitation link carries a random token; only its SHA-256 is stored (:class:`Invitation`), it
is valid for :data:`INVITATION_HOURS`, works once, and sending a new invitation to the same user
revokes the older ones. Sending and accepting go to the audit log (kind ``account``).

A reset link is Django's (:class:`~django.contrib.auth.tokens.PasswordResetTokenGenerator`): it
hashes the password and the last log-in, so it stops working once used. The answer to a reset
request is the same whether or not the address is known; the log-in limiter counts the requests
per address and per visitor's address and refuses a flood (:class:`ResetRefused`, no letter).
Disabled users get no letter. Letters leave after the transaction commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from kartoteka.access import login as limiter
from kartoteka.accounts import services
from kartoteka.accounts.models import Invitation, ResetRequest
from kartoteka.accounts.services import AccountError
from kartoteka.core.actor import Actor

logger = logging.getLogger(__name__)

#: How long an invitation link works.
INVITATION_HOURS = 72
#: «Забыли пароль?» requests allowed per address and per visitor's address within the log-in
#: lock period (``KARTOTEKA_LOGIN_LOCK_SECONDS``).
RESET_PER_ADDRESS_DEFAULT = 3
RESET_PER_IP_DEFAULT = 10


class ResetRefused(AccountError):
    code = "reset_flood"


@dataclass
class Letter:
    """An invitation as the caller sees it: where it went and whether it left. ``link`` is for
    the shell only (``kartoteka user invite`` without mail); pages never show it."""

    user: Any
    email: str
    link: str
    sent: bool | None = None
    error: str = ""


# -- helpers -------------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def absolute_url(path: str, request: Any = None) -> str:
    """``KARTOTEKA_BASE_URL`` + ``path`` (not the request's Host, which a visitor chooses); the
    request's own address only when no base address is set."""
    base = getattr(settings, "KARTOTEKA_BASE_URL", "")
    if base:
        return base.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


def mail_configured() -> bool:
    """Whether outgoing mail was set up (``EMAIL_HOST`` given, or a non-SMTP backend)."""
    if settings.EMAIL_BACKEND != "django.core.mail.backends.smtp.EmailBackend":
        return True
    return bool(os.environ.get("EMAIL_HOST")) or settings.EMAIL_HOST not in ("", "localhost")


def _send(letter: Letter, template: str, context: dict[str, Any], subject: str) -> None:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"accounts/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[letter.email],
    )
    html = render_to_string(f"accounts/email/{template}.html", context)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception as exc:  # any SMTP or network failure: tell the caller, keep the link
        logger.exception("Account e-mail to %s failed", letter.email)
        letter.sent = False
        letter.error = str(exc) or type(exc).__name__
    else:
        letter.sent = True


# -- invitations ---------------------------------------------------------------------------------


def invite_new_user(
    actor: Actor,
    *,
    username: str,
    email: str,
    group: str,
    full_name: str = "",
    position: str = "",
    phone: str = "",
    request: Any = None,
    send: bool = True,
) -> Letter:
    """A new employee with «Доступ в систему» and no password yet: the invitation sets it."""
    email = _checked_email(email)
    with transaction.atomic():
        user = services.create_user(
            actor,
            username=username,
            password=None,
            group=group,
            full_name=full_name,
            email=email,
            position=position,
            phone=phone,
        )
        return invite(actor, user, request=request, send=send)


def invite_employee(
    actor: Actor, employee_id: int, *, username: str, email: str, group: str, request: Any = None
) -> Letter:
    """«Пригласить» on the access page of a «Сотрудники» record without a log-in."""
    email = _checked_email(email)
    with transaction.atomic():
        user = services.grant_access(
            actor, employee_id, username=username, password=None, group=group, email=email
        )
        return invite(actor, user, request=request)


def invite_by_login(
    actor: Actor,
    username: str,
    *,
    email: str,
    group: str,
    full_name: str = "",
    send: bool = True,
) -> Letter:
    """``kartoteka user invite``: a new user like the page makes, or a new link for an existing
    one (his e-mail must be ``email``; a user without one gets it)."""
    user = get_user_model().objects.filter(username__iexact=username.strip()).first()
    if user is None:
        return invite_new_user(
            actor,
            username=username,
            email=email,
            group=group,
            full_name=full_name or username,
            send=send,
        )
    email = _checked_email(email)
    with transaction.atomic():
        if not user.email:
            services.require_manager(actor)
            services._require_admin_for(actor, user)
            if get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise AccountError(
                    _("E-mail «%(email)s» уже указан у другого пользователя.") % {"email": email},
                    code="duplicate_email",
                )
            user.email = email
            user.save(update_fields=["email"])
        elif user.email.lower() != email.lower():
            raise AccountError(
                _("У пользователя %(user)s указан другой e-mail: %(email)s.")
                % {"user": user.username, "email": user.email},
                code="email_mismatch",
            )
        return invite(actor, user, send=send)


def _checked_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        raise AccountError(_("Укажите e-mail: на него придёт приглашение."), code="no_email")
    try:
        validate_email(email)
    except ValidationError:
        raise AccountError(
            _("«%(email)s» — неверный адрес e-mail.") % {"email": email}, code="invalid_email"
        ) from None
    return email


def invite(actor: Actor, user: Any, *, request: Any = None, send: bool = True) -> Letter:
    """E-mail ``user`` a new link to set his password; his older links stop working."""
    services.require_manager(actor)
    services._require_admin_for(actor, user)
    if not user.is_active:
        raise AccountError(
            _("Доступ пользователя %(user)s отключён: сначала включите его.")
            % {"user": user.username},
            code="disabled",
        )
    if not user.email:
        raise AccountError(
            _("У пользователя %(user)s не указан e-mail.") % {"user": user.username},
            code="no_email",
        )
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    letter = Letter(
        user=user,
        email=user.email,
        link=absolute_url(reverse("invite_accept", args=[token]), request),
    )
    with transaction.atomic():
        revoked = services.revoke_invitations(user)
        Invitation.objects.create(
            user=user,
            token_hash=_hash(token),
            email=user.email,
            created_at=now,
            expires_at=now + dt.timedelta(hours=INVITATION_HOURS),
            created_by=actor.user,
        )
        services._account_event(
            actor,
            user,
            _("Пользователю %(user)s отправлено приглашение на %(email)s")
            % {"user": user.username, "email": user.email},
            email=user.email,
            revoked=revoked,
        )
        if send:
            context = {
                "name": services.full_name(user),
                "username": user.username,
                "link": letter.link,
                "hours": INVITATION_HOURS,
                "by": services.full_name(actor.user) if actor.user is not None else "",
            }
            transaction.on_commit(
                lambda: _send(letter, "invite", context, _("Приглашение в Картотеку"))
            )
    return letter


def pending_invitation(user: Any) -> Invitation | None:
    """The user's newest invitation that still works."""
    newest = Invitation.objects.filter(user=user, used_at=None, revoked_at=None).first()
    return newest if newest is not None and newest.is_pending else None


def check_invitation(token: str, *, lock: bool = False) -> Invitation:
    """The invitation of the link, or ``AccountError`` saying why the link does not work."""
    qs = Invitation.objects.select_related("user")
    if lock:
        qs = qs.select_for_update()
    invitation = qs.filter(token_hash=_hash(token or "")).first()
    if invitation is None:
        raise AccountError(
            _("Ссылка приглашения неверна. Проверьте, что она скопирована целиком."),
            code="invitation_invalid",
        )
    if invitation.used_at is not None:
        raise AccountError(
            _(
                "Это приглашение уже использовано. Войдите с заданным паролем "
                "или нажмите «Забыли пароль?»."
            ),
            code="invitation_used",
        )
    if invitation.revoked_at is not None:
        raise AccountError(
            _(
                "Это приглашение отменено. Откройте ссылку из последнего письма "
                "или попросите администратора пригласить вас снова."
            ),
            code="invitation_revoked",
        )
    if invitation.expires_at <= timezone.now():
        raise AccountError(
            _("Срок действия приглашения истёк. Попросите администратора пригласить вас снова."),
            code="invitation_expired",
        )
    if not invitation.user.is_active:
        raise AccountError(_("Доступ этого пользователя отключён."), code="disabled")
    return invitation


def accept_invitation(token: str, password: str, password2: str | None = None) -> Any:
    """Set the password from an invitation link; the link then stops working."""
    with transaction.atomic():
        invitation = check_invitation(token, lock=True)
        user = invitation.user
        _new_password(user, password, password2)
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        _own_event(
            user,
            "invitation",
            _("Пользователь %(user)s принял приглашение и задал пароль") % {"user": user.username},
        )
    return user


def _own_event(user: Any, source: str, message: str, **data: Any) -> None:
    """An audit event of the user himself (he follows a link, nobody is logged in)."""
    services._account_event(Actor.for_user(user, source=source), user, message, **data)


def _new_password(user: Any, password: str, password2: str | None) -> None:
    if password2 is not None and password != password2:
        raise AccountError(_("Пароли не совпадают."), code="password_mismatch")
    services._validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


# -- password reset ------------------------------------------------------------------------------


def _reset_limits() -> tuple[int, int]:
    return (
        int(getattr(settings, "KARTOTEKA_RESET_REQUESTS_PER_ADDRESS", RESET_PER_ADDRESS_DEFAULT)),
        int(getattr(settings, "KARTOTEKA_RESET_REQUESTS_PER_IP", RESET_PER_IP_DEFAULT)),
    )


def request_password_reset(email: str, ip: str, *, request: Any = None) -> list[Letter]:
    """Mail a reset link to every active user with this address. The caller says the same thing
    whatever the outcome; ``ResetRefused`` (nothing sent) when the requests are too many."""
    email = (email or "").strip()
    until = limiter.lock_until(email, ip, model=ResetRequest, limits=_reset_limits())
    if until is not None:
        raise ResetRefused(
            _("Слишком много запросов на восстановление пароля. Повторите после %(until)s.")
            % {"until": limiter.until_text(until)},
        )
    letters: list[Letter] = []
    with transaction.atomic():
        ResetRequest.objects.create(username=email.lower()[:150], ip=ip)
        if not email:
            return letters
        users = get_user_model().objects.filter(email__iexact=email, is_active=True)
        for user in users:
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            token = default_token_generator.make_token(user)
            letter = Letter(
                user=user,
                email=user.email,
                link=absolute_url(reverse("password_reset_confirm", args=[uid, token]), request),
            )
            letters.append(letter)
            _own_event(
                user,
                "password_reset",
                _("Запрошено восстановление пароля пользователя %(user)s")
                % {"user": user.username},
                ip=ip,
            )
            context = {
                "name": services.full_name(user),
                "username": user.username,
                "link": letter.link,
                "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            }
            transaction.on_commit(
                lambda letter=letter, context=context: _send(
                    letter, "reset", context, _("Восстановление пароля в Картотеке")
                )
            )
    return letters


def check_reset_link(uidb64: str, token: str, *, lock: bool = False) -> Any:
    """The user of a valid reset link, or ``AccountError``."""
    users = get_user_model().objects
    if lock:
        users = users.select_for_update()
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        user = users.filter(pk=int(pk)).first()
    except (ValueError, TypeError, UnicodeDecodeError):
        user = None
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        raise AccountError(
            _(
                "Ссылка для восстановления пароля неверна, уже использована или устарела. "
                "Запросите новую."
            ),
            code="reset_invalid",
        )
    return user


def reset_password(uidb64: str, token: str, password: str, password2: str | None = None) -> Any:
    """Set the password from a reset link; the link then stops working (the password changed)."""
    with transaction.atomic():
        user = check_reset_link(uidb64, token, lock=True)
        _new_password(user, password, password2)
        services.revoke_invitations(user)
        _own_event(
            user,
            "password_reset",
            _("Пользователь %(user)s задал новый пароль по ссылке из письма")
            % {"user": user.username},
        )
    return user
