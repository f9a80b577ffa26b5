"""The interface language is the installation's (Russian unless configured) until a person picks
another with the switch, which Django keeps in a cookie. The browser's Accept-Language is not
consulted: many people in Russia run English-language browsers and still expect a Russian CRM."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class InstallationLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
