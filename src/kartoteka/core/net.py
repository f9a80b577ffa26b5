"""The visitor's address, the same for every limit that counts by address (log-in lock, web
form rate limits, audit log).

Behind a reverse proxy every request comes from the proxy, so a limit per ``REMOTE_ADDR`` would
count everyone together (one visitor's failed log-ins would lock everybody out).
``CLIENT_IP_HEADER`` (``KARTOTEKA_CLIENT_IP_HEADER``, e.g. ``X-Forwarded-For``) names the header
the proxy sets; its last address is the one the proxy saw (earlier ones the client may forge).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str:
    """The visitor's address (``""`` when unknown)."""
    if request is None:
        return ""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        forwarded = [a.strip() for a in request.headers.get(header, "").split(",") if a.strip()]
        if forwarded:
            try:
                return str(ipaddress.ip_address(forwarded[-1]))
            except ValueError:
                pass
    return str(request.META.get("REMOTE_ADDR") or "")[:45]
