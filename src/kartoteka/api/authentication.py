"""``Authorization: Token <secret>`` for the REST API (sessions work too, with CSRF)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from kartoteka.api.tokens import find_token

KEYWORD = "Token"


class TokenAuthentication(authentication.BaseAuthentication):
    """Authenticates by a personal token; ``request.auth`` is the :class:`ApiToken`."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Заголовок Authorization: ожидается «Token <токен>».")
            )
        try:
            secret = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                _("Токен содержит недопустимые символы.")
            ) from None
        token = find_token(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Токен неверен или отозван."))
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return KEYWORD
