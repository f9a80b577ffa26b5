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


class DomainErrorsMiddleware:
    """A domain ``NotFound`` a view lets through is a 404 and a ``PermissionDenied`` a 403 — so a
    refused right is never a 500, on any page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
        from django.http import Http404

        from kartoteka.core.exceptions import NotFound, PermissionDenied

        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        if isinstance(exception, PermissionDenied):
            raise DjangoPermissionDenied(exception.message) from exception
        return None
