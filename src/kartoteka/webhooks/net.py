"""Calling a webhook URL without letting it reach into the server's own network.

A webhook URL is typed by an administrator, but a URL that resolves to ``127.0.0.1``, a private
network or a link-local address (``169.254.169.254`` — the cloud metadata service) would let the
server call its own neighbours. Such targets are refused unless the webhook (or the setting
``KARTOTEKA_WEBHOOK_ALLOW_PRIVATE``) allows them explicitly. An IPv6 address that carries an
IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``,
6to4 ``2002::/16``, Teredo) is judged by the IPv4 address too: a NAT64 gateway or a 6to4 relay
would deliver it there.

The check runs when the webhook is saved and again at every delivery: a host name may resolve to
a public address on Monday and to ``127.0.0.1`` on Tuesday (DNS rebinding). At delivery the name
is resolved once, every address is checked, and the connection goes to the checked address —
never to a second lookup. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from kartoteka.core.exceptions import KartotekaError

TIMEOUT = 10
MAX_RESPONSE = 64 * 1024


class UnsafeTarget(KartotekaError):
    """The URL is malformed, does not resolve, or points at an address that is not allowed."""

    code = "webhook_target"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


#: IPv6 prefixes whose last 32 bits are an IPv4 address the packet ends up at: NAT64 (RFC 6052,
#: the well-known prefix and the local-use one of RFC 8215) and the deprecated IPv4-compatible
#: addresses (``::a.b.c.d``, RFC 4291).
_EMBEDDING_LAST_32 = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped, 6to4 (``2002::/16``), Teredo
    (server and client) and the prefixes of ``_EMBEDDING_LAST_32``."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in _EMBEDDING_LAST_32):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _is_public(address: str) -> bool:
    """Whether ``address`` and every IPv4 address it maps to (see ``_embedded_ipv4``) are public:
    ``64:ff9b::7f00:1``, ``2002:7f00:1::`` and ``::127.0.0.1`` all reach ``127.0.0.1``."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    targets: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        targets.extend(_embedded_ipv4(ip))
    return all(bool(t.is_global) and not t.is_multicast for t in targets)


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check ``url`` and resolve its host to one address that may be called.

    Raises:
        UnsafeTarget: with a message for the administrator.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget(
            _("Адрес должен начинаться с http:// или https:// и содержать имя сервера.")
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget(_("В адресе неверный номер порта.")) from None
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeTarget(_("Сервер «%(host)s» не найден.") % {"host": host}) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeTarget(_("Сервер «%(host)s» не найден.") % {"host": host})
    if not allow_private:
        inner = [a for a in addresses if not _is_public(a)]
        if inner:
            raise UnsafeTarget(
                _(
                    "Адрес «%(host)s» ведёт во внутреннюю сеть (%(address)s). Такие адреса "
                    "запрещены, пока администратор не разрешит их для этого вебхука."
                )
                % {"host": host, "address": inner[0]}
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT) -> int:
    """POST ``body`` to the checked address of ``target``; returns the HTTP status.

    Raises:
        OSError: the connection failed or timed out (``http.client`` errors included).
    """
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = cls(target, timeout)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(MAX_RESPONSE)
        return response.status
    except http.client.HTTPException as exc:
        raise OSError(str(exc) or type(exc).__name__) from exc
    finally:
        conn.close()
