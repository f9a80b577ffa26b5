"""``send_sms(phone, text) -> SmsResult``: the one way Картотека sends an SMS.

The number is normalised to E.164 first (:func:`kartoteka.sms.text.normalize_phone`, default
region RU: «8 916 …» and «916 …» are Russian numbers); a number that is not one is ``failed``
without asking the provider. Parts and cost are counted by :func:`kartoteka.sms.text.measure`
and the price per part of the settings.

The provider and its credentials: the settings page (:class:`~kartoteka.sms.models.SmsSettings`)
where a value is filled in, the environment otherwise — ``KARTOTEKA_SMS_BACKEND``
(``console``, ``file``, ``smsru``, ``smsc``, ``smsaero``; none means SMS is off),
``KARTOTEKA_SMS_LOGIN``, ``KARTOTEKA_SMS_API_KEY``, ``KARTOTEKA_SMS_SENDER``,
``KARTOTEKA_SMS_URL`` (another address of the provider's API), ``KARTOTEKA_SMS_FILE``,
``KARTOTEKA_SMS_PRICE`` and ``KARTOTEKA_SMS_OPT_OUT``.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from django.conf import settings

from kartoteka.sms import backends
from kartoteka.sms.backends import FAILED, Config, SmsResult
from kartoteka.sms.text import InvalidPhone, Length, measure, normalize_phone

__all__ = ["Config", "SmsResult", "config", "configured", "estimate", "send_sms"]


def config() -> Config:
    """The gateway's configuration: the settings page over the environment."""
    from kartoteka.sms.models import SmsSettings

    env = getattr(settings, "KARTOTEKA_SMS", {}) or {}
    row = SmsSettings.objects.filter(pk=1).first()
    price = row.price_per_part if row and row.price_per_part is not None else env.get("price")

    def pick(name: str) -> str:
        value = getattr(row, name, "") if row else ""
        return value or env.get(name, "") or ""

    return Config(
        backend=pick("backend"),
        login=pick("login"),
        api_key=pick("api_key"),
        sender=pick("sender"),
        url=env.get("url", ""),
        file=env.get("file", "") or str(settings.DATA_DIR / "sms.log"),
        price_per_part=Decimal(str(price)) if price not in (None, "") else None,
        opt_out_text=pick("opt_out_text"),
    )


def configured(cfg: Config | None = None) -> bool:
    """Whether SMS can be sent at all: a known provider is chosen (none or blank: SMS are off)."""
    return (cfg or config()).backend in backends.BACKENDS


def estimate(text: str, cfg: Config | None = None) -> tuple[Length, Decimal | None]:
    """The size of ``text`` as an SMS and its cost at the configured price per part."""
    cfg = cfg or config()
    length = measure(text)
    price = cfg.price_per_part
    return length, (length.cost(price) if price is not None else None)


def send_sms(phone: str, text: str, *, cfg: Config | None = None) -> SmsResult:
    """Send ``text`` to ``phone``; never raises for the provider's or the number's faults."""
    cfg = cfg or config()
    length, cost = estimate(text, cfg)
    try:
        number = normalize_phone(phone)
    except InvalidPhone:
        return SmsResult(FAILED, phone=phone, reason="неверный номер телефона", parts=length.parts)
    backend = backends.BACKENDS.get(cfg.backend)
    if backend is None:
        return SmsResult(FAILED, phone=number, reason="SMS не настроены", account=True)
    result = backends.call(backend, cfg, number, text)
    return dataclasses.replace(result, phone=number, parts=length.parts, cost=cost)
