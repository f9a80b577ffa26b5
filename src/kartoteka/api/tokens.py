"""Personal API tokens: create, revoke, and find the token a request presents.

A token is ``kt_`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256 digest
is stored; :func:`create_token` returns the secret once, to be shown to its owner. A revoked token
is refused on the very next request: authentication reads the token row every time.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.api.models import ApiToken
from kartoteka.core.actor import Actor
from kartoteka.core.exceptions import KartotekaError, NotFound, PermissionDenied

PREFIX = "kt_"
#: ``last_used_at`` is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenError(KartotekaError):
    code = "token"


@dataclass(frozen=True)
class NewToken:
    """A created token and its secret — the only time the secret is known."""

    token: ApiToken
    secret: str


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(actor: Actor, user: Any, name: str) -> NewToken:
    """Create a personal token of ``user``; people make their own, administrators anyone's."""
    if not actor.is_admin and actor.user_id != user.pk:
        raise PermissionDenied(
            _("Создавать токены другим пользователям может только администратор.")
        )
    name = name.strip()
    if not name:
        raise TokenError(_("Укажите название токена, например «Сайт» или «1С»."), code="no_name")
    if len(name) > 100:
        raise TokenError(_("Название токена длиннее 100 знаков."), code="long_name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[: len(PREFIX) + 6], digest=digest_of(secret)
    )
    return NewToken(token=token, secret=secret)


def create_token_for(actor: Actor, username: str, name: str) -> NewToken:
    """:func:`create_token` for a user named by ``username`` (the CLI's way)."""
    user = get_user_model().objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise NotFound(_("Пользователь «%(name)s» не найден.") % {"name": username})
    if not user.is_active:
        raise TokenError(_("Учётная запись «%(name)s» отключена.") % {"name": username})
    return create_token(actor, user, name)


def list_tokens(actor: Actor, user: Any) -> list[ApiToken]:
    if not actor.is_admin and actor.user_id != user.pk:
        raise PermissionDenied(_("Чужие токены видит только администратор."))
    return list(ApiToken.objects.filter(user=user))


def revoke_token(actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token (its owner or an administrator); revoking twice changes nothing."""
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None or (not actor.is_admin and token.user_id != actor.user_id):
        raise NotFound(_("Токен №%(pk)s не найден.") % {"pk": token_id})
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def find_token(secret: str) -> ApiToken | None:
    """The live token whose secret is ``secret`` (with its user), or ``None``."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest_of(secret.strip()), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
