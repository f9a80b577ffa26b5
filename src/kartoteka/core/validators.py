"""Checksums of Russian registration numbers: ИНН (10 or 12 digits), КПП, ОГРН/ОГРНИП."""

from __future__ import annotations

from django.utils.translation import gettext as _

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _control(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(value: str) -> bool:
    if not value.isdigit() or len(value) not in (10, 12):
        return False
    d = [int(c) for c in value]
    if len(d) == 10:
        return _control(d, _INN10) == d[9]
    return _control(d, _INN12_1) == d[10] and _control(d, _INN12_2) == d[11]


def inn_control_digits(prefix: str) -> str:
    """Complete 9 (or 10) leading digits to a valid 10- (or 12-) digit INN."""
    d = [int(c) for c in prefix]
    if len(d) == 9:
        return prefix + str(_control(d, _INN10))
    first = _control(d, _INN12_1)
    second = _control([*d, first], _INN12_2)
    return f"{prefix}{first}{second}"


def ogrn_is_valid(value: str) -> bool:
    if not value.isdigit() or len(value) not in (13, 15):
        return False
    body, check = int(value[:-1]), int(value[-1])
    modulus = 11 if len(value) == 13 else 13
    return body % modulus % 10 == check


def kpp_is_valid(value: str) -> bool:
    return len(value) == 9 and value[:4].isdigit() and value[6:].isdigit() and value[4:6].isalnum()


CHECKS = {
    "inn": (
        inn_is_valid,
        lambda v: _("«%(value)s» — неверный ИНН: проверьте цифры.") % {"value": v},
    ),
    "kpp": (kpp_is_valid, lambda v: _("«%(value)s» — неверный КПП.") % {"value": v}),
    "ogrn": (ogrn_is_valid, lambda v: _("«%(value)s» — неверный ОГРН.") % {"value": v}),
}


def check(kind: str, value: str) -> str | None:
    """The error message for ``value`` under check ``kind``, or ``None`` when it is valid."""
    entry = CHECKS.get(kind)
    if entry is None:
        return None
    valid, message = entry
    return None if valid(value) else message(value)
