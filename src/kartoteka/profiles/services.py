"""A user changes what is his own: name, e-mail, phone, password, language and time zone.

The name, e-mail and phone are kept in step with his «Сотрудники» record (the record holds «ФИО»
in one field, the user ``last_name`` = Фамилия and ``first_name`` = Имя Отчество, as
:mod:`kartoteka.accounts.services` writes them), through the records service so history names
him. Every call acts on the acting user only.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from kartoteka.accounts.services import (
    AccountError,
    _account_event,
    _employee_error,
    _employees,
    _validate_password,
    employee_ids,
)
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import PermissionDenied, RecordValidationError
from kartoteka.profiles.models import Profile
from kartoteka.records.services import update_records


def own_user(actor: Actor) -> Any:
    """The acting user: these settings are each user's own (the system has none)."""
    if actor.user is None:
        raise PermissionDenied(_("Войдите в систему."))
    return actor.user


@cache
def time_zones() -> list[str]:
    """Every IANA zone name the system knows, sorted (the choices of the profile)."""
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def user_time_zones(user_ids: list[int]) -> dict[int, zoneinfo.ZoneInfo]:
    """Each user's time zone (his profile's, else the installation's), for work done outside a
    request on his behalf (reminders)."""
    default = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    chosen = dict(
        Profile.objects.filter(user_id__in=user_ids)
        .exclude(time_zone="")
        .values_list("user_id", "time_zone")
    )
    return {pk: zoneinfo.ZoneInfo(chosen[pk]) if pk in chosen else default for pk in user_ids}


def get_profile(user: Any) -> Profile:
    """The user's settings (unsaved defaults when he has changed none)."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def employee_values(user: Any) -> dict[str, Any]:
    """His «Сотрудники» record's phone (the first record when there are several)."""
    from kartoteka.records.selectors import base_queryset

    ids = employee_ids(user)
    if not ids:
        return {"phone": ""}
    record = base_queryset(Actor.system("profile"), _employees(), state=None).get(pk=ids[0])
    return {"phone": record.phone or ""}


def update_profile(
    actor: Actor,
    *,
    last_name: str,
    first_name: str,
    middle_name: str = "",
    email: str = "",
    phone: str = "",
    language: str = "",
    time_zone: str = "",
) -> Profile:
    """Save the acting user's name, e-mail, phone, language and time zone."""
    user = own_user(actor)
    last, first, middle = (" ".join(v.split()) for v in (last_name, first_name, middle_name))
    email = email.strip()
    if not (last or first):
        raise AccountError(_("Укажите фамилию и имя."), code="no_name")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise AccountError(_("Неверный адрес e-mail."), code="bad_email") from None
        taken = get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk)
        if taken.exists():
            raise AccountError(
                _("E-mail «%(email)s» уже указан у другого пользователя.") % {"email": email},
                code="duplicate_email",
            )
    if language and language not in dict(settings.LANGUAGES):
        raise AccountError(_("Неизвестный язык."), code="bad_language")
    if time_zone and time_zone not in time_zones():
        raise AccountError(
            _("Неизвестный часовой пояс «%(tz)s».") % {"tz": time_zone}, code="bad_time_zone"
        )
    with transaction.atomic():
        user.last_name = last[:150]
        user.first_name = " ".join(p for p in (first, middle) if p)[:150]
        user.email = email
        user.save(update_fields=["last_name", "first_name", "email"])
        values = {
            "full_name": " ".join(p for p in (last, first, middle) if p),
            "email": email or None,
            "phone": phone.strip() or None,
        }
        ids = employee_ids(user)
        if ids:
            try:
                update_records(
                    Actor.system("profile", source=actor.source),
                    _employees(),
                    {pk: values for pk in ids},
                )
            except RecordValidationError as exc:
                raise _employee_error(exc) from None
        profile = get_profile(user)
        profile.language, profile.time_zone = language, time_zone
        profile.save()
    return profile


def change_password(actor: Actor, *, old: str, new: str, repeat: str) -> None:
    """Change the acting user's password: the old one is required, Django's validators decide."""
    user = own_user(actor)
    if not user.check_password(old):
        raise AccountError(_("Текущий пароль введён неверно."), code="wrong_password")
    if new != repeat:
        raise AccountError(_("Новые пароли не совпадают."), code="mismatch")
    _validate_password(new, user)
    with transaction.atomic():
        user.set_password(new)
        user.save(update_fields=["password"])
        _account_event(actor, user, _("Пользователь %(user)s сменил пароль") % {"user": user})
