"""The providers behind :func:`kartoteka.sms.send_sms`, each over its documented HTTP API.

Every backend turns the provider's answer into one :class:`SmsResult`:

- ``sent`` — accepted, with the provider's message id;
- ``retry`` — a temporary fault (timeout, connection refused, HTTP 5xx/429, «сервис временно
  недоступен», too many requests): the same message may be tried again later;
- ``failed`` — refused for good, with the provider's reason (bad number, forbidden text).
  ``account=True`` marks a refusal of the whole account (no money, wrong key): every further
  message would fail the same way, so a campaign pauses rather than burn its recipients.

An answer the backend cannot read (not JSON, unexpected shape) is ``failed``, not ``retry``: the
provider may have sent the message, and trying again could send it twice.

Protocols: SMS.ru ``POST /sms/send`` (``api_id``, ``to``, ``msg``, ``json=1``; ``status_code``
100 = accepted, per number under ``sms``); SMSC.ru ``POST /sys/send.php`` (``login``/``psw`` or
``apikey``, ``phones``, ``mes``, ``fmt=3``; ``{"id", "cnt"}`` or ``{"error", "error_code"}``);
SMS Aero ``POST /v2/sms/send`` (HTTP Basic with the account's e-mail and API key; ``number``,
``text``, ``sign``; ``{"success", "data", "message"}``).
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone

SENT, RETRY, FAILED = "sent", "retry", "failed"
TIMEOUT = 15


@dataclass(frozen=True)
class SmsResult:
    """What became of one SMS; see the module's text for ``status`` and ``account``."""

    status: str
    phone: str = ""
    reason: str = ""
    provider_id: str = ""
    parts: int = 0
    cost: Decimal | None = None
    account: bool = False

    @property
    def ok(self) -> bool:
        return self.status == SENT


@dataclass(frozen=True)
class Config:
    backend: str
    login: str = ""
    api_key: str = ""
    sender: str = ""
    url: str = ""
    file: str = ""
    price_per_part: Decimal | None = None
    opt_out_text: str = ""


class _Temporary(Exception):
    pass


def _post(url: str, data: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    """POST a form; the body of a 2xx/4xx answer, :class:`_Temporary` on faults worth a retry."""
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.read(65536).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        text = exc.read(65536).decode("utf-8", "replace")
        exc.close()
        if exc.code >= 500 or exc.code == 429:
            raise _Temporary(f"HTTP {exc.code}") from None
        return text or json.dumps({"http_status": exc.code})
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise _Temporary(str(getattr(exc, "reason", exc))) from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _garbage(text: str) -> str:
    return "непонятный ответ провайдера: " + " ".join(text.split())[:120]


# SMS.ru: 200/300-302 are the account's key, 201 its money; 220 and the per-minute limits pass.
SMSRU_ACCOUNT = {200, 201, 300, 301, 302}
SMSRU_TEMPORARY = {220, 231, 232, 233}


def smsru(config: Config, phone: str, text: str) -> SmsResult:
    data = {"api_id": config.api_key, "to": phone.lstrip("+"), "msg": text, "json": 1}
    if config.sender:
        data["from"] = config.sender
    raw = _post(config.url or "https://sms.ru/sms/send", data)
    answer = _json(raw)
    if not isinstance(answer, dict) or "status_code" not in answer:
        return SmsResult(FAILED, reason=_garbage(raw))
    item = answer
    if answer.get("status") == "OK":
        item = (answer.get("sms") or {}).get(phone.lstrip("+"))
        if not isinstance(item, dict):
            return SmsResult(FAILED, reason=_garbage(raw))
    code = item.get("status_code")
    if code == 100:
        return SmsResult(SENT, provider_id=str(item.get("sms_id", "")))
    reason = f"SMS.ru {code}: {item.get('status_text', '')}".strip()
    if code in SMSRU_TEMPORARY:
        return SmsResult(RETRY, reason=reason)
    return SmsResult(FAILED, reason=reason, account=code in SMSRU_ACCOUNT)


# SMSC.ru: 2 wrong login, 3 no money; 4 the address blocked for a while, 9 too many requests.
SMSC_ACCOUNT = {2, 3}
SMSC_TEMPORARY = {4, 9}


def smsc(config: Config, phone: str, text: str) -> SmsResult:
    data: dict[str, Any] = {"phones": phone, "mes": text, "fmt": 3, "charset": "utf-8"}
    if config.login:
        data.update(login=config.login, psw=config.api_key)
    else:
        data["apikey"] = config.api_key
    if config.sender:
        data["sender"] = config.sender
    raw = _post(config.url or "https://smsc.ru/sys/send.php", data)
    answer = _json(raw)
    if not isinstance(answer, dict):
        return SmsResult(FAILED, reason=_garbage(raw))
    if "error_code" in answer:
        code = answer["error_code"]
        reason = f"SMSC.ru {code}: {answer.get('error', '')}".strip()
        if code in SMSC_TEMPORARY:
            return SmsResult(RETRY, reason=reason)
        return SmsResult(FAILED, reason=reason, account=code in SMSC_ACCOUNT)
    if "id" in answer:
        return SmsResult(SENT, provider_id=str(answer["id"]))
    return SmsResult(FAILED, reason=_garbage(raw))


SMSAERO_ACCOUNT_WORDS = ("balance", "баланс", "money", "средств", "auth", "unauthorized")


def smsaero(config: Config, phone: str, text: str) -> SmsResult:
    token = base64.b64encode(f"{config.login}:{config.api_key}".encode()).decode()
    data = {"number": phone.lstrip("+"), "text": text, "sign": config.sender or "SMS Aero"}
    raw = _post(
        config.url or "https://gate.smsaero.ru/v2/sms/send",
        data,
        {"Authorization": f"Basic {token}", "Accept": "application/json"},
    )
    answer = _json(raw)
    if not isinstance(answer, dict) or "success" not in answer:
        if isinstance(answer, dict) and answer.get("http_status") == 401:
            return SmsResult(FAILED, reason="SMS Aero: 401 Unauthorized", account=True)
        return SmsResult(FAILED, reason=_garbage(raw))
    if answer["success"] and isinstance(answer.get("data"), dict):
        return SmsResult(SENT, provider_id=str(answer["data"].get("id", "")))
    message = str(answer.get("message") or "")
    account = any(word in message.lower() for word in SMSAERO_ACCOUNT_WORDS)
    return SmsResult(FAILED, reason=f"SMS Aero: {message}", account=account)


def console(config: Config, phone: str, text: str) -> SmsResult:
    sys.stdout.write(f"SMS to {phone}: {text}\n")
    sys.stdout.flush()
    return SmsResult(SENT, provider_id="console")


def file(config: Config, phone: str, text: str) -> SmsResult:
    """Append the message as a JSON line to ``config.file`` (development and browser tests)."""
    line = json.dumps({"at": timezone.now().isoformat(), "to": phone, "text": text})
    with Path(config.file).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return SmsResult(SENT, provider_id="file")


BACKENDS: dict[str, Callable[[Config, str, str], SmsResult]] = {
    "console": console,
    "file": file,
    "smsru": smsru,
    "smsc": smsc,
    "smsaero": smsaero,
}


def call(backend: Callable[[Config, str, str], SmsResult], config: Config, phone: str, text: str):
    """Run ``backend``, a network fault becoming a ``retry`` result."""
    try:
        return backend(config, phone, text)
    except _Temporary as exc:
        return SmsResult(RETRY, reason=f"{config.backend}: {exc}")
