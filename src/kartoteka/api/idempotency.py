"""Writes with an ``Idempotency-Key`` header are applied once, even when replayed in parallel.

The first request *claims* the key by inserting an :class:`IdempotencyKey` row in its own, at once
committed transaction; the unique ``(user, key)`` constraint lets exactly one of several parallel
requests succeed. The winner runs the write and stores its response in the write's transaction,
so "written" and "answered" commit together. The others wait for the stored response and return
it (with ``Idempotent-Replayed: true``); one that waits longer than :data:`WAIT` gets 409.

The same key with a different request (method, path or body) is refused with 400. A response of
a server error is not stored: the claim is released and the request may be retried. A claim left
by a crashed process is taken over after :data:`STALE`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from kartoteka.api.errors import error_body, exception_handler
from kartoteka.api.models import IdempotencyKey
from kartoteka.core.exceptions import KartotekaError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: How long a replay waits for the first request to finish.
WAIT = timedelta(seconds=15)
#: A claim older than this whose request never finished is taken over.
STALE = timedelta(minutes=5)
POLL_SECONDS = 0.05


def fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _error(code: str, message: str, status_code: int) -> Response:
    return Response(error_body(code, message), status=status_code)


def _replay(row: IdempotencyKey) -> Response:
    return Response(row.body, status=row.status_code, headers={"Idempotent-Replayed": "true"})


def _claim(request: Request, key: str, print_: str) -> IdempotencyKey | Response:
    """Claim ``key`` for this request, or the response to give instead (a replay, a refusal)."""
    deadline = time.monotonic() + WAIT.total_seconds()
    while True:
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=request.user, key=key, fingerprint=print_, created_at=timezone.now()
                )
        except IntegrityError:
            pass
        row = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if row is None:  # released by a failed first request in the meantime: claim again
            continue
        if row.fingerprint != print_:
            return _error(
                "idempotency_key_reused",
                _("Ключ идемпотентности «%(key)s» уже использован для другого запроса.")
                % {"key": key},
                status.HTTP_400_BAD_REQUEST,
            )
        if row.state == IdempotencyKey.DONE:
            return _replay(row)
        stale_before = timezone.now() - STALE
        if row.created_at < stale_before and IdempotencyKey.objects.filter(
            pk=row.pk, state=IdempotencyKey.PENDING, created_at__lt=stale_before
        ).update(created_at=timezone.now()):
            row.refresh_from_db()
            return row
        if time.monotonic() > deadline:
            return _error(
                "idempotency_in_progress",
                _("Запрос с ключом «%(key)s» ещё выполняется; повторите позже.") % {"key": key},
                status.HTTP_409_CONFLICT,
            )
        time.sleep(POLL_SECONDS)


def _finish(row: IdempotencyKey, response: Response) -> None:
    row.state = IdempotencyKey.DONE
    row.status_code = response.status_code
    row.body = response.data
    row.save(update_fields=["state", "status_code", "body"])


def run_idempotent(request: Request, write: Callable[[], Response]) -> Response:
    """Run ``write`` once per ``Idempotency-Key`` of the user (just run it without the header)."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return write()
    if len(key) > MAX_KEY_LENGTH:
        return _error(
            "bad_idempotency_key",
            _("Ключ идемпотентности длиннее %(n)s знаков.") % {"n": MAX_KEY_LENGTH},
            status.HTTP_400_BAD_REQUEST,
        )
    claimed = _claim(request, key, fingerprint(request))
    if isinstance(claimed, Response):
        return claimed
    try:
        with transaction.atomic():
            response = write()
            if response.status_code < 500:
                _finish(claimed, response)
    except (KartotekaError, exceptions.APIException) as exc:
        response = exception_handler(exc)
        assert response is not None
        _finish(claimed, response)
    except BaseException:
        IdempotencyKey.objects.filter(pk=claimed.pk).delete()
        raise
    if response.status_code >= 500:
        IdempotencyKey.objects.filter(pk=claimed.pk).delete()
    return response
